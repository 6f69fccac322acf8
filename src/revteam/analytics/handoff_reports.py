"""Nothing falls through (R7), and both sides measured (R4, R6): unworked leads, campaign follow-up,
SLA compliance per rep and team, marketing's delivery against its commitment, rejection analytics.

Definitions (also in docs/metrics/handoff.md)
    unworked lead     a pending handoff with no sales touch and no decision
    worked in time    the first sales touch or the accept came before the SLA due time
    compliance        worked in time / handoffs whose clock has stopped or is past due
    rejection rate    rejected or recycled handoffs / handoffs decided, in the period
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from revteam.domain.sla import Clock, ClockReading, compliance, month_pacing, read_clock
from revteam.services.handoff.agreement import agreement_in_force
from revteam.store.date_range import in_range
from revteam.store.models import Handoff
from revteam.store.models import Campaign, Contact, Deal, DealContact, StageChange, Team, Touchpoint, User

FUNNEL_STEPS = ("mql", "sal", "sql", "opportunity", "customer")


@dataclass
class UnworkedRow:
    rep_id: int | None
    rep: str
    handed: int
    unworked: int
    leads: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sentence(self) -> str:
        return f"of the {self.handed} lead(s) handed to {self.rep} in the period, {self.unworked} have no touch"


def unworked_leads(session: Session, *, now: datetime, days: int = 7, rep_id: int | None = None) -> list[UnworkedRow]:
    since = now - timedelta(days=days)
    q = (select(Handoff, Contact, User.name).join(Contact, Contact.id == Handoff.contact_id)
         .outerjoin(User, User.id == Handoff.rep_id).where(Handoff.handed_at >= since))
    if rep_id is not None:
        q = q.where(Handoff.rep_id == rep_id)
    rows: dict[int | None, UnworkedRow] = {}
    for h, c, name in session.execute(q.order_by(Handoff.handed_at)):
        r = rows.setdefault(h.rep_id, UnworkedRow(h.rep_id, name or "nobody (unassigned)", 0, 0))
        r.handed += 1
        if h.status in ("pending", "unassigned") and h.first_touch_at is None:
            r.unworked += 1
            r.leads.append({"handoff_id": h.id, "contact_id": c.id, "name": c.display_name, "priority": h.priority,
                            "handed_at": h.handed_at, "due_at": h.due_at,
                            "overdue": h.due_at is not None and h.due_at <= now})
    return sorted(rows.values(), key=lambda r: (-r.unworked, r.rep))


@dataclass
class CampaignFollowup:
    campaign_id: int
    name: str
    people: int
    contacted: int
    reached: dict[str, int]
    pipeline: float
    revenue: float
    never_contacted: list[dict[str, Any]]


def campaign_followup(session: Session, campaign_id: int) -> CampaignFollowup:
    """For everyone the campaign touched (e.g. a webinar list): how many sales contacted afterwards, how
    many reached each funnel stage afterwards, and the pipeline and revenue of their deals since."""
    from revteam.errors import NotFound
    from revteam.services.record.lifecycle import load_stages
    from revteam.store.models import SALES_TOUCH_TYPES

    camp = session.get(Campaign, campaign_id)
    if camp is None:
        raise NotFound(f"No campaign with id {campaign_id}.", code="campaign_not_found")
    first = dict(session.execute(select(Touchpoint.contact_id, func.min(Touchpoint.occurred_at))
                                 .where(Touchpoint.campaign_id == campaign_id).group_by(Touchpoint.contact_id)).all())
    ids = list(first)
    contacted: set[int] = set()
    reached: dict[str, set[int]] = {s: set() for s in FUNNEL_STEPS}
    # as the funnel counts (docs/metrics/funnel.md): entering a main stage reaches it and every step before it
    main = load_stages(session).main
    passes = {stage: [s for s in FUNNEL_STEPS if s in main and main.index(s) <= main.index(stage)]
              for stage in main}
    passes = {stage: steps for stage, steps in passes.items() if steps}
    pipeline = revenue = 0.0
    for chunk in (ids[i:i + 900] for i in range(0, len(ids), 900)):
        for cid, at in session.execute(select(Touchpoint.contact_id, Touchpoint.occurred_at).where(
                Touchpoint.contact_id.in_(chunk), Touchpoint.type.in_(SALES_TOUCH_TYPES))):
            if at >= first[cid]:
                contacted.add(cid)
        for cid, stage, at in session.execute(select(StageChange.contact_id, StageChange.to_stage, StageChange.changed_at)
                                              .where(StageChange.contact_id.in_(chunk), StageChange.to_stage.in_(passes))):
            if at >= first[cid]:
                for step in passes[stage]:
                    reached[step].add(cid)
        deals = session.execute(select(Deal.id, Deal.outcome, Deal.amount, Deal.created_on, DealContact.contact_id)
                                .join(DealContact, DealContact.deal_id == Deal.id).where(DealContact.contact_id.in_(chunk))).all()
        seen: set[int] = set()
        for deal_id, outcome, amount, created, cid in deals:
            if deal_id in seen or created < first[cid].date():
                continue
            seen.add(deal_id)
            if outcome == "open":
                pipeline += float(amount)
            elif outcome == "won":
                revenue += float(amount)
    never = [cid for cid in ids if cid not in contacted]
    names = {c.id: c.display_name for c in session.scalars(select(Contact).where(Contact.id.in_(never[:50])))} if never else {}
    return CampaignFollowup(camp.id, camp.name, len(ids), len(contacted), {s: len(v) for s, v in reached.items()},
                            pipeline, revenue, [{"contact_id": cid, "name": names.get(cid, "")} for cid in never[:50]])


def _readings(session: Session, now: datetime, since: datetime) -> list[tuple[Handoff, ClockReading]]:
    agreement = agreement_in_force(session)
    if agreement is None:
        return []
    out = []
    sane = [in_range(Handoff.handed_at), in_range(Handoff.due_at)] + [
        or_(c.is_(None), in_range(c)) for c in (Handoff.at_risk_at, Handoff.first_touch_at)]  # others: reported
    for h in session.scalars(select(Handoff).where(Handoff.handed_at >= since, Handoff.due_at.is_not(None),
                                                   Handoff.rep_id.is_not(None), *sane)):
        clock = Clock(h.handed_at, h.at_risk_at, h.due_at)  # type: ignore[arg-type]
        out.append((h, read_clock(agreement.terms, clock, first_touch_at=h.first_touch_at, now=now)))
    return out


def sla_compliance(session: Session, *, now: datetime, days: int = 30, by: str = "rep") -> list[dict[str, Any]]:
    """Share worked in time and median response time, per rep or per team, over the last ``days`` days."""
    readings = _readings(session, now, now - timedelta(days=days))
    users = {u.id: u for u in session.scalars(select(User))}
    teams = {t.id: t.name for t in session.scalars(select(Team))}
    groups: dict[str, list[ClockReading]] = defaultdict(list)
    ids: dict[str, int] = {}
    for h, r in readings:
        u = users.get(h.rep_id)  # type: ignore[arg-type]
        key = (u.name if u else "?") if by == "rep" else (teams.get(u.team_id, "no team") if u and u.team_id else "no team")
        groups[key].append(r)
        groups["all"].append(r)
        if by == "rep" and u is not None:
            ids[key] = u.id
    out = []
    for key, rs in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        c = compliance(rs)
        out.append({by: key, **({"rep_id": ids.get(key)} if by == "rep" else {}), "handoffs": c.handoffs, "worked_in_time": c.worked_in_time, "breached": c.breached,
                    "share_in_time": c.share_in_time,
                    "median_response_minutes": None if c.median_response is None else c.median_response.total_seconds() / 60,
                    "open": sum(r.status == "open" for r in rs), "at_risk": sum(r.status == "at_risk" for r in rs)})
    return out


def sla_board(session: Session, *, now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Pending handoffs that are at risk or breached right now, most urgent first."""
    out: dict[str, list[dict[str, Any]]] = {"at_risk": [], "breached": []}
    for h, r in _readings(session, now, now - timedelta(days=90)):
        if h.status == "pending" and r.status in out:
            c = session.get(Contact, h.contact_id)
            rep = session.get(User, h.rep_id) if h.rep_id else None
            out[r.status].append({"handoff_id": h.id, "contact": c.display_name if c else "?", "contact_id": h.contact_id,
                                  "rep": rep.name if rep else None, "priority": h.priority, "due_at": r.due_at,
                                  "elapsed_minutes": r.elapsed.total_seconds() / 60})
    for v in out.values():
        v.sort(key=lambda x: x["due_at"])
    return out


