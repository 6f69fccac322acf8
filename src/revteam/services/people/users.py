"""People and access: users, roles, API tokens.

Use cases (each its own transaction): add a user, (de)activate one (deactivating ends their web sessions
at once and their API tokens stop working; nobody deactivates themselves), issue an API token (shown
once, only its SHA-256 stored) and revoke one. Reads: the people and tokens an admin sees, names by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

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
from revteam.store.db import transaction
from revteam.store.models import ROLES, ApiToken, Team, User, WebSession


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
    with transaction(session):
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
    user: User  # whom it acts as


def issue_api_token(session: Session, user: User, *, name: str, now: datetime) -> IssuedToken:
    with transaction(session):
        token = new_token(API_TOKEN_PREFIX)
        row = ApiToken(user_id=user.id, name=name, prefix=token[:10], token_hash=token_digest(token), created_at=now)
        session.add(row)
        session.flush()
        record_audit(session, at=now, actor=f"user:{user.id}", action="token.issued", entity="api_token",
                     entity_id=row.id)
    return IssuedToken(token, row, user)


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}; pick one from the Users page.", code="user_not_found")
    return user


def issue_token_for(session: Session, user_id: int, *, name: str, by: User, now: datetime) -> IssuedToken:
    """An admin issues a token for someone (active); the audit log says who issued it for whom."""
    with transaction(session):
        user = get_user(session, user_id)
        if not user.is_active:
            raise InvalidInput(f"{user.email} is deactivated; activate them before issuing a token.",
                               code="user_inactive")
        issued = issue_api_token(session, user, name=name.strip() or "api", now=now)
        record_audit(session, at=now, actor=f"user:{by.id}", actor_user_id=by.id, action="token.issued_for",
                     entity="api_token", entity_id=issued.record.id,
                     detail={"user_id": user.id, "name": issued.record.name})
    return issued


def revoke_token(session: Session, token_id: int, *, by: User, now: datetime) -> ApiToken:
    """Calls with a revoked token get 401 from then on; revoking twice changes nothing."""
    with transaction(session):
        token = session.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"No API token with id {token_id}.", code="token_not_found")
        if token.revoked_at is None:
            token.revoked_at = now
            record_audit(session, at=now, actor=f"user:{by.id}", actor_user_id=by.id, action="token.revoked",
                         entity="api_token", entity_id=token.id, detail={"user_id": token.user_id})
    return token


def set_user_active(session: Session, user_id: int, active: bool, *, by: User, now: datetime) -> User:
    """(De)activate a user; deactivating ends their web sessions. Nobody deactivates themselves, so an
    installation cannot lose its last way in by accident."""
    with transaction(session):
        user = get_user(session, user_id)
        if user.id == by.id and not active:
            raise InvalidInput("You cannot deactivate yourself; ask another admin.", code="self_deactivate")
        if user.is_active != active:
            user.is_active = active
            if not active:
                session.execute(delete(WebSession).where(WebSession.user_id == user.id))
            record_audit(session, at=now, actor=f"user:{by.id}", actor_user_id=by.id,
                         action="user.activated" if active else "user.deactivated", entity="user", entity_id=user.id)
    return user


def all_users(session: Session) -> list[User]:
    """Everyone, in the order they were added."""
    return list(session.scalars(select(User).order_by(User.id)))


@dataclass
class PeopleAndTokens:
    users: list[User]  # active first, then by name; with their team
    tokens: list[tuple[ApiToken, str]]  # every token with its user's name, newest first


def people_and_tokens(session: Session) -> PeopleAndTokens:
    users = list(session.scalars(select(User).options(selectinload(User.team))
                                 .order_by(User.is_active.desc(), User.name)))
    tokens = [(t, name) for t, name in session.execute(
        select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).order_by(ApiToken.created_at.desc()))]
    return PeopleAndTokens(users, tokens)


def names_of(session: Session, ids: list[int]) -> dict[int, str]:
    """User names by id (for "proposed by", "signed by", "saved by")."""
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())


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
