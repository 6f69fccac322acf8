"""Revenue against target, the forecast and its backtest, read from the database (or a Maven CRM export),
or by the analytics engine (the ``*_on`` functions: ``analytics/revenue_table.py`` builds the expressions,
``analytics/revenue_months.py`` assembles the revenue report from the engine's monthly aggregates).

The metrics and the model are in ``domain.revenue``, ``domain.forecast`` and ``domain.forecast_backtest``;
this module only turns rows into their arrays and their results into plain dictionaries. The database
readers (``load_deals``, ``load_stage_history``) are the definitions the engine readers are tested against.

Currency: one currency per installation. Amounts are summed as stored; every report lists the currencies
it saw and carries a warning when there is more than one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.domain.forecast import ForecastConfig, StageHistory, forecast, what_stands_in_the_way
from revteam.domain.forecast_backtest import BASELINES, Backtest, backtest, baseline, forecast_days
from revteam.domain.revenue import (
    NO_TEAM,
    DealTable,
    TargetRow,
    against_targets,
    day,
    find_target,
    new_customers,
    period_span,
    sales_cycle,
    spans,
    win_rate,
    won_revenue,
)
from revteam.analytics import revenue_table as RT
from revteam.errors import InvalidInput
from revteam.store.models import Deal, DealStageChange, Target, Team, User


# --- reading -------------------------------------------------------------------------------------
def _team_names(session: Session) -> tuple[dict[int, str], dict[int, str]]:
    teams = dict(session.execute(select(Team.id, Team.name)).all())
    users = {uid: teams[tid] for uid, tid in session.execute(select(User.id, User.team_id)) if tid in teams}
    return teams, users


def load_deals(session: Session) -> DealTable:
    """Every deal as arrays; the team is the owner's team (``NO_TEAM`` without one)."""
    _, team_of = _team_names(session)
    rows = session.execute(select(Deal.id, Deal.name, Deal.amount, Deal.outcome, Deal.created_on, Deal.closed_on,
                                  Deal.account_id, Deal.owner_id, Deal.stage).order_by(Deal.id)).all()
    return DealTable.build(ids=[r.id for r in rows], name=[r.name for r in rows],
                           amount=[float(r.amount or 0) for r in rows], outcome=[r.outcome for r in rows],
                           created_on=[r.created_on for r in rows], closed_on=[r.closed_on for r in rows],
                           account=[r.account_id for r in rows], team=[team_of.get(r.owner_id) for r in rows],
                           stage=[r.stage for r in rows])


def load_targets(session: Session) -> list[TargetRow]:
    teams, _ = _team_names(session)
    return [TargetRow(t.metric, t.period_start, t.period_end, None if t.team_id is None else teams.get(t.team_id),
                      float(t.value)) for t in session.scalars(select(Target))]


def _currency_note(session: Session) -> dict[str, Any]:
    return currency_note({c for (c,) in session.execute(select(Deal.currency).distinct()) if c})


def currency_note(currencies: Any) -> dict[str, Any]:
    """The currencies seen, sorted, and a warning when there is more than one."""
    seen = sorted(currencies)
    note = (f"Deals are in {len(seen)} currencies ({', '.join(seen)}); amounts are summed as they are, without "
            "conversion. revteam assumes one currency per installation." if len(seen) > 1 else None)
    return {"currencies": seen, "currency_warning": note}


# --- reading on the analytics engine (analytics/revenue_table.py) ---------------------------------
def _dates(col: Any) -> np.ndarray:
    return col.cast(pa.timestamp("us")).to_numpy().astype("datetime64[us]").astype("datetime64[D]")


def deals_from_rows(rows: pa.Table) -> DealTable:
    """``revenue_table.deal_rows`` as the forecast's and the metrics' ``DealTable``."""
    c = {name: rows.column(name) for name in rows.column_names}
    return DealTable.build(ids=c["id"].to_pylist(), name=c["name"].to_pylist(),
                           amount=[float(a or 0) for a in c["amount"].to_pylist()], outcome=c["outcome"].to_pylist(),
                           created_on=_dates(c["created_on"]), closed_on=[None if np.isnat(d) else d
                                                                           for d in _dates(c["closed_on"])],
                           account=c["account_id"].to_pylist(), team=c["team"].to_pylist(),
                           stage=c["stage"].to_pylist())


