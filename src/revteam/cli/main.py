"""``revteam``: init | migrate | serve | demo | import | users | timeline | stats."""

from __future__ import annotations

from datetime import datetime, timezone

import typer
from rich.table import Table

from revteam.cli.common import JsonOption, console, print_json, runtime, translate_errors
from revteam.services.record.stats import record_stats
from revteam.services.record.timeline import account_timeline, contact_timeline

app = typer.Typer(
    help="revteam: sales and marketing as one revenue team. The database is REVTEAM_DATABASE_URL "
    "(default: revteam.db in the working directory).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.command()
@translate_errors
def init() -> None:
    """Create or upgrade the database schema and install the default lifecycle stages."""
    with runtime() as rt:
        console.print(f"Database ready at [bold]{rt.engine.url.render_as_string(hide_password=True)}[/].")


@app.command()
@translate_errors
def migrate() -> None:
    """Upgrade the database schema to this version of revteam (run it before starting a new version; safe to
    repeat). Back the database up first (docs/production.md)."""
    with runtime() as rt:
        console.print(f"Database schema is current at [bold]{rt.engine.url.render_as_string(hide_password=True)}[/].")


@app.command()
@translate_errors
def stats(json_: bool = JsonOption) -> None:
    """Counts per entity and contacts per lifecycle stage."""
    with runtime() as rt, rt.sessions() as s:
        data = record_stats(s)
    if json_:
        print_json(data)
        return
    t = Table(title="Records")
    t.add_column("entity")
    t.add_column("count", justify="right")
    for k, v in data["counts"].items():
        t.add_row(k, f"{v:,}")
    console.print(t)
    t = Table(title="Contacts by lifecycle stage")
    t.add_column("stage")
    t.add_column("contacts", justify="right")
    for k, v in data["contacts_by_stage"].items():
        t.add_row(k, f"{v:,}")
    console.print(t)
    o = data["deals_by_outcome"]
    console.print(
        f"Deals: {o['open']:,} open, {o['won']:,} won, {o['lost']:,} lost; won revenue {data['won_revenue']:,.2f}"
    )


@app.command()
@translate_errors
def timeline(
    contact: int = typer.Option(None, "--contact", help="Contact id."),
    account: int = typer.Option(None, "--account", help="Account id."),
    email: str = typer.Option(None, "--email", help="Contact e-mail address."),
    limit: int = typer.Option(500, help="Most recent touches to include."),
    json_: bool = JsonOption,
) -> None:
    """The lifecycle timeline of a contact or an account: touches, stage changes, deals, owners."""
    from revteam.errors import InvalidInput
    from revteam.services.record.contacts import find_contact_id

    if sum(x is not None for x in (contact, account, email)) != 1:
        raise InvalidInput("Give exactly one of --contact ID, --account ID or --email ADDRESS.", code="timeline_subject")
    with runtime() as rt, rt.sessions() as s:
        if email is not None:
            contact = find_contact_id(s, email)
        tl = contact_timeline(s, contact, limit=limit) if contact is not None else account_timeline(s, account, limit=limit)
    if json_:
        print_json(tl.to_dict())
        return
    console.print(f"[bold]{tl.name}[/] ({tl.subject} {tl.id}) stage [bold]{tl.stage or '-'}[/], owner {tl.owner or '-'}")
    for k, v in tl.facts.items():
        if v not in (None, ""):
            console.print(f"  {k}: {v}", highlight=False)
    t = Table()
    t.add_column("when")
    t.add_column("what")
    t.add_column("event")
    for e in tl.events:
        t.add_row(e.at.strftime("%Y-%m-%d %H:%M"), e.kind, e.title)
    console.print(t)


def _register() -> None:
    from revteam.cli import analytics, demo, handoff, ingest, privacy, revenue, serve, users

    app.add_typer(users.app, name="users")
    app.add_typer(handoff.app, name="handoff")
    app.add_typer(privacy.app, name="privacy")
    app.add_typer(handoff.scoring_app, name="scoring")
    app.command(name="score")(handoff.score_command)
    app.command(name="worker")(handoff.worker_command)
    app.command(name="funnel")(analytics.funnel_command)
    app.command(name="content-roi")(analytics.content_roi_command)
    app.command(name="attribution")(analytics.attribution_command)
    app.command(name="revenue")(revenue.revenue_command)
    app.command(name="forecast")(revenue.forecast_command)
    app.command(name="import")(ingest.import_command)
    app.command(name="demo")(demo.demo_command)
    app.command(name="serve")(serve.serve_command)


_register()


def now() -> datetime:
    return datetime.now(timezone.utc)
