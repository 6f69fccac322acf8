"""Log-in throttling (issue #10, item 5): per account and per client address, exponential backoff,
a clear message, 429 with Retry-After on the web, and no password check at all while throttled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from revteam.domain.login_throttle import (
    KeyState,
    ThrottleRule,
    after_failure,
    minutes_to_wait,
    wait_left,
)
from revteam.security import verify_password
from revteam.services.people.access import LoginFailed, TooManyAttempts, log_in
from revteam.services.people.throttle import LoginLimits
from revteam.store.models import AuditEntry, LoginThrottle, User
from revteam.web.deps import get_now
from tests.factories import make_user
from tests.web.conftest import PASSWORD, new_client

NINE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULE = ThrottleRule(limit=5)


class CountingVerifier:
    """The password check, counting how often it runs (argon2 is the cost a flood must not buy)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, password_hash: str | None, password: str) -> bool:
        self.calls += 1
        return verify_password(password_hash, password)


# ---------------------------------------------------------------- the rule
def test_backoff_doubles_from_the_limit_and_is_capped() -> None:
    state, blocks = None, []
    for i in range(12):
        state = after_failure(state, NINE + timedelta(seconds=i), RULE)
        blocks.append(None if state.blocked_until is None else state.blocked_until - (NINE + timedelta(seconds=i)))
    minutes = [None if b is None else int(b.total_seconds() // 60) for b in blocks]
    assert minutes == [None, None, None, None, 1, 2, 4, 8, 16, 32, 60, 60]


def test_a_quiet_window_starts_afresh_and_the_wait_is_said_in_whole_minutes() -> None:
    busy = KeyState(failures=7, last_failed_at=NINE, blocked_until=NINE + timedelta(minutes=4))
    assert wait_left(busy, NINE + timedelta(minutes=1)) == timedelta(minutes=3)
    assert wait_left(busy, NINE + timedelta(minutes=4)) is None
    assert after_failure(busy, NINE + timedelta(minutes=16), RULE).failures == 1
    assert after_failure(busy, NINE + timedelta(minutes=14), RULE).failures == 8
    assert (minutes_to_wait(timedelta(seconds=1)), minutes_to_wait(timedelta(seconds=61))) == (1, 2)


# ---------------------------------------------------------------- the use case, on both databases
def test_an_account_is_throttled_without_checking_the_password(session, sessions) -> None:
    make_user(session, role="ae", email="ava@revteam.test")
    session.commit()
    verify = CountingVerifier()
    for i in range(5):
        with pytest.raises(LoginFailed):
            log_in(session, email="ava@revteam.test", password=f"guess {i}", now=NINE, hours=12, client="198.51.100.9",
                   verify=verify)
    assert verify.calls == 5
    with pytest.raises(TooManyAttempts) as throttled:  # even the right password, from the guessing address
        log_in(session, email="AVA@revteam.test", password=PASSWORD, now=NINE + timedelta(seconds=10), hours=12,
               client="198.51.100.9", verify=verify)
    assert verify.calls == 5  # no argon2 for a throttled attempt
    assert throttled.value.status == 429 and throttled.value.code == "too_many_attempts"
    assert throttled.value.message == "Too many attempts; try again in 1 minute."
    assert throttled.value.headers == {"Retry-After": "50"}
    after = NINE + timedelta(minutes=1, seconds=1)
    assert log_in(session, email="ava@revteam.test", password=PASSWORD, now=after, hours=12, client="198.51.100.9",
                  verify=verify)
    with sessions() as s:  # success clears the account's count from there; the address keeps its own
        keys = set(s.scalars(select(LoginThrottle.key)))
        assert keys == {"address:198.51.100.9"}
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "user.login_failed")) == 5


def test_nobody_can_lock_someone_else_out(session) -> None:
    """Wrong passwords for Ava from an attacker's address block that address's attempts on her account,
    not Ava's own log-in from hers."""
    make_user(session, role="ae", email="ava@revteam.test")
    session.commit()
    verify = CountingVerifier()
    for i in range(12):
        with pytest.raises((LoginFailed, TooManyAttempts)):
            log_in(session, email="ava@revteam.test", password=f"guess {i}", now=NINE + timedelta(seconds=i), hours=12,
                   client="198.51.100.9", verify=verify)
    assert verify.calls == 5
    assert log_in(session, email="ava@revteam.test", password=PASSWORD, now=NINE + timedelta(seconds=20), hours=12,
                  client="203.0.113.1", verify=verify)
    assert verify.calls == 6


