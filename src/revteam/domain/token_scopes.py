"""What an API token may do: its scope, a ceiling under the role of the user it acts as.

Model
    A token acts as one user and can never do more than that user's role allows (``web/policy.py``). Its
    scope narrows it further:

    ========== ==============================================================================
    ``read``   read-only: every ``GET`` API route the role may use (lists, timelines, reports,
               analytics); no write of any kind
    ``ingest`` ingest-only: sending touchpoints and imports (and listing imports); nothing else,
               not even reads of the record, so a website tracker's token leaks no customer data
    ``full``   everything the role allows (the "admin" scope of issue #10: on an admin's token it is
               every API route). Needed for decisions (accept, reject, votes, the SLA, settings)
    ========== ==============================================================================

    Every API route declares the scopes it accepts (``Rule.scopes`` in the policy); ``full`` is always
    accepted; a route that declares none accepts only ``full`` tokens (fail closed).

    A token expires: ``DEFAULT_TOKEN_DAYS`` after it is issued unless a shorter or longer life (1 to
    ``MAX_TOKEN_DAYS`` days) is chosen for it.

Worked example: a marketing user's ``ingest`` token may POST ``/api/v1/touchpoints`` but gets 403 on
``GET /api/v1/contacts``; their ``read`` token reads contacts but gets 403 on the touchpoint POST.
"""

from __future__ import annotations

from datetime import datetime, timedelta

READ = "read"
INGEST = "ingest"
FULL = "full"
SCOPES: tuple[str, ...] = (READ, INGEST, FULL)
SCOPE_HELP: dict[str, str] = {
    READ: "read-only: lists, timelines, reports and analytics",
    INGEST: "ingest-only: send touchpoints and imports",
    FULL: "everything your role allows, decisions and settings included",
}
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 366


class ScopeError(ValueError):
    """A scope or a lifetime that is not one of the allowed ones (the message says which are)."""


def check_scope(scope: str) -> str:
    value = (scope or "").strip().lower()
    if value not in SCOPES:
        raise ScopeError(f"Unknown token scope {scope!r}; use one of: {', '.join(SCOPES)}.")
    return value


def expiry(issued_at: datetime, days: int | None, *, default_days: int = DEFAULT_TOKEN_DAYS) -> datetime:
    """When a token issued at ``issued_at`` for ``days`` days (None: the default) stops working."""
    chosen = default_days if days is None else days
    if not 1 <= chosen <= MAX_TOKEN_DAYS:
        raise ScopeError(f"A token lives 1 to {MAX_TOKEN_DAYS} days; {chosen} is outside that.")
    return issued_at + timedelta(days=chosen)


def scope_allows(token_scope: str, route_scopes: frozenset[str]) -> bool:
    """May a token of ``token_scope`` use a route that accepts ``route_scopes``? ``full`` always may."""
    return token_scope == FULL or token_scope in route_scopes
