"""People and access: users, roles, API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.domain.identity import normalise_email
from revteam.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from revteam.security import (
    API_TOKEN_PREFIX,
    MIN_PASSWORD_LENGTH,
    hash_password,
    new_token,
    token_digest,
)
from revteam.services.record.audit import record_audit
from revteam.store.models import ROLES, ApiToken, Team, User


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}; use one of: {', '.join(ROLES)}.", code="unknown_role")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password is too short; use at least {MIN_PASSWORD_LENGTH} characters.", code="weak_password"
        )
    return password


def get_or_create_team(session: Session, name: str, function: str = "sales") -> Team:
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        team = Team(name=name, function=function)
        session.add(team)
        session.flush()
    return team


def add_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None,
    now: datetime,
    team: str | None = None,
    actor: str = "cli",
) -> User:
    try:
        norm = normalise_email(email)
    except ValueError as e:
        raise InvalidInput(str(e), code="bad_email") from None
    if norm is None:
        raise InvalidInput("An e-mail address is required.", code="bad_email")
    _check_role(role)
    if session.scalar(select(User.id).where(User.email == norm)) is not None:
        raise Conflict(f"A user with e-mail {norm} already exists.", code="user_exists")
    team_row = get_or_create_team(session, team, "marketing" if role == "marketing" else "sales") if team else None
    user = User(
        email=norm,
        name=name.strip() or norm,
        role=role,
        team_id=team_row.id if team_row else None,
        password_hash=hash_password(check_password(password)) if password else None,
        is_active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    record_audit(session, at=now, actor=actor, action="user.added", entity="user", entity_id=user.id, detail={"role": role})
    return user


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound(f"No user with e-mail {email}.", code="user_not_found")
    return user


@dataclass
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken


def issue_api_token(session: Session, user: User, *, name: str, now: datetime) -> IssuedToken:
    token = new_token(API_TOKEN_PREFIX)
    row = ApiToken(user_id=user.id, name=name, prefix=token[:10], token_hash=token_digest(token), created_at=now)
    session.add(row)
    session.flush()
    record_audit(session, at=now, actor=f"user:{user.id}", action="token.issued", entity="api_token", entity_id=row.id)
    return IssuedToken(token, row)


def user_for_api_token(session: Session, token: str | None, *, now: datetime) -> User:
    """The active user behind a bearer token, or ``Unauthenticated``."""
    if not token:
        raise Unauthenticated("This call needs an API token: send `Authorization: Bearer <token>`.", code="token_missing")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("The API token is unknown or revoked; create one with `revteam users token`.", code="token_invalid")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("The API token's user is deactivated.", code="token_invalid")
    row.last_used_at = now
    return user
