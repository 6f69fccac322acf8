"""API tokens: issued with a scope and an expiry, shown once, stored hashed, revocable, last use kept.

Model
    A token acts as one user, within that user's role, narrowed by its scope (``read``, ``ingest``,
    ``full``; ``domain/token_scopes.py``). Only its SHA-256 is stored; the clear token is returned once.
    It stops working when revoked, when it expires, or when its user is deactivated.

Consent: who may mint a token that acts as whom
    * A person creates their own tokens (the "API tokens" page, ``/tokens``): the audit log records
      ``token.issued`` with ``consent: self``.
    * An admin issues tokens only for **service accounts** (``users.is_service``: a website tracker, a CRM
      sync; no password, cannot log in, owned by the admins). The audit log records ``token.issued_for``
      with ``consent: service_account`` and who issued it. The CLI (run by whoever operates the server)
      follows the same rule.
    * Nobody mints a token that acts as another *person*: that would let an admin act as a rep without
      the rep knowing. A person who needs a token for a tool creates it themselves, or the admins add a
      service account with the role the tool needs.

Revoking: the owner revokes their own tokens; an admin (page, API) and the CLI revoke any. Revoking twice
changes nothing.

Worked example: ``issue_own_token(s, maya, name="BI export", scope="read", days=30, now=t)`` returns a
token that reads the record for 30 days; ``issue_token_for(s, maya.id, by=ada, ...)`` is refused
(``token_consent``) because Maya is a person; for the service account "Website tracker" it works.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.domain.token_scopes import (
    DEFAULT_TOKEN_DAYS,
    FULL,
    ScopeError,
    check_scope,
    expiry,
)
from revteam.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from revteam.security import API_TOKEN_PREFIX, new_token, token_digest
from revteam.services.record.audit import record_audit
from revteam.store.db import transaction
from revteam.store.models import ApiToken, User

MAX_TOKEN_NAME = 120


@dataclass
class IssuedToken:
    token: str  # shown once, never stored
    record: ApiToken
    user: User  # whom it acts as


@dataclass
class TokenCaller:
    """Who an API call comes from: the token's user and the token's scope."""

    user: User
    scope: str
    token_id: int


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}; pick one from the Users page.", code="user_not_found")
    return user


def _actor(by: User | None) -> tuple[str, int | None]:
    return (f"user:{by.id}", by.id) if by is not None else ("cli", None)


def issue_api_token(session: Session, user: User, *, name: str, now: datetime, scope: str = FULL,
                    days: int | None = None, default_days: int = DEFAULT_TOKEN_DAYS, by: User | None = None,
                    consent: str = "self") -> IssuedToken:
    """The building block: a token for ``user`` (checked scope and lifetime), audited as ``token.issued``.
    The use cases below decide whether the caller may issue it; call them, not this, from a face."""
    with transaction(session):
        try:
            chosen = check_scope(scope)
            expires_at = expiry(now, days, default_days=default_days)
        except ScopeError as e:
            raise InvalidInput(str(e), code="bad_token") from None
        label = (name or "").strip()[:MAX_TOKEN_NAME] or "api"
        token = new_token(API_TOKEN_PREFIX)
        row = ApiToken(user_id=user.id, name=label, prefix=token[:10], token_hash=token_digest(token), created_at=now,
                       scope=chosen, expires_at=expires_at)
        session.add(row)
        session.flush()
        actor, actor_id = _actor(by if by is not None else user if consent == "self" else None)
        record_audit(session, at=now, actor=actor, actor_user_id=actor_id, action="token.issued", entity="api_token",
                     entity_id=row.id, detail={"user_id": user.id, "scope": chosen, "expires_at": expires_at.isoformat(),
                                               "consent": consent})
    return IssuedToken(token, row, user)


def issue_own_token(session: Session, me: User, *, name: str, now: datetime, scope: str = FULL,
                    days: int | None = None, default_days: int = DEFAULT_TOKEN_DAYS) -> IssuedToken:
    """A person creates a token that acts as themselves (their consent is the act itself)."""
    with transaction(session):
        user = _user(session, me.id)
        if not user.is_active:
            raise Forbidden("Your account is deactivated.", code="user_inactive")
        return issue_api_token(session, user, name=name, now=now, scope=scope, days=days, default_days=default_days,
                               by=user, consent="self")


def issue_token_for(session: Session, user_id: int, *, name: str, by: User | None, now: datetime, scope: str = FULL,
                    days: int | None = None, default_days: int = DEFAULT_TOKEN_DAYS) -> IssuedToken:
    """An admin (``by``) or the CLI (``by=None``) issues a token for a service account (or ``by`` for
    themselves); refused for any other person (``token_consent``). The audit log says who issued it for whom."""
    with transaction(session):
        user = _user(session, user_id)
        if not user.is_active:
            raise InvalidInput(f"{user.email} is deactivated; activate them before issuing a token.",
                               code="user_inactive")
        if by is not None and by.id == user.id:
            return issue_own_token(session, user, name=name, now=now, scope=scope, days=days, default_days=default_days)
        if not user.is_service:
            raise Forbidden(
                f"{user.email} is a person: a token acts as them, so only they can create one (on their API tokens "
                "page, /tokens). Tokens issued by an admin are for service accounts: add one on the Users page "
                "(tick 'service account') or with `revteam users add EMAIL --role ROLE --service`.",
                code="token_consent",
            )
        issued = issue_api_token(session, user, name=name, now=now, scope=scope, days=days, default_days=default_days,
                                 by=by, consent="service_account")
        actor, actor_id = _actor(by)
        record_audit(session, at=now, actor=actor, actor_user_id=actor_id, action="token.issued_for",
                     entity="api_token", entity_id=issued.record.id,
                     detail={"user_id": user.id, "name": issued.record.name, "scope": issued.record.scope,
                             "consent": "service_account"})
    return issued


def issue_token_by_email(session: Session, email: str, *, name: str, now: datetime, scope: str = FULL,
                         days: int | None = None, default_days: int = DEFAULT_TOKEN_DAYS) -> IssuedToken:
    """The CLI's way in: a token for the service account with this e-mail (``issue_token_for`` rules)."""
    with transaction(session):
        user = session.scalar(select(User).where(User.email == (email or "").strip().lower()))
        if user is None:
            raise NotFound(f"No user with e-mail {email}.", code="user_not_found")
        return issue_token_for(session, user.id, name=name, by=None, now=now, scope=scope, days=days,
                               default_days=default_days)


