"""The lead inbox as the pages and the API show it: a rep's pending handoffs in order of urgency, the
accepted MQLs still to qualify, the unassigned queue, and each lead's row (contact, account, rep,
campaign, where its SLA clock stands, its dispute). Reads only; what changes a lead is ``decide``.

Model
    * A clock (``clock_of``) is *worked* once the first sales touch is in (late when after the due time),
      *breached* once the due time has passed, *at risk* from its at-risk time, otherwise *open*; a
      handoff without a due time has no clock.
    * Urgency (``urgency``): a running clock first, by due time (so the overdue come first), then by
      priority (hot, warm, cold), then the oldest handover.
    * Whose inbox (``inbox_rep``): reps see their own, asking for another's is refused; supervisors pick a
      rep by id, ``me``, or everyone (``all``, their default).

Worked example: at 10:00, a hot lead due at 10:35 reads "due in 35 min"; a warm one due at 09:00 reads
"overdue by 1 h" and comes first; a lead first called at 09:40 reads "worked Mon 09:40".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.domain.ids import id_from_text
from revteam.domain.roles import REPS, SUPERVISORS
from revteam.errors import Forbidden, InvalidInput, NotFound
from revteam.services.handoff.decide import get_handoff
from revteam.store.models import Account, Campaign, Contact, Dispute, Handoff, RejectReason, User

PRIORITY_RANK = {"hot": 0, "warm": 1, "cold": 2}
PRIORITY_LABELS = {"hot": "Hot", "warm": "Warm", "cold": "Cold"}
TOUCH_KINDS = {"sales_call": "Call", "sales_email": "E-mail", "meeting": "Meeting"}
UTC = ZoneInfo("UTC")
QUALIFY_DAYS = 90  # accepted MQLs older than this are no longer offered for qualifying
QUEUE_LIMIT = 100


# ---------------------------------------------------------------- clocks and durations
def duration_text(delta: timedelta) -> str:
    """``timedelta(minutes=35)`` → ``35 min``; 125 minutes → ``2 h 5 min``; 50 hours → ``2 days 2 h``."""
    minutes = int(abs(delta).total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, mins = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h" + (f" {mins} min" if mins and hours < 10 else "")
    days, hours = divmod(hours, 24)
    return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours and days < 3 else "")


def minutes_text(minutes: float | None) -> str:
    return "–" if minutes is None else duration_text(timedelta(minutes=minutes))


@dataclass(frozen=True)
class ClockView:
    """Where a handoff's SLA clock stands at ``now``, in words."""

    state: str  # open | at_risk | breached | worked | none
    text: str  # "due in 35 min", "overdue by 2 h", "first touch 10:05", "no SLA clock"
    due_at: datetime | None

    @property
    def live(self) -> bool:
        return self.state in ("open", "at_risk", "breached") and self.due_at is not None


def clock_of(h: Handoff, now: datetime, tz: ZoneInfo = UTC) -> ClockView:
    if h.first_touch_at is not None and h.first_touch_at <= now:
        late = h.due_at is not None and h.first_touch_at > h.due_at
        when = h.first_touch_at.astimezone(tz).strftime("%a %H:%M")
        return ClockView("worked", f"worked {when}{' (late)' if late else ''}", h.due_at)
    if h.due_at is None:
        return ClockView("none", "no SLA clock", None)
    if now >= h.due_at:
        return ClockView("breached", f"overdue by {duration_text(now - h.due_at)}", h.due_at)
    state = "at_risk" if h.at_risk_at is not None and now >= h.at_risk_at else "open"
    return ClockView(state, f"due in {duration_text(h.due_at - now)}", h.due_at)


