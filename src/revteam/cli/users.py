"""``revteam users``: add people, list them, issue API tokens."""

from __future__ import annotations

from datetime import datetime, timezone

import typer
from rich.table import Table

from revteam.cli.common import JsonOption, console, print_json, runtime, translate_errors
from revteam.domain.roles import ROLES
from revteam.services.people.users import add_user, all_users, issue_api_token, user_by_email

app = typer.Typer(help="People and access: add users, list them, issue API tokens.", no_args_is_help=True)


@app.command("add")
@translate_errors
def add(
    email: str = typer.Argument(..., help="Log-in e-mail address."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    name: str = typer.Option("", "--name", help="Full name shown in the app."),
    team: str = typer.Option(None, "--team", help="Team name (created if new)."),
    password: str = typer.Option(
        None, "--password", help="Password (at least 10 characters). Omit to be prompted.", envvar="REVTEAM_NEW_PASSWORD"
    ),
) -> None:
    """Add a user who can log in to the web app."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with runtime() as rt, rt.sessions() as s:
        user = add_user(s, email=email, name=name, role=role, password=password, team=team, now=datetime.now(timezone.utc))
        console.print(f"Added {user.email} as {user.role}.")


@app.command("list")
@translate_errors
def list_users(json_: bool = JsonOption) -> None:
    """List users and their roles."""
    with runtime() as rt, rt.sessions() as s:
        users = [
            {"id": u.id, "email": u.email, "name": u.name, "role": u.role, "active": u.is_active}
            for u in all_users(s)
        ]
    if json_:
        print_json(users)
        return
    t = Table()
    for col in ("id", "email", "name", "role", "active"):
        t.add_column(col)
    for u in users:
        t.add_row(*(str(u[c]) for c in ("id", "email", "name", "role", "active")))
    console.print(t)


@app.command("token")
@translate_errors
def token(
    email: str = typer.Argument(..., help="The user the token acts as."),
    name: str = typer.Option("api", "--name", help="What the token is for, e.g. 'website tracker'."),
) -> None:
    """Issue an API token (printed once; only its hash is stored)."""
    with runtime() as rt, rt.sessions() as s:
        issued = issue_api_token(s, user_by_email(s, email), name=name, now=datetime.now(timezone.utc))
    console.print("API token (shown once, store it now):")
    typer.echo(issued.token)
