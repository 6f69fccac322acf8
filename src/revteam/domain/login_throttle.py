"""Log-in throttling: how many failed log-ins a key (an account, a client address) gets before it waits.

Model (exponential backoff over a sliding idle window)
    Each key keeps ``failures`` and the time of its last failure. A failure more than ``window`` after
    the previous one starts the count again at 1 (the window slides with every failure, so a slow but
    steady guesser never gets a fresh start). When the count reaches ``limit``, the key is blocked for
    ``first_block``; every further failure doubles the block, up to ``longest_block``. While a key is
    blocked, attempts with it are refused before any password is checked (no argon2 work for them).
    A successful log-in clears its account's key (not the address's: logging in to one's own account
    must not buy an attacker on the same address more guesses). The keys themselves (an account from
    one address, an address) are chosen in ``services/people/throttle.py``.

Worked example with ``limit=5, first_block=1 min, longest_block=60 min``: failures 1-4 pass through;
the 5th blocks the account for 1 minute; after it, the 6th failure blocks it for 2 minutes, the 7th for
4, ... and from the 11th on for 60 minutes. A day of quiet (longer than ``window``) starts afresh.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottleRule:
    limit: int  # failures that start a block
    window: timedelta = timedelta(minutes=15)  # idle time after which the count starts again
    first_block: timedelta = timedelta(minutes=1)
    longest_block: timedelta = timedelta(hours=1)


@dataclass
class KeyState:
    failures: int
    last_failed_at: datetime
    blocked_until: datetime | None = None


def wait_left(state: KeyState | None, now: datetime) -> timedelta | None:
    """How long a key must still wait, or None when it may try now."""
    if state is None or state.blocked_until is None or state.blocked_until <= now:
        return None
    return state.blocked_until - now


def after_failure(state: KeyState | None, now: datetime, rule: ThrottleRule) -> KeyState:
    """The key's state after one more failed log-in at ``now``."""
    if state is None or now - state.last_failed_at > rule.window:
        failures = 1
    else:
        failures = state.failures + 1
    blocked_until = None
    if failures >= rule.limit:
        doublings = min(failures - rule.limit, 30)
        blocked_until = now + min(rule.first_block * (2 ** doublings), rule.longest_block)
    return KeyState(failures, now, blocked_until)


def minutes_to_wait(wait: timedelta) -> int:
    """A wait said in whole minutes, rounded up (never "0 minutes")."""
    return max(1, math.ceil(wait.total_seconds() / 60))
