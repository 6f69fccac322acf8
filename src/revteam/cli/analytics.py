"""``revteam funnel``: conversion between lifecycle stages and velocity, with --json and --show-sql."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from revteam.cli.common import JsonOption, console, print_json, runtime, translate_errors

ShowSql = typer.Option(False, "--show-sql", help="Also print the SQL the engine ran.")


def _date(value: str | None, name: str) -> date | None:
    from revteam.errors import InvalidInput

    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--{name} {value!r} is not a date; use YYYY-MM-DD.", code="bad_date") from None


@translate_errors
def funnel_command(
    stages: str = typer.Option("", help="Comma-separated stages in order (default: every main stage)."),
    start: str = typer.Option(None, help="Cohort period start, YYYY-MM-DD (inclusive)."),
    end: str = typer.Option(None, help="Cohort period end, YYYY-MM-DD (exclusive)."),
    mode: str = typer.Option("cohort", help="cohort (of those who reached A in the period) or period (flow)."),
    window: int = typer.Option(None, "--window", help="Count B only within N days of reaching A."),
    by: str = typer.Option(None, "--by", help="Breakdown: source, campaign, persona, segment, region, industry, rep, "
                                              "channel, landing_page, content or month."),
    json_: bool = JsonOption,
    show_sql: bool = ShowSql,
) -> None:
    """Conversion between every pair of lifecycle stages and the time it takes (median, p75, p90)."""
    from revteam.analytics.funnel import FunnelSpec

    spec = FunnelSpec(stages=tuple(s.strip() for s in stages.split(",") if s.strip()), start=_date(start, "start"),
                      end=_date(end, "end"), mode=mode, window_days=window, breakdown=by)
    with runtime() as rt:
        with console.status(f"running the funnel on {rt.settings.analytics_engine}…"):
            result = rt.analytics.funnel(spec)
    if json_:
        print_json(result.to_dict(with_sql=show_sql))
        return
    stage_list = result.meta["stages"]
    t = Table(title=f"Funnel ({result.meta['mode']}){f' by {by}' if by else ''}")
    if by:
        t.add_column(by)
    for col in ("stage", "reached", "→ next stage", "median days", "p90 days"):
        t.add_column(col, justify="left" if col == "stage" else "right")
    entered = {(r["group"], r["stage"]): r["contacts"] for r in result.rows("entered")}
    conv = {(r["group"], r["from_stage"], r["to_stage"]): r for r in result.rows("conversion")}
    vel = {(r["group"], r["from_stage"], r["to_stage"]): r for r in result.rows("velocity")}
    for group in dict.fromkeys(r["group"] for r in result.rows("entered")):
        for i, (a, b) in enumerate(zip(stage_list, [*stage_list[1:], None])):
            c, v = conv.get((group, a, b)), vel.get((group, a, b))
            cells = [a, f"{entered.get((group, a), 0):,}", f"{c['rate']:.1%}" if c else "",
                     f"{v['median_days']:.1f}" if v and v["median_days"] is not None else "",
                     f"{v['p90_days']:.1f}" if v and v["p90_days"] is not None else ""]
            t.add_row(*([group if i == 0 else ""] if by else []), *cells, end_section=by is not None and b is None)
    console.print(t)
    if show_sql:
        for name, q in result.queries.items():
            console.print(f"[bold]-- {name}[/]")
            console.print(q.sql, markup=False, highlight=False)
