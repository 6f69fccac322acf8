"""``revteam import`` (being built)."""
import typer


def import_command() -> None:
    """Import a file."""
    raise typer.Exit(1)
