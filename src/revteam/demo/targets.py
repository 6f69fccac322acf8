"""Monthly and quarterly targets for the demo year: won revenue, new customers and MQLs (R11).

A believable plan is set ahead of the results, so some months beat it and some miss. Each past month's
target is what the month turned out to be times a stretch drawn from ``shape.TARGET_STRETCH``
(0.95–1.25: most months miss a little, a few beat it); months still to come in the current quarter
get the trailing three-month average, stretched the same way. The current quarter's target is the sum
of its months (one row per metric with ``period_end`` at the quarter's last day). Targets are company
wide (``team_id`` NULL).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from revteam.demo import shape
from revteam.demo.rows import RowSet
from revteam.demo.timebase import DemoCalendar

METRICS = ("won_revenue", "new_customers", "mqls")
ROUND_TO = {"won_revenue": 5_000, "new_customers": 1, "mqls": 5}


def _month(d: date) -> date:
    return d.replace(day=1)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def _actuals(rows: RowSet) -> dict[str, dict[date, float]]:
    out: dict[str, dict[date, float]] = {m: defaultdict(float) for m in METRICS}
    first_win: dict[int, date] = {}
    for r in rows.rows["deals"]:
        if r[8] == "won":
            out["won_revenue"][_month(r[12])] += float(r[5])
            first_win[r[4]] = min(first_win.get(r[4], r[12]), r[12])
    for d in first_win.values():
        out["new_customers"][_month(d)] += 1
    seen: set[int] = set()
    for r in rows.rows["stage_changes"]:
        if r[3] == "mql" and r[1] not in seen:
            seen.add(r[1])
            out["mqls"][_month(r[4].date())] += 1
    return out


def target_rows(rows: RowSet, cal: DemoCalendar, rng: random.Random) -> list[dict[str, object]]:
    actual = _actuals(rows)
    today = cal.now.date()
    q_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    q_end = _next_month(_next_month(_next_month(q_start))) - timedelta(days=1)
    months = []
    m = _month(cal.start.date())
    while m <= q_end:
        months.append(m)
        m = _next_month(m)
    out: list[dict[str, object]] = []
    quarter: dict[str, float] = defaultdict(float)
    for metric in METRICS:
        history: list[float] = []
        step = ROUND_TO[metric]
        for m in months:
            if m < _month(today):
                base = actual[metric].get(m, 0.0)
                history.append(base)
            else:
                recent = history[-3:] or [0.0]
                base = sum(recent) / len(recent)
            value = max(step, round(base * rng.uniform(*shape.TARGET_STRETCH) / step) * step)
            out.append({"metric": metric, "period_start": m, "period_end": _next_month(m) - timedelta(days=1),
                        "team_id": None, "value": Decimal(value)})
            if q_start <= m <= q_end:
                quarter[metric] += value
    for metric in METRICS:
        out.append({"metric": metric, "period_start": q_start, "period_end": q_end, "team_id": None,
                    "value": Decimal(quarter[metric])})
    for i, row in enumerate(out, start=1):
        row["id"] = i
    return out
