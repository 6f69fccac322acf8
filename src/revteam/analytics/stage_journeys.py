"""Stage-conversion journeys: crediting conversions to a lifecycle stage, not only won revenue (PRODUCT.md R9).

Definition (``docs/attribution.md``, "Conversions of any stage")
    The period is [start, end) (UTC). A contact *reaches* ``stage`` the first time it enters it or any later
    main stage (the funnel's definition, docs/metrics/funnel.md: a lead qualified straight to SQL has passed
    MQL). A *conversion* is that moment when it falls in the period; its journey is the contact's touches from ``lookback_days`` (365) before that move
    up to the move itself, in time order, value 1 (a count). A contact with touches in the window before the
    period's end (from ``start - lookback_days`` up to ``end``) that had not reached the stage by ``end`` is a
    *non-conversion*: its touches in the ``lookback_days`` before ``end`` (Markov and Shapley learn from
    them; the rule-based models ignore them). Contacts who reached the stage before the period are neither.
    A conversion with no touch in its window is *unattributed*: listed, never credited.
    Milestones: lead creation = the last touch at or before the contact's first move to ``lead`` or ``mql``
    (when that came no later than the conversion); opportunity creation = the last touch before the end of
    the day the contact's first deal was created (when that day ended no later than a day after the
    conversion). First and last touch are the journey's ends, so U-shaped credits first touch and the
    conversion touch.
    Only main stages convert: a side state (``recycled``, ``disqualified``) is a step out of the funnel,
    and an unknown stage is an error; so is a period that ends before it starts.

How it is computed
    Columns, not loops: ``StageData`` holds every touch (sorted by contact, time, id), every stage change and
    each contact's first deal, as NumPy arrays; ``build_stage_journeys`` cuts the journeys of one stage and
    period out of them with array operations (a few tens of milliseconds for 400,000 touches).
    ``stage_journeys`` reads only the touches the period needs from the database; the attribution cache
    (``analytics/attribution_cache.py``) makes one ``StageData`` per data fingerprint from the analytics
    snapshot's Arrow tables (already in memory) and cuts every stage and period from it.

Worked example (``tests/integration/test_attribution_service.py``)
    Ana: ads 01-05, webinar 01-12 (a lead at 11:00 that day), MQL on 01-20 at noon; Ben: email 01-20 and
    03-01; Cleo: ads 02-02, email 02-09; neither becomes an MQL. Conversions to ``mql`` in January to March:
    one journey, ads → webinar [lead], converting; Ben and Cleo are non-conversions. U-shaped credits ads
    and webinar half a conversion each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revteam.domain.lifecycle import StageSet
from revteam.errors import InvalidInput
from revteam.analytics.attribution import (DEFAULT_LOOKBACK_DAYS, LEAD_STAGES, NONE_KEY, JourneySet, _check, _labels,
                                          check_period)
from revteam.domain.attribution import Journeys
from revteam.store.models import Deal, DealContact, StageChange, Touchpoint

DEFAULT_PERIOD_DAYS = 90  # the CLI and the page credit the conversions of the last 90 days unless told
US_PER_DAY = 86_400_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NEVER = 2**62  # "no such time": far from int64's ends, so adding a day or a window cannot wrap


def check_stage(stages: StageSet, stage: str) -> None:
    """A main stage of the installation, or a clear error."""
    if stage in stages.side:
        raise InvalidInput(f"{stage!r} is a side state, a step out of the funnel, not a conversion; credit a main "
                           f"stage: {', '.join(stages.main)}.", code="bad_attribution_stage")
    if stage not in stages.main:
        raise InvalidInput(f"Unknown stage {stage!r}; credit conversions to one of: {', '.join(stages.main)}.",
                           code="bad_attribution_stage")


def check_stage_question(stages: StageSet, stage: str, start: datetime, end: datetime) -> None:
    """A conversion question names a main stage and a period that ends after it starts."""
    check_stage(stages, stage)
    if end <= start:
        raise InvalidInput(f"The period must end after it starts ({start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}).",
                           code="bad_attribution_period")


def at_or_beyond(stages: StageSet, stage: str) -> tuple[str, ...]:
    """The main stages whose entry means a contact has reached ``stage``: it and every later one."""
    return stages.main[stages.main.index(stage):]


def stage_period(start: date | None, end: date | None, today: date, *,
                 days: int = DEFAULT_PERIOD_DAYS) -> tuple[date, date]:
    """The first and last day (inclusive) of a stage question: ``days`` days up to ``end`` (default: today)."""
    check_period(start, end)
    end = end or (max(today, start) if start else today)
    return start or end - timedelta(days=days - 1), end


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end] as days → [start 00:00, the day after end 00:00) in UTC."""
    return (datetime.combine(start, time(0), tzinfo=timezone.utc),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=timezone.utc))


