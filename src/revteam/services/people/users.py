"""People and access: users (people and service accounts), roles; API tokens live in ``tokens.py``.

Use cases (each its own transaction): add a user or a service account, (de)activate one (deactivating
ends their web sessions at once and their API tokens stop working; nobody deactivates themselves).
Reads: the people and tokens an admin sees, names by id. The token use cases (``tokens.py``) are
re-exported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from revteam.domain.identity import normalise_email
from revteam.errors import Conflict, InvalidInput, NotFound
from revteam.security import MIN_PASSWORD_LENGTH, hash_password
from revteam.services.people.tokens import (  # noqa: F401 - the token use cases, re-exported for the faces
    IssuedToken,
    all_tokens,
    issue_api_token,
    issue_own_token,
    issue_token_by_email,
    issue_token_for,
    revoke_token,
    tokens_of,
    user_for_api_token,
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
    service: bool = False,
) -> User:
    """Add a person (a password is required, so they can log in) or a service account (``service=True``: no
    password, never logs in; admins issue its API tokens, see ``services/people/tokens.py``). Every face (page,
    CLI) relies on this rule, not on its own check."""
    with transaction(session):
        try:
            norm = normalise_email(email)
        except ValueError as e:
            raise InvalidInput(str(e), code="bad_email") from None
        if norm is None:
            raise InvalidInput("An e-mail address is required.", code="bad_email")
        _check_role(role)
        if service and password:
            raise InvalidInput("A service account has no password (it never logs in); leave the password empty.",
                               code="service_password")
        if not service and not password:
            raise InvalidInput("Set a password (at least 10 characters); share it with the person safely. For a "
                               "tool, make it a service account instead.", code="password_missing")
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
            is_service=service,
        )
        session.add(user)
        session.flush()
        record_audit(session, at=now, actor=actor, action="user.added", entity="user", entity_id=user.id, detail={"role": role, "service": service})
        return user


def user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
    if user is None:
        raise NotFound(f"No user with e-mail {email}.", code="user_not_found")
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}; pick one from the Users page.", code="user_not_found")
    return user


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
    return PeopleAndTokens(users, all_tokens(session))


def names_of(session: Session, ids: list[int]) -> dict[int, str]:
    """User names by id (for "proposed by", "signed by", "saved by")."""
    if not ids:
        return {}
    return dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all())
