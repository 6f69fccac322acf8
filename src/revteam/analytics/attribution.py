"""Revenue and stage attribution from the operational database (PRODUCT.md R9).

Builds ``revteam.domain.attribution.Journeys`` from touches, deals and stage changes, at three grains:
``channel`` (the touch's channel), ``campaign`` and ``content`` (the campaign or content piece the touch
was about). Touches without a campaign (or content piece) keep their place under the key ``(none)``, so
every grain credits the same total.

Won-revenue journeys (``revenue_journeys``)
    One journey per deal closed in the period (``closed_on`` within [start, end]). Its touches are those
    of the deal's contacts in the *window*: from ``lookback_days`` (default 365) days before the close
    date up to the end of the close day (UTC), in time order. A won deal converts with its amount as the
    value; a lost deal is a non-conversion (the Markov and Shapley models need them; the rule-based models
    ignore them). Open deals are left out: their outcome is not known yet.
    Milestones: first touch = the first touch in the window; lead creation = the last touch at or before
    the earliest lead creation among the deal's contacts (their first stage change to ``lead`` or
    ``mql``), none when no touch came before it; opportunity creation = the last touch on or before the
    deal's ``created_on`` day; close = the last touch before the close.
    A won deal with no touch in its window is *unattributed*: it is listed, with its amount, never
    credited to anything.

Stage-conversion journeys (``analytics/stage_journeys.py``)
    One converting journey per contact whose first move to a main stage happened in the period: its
    touches in the window before that move, value 1 (a count). One non-converting journey per contact with
    touches in the window before ``end`` that had not reached the stage by then.

Sourced versus influenced (``sourced_and_influenced``)
    *Sourced* revenue of a key: the won revenue of the deals it sourced: by default the key of the deal's
    first touch (the first-touch model); with ``sourced_by="deal_source"`` the deal's recorded source
    (``Deal.source`` at channel grain, ``Deal.campaign_id`` at campaign grain), falling back to the first
    touch where none is recorded (and always at content grain). Sourced revenue sums to won revenue.
    *Influenced* revenue: the full amount of every won deal with at least one touch of the key in its
    window. A deal influences every key it touched, so influenced totals add up to more than revenue.

Worked example
    Deal "Acme platform" ($24,000, won 2026-03-10, created 2026-02-01) has contacts Ana (lead since
    2026-01-12) and Ben. Their touches: Ana ads 01-05, Ana webinar 01-12, Ben email 01-20, Ana demo
    02-01, Ben email 03-01. Journey: ads [first] → webinar [lead] → email → demo [opportunity] → email
    [close]. W-shaped: ads, webinar, demo $7,200 each, emails $1,200 each. Sourced by ads; influenced:
    ads, webinar, email and demo $24,000 each.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.domain.attribution import Journeys, attribute, explain_journey
from revteam.errors import InvalidInput, NotFound
from revteam.store.models import Campaign, ContentAsset, Deal, DealContact, StageChange, Touchpoint

GRAINS = ("channel", "campaign", "content")
NONE_KEY = "(none)"
LEAD_STAGES = ("lead", "mql")
DEFAULT_LOOKBACK_DAYS = 365
DEFAULT_SEED = 11  # Shapley over many keys is sampled: the pages and the CLI draw from this seed by default


def model_params(model: str, seed: int = DEFAULT_SEED) -> dict[str, Any]:
    """What ``model`` needs besides the journeys: Shapley gets a numpy Generator seeded with ``seed``, so the
    same data and seed give the same sampled values (exact Shapley, over few keys, ignores it)."""
    return {"rng": np.random.default_rng(seed)} if model == "shapley" else {}


@dataclass
class JourneySet:
    """Journeys plus what they stand for: subjects (deals or contacts), touch ids and key labels."""

    journeys: Journeys
    grain: str
    labels: dict[str, str]
    subjects: list[dict[str, Any]]
    touch_ids: list[int]
    unattributed: list[dict[str, Any]] = field(default_factory=list)

    def label(self, key: str) -> str:
        return self.labels.get(key, key)


def _day_end(d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=timezone.utc)


def _key_of(grain: str, t: Any) -> str:
    if grain == "channel":
        return t.channel or NONE_KEY
    ref = t.campaign_id if grain == "campaign" else t.content_id
    return NONE_KEY if ref is None else str(ref)


def _labels(session: Session, grain: str, keys: set[str]) -> dict[str, str]:
    if grain == "channel":
        return {}
    ids = [int(k) for k in keys if k != NONE_KEY]
    if not ids:
        return {}
    if grain == "campaign":
        rows = session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(ids))).all()
    else:
        rows = session.execute(select(ContentAsset.id, ContentAsset.title).where(ContentAsset.id.in_(ids))).all()
    return {str(i): name for i, name in rows}


def _check(grain: str, lookback_days: int) -> None:
    if grain not in GRAINS:
        raise InvalidInput(f"Unknown grain {grain!r}; use one of {', '.join(GRAINS)}.", code="bad_attribution_grain")
    if lookback_days < 1:
        raise InvalidInput("lookback_days must be at least 1.", code="bad_attribution_window")


def check_period(start: date | None, end: date | None) -> None:
    """A period given as days, both inclusive, must not end before it starts."""
    if start is not None and end is not None and end < start:
        raise InvalidInput(f"The period ends ({end.isoformat()}) before it starts ({start.isoformat()}); pick an end "
                           "on or after the start.", code="bad_attribution_period")


def _touches_of(session: Session, contact_ids: set[int], lo: datetime, hi: datetime) -> dict[int, list]:
    by_contact: dict[int, list] = defaultdict(list)
    ids = sorted(contact_ids)
    for a in range(0, len(ids), 900):  # stay under SQLite's bound-parameter limit
        q = (select(Touchpoint.id, Touchpoint.contact_id, Touchpoint.occurred_at, Touchpoint.channel,
                    Touchpoint.campaign_id, Touchpoint.content_id, Touchpoint.type)
             .where(Touchpoint.contact_id.in_(ids[a:a + 900]), Touchpoint.occurred_at >= lo, Touchpoint.occurred_at < hi))
        for t in session.execute(q):
            by_contact[t.contact_id].append(t)
    return by_contact


def _first_moves(session: Session, contact_ids: set[int], stages: tuple[str, ...]) -> dict[int, datetime]:
    first: dict[int, datetime] = {}
    ids = sorted(contact_ids)
    for a in range(0, len(ids), 900):
        q = (select(StageChange.contact_id, StageChange.changed_at)
             .where(StageChange.contact_id.in_(ids[a:a + 900]), StageChange.to_stage.in_(stages)))
        for cid, at in session.execute(q):
            if cid not in first or at < first[cid]:
                first[cid] = at
    return first


class _Builder:
    """Collects journeys one subject at a time, then hands them to ``Journeys.build``."""

    def __init__(self, grain: str, direct_channels: tuple[str, ...]) -> None:
        self.grain, self.direct = grain, set(direct_channels)
        self.keys: dict[str, int] = {}
        self.journey: list[int] = []
        self.key: list[int] = []
        self.time: list[float] = []
        self.is_direct: list[bool] = []
        self.touch_ids: list[int] = []
        self.conv: list[float] = []
        self.value: list[float] = []
        self.lead: list[int] = []
        self.opp: list[int] = []
        self.subjects: list[dict[str, Any]] = []

    def add(self, touches: list, converted: bool, value: float, subject: dict[str, Any],
            lead_at: datetime | None, opportunity_by: datetime | None) -> None:
        touches = sorted(touches, key=lambda t: (t.occurred_at, t.id))
        j = len(self.conv)
        base = len(self.key)
        lead = opp = -1
        for i, t in enumerate(touches):
            k = _key_of(self.grain, t)
            self.journey.append(j)
            self.key.append(self.keys.setdefault(k, len(self.keys)))
            self.time.append(t.occurred_at.timestamp())
            self.is_direct.append((t.channel or "") in self.direct)
            self.touch_ids.append(t.id)
            if lead_at is not None and t.occurred_at <= lead_at:
                lead = base + i
            if opportunity_by is not None and t.occurred_at < opportunity_by:
                opp = base + i
        self.conv.append(1.0 if converted else 0.0)
        self.value.append(value if converted else 0.0)
        self.lead.append(lead)
        self.opp.append(opp)
        self.subjects.append(subject)

    def build(self, session: Session, unattributed: list[dict[str, Any]]) -> JourneySet:
        names = list(self.keys)
        j = Journeys.build(np.asarray(self.journey, dtype=np.int64), np.asarray(self.key, dtype=np.int64), keys=names,
                           conversions=self.conv, value=self.value, time=np.asarray(self.time, dtype=float),
                           direct=self.is_direct, lead=self.lead, opportunity=self.opp)
        # Journeys.build sorts by (journey, time) stably; touches were added in that order, so ids line up
        return JourneySet(j, self.grain, _labels(session, self.grain, set(names)), self.subjects, self.touch_ids,
                          unattributed)


def revenue_journeys(session: Session, *, grain: str = "channel", start: date | None = None, end: date | None = None,
                     lookback_days: int = DEFAULT_LOOKBACK_DAYS, direct_channels: tuple[str, ...] = ("direct",),
                     include_lost: bool = True) -> JourneySet:
    """Journeys of the deals closed in [start, end]: won ones convert with their amount (see module doc)."""
    _check(grain, lookback_days)
    outcomes = ("won", "lost") if include_lost else ("won",)
    q = select(Deal).where(Deal.outcome.in_(outcomes), Deal.closed_on.is_not(None))
    if start is not None:
        q = q.where(Deal.closed_on >= start)
    if end is not None:
        q = q.where(Deal.closed_on <= end)
    deals = session.scalars(q.order_by(Deal.closed_on, Deal.id)).all()
    builder = _Builder(grain, direct_channels)
    if not deals:
        return builder.build(session, [])
    members: dict[int, list[int]] = defaultdict(list)
    deal_ids = [d.id for d in deals]
    for a in range(0, len(deal_ids), 900):
        for did, cid in session.execute(select(DealContact.deal_id, DealContact.contact_id)
                                        .where(DealContact.deal_id.in_(deal_ids[a:a + 900]))):
            members[did].append(cid)
    contacts = {c for cs in members.values() for c in cs}
    lo = _day_end(min(d.closed_on for d in deals)) - timedelta(days=lookback_days + 1)
    hi = _day_end(max(d.closed_on for d in deals))
    touches = _touches_of(session, contacts, lo, hi)
    lead_at = _first_moves(session, contacts, LEAD_STAGES)
    unattributed: list[dict[str, Any]] = []
    for d in deals:
        close = _day_end(d.closed_on)
        window_start = close - timedelta(days=lookback_days + 1)
        mine = [t for c in members[d.id] for t in touches.get(c, ()) if window_start <= t.occurred_at < close]
        subject = {"kind": "deal", "id": d.id, "name": d.name, "outcome": d.outcome, "amount": float(d.amount),
                   "currency": d.currency, "closed_on": d.closed_on, "created_on": d.created_on, "source": d.source,
                   "campaign_id": d.campaign_id}
        if not mine:
            if d.outcome == "won":
                unattributed.append({**subject, "reason": f"no touch of its contacts in the {lookback_days} days "
                                                          f"before its close on {d.closed_on.isoformat()}"})
            continue
        leads = [lead_at[c] for c in members[d.id] if c in lead_at]
        builder.add(mine, d.outcome == "won", float(d.amount), subject, min(leads) if leads else None,
                    _day_end(d.created_on) if d.created_on else None)
    return builder.build(session, unattributed)


def restrict(js: JourneySet, start: date | None = None, end: date | None = None) -> JourneySet:
    """The revenue journeys of the deals closed in [start, end], taken from a set built over more deals.

    Each deal's journey depends only on the deal (its touches in its own window), so this equals
    ``revenue_journeys`` for the narrower period, key order included (keys are numbered by first
    appearance, as the builder numbers them); it just skips the database.
    """
    def inside(subject: dict[str, Any]) -> bool:
        closed = subject["closed_on"]
        return (start is None or closed >= start) and (end is None or closed <= end)

    if start is None and end is None:
        return js
    j = js.journeys
    rows = np.asarray([i for i, subject in enumerate(js.subjects) if inside(subject)], dtype=np.int64)
    unattributed = [u for u in js.unattributed if inside(u)]
    sub = j.subset(rows)
    lengths = j.lengths[rows]
    touch = (np.repeat(j.starts[rows] - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
             + np.arange(int(lengths.sum()))) if len(rows) else np.zeros(0, dtype=np.int64)
    used, first = np.unique(sub.key, return_index=True)
    order = used[np.argsort(first, kind="stable")]
    remap = np.full(j.n_keys, -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    keys = tuple(j.keys[int(k)] for k in order)
    journeys = replace(sub, keys=keys, key=remap[sub.key].astype(np.int32) if len(sub.key) else sub.key, _cache={})
    return JourneySet(journeys, js.grain, {k: v for k, v in js.labels.items() if k in set(keys)},
                      [js.subjects[int(i)] for i in rows], [js.touch_ids[int(t)] for t in touch], unattributed)


def credit_rows(js: JourneySet, model: str, measure: str = "value", **params: Any) -> list[dict[str, Any]]:
    """One row per key: its credit under ``model`` (largest first)."""
    if js.journeys.n_journeys == 0:
        return []
    a = attribute(js.journeys, model, **params)
    rows = [{"key": k, "label": js.label(k), "credit": float(c)} for k, c in zip(a.keys, a.credit(measure))]
    return sorted(rows, key=lambda r: (-r["credit"], r["label"]))


def sourced_and_influenced(js: JourneySet, *, sourced_by: str = "first_touch") -> list[dict[str, Any]]:
    """Per key: sourced and influenced won revenue and deal counts (see the module docstring)."""
    if sourced_by not in ("first_touch", "deal_source"):
        raise InvalidInput("sourced_by is first_touch or deal_source.", code="bad_attribution_model")
    j = js.journeys
    out: dict[str, dict[str, Any]] = {k: {"key": k, "label": js.label(k), "sourced": 0.0, "sourced_deals": 0,
                                          "influenced": 0.0, "influenced_deals": 0} for k in j.keys}
    for i in np.flatnonzero(j.converted):
        s, n = int(j.starts[i]), int(j.lengths[i])
        value = float(j.value[i])
        source = j.keys[int(j.key[s])]
        subject = js.subjects[i]
        if sourced_by == "deal_source" and js.grain == "channel" and subject.get("source"):
            source = subject["source"]
        elif sourced_by == "deal_source" and js.grain == "campaign" and subject.get("campaign_id"):
            source = str(subject["campaign_id"])
        row = out.setdefault(source, {"key": source, "label": js.label(source), "sourced": 0.0, "sourced_deals": 0,
                                      "influenced": 0.0, "influenced_deals": 0})
        row["sourced"] += value
        row["sourced_deals"] += 1
        for k in {j.keys[int(x)] for x in j.key[s:s + n]}:
            out[k]["influenced"] += value
            out[k]["influenced_deals"] += 1
    return sorted(out.values(), key=lambda r: (-r["influenced"], -r["sourced"], r["label"]))


def deal_population(session: Session, deal_id: int, *,
                    lookback_days: int = DEFAULT_LOOKBACK_DAYS) -> tuple[Deal, date, date]:
    """A won deal and the close dates of the deals its model learns from: the ``lookback_days`` up to its close."""
    deal = session.get(Deal, deal_id)
    if deal is None:
        raise NotFound(f"No deal {deal_id}.", code="deal_not_found")
    if deal.outcome != "won" or deal.closed_on is None:
        raise InvalidInput(f"Deal {deal_id} is not won; only won revenue is attributed.", code="deal_not_won")
    return deal, deal.closed_on - timedelta(days=lookback_days), deal.closed_on


def explain_deal(session: Session, deal_id: int, *, model: str = "w_shaped", grain: str = "channel",
                 lookback_days: int = DEFAULT_LOOKBACK_DAYS, **params: Any) -> dict[str, Any]:
    """Which touches of a won deal got how much credit under ``model``, and why (rows a page can show).

    The model runs on every deal closed in the ``lookback_days`` up to this deal's close date (the
    population Markov and Shapley learn from); the rule-based models only ever read this deal's journey.
    """
    deal, start, end = deal_population(session, deal_id, lookback_days=lookback_days)
    js = revenue_journeys(session, grain=grain, start=start, end=end, lookback_days=lookback_days)
    row = next((i for i, s in enumerate(js.subjects) if s["id"] == deal_id), None)
    a = None if row is None else attribute(js.journeys, model, touches=True, **params)
    return explained(session, deal, js, a, model=model, grain=grain,
                     half_life_days=params.get("half_life_days"))


def explained(session: Session, deal: Deal, js: JourneySet, a: Any, *, model: str, grain: str,
              half_life_days: float | None = None) -> dict[str, Any]:
    """The explanation rows of ``deal`` from its population's journeys and the model's touch shares."""
    head = {"deal_id": deal.id, "name": deal.name, "amount": float(deal.amount), "currency": deal.currency,
            "closed_on": deal.closed_on, "model": model, "grain": grain, "rows": []}
    row = next((i for i, s in enumerate(js.subjects) if s["id"] == deal.id), None)
    if row is None:
        head["unattributed"] = next(u["reason"] for u in js.unattributed if u["id"] == deal.id)
        return head
    touch_rows = explain_journey(js.journeys, a, row,
                                 **({"half_life_days": half_life_days} if half_life_days is not None else {}))
    tids = [js.touch_ids[r.touch] for r in touch_rows]
    info = {t.id: t for t in session.scalars(select(Touchpoint).where(Touchpoint.id.in_(tids)))}
    for r, tid in zip(touch_rows, tids):
        t = info[tid]
        head["rows"].append({"touch_id": tid, "occurred_at": t.occurred_at, "contact_id": t.contact_id,
                             "type": t.type, "key": r.key, "label": js.label(r.key), "roles": list(r.roles),
                             "share": r.share, "credit": r.value, "reason": r.reason})
    return head