def history_from_rows(rows: pa.Table, deals: DealTable, today: date) -> StageHistory:
    """``revenue_table.stage_changes`` as ``load_stage_history`` gives them (open deals without any: today)."""
    recorded = StageHistory(np.asarray(rows.column("deal_id").to_numpy(zero_copy_only=False), dtype=np.int64),
                            _dates(rows.column("changed_on")),
                            np.array(rows.column("to_stage").to_pylist(), dtype=object))
    return _with_current(recorded, deals, today)


def load_deals_on(analytics: Any) -> DealTable:
    """``load_deals`` read by the analytics engine (``analytics``: a runner)."""
    got, _fp = analytics.arrow(lambda t: {"deals": RT.deal_rows(t)})
    return deals_from_rows(got["deals"])


def _engine_inputs(analytics: Any, today: date) -> tuple[DealTable, StageHistory, dict[str, Any]]:
    """The deals, their stage history and the currency note, in one engine call."""
    got, _fp = analytics.arrow(lambda t: {"deals": RT.deal_rows(t), "history": RT.stage_changes(t),
                                          "currencies": RT.currencies(t)})
    deals = deals_from_rows(got["deals"])
    return (deals, history_from_rows(got["history"], deals, today),
            currency_note(got["currencies"].column("currency").to_pylist()))


def current_stages(deals: DealTable, today: date) -> StageHistory:
    """Today's stage of every open deal, dated today: known now, unknown for any earlier day."""
    m = (deals.outcome == 0) & np.array([s is not None for s in deals.stage], dtype=bool)
    return StageHistory(deals.ids[m], np.full(int(m.sum()), day(today)), deals.stage[m])


def load_stage_history(session: Session, deals: DealTable, today: date) -> StageHistory:
    """Every recorded stage change (``deal_stage_changes``), plus, for open deals without any, their current
    stage dated ``today`` (``current_stages``): known from today on, never for a day before it.

    The forecast keeps only the moves dated on or before its as-of date (``StageHistory.as_of``).
    """
    rows = session.execute(select(DealStageChange.deal_id, DealStageChange.changed_on, DealStageChange.to_stage)
                           .order_by(DealStageChange.deal_id, DealStageChange.changed_on, DealStageChange.id)).all()
    recorded = StageHistory(np.array([r.deal_id for r in rows], dtype=np.int64),
                            np.array([r.changed_on for r in rows], dtype="datetime64[D]"),
                            np.array([r.to_stage for r in rows], dtype=object))
    return _with_current(recorded, deals, today)


def _with_current(recorded: StageHistory, deals: DealTable, today: date) -> StageHistory:
    now = current_stages(deals, today)
    keep = ~np.isin(now.deal_id, recorded.deal_id)
    return StageHistory(np.concatenate([recorded.deal_id, now.deal_id[keep]]),
                        np.concatenate([recorded.on, now.on[keep]]),
                        np.concatenate([recorded.stage, now.stage[keep]]))


# --- revenue against target ----------------------------------------------------------------------
def revenue_report(session: Session, *, today: date, first: date | None = None, last: date | None = None) -> dict[str, Any]:
    """Won revenue and new customers against target by month, quarter and team, with win rate and cycle."""
    last = last or today
    first = first or period_span("month", (last.replace(day=1) - timedelta(days=330)))[0]
    if first > last:
        raise InvalidInput(f"--from {first} is after --to {last}.", code="revenue_bad_range")
    deals, targets = load_deals(session), load_targets(session)
    teams = sorted({str(t) for t in deals.team}, key=lambda t: (t == NO_TEAM, t))  # "(no team)" last
    months = []
    for s, e in spans("month", first, last):
        cyc = sales_cycle(deals, s, e)
        rev_t, _ = find_target(targets, "won_revenue", s, e, None)
        kpi_t, _ = find_target(targets, "new_customers", s, e, None)
        rev = won_revenue(deals, s, e)
        months.append({"month": s, "won_revenue": rev, "target": rev_t, "attainment": rev / rev_t if rev_t else None,
                       "new_customers": new_customers(deals, s, e), "new_customers_target": kpi_t,
                       "won_deals": cyc.deals, "win_rate": win_rate(deals, s, e), "cycle_median_days": cyc.median})
    q_first, q_last = period_span("quarter", first)[0], last
    whole = sales_cycle(deals, first, period_span("month", last)[1])
    return {
        "from": first, "to": period_span("month", last)[1], "today": today,
        "months": months,
        "quarters": [a.to_dict() for a in against_targets(deals, targets, metric="won_revenue", period="quarter",
                                                           first=q_first, last=q_last)],
        "teams": [a.to_dict() for a in against_targets(deals, targets, metric="won_revenue", period="quarter",
                                                        first=q_first, last=q_last, teams=teams)],
        "unified_kpi": {
            "metric": "new_customers",
            "months": [a.to_dict() for a in against_targets(deals, targets, metric="new_customers", period="month",
                                                             first=first, last=last)],
            "quarters": [a.to_dict() for a in against_targets(deals, targets, metric="new_customers",
                                                               period="quarter", first=q_first, last=q_last)],
            "teams": [a.to_dict() for a in against_targets(deals, targets, metric="new_customers", period="quarter",
                                                            first=q_first, last=q_last, teams=teams)],
        },
        "win_rate": win_rate(deals, first, period_span("month", last)[1]),
        "sales_cycle_days": {"won_deals": whole.deals, "median": whole.median, "p75": whole.p75, "p90": whole.p90},
        "undated_closed_deals": deals.undated,
        **_currency_note(session),
    }


