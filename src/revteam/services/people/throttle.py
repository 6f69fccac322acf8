"""Failed log-ins counted per account and per client address, kept in the database (``login_throttles``).

Why the database and not process memory: ``revteam serve`` may run several processes (or several
containers) behind one proxy; a count kept in one process would give an attacker a fresh allowance on
every other one, and a restart would reset it. One small row per key (``account:<e-mail>``,
``address:<ip>``) is read before the password is checked and written only on a failure.

The rules are ``domain/login_throttle.py`` (backoff); the limits come from the settings
(``REVTEAM_LOGIN_FAILURES_PER_ACCOUNT``, ``..._PER_ADDRESS``, ``REVTEAM_LOGIN_BLOCK_MINUTES``).
Concurrent attempts with one key may each pass the check before either failure is written, so a flood
can get at most (concurrent requests - 1) guesses beyond the limit; the block that follows is as long.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revteam.domain.login_throttle import (
    KeyState,
    ThrottleRule,
    after_failure,
    wait_left,
)
from revteam.store.models import LoginThrottle

MAX_KEY = 300


@dataclass(frozen=True)
class LoginLimits:
    """The rule for account keys and the rule for address keys."""

    account: ThrottleRule = field(default_factory=lambda: ThrottleRule(limit=5))
    address: ThrottleRule = field(default_factory=lambda: ThrottleRule(limit=20))

    @classmethod
    def of(cls, *, per_account: int, per_address: int, block_minutes: int) -> LoginLimits:
        first = timedelta(minutes=block_minutes)
        return cls(ThrottleRule(limit=per_account, first_block=first),
                   ThrottleRule(limit=per_address, first_block=first))


def keys_for(email: str, address: str | None, limits: LoginLimits) -> list[tuple[str, ThrottleRule]]:
    """The throttle keys of one attempt: its account (when an e-mail was typed) and its client address."""
    keys = []
    if email:
        keys.append((f"account:{email}"[:MAX_KEY], limits.account))
    if address:
        keys.append((f"address:{address}"[:MAX_KEY], limits.address))
    return keys


def _state(row: LoginThrottle | None) -> KeyState | None:
    return None if row is None else KeyState(row.failures, row.last_failed_at, row.blocked_until)


def longest_wait(session: Session, keys: list[tuple[str, ThrottleRule]], now: datetime) -> timedelta | None:
    """How long the most blocked of ``keys`` must still wait, or None when the attempt may go ahead."""
    if not keys:
        return None
    rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_([k for k, _ in keys])))
    waits = [w for w in (wait_left(_state(r), now) for r in rows) if w is not None]
    return max(waits) if waits else None


def record_failure(session: Session, keys: list[tuple[str, ThrottleRule]], now: datetime) -> None:
    """Count one failed attempt on every key (row-locked on PostgreSQL; a racing first insert is retried)."""
    for key, rule in keys:
        for _ in range(2):
            row = session.get(LoginThrottle, key, with_for_update=True, populate_existing=True)
            state = after_failure(_state(row), now, rule)
            if row is not None:
                row.failures, row.last_failed_at, row.blocked_until = (state.failures, state.last_failed_at,
                                                                       state.blocked_until)
                break
            try:
                with session.begin_nested():
                    session.add(LoginThrottle(key=key, failures=state.failures, last_failed_at=now,
                                              blocked_until=state.blocked_until))
                break
            except IntegrityError:
                continue  # another attempt inserted it first: lock and update it


def clear(session: Session, key: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
