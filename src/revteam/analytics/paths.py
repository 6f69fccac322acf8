"""Attribution journeys built by the analytics engine: Ibis expressions turn the snapshot's touches, deals
and stage changes into the ordered touch rows of every journey; the exact model math (``domain/attribution``:
``Journeys.build``, Markov, Shapley ...) then runs on those rows in NumPy.

What runs where
    The engine (DuckDB in process, or Spark) does the scan: it joins the deals to their contacts and the
    contacts to their touches inside each journey's window, finds each contact's first lead move and first
    deal, flags the milestone touches and orders the rows by journey and time. What comes back is one row
    per touch of a journey (journey id, touch id, time, key, direct flag, lead and opportunity flags) plus
    the few per-journey facts (the deals, or the contacts who converted). NumPy numbers the keys by first
    appearance and hands the arrays to ``Journeys.build`` in order (its sorted fast path: no copy).

Definitions
    Exactly those of ``analytics/attribution.py`` (won-revenue journeys) and ``analytics/stage_journeys.py``
    (conversions to a stage): the same journeys, touches, milestones, subjects, key order and unattributed
    list, tested equal on hand-made companies, a random one and the Olist data, on DuckDB and Spark
    (``tests/analytics/test_paths.py``). The milestone flags are prefixes of a time-ordered journey (a touch
    at or before the lead creation, before the end of the deal's creation day), so the milestone is the
    last flagged touch: ``start + count - 1``.

Worked example
    The "Acme platform" deal of ``analytics/attribution.py``: the engine returns its five touches in time
    order (ads, webinar, email, demo, email) with lead flags (1, 1, 0, 0, 0) and opportunity flags
    (1, 1, 1, 1, 0): lead milestone = touch 1 (the webinar), opportunity = touch 3 (the demo).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from revteam.analytics.attribution import (DEFAULT_LOOKBACK_DAYS, LEAD_STAGES, NONE_KEY, JourneySet, _check,
                                           check_period)
from revteam.analytics.stage_journeys import EPOCH, at_or_beyond, check_stage_question
from revteam.domain.attribution import Journeys
from revteam.domain.lifecycle import DEFAULT_STAGES, StageSet

_DAY = ibis.interval(days=1)


# --- expressions -----------------------------------------------------------------------------------
def _naive(d: date | datetime) -> Any:
    """A day or an aware time as the snapshot stores times: a naive UTC timestamp literal."""
    if isinstance(d, datetime):
        d = d.astimezone(timezone.utc).replace(tzinfo=None)
    else:
        d = datetime.combine(d, time(0))
    return ibis.timestamp(d.isoformat())


def _touch_columns(tp: Any, grain: str, direct_channels: tuple[str, ...]) -> dict[str, Any]:
    """The key of a touch at ``grain`` (channel text, "" for none; or a campaign / content id, -1 for none) and
    whether it came in through a direct channel."""
    if grain == "channel":
        key = tp.channel.fill_null("")
    else:
        key = (tp.campaign_id if grain == "campaign" else tp.content_id).fill_null(-1).cast("int64")
    direct = tp.channel.isin(list(direct_channels)).fill_null(False) if direct_channels else ibis.literal(False)
    return {"key": key, "direct": direct}


def _first_lead(sc: Any) -> Any:
    """Each contact's first move to lead or MQL (``lead_at``)."""
    lead = sc.filter(sc.to_stage.isin(list(LEAD_STAGES)))
    return lead.group_by("contact_id").aggregate(lead_at=lead.changed_at.min())


def closed_deals(t: dict[str, Any], start: date | None, end: date | None, include_lost: bool = True) -> Any:
    """The deals closed in [start, end] (days, inclusive) that journeys are built for (unordered: ORDER BY only
    ever at the outermost query)."""
    deals = t["deals"]
    d = deals.filter(deals.outcome.isin(["won", "lost"] if include_lost else ["won"]) & deals.closed_on.notnull())
    if start is not None:
        d = d.filter(d.closed_on >= _naive(start))
    if end is not None:
        d = d.filter(d.closed_on <= _naive(end))
    return d.select("id", "name", "outcome", "amount", "currency", "closed_on", "created_on", "source",
                    "campaign_id")


