"""Failed log-ins counted per account and per client address, kept in the database (``login_throttles``).

Why the database and not process memory: ``revteam serve`` may run several processes (or several
containers) behind one proxy; a count kept in one process would give an attacker a fresh allowance on
every other one, and a restart would reset it. One small row per key is read before the password is
checked and written only on a failure. The keys of an attempt:

* ``account:<e-mail>|from:<ip>``: the account *from that address* (per-account limit). Blocking the
  account for every address would let anyone lock anyone out by typing wrong passwords for them; so a
  correct password from an address that has not itself been throttled still logs in. A guesser on
  many addresses gets the per-account limit on each, then each of its pairs waits, doubling;
* ``address:<ip>``: the address, whatever accounts it tries (per-address limit);
* ``account:<e-mail>`` only when the client address is unknown (no address to tell callers apart).

Old rows are pruned on write: when a key gets its first row, rows whose last failure is older than the
window and whose block is over are deleted (they would count from 1 again anyway).

The rules are ``domain/login_throttle.py`` (backoff); the limits come from the settings
(``REVTEAM_LOGIN_FAILURES_PER_ACCOUNT``, ``..._PER_ADDRESS``, ``REVTEAM_LOGIN_BLOCK_MINUTES``).
Every failure is counted, however many arrive at once (one atomic ``UPDATE ... SET failures = failures
+ 1`` per key). Concurrent attempts with one key may each pass the check before the failure that
blocks it is written, so a flood can get at most (concurrent requests - 1) guesses beyond the limit;
the block that follows grows with all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, delete, insert, or_, select, update
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
        pair = f"account:{email}|from:{address}" if address else f"account:{email}"
        keys.append((pair[:MAX_KEY], limits.account))
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


def _count(session: Session, key: str, now: datetime, rule: ThrottleRule) -> int | None:
    """One more failure on an existing row, in one atomic UPDATE (no lost counts under concurrency, on
    SQLite too); returns the new count, or None when the key has no row yet."""
    table = LoginThrottle.__table__
    fresh = table.c.last_failed_at < now - rule.window
    return session.execute(
        update(table).where(table.c.key == key)
        .values(failures=case((fresh, 1), else_=table.c.failures + 1), last_failed_at=now)
        .returning(table.c.failures)
    ).scalar_one_or_none()


def record_failure(session: Session, keys: list[tuple[str, ThrottleRule]], now: datetime) -> None:
    """Count one failed attempt on every key and block the key when its rule says so. Counting is one
    atomic UPDATE per key; a racing first insert of the same key is retried as an update."""
    table = LoginThrottle.__table__
    for key, rule in keys:
        failures = _count(session, key, now, rule)
        if failures is None:
            prune(session, now, rule)
            try:
                with session.begin_nested():
                    session.execute(insert(table).values(key=key, failures=1, last_failed_at=now, blocked_until=None))
                failures = 1
            except IntegrityError:  # another attempt inserted it first
                failures = _count(session, key, now, rule) or 1
        state = after_failure(KeyState(failures - 1, now), now, rule)  # the block this count earns
        if state.blocked_until is not None:
            session.execute(update(table).where(table.c.key == key, or_(table.c.blocked_until.is_(None),
                                                                      table.c.blocked_until < state.blocked_until))
                            .values(blocked_until=state.blocked_until))


def prune(session: Session, now: datetime, rule: ThrottleRule) -> int:
    """Delete the rows that no longer matter: last failure older than the window, no block ahead."""
    table = LoginThrottle.__table__
    return session.execute(delete(table).where(
        table.c.last_failed_at < now - rule.window,
        or_(table.c.blocked_until.is_(None), table.c.blocked_until <= now))).rowcount or 0


def clear(session: Session, key: str) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
