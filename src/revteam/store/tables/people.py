"""People and access: teams, users and their roles (and service accounts), web sessions, API tokens (scoped, expiring), failed log-ins counted for throttling, reps' working profiles and absences, and the erased identities kept so an erased person is never imported again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from revteam.domain.roles import ROLES  # noqa: F401 - defined in the domain, re-exported by store.models
from revteam.store.tables.base import Base
from revteam.store.types import UTCDateTime


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    function: Mapped[str] = mapped_column(String(20), default="sales")  # sales | marketing | leadership


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # a service account (a website tracker, a CRM sync): no password, cannot log in; admins issue its tokens
    is_service: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    team: Mapped[Team | None] = relationship()


class WebSession(Base):
    """A server-side session; the cookie holds a random token, the table holds its SHA-256."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """An API token; only its SHA-256 is stored, the clear token is shown once at creation. ``scope`` is
    ``read``, ``ingest`` or ``full`` (domain/token_scopes.py); after ``expires_at`` it is refused."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scope: Mapped[str] = mapped_column(String(20), default="full", server_default="full")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginThrottle(Base):
    """Failed log-ins counted per account (``account:<e-mail>``) and per client address (``address:<ip>``);
    while ``blocked_until`` is ahead, attempts with that key are refused without checking the password."""

    __tablename__ = "login_throttles"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


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


class ErasedIdentity(Base):
    """SHA-256 of the e-mail of a person erased on request, so an import cannot bring them back."""

    __tablename__ = "erased_identities"
    email_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)