def marketing_delivery(session: Session, *, now: datetime) -> dict[str, Any] | None:
    """MQLs and sales-accepted leads delivered this month against marketing's commitment in the SLA."""
    agreement = agreement_in_force(session)
    if agreement is None:
        return None
    local = now.astimezone(agreement.terms.calendar.zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    mqls = session.scalar(select(func.count()).select_from(Handoff).where(Handoff.kind == "mql", Handoff.handed_at >= start)) or 0
    sals = session.scalar(select(func.count()).select_from(Handoff).where(
        Handoff.kind == "mql", Handoff.handed_at >= start, Handoff.status == "accepted")) or 0
    out = {}
    for name, committed, delivered in (("mqls", agreement.terms.mqls_per_month, mqls),
                                       ("sals", agreement.terms.sals_per_month, sals)):
        p = month_pacing(agreement.terms, committed, delivered, now=now)
        out[name] = {"committed": committed, "delivered": delivered, "expected_to_date": round(p.expected_to_date, 1),
                     "pace": p.pace, "projected": round(p.projected, 1)}
    return out


def rejection_analytics(session: Session, *, now: datetime, days: int = 90, by: str = "source") -> list[dict[str, Any]]:
    """Handed, decided, rejected and the rejection rate, grouped by source, campaign, reason or rep."""
    since = now - timedelta(days=days)
    users = {u.id: u.name for u in session.scalars(select(User))}
    camps = {c.id: c.name for c in session.scalars(select(Campaign))}
    groups: dict[str, dict[str, int]] = defaultdict(lambda: {"handed": 0, "decided": 0, "rejected": 0})
    for h in session.scalars(select(Handoff).where(Handoff.kind == "mql", Handoff.handed_at >= since)):
        key = {"source": h.source or "(none)", "campaign": camps.get(h.campaign_id or -1, "(none)"),
               "reason": h.reject_reason or "(not rejected)", "rep": users.get(h.rep_id or -1, "unassigned")}[by]
        g = groups[key]
        g["handed"] += 1
        if h.status in ("accepted", "rejected", "recycled", "returned"):
            g["decided"] += 1
        if h.status in ("rejected", "recycled", "returned"):
            g["rejected"] += 1
    if by == "reason":  # each reason's share of all decided leads (a reason's own rate would always be 100 %)
        decided = sum(v["decided"] for v in groups.values())
        return [{by: k, **v, "rejection_rate": (v["rejected"] / decided) if decided else None}
                for k, v in sorted(groups.items(), key=lambda kv: -kv[1]["rejected"]) if k != "(not rejected)"]
    return [{by: k, **v, "rejection_rate": (v["rejected"] / v["decided"]) if v["decided"] else None}
            for k, v in sorted(groups.items(), key=lambda kv: -kv[1]["handed"])]
