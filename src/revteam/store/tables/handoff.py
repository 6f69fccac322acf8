"""The handoff: routing rules and round-robin credits, handoffs with their SLA clock, reject reasons, disputes and the committee's votes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from revteam.store.tables.base import Base
from revteam.store.types import UTCDateTime


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


OPEN_STATUSES = ("pending", "unassigned")  # a handoff still waiting for a rep's decision
_OPEN = text("status IN ('pending', 'unassigned')")


class Handoff(Base):
    """A lead handed from marketing to sales (or from SDR to AE), with its context and SLA clock.

    At most one open (pending or unassigned) handoff of each kind per contact: a partial unique index,
    so two hand-overs of one lead racing each other cannot both be stored."""

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_rep_status", "rep_id", "status"),
        Index("uq_handoffs_open_contact_kind", "contact_id", "kind", unique=True, sqlite_where=_OPEN,
              postgresql_where=_OPEN),
    )
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
