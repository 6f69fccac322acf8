"""``revteam users``: add people and service accounts, list them, issue API tokens for service accounts,
list and revoke tokens. People create their own tokens on the web (``/tokens``): a token acts as its user,
so the CLI (like an admin) issues them only for service accounts (``services/people/tokens.py``)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import typer
from rich.table import Table

from revteam.cli.common import (
    JsonOption,
    console,
    print_json,
    runtime,
    translate_errors,
)
from revteam.domain.roles import ROLES
from revteam.domain.token_scopes import MAX_TOKEN_DAYS, SCOPES
from revteam.services.people.users import (
    add_user,
    all_tokens,
    all_users,
    issue_token_by_email,
    revoke_token,
)

app = typer.Typer(help="People and access: add users and service accounts, list them, issue, list and revoke API "
                  "tokens.", no_args_is_help=True)


@app.command("add")
@translate_errors
def add(
    email: str = typer.Argument(..., help="Log-in e-mail address."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(ROLES)}."),
    name: str = typer.Option("", "--name", help="Full name shown in the app."),
    team: str = typer.Option(None, "--team", help="Team name (created if new)."),
    password: str = typer.Option(
        None, "--password", help="Password (at least 10 characters). Omit to be prompted. "
        "Ignored from the environment for --service.", envvar="REVTEAM_NEW_PASSWORD"
    ),
    service: bool = typer.Option(False, "--service", help="A service account (a tool): no password, never logs in; "
                                 "`revteam users token` issues its API tokens."),
) -> None:
    """Add a user who can log in to the web app, or a service account (--service)."""
    if service and password is not None and password == os.environ.get("REVTEAM_NEW_PASSWORD"):
        password = None  # a service account has no password: the environment's one is for people
    if password is None and not service:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with runtime() as rt, rt.sessions() as s:
        user = add_user(s, email=email, name=name, role=role, password=password, team=team,
                        now=datetime.now(UTC), service=service)
        console.print(f"Added {user.email} as {user.role}{' (service account)' if service else ''}.")


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
    email: str = typer.Argument(..., help="The service account the token acts as."),
    name: str = typer.Option("api", "--name", help="What the token is for, e.g. 'website tracker'."),
    scope: str = typer.Option("ingest", "--scope", help=f"One of: {', '.join(SCOPES)} (read-only, ingest-only, or "
                              "everything the account's role allows)."),
    days: int = typer.Option(None, "--days", min=1, max=MAX_TOKEN_DAYS,
                             help="Lifetime in days (default: REVTEAM_TOKEN_DAYS, 90)."),
) -> None:
    """Issue an API token for a service account (printed once; only its hash is stored). People create their
    own tokens on the web (API tokens page)."""
    with runtime() as rt, rt.sessions() as s:
        issued = issue_token_by_email(s, email, name=name, scope=scope, days=days, now=datetime.now(UTC),
                                      default_days=rt.settings.token_days)
        expires = issued.record.expires_at
    console.print(f"API token ({issued.record.scope}, expires {expires:%Y-%m-%d}; shown once, store it now):")
    typer.echo(issued.token)


@app.command("tokens")
@translate_errors
def tokens(json_: bool = JsonOption) -> None:
    """List every API token: whose, scope, expiry, last use, revoked."""
    with runtime() as rt, rt.sessions() as s:
        rows = [{"id": t.id, "user": owner, "name": t.name, "prefix": t.prefix, "scope": t.scope,
                 "created_at": t.created_at, "expires_at": t.expires_at, "last_used_at": t.last_used_at,
                 "revoked_at": t.revoked_at} for t, owner in all_tokens(s)]
    if json_:
        print_json(rows)
        return
    t = Table()
    for col in ("id", "user", "name", "prefix", "scope", "expires_at", "last_used_at", "revoked_at"):
        t.add_column(col)
    for r in rows:
        t.add_row(*(f"{r[c]:%Y-%m-%d %H:%M}" if hasattr(r[c], "strftime") else str(r[c] or "-")
                    for c in ("id", "user", "name", "prefix", "scope", "expires_at", "last_used_at", "revoked_at")))
    console.print(t)


@app.command("revoke")
@translate_errors
def revoke(token_id: int = typer.Argument(..., help="The token's id (see `revteam users tokens`).", min=1)) -> None:
    """Revoke an API token: calls with it get 401 from then on."""
    with runtime() as rt, rt.sessions() as s:
        row = revoke_token(s, token_id, by=None, now=datetime.now(UTC))
        console.print(f"Token {row.id} ({row.prefix}…) revoked.")
