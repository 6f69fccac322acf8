"""The written service-level agreement between marketing and sales: its versions and the sign-off by both heads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from revteam.store.tables.base import Base
from revteam.store.types import UTCDateTime


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
