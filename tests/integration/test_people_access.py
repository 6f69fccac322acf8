"""Who is asking, and the admin's use cases on people (``services/people/access.py``, ``users.py``): moved
from the web's log-in, session and users modules, tested where they live."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from revteam.errors import InvalidInput, NotFound, Unauthenticated
from revteam.services.people.access import LOGIN_FAILED, LoginFailed, log_in, log_out, user_for_token, visitor_for_cookie
from revteam.services.people.users import issue_api_token, issue_own_token, issue_token_for, revoke_token, set_user_active
from revteam.store.models import ApiToken, AuditEntry, WebSession
from tests.factories import make_user

NINE = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
PASSWORD = "correct horse battery"


@pytest.fixture
def ada(session):
    admin = make_user(session, role="admin", email="ada@revteam.test", name="Ada Admin")
    session.commit()
    return admin


def _actions(sessions) -> list[str]:
    with sessions() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_every_failed_log_in_says_the_same_and_is_audited(session, sessions, ada):
    for email, password in (("nobody@revteam.test", PASSWORD), ("ada@revteam.test", "wrong password"), ("", "")):
        with pytest.raises(LoginFailed) as failed:
            log_in(session, email=email, password=password, now=NINE, hours=12)
        assert (failed.value.message, failed.value.status) == (LOGIN_FAILED, 400)
    assert _actions(sessions) == ["user.login_failed"] * 3  # kept although the log-in failed
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0


def test_a_session_slides_and_ends(session, sessions, ada):
    token = log_in(session, email=" ADA@revteam.test ", password=PASSWORD, now=NINE, hours=12)
    seen = visitor_for_cookie(sessions, token, now=NINE + timedelta(seconds=30), hours=12)
    assert seen is not None and seen.row.expires_at == NINE + timedelta(hours=12)  # under a minute: not moved
    later = visitor_for_cookie(sessions, token, now=NINE + timedelta(hours=1), hours=12)
    assert later is not None and later.user.name == "Ada Admin"
    assert later.row.expires_at == NINE + timedelta(hours=13)
    assert visitor_for_cookie(sessions, token, now=NINE + timedelta(hours=14), hours=12) is None  # expired: deleted
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0
    again = log_in(session, email="ada@revteam.test", password=PASSWORD, now=NINE, hours=12)
    log_out(session, again, ada, now=NINE + timedelta(minutes=5))
    assert visitor_for_cookie(sessions, again, now=NINE + timedelta(minutes=6), hours=12) is None
    assert _actions(sessions)[-1] == "user.logged_out"


def test_a_new_log_in_ends_the_session_the_browser_came_with(session, sessions, ada):
    first = log_in(session, email="ada@revteam.test", password=PASSWORD, now=NINE, hours=12)
    second = log_in(session, email="ada@revteam.test", password=PASSWORD, now=NINE, hours=12, replacing=first)
    assert visitor_for_cookie(sessions, first, now=NINE, hours=12) is None
    assert visitor_for_cookie(sessions, second, now=NINE, hours=12) is not None


def test_who_is_asking_outlives_a_rollback_of_the_request(session, sessions, ada):
    """The person is looked up in a unit of work of its own: a use case rolling back the request's session
    leaves them loaded, so the error page can still show their name."""
    token = log_in(session, email="ada@revteam.test", password=PASSWORD, now=NINE, hours=12)
    visitor = visitor_for_cookie(sessions, token, now=NINE, hours=12)
    assert visitor is not None
    with pytest.raises(InvalidInput):
        set_user_active(session, ada.id, False, by=visitor.user, now=NINE)  # refused: rolls back ``session``
    assert (visitor.user.name, visitor.user.role, visitor.csrf_token) == ("Ada Admin", "admin", visitor.row.csrf_token)


def test_deactivating_someone_ends_their_sessions_and_their_tokens_stop(session, sessions, ada):
    sam = make_user(session, role="sdr", email="sam@revteam.test", name="Sam SDR")
    session.commit()
    token = log_in(session, email="sam@revteam.test", password=PASSWORD, now=NINE, hours=12)
    api = issue_own_token(session, sam, name="tracker", now=NINE)
    assert user_for_token(sessions, api.token, now=NINE).email == "sam@revteam.test"
    set_user_active(session, sam.id, False, by=ada, now=NINE + timedelta(hours=1))
    assert visitor_for_cookie(sessions, token, now=NINE + timedelta(hours=1), hours=12) is None
    with pytest.raises(Unauthenticated):
        user_for_token(sessions, api.token, now=NINE + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="activate them before issuing a token"):
        issue_token_for(session, sam.id, name="again", by=ada, now=NINE + timedelta(hours=2))
    with pytest.raises(NotFound):
        set_user_active(session, 999_999, True, by=ada, now=NINE)
    assert "user.deactivated" in _actions(sessions) and "token.issued" in _actions(sessions)


def test_a_revoked_token_is_refused_and_revoking_twice_changes_nothing(session, sessions, ada):
    issued = issue_api_token(session, ada, name="ci", now=NINE)
    user_for_token(sessions, issued.token, now=NINE + timedelta(minutes=1))
    with sessions() as s:
        assert s.get(ApiToken, issued.record.id).last_used_at == NINE + timedelta(minutes=1)  # kept by the lookup
    revoke_token(session, issued.record.id, by=ada, now=NINE + timedelta(hours=1))
    revoke_token(session, issued.record.id, by=ada, now=NINE + timedelta(hours=2))
    with sessions() as s:
        assert s.get(ApiToken, issued.record.id).revoked_at == NINE + timedelta(hours=1)
    assert _actions(sessions).count("token.revoked") == 1
    with pytest.raises(Unauthenticated):
        user_for_token(sessions, issued.token, now=NINE + timedelta(hours=3))
    with pytest.raises(NotFound):
        revoke_token(session, 999_999, by=ada, now=NINE)