# ---------------------------------------------------------------- lead rows
@dataclass
class LeadRow:
    handoff: Handoff
    contact: Contact
    account: Account | None
    rep: User | None
    campaign: str | None
    clock: ClockView
    qualified: bool = False  # an accepted MQL already handed to an AE as an SQL
    dispute: Dispute | None = None  # the dispute about its rejection, if marketing opened one

    @property
    def returned(self) -> bool:
        """Back with sales because the committee returned it (its rejection cannot be disputed again)."""
        return self.dispute is not None and self.dispute.outcome == "return_to_sales"

    @property
    def can_qualify(self) -> bool:
        return self.handoff.kind == "mql" and self.handoff.status == "accepted" and not self.qualified

    @property
    def context(self) -> dict[str, Any]:
        return self.handoff.context or {}


def lead_rows(session: Session, handoffs: list[Handoff], now: datetime, tz: ZoneInfo) -> list[LeadRow]:
    """The rows of these handoffs, in their order, with a handful of queries whatever their number."""
    if not handoffs:
        return []
    contacts = {c.id: c for c in session.scalars(select(Contact).where(Contact.id.in_({h.contact_id for h in handoffs})))}
    account_ids = {c.account_id for c in contacts.values() if c.account_id}
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(account_ids)))} if account_ids else {}
    rep_ids = {h.rep_id for h in handoffs if h.rep_id}
    reps_by_id = {u.id: u for u in session.scalars(select(User).where(User.id.in_(rep_ids)))} if rep_ids else {}
    camp_ids = {h.campaign_id for h in handoffs if h.campaign_id}
    camps = dict(session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(camp_ids))).all()) if camp_ids else {}
    accepted = [h.contact_id for h in handoffs if h.kind == "mql" and h.status == "accepted"]
    with_sql = set(session.scalars(select(Handoff.contact_id).where(Handoff.kind == "sql",
                                                                    Handoff.contact_id.in_(accepted)))) if accepted else set()
    ids = [h.id for h in handoffs]
    disputed = {d.handoff_id: d for d in session.scalars(select(Dispute).where(Dispute.handoff_id.in_(ids)))}
    out = []
    for h in handoffs:
        c = contacts[h.contact_id]
        out.append(LeadRow(h, c, accounts.get(c.account_id) if c.account_id else None, reps_by_id.get(h.rep_id or -1),
                           camps.get(h.campaign_id or -1) or (h.context or {}).get("campaign"), clock_of(h, now, tz),
                           qualified=h.contact_id in with_sql, dispute=disputed.get(h.id)))
    return out


def lead_row(session: Session, handoff_id: int, now: datetime, tz: ZoneInfo = UTC) -> LeadRow:
    """One lead's row as it is in the database now (after an action: nothing is served from memory)."""
    session.expire_all()
    return lead_rows(session, [get_handoff(session, handoff_id)], now, tz)[0]


# ---------------------------------------------------------------- the inbox
@dataclass
class Inbox:
    rep: User | None  # None: every rep
    pending: list[LeadRow]
    to_qualify: list[LeadRow]  # accepted MQLs with no SQL handoff yet
    unassigned: list[LeadRow] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        states = [r.clock.state for r in self.pending]
        return {"pending": len(self.pending), "breached": states.count("breached"), "at_risk": states.count("at_risk"),
                "to_qualify": len(self.to_qualify), "unassigned": len(self.unassigned)}


def urgency(row: LeadRow) -> tuple[Any, ...]:
    """Most urgent first: a running clock by due time (overdue first), then priority, then the oldest."""
    h = row.handoff
    running = row.clock.live
    return (0 if running else 1, h.due_at or datetime.max.replace(tzinfo=UTC), PRIORITY_RANK.get(h.priority, 9),
            h.handed_at, h.id)


