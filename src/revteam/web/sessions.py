"""Server-side web sessions: the cookie holds a random token, ``web_sessions`` holds its SHA-256.

* A session lasts ``settings.session_hours`` without activity: every request that uses it moves the
  expiry forward (at most once a minute, to spare the database a write per request).
* Each session has its own CSRF token (``WebSession.csrf_token``), rendered into every form.
* Logging in always creates a new session (no fixation); logging out deletes the row, so a stolen
  cookie is useless afterwards. Deactivating a user deletes their sessions.
* The cookie is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` when ``settings.secure_cookies``; it has
  no ``Max-Age``, so it also ends when the browser closes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from revteam.config import Settings
from revteam.security import new_token, token_digest
from revteam.store.models import User, WebSession

COOKIE_NAME = "revteam_session"
_SLIDE_STEP = timedelta(minutes=1)


@dataclass
class LiveSession:
    row: WebSession
    user: User


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


def load_session(session: Session, token: str | None, *, now: datetime, hours: int) -> LiveSession | None:
    """The live session behind a cookie token, or None (unknown, expired, or the user is inactive).

    Expired sessions and sessions of deactivated users are deleted on sight. The caller commits.
    """
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
    if new_expiry - row.expires_at >= _SLIDE_STEP:
        row.expires_at = new_expiry
    return LiveSession(row, user)


def end_session(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(WebSession).where(WebSession.token_hash == token_digest(token)))


def end_user_sessions(session: Session, user_id: int) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user_id))


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies)
