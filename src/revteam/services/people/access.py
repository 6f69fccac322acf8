"""Who is asking: logging in and out, the web session behind a cookie, the user behind an API token.

Model
    A web session is a row in ``web_sessions`` holding the SHA-256 of a random token; the browser holds
    the token itself (the web sets and clears the cookie, nothing here knows about cookies). A session
    lasts ``hours`` without activity: each request that uses it moves the expiry forward (at most once
    a minute, to spare the database a write per request). Each session has its own CSRF token.

Rules
    * Logging in always starts a new session and ends the one the browser came with (no fixation).
    * A failed log-in says the same thing whatever failed (unknown e-mail, wrong password, deactivated
      user) and takes about as long (an unknown e-mail is checked against a decoy hash), so the form
      cannot tell anyone who has an account. The failure is kept in the audit log.
    * Log-ins are throttled per account and per client address (``services/people/throttle.py``): a
      throttled attempt gets "Too many attempts; try again in N minutes" and its password is not checked.
    * Expired sessions and sessions of deactivated users are deleted on sight; logging out deletes the
      row, so a stolen cookie is useless afterwards.

Who is asking is looked up in a unit of work of its own (``visitor_for_cookie``, ``user_for_token``):
the sliding expiry or the token's ``last_used_at`` is kept even when the request's own use case fails
and rolls back, and the user comes back detached with its fields loaded, so an error page can still
show the person's name and menu after that rollback.

Worked example: with ``hours=12`` a session used at 09:00 expires at 21:00; used again at 09:00:30 it
is not moved (less than a minute later); used at 10:00 it expires at 22:00.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from revteam.domain.login_throttle import minutes_to_wait
from revteam.errors import RevteamError
from revteam.security import hash_password, new_token, token_digest, verify_password
from revteam.services.people.throttle import (
    LoginLimits,
    clear,
    keys_for,
    longest_wait,
    record_failure,
)
from revteam.services.people.tokens import (
    TokenCaller,
    caller_for_api_token,
    user_for_api_token,
)
from revteam.services.record.audit import record_audit
from revteam.store.db import transaction, unit_of_work
from revteam.store.models import User, WebSession

SLIDE_STEP = timedelta(minutes=1)
LOGIN_FAILED = "That e-mail and password do not match an active account. Check both and try again."


class LoginFailed(RevteamError):
    """The one answer to every failed log-in (see the module docstring)."""

    status = 400
    code = "login_failed"


class TooManyAttempts(RevteamError):
    """Log-ins for this account or from this address are paused (``services/people/throttle.py``)."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, wait: timedelta) -> None:
        minutes = minutes_to_wait(wait)
        super().__init__(f"Too many attempts; try again in {minutes} minute{'s' if minutes != 1 else ''}.")
        self.retry_after = max(1, int(wait.total_seconds() + 0.999))
        self.headers = {"Retry-After": str(self.retry_after)}


@dataclass
class Visitor:
    """A live web session and the person it belongs to."""

    row: WebSession
    user: User

    @property
    def csrf_token(self) -> str:
        return self.row.csrf_token


@cache
def _decoy_hash() -> str:
    """A hash to verify against when the e-mail is unknown, so that case takes as long as a wrong password."""
    return hash_password("decoy password that matches nobody")


# ---------------------------------------------------------------- sessions (building blocks)
def start_session(session: Session, user: User, *, now: datetime, hours: int) -> tuple[str, WebSession]:
    """Create a session for ``user``; returns the clear token for the cookie (never stored)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now))
    token = new_token()
    row = WebSession(
        token_hash=token_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    session.flush()
    return token, row


def load_session(session: Session, token: str | None, *, now: datetime, hours: int) -> Visitor | None:
    """The live session behind a token, or None (unknown, expired, or the user is inactive).

    Expired sessions and sessions of deactivated users are deleted on sight; the caller's transaction keeps it."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == token_digest(token)))
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if row.expires_at <= now or user is None or not user.is_active:
        session.delete(row)
        return None
    new_expiry = now + timedelta(hours=hours)
    if new_expiry - row.expires_at >= SLIDE_STEP:
        row.expires_at = new_expiry
    return Visitor(row, user)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_digest(token)))


def end_user_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


# ---------------------------------------------------------------- who is asking
def visitor_for_cookie(sessions: sessionmaker[Session], token: str | None, *, now: datetime,
                       hours: int) -> Visitor | None:
    """The live session behind a cookie's token, in its own unit of work (sliding expiry kept), detached."""
    if not token:
        return None
    with unit_of_work(sessions) as session:
        return load_session(session, token, now=now, hours=hours)


def user_for_token(sessions: sessionmaker[Session], token: str | None, *, now: datetime) -> User:
    """The active user behind an API token (``Unauthenticated`` otherwise), in its own unit of work
    (the token's ``last_used_at`` kept), detached."""
    with unit_of_work(sessions) as session:
        return user_for_api_token(session, token, now=now)


def caller_for_token(sessions: sessionmaker[Session], token: str | None, *, now: datetime) -> TokenCaller:
    """The user and scope behind an API token (``Unauthenticated`` otherwise), like ``user_for_token``."""
    with unit_of_work(sessions) as session:
        return caller_for_api_token(session, token, now=now)


# ---------------------------------------------------------------- use cases
def log_in(session: Session, *, email: str, password: str, now: datetime, hours: int,
           replacing: str | None = None, client: str | None = None, limits: LoginLimits | None = None,
           verify: Callable[[str | None, str], bool] = verify_password) -> str:
    """Check the e-mail and password and start a new session (ending ``replacing``, the browser's old
    one); returns the new session's token. Every failure is ``LoginFailed`` with the same message.

    Throttled per (account, client address) and per client address (``client``, see
    ``services/people/throttle.py``): while either is blocked the attempt is ``TooManyAttempts`` (429)
    and the password is not checked at all (no argon2 work for a flood). Failures from other addresses
    never block an account for this one, so nobody can lock someone else out.
    ``verify`` checks a password against a hash (argon2; tests pass a counting fake)."""
    address = email.strip().lower()
    keys = keys_for(address, client, limits or LoginLimits())
    with transaction(session):
        wait = longest_wait(session, keys, now)
    if wait is not None:
        raise TooManyAttempts(wait)
    with transaction(session):
        user = session.scalar(select(User).where(User.email == address)) if address else None
        if user is None:
            verify(_decoy_hash(), password)
            ok = False
        else:
            ok = verify(user.password_hash, password) and user.is_active
        if not ok:
            record_failure(session, keys, now)
            record_audit(session, at=now, actor="anonymous", action="user.login_failed", entity="user",
                         entity_id=user.id if user else None, detail={"email": address[:254]})
        else:
            assert user is not None
            if address:
                clear(session, keys[0][0])  # the account's count from this address; the address keeps its own
            end_session(session, replacing)  # a new session on every log-in: no fixation
            token, _ = start_session(session, user, now=now, hours=hours)
            record_audit(session, at=now, actor=f"user:{user.id}", actor_user_id=user.id, action="user.logged_in",
                         entity="user", entity_id=user.id)
    if not ok:
        raise LoginFailed(LOGIN_FAILED)  # after the transaction: the failed attempt stays in the audit log
    return token


def log_out(session: Session, token: str | None, user: User, *, now: datetime) -> None:
    with transaction(session):
        end_session(session, token)
        record_audit(session, at=now, actor=f"user:{user.id}", actor_user_id=user.id, action="user.logged_out",
                     entity="user", entity_id=user.id)
