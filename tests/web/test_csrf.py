"""Every unsafe cookie-authenticated request needs the session's CSRF token; without it: 403, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from revteam.runtime import Runtime
from revteam.store.models import ApiToken, AuditEntry, ImportRun, User, WebSession
from tests.web.conftest import csrf_of, logged_in_client

GOOD_CSV = b"email,first_name,last_name\nnew.person@initech.com,New,Person\n"


def counts(runtime: Runtime) -> dict[str, Any]:
    with runtime.sessions() as s:
        return {
            "users": s.scalar(select(func.count()).select_from(User)),
            "active": s.scalar(select(func.count()).select_from(User).where(User.is_active.is_(True))),
            "tokens": s.scalar(select(func.count()).select_from(ApiToken)),
            "revoked": s.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_not(None))),
            "imports": s.scalar(select(func.count()).select_from(ImportRun)),
            "sessions": s.scalar(select(func.count()).select_from(WebSession)),
            "audit": s.scalar(select(func.count()).select_from(AuditEntry)),
        }


@pytest.fixture
def admin(app: FastAPI, people: dict[str, User]) -> Any:
    return logged_in_client(app, people["admin"])


def _forms(people: dict[str, User], token_id: int) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(path, form fields, files) of every form an admin can send."""
    return [
        ("/users", {"email": "mallory@revteam.test", "name": "Mallory", "role": "admin", "password": "0123456789ab"}, {}),
        (f"/users/{people['sdr'].id}/active", {"active": "false"}, {}),
        (f"/users/{people['sdr'].id}/tokens", {"name": "exfiltrate"}, {}),
        (f"/tokens/{token_id}/revoke", {}, {}),
        ("/imports", {"kind": "contacts"}, {"file": ("leads.csv", GOOD_CSV, "text/csv")}),
        ("/privacy", {"email": "ana@acme-rockets.com"}, {}),
        ("/privacy/export", {"email": "ana@acme-rockets.com"}, {}),
        ("/privacy/erase", {"email": "ana@acme-rockets.com", "confirmation": "ERASE"}, {}),
        ("/privacy/lift", {"kind": "email", "digest": "0" * 64, "reason": "forged"}, {}),
        ("/logout", {}, {}),
    ]


@pytest.mark.parametrize("token", [None, "", "wrong-token", "other-session"])
def test_forms_without_the_right_token_are_refused_and_write_nothing(
    app: FastAPI, runtime: Runtime, people: dict[str, User], admin: Any, token: str | None
) -> None:
    from tests.web.conftest import api_token_for

    api_token_for(runtime, people["leader"])
    with runtime.sessions() as s:
        token_id = s.scalar(select(ApiToken.id))
    if token == "other-session":  # a valid token, but of somebody else's session
        token = csrf_of(logged_in_client(app, people["marketing"]))
    before = counts(runtime)
    for path, data, files in _forms(people, token_id):
        if token is not None:
            data = {**data, "csrf_token": token}
        response = admin.post(path, data=data, files=files or None)
        assert response.status_code == 403, (path, response.status_code, response.text[:300])
        assert "security token is missing or out of date" in response.text
    assert counts(runtime) == before
    assert admin.get("/").status_code == 200  # the refused log-out did not log out


def test_htmx_header_token_is_accepted_and_a_wrong_one_refused(app: FastAPI, runtime: Runtime,
                                                              people: dict[str, User], admin: Any) -> None:
    token = csrf_of(admin)
    sdr = people["sdr"]
    refused = admin.post(f"/users/{sdr.id}/active", data={"active": "false"}, headers={"X-CSRF-Token": token + "x"})
    assert refused.status_code == 403
    assert counts(runtime)["active"] == 5  # five roles active, one deactivated user
    done = admin.post(f"/users/{sdr.id}/active", data={"active": "false"}, headers={"X-CSRF-Token": token})
    assert done.status_code == 303
    assert counts(runtime)["active"] == 4


def test_the_right_token_in_the_form_works(app: FastAPI, runtime: Runtime, admin: Any) -> None:
    token = csrf_of(admin, "/users")
    response = admin.post("/users", data={"csrf_token": token, "email": "new@revteam.test", "name": "New Person",
                                          "role": "sdr", "password": "a long enough password"})
    assert response.status_code == 303 and response.headers["location"] == "/users?notice=added"
    assert counts(runtime)["users"] == 7


def test_every_form_on_every_page_carries_the_token(app: FastAPI, people: dict[str, User], record: Any) -> None:
    admin = logged_in_client(app, people["admin"])
    token = csrf_of(admin)
    for path in ("/", "/users", "/imports", f"/contacts/{record.contact_id}", "/privacy"):
        html = admin.get(path).text
        for form in html.split("<form")[1:]:
            head = form.split(">", 1)[0]
            if 'method="post"' in head:
                body = form.split("</form>", 1)[0]
                assert f'name="csrf_token" value="{token}"' in body, f"a POST form on {path} has no CSRF token"
