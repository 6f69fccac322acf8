"""Revenue metrics, each defined once (PRODUCT.md R2, R11), and each against its target.

Definitions (also in docs/metrics/revenue.md)
    won revenue (P)      Σ amount of the deals with outcome won and ``closed_on`` in P.
    new customers (P)    accounts whose *first* won deal (earliest ``closed_on`` among the account's won
                         deals) closes in P: the unified KPI both teams own (new paying customers).
    win rate (P)         won / (won + lost) among the deals with ``closed_on`` in P; None when none closed.
    sales cycle (P)      ``closed_on − created_on`` in days of the deals won in P: median, p75 and p90,
                         interpolated linearly between closest ranks (the default of NumPy and pandas).
    revenue per month    won revenue of each calendar month.

Periods are date ranges [start, end] with both ends included. Months are calendar months; quarters are
calendar quarters (Q1 = January to March).

Edge rules
    * Open deals never count; a won or lost deal with no close date cannot be placed in a period and is
      left out of every period metric (the service counts them as ``undated`` so they stay visible).
    * Teams: a deal belongs to its owner's team (``NO_TEAM`` when it has no owner or the owner no team).
      A new customer is credited to the team of the deal that made it one (its first won deal).
    * Deals without an account never make a new customer (there is no account to count).
    * Targets: the target row whose metric, start, end and team match exactly. A quarter with no row of
      its own gets the sum of its three monthly targets when all three exist ("sum of months").
    * Currency: one currency per installation. Amounts are summed as they are, with no conversion.

Worked example
    Deals (account, outcome, created → closed, amount): A won 2026-01-05 → 2026-02-10 for 10,000; A won
    2026-02-01 → 2026-03-03 for 5,000; B won 2026-02-20 → 2026-03-20 for 8,000; C lost 2026-02-01 →
    2026-03-10. For March 2026: won revenue 13,000; win rate 2 / 3; new customers 1 (B; A first won in
    February); cycles 30 and 28 days, median 29.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np

from revteam.errors import InvalidInput

OPEN, WON, LOST = 0, 1, 2
OUTCOME_CODES = {"open": OPEN, "won": WON, "lost": LOST}
NO_TEAM = "(no team)"
NAT = np.datetime64("NaT", "D")


def day(d: date | np.datetime64 | str) -> np.datetime64:
    return np.datetime64(d, "D")


def to_date(d: np.datetime64) -> date:
    return date.fromisoformat(str(np.datetime64(d, "D")))


# --- periods -------------------------------------------------------------------------------------
def month_span(d: date) -> tuple[date, date]:
    start = d.replace(day=1)
    return start, (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def quarter_span(d: date) -> tuple[date, date]:
    start = date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return start, month_span(date(start.year, start.month + 2, 1))[1]


PERIODS: dict[str, Callable[[date], tuple[date, date]]] = {"month": month_span, "quarter": quarter_span}


def period_span(kind: str, d: date) -> tuple[date, date]:
    try:
        return PERIODS[kind](d)
    except KeyError:
        raise InvalidInput(f"Unknown period {kind!r}; use one of {', '.join(PERIODS)}.", code="bad_period") from None


def spans(kind: str, first: date, last: date) -> list[tuple[date, date]]:
    """Every period of ``kind`` from the one holding ``first`` to the one holding ``last``."""
    out: list[tuple[date, date]] = []
    start, end = period_span(kind, first)
    while start <= last:
        out.append((start, end))
        start, end = period_span(kind, end + timedelta(days=1))
    return out


# --- the deal table ------------------------------------------------------------------------------
@dataclass(frozen=True)
class DealTable:
    """One row per deal, as NumPy arrays. ``closed_on`` is NaT while open.

    ``amount`` is the deal's value (a won deal's revenue); ``open_amount`` is the value shown while it was
    still open, where the source keeps both (a CRM export with a list price and a final price); it
    defaults to ``amount``.
    """

    ids: np.ndarray  # int64
    amount: np.ndarray  # float64
    outcome: np.ndarray  # int8: OPEN, WON, LOST
    created_on: np.ndarray  # datetime64[D]
    closed_on: np.ndarray  # datetime64[D], NaT while open
    account: np.ndarray  # int64, -1 without an account
    team: np.ndarray  # object: team name or NO_TEAM
    stage: np.ndarray  # object: the pipeline stage today (display only; see forecast.StageHistory)
    open_amount: np.ndarray  # float64
    name: np.ndarray  # object: the deal's name, for lists people read

    @classmethod
    def build(cls, *, amount: Sequence[Any], outcome: Sequence[Any], created_on: Sequence[Any],
              closed_on: Sequence[Any], ids: Sequence[Any] | None = None, account: Sequence[Any] | None = None,
              team: Sequence[Any] | None = None, stage: Sequence[Any] | None = None,
              open_amount: Sequence[Any] | None = None, name: Sequence[Any] | None = None) -> DealTable:
        n = len(amount)
        out = np.asarray([OUTCOME_CODES[o] if isinstance(o, str) else int(o) for o in outcome], dtype=np.int8)
        closed = np.array([NAT if c is None else day(c) for c in closed_on], dtype="datetime64[D]").reshape(n)
        closed[out == OPEN] = NAT
        amt = np.asarray(amount, dtype=np.float64).reshape(n)
        t = DealTable(
            ids=np.arange(1, n + 1, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64),
            amount=amt,
            outcome=out,
            created_on=np.array([day(c) for c in created_on], dtype="datetime64[D]").reshape(n),
            closed_on=closed,
            account=np.full(n, -1, np.int64) if account is None else
            np.array([-1 if a is None else int(a) for a in account], dtype=np.int64),
            team=np.array([NO_TEAM if x is None else str(x) for x in (team if team is not None else [None] * n)],
                          dtype=object),
            stage=np.array(list(stage) if stage is not None else [None] * n, dtype=object).reshape(n),
            open_amount=amt.copy() if open_amount is None else np.asarray(open_amount, dtype=np.float64),
            name=np.array(list(name) if name is not None else [None] * n, dtype=object).reshape(n),
        )
        if any(len(getattr(t, f)) != n for f in ("ids", "created_on", "account", "team", "open_amount", "outcome")):
            raise InvalidInput("Every deal column must have one value per deal.", code="bad_deal_table")
        if np.isnat(t.created_on).any():
            raise InvalidInput("Every deal needs a created date.", code="bad_deal_table")
        return t

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, rows: np.ndarray) -> DealTable:
        return DealTable(**{f: getattr(self, f)[rows] for f in self.__dataclass_fields__})

    def as_of(self, d: date | np.datetime64) -> DealTable:
        """What was known at the end of day ``d``: deals created on or before ``d``; a deal that closed
        after ``d`` is open again, at its open amount, with its stage unknown. Nothing after ``d`` remains."""
        d = day(d)
        t = self.take(self.created_on <= d)
        later = ~np.isnat(t.closed_on) & (t.closed_on > d)
        if not later.any():
            return t
        outcome, closed, amount, stage = t.outcome.copy(), t.closed_on.copy(), t.amount.copy(), t.stage.copy()
        outcome[later], closed[later], amount[later], stage[later] = OPEN, NAT, t.open_amount[later], None
        return replace(t, outcome=outcome, closed_on=closed, amount=amount, stage=stage)

    def closed_in(self, start: date | np.datetime64, end: date | np.datetime64, outcome: int | None = None,
                  team: str | None = None) -> np.ndarray:
        m = ~np.isnat(self.closed_on) & (self.closed_on >= day(start)) & (self.closed_on <= day(end))
        m &= (self.outcome != OPEN) if outcome is None else (self.outcome == outcome)
        if team is not None:
            m &= self.team == team
        return m

    @property
    def undated(self) -> int:
        """Won or lost deals without a close date (left out of every period metric)."""
        return int(((self.outcome != OPEN) & np.isnat(self.closed_on)).sum())


# --- the metrics ---------------------------------------------------------------------------------
def won_revenue(deals: DealTable, start: date, end: date, team: str | None = None) -> float:
    return float(deals.amount[deals.closed_in(start, end, WON, team)].sum())


def first_wins(deals: DealTable) -> tuple[np.ndarray, np.ndarray]:
    """For every account with a dated won deal: its first won deal's row (earliest close, then lowest id)."""
    rows = np.flatnonzero((deals.outcome == WON) & ~np.isnat(deals.closed_on) & (deals.account >= 0))
    if not len(rows):
        return np.array([], np.int64), np.array([], np.int64)
    order = rows[np.lexsort((deals.ids[rows], deals.closed_on[rows], deals.account[rows]))]
    acc = deals.account[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = acc[1:] != acc[:-1]
    return acc[first], order[first]


def new_customers(deals: DealTable, start: date, end: date, team: str | None = None) -> int:
    _, rows = first_wins(deals)
    closed = deals.closed_on[rows]
    m = (closed >= day(start)) & (closed <= day(end))
    if team is not None:
        m &= deals.team[rows] == team
    return int(m.sum())


def win_rate(deals: DealTable, start: date, end: date, team: str | None = None) -> float | None:
    won = int(deals.closed_in(start, end, WON, team).sum())
    closed = int(deals.closed_in(start, end, None, team).sum())
    return won / closed if closed else None


@dataclass(frozen=True)
class CycleStats:
    deals: int
    median: float | None
    p75: float | None
    p90: float | None


def sales_cycle(deals: DealTable, start: date, end: date, team: str | None = None) -> CycleStats:
    m = deals.closed_in(start, end, WON, team)
    days = (deals.closed_on[m] - deals.created_on[m]).astype(np.int64).astype(np.float64)
    if not len(days):
        return CycleStats(0, None, None, None)
    q = np.percentile(days, [50, 75, 90])
    return CycleStats(len(days), float(q[0]), float(q[1]), float(q[2]))


def revenue_by_month(deals: DealTable, first: date, last: date, team: str | None = None) -> list[tuple[date, float]]:
    return [(s, won_revenue(deals, s, e, team)) for s, e in spans("month", first, last)]


METRICS: dict[str, Callable[[DealTable, date, date, str | None], float]] = {
    "won_revenue": won_revenue,
    "new_customers": new_customers,
}


# --- against target ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TargetRow:
    metric: str
    start: date
    end: date
    team: str | None  # None: company wide
    value: float


@dataclass(frozen=True)
class Attainment:
    metric: str
    period: str  # month | quarter
    start: date
    end: date
    team: str | None  # None: company wide
    actual: float
    target: float | None
    target_source: str | None  # "set" | "sum of months" | None

    @property
    def attainment(self) -> float | None:
        return self.actual / self.target if self.target else None

    @property
    def gap(self) -> float | None:
        """How much is still missing to reach the target (0 once it is reached)."""
        return max(0.0, self.target - self.actual) if self.target is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "period": self.period, "start": self.start, "end": self.end,
                "team": self.team, "actual": self.actual, "target": self.target,
                "target_source": self.target_source, "attainment": self.attainment, "gap": self.gap}


def find_target(targets: Sequence[TargetRow], metric: str, start: date, end: date,
                team: str | None) -> tuple[float | None, str | None]:
    exact = {(t.metric, t.start, t.end, t.team): t.value for t in targets}
    if (metric, start, end, team) in exact:
        return exact[(metric, start, end, team)], "set"
    months = spans("month", start, end)
    if len(months) > 1 and all((metric, s, e, team) in exact for s, e in months):
        return sum(exact[(metric, s, e, team)] for s, e in months), "sum of months"
    return None, None


def against_targets(deals: DealTable, targets: Sequence[TargetRow], *, metric: str, period: str,
                    first: date, last: date, teams: Sequence[str | None] = (None,)) -> list[Attainment]:
    """One row per period of ``period`` kind from ``first`` to ``last`` and per team (None: company)."""
    if metric not in METRICS:
        raise InvalidInput(f"Unknown metric {metric!r}; use one of {', '.join(METRICS)}.", code="bad_metric")
    measure = METRICS[metric]
    out = []
    for team in teams:
        for s, e in spans(period, first, last):
            value, source = find_target(targets, metric, s, e, team)
            out.append(Attainment(metric, period, s, e, team, float(measure(deals, s, e, team)), value, source))
    return out
