"""``revteam privacy export|erase``: a person's data on request."""

from __future__ import annotations

from datetime import datetime, timezone

import typer

from revteam.cli.common import console, print_json, runtime, translate_errors

app = typer.Typer(help="Personal data: export what is held about a person, or erase it.", no_args_is_help=True)


@app.command("export")
@translate_errors
def export(email: str = typer.Argument(..., help="The person's e-mail address.")) -> None:
    """Print everything held about a person as JSON."""
    from revteam.services.people.privacy import export_person

    with runtime() as rt, rt.sessions() as s:
        print_json(export_person(s, email))


@app.command("erase")
@translate_errors
def erase(email: str = typer.Argument(..., help="The person's e-mail address."),
          yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Erase what identifies a person; their touches keep counting, anonymously."""
    from revteam.services.people.privacy import erase_person

    if not yes:
        typer.confirm(f"Erase {email}? This cannot be undone", abort=True)
    with runtime() as rt, rt.sessions() as s:
        cid = erase_person(s, email, now=datetime.now(timezone.utc), actor="cli")
    console.print(f"Erased contact {cid}; their e-mail is kept only as a hash to stop re-imports.")
