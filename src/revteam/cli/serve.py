"""``revteam serve`` (being built)."""
import typer


def serve_command() -> None:
    """Serve the web app."""
    raise typer.Exit(1)
