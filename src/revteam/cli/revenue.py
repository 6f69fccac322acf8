"""``revteam revenue`` and ``revteam forecast``: revenue against target, the forecast, and its backtest."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from revteam.cli.common import JsonOption, console, err_console, print_json, runtime, translate_errors
from revteam.runtime import desk_without_database

ShowSql = typer.Option(False, "--show-sql", help="Also print the SQL statements that read the data (with --json: "
                       "a \"sql\" list). The arithmetic runs in NumPy, not in SQL.")


def _today() -> date:
    return datetime.now(timezone.utc).date()


def _money(v: float | None) -> str:
    return "" if v is None else f"{v:,.0f}"


def _share(v: float | None) -> str:
    return "" if v is None else f"{v:.0%}"


def _period(start: date, horizon: str) -> str:
    return start.strftime("%Y-%m") if horizon == "month" else f"{start.year} Q{(start.month + 2) // 3}"


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:+.1%}"


def _print_statements(statements: list[str], what: str) -> None:
    console.print(f"-- {len(statements)} SQL statement(s) read {what}; the numbers were computed in NumPy",
                  markup=False, highlight=False)
    for sql in statements:
        body, _, runs = sql.partition("  -- ")
        console.print(f"{body};" + (f"  -- {runs}" if runs else ""), markup=False, highlight=False, soft_wrap=True)


# --- revteam revenue -----------------------------------------------------------------------------
@translate_errors
def revenue_command(
    from_: str = typer.Option(None, "--from", help="First month, YYYY-MM (default: 11 months before --to)."),
    to: str = typer.Option(None, "--to", help="Last month, YYYY-MM (default: this month)."),
    json_: bool = JsonOption,
    show_sql: bool = ShowSql,
) -> None:
    """Won revenue and new paying customers against target by month, quarter and team; win rate and cycle."""
    from revteam.analytics.revenue_questions import Revenue

    question = Revenue.parse(today=_today(), first=from_, last=to)
    with runtime() as rt:
        answer = rt.desk.ask(question)
    if json_:
        print_json(answer.to_dict(with_sql=show_sql))
        return
    data = answer.data
    t = Table(title=f"Revenue by month, {data['from']} to {data['to']}")
    for col in ("month", "won revenue", "target", "attained", "new customers", "target ", "win rate", "cycle (median)"):
        t.add_column(col, justify="left" if col == "month" else "right")
    for m in data["months"]:
        t.add_row(m["month"].strftime("%Y-%m"), _money(m["won_revenue"]), _money(m["target"]), _share(m["attainment"]),
                  str(m["new_customers"]), _money(m["new_customers_target"]), _share(m["win_rate"]),
                  "" if m["cycle_median_days"] is None else f"{m['cycle_median_days']:g} d")
    console.print(t)
    kpi = {(k["start"], k["team"]): k for k in data["unified_kpi"]["quarters"] + data["unified_kpi"]["teams"]}
    t = Table(title="By quarter and team (new customers are the unified KPI)")
    for col in ("quarter", "team", "won revenue", "target", "attained", "new customers", "target "):
        t.add_column(col, justify="left" if col in ("quarter", "team") else "right")
    for q in data["quarters"] + data["teams"]:
        k = kpi.get((q["start"], q["team"]), {})
        t.add_row(f"{q['start'].year} Q{(q['start'].month + 2) // 3}", q["team"] or "company", _money(q["actual"]),
                  _money(q["target"]), _share(q["attainment"]), _money(k.get("actual")), _money(k.get("target")))
    console.print(t)
    c = data["sales_cycle_days"]
    days = " / ".join("-" if c[k] is None else f"{c[k]:g}" for k in ("median", "p75", "p90"))
    console.print(f"Win rate {_share(data['win_rate']) or '-'}; sales cycle of {c['won_deals']:,} won deals, median / "
                  f"p75 / p90: {days} days.", highlight=False)
    if data["currency_warning"]:
        err_console.print(f"[yellow]warning[/]: {data['currency_warning']}", highlight=False)
    if show_sql:
        _print_statements(list(answer.sql), "the deals, teams and targets")


# --- revteam forecast ----------------------------------------------------------------------------
@translate_errors
def forecast_command(
    period: str = typer.Option("month", "--period", help="month or quarter: forecast to the end of which."),
    as_of: str = typer.Option(None, "--as-of", help="Data through the end of this day, YYYY-MM-DD (default: today)."),
    draws: int = typer.Option(10_000, "--draws", min=100, help="Simulated futures (P10/P50/P90 come from them)."),
    seed: int = typer.Option(None, "--seed", min=0, help="Random seed (default: REVTEAM_ANALYTICS_SEED, as on the "
                             "revenue page and the API): the same data and seed give the same forecast."),
    top: int = typer.Option(10, "--top", min=1, help="Largest open deals to list under 'what stands in the way'."),
    windows: str = typer.Option("auto", "--windows", help="Past windows the model learns from: auto (the same "
                                "point of past quarters when one fits, else sliding), same_point or sliding."),
    backtest: bool = typer.Option(False, "--backtest", help="Instead: forecast as of the 1st and 15th of every past "
                                  "month, for the month and the quarter, against what happened, beside the baselines."),
    maven: Path = typer.Option(None, "--maven", help="Backtest on the Maven CRM export in this directory (implies "
                               "--backtest; the database is not used)."),
    markdown: bool = typer.Option(False, "--markdown", help="Print the backtest as the Markdown tables of "
                                  "docs/forecast.md."),
    json_: bool = JsonOption,
    show_sql: bool = ShowSql,
) -> None:
    """The forecast of won revenue to the end of the month or quarter: P10/P50/P90, target, what stands in the way."""
    from revteam.analytics.revenue_questions import Backtest, Forecast, MavenBacktest

    if backtest or maven is not None:
        day = Forecast.parse(today=_today(), period=period, as_of=as_of).day  # --as-of checked as for a forecast
        if maven is not None:
            with err_console.status("backtesting on the Maven export…"):
                bt = desk_without_database().ask(MavenBacktest(str(maven), draws=draws, seed=seed, windows=windows))
        else:
            with runtime() as rt, err_console.status("backtesting…"):
                bt = rt.desk.ask(Backtest(today=day, draws=draws, seed=seed, windows=windows))
        if json_:
            print_json(bt.to_dict(with_sql=show_sql))  # the Maven export is CSV files: no SQL, an empty list
        elif markdown:
            console.print(backtest_markdown(bt.backtest), markup=False, highlight=False, soft_wrap=True)
        else:
            _print_backtest(bt.backtest, bt.source)
        if show_sql and not json_:
            if maven is not None:
                console.print("-- no SQL: the Maven export is read from its CSV files", markup=False, highlight=False)
            else:
                _print_statements(list(bt.sql), "the deals and their stage history")
        return
    question = Forecast.parse(today=_today(), period=period, as_of=as_of, draws=draws, seed=seed, top=top,
                              windows=windows)
    with runtime() as rt:
        answer = rt.desk.ask(question)
    if json_:
        print_json(answer.to_dict(with_sql=show_sql))
        return
    _print_forecast(answer.data)
    if show_sql:
        _print_statements(list(answer.sql), "the deals, their stage history, teams and targets")


def _print_forecast(d: dict[str, Any]) -> None:
    w = d["what_stands_in_the_way"]
    t = Table(title=f"Forecast of won revenue, {d['period']} {d['period_start']} – {d['period_end']} "
                    f"(as of {d['as_of']}, {d['days_left']} days left)")
    t.add_column("")
    t.add_column("", justify="right")
    rows = [("won so far", _money(d["won_so_far"])), ("+ expected from open deals", _money(d["expected_from_open_deals"])),
            ("+ expected from deals not yet created", _money(d["expected_from_new_deals"])),
            ("expected", _money(d["expected"])), ("P10 / P50 / P90", f"{_money(d['p10'])} / {_money(d['p50'])} / "
                                                                     f"{_money(d['p90'])}"),
            ("target", _money(d["target"]) or "none set"), ("chance of reaching it", _share(w["chance_of_reaching"])),
            ("gap still to win", _money(w["gap_now"])),
            ("baselines: run rate / pace / last period",
             " / ".join(_money(d["baselines"][b]) or "-" for b in ("run_rate", "pace", "last_period")))]
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    st, sp, lrn = d["stages"], d["spread"], d["learned"]
    if lrn:
        console.print(f"Win chances learned from {lrn['window_count']} past window(s) ({lrn['windows'].replace('_', ' ')}) "
                      f"by stage and age; {st['open_deals_with_a_known_stage']} of the {d['open_deals']} open deals have "
                      f"a known stage ({st['deals_with_recorded_history']:,} deals have recorded stage history).",
                      highlight=False)
    if sp and sp["window_error"] is not None:
        on = sp["measured_on"].replace("_", " ")
        console.print(f"The band allows for the coming weeks straying ±{sp['window_error']:.0%} from the average, as past "
                      f"{on} windows strayed from what the others predicted." if sp["window_error"] > 0 else
                      f"Past {on} windows strayed from each other no more than the deals' own chances explain: the "
                      "band holds only that chance.", highlight=False)
    kpi = d["unified_kpi"]
    console.print(f"New paying customers so far: {kpi['so_far']:,}" +
                  (f" of a target of {kpi['target']:,.0f}." if kpi["target"] is not None else " (no target set)."))
    t = Table(title="What stands in the way: the largest open deals" +
                    (f" ({w['deals_needed']} of them would cover the gap)" if w["deals_needed"] else ""))
    for col in ("deal", "team", "stage", "age", "amount", "chance in period"):
        t.add_column(col, justify="right" if col in ("age", "amount", "chance in period") else "left")
    for x in w["largest_open_deals"]:
        t.add_row(str(x["name"]), str(x["team"]), str(x["stage"] or "-"), f"{x['age_days']} d", _money(x["amount"]),
                  _share(x["p_win_in_period"]))
    console.print(t)
    if d["currency_warning"]:
        err_console.print(f"[yellow]warning[/]: {d['currency_warning']}", highlight=False)


def _print_backtest(bt: Any, source: str) -> None:
    for h in ("month", "quarter"):
        rows = [r for r in bt.rows if r.horizon == h]
        if not rows:
            continue
        t = Table(title=f"Backtest on {source}: forecast to the end of the {h}")
        for col in ("made on", "period", "won so far", "P10", "P50", "P90", "actual", "error", "run-rate baseline",
                    "its error"):
            t.add_column(col, justify="left" if col in ("made on", "period") else "right")
        for r in rows:
            t.add_row(str(r.made_on), _period(r.period_start, h), _money(r.won_so_far), _money(r.p10), _money(r.p50),
                      _money(r.p90), _money(r.actual), _pct(r.pct_error), _money(r.baselines["run_rate"]),
                      _pct(r.baseline_error("run_rate") / r.actual if r.actual else None))
        console.print(t)
    console.print(backtest_summary_markdown(bt), markup=False, highlight=False, soft_wrap=True)
    if bt.skipped:
        console.print(f"{len(bt.skipped)} forecast(s) skipped for too little history before them.")


# --- Markdown, for docs/forecast.md --------------------------------------------------------------
def backtest_markdown(bt: Any) -> str:
    out: list[str] = []
    for h in ("month", "quarter"):
        rows = [r for r in bt.rows if r.horizon == h]
        if not rows:
            continue
        out += [f"#### Forecast to the end of the {h}", "",
                "| made on | period | won so far | P10 | P50 | P90 | actual | error | run-rate baseline | its error |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in rows:
            base = r.baselines["run_rate"]
            out.append(f"| {r.made_on} | {_period(r.period_start, h)} | {_money(r.won_so_far)} | {_money(r.p10)} | "
                       f"{_money(r.p50)} | {_money(r.p90)} | {_money(r.actual)} | {_pct(r.pct_error)} | "
                       f"{_money(base)} | {_pct(r.baseline_error('run_rate') / r.actual if r.actual else None)} |")
        out.append("")
    out.append(backtest_summary_markdown(bt))
    if bt.skipped:
        out += ["", f"{len(bt.skipped)} forecast(s) skipped for too little history before them (the first "
                    f"made on {bt.skipped[0]['made_on']}, the last on {bt.skipped[-1]['made_on']})."]
    return "\n".join(out)


def backtest_summary_markdown(bt: Any) -> str:
    out = ["| horizon | baseline | forecasts | model MAE | baseline MAE | model MAPE | baseline MAPE | model WAPE | "
           "baseline WAPE | model bias | baseline bias | model closer |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for h, s in bt.summary.items():
        for b, e in s["baselines"].items():
            m, x = e["model_same_rows"], e["baseline"]
            out.append(f"| {h} | {b.replace('_', ' ')} | {e['forecasts']} | {_money(m['mae'])} | {_money(x['mae'])} | "
                       f"{_share(m['mape'])} | {_share(x['mape'])} | {_share(m['wape'])} | {_share(x['wape'])} | "
                       f"{_money(m['bias'])} | {_money(x['bias'])} | {_share(e['model_closer_share'])} |")
    out += ["", "| horizon | forecasts | actual inside the model's P10–P90 (ideal 80 %) | below P10 | above P90 |",
            "|---|---:|---:|---:|---:|"]
    out += [f"| {h} | {s['forecasts']} | {_share(s['p10_p90_coverage'])} | {_share(s['below_p10'])} | "
            f"{_share(s['above_p90'])} |" for h, s in bt.summary.items()]
    return "\n".join(out)
