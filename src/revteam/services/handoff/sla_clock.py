"""The SLA tick, run by the worker: escalations, recycled leads coming back, the daily digest of
unworked leads, and scoring reviews. Every step is idempotent (outbox keys, unique review rows), so a
tick can crash and run again without losing or doubling anything. Two ticks at once (two workers, or
``revteam worker`` beside ``serve``) run one after the other: the first step, rerouting, takes the
``routing`` lock (``services/claims.py``) for the rest of the tick's transaction."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.delivery.outbox import notify_user
from revteam.domain.rejections import WeekCount, reviews_due
from revteam.domain.sla import Clock, escalations_due
from revteam.services.handoff.agreement import agreement_in_force
from revteam.services.record.lifecycle import load_stages, move_contact_stage
from revteam.store.models import Handoff, RepProfile, ScoringReview
from revteam.store.models import Contact, User


@dataclass
class TickReport:
    escalations: int = 0
    rerouted: int = 0
    returned: int = 0
    digests: int = 0
    reviews: int = 0


def tick(session: Session, *, now: datetime, digest_hour: int = 8) -> TickReport:
    from revteam.services.handoff.hand_over import reroute_unassigned

    report = TickReport()
    report.rerouted = reroute_unassigned(session, now=now)
    report.escalations = _escalate(session, now)
    report.returned = _return_recycled(session, now)
    report.digests = _digests(session, now, digest_hour)
    report.reviews = _reviews(session, now)
    return report


def _escalate(session: Session, now: datetime) -> int:
    n = 0
    managers = {p.user_id: p.manager_id for p in session.scalars(select(RepProfile))}
    rows = session.execute(select(Handoff, Contact).join(Contact, Contact.id == Handoff.contact_id).where(
        Handoff.status == "pending", Handoff.at_risk_at.is_not(None), Handoff.at_risk_at <= now,
        Handoff.rep_id.is_not(None))).all()
    for h, contact in rows:
        clock = Clock(h.handed_at, h.at_risk_at, h.due_at)  # type: ignore[arg-type]
        for e in escalations_due(h.id, clock, first_touch_at=h.first_touch_at, now=now):
            who = [h.rep_id] + ([managers.get(h.rep_id)] if "manager" in e.notify else [])
            verb = "is at risk" if e.level == "at_risk" else "breached the SLA"
            for uid in filter(None, who):
                n += notify_user(session, uid, key=e.key, event="at_risk" if e.level == "at_risk" else "breach",
                                 subject=f"{h.priority.title()} lead {contact.display_name} {verb}",
                                 body=f"Handed over {h.handed_at:%a %d %b %H:%M} UTC, due {h.due_at:%a %d %b %H:%M} UTC, "
                                      "no sales touch yet.", now=now)
    return n


def _return_recycled(session: Session, now: datetime) -> int:
    stages = load_stages(session)
    n = 0
    for h in session.scalars(select(Handoff).where(Handoff.status == "recycled", Handoff.recycle_until <= now.date())):
        contact = session.get(Contact, h.contact_id)
        h.status = "returned"
        if contact is not None and contact.stage == "recycled":
            move_contact_stage(session, contact, "lead", at=now, stages=stages, actor_rule="recycle_return")
            n += 1
    return n


def _digests(session: Session, now: datetime, hour: int) -> int:
    agreement = agreement_in_force(session)
    tz = agreement.terms.calendar.zone if agreement else None
    local = now.astimezone(tz) if tz else now
    if local.hour < hour:
        return 0
    unworked: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(select(Handoff.rep_id, Contact.first_name, Contact.last_name, Contact.email).join(
        Contact, Contact.id == Handoff.contact_id).where(Handoff.status == "pending", Handoff.first_touch_at.is_(None),
                                                        Handoff.rep_id.is_not(None))).all()
    for rep_id, first, last, email in rows:
        unworked[rep_id].append(" ".join(p for p in (first, last) if p) or email or "?")
    n = 0
    for rep_id, names in unworked.items():
        n += notify_user(session, rep_id, key=f"digest:{rep_id}:{local.date()}", event="digest",
                         subject=f"{len(names)} lead(s) handed to you have no touch yet",
                         body="Unworked leads: " + ", ".join(sorted(names)[:50]), now=now)
    return n


def _reviews(session: Session, now: datetime) -> int:
    this_week = now.isocalendar()
    counts: dict[tuple[str, str], dict[str, WeekCount]] = defaultdict(dict)
    handed: dict[tuple[str, str], int] = defaultdict(int)
    rejected: dict[tuple[str, str, str], int] = defaultdict(int)
    for source, at, reason, status in session.execute(select(Handoff.source, Handoff.handed_at, Handoff.reject_reason,
                                                             Handoff.status).where(Handoff.kind == "mql")):
        iso = at.isocalendar()
        if (iso.year, iso.week) >= (this_week.year, this_week.week):
            continue  # only complete weeks
        week = f"{iso.year}-W{iso.week:02d}"
        handed[(source or "(none)", week)] += 1
        if reason and status in ("rejected", "recycled", "returned"):
            rejected[(source or "(none)", reason, week)] += 1
    weeks_by_source: dict[str, list[str]] = defaultdict(list)
    for source, week in sorted(handed):
        weeks_by_source[source].append(week)
    for (source, reason, _), _n in list(rejected.items()):
        counts[(source, reason)] = {w: WeekCount(w, handed[(source, w)], rejected.get((source, reason, w), 0))
                                    for w in weeks_by_source[source]}
    due = reviews_due({k: [v[w] for w in sorted(v)] for k, v in counts.items()})
    n = 0
    for r in due:
        exists = session.scalar(select(ScoringReview.id).where(ScoringReview.source == r.source,
                                                               ScoringReview.reason == r.reason,
                                                               ScoringReview.last_week == r.weeks[-1]))
        if exists is not None:
            continue
        session.add(ScoringReview(source=r.source, reason=r.reason, last_week=r.weeks[-1], summary=r.summary, opened_at=now))
        n += 1
        for uid in session.scalars(select(User.id).where(User.role == "marketing", User.is_active.is_(True))):
            notify_user(session, uid, key=f"review:{r.source}:{r.reason}:{r.weeks[-1]}", event="review",
                        subject=f"Scoring review: {r.source} leads rejected as {r.reason}", body=r.summary, now=now)
    session.flush()
    return n
