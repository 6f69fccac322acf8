"""Revenue against target and the forecast's inputs, read by the analytics engine: Ibis builders over the
snapshot's deals, users, teams and deal stage changes (``analytics/revenue.py`` assembles the reports).

What runs where
    The engine aggregates the deals: won revenue, won and closed deal counts per calendar month and team;
    each account's first won deal (a window over the account's won deals) counted as a new customer in its
    month and team; sales-cycle quantiles (median, p75, p90: linear interpolation, as NumPy's default) per
    month and over the report's whole range; undated closed deals; the currencies seen. Quarters and team
    quarters are sums of their months (every metric here but the cycle adds up over months). Targets are a
    handful of rows and stay in Python (``domain.revenue.find_target``). The forecast reads its deal table
    (one row per deal, with its owner's team) and the recorded stage history here; its math is NumPy on
    those arrays (``domain/forecast``).

Definitions
    Those of ``domain/revenue.py``, tested equal to it (``tests/analytics/test_revenue_table.py``): a deal
    belongs to its owner's team (``NO_TEAM`` without one); a new customer is an account whose first won
    deal (earliest close, then lowest id) closes in the period, credited to that deal's team; the cycle is
    ``closed_on - created_on`` in days of the deals won in the period.

Worked example (``tests/integration/test_revenue_service.py``, first quarter of 2026)
    March: won 5,000 (Acme, Ana's team Americas) and 8,000 (Birch, EMEA), Cobalt lost: the month row
    Americas has won_revenue 5,000, won 1, closed 1; EMEA won 8,000, won 1, closed 2; new customers:
    EMEA 1 (Birch; Acme first won in February); cycle of March: 28 and 30 days, median 29.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import ibis

from revteam.domain.revenue import NO_TEAM

QUANTILES = (0.5, 0.75, 0.9)


def _day(d: date) -> Any:
    return ibis.timestamp(datetime.combine(d, time(0)).isoformat())


def deal_rows(t: dict[str, Any]) -> Any:
    """Every deal with its owner's team name (null without one), by id: what ``domain.revenue.DealTable`` holds."""
    return _deals(t).order_by("id")


def _deals(t: dict[str, Any]) -> Any:
    """``deal_rows`` unordered: ORDER BY only at the outermost query (ibis 12 on Spark carries an inner sort key
    into a later DISTINCT)."""
    deals, users, teams = t["deals"], t["users"], t["teams"]
    owned = deals.left_join(users, deals.owner_id == users.id).select(
        *[deals[c] for c in ("id", "name", "amount", "outcome", "created_on", "closed_on", "account_id", "stage",
                             "currency")], team_id=users.team_id)
    named = owned.left_join(teams, owned.team_id == teams.id).select(
        *[owned[c] for c in ("id", "name", "amount", "outcome", "created_on", "closed_on", "account_id", "stage",
                             "currency")], team=teams.name)
    return named


def stage_changes(t: dict[str, Any]) -> Any:
    """The recorded deal stage changes, by (deal, day, id)."""
    sc = t["deal_stage_changes"]
    return sc.select("deal_id", "changed_on", "to_stage", "id").order_by(["deal_id", "changed_on", "id"])


def _closed(t: dict[str, Any]) -> Any:
    """Won and lost deals with a close date, with ``team`` (``NO_TEAM`` without one) and cycle ``days``."""
    d = _deals(t)
    d = d.filter(d.outcome.isin(["won", "lost"]) & d.closed_on.notnull())
    return d.mutate(team=d.team.fill_null(NO_TEAM), amount=d.amount.fill_null(0.0),
                    days=((d.closed_on.epoch_seconds() - d.created_on.epoch_seconds()) / 86400.0).cast("float64"))


def _between(col: Any, start: date, end: date) -> Any:
    return (col >= _day(start)) & (col <= _day(end))


def monthly(t: dict[str, Any], start: date, end: date) -> Any:
    """Per (month, team) with a closed deal in [start, end]: ``won_revenue``, ``won_deals``, ``closed_deals``."""
    d = _closed(t)
    d = d.filter(_between(d.closed_on, start, end))
    d = d.mutate(month=d.closed_on.truncate("M"))
    won = d.outcome == "won"
    return d.group_by(["month", "team"]).aggregate(
        won_revenue=d.amount.sum(where=won), won_deals=d.count(where=won), closed_deals=d.count())


def new_customers(t: dict[str, Any], start: date, end: date) -> Any:
    """Per (month, team): the accounts whose first won deal (earliest close, then lowest id) closed in that month,
    within [start, end], credited to that deal's team."""
    d = _closed(t)
    d = d.filter((d.outcome == "won") & d.account_id.notnull())
    first = d.mutate(n=ibis.row_number().over(group_by=d.account_id, order_by=[d.closed_on, d.id]))
    first = first.filter((first.n == 0) & _between(first.closed_on, start, end))
    first = first.mutate(month=first.closed_on.truncate("M"))
    return first.group_by(["month", "team"]).aggregate(new_customers=first.count())


def cycles(t: dict[str, Any], start: date, end: date) -> Any:
    """Per month of [start, end]: how many deals were won and their cycle's median, p75 and p90 in days."""
    d = _closed(t)
    d = d.filter((d.outcome == "won") & _between(d.closed_on, start, end))
    d = d.mutate(month=d.closed_on.truncate("M"))
    return d.group_by("month").aggregate(won_deals=d.count(), q=d.days.quantile(list(QUANTILES)))


def whole(t: dict[str, Any], start: date, end: date) -> Any:
    """Over [start, end] (any days): won and closed deal counts and the cycle's quantiles."""
    d = _closed(t)
    d = d.filter(_between(d.closed_on, start, end))
    won = d.outcome == "won"
    return d.aggregate(won_deals=d.count(where=won), closed_deals=d.count(),
                       q=d.days.quantile(list(QUANTILES), where=won))


def undated(t: dict[str, Any]) -> Any:
    """How many won or lost deals have no close date (one row)."""
    deals = t["deals"]
    return deals.aggregate(undated=deals.count(where=deals.outcome.isin(["won", "lost"]) & deals.closed_on.isnull()))


def currencies(t: dict[str, Any]) -> Any:
    """The currencies the deals are in."""
    deals = t["deals"]
    return deals.filter(deals.currency.notnull() & (deals.currency != "")).select("currency").distinct()


def teams(t: dict[str, Any]) -> Any:
    """The teams deals belong to (``NO_TEAM`` for deals without one)."""
    d = _deals(t)
    return d.select(team=d.team.fill_null(NO_TEAM)).distinct()
