"""Routing as stored: reps (users + profiles + absences), ordered rules, round-robin credits."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from revteam.domain.business_hours import BusinessCalendar
from revteam.domain.roles import REPS
from revteam.domain.routing import Rep, RoutingRule, RoutingState
from revteam.store.models import Absence, Handoff, RepProfile, RoutingCredit, RoutingRuleRow
from revteam.store.models import User


def _calendar(p: RepProfile | None) -> BusinessCalendar | None:
    if p is None:
        return None
    h1, m1 = (int(x) for x in p.opens.split(":"))
    h2, m2 = (int(x) for x in p.closes.split(":"))
    days = frozenset(int(d) for d in p.weekdays.split(",") if d.strip())
    return BusinessCalendar(tz=p.tz, weekdays=days, opens=time(h1, m1), closes=time(h2, m2))


def load_reps(session: Session, *, now: datetime) -> dict[int, Rep]:
    users = session.scalars(select(User).where(User.role.in_(sorted(REPS)))).all()
    profiles = {p.user_id: p for p in session.scalars(select(RepProfile))}
    absences: dict[int, list[tuple[datetime, datetime]]] = {}
    for a in session.scalars(select(Absence).where(Absence.ends_at > now - timedelta(days=1))):
        absences.setdefault(a.user_id, []).append((a.starts_at, a.ends_at))
    reps = {}
    for u in users:
        p = profiles.get(u.id)
        reps[u.id] = Rep(u.id, u.name, role=u.role, weight=p.weight if p else 1.0,
                         daily_capacity=p.daily_capacity if p else None, calendar=_calendar(p),
                         absences=tuple(absences.get(u.id, ())), active=u.is_active)
    return reps


def load_rules(session: Session, for_role: str) -> list[RoutingRule]:
    rows = session.scalars(select(RoutingRuleRow).where(RoutingRuleRow.for_role == for_role)
                           .order_by(RoutingRuleRow.position)).all()
    return [RoutingRule(r.strategy, r.label, {k: tuple(v) for k, v in (r.match or {}).items()}, tuple(r.pool or ()))
            for r in rows]


def load_state(session: Session, reps: dict[int, Rep], *, now: datetime) -> RoutingState:
    state = RoutingState()
    for c in session.scalars(select(RoutingCredit)):
        state.credits.setdefault(c.pool, {})[c.rep_id] = c.credit
    recent = session.execute(select(Handoff.rep_id, Handoff.handed_at)
                             .where(Handoff.handed_at >= now - timedelta(days=2), Handoff.rep_id.is_not(None))).all()
    for rep_id, at in recent:
        rep = reps.get(rep_id)
        if rep is None:
            continue
        day = at.astimezone(rep.calendar.zone).date() if rep.calendar else at.date()
        state.assigned[(rep_id, day)] = state.assigned.get((rep_id, day), 0) + 1
    return state


def save_credits(session: Session, state: RoutingState) -> None:
    session.execute(delete(RoutingCredit))
    session.add_all(RoutingCredit(pool=pool, rep_id=rep, credit=c)
                    for pool, credits in state.credits.items() for rep, c in credits.items())
