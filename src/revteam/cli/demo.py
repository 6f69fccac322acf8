"""``revteam demo``: build the demo company (a year of history ending now), print the log-ins, serve the app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from revteam.cli.common import JsonOption, console, err_console, print_json, runtime, translate_errors
from revteam.errors import Conflict, RevteamError

@contextmanager
def _progress_bars(enabled: bool) -> Iterator[Callable[[str, int, int], None] | None]:
    """One Rich progress bar per phase, on stderr (stdout stays clean for --json)."""
    if not enabled:
        yield None
        return
    with Progress(
        TextColumn("{task.description:<30}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=False,
    ) as bars:
        tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bars.add_task(phase, total=max(total, 1))
            bars.update(tasks[phase], completed=done if total else 1, total=max(total, 1))

        yield update


def _funnel_table(result: Any) -> Table:
    """The demo's funnel as the /funnel page and ``revteam funnel`` define it (docs/metrics/funnel.md):
    contacts that reached each stage or beyond, the cohort's conversion to the next, median days."""
    entered = {r["stage"]: r["contacts"] for r in result.rows("entered")}
    conv = {(r["from_stage"], r["to_stage"]): r["rate"] for r in result.rows("conversion")}
    days = {(r["from_stage"], r["to_stage"]): r["median_days"] for r in result.rows("velocity")}
    stages = result.meta["stages"]
    t = Table(title="Funnel over the whole history (as on /funnel: reached the stage or a later one)")
    for col in ("stage", "reached", "→ next stage", "median days"):
        t.add_column(col, justify="left" if col == "stage" else "right")
    for a, b in zip(stages, [*stages[1:], None]):
        rate, d = conv.get((a, b)), days.get((a, b))
        t.add_row(a, f"{entered.get(a, 0):,}", "" if rate is None else f"{rate:.1%}", "" if d is None else f"{d:.1f}")
    return t


def _print_summary(summary: Any, funnel: Any = None) -> None:
    m = summary.measured
    t = Table(title=f"Demo company built in {summary.seconds:.1f} s (seed {summary.seed}, scale {summary.scale:g})")
    t.add_column("records")
    t.add_column("rows", justify="right")
    for name, n in summary.rows_written.items():
        t.add_row(name, f"{n:,}")
    console.print(t)
    f = m["funnel"]
    if funnel is not None:
        console.print(_funnel_table(funnel))
    d, ft = m["deals"], m["fell_through"]
    o = d["by_outcome"]
    rej = f["rejection_rate"]
    console.print(
        f"MQLs rejected by sales: {f['rejected_mqls']:,} ({'-' if rej is None else f'{rej:.1%}'}).  "
        f"Deals: {o['open']:,} open, {o['won']:,} won, {o['lost']:,} lost; win rate "
        f"{'-' if d['win_rate'] is None else format(d['win_rate'], '.1%')}; won revenue USD {d['won_revenue']:,.0f}.",
        highlight=False,
    )
    console.print(
        f"Fell through: {ft['unworked_leads']:,} MQLs never worked; webinars never followed up: "
        f"{', '.join(ft['unfollowed_webinars']) or 'none'} ({ft['unfollowed_attendees']:,} attendees).",
        highlight=False,
    )
    h = m.get("handoffs") or {}
    if h.get("handoffs"):
        share = (h.get("compliance_30d") or {}).get("all", {}).get("share_in_time")
        console.print(
            f"Handoffs: {h['handoffs']:,}; breached now {h['breached_now']:,}, at risk now {h['at_risk_now']:,}, "
            f"unworked {h['unworked_leads']:,}; SLA compliance (30 days) {'-' if share is None else format(share, '.0%')}; "
            f"disputes {sum(h['disputes'].values())} ({h['disputes'].get('open', 0)} open); "
            f"scoring reviews open {sum(r['status'] == 'open' for r in h['scoring_reviews'])}.",
            highlight=False,
        )
    t = Table(title="Log in (every demo user has the same password)")
    t.add_column("role")
    t.add_column("e-mail")
    t.add_column("name")
    t.add_column("password")
    for login in summary.logins:
        t.add_row(login["role"], login["email"], login["name"], login["password"])
    console.print(t)


@translate_errors
def demo_command(
    no_serve: bool = typer.Option(False, "--no-serve", help="Build the demo company and stop; do not start the web app."),
    seed: int = typer.Option(None, "--seed", help="Generator seed (default: REVTEAM_DEMO_SEED, 20261125). Same seed, same company."),
    reset: bool = typer.Option(False, "--reset", help="Delete everything in the database first (it must be empty otherwise)."),
    scale: float = typer.Option(1.0, "--scale", help="Multiply the volumes: 1.0 is 2,000 accounts and 20,000 contacts; 0.02 is tiny."),
    json_: bool = JsonOption,
) -> None:
    """Build a believable B2B company with a year of history, print a log-in per role, and serve the web app."""
    from revteam.demo.build import build_demo_company

    with runtime() as rt:
        settings = rt.settings
        if settings.env == "production":
            raise Conflict(
                "The demo creates users with a published password; it refuses to run with REVTEAM_ENV=production. "
                "Point REVTEAM_DATABASE_URL at a scratch database and use another REVTEAM_ENV.",
                code="demo_in_production",
            )
        with _progress_bars(not json_) as progress:
            summary = build_demo_company(
                rt.engine, seed=settings.demo_seed if seed is None else seed, now=datetime.now(timezone.utc),
                scale=scale, progress=progress, reset=reset,
            )
        if not json_:
            from revteam.analytics.questions import Funnel

            with console.status("reading the funnel…"):
                funnel = rt.desk.ask(Funnel())
    if json_:
        print_json(summary.to_dict())
    else:
        _print_summary(summary, funnel)
    if no_serve:
        return
    try:
        from revteam.cli.serve import run_server
    except ImportError:
        raise RevteamError(
            "The demo is built, but this build has no web server yet (revteam.cli.serve.run_server is missing); "
            "run `revteam demo --no-serve` to skip serving.",
            code="serve_unavailable",
        ) from None
    if not json_:
        console.print(f"Serving the web app on http://{settings.host}:{settings.port}/ (Ctrl+C to stop).")
    run_server(settings)