def revenue_touches(t: dict[str, Any], *, grain: str, start: date | None, end: date | None,
                    lookback_days: int = DEFAULT_LOOKBACK_DAYS, direct_channels: tuple[str, ...] = ("direct",),
                    include_lost: bool = True) -> Any:
    """One row per touch of a closed deal's journey, ordered by (close date, deal, time, touch id): ``journey``
    (the deal id), ``touch_id``, ``at``, ``key``, ``direct``, ``lead`` (at or before the earliest lead move of
    the deal's contacts), ``opportunity`` (before the end of the deal's creation day)."""
    deals, dc, tp = closed_deals(t, start, end, include_lost), t["deal_contacts"], t["touchpoints"]
    members = deals.join(dc, deals.id == dc.deal_id).select(
        deal_id=deals.id, contact_id=dc.contact_id, closed_on=deals.closed_on, created_on=deals.created_on)
    first = _first_lead(t["stage_changes"])
    ml = members.join(first, members.contact_id == first.contact_id).select(deal_id=members.deal_id,
                                                                          lead_at=first.lead_at)
    deal_lead = ml.group_by("deal_id").aggregate(lead_at=ml.lead_at.min())
    j = members.join(tp, [members.contact_id == tp.contact_id,
                          tp.occurred_at >= members.closed_on - ibis.interval(days=lookback_days),
                          tp.occurred_at < members.closed_on + _DAY])
    j = j.select(journey=members.deal_id, closed_on=members.closed_on, created_on=members.created_on, touch_id=tp.id,
                 at=tp.occurred_at, **_touch_columns(tp, grain, direct_channels))
    j = j.left_join(deal_lead, j.journey == deal_lead.deal_id)
    rows = j.select(
        "journey", "closed_on", "touch_id", "at", "key", "direct",
        lead=(deal_lead.lead_at.notnull() & (j.at <= deal_lead.lead_at)).fill_null(False),
        opportunity=(j.created_on.notnull() & (j.at < j.created_on + _DAY)).fill_null(False))
    return rows.order_by(["closed_on", "journey", "at", "touch_id"])


def stage_candidates(t: dict[str, Any], *, reached_by: tuple[str, ...], start: datetime, end: datetime,
                     lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> tuple[Any, Any]:
    """(converting, candidates): the contacts who first reached a stage of ``reached_by`` in [start, end)
    (``contact_id``, ``at``), and those plus the contacts touched in the window before ``end`` who had not
    reached it by then (``at`` = end), with ``converted``."""
    sc, tp = t["stage_changes"], t["touchpoints"]
    s, e, w = _naive(start), _naive(end), ibis.interval(days=lookback_days)
    moves = sc.filter(sc.to_stage.isin(list(reached_by)))
    reach = moves.group_by("contact_id").aggregate(reached_at=moves.changed_at.min())
    conv = reach.filter((reach.reached_at >= s) & (reach.reached_at < e)).select(
        "contact_id", at=reach.reached_at, converted=ibis.literal(True))
    window = tp.filter((tp.occurred_at >= s - w) & (tp.occurred_at < e))
    touched = window.select("contact_id").distinct()
    tr = touched.left_join(reach, touched.contact_id == reach.contact_id).select(
        contact_id=touched.contact_id, reached_at=reach.reached_at)
    stayed = tr.filter(tr.reached_at.isnull() | (tr.reached_at >= e)).select(
        "contact_id", at=e.cast(conv.at.type()), converted=ibis.literal(False))
    return conv, ibis.union(conv, stayed)


def stage_touches(t: dict[str, Any], *, reached_by: tuple[str, ...], grain: str, start: datetime, end: datetime,
                  lookback_days: int = DEFAULT_LOOKBACK_DAYS, direct_channels: tuple[str, ...] = ("direct",)) -> Any:
    """One row per touch of a stage-conversion journey, ordered by (contact, time, touch id): ``journey`` (the
    contact id), ``touch_id``, ``at``, ``key``, ``direct``, ``lead`` (at or before the contact's first lead
    move, when that came no later than the journey's end), ``opportunity`` (before the end of the creation day
    of the contact's first deal, when created no later than the journey's end), ``converted``, ``reached``."""
    tp, dc, deals = t["touchpoints"], t["deal_contacts"], t["deals"]
    e, w = _naive(end), ibis.interval(days=lookback_days)
    _conv, cand = stage_candidates(t, reached_by=reached_by, start=start, end=end, lookback_days=lookback_days)
    lead = _first_lead(t["stage_changes"])
    member = dc.join(deals, dc.deal_id == deals.id).select(contact_id=dc.contact_id, created_on=deals.created_on)
    opened = member.group_by("contact_id").aggregate(opened_on=member.created_on.min())
    c = cand.left_join(lead, cand.contact_id == lead.contact_id).select(
        cand.contact_id, cand.at, cand.converted, lead_at=lead.lead_at)
    c = c.left_join(opened, c.contact_id == opened.contact_id).select(
        c.contact_id, c.at, c.converted, c.lead_at, opened_on=opened.opened_on)
    c = c.select("contact_id", "at", "converted",
                 lead_at=ibis.cases((c.lead_at <= c.at, c.lead_at), else_=ibis.null(c.lead_at.type())),
                 opp_by=ibis.cases((c.opened_on <= c.at, c.opened_on + _DAY), else_=ibis.null(c.at.type())))
    j = c.join(tp, [c.contact_id == tp.contact_id, tp.occurred_at >= c.at - w, tp.occurred_at <= c.at,
                    tp.occurred_at < e])
    rows = j.select(journey=c.contact_id, touch_id=tp.id, at=tp.occurred_at, **_touch_columns(tp, grain, direct_channels),
                    lead=(c.lead_at.notnull() & (tp.occurred_at <= c.lead_at)).fill_null(False),
                    opportunity=(c.opp_by.notnull() & (tp.occurred_at < c.opp_by)).fill_null(False),
                    converted=c.converted, reached=c.at)
    return rows.order_by(["journey", "at", "touch_id"])


def _labels_expr(t: dict[str, Any], grain: str) -> Any | None:
    if grain == "campaign":
        return t["campaigns"].select(id=t["campaigns"].id, label=t["campaigns"].name)
    if grain == "content":
        return t["content"].select(id=t["content"].id, label=t["content"].title)
    return None


# --- from the engine's rows to a JourneySet ------------------------------------------------------------
def _micros(col: pa.ChunkedArray) -> np.ndarray:
    return col.cast(pa.timestamp("us")).to_numpy().astype("datetime64[us]").astype(np.int64)


def _numbers(col: pa.ChunkedArray, dtype: Any) -> np.ndarray:
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=dtype)


