"""``revteam funnel | content-roi | attribution``: the analytics reports, each with --json and --show-sql.

Each command reads its options into one question (``revteam.analytics.questions``), asks the analytics desk
and prints the answer as tables, or ``--json``: the answer's ``to_dict()``, the very JSON the API returns
(``/api/v1/analytics/...``). ``--show-sql`` prints what ran: the Ibis-compiled SQL of the funnel and content
queries, and the statements that read the attribution journeys from the operational database (the models
themselves run in NumPy); long ``IN (?, ?, …)`` lists shortened, repeated statements shown once with a count.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import typer
from rich import box
from rich.table import Table

from revteam.cli.common import JsonOption, console, print_json, runtime, translate_errors

ShowSql = typer.Option(False, "--show-sql", help="Also print the SQL the engine ran.")
SeedOption = typer.Option(None, "--seed", min=0, help="Seed of the random draws of sampled Shapley (many keys, e.g. "
                          "content grain; default: REVTEAM_ANALYTICS_SEED, as on the pages and the API): the same "
                          "data and seed give the same numbers.")


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _print_sql(result: Any) -> None:
    for name, q in result.queries.items():
        console.print(f"[bold]-- {name}[/]")
        console.print(q.sql, markup=False, highlight=False)


def _print_statements(statements: Any) -> None:
    console.print(f"[bold]-- {len(statements)} SQL statement(s) read the attribution journeys; the models ran in NumPy[/]")
    for sql in statements:
        console.print(sql, markup=False, highlight=False, soft_wrap=True)


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
    from revteam.analytics.questions import Funnel

    question = Funnel.parse(stages=stages, start=start, end=end, mode=mode, window_days=window, by=by,
                            label_style="option")
    with runtime() as rt:
        with console.status(f"running the funnel on {rt.settings.analytics_engine}…"):
            result = rt.desk.ask(question)
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
        _print_sql(result)


@translate_errors
def content_roi_command(
    start: str = typer.Option(None, help="Window start, YYYY-MM-DD."),
    end: str = typer.Option(None, help="Window end, YYYY-MM-DD (exclusive)."),
    content: int = typer.Option(None, "--content", help="One content piece (id): its drill-down."),
    model: str = typer.Option("w_shaped", help="The attribution model of the 'credited' column (--json has all)."),
    seed: int = SeedOption,
    limit: int = typer.Option(20, help="Pieces to show in the table."),
    months: int = typer.Option(3, "--months", min=1, help="Months of the top five by revenue to print, latest first "
                                                   "(--json has every month of the window)."),
    json_: bool = JsonOption,
    show_sql: bool = ShowSql,
) -> None:
    """What every content piece did: traffic, leads and MQLs it touched, deals and revenue it influenced,
    the won revenue each attribution model credits to it (deals closed in the window), times reps used it
    and how helpful they said it was; the top five pieces by traffic each week and by won revenue each month
    (the won deals closed in the month that touched the piece in the year before their close)."""
    from revteam.analytics.questions import ContentRoi
    from revteam.domain.attribution import MODELS

    question = ContentRoi.parse(start=start, end=end, content_id=content, model=model, seed=seed,
                                label_style="option")
    with runtime() as rt:
        with console.status("computing content ROI…"):
            answer = rt.desk.ask(question)
    if json_:
        print_json(answer.to_dict(with_sql=show_sql))
        return
    label = MODELS[model].label
    t = Table(title="Content ROI" + (f" {start or '…'} to {end or '…'}" if start or end else "")
              + f"; credited: won revenue under {label}", caption="--json has the category and every model",
              box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)  # fits 80 columns
    heads = ("traffic", "MQLs", "deals", "won", "influenced", "credited", "used", "helpful")
    pieces = answer.pieces[:limit]
    rows = [[f"{p['traffic']:,}", f"{p['mqls']:,}", f"{p['deals_influenced']:,}", f"{p['won_deals']:,}",
             f"{p['influenced_revenue']:,.0f}", f"{p['credited'][model]:,.0f}", f"{p['used_in_deals']:,}",
             "" if p["helpful_share"] is None else f"{p['helpful_share']:.0%}"] for p in pieces]
    widths = [max([len(col)] + [len(r[i]) for r in rows]) for i, col in enumerate(heads)]
    title_width = max(10, min(34, console.width - sum(widths) - 2 * len(heads) - 1))  # the title gives way
    t.add_column("piece", no_wrap=True, width=title_width, overflow="ellipsis")
    for col, w in zip(heads, widths):
        t.add_column(col, justify="right", no_wrap=True, min_width=w)
    for p, cells in zip(pieces, rows):
        t.add_row(p["title"][:60], *cells)
    console.print(t)
    _print_top_by_month(answer.rows("top_by_month"), model, label, months)
    if show_sql:
        _print_sql(answer.result)
        _print_statements(answer.credited_sql)


def _print_top_by_month(rows: list[dict[str, Any]], model: str, label: str, months: int) -> None:
    """The top five by won revenue of the latest ``months`` months, latest first."""
    shown = sorted({str(r["month"])[:7] for r in rows}, reverse=True)[:max(months, 0)]
    if not shown:
        console.print("Top 5 by revenue each month: no won deal in the window touched a content piece.")
        return
    t = Table(title="Top 5 by revenue each month (won deals closed in the month)",
              caption=f"credited: the same deals' revenue under {label}", box=box.SIMPLE_HEAD, show_edge=False,
              pad_edge=False, collapse_padding=True)
    cells = [(m, str(r["rank"]), f"{r['won_revenue']:,.0f}", f"{r['won_deals']:,}", f"{r['credited'][model]:,.0f}")
             for m in shown for r in rows if str(r["month"])[:7] == m]
    heads = ("month", "#", "won revenue", "deals", "credited")
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(heads)]
    title_width = max(10, min(40, console.width - sum(widths) - 2 * len(heads) - 1))
    for h, w in zip(heads[:2], widths[:2]):
        t.add_column(h, justify="left" if h == "month" else "right", no_wrap=True, min_width=w)
    t.add_column("piece", no_wrap=True, width=title_width, overflow="ellipsis")
    for h, w in zip(heads[2:], widths[2:]):
        t.add_column(h, justify="right", no_wrap=True, min_width=w)
    titles = {(str(r["month"])[:7], str(r["rank"])): r["title"][:60] for r in rows}
    for i, c in enumerate(cells):
        last = i + 1 == len(cells) or cells[i + 1][0] != c[0]
        t.add_row(c[0] if c[1] == "1" else "", c[1], titles[(c[0], c[1])], *c[2:], end_section=last)
    console.print(t)


@translate_errors
def attribution_command(
    grain: str = typer.Option("channel", help="channel, campaign or content."),
    model: str = typer.Option("all", help="A model name, or 'all' for the side-by-side."),
    start: str = typer.Option(None, help="Deals closed (with --stage: conversions) from this date, YYYY-MM-DD."),
    end: str = typer.Option(None, help="Deals closed (with --stage: conversions) up to this date, YYYY-MM-DD "
                                       "(inclusive)."),
    stage: str = typer.Option(None, "--stage", help="Credit conversions to this lifecycle stage (a main stage, e.g. "
                                                   "mql) instead of won revenue: a contact's first move to it in the "
                                                   "period, from --start to --end (default: the 90 days up to today)."),
    deal: int = typer.Option(None, "--deal", help="Explain one won deal: which touches got how much and why."),
    seed: int = SeedOption,
    limit: int = typer.Option(15, help="Keys to show in the table."),
    json_: bool = JsonOption,
    show_sql: bool = ShowSql,
) -> None:
    """Won revenue, or conversions to a lifecycle stage (--stage), credited to channels, campaigns or content
    pieces under every attribution model; sourced versus influenced revenue; or one deal's touches and their
    credit."""
    from revteam.analytics.questions import attribution_question
    from revteam.domain.attribution import MODELS

    question = attribution_question(today=_today(), grain=grain, model=None if model == "all" else model, start=start,
                                    end=end, stage=stage, deal=deal, seed=seed, label_style="option")
    with runtime() as rt:
        answer = rt.desk.ask(question)
    data = answer.to_dict(with_sql=show_sql and json_)
    if json_:
        print_json(data)
        return
    shown = list(MODELS) if model == "all" else [model]
    if deal is not None:
        d = answer.data
        t = Table(title=f"{d['name']} ({d['currency']} {d['amount']:,.0f}, won {d['closed_on']}) — "
                        f"{d['model']} at {grain} grain")
        for col in ("when", "touch", grain, "roles", "share", "credit", "why"):
            t.add_column(col, overflow="fold")
        for r in d["rows"]:
            t.add_row(f"{r['occurred_at']:%Y-%m-%d}", r["type"], r["label"], ", ".join(r["roles"]), f"{r['share']:.1%}",
                      f"{r['credit']:,.0f}", r["reason"])
        console.print(t if d["rows"] else f"Unattributed: {d.get('unattributed')}")
    elif stage is not None:
        rows = [[f"{r[m]:,.1f}" for m in shown] for r in data["keys"][:limit]]
        _print_side_by_side(f"Conversions to {stage} by {grain}, {data['start']} to {data['end']}",
                            f"conversions credited: {data['conversions']:,} · contacts touched who did not get there: "
                            f"{data['non_converting']:,} (Markov and Shapley learn from them) · conversions with no "
                            f"touch to credit: {len(data['unattributed']):,}",
                            grain, [m.replace("_", " ") for m in shown], [r["label"] for r in data["keys"][:limit]], rows)
    else:
        rows = [[f"{r['sourced']:,.0f}", f"{r['influenced']:,.0f}", *(f"{r[m]:,.0f}" for m in shown)]
                for r in data["keys"][:limit]]
        _print_side_by_side(f"Won revenue by {grain}: {data['deals']:,} closed deals",
                            "sourced: won revenue of the deals whose first touch it was; influenced: of the deals it "
                            "touched; then each model's credit", grain,
                            ["sourced", "influenced", *(m.replace("_", " ") for m in shown)],
                            [r["label"] for r in data["keys"][:limit]], rows)
    if show_sql:
        _print_statements(answer.sql)


def _print_side_by_side(title: str, caption: str, grain: str, heads: list[str], labels: list[str],
                        rows: list[list[str]]) -> None:
    """Keys and one number column per head, in as many tables as it takes to fit the terminal: numbers are
    never cut (the key column gives way first, down to 12 characters)."""
    widths = [max([min(len(h), 8)] + [len(r[i]) for r in rows]) for i, h in enumerate(heads)]
    key_width = max(12, min(28, max([len(grain)] + [len(x) for x in labels])))
    groups: list[list[int]] = [[]]
    for i, w in enumerate(widths):  # a column takes its width, a space either side and a separator
        used = key_width + 1 + sum(widths[j] + 3 for j in groups[-1])
        if groups[-1] and used + w + 3 > console.width:
            groups.append([])
        groups[-1].append(i)
    console.print(title, style="bold", highlight=False)
    for cols in groups:
        t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        t.add_column(grain, no_wrap=True, overflow="ellipsis", max_width=key_width)
        for i in cols:
            t.add_column(heads[i], justify="right", min_width=widths[i], overflow="fold")
        for label, r in zip(labels, rows):
            t.add_row(label, *(r[i] for i in cols))
        console.print(t)
    console.print(caption, style="dim", highlight=False)