def _us(dt: datetime) -> int:
    return (dt - EPOCH) // timedelta(microseconds=1)


def _when(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


@dataclass(frozen=True, eq=False)
class StageData:
    """What stage journeys are cut from, as columns. Times are microseconds since 1970 (UTC)."""

    contact: np.ndarray  # per touch, sorted by (contact, time, touch id)
    time: np.ndarray
    touch_id: np.ndarray
    channel: np.ndarray  # index into ``channels``
    channels: tuple[str, ...]  # the distinct channels, "" for none
    campaign: np.ndarray  # -1 when none
    content: np.ndarray  # -1 when none
    move_contact: np.ndarray  # per stage change
    move_stage: np.ndarray  # object
    move_time: np.ndarray
    opened_contact: np.ndarray  # sorted: contacts on a deal
    opened_by: np.ndarray  # the end of the day their first deal was created

    @classmethod
    def of(cls, touches: dict[str, np.ndarray], moves: dict[str, np.ndarray], opened: dict[str, np.ndarray]) -> StageData:
        order = np.lexsort((touches["id"], touches["time"], touches["contact"]))
        by_contact = np.argsort(opened["contact"], kind="stable")
        if "channels" in touches:  # already coded
            channels, channel = touches["channels"], touches["channel"]
        else:  # strings sorted once, not per question
            channels, channel = np.unique(touches["channel"], return_inverse=True)
        return cls(touches["contact"][order], touches["time"][order], touches["id"][order],
                   channel.reshape(-1)[order].astype(np.int64), tuple(str(c) for c in channels),
                   touches["campaign"][order], touches["content"][order],
                   moves["contact"], moves["stage"], moves["time"],
                   opened["contact"][by_contact], opened["by"][by_contact])


def _ints(values: list[Any]) -> np.ndarray:
    return np.fromiter((-1 if v is None else v for v in values), dtype=np.int64, count=len(values))


def read_stage_data(session: Session, lo: datetime | None = None, hi: datetime | None = None) -> StageData:
    """From the database: the touches in [lo, hi), every stage change, each contact's first deal."""
    q = select(Touchpoint.id, Touchpoint.contact_id, Touchpoint.occurred_at, Touchpoint.channel,
               Touchpoint.campaign_id, Touchpoint.content_id)
    if lo is not None:
        q = q.where(Touchpoint.occurred_at >= lo)
    if hi is not None:
        q = q.where(Touchpoint.occurred_at < hi)
    rows = session.execute(q).all()
    touches = {"id": _ints([r[0] for r in rows]), "contact": _ints([r[1] for r in rows]),
               "time": np.fromiter((_us(r[2]) for r in rows), dtype=np.int64, count=len(rows)),
               "channel": np.array([r[3] or "" for r in rows], dtype=object),
               "campaign": _ints([r[4] for r in rows]), "content": _ints([r[5] for r in rows])}
    moves = session.execute(select(StageChange.contact_id, StageChange.to_stage, StageChange.changed_at)).all()
    first = session.execute(select(DealContact.contact_id, func.min(Deal.created_on))
                            .join(Deal, Deal.id == DealContact.deal_id).group_by(DealContact.contact_id)).all()
    epoch_day = EPOCH.date()
    return StageData.of(
        touches,
        {"contact": _ints([m[0] for m in moves]), "stage": np.array([m[1] for m in moves], dtype=object),
         "time": np.fromiter((_us(m[2]) for m in moves), dtype=np.int64, count=len(moves))},
        {"contact": _ints([c for c, _d in first]),
         "by": np.fromiter(((d - epoch_day).days * US_PER_DAY + US_PER_DAY for _c, d in first), dtype=np.int64,
                           count=len(first))})


def stage_data_from_tables(tables: dict[str, Any]) -> StageData:
    """From the analytics snapshot's Arrow tables (``analytics/snapshot.py``: naive UTC timestamps, dates as
    midnight timestamps): touchpoints, stage_changes, deals and deal_contacts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def ids(table: Any, name: str) -> np.ndarray:
        return pc.fill_null(table.column(name), -1).to_numpy().astype(np.int64)

    def micros(table: Any, name: str) -> np.ndarray:
        return table.column(name).cast(pa.timestamp("us")).to_numpy().astype("datetime64[us]").astype(np.int64)

    tp, sc, deals, dc = (tables[n] for n in ("touchpoints", "stage_changes", "deals", "deal_contacts"))
    coded = pc.dictionary_encode(pc.fill_null(tp.column("channel"), "").combine_chunks())
    touches = {"id": ids(tp, "id"), "contact": ids(tp, "contact_id"), "time": micros(tp, "occurred_at"),
               "channel": pc.fill_null(coded.indices, 0).to_numpy().astype(np.int64) if len(coded.dictionary) else
               np.zeros(tp.num_rows, dtype=np.int64), "channels": coded.dictionary.to_pylist() or [""],
               "campaign": ids(tp, "campaign_id"), "content": ids(tp, "content_id")}
    moves = {"contact": ids(sc, "contact_id"), "stage": sc.column("to_stage").to_numpy(zero_copy_only=False).astype(object),
             "time": micros(sc, "changed_at")}
    deal_id, created = ids(deals, "id"), micros(deals, "created_on") + US_PER_DAY
    order = np.argsort(deal_id)
    member_deal, member = ids(dc, "deal_id"), ids(dc, "contact_id")
    at = order[np.minimum(np.searchsorted(deal_id[order], member_deal), max(len(order) - 1, 0))] if len(order) else \
        np.zeros(0, dtype=np.int64)
    known = (deal_id[at] == member_deal) if len(order) else np.zeros(len(member_deal), dtype=bool)
    contact, by = _first(member[known], created[at[known]])
    return StageData.of(touches, moves, {"contact": contact, "by": by})


def _first(contact: np.ndarray, when: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each contact once (sorted) with its earliest time."""
    order = np.lexsort((when, contact))
    c, t = contact[order], when[order]
    uniq, first = np.unique(c, return_index=True)
    return uniq, t[first]


def _lookup(keys: np.ndarray, values: np.ndarray, wanted: np.ndarray, default: int = _NEVER) -> np.ndarray:
    """``values`` of ``wanted`` in the sorted ``keys``; ``default`` where missing."""
    if len(keys) == 0:
        return np.full(len(wanted), default, dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
    return np.where(keys[pos] == wanted, values[pos], default)


def _prefix_last(flag: np.ndarray, journey: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per journey, the index of the last flagged touch when the flagged touches are a prefix; -1 when none."""
    count = np.bincount(journey, weights=flag, minlength=len(starts)).astype(np.int64)
    return np.where(count > 0, starts + count - 1, -1)


def _codes(data: StageData, idx: np.ndarray, grain: str) -> tuple[np.ndarray, Callable[[int], str]]:
    """Per touch an integer standing for its key, and the key's name from it."""
    if grain == "channel":
        return data.channel[idx], lambda c: data.channels[c] or NONE_KEY
    ref = (data.campaign if grain == "campaign" else data.content)[idx]
    return ref, lambda r: NONE_KEY if r < 0 else str(r)


def build_stage_journeys(data: StageData, stage: str, *, reached_by: tuple[str, ...], grain: str, start: datetime,
                         end: datetime, labels: Callable[[set[str]], dict[str, str]],
                         lookback_days: int = DEFAULT_LOOKBACK_DAYS,
                         direct_channels: tuple[str, ...] = ("direct",)) -> JourneySet:
    """The journeys of the conversions to ``stage`` in [start, end) and of the contacts who did not get there.
    ``reached_by``: the stages whose entry reaches ``stage`` (``at_or_beyond``)."""
    s, e, w = _us(start), _us(end), lookback_days * US_PER_DAY
    mine = np.isin(data.move_stage, reached_by)
    reached_c, reached_t = _first(data.move_contact[mine], data.move_time[mine])
    lead_c, lead_t = _first(data.move_contact[np.isin(data.move_stage, LEAD_STAGES)],
                            data.move_time[np.isin(data.move_stage, LEAD_STAGES)])
    inside = (reached_t >= s) & (reached_t < e)
    conv_c, conv_t = reached_c[inside], reached_t[inside]
    touched = np.unique(data.contact[(data.time >= s - w) & (data.time < e)])
    stayed = touched[_lookup(reached_c, reached_t, touched) >= e]
    cand = np.union1d(conv_c, stayed)
    at = np.full(len(cand), e, dtype=np.int64)
    at[np.searchsorted(cand, conv_c)] = conv_t
    at_touch = _lookup(cand, at, data.contact, default=-_NEVER)
    idx = np.flatnonzero((at_touch != -_NEVER) & (data.time >= at_touch - w) & (data.time <= at_touch)
                         & (data.time < e))
    jc, starts, journey = np.unique(data.contact[idx], return_index=True, return_inverse=True)
    journey = journey.reshape(-1).astype(np.int64)
    converted = np.isin(jc, conv_c)
    j_at = _lookup(cand, at, jc)
    t = data.time[idx]
    lead_at = _lookup(lead_c, lead_t, jc)
    lead_at = np.where(lead_at <= j_at, lead_at, -_NEVER)  # a lead created after the conversion is no milestone
    lead = _prefix_last(t <= lead_at[journey], journey, starts)
    opp_by = _lookup(data.opened_contact, data.opened_by, jc)
    opp_by = np.where(opp_by <= j_at + US_PER_DAY, opp_by, -_NEVER)
    opp = _prefix_last(t < opp_by[journey], journey, starts)
    codes, name = _codes(data, idx, grain)
    uniq, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # keys numbered by first appearance, as the revenue builder does
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    keys = [name(int(c)) for c in uniq[order]]
    is_direct = np.isin(np.asarray(data.channels, dtype=object), direct_channels) if data.channels else np.zeros(0, bool)
    conv = converted.astype(np.float64)
    j = Journeys.build(journey, rank[inverse.reshape(-1)], keys=keys, conversions=conv, value=conv, time=t / 1e6,
                       direct=is_direct[data.channel[idx]] if len(idx) else np.zeros(0, dtype=bool),
                       lead=lead, opportunity=opp)
    subjects = [{"kind": "contact", "id": int(c), "reached": _when(a) if ok else None}
                for c, a, ok in zip(jc.tolist(), j_at.tolist(), converted.tolist())]
    missing = np.setdiff1d(conv_c, jc)
    unattributed = [{"kind": "contact", "id": int(c), "reached": _when(a),
                     "reason": f"no touch in the {lookback_days} days before reaching {stage} on {_when(a):%Y-%m-%d}"}
                    for c, a in zip(missing.tolist(), _lookup(conv_c, conv_t, missing).tolist())]
    return JourneySet(j, grain, labels(set(keys)), subjects, data.touch_id[idx].tolist(), unattributed)


def stage_journeys(session: Session, stage: str, *, grain: str = "channel", start: datetime, end: datetime,
                   lookback_days: int = DEFAULT_LOOKBACK_DAYS, direct_channels: tuple[str, ...] = ("direct",),
                   stages: StageSet | None = None) -> JourneySet:
    """Journeys ending when a contact reached ``stage`` (or a later main stage) in [start, end), and those that
    did not get there."""
    from revteam.services.record.lifecycle import load_stages

    _check(grain, lookback_days)
    stages = stages or load_stages(session)
    check_stage_question(stages, stage, start, end)
    data = read_stage_data(session, start - timedelta(days=lookback_days), end)
    return build_stage_journeys(data, stage, reached_by=at_or_beyond(stages, stage), grain=grain, start=start,
                                end=end, lookback_days=lookback_days,
                                direct_channels=direct_channels, labels=lambda keys: _labels(session, grain, keys))