# --- the forecast --------------------------------------------------------------------------------
def forecast_report(session: Session, *, as_of: date, period: str, rng: np.random.Generator,
                    config: ForecastConfig = ForecastConfig(), top: int = 10, today: date | None = None) -> dict[str, Any]:
    """The forecast of the month or quarter holding ``as_of`` (data through the end of that day).

    ``today`` (default: ``as_of``) dates the current stage of open deals without recorded history: a
    forecast as of an earlier day does not know it."""
    deals = load_deals(session)
    return _forecast(deals, load_targets(session), load_stage_history(session, deals, today or as_of),
                     _currency_note(session), as_of=as_of, period=period, rng=rng, config=config, top=top,
                     today=today)


def forecast_report_on(analytics: Any, targets: list[TargetRow], *, as_of: date, period: str,
                       rng: np.random.Generator, config: ForecastConfig = ForecastConfig(), top: int = 10,
                       today: date | None = None) -> dict[str, Any]:
    """``forecast_report`` with the deals and their stage history read by the analytics engine (``analytics``: a
    runner; ``targets``: ``load_targets``, a few rows). The forecast math is the same NumPy on the same arrays."""
    deals, history, note = _engine_inputs(analytics, today or as_of)
    return _forecast(deals, targets, history, note, as_of=as_of, period=period, rng=rng, config=config, top=top,
                     today=today)


def _forecast(deals: DealTable, targets: list[TargetRow], history: StageHistory, note: dict[str, Any], *,
              as_of: date, period: str, rng: np.random.Generator, config: ForecastConfig, top: int,
              today: date | None) -> dict[str, Any]:
    recorded = set(history.as_of(as_of).deal_id.tolist()) - set(current_stages(deals, today or as_of).deal_id.tolist())
    start, end = period_span(period, as_of)
    fc = forecast(deals, as_of=as_of, period_start=start, period_end=end, rng=rng, config=config,
                  stage_history=history)
    target, source = find_target(targets, "won_revenue", start, end, None)
    kpi_target, _ = find_target(targets, "new_customers", start, end, None)
    known = deals.as_of(as_of)
    return {
        "period": period, "period_start": start, "period_end": end, "as_of": as_of,
        "days_left": fc.horizon_days, "history_start": fc.history_start,
        "won_so_far": fc.won_so_far, "expected": fc.expected, "expected_from_open_deals": fc.expected_pipeline,
        "expected_from_new_deals": fc.expected_new, "p10": fc.p10, "p50": fc.p50, "p90": fc.p90,
        "draws": len(fc.totals), "open_deals": len(fc.open), "open_amount": float(fc.open.amount.sum()),
        "target": target, "target_source": source,
        "what_stands_in_the_way": what_stands_in_the_way(fc, target, k=top),
        "unified_kpi": {"metric": "new_customers", "so_far": new_customers(known, start, as_of),
                        "target": kpi_target},
        "baselines": {b: baseline(b, deals, as_of=as_of, period_start=start, period_end=end, kind=period,
                                  history_start=fc.history_start or start) for b in BASELINES},
        "learned": fc.learned.to_dict() if fc.learned else None,
        "stages": {"open_deals_with_a_known_stage": int(sum(st is not None for st in fc.open_stage)),
                   "deals_with_recorded_history": len(recorded)},
        "spread": None if fc.spread is None else {
            "method": fc.spread.method,
            "window_error": None if fc.spread.tau2 is None else float(np.sqrt(fc.spread.tau2)),
            "measured_on": fc.spread.tau2_from},
        **note,
    }


