"""The shared revenue record: accounts, contacts, touches, campaigns, content pieces (and reps' use of them), deals and their stage history, lifecycle stages and moves, owners, targets, import runs and the audit log.

Business rules live in ``revteam.domain``; these rows only hold state. Times are UTC (``UTCDateTime``); money is
``Numeric(14, 2)`` with an ISO currency code."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revteam.store.tables.base import Base
from revteam.store.tables.people import User
from revteam.store.types import UTCDateTime

TOUCH_TYPES = (
    "page_view",
    "form_submit",
    "email_open",
    "email_click",
    "webinar_registered",
    "webinar_attended",
    "content_download",
    "ad_click",
    "event_attended",
    "demo_request",
    "pricing_request",
    "sales_call",
    "sales_email",
    "meeting",
    "email_bounce",
    "unsubscribe",
)


SALES_TOUCH_TYPES = ("sales_call", "sales_email", "meeting")


CONTENT_STATUSES = ("requested", "in_production", "published")


DEAL_OUTCOMES = ("open", "won", "lost")


CONSENT_VALUES = ("unknown", "opted_in", "opted_out")


class LifecycleStage(Base):
    """This installation's lifecycle stages, in order (``kind`` main) plus side states."""

    __tablename__ = "lifecycle_stages"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default="main")  # main | side


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40), default="revteam")
    external_id: Mapped[str | None] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200), index=True)
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    industry: Mapped[str | None] = mapped_column(String(80))
    employees: Mapped[int | None] = mapped_column(Integer)
    size_band: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(80))
    segment: Mapped[str | None] = mapped_column(String(40))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship()


class Campaign(Base):
    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40), default="revteam")
    external_id: Mapped[str | None] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(40))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    cost: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ContentAsset(Base):
    __tablename__ = "content_assets"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40), default="revteam")
    external_id: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(40))  # article, ebook, case_study, webinar, video, ...
    category: Mapped[str | None] = mapped_column(String(40))  # pricing, problems, comparisons, reviews, best_of
    status: Mapped[str] = mapped_column(String(20), default="published")
    requested_at: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    published_at: Mapped[date | None] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(String(2000))


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    source_system: Mapped[str] = mapped_column(String(40), default="revteam")
    external_id: Mapped[str | None] = mapped_column(String(120))
    first_name: Mapped[str | None] = mapped_column(String(120))
    last_name: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    persona: Mapped[str | None] = mapped_column(String(80))
    original_source: Mapped[str | None] = mapped_column(String(80))
    original_campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    stage: Mapped[str] = mapped_column(String(40), default="subscriber", index=True)
    stage_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent: Mapped[str] = mapped_column(String(20), default="unknown")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    account: Mapped[Account | None] = relationship()
    owner: Mapped[User | None] = relationship()

    @property
    def display_name(self) -> str:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or self.email or f"{self.source_system}:{self.external_id}"


class Touchpoint(Base):
    __tablename__ = "touchpoints"
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        Index("ix_touchpoints_contact_occurred", "contact_id", "occurred_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str | None] = mapped_column(String(40))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    content_id: Mapped[int | None] = mapped_column(ForeignKey("content_assets.id"), index=True)
    url: Mapped[str | None] = mapped_column(String(2000))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    source_system: Mapped[str] = mapped_column(String(40), default="revteam")
    external_id: Mapped[str | None] = mapped_column(String(120))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Deal(Base):
    __tablename__ = "deals"
    __table_args__ = (UniqueConstraint("source_system", "external_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source_system: Mapped[str] = mapped_column(String(40), default="revteam")
    external_id: Mapped[str | None] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    stage: Mapped[str] = mapped_column(String(40))  # pipeline stage name from the CRM
    outcome: Mapped[str] = mapped_column(String(10), default="open", index=True)  # open | won | lost
    lost_reason: Mapped[str | None] = mapped_column(String(200))
    created_on: Mapped[date] = mapped_column(Date)
    expected_close_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    source: Mapped[str | None] = mapped_column(String(80))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))

    account: Mapped[Account | None] = relationship()
    owner: Mapped[User | None] = relationship()
    contacts: Mapped[list[DealContact]] = relationship(back_populates="deal", cascade="all, delete-orphan")


class DealContact(Base):
    __tablename__ = "deal_contacts"
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), default="influencer")  # decision_maker, champion, ...

    deal: Mapped[Deal] = relationship(back_populates="contacts")
    contact: Mapped[Contact] = relationship()


DEAL_STAGE_SOURCES = ("import", "demo", "app", "history")


class DealStageChange(Base):
    """One move of a deal between pipeline stages, dated like the deal itself (``created_on``).

    A new deal gets a row with ``from_stage`` NULL on its ``created_on``; every later stage change
    that revteam sees (an import that carries a new stage, the app, the demo generator) adds one
    row. ``source`` says who wrote it: import | demo | app | history (an explicit history file).
    The forecast reads these rows to learn win rates by stage and age.
    """

    __tablename__ = "deal_stage_changes"
    __table_args__ = (Index("ix_deal_stage_changes_deal_id_changed_on", "deal_id", "changed_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(40))
    to_stage: Mapped[str] = mapped_column(String(40))
    changed_on: Mapped[date] = mapped_column(Date, index=True)
    source: Mapped[str] = mapped_column(String(20), default="app")


class StageChange(Base):
    """One lifecycle move of a contact: from, to, when, by whom (user) or which rule, and why."""

    __tablename__ = "stage_changes"
    __table_args__ = (
        UniqueConstraint("source_system", "external_id"),
        Index("ix_stage_changes_contact_changed", "contact_id", "changed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    from_stage: Mapped[str | None] = mapped_column(String(40))
    to_stage: Mapped[str] = mapped_column(String(40), index=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_rule: Mapped[str | None] = mapped_column(String(120))
    reason: Mapped[str | None] = mapped_column(Text)
    source_system: Mapped[str] = mapped_column(String(40), default="revteam")
    external_id: Mapped[str | None] = mapped_column(String(120))


class OwnerChange(Base):
    """Who owned a contact or account, from when: the timeline shows previous owners."""

    __tablename__ = "owner_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # contact | account
    entity_id: Mapped[int] = mapped_column(Integer, index=True)
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(200))


class Target(Base):
    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("metric", "period_start", "period_end", "team_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(60))  # won_revenue, new_customers, mqls, ...
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    value: Mapped[Decimal] = mapped_column(Numeric(16, 2))


class ImportRun(Base):
    """One import of one file: what it held and what it did (shown on the import page)."""

    __tablename__ = "import_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    filename: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))  # written | rejected | dry_run | partial
    rows: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[list[Any] | None] = mapped_column(JSON)
    errors: Mapped[list[Any] | None] = mapped_column(JSON)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(200))  # "user:3", "cli", "import", "rule:scoring"
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(60))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


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
