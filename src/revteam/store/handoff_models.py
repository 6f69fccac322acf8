"""Tables of the handoff: scoring models and scores, the SLA and its sign-off, routing, handoffs,
disputes and votes, scoring reviews, and the notification outbox (issue #3)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from revteam.store.models import Base
from revteam.store.types import UTCDateTime


class ScoringModelRow(Base):
    """One version of the scoring model; the newest active one scores. Rules are kept as TOML."""

    __tablename__ = "scoring_models"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    body_toml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(500))


class ContactScore(Base):
    __tablename__ = "contact_scores"
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    model_version: Mapped[int] = mapped_column(Integer)
    fit: Mapped[float] = mapped_column(Float)
    engagement: Mapped[float] = mapped_column(Float)
    total: Mapped[float] = mapped_column(Float, index=True)
    is_mql: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[list[Any] | None] = mapped_column(JSON)
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SlaAgreement(Base):
    """A version of the written agreement; in force once both heads have signed it."""

    __tablename__ = "sla_agreements"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    text: Mapped[str] = mapped_column(Text)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    committee: Mapped[list[int]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    in_force_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SlaSignoff(Base):
    __tablename__ = "sla_signoffs"
    __table_args__ = (UniqueConstraint("agreement_id", "side"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sla_agreements.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(20))  # marketing | sales
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RepProfile(Base):
    """How routing sees a rep: weight, capacity, working hours, manager."""

    __tablename__ = "rep_profiles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    daily_capacity: Mapped[int | None] = mapped_column(Integer)
    tz: Mapped[str] = mapped_column(String(60), default="UTC")
    opens: Mapped[str] = mapped_column(String(5), default="09:00")
    closes: Mapped[str] = mapped_column(String(5), default="17:00")
    weekdays: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4")
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    regions: Mapped[list[str] | None] = mapped_column(JSON)
    segments: Mapped[list[str] | None] = mapped_column(JSON)


class Absence(Base):
    __tablename__ = "absences"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(200))


class RoutingRuleRow(Base):
    __tablename__ = "routing_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    strategy: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(120))
    match: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pool: Mapped[list[int] | None] = mapped_column(JSON)
    for_role: Mapped[str] = mapped_column(String(10), default="sdr")  # sdr: MQL routing; ae: SQL handover


class RoutingCredit(Base):
    """Smooth weighted round-robin credits, per pool and rep (the only routing state kept)."""

    __tablename__ = "routing_credits"
    pool: Mapped[str] = mapped_column(String(200), primary_key=True)
    rep_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    credit: Mapped[float] = mapped_column(Float)


class Handoff(Base):
    """A lead handed from marketing to sales (or from SDR to AE), with its context and SLA clock."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_rep_status", "rep_id", "status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10), default="mql")  # mql | sql (SDR → AE)
    rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), index=True)  # pending|accepted|rejected|recycled|unassigned
    priority: Mapped[str] = mapped_column(String(10))
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    sla_version: Mapped[int | None] = mapped_column(Integer)
    at_risk_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_touch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(40))
    reject_note: Mapped[str | None] = mapped_column(Text)
    recycle_until: Mapped[date | None] = mapped_column(Date)
    routing_rule: Mapped[str | None] = mapped_column(String(120))
    routing_reason: Mapped[str | None] = mapped_column(Text)
    score_total: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str | None] = mapped_column(String(80), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class RejectReason(Base):
    __tablename__ = "reject_reasons"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    recycles: Mapped[bool] = mapped_column(Boolean, default=False)  # not ready: back to nurture
    position: Mapped[int] = mapped_column(Integer, default=0)


class Dispute(Base):
    __tablename__ = "disputes"
    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoffs.id", ondelete="CASCADE"), unique=True)
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    committee: Mapped[list[int]] = mapped_column(JSON)
    outcome: Mapped[str | None] = mapped_column(String(20))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    summary: Mapped[str | None] = mapped_column(Text)


class DisputeVote(Base):
    __tablename__ = "dispute_votes"
    __table_args__ = (UniqueConstraint("dispute_id", "member_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    choice: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScoringReview(Base):
    __tablename__ = "scoring_reviews"
    __table_args__ = (UniqueConstraint("source", "reason", "last_week"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(String(40))
    last_week: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | done
    closed_note: Mapped[str | None] = mapped_column(Text)


class OutboxMessage(Base):
    """A notification to deliver. ``key`` makes enqueueing idempotent; delivery marks it sent once."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(20))  # email | slack | teams | webhook
    target: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|sending|sent|failed
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class NotificationPreference(Base):
    __tablename__ = "notification_prefs"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    event: Mapped[str] = mapped_column(String(40), primary_key=True)  # assignment|at_risk|breach|dispute|digest
    channels: Mapped[list[str]] = mapped_column(JSON)  # [] = muted


class NotificationGroup(Base):
    __tablename__ = "notification_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(500))  # e.g. a Slack webhook


class GroupMembership(Base):
    __tablename__ = "group_memberships"
    group_id: Mapped[int] = mapped_column(ForeignKey("notification_groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserChannel(Base):
    """Where a person receives chat messages (their Slack/Teams webhook or DM address)."""

    __tablename__ = "user_channels"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    target: Mapped[str] = mapped_column(String(500))


class ErasedIdentity(Base):
    """SHA-256 of the e-mail of a person erased on request, so an import cannot bring them back."""

    __tablename__ = "erased_identities"
    email_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContentUsage(Base):
    """A rep used a content piece in a deal, and said whether it helped (PRODUCT.md R10)."""

    __tablename__ = "content_usage"
    __table_args__ = (UniqueConstraint("deal_id", "content_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    content_id: Mapped[int] = mapped_column(ForeignKey("content_assets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    used_at: Mapped[datetime] = mapped_column(UTCDateTime)
    helped: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