# --- backtests -----------------------------------------------------------------------------------
def backtest_database(session: Session, *, today: date, rng: np.random.Generator,
                      config: ForecastConfig = ForecastConfig()) -> Backtest:
    """Backtest on this database: forecasts made on the 1st and 15th of every month whose period has ended."""
    deals = load_deals(session)
    if not len(deals):
        raise InvalidInput("There are no deals to backtest on; import deals or build the demo first.",
                           code="backtest_no_deals")
    return _backtest(deals, load_stage_history(session, deals, today), today=today, rng=rng, config=config)


def backtest_on(analytics: Any, *, today: date, rng: np.random.Generator,
                config: ForecastConfig = ForecastConfig()) -> Backtest:
    """``backtest_database`` with the deals and their stage history read by the analytics engine."""
    deals, history, _note = _engine_inputs(analytics, today)
    return _backtest(deals, history, today=today, rng=rng, config=config)


def _backtest(deals: DealTable, history: StageHistory, *, today: date, rng: np.random.Generator,
              config: ForecastConfig) -> Backtest:
    if not len(deals):
        raise InvalidInput("There are no deals to backtest on; import deals or build the demo first.",
                           code="backtest_no_deals")
    first = min(deals.created_on).astype(object)
    return backtest(deals, forecast_days(first, today), rng=rng, config=config, data_end=today - timedelta(days=1),
                    stage_history=history)


@dataclass(frozen=True)
class MavenDeals:
    deals: DealTable
    left_out: dict[str, int]


def deals_from_maven(directory: Path) -> MavenDeals:
    """The Maven Analytics "CRM + Sales + Opportunities" export as deals (see docs/forecast.md).

    engage_date is the created date, close_date the closed date, deal_stage Won/Lost the outcome and
    Engaging/Prospecting an open deal; a won deal's amount is its close_value. An open or lost deal has
    no value of its own (blank, or 0 when lost), so its amount is the product's list price, and so is
    every deal's open amount (what the pipeline showed before the close). Prospecting deals have no
    engage date and cannot be placed in time: they are left out. The team is the agent's regional office.
    """
    directory = Path(directory)
    need = ("sales_pipeline.csv", "products.csv", "sales_teams.csv")
    missing = [n for n in need if not (directory / n).exists()]
    if missing:
        raise InvalidInput(f"{directory} is not the Maven CRM export: {', '.join(missing)} missing.",
                           code="maven_not_found")

    def rows(name: str) -> list[dict[str, str]]:
        with open(directory / name, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))

    def key(product: str) -> str:
        return product.replace(" ", "").lower()  # the pipeline spells "GTX Pro" as "GTXPro"

    price = {key(p["product"]): float(p["sales_price"]) for p in rows("products.csv")}
    office = {t["sales_agent"]: t["regional_office"] for t in rows("sales_teams.csv")}
    accounts: dict[str, int] = {}
    cols: dict[str, list[Any]] = {k: [] for k in ("name", "amount", "open_amount", "outcome", "created_on",
                                                  "closed_on", "account", "team", "stage")}
    left_out = {"no_engage_date": 0}
    for r in rows("sales_pipeline.csv"):
        if not r["engage_date"]:
            left_out["no_engage_date"] += 1
            continue
        stage = r["deal_stage"]
        outcome = {"Won": "won", "Lost": "lost"}.get(stage, "open")
        list_price = price.get(key(r["product"]))
        if list_price is None:
            raise InvalidInput(f"Opportunity {r['opportunity_id']}: unknown product {r['product']!r}.",
                               code="maven_bad_row")
        cols["name"].append(f"{r['opportunity_id']} {r['product']} ({r['account'] or 'no account'})")
        cols["amount"].append(float(r["close_value"]) if outcome == "won" else list_price)
        cols["open_amount"].append(list_price)
        cols["outcome"].append(outcome)
        cols["created_on"].append(r["engage_date"])
        cols["closed_on"].append(r["close_date"] or None)
        cols["account"].append(accounts.setdefault(r["account"], len(accounts) + 1) if r["account"] else None)
        cols["team"].append(office.get(r["sales_agent"], NO_TEAM))
        cols["stage"].append(stage)
    return MavenDeals(DealTable.build(**cols), left_out)


def backtest_maven(directory: Path, *, rng: np.random.Generator, config: ForecastConfig = ForecastConfig()) -> Backtest:
    deals = deals_from_maven(directory).deals
    closes = deals.closed_on[~np.isnat(deals.closed_on)]
    first, last = min(deals.created_on).astype(object), closes.max().astype(object)
    return backtest(deals, forecast_days(first, last), rng=rng, config=config, data_end=last)
