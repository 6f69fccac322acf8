"""People and access on the web (admins): add users, (de)activate, issue and revoke API tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from revteam.runtime import Runtime
from revteam.store.models import ApiToken, AuditEntry, User, WebSession
from tests.web.conftest import bearer, csrf_of, logged_in_client, login, new_client


@pytest.fixture
def admin(app: FastAPI, people: dict[str, User]) -> Any:
    return logged_in_client(app, people["admin"])


def post(client: Any, path: str, **data: str) -> Any:
    return client.post(path, data={"csrf_token": csrf_of(client, "/users"), **data})


def test_admin_adds_a_user_who_can_then_log_in(app: FastAPI, runtime: Runtime, admin: Any) -> None:
    response = post(admin, "/users", email=" New.Rep@Revteam.test ", name="Nia Rep", role="sdr", team="EMEA SDRs",
                    password="a long enough password")
    assert response.status_code == 303
    page = admin.get(response.headers["location"]).text
    assert "User added." in page and "new.rep@revteam.test" in page and "EMEA SDRs" in page
    assert login(new_client(app), "new.rep@revteam.test", "a long enough password").status_code == 303
    with runtime.sessions() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "user.added"))
        assert entry is not None and entry.actor.startswith("user:")


@pytest.mark.parametrize("fields,status,message", [
    ({"email": "sdr@revteam.test", "role": "sdr", "password": "a long enough password"}, 409, "already exists"),
    ({"email": "x@revteam.test", "role": "wizard", "password": "a long enough password"}, 422, "Unknown role"),
    ({"email": "x@revteam.test", "role": "sdr", "password": "short"}, 422, "too short"),
    ({"email": "not an email", "role": "sdr", "password": "a long enough password"}, 422, "e-mail"),
    ({"email": "x@revteam.test", "role": "sdr", "password": ""}, 422, "Set a password"),
])
def test_bad_new_users_are_explained_and_not_added(runtime: Runtime, admin: Any, fields: dict[str, str],
                                                   status: int, message: str) -> None:
    with runtime.sessions() as s:
        before = len(s.scalars(select(User)).all())
    response = post(admin, "/users", name="X", **fields)
    assert response.status_code == status
    assert message in response.text
    assert 'value="' + fields["email"] + '"' in response.text  # the form keeps what was typed
    with runtime.sessions() as s:
        assert len(s.scalars(select(User)).all()) == before


def test_token_is_shown_once_works_and_can_be_revoked(app: FastAPI, runtime: Runtime, people: dict[str, User],
                                                      admin: Any) -> None:
    assert post(admin, "/users", email="tracker@revteam.test", name="Website tracker", role="marketing",
                service="yes").status_code == 303
    with runtime.sessions() as s:
        tracker = s.scalar(select(User).where(User.email == "tracker@revteam.test"))
        assert tracker.is_service and tracker.password_hash is None
    response = post(admin, f"/users/{tracker.id}/tokens", name="website tracker", scope="full")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    token = re.search(r'<code class="token" id="new-token">([^<]+)</code>', response.text).group(1)
    api = new_client(app)
    assert api.get("/api/v1/stats", headers=bearer(token)).status_code == 200
    listing = admin.get("/users").text
    assert token not in listing and token[:10] + "…" in listing  # only the prefix is shown again
    with runtime.sessions() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.name == "website tracker"))
    assert post(admin, f"/tokens/{token_id}/revoke").status_code == 303
    assert api.get("/api/v1/stats", headers=bearer(token)).status_code == 401
    assert "Revoked" in admin.get("/users").text


def test_an_admin_cannot_mint_a_token_for_a_person(runtime: Runtime, people: dict[str, User], admin: Any) -> None:
    response = post(admin, f"/users/{people['marketing'].id}/tokens", name="act as her")
    assert response.status_code == 403 and "only they can create one" in response.text
    with runtime.sessions() as s:
        assert s.scalars(select(ApiToken)).all() == []


def test_deactivating_ends_sessions_and_blocks_log_in(app: FastAPI, runtime: Runtime, people: dict[str, User],
                                                      admin: Any) -> None:
    rep = logged_in_client(app, people["ae"])
    assert post(admin, f"/users/{people['ae'].id}/active", active="false").status_code == 303
    with runtime.sessions() as s:
        assert s.scalars(select(WebSession).where(WebSession.user_id == people["ae"].id)).all() == []
    assert rep.get("/").status_code == 303
    assert login(new_client(app), people["ae"].email).status_code == 400
    assert post(admin, f"/users/{people['ae'].id}/active", active="true").status_code == 303
    assert login(new_client(app), people["ae"].email).status_code == 303


def test_admins_cannot_lock_themselves_out(runtime: Runtime, people: dict[str, User], admin: Any) -> None:
    response = post(admin, f"/users/{people['admin'].id}/active", active="false")
    assert response.status_code == 422 and "cannot deactivate yourself" in response.text
    with runtime.sessions() as s:
        assert s.get(User, people["admin"].id).is_active


def test_unknown_user_or_token_is_404(admin: Any) -> None:
    assert post(admin, "/users/9999/active", active="false").status_code == 404
    assert post(admin, "/users/9999/tokens", name="x").status_code == 404
    assert post(admin, "/tokens/9999/revoke").status_code == 404