def test_old_throttle_rows_are_pruned_when_a_new_key_is_written(session, sessions) -> None:
    make_user(session, role="ae", email="ava@revteam.test")
    session.commit()
    with pytest.raises(LoginFailed):
        log_in(session, email="ava@revteam.test", password="nope", now=NINE, hours=12, client="198.51.100.9")
    later = NINE + timedelta(hours=1)  # past the 15-minute window, no block ahead
    with pytest.raises(LoginFailed):
        log_in(session, email="ben@revteam.test", password="nope", now=later, hours=12, client="203.0.113.7")
    with sessions() as s:
        assert set(s.scalars(select(LoginThrottle.key))) == {
            "account:ben@revteam.test|from:203.0.113.7", "address:203.0.113.7"}


def test_an_address_trying_many_accounts_is_throttled_and_others_are_not(session) -> None:
    make_user(session, role="sdr", email="sam@revteam.test")
    session.commit()
    limits = LoginLimits.of(per_account=5, per_address=3, block_minutes=2)
    verify = CountingVerifier()
    for i in range(3):
        with pytest.raises(LoginFailed):
            log_in(session, email=f"person{i}@revteam.test", password="x", now=NINE, hours=12, client="192.0.2.66",
                   limits=limits, verify=verify)
    with pytest.raises(TooManyAttempts, match="try again in 2 minutes"):
        log_in(session, email="sam@revteam.test", password=PASSWORD, now=NINE, hours=12, client="192.0.2.66",
               limits=limits, verify=verify)
    assert verify.calls == 3
    assert log_in(session, email="sam@revteam.test", password=PASSWORD, now=NINE, hours=12, client="192.0.2.67",
                  limits=limits, verify=verify)


def test_the_block_grows_with_every_further_failure(session) -> None:
    make_user(session, role="sdr", email="sam@revteam.test")
    session.commit()
    now = NINE
    for _ in range(5):
        with pytest.raises(LoginFailed):
            log_in(session, email="sam@revteam.test", password="nope", now=now, hours=12)
    now += timedelta(minutes=1)  # the first block is over: one more wrong guess doubles it
    with pytest.raises(LoginFailed):
        log_in(session, email="sam@revteam.test", password="nope", now=now, hours=12)
    with pytest.raises(TooManyAttempts, match="try again in 2 minutes"):
        log_in(session, email="sam@revteam.test", password=PASSWORD, now=now + timedelta(seconds=1), hours=12)


# ---------------------------------------------------------------- the web
def test_the_log_in_page_answers_429_with_retry_after(app: FastAPI, people: dict[str, User]) -> None:
    from tests.web.conftest import login

    app.dependency_overrides[get_now] = lambda: NINE
    browser = new_client(app)
    codes = [login(browser, people["ae"].email, password="wrong password").status_code for _ in range(5)]
    assert codes == [400] * 5
    throttled = login(browser, people["ae"].email)
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "60"
    assert "Too many attempts; try again in 1 minute." in throttled.text
    assert login(new_client(app), people["sdr"].email).status_code == 303  # another account is not slowed


def test_a_trusted_proxy_reports_the_client_address(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                    people: dict[str, User], runtime: Any) -> None:
    from revteam.config import Settings
    from revteam.runtime import build_runtime
    from revteam.web.app import create_app
    from tests.web.conftest import login

    for trusted, expected in (("", "address:testclient"), ("testclient", "address:203.0.113.50")):
        rt = build_runtime(Settings(database_url=runtime.settings.database_url, env="test", trusted_proxies=trusted,
                                    warm_analytics=False))
        browser = new_client(create_app(rt), headers={"X-Forwarded-For": "203.0.113.50"})
        assert login(browser, "nobody@revteam.test", password="wrong password").status_code == 400
        with rt.sessions() as s:
            keys = set(s.scalars(select(LoginThrottle.key)))
            assert expected in keys, (trusted, keys)
            s.query(LoginThrottle).delete()
            s.commit()
        rt.engine.dispose()


def test_concurrent_failures_are_all_counted(sessions) -> None:
    """Eight wrong guesses at once for one account: every one is counted (row lock, racing first insert)."""
    import threading

    with sessions() as s:
        make_user(s, role="ae", email="ava@revteam.test")
        s.commit()
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def guess(i: int) -> None:
        with sessions() as s:
            start.wait()
            try:
                log_in(s, email="ava@revteam.test", password=f"guess {i}", now=NINE, hours=12,
                       client="198.51.100.9", verify=lambda h, p: False)
            except (LoginFailed, TooManyAttempts) as e:
                outcomes.append(type(e).__name__)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(outcomes) == 8
    with sessions() as s:
        row = s.get(LoginThrottle, "account:ava@revteam.test|from:198.51.100.9")
        assert row.failures == outcomes.count("LoginFailed") and row.failures >= 5
        assert row.blocked_until is not None