def revoke_token(session: Session, token_id: int, *, by: User | None, now: datetime) -> ApiToken:
    """Calls with a revoked token get 401 from then on; revoking twice changes nothing. ``by`` revokes their
    own tokens, an admin any; ``by=None`` is the CLI. Someone else's token is "not found" (no probing)."""
    with transaction(session):
        token = session.get(ApiToken, token_id)
        if token is None or (by is not None and by.role != "admin" and token.user_id != by.id):
            raise NotFound(f"No API token with id {token_id}.", code="token_not_found")
        if token.revoked_at is None:
            token.revoked_at = now
            actor, actor_id = _actor(by)
            record_audit(session, at=now, actor=actor, actor_user_id=actor_id, action="token.revoked",
                         entity="api_token", entity_id=token.id, detail={"user_id": token.user_id})
    return token


def tokens_of(session: Session, user_id: int) -> list[ApiToken]:
    """A person's own tokens, newest first (revoked and expired ones included, marked)."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def all_tokens(session: Session) -> list[tuple[ApiToken, str]]:
    """Every token with its user's name, newest first (the admins' view and `revteam users tokens`)."""
    return [(t, name) for t, name in session.execute(
        select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()))]


def caller_for_api_token(session: Session, token: str | None, *, now: datetime) -> TokenCaller:
    """The active user and scope behind a bearer token, or ``Unauthenticated`` (missing, unknown, revoked,
    expired, user deactivated). Records the token's last use."""
    if not token:
        raise Unauthenticated("This call needs an API token: send `Authorization: Bearer <token>`.", code="token_missing")
    if len(token) > 200:
        raise Unauthenticated("The API token is unknown or revoked.", code="token_invalid")
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthenticated("The API token is unknown or revoked; create one on your API tokens page (/tokens).",
                              code="token_invalid")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated(f"The API token {row.prefix}… expired on {row.expires_at:%Y-%m-%d}; create a new one on "
                              "your API tokens page (/tokens).", code="token_expired")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("The API token's user is deactivated.", code="token_invalid")
    row.last_used_at = now
    return TokenCaller(user, row.scope, row.id)


def user_for_api_token(session: Session, token: str | None, *, now: datetime) -> User:
    """The active user behind a bearer token, or ``Unauthenticated``."""
    return caller_for_api_token(session, token, now=now).user