def _runs(journey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For touch rows grouped by journey id: per row its journey index, and per journey its id and first row."""
    if not len(journey):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    new = np.ones(len(journey), dtype=bool)
    new[1:] = journey[1:] != journey[:-1]
    starts = np.flatnonzero(new)
    return np.cumsum(new) - 1, journey[starts], starts


def _milestone(flag: np.ndarray, index: np.ndarray, starts: np.ndarray) -> np.ndarray:
    count = np.bincount(index, weights=flag, minlength=len(starts)).astype(np.int64)
    return np.where(count > 0, starts + count - 1, -1)


def _keys(key: pa.ChunkedArray, grain: str) -> tuple[np.ndarray, list[str]]:
    """Per touch the index of its key, keys numbered by first appearance (as the database builders do)."""
    if not len(key):
        return np.zeros(0, dtype=np.int64), []
    coded = pc.dictionary_encode(key.combine_chunks())
    codes = coded.indices.to_numpy().astype(np.int64)
    values = coded.dictionary.to_pylist()
    first = np.full(len(values), len(codes), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)  # the last write wins: each code's first touch
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    if grain == "channel":
        keys = [values[int(c)] or NONE_KEY for c in order]
    else:
        keys = [NONE_KEY if values[int(c)] < 0 else str(values[int(c)]) for c in order]
    return rank[codes], keys


def _labels(table: pa.Table | None, keys: list[str]) -> dict[str, str]:
    if table is None:
        return {}
    wanted = {k for k in keys if k != NONE_KEY}
    return {str(i): label for i, label in zip(table.column("id").to_pylist(), table.column("label").to_pylist())
            if str(i) in wanted}


def _journeys(rows: pa.Table, grain: str, conversions: np.ndarray, value: np.ndarray,
              index: np.ndarray, starts: np.ndarray) -> Journeys:
    key, keys = _keys(rows.column("key"), grain)
    return Journeys.build(index, key, keys=keys, conversions=conversions, value=value,
                          time=_micros(rows.column("at")) / 1e6, direct=_numbers(rows.column("direct"), bool),
                          lead=_milestone(_numbers(rows.column("lead"), bool), index, starts),
                          opportunity=_milestone(_numbers(rows.column("opportunity"), bool), index, starts))


def _in_order(rows: pa.Table, names: tuple[str, ...]) -> pa.Table:
    """The rows sorted by ``names``: checked in one pass, sorted only if the engine did not keep its ORDER BY
    (DuckDB and Spark keep it)."""
    if rows.num_rows < 2:
        return rows
    undecided = np.ones(rows.num_rows - 1, dtype=bool)
    backwards = np.zeros(rows.num_rows - 1, dtype=bool)
    for n in names:
        col = rows.column(n)
        c = _micros(col) if pa.types.is_timestamp(col.type) else _numbers(col, np.int64)
        up, down = c[1:] > c[:-1], c[1:] < c[:-1]
        backwards |= undecided & down
        undecided &= ~(up | down)
    return rows.sort_by([(n, "ascending") for n in names]) if backwards.any() else rows


# --- the questions -------------------------------------------------------------------------------------
def revenue_journeys_on(analytics: Any, *, grain: str = "channel", start: date | None = None,
                        end: date | None = None, lookback_days: int = DEFAULT_LOOKBACK_DAYS,
                        direct_channels: tuple[str, ...] = ("direct",), include_lost: bool = True) -> JourneySet:
    """``attribution.revenue_journeys`` with the scan on the analytics engine (``analytics``: a runner)."""
    got, deals, rows, j, touched = _revenue(analytics, grain, start, end, lookback_days, direct_channels, include_lost)
    won_left = pa.array(~touched & (_strings(deals.column("outcome")) == "won"))
    unattributed = [{**d, "reason": f"no touch of its contacts in the {lookback_days} days before its close on "
                                    f"{d['closed_on'].isoformat()}"} for d in _deal_subjects(deals.filter(won_left))]
    return JourneySet(j, grain, _labels(got.get("labels"), list(j.keys)), _deal_subjects(deals.filter(pa.array(touched))),
                      _numbers(rows.column("touch_id"), np.int64).tolist(), unattributed)


def revenue_paths_on(analytics: Any, *, grain: str = "channel", start: date | None = None, end: date | None = None,
                     lookback_days: int = DEFAULT_LOOKBACK_DAYS, direct_channels: tuple[str, ...] = ("direct",),
                     include_lost: bool = True) -> tuple[Journeys, np.ndarray]:
    """The same journeys as arrays only: ``Journeys`` and each touch's id, without the per-deal subject dicts
    and labels a page shows (about 1 KB per deal in Python objects: what every model needs, at any size)."""
    _got, _deals, rows, j, _touched = _revenue(analytics, grain, start, end, lookback_days, direct_channels,
                                               include_lost)
    return j, _numbers(rows.column("touch_id"), np.int64)


def _revenue(analytics: Any, grain: str, start: date | None, end: date | None, lookback_days: int,
             direct_channels: tuple[str, ...], include_lost: bool) -> tuple[Any, pa.Table, pa.Table, Journeys, Any]:
    """(the engine's results, the closed deals, the touch rows, the journeys, which deals have a journey)."""
    _check(grain, lookback_days)
    check_period(start, end)

    def build(t: dict[str, Any]) -> dict[str, Any]:
        out = {"deals": closed_deals(t, start, end, include_lost).order_by(["closed_on", "id"]),
               "touches": revenue_touches(t, grain=grain, start=start, end=end, lookback_days=lookback_days,
                                          direct_channels=direct_channels, include_lost=include_lost)}
        labels = _labels_expr(t, grain)
        return out if labels is None else {**out, "labels": labels}

    got, _fp = analytics.arrow(build)
    deals = _in_order(got["deals"], ("closed_on", "id"))
    rows = _in_order(got["touches"], ("closed_on", "journey", "at", "touch_id"))
    index, ids, starts = _runs(_numbers(rows.column("journey"), np.int64))
    # deals and touches are in the same (close, id) order: the touched deals, in order, are the journeys
    touched = np.isin(_numbers(deals.column("id"), np.int64), ids)
    mine = deals.filter(pa.array(touched))
    won = _strings(mine.column("outcome")) == "won"
    conv = won.astype(np.float64)
    value = np.where(won, _numbers(pc.fill_null(mine.column("amount"), 0.0), np.float64), 0.0)
    return got, deals, rows, _journeys(rows, grain, conv, value, index, starts), touched


def _strings(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(col, "").to_numpy(zero_copy_only=False), dtype=object)


def _deal_subjects(deals: pa.Table) -> list[dict[str, Any]]:
    """The subject of each deal's journey, as ``attribution.revenue_journeys`` lists them (dates as dates)."""
    c = {n: deals.column(n) for n in ("id", "name", "outcome", "amount", "currency", "source", "campaign_id")}
    days = {n: deals.column(n).cast(pa.timestamp("us")).to_numpy().astype("datetime64[D]").astype(object).tolist()
            for n in ("closed_on", "created_on")}  # NumPy makes dates ten times faster than Arrow's to_pylist
    cols = [c[n].to_pylist() for n in c]
    amounts = [float(a) for a in cols[3]]
    return [{"kind": "deal", "id": i, "name": name, "outcome": outcome, "amount": amount, "currency": currency,
             "closed_on": closed, "created_on": created, "source": source, "campaign_id": campaign}
            for i, name, outcome, amount, currency, source, campaign, closed, created
            in zip(cols[0], cols[1], cols[2], amounts, cols[4], cols[5], cols[6], days["closed_on"], days["created_on"])]


def stage_set_on(analytics: Any) -> StageSet:
    """The installation's stages from the snapshot (the defaults when none are configured)."""
    got, _fp = analytics.arrow(lambda t: {"stages": t["lifecycle_stages"]})
    rows = sorted(got["stages"].to_pylist(), key=lambda r: r["position"])
    if not rows:
        return DEFAULT_STAGES
    return StageSet(tuple(r["key"] for r in rows if r["kind"] == "main"),
                    tuple(r["key"] for r in rows if r["kind"] == "side"))


def stage_journeys_on(analytics: Any, stage: str, *, grain: str = "channel", start: datetime, end: datetime,
                      lookback_days: int = DEFAULT_LOOKBACK_DAYS, direct_channels: tuple[str, ...] = ("direct",),
                      stages: StageSet | None = None) -> JourneySet:
    """``stage_journeys.stage_journeys`` with the scan on the analytics engine (``analytics``: a runner)."""
    _check(grain, lookback_days)
    stages = stages or stage_set_on(analytics)
    check_stage_question(stages, stage, start, end)
    reached_by = at_or_beyond(stages, stage)

    def build(t: dict[str, Any]) -> dict[str, Any]:
        conv, _cand = stage_candidates(t, reached_by=reached_by, start=start, end=end, lookback_days=lookback_days)
        out = {"converting": conv.select("contact_id", "at"),
               "touches": stage_touches(t, reached_by=reached_by, grain=grain, start=start, end=end,
                                        lookback_days=lookback_days, direct_channels=direct_channels)}
        labels = _labels_expr(t, grain)
        return out if labels is None else {**out, "labels": labels}

    got, _fp = analytics.arrow(build)
    rows = _in_order(got["touches"], ("journey", "at", "touch_id"))
    index, ids, starts = _runs(_numbers(rows.column("journey"), np.int64))
    converted = _numbers(rows.column("converted"), bool)[starts] if len(starts) else np.zeros(0, dtype=bool)
    reached = _micros(rows.column("reached"))[starts] if len(starts) else np.zeros(0, dtype=np.int64)
    conv = converted.astype(np.float64)
    j = _journeys(rows, grain, conv, conv, index, starts)
    subjects = [{"kind": "contact", "id": int(c), "reached": _when(a) if ok else None}
                for c, a, ok in zip(ids.tolist(), reached.tolist(), converted.tolist())]
    conv_rows = got["converting"]
    conv_c, conv_t = _numbers(conv_rows.column("contact_id"), np.int64), _micros(conv_rows.column("at"))
    order = np.argsort(conv_c)
    missing = ~np.isin(conv_c[order], ids)
    unattributed = [{"kind": "contact", "id": int(c), "reached": _when(a),
                     "reason": f"no touch in the {lookback_days} days before reaching {stage} on {_when(a):%Y-%m-%d}"}
                    for c, a in zip(conv_c[order][missing].tolist(), conv_t[order][missing].tolist())]
    return JourneySet(j, grain, _labels(got.get("labels"), list(j.keys)), subjects,
                      _numbers(rows.column("touch_id"), np.int64).tolist(), unattributed)


def _when(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))
