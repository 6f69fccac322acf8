"""Disputed rejections as the pages and the API show them (R6): recent rejections marketing may dispute,
and each dispute with its lead, the rejection as the rep gave it, marketing's reason and the committee's
votes. Reads only; opening a dispute and voting are ``decide.open_dispute`` and ``decide.cast_vote``,
and the majority rule is ``domain.disputes``.

The rejection shown is the one in the audit log at the time the dispute was opened: a lead the
committee returned to sales no longer carries its reason on the handoff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.domain.disputes import CHOICES, majority
from revteam.errors import InvalidInput
from revteam.services.handoff.agreement import agreement_in_force
from revteam.services.handoff.inbox import UTC, LeadRow, lead_rows, reason_labels
from revteam.store.models import AuditEntry, Contact, Dispute, DisputeVote, Handoff, User

CHOICE_LABELS = {"return_to_sales": "Return to sales", "uphold_rejection": "Uphold the rejection"}
assert set(CHOICE_LABELS) == set(CHOICES)
DISPUTE_STATUSES = ("open", "decided", "all")


# ---------------------------------------------------------------- rejections
@dataclass
class RejectionRow:
    lead: LeadRow
    reason: str  # the label
    dispute_id: int | None


def recent_rejections(session: Session, *, now: datetime, days: int = 30, tz: ZoneInfo = UTC,
                      limit: int = 100) -> list[RejectionRow]:
    """Rejected or recycled MQLs decided in the last ``days`` days, newest first, with their dispute if any."""
    hs = list(session.scalars(select(Handoff).where(Handoff.status.in_(("rejected", "recycled")), Handoff.kind == "mql",
                                                    Handoff.decided_at >= now - timedelta(days=days))
                              .order_by(Handoff.decided_at.desc(), Handoff.id.desc()).limit(limit)))
    disputes_by_handoff = dict(session.execute(select(Dispute.handoff_id, Dispute.id).where(
        Dispute.handoff_id.in_([h.id for h in hs]))).all()) if hs else {}
    labels = reason_labels(session)
    return [RejectionRow(row, labels.get(row.handoff.reject_reason or "", row.handoff.reject_reason or "–"),
                         disputes_by_handoff.get(row.handoff.id)) for row in lead_rows(session, hs, now, tz)]


# ---------------------------------------------------------------- disputes
@dataclass
class VoteView:
    member: User
    vote: DisputeVote | None

    @property
    def choice_label(self) -> str:
        return CHOICE_LABELS.get(self.vote.choice, self.vote.choice) if self.vote else "not voted yet"


@dataclass
class DisputeView:
    dispute: Dispute
    lead: LeadRow
    opened_by: User | None
    reason_label: str  # the rejection reason the rep gave
    note: str | None  # the rep's note
    rejected_by: User | None
    rejected_at: datetime | None
    members: list[VoteView]

    @property
    def votes_for(self) -> dict[str, int]:
        out = {c: 0 for c in CHOICE_LABELS}
        for m in self.members:
            if m.vote is not None:
                out[m.vote.choice] = out.get(m.vote.choice, 0) + 1
        return out

    @property
    def needed(self) -> int:
        """Votes one side needs to decide it (a strict majority of the committee)."""
        return majority(len(self.members))

    def can_vote(self, user: User) -> bool:
        return self.dispute.outcome is None and any(m.member.id == user.id and m.vote is None for m in self.members)


def disputes(session: Session, *, status: str = "open", now: datetime, tz: ZoneInfo = UTC, limit: int = 50,
             dispute_id: int | None = None) -> list[DisputeView]:
    """Disputes (``open``, ``decided`` or ``all``; or the one ``dispute_id``), newest first, with the lead,
    the rejection and the votes."""
    q = select(Dispute).order_by(Dispute.opened_at.desc(), Dispute.id.desc()).limit(limit)
    if dispute_id is not None:
        q = q.where(Dispute.id == dispute_id)
    if status == "open":
        q = q.where(Dispute.outcome.is_(None))
    elif status == "decided":
        q = q.where(Dispute.outcome.is_not(None))
    elif status != "all":
        raise InvalidInput(f"Unknown dispute status {status!r}; use open, decided or all.", code="bad_status")
    ds = list(session.scalars(q))
    if not ds:
        return []
    handoffs = {h.id: h for h in session.scalars(select(Handoff).where(Handoff.id.in_([d.handoff_id for d in ds])))}
    rows = {r.handoff.id: r for r in lead_rows(session, list(handoffs.values()), now, tz)}
    votes: dict[int, dict[int, DisputeVote]] = {}
    for v in session.scalars(select(DisputeVote).where(DisputeVote.dispute_id.in_([d.id for d in ds]))):
        votes.setdefault(v.dispute_id, {})[v.member_id] = v
    user_ids = {d.opened_by for d in ds} | {m for d in ds for m in d.committee}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    labels = reason_labels(session)
    out = []
    for d in ds:
        h = handoffs[d.handoff_id]
        reason, note, by, at = _rejection_of(session, d, h, labels)
        members = [VoteView(users[m], votes.get(d.id, {}).get(m)) for m in d.committee if m in users]
        out.append(DisputeView(d, rows[h.id], users.get(d.opened_by), reason, note, by, at, members))
    return out


def dispute(session: Session, dispute_id: int, *, now: datetime, tz: ZoneInfo = UTC) -> DisputeView:
    """One dispute as it is in the database now (after a vote: nothing is served from memory)."""
    session.expire_all()
    [found] = disputes(session, status="all", now=now, tz=tz, dispute_id=dispute_id)
    return found


def _rejection_of(session: Session, d: Dispute, h: Handoff,
                  labels: dict[str, str]) -> tuple[str, str | None, User | None, datetime | None]:
    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "handoff", AuditEntry.entity_id == str(h.id),
                                                     AuditEntry.action.in_(("handoff.rejected", "handoff.recycled")),
                                                     AuditEntry.at <= d.opened_at)
                            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(1)).first()
    if entry is not None:
        detail = entry.detail or {}
        code = str(detail.get("reason") or "")
        by = session.get(User, entry.actor_user_id) if entry.actor_user_id else None
        return labels.get(code, code or "–"), detail.get("note"), by, entry.at
    code = h.reject_reason or ""
    return labels.get(code, code or "–"), h.reject_note, session.get(User, h.rep_id) if h.rep_id else None, h.decided_at


def committee_ready(session: Session) -> bool:
    """Can a dispute be opened at all: does the SLA in force name a committee?"""
    agreement = agreement_in_force(session)
    return agreement is not None and bool(agreement.row.committee)


@dataclass(frozen=True)
class DisputeOutcome:
    """Where a dispute stands after it was opened or voted on, for the sentence the page shows."""

    name: str  # the lead's name
    outcome: str | None  # return_to_sales | uphold_rejection | None while open
    summary: str | None


def dispute_outcome(session: Session, dispute_id: int) -> DisputeOutcome | None:
    d = session.get(Dispute, dispute_id)
    if d is None:
        return None
    h = session.get(Handoff, d.handoff_id)
    contact = session.get(Contact, h.contact_id) if h is not None else None
    return DisputeOutcome(contact.display_name if contact else "the lead", d.outcome, d.summary)
