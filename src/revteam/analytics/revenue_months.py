"""Revenue against target from the engine's monthly aggregates (``analytics/revenue_table.py``): the report
``analytics.revenue.revenue_report`` gives, with every deal scan run by the analytics engine.

Model
    The engine returns, per calendar month and team, won revenue, won and closed deal counts and new
    customers, over every month of the quarters the report shows; per month, the won deals' cycle
    quantiles; and over the report's whole range (which may start mid-month) the same counts and quantiles.
    A month or a quarter is then a sum of month rows (company wide: of every team's), so nothing here reads
    a deal; targets come from ``load_targets`` (a few rows) and are matched by ``domain.revenue.find_target``.

Edge rules
    As ``domain/revenue.py``: open deals never count, closed deals without a close date are counted as
    undated, a deal without an owner's team is ``NO_TEAM`` (listed last). Sums of money may differ from
    the database path in the last bits (another summation order; tests compare with a relative 1e-12).

Worked example: see ``analytics/revenue_table.py`` (the first quarter of 2026 of the revenue tests).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from revteam.analytics import revenue_table as RT
from revteam.analytics.revenue import currency_note
from revteam.domain.revenue import NO_TEAM, Attainment, TargetRow, find_target, period_span, spans
from revteam.errors import InvalidInput


def _day(v: Any) -> date:
    return v.date() if hasattr(v, "date") else v


class MonthFacts:
    """The engine's month rows, summed over any run of whole months, company wide or for one team."""

    def __init__(self, got: dict[str, Any]) -> None:
        self.rows: dict[tuple[date, str], dict[str, float]] = defaultdict(
            lambda: {"won_revenue": 0.0, "won_deals": 0, "closed_deals": 0, "new_customers": 0})
        for r in got["months"].to_pylist():
            self.rows[(_day(r["month"]), r["team"])].update(
                won_revenue=float(r["won_revenue"] or 0.0), won_deals=int(r["won_deals"] or 0),
                closed_deals=int(r["closed_deals"] or 0))
        for r in got["new"].to_pylist():
            self.rows[(_day(r["month"]), r["team"])]["new_customers"] = int(r["new_customers"])
        self.cycles = {_day(r["month"]): (int(r["won_deals"]), r["q"]) for r in got["cycles"].to_pylist()}

    def total(self, measure: str, start: date, end: date, team: str | None = None) -> float:
        return sum(v[measure] for (m, tm), v in self.rows.items()
                   if start <= m <= end and (team is None or tm == team))

    def win_rate(self, start: date, end: date) -> float | None:
        closed = self.total("closed_deals", start, end)
        return self.total("won_deals", start, end) / closed if closed else None

    def against(self, targets: Sequence[TargetRow], *, metric: str, period: str, first: date, last: date,
                teams: Sequence[str | None] = (None,)) -> list[Attainment]:
        """``domain.revenue.against_targets`` from the month rows."""
        out = []
        for team in teams:
            for s, e in spans(period, first, last):
                value, source = find_target(targets, metric, s, e, team)
                actual = self.total(metric, s, e, team)
                out.append(Attainment(metric, period, s, e, team, float(actual if metric == "won_revenue"
                                                                       else int(actual)), value, source))
        return out


def _quantiles(q: Any) -> tuple[float | None, float | None, float | None]:
    return (None, None, None) if q is None else tuple(float(x) for x in q)  # type: ignore[return-value]


def revenue_report_on(analytics: Any, targets: Sequence[TargetRow], *, today: date, first: date | None = None,
                      last: date | None = None) -> dict[str, Any]:
    """``revenue.revenue_report`` with the deal scans on the analytics engine (``analytics``: a runner;
    ``targets``: ``revenue.load_targets``)."""
    last = last or today
    first = first or period_span("month", (last.replace(day=1) - timedelta(days=330)))[0]
    if first > last:
        raise InvalidInput(f"--from {first} is after --to {last}.", code="revenue_bad_range")
    end = period_span("month", last)[1]
    q_first, q_end = period_span("quarter", first)[0], period_span("quarter", last)[1]

    def build(t: dict[str, Any]) -> dict[str, Any]:
        return {"months": RT.monthly(t, q_first, q_end), "new": RT.new_customers(t, q_first, q_end),
                "cycles": RT.cycles(t, q_first, q_end), "whole": RT.whole(t, first, end),
                "undated": RT.undated(t), "currencies": RT.currencies(t), "teams": RT.teams(t)}

    got, _fp = analytics.arrow(build)
    facts = MonthFacts(got)
    teams = sorted(got["teams"].column("team").to_pylist(), key=lambda t: (t == NO_TEAM, t))
    months = []
    for s, e in spans("month", first, last):
        rev_t, _ = find_target(targets, "won_revenue", s, e, None)
        kpi_t, _ = find_target(targets, "new_customers", s, e, None)
        rev = float(facts.total("won_revenue", s, e))
        won, q = facts.cycles.get(s, (0, None))
        months.append({"month": s, "won_revenue": rev, "target": rev_t, "attainment": rev / rev_t if rev_t else None,
                       "new_customers": int(facts.total("new_customers", s, e)), "new_customers_target": kpi_t,
                       "won_deals": won, "win_rate": facts.win_rate(s, e), "cycle_median_days": _quantiles(q)[0]})
    [whole] = got["whole"].to_pylist()
    won, closed = int(whole["won_deals"] or 0), int(whole["closed_deals"] or 0)  # Spark: null over no rows
    median, p75, p90 = _quantiles(whole["q"] if won else None)

    def against(metric: str, period: str, start: date, teams_: Sequence[str | None] = (None,)) -> list[dict[str, Any]]:
        return [a.to_dict() for a in facts.against(targets, metric=metric, period=period, first=start, last=last,
                                                   teams=teams_)]

    return {
        "from": first, "to": end, "today": today,
        "months": months,
        "quarters": against("won_revenue", "quarter", q_first),
        "teams": against("won_revenue", "quarter", q_first, teams),
        "unified_kpi": {
            "metric": "new_customers",
            "months": against("new_customers", "month", first),
            "quarters": against("new_customers", "quarter", q_first),
            "teams": against("new_customers", "quarter", q_first, teams),
        },
        "win_rate": won / closed if closed else None,
        "sales_cycle_days": {"won_deals": won, "median": median, "p75": p75, "p90": p90},
        "undated_closed_deals": int(got["undated"].column("undated")[0].as_py() or 0),
        **currency_note(got["currencies"].column("currency").to_pylist()),
    }
