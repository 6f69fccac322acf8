"""``revteam demo`` (being built)."""
import typer


def demo_command() -> None:
    """Build the demo company and serve the web app."""
    raise typer.Exit(1)