def inbox(session: Session, *, rep_id: int | None, now: datetime, tz: ZoneInfo = UTC,
          qualify_days: int = QUALIFY_DAYS) -> Inbox:
    """Pending handoffs of ``rep_id`` (every rep when None), most urgent first; accepted MQLs still to qualify."""
    q = select(Handoff).where(Handoff.status == "pending")
    if rep_id is not None:
        q = q.where(Handoff.rep_id == rep_id)
    pending = sorted(lead_rows(session, list(session.scalars(q)), now, tz), key=urgency)
    has_sql = select(Handoff.contact_id).where(Handoff.kind == "sql")
    aq = (select(Handoff).where(Handoff.kind == "mql", Handoff.status == "accepted",
                                Handoff.decided_at >= now - timedelta(days=qualify_days),
                                Handoff.contact_id.not_in(has_sql))
          .order_by(Handoff.decided_at.desc()))
    if rep_id is not None:
        aq = aq.where(Handoff.rep_id == rep_id)
    to_qualify = lead_rows(session, list(session.scalars(aq.limit(QUEUE_LIMIT))), now, tz)
    unassigned: list[LeadRow] = []
    if rep_id is None:
        uq = select(Handoff).where(Handoff.status == "unassigned").order_by(Handoff.handed_at.desc()).limit(QUEUE_LIMIT)
        unassigned = lead_rows(session, list(session.scalars(uq)), now, tz)
    rep = session.get(User, rep_id) if rep_id is not None else None
    return Inbox(rep, pending, to_qualify, unassigned)


def reps(session: Session) -> list[User]:
    """Active sales reps (SDRs and AEs), for the inbox's rep picker."""
    return list(session.scalars(select(User).where(User.role.in_(REPS), User.is_active.is_(True)).order_by(User.name)))


def inbox_rep(session: Session, me: User, rep: str | None) -> int | None:
    """Whose inbox to show: reps see their own (asking for another rep's is refused); supervisors pick
    one (``rep`` = a user id) or everyone (``all``, the default)."""
    value = (rep or "").strip().lower()
    if me.role not in SUPERVISORS:
        if value in ("", "me") or value == str(me.id):
            return me.id
        raise Forbidden("You can open your own inbox only; a leader or admin can open anybody's.", code="not_your_inbox")
    if value in ("", "all", "any"):
        return None
    if value == "me":
        return me.id
    rep_id = id_from_text(value)
    if rep_id is None:
        raise InvalidInput(f"Unknown rep {rep!r}; use all, me or a user id.", code="bad_rep")
    user = session.get(User, rep_id)
    if user is None or user.role not in REPS:
        raise NotFound(f"No sales rep with id {value}; pick one from the list.", code="rep_not_found")
    return user.id


def reject_reasons(session: Session) -> list[RejectReason]:
    return list(session.scalars(select(RejectReason).order_by(RejectReason.position, RejectReason.code)))


def reason_labels(session: Session) -> dict[str, str]:
    return {r.code: r.label for r in reject_reasons(session)}


def rep_of_handoffs(session: Session, handoff_ids: list[int]) -> dict[int, int | None]:
    if not handoff_ids:
        return {}
    return dict(session.execute(select(Handoff.id, Handoff.rep_id).where(Handoff.id.in_(handoff_ids))).all())


# ---------------------------------------------------------------- after an action
@dataclass(frozen=True)
class LeadOutcome:
    """What became of a lead after an action, for the sentence the inbox shows."""

    status: str
    name: str  # the contact's name
    recycle_until: date | None
    sql_rep: str | None  # qualified: the AE the SQL went to (None: the unassigned queue)


def lead_outcome(session: Session, handoff_id: int) -> LeadOutcome | None:
    h = session.get(Handoff, handoff_id)
    if h is None:
        return None
    contact = session.get(Contact, h.contact_id)
    sql = session.scalars(select(Handoff).where(Handoff.contact_id == h.contact_id, Handoff.kind == "sql")
                          .order_by(Handoff.id.desc())).first()
    rep = session.get(User, sql.rep_id) if sql is not None and sql.rep_id else None
    return LeadOutcome(h.status, contact.display_name if contact else "The lead", h.recycle_until,
                       rep.name if rep else None)
