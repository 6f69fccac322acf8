"""Logging in and out, sessions, the log-in redirect, and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from revteam.config import Settings
from revteam.runtime import Runtime
from revteam.security import token_digest
from revteam.store.models import ApiToken, AuditEntry, User, WebSession
from revteam.web.deps import get_now
from revteam.web.principal import safe_next
from revteam.web.sessions import COOKIE_NAME
from tests.web.conftest import PASSWORD, api_token_for, bearer, login, logged_in_client, new_client

NOW = datetime(2026, 3, 16, 14, 30, tzinfo=timezone.utc)


def sessions_of(runtime: Runtime, user: User) -> list[WebSession]:
    with runtime.sessions() as s:
        return list(s.scalars(select(WebSession).where(WebSession.user_id == user.id)))


def test_log_in_sets_a_safe_cookie_and_stores_only_its_hash(app: FastAPI, runtime: Runtime,
                                                           people: dict[str, User]) -> None:
    client = new_client(app)
    response = login(client, people["sdr"].email)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE_NAME + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # settings.secure_cookies is off in tests
    token = client.cookies[COOKIE_NAME]
    rows = sessions_of(runtime, people["sdr"])
    assert len(rows) == 1
    assert rows[0].token_hash == token_digest(token) and token not in (rows[0].token_hash, rows[0].csrf_token)
    assert client.get("/").status_code == 200
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "user.logged_in")) == 1


def test_secure_cookies_setting_marks_the_cookie_secure(db_env: str) -> None:
    from revteam.runtime import build_runtime
    from revteam.web.app import create_app
    from tests.factories import make_user

    rt = build_runtime(Settings(database_url=db_env, env="test", secure_cookies=True))
    with rt.sessions() as s:
        make_user(s, role="sdr", email="secure@revteam.test")
        s.commit()
    client = new_client(create_app(rt), base_url="https://testserver")  # Secure cookies travel over https only
    response = login(client, "secure@revteam.test")
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE_NAME + "="))
    assert "Secure" in cookie
    rt.engine.dispose()


@pytest.mark.parametrize("email,password", [
    ("nobody@revteam.test", PASSWORD),  # unknown e-mail
    ("sdr@revteam.test", "wrong password!"),  # wrong password
    ("gone@revteam.test", PASSWORD),  # right password, deactivated user
    ("", ""),
])
def test_failed_log_in_says_the_same_thing_whatever_failed(app: FastAPI, runtime: Runtime, people: dict[str, User],
                                                           email: str, password: str) -> None:
    client = new_client(app)
    response = login(client, email, password)
    assert response.status_code == 400
    assert "That e-mail and password do not match an active account." in response.text
    assert COOKIE_NAME not in client.cookies
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0


def test_log_in_form_without_its_token_is_refused(app: FastAPI, runtime: Runtime, people: dict[str, User]) -> None:
    client = new_client(app)
    client.get("/login")
    response = client.post("/login", data={"email": people["sdr"].email, "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403
    assert "Reload the log-in page" in response.text
    fresh = new_client(app)  # no nonce cookie at all (a form posted from another site)
    response = fresh.post("/login", data={"email": people["sdr"].email, "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403
    assert sessions_of(runtime, people["sdr"]) == []


def test_anonymous_page_request_redirects_to_log_in_and_back(app: FastAPI, people: dict[str, User]) -> None:
    client = new_client(app)
    response = client.get("/contacts?stage=mql&owner=any")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/contacts%3Fstage%3Dmql%26owner%3Dany"
    assert 'name="next" value="/contacts?stage=mql&amp;owner=any"' in client.get(response.headers["location"]).text
    response = login(client, people["sdr"].email, next_path="/contacts?stage=mql&owner=any")
    assert response.status_code == 303 and response.headers["location"] == "/contacts?stage=mql&owner=any"


def test_htmx_request_after_the_session_ended_reloads_to_log_in(app: FastAPI) -> None:
    response = new_client(app).get("/contacts?q=ana", headers={"HX-Request": "true", "HX-Target": "results"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login?next=")


@pytest.mark.parametrize("target", [
    "https://evil.example/phish", "//evil.example/x", "/\\evil.example", "\\\\evil.example", "javascript:alert(1)",
    "http:/evil.example", "/\r\nSet-Cookie: x=1", " /contacts", "evil.example",
])
def test_next_never_leaves_the_site(app: FastAPI, people: dict[str, User], target: str) -> None:
    client = new_client(app)
    response = login(client, people["sdr"].email, next_path=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    page = new_client(app).get("/login", params={"next": target})
    assert 'name="next" value="/"' in page.text


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/accounts/3?order=asc") == "/accounts/3?order=asc"
    assert safe_next("/contacts?q=o%27brien") == "/contacts?q=o%27brien"
    assert safe_next(None) == "/"


def test_log_out_ends_the_session_for_good(app: FastAPI, runtime: Runtime, people: dict[str, User]) -> None:
    client = logged_in_client(app, people["ae"])
    stolen = client.cookies[COOKIE_NAME]
    page = client.get("/")
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert sessions_of(runtime, people["ae"]) == []
    replay = new_client(app)
    replay.cookies.set(COOKIE_NAME, stolen)
    assert replay.get("/").status_code == 303


def test_session_expires_after_the_idle_time_and_slides_while_used(app: FastAPI, runtime: Runtime,
                                                                   people: dict[str, User]) -> None:
    hours = runtime.settings.session_hours
    clock = {"now": NOW}
    app.dependency_overrides[get_now] = lambda: clock["now"]
    client = logged_in_client(app, people["sdr"])
    (row,) = sessions_of(runtime, people["sdr"])
    assert row.expires_at == NOW + timedelta(hours=hours)

    clock["now"] = NOW + timedelta(hours=hours - 1)  # still inside: used, so the expiry moves on
    assert client.get("/").status_code == 200
    (row,) = sessions_of(runtime, people["sdr"])
    assert row.expires_at == clock["now"] + timedelta(hours=hours)

    clock["now"] = row.expires_at + timedelta(seconds=1)  # idle too long
    response = client.get("/deals")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/deals"
    assert sessions_of(runtime, people["sdr"]) == []  # deleted on sight


def test_deactivated_user_loses_an_open_session(app: FastAPI, runtime: Runtime, people: dict[str, User]) -> None:
    client = logged_in_client(app, people["marketing"])
    assert client.get("/").status_code == 200
    with runtime.sessions() as s:
        s.get(User, people["marketing"].id).is_active = False
        s.commit()
    assert client.get("/").status_code == 303
    assert sessions_of(runtime, people["marketing"]) == []


def test_log_in_never_adopts_a_planted_session_cookie(app: FastAPI, runtime: Runtime, people: dict[str, User]) -> None:
    client = new_client(app)
    client.cookies.set(COOKIE_NAME, "planted-by-someone-else")
    response = login(client, people["leader"].email)
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE_NAME + "="))
    issued = cookie.split(";", 1)[0].split("=", 1)[1]
    assert issued != "planted-by-someone-else"
    assert [r.token_hash for r in sessions_of(runtime, people["leader"])] == [token_digest(issued)]


# ---------------------------------------------------------------- API tokens
def test_api_token_happy_path_records_last_use(app: FastAPI, runtime: Runtime, people: dict[str, User],
                                               client) -> None:
    token = api_token_for(runtime, people["leader"])
    app.dependency_overrides[get_now] = lambda: NOW
    response = client.get("/api/v1/stats", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["counts"]["users"] == 6
    with runtime.sessions() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token)))
        assert row is not None and row.last_used_at == NOW
    assert client.get("/api/v1/stats", headers={"Authorization": f"bearer {token}"}).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer rvt_made-up"])
def test_api_without_a_valid_token_is_401_json(client, people: dict[str, User], header: str | None) -> None:
    response = client.get("/api/v1/contacts", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["code"] in ("token_missing", "token_invalid") and "Bearer" in body["message"] or "token" in body["message"]


def test_revoked_token_and_deactivated_owner_are_refused(client, runtime: Runtime, people: dict[str, User]) -> None:
    token = api_token_for(runtime, people["marketing"])
    other = api_token_for(runtime, people["ae"])
    assert client.get("/api/v1/stats", headers=bearer(token)).status_code == 200
    with runtime.sessions() as s:
        s.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(token))).revoked_at = NOW
        s.get(User, people["ae"].id).is_active = False
        s.commit()
    revoked = client.get("/api/v1/stats", headers=bearer(token))
    assert revoked.status_code == 401 and revoked.json()["code"] == "token_invalid"
    assert "revoked" in revoked.json()["message"]
    inactive = client.get("/api/v1/stats", headers=bearer(other))
    assert inactive.status_code == 401 and "deactivated" in inactive.json()["message"]
