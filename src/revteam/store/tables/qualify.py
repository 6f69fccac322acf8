"""Qualifying leads: scoring model versions, every contact's current score with its reasons, and the reviews of scoring that rejections trigger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from revteam.store.tables.base import Base
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
