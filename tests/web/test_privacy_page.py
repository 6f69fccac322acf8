"""The privacy desk (``/privacy``) and the privacy API (issue #10, item 8, for admins who do not use the CLI).

Zofia Quillfeather (``tests/privacy/people.py``) is seeded into every table that can hold personal data:
two contact records of one mailbox (``zofia.quillfeather@`` from HubSpot, ``+events@`` from the events
system). An admin finds her, downloads her export, erases her after a typed confirmation and lifts a
tombstone with a reason; every other role is refused, and every refusal leaves everything as it was.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select

from revteam.config import Settings
from revteam.runtime import Runtime
from revteam.store.db import make_session_factory
from revteam.store.models import (
    ROLES,
    AuditEntry,
    Contact,
    ErasedExternalId,
    ErasedIdentity,
    User,
)
from revteam.web.app import create_app
from tests.privacy.people import EMAIL, EXTERNAL_ID, TAGGED, seed_person
from tests.web.conftest import (
    api_token_for,
    bearer,
    csrf_of,
    logged_in_client,
    new_client,
)

NON_ADMINS = [r for r in ROLES if r != "admin"]
_HIDDEN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def zofia(runtime: Runtime, people: dict[str, User]) -> dict[str, Any]:
    with runtime.sessions() as s:
        return seed_person(s)


@pytest.fixture
def admin(app: FastAPI, people: dict[str, User]) -> Any:
    return logged_in_client(app, people["admin"])


def state(runtime: Runtime) -> dict[str, Any]:
    """What an erase or a lift would change: live contacts named Zofia, tombstones, their audit entries."""
    with runtime.sessions() as s:
        return {
            "zofia": s.scalar(select(func.count()).select_from(Contact).where(Contact.first_name == "Zofia")),
            "emails": s.scalar(select(func.count()).select_from(ErasedIdentity)),
            "externals": s.scalar(select(func.count()).select_from(ErasedExternalId)),
            "audited": s.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action.in_(("contact.erased", "privacy.erasure_lifted")))),
        }


def find(client: Any, **ref: str) -> Any:
    """The find form (a POST: the address never goes into a URL)."""
    return client.post("/privacy", data={"csrf_token": csrf_of(client, "/privacy"), **ref})


def export_form(client: Any, **ref: str) -> Any:
    return client.post("/privacy/export", data={"csrf_token": csrf_of(client, "/privacy"), **ref})


def erase_form(client: Any, confirmation: str, **ref: str) -> Any:
    return client.post("/privacy/erase", data={"csrf_token": csrf_of(client, "/privacy"), "confirmation": confirmation,
                                              **ref})


def digests(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as s:
        return ([("email", d) for d in s.scalars(select(ErasedIdentity.email_sha256))]
                + [("external_id", d) for d in s.scalars(select(ErasedExternalId.digest))])


# ---------------------------------------------------------------- who may use it
def test_anonymous_is_sent_to_log_in_and_the_api_answers_401(client: Any, zofia: dict[str, Any]) -> None:
    r = client.get("/privacy")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/privacy"
    assert client.post("/privacy/export", data={"email": EMAIL}).status_code == 303
    assert client.post("/privacy", data={"email": EMAIL}).status_code == 303
    assert client.post("/privacy/erase", data={"email": EMAIL, "confirmation": "ERASE"}).status_code == 303
    for method, path in (("POST", "/api/v1/privacy/export"), ("POST", "/api/v1/privacy/erase"),
                         ("POST", "/api/v1/privacy/lift")):
        r = client.request(method, path, json={"email": EMAIL})
        assert r.status_code == 401 and r.json()["code"] == "token_missing"


@pytest.mark.parametrize("role", NON_ADMINS)
def test_every_other_role_is_refused_403_and_nothing_is_erased(app: FastAPI, runtime: Runtime,
                                                             people: dict[str, User], zofia: dict[str, Any],
                                                             role: str) -> None:
    before = state(runtime)
    c = logged_in_client(app, people[role])
    assert "/privacy" not in c.get("/").text  # no menu entry either
    r = c.get("/privacy")
    assert r.status_code == 403 and "cannot open the privacy desk" in r.text and "admin" in r.text
    token = csrf_of(c)
    assert c.post("/privacy/export", data={"csrf_token": token, "email": EMAIL}).status_code == 403
    assert c.post("/privacy", data={"csrf_token": token, "email": EMAIL}).status_code == 403
    r = c.post("/privacy/erase", data={"csrf_token": token, "email": EMAIL, "confirmation": "ERASE"})
    assert r.status_code == 403
    r = c.post("/privacy/lift", data={"csrf_token": token, "kind": "email", "digest": "0" * 64, "reason": "x"})
    assert r.status_code == 403
    full = api_token_for(runtime, people[role])
    r = c.post("/api/v1/privacy/export", json={"email": EMAIL}, headers=bearer(full))
    assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
    r = c.post("/api/v1/privacy/erase", json={"email": EMAIL}, headers=bearer(full))
    assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
    assert state(runtime) == before


def test_admins_see_it_in_the_menu(admin: Any) -> None:
    home = admin.get("/")
    assert '<a href="/privacy"' in home.text and ">Privacy</a>" in home.text
    page = admin.get("/privacy")
    assert page.status_code == 200 and "Find a person" in page.text and "Nobody has been erased yet" in page.text
    assert page.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- finding a person, what is held
def test_a_tagged_address_finds_both_records_with_counts_per_area(admin: Any, zofia: dict[str, Any]) -> None:
    r = find(admin, email="Zofia.Quillfeather+newsletter@nimbus-orbital.io")
    assert r.status_code == 200
    assert f"contact {zofia['zofia']}" in r.text and f"contact {zofia['events']}" in r.text
    counts = dict(re.findall(r"<td>([^<]+)</td><td class=\"num\">(\d+)</td>", r.text))
    assert counts["Contact records"] == "2" and counts["Touchpoints"] == "2" and counts["Disputes"] == "1"
    assert counts["Notification messages"] == "3" and counts["Import runs mentioning them"] == "1"
    assert "Download export (JSON)" in r.text and 'action="/privacy/export"' in r.text
    assert 'name="email" value="Zofia.Quillfeather+newsletter@nimbus-orbital.io"' in r.text
    assert "?email=" not in r.text  # no link carries the address in its URL
    assert 'action="/privacy/erase"' in r.text


def test_people_without_an_email_are_found_by_contact_id_or_crm_record(admin: Any, zofia: dict[str, Any]) -> None:
    r = find(admin, contact_id=str(zofia["bo"]))
    assert r.status_code == 200 and "Bo Lind" in r.text
    r = find(admin, source="hubspot", external_id=EXTERNAL_ID)
    assert r.status_code == 200 and "Zofia Quillfeather" in r.text and f"contact {zofia['zofia']}" in r.text
    assert f'name="external_id" value="{EXTERNAL_ID}"' in r.text
    # the CRM record is one of two records of Zofia's mailbox: the page says so and links the e-mail search
    assert f"other contact record(s) (contact {zofia['events']})" in r.text
    assert 'name="email" value="zofia.quillfeather@nimbus-orbital.io"><button type="submit" class="btn btn-link" ' \
        'id="search-by-email"' in r.text
    assert "same-mailbox" not in find(admin, email=EMAIL).text


def test_a_search_with_a_nul_is_refused_at_the_edge(admin: Any, zofia: dict[str, Any]) -> None:
    """A NUL in any query parameter is refused before the page runs (``web/deps.py``): the 422 error page."""
    r = admin.get("/privacy", params={"source": "hubspot", "external_id": "HS\x00770451"})
    assert r.status_code == 422 and "external_id" in r.text and "contains a NUL character" in r.text
    assert "What is held" not in r.text


@pytest.mark.parametrize(("params", "status", "message"), [
    ({"email": "nobody@nowhere.io"}, 404, "No contact with e-mail nobody@nowhere.io"),
    ({"email": "not-an-address"}, 422, "e-mail"),
    ({"contact_id": "forty-two"}, 422, "A contact id is a whole number"),
    ({"contact_id": "99999999999"}, 422, "A contact id is a whole number"),
    ({"contact_id": "999999"}, 404, "No contact with id 999999"),
    ({"source": "hubspot", "external_id": "HS-0"}, 404, "No contact with external id HS-0 in hubspot"),
    ({"email": EMAIL, "contact_id": "1"}, 422, "Name the person one way"),
])
def test_a_search_that_finds_nobody_says_so_at_its_status(admin: Any, zofia: dict[str, Any], params: dict[str, str],
                                                         status: int, message: str) -> None:
    r = find(admin, **params)
    assert r.status_code == status, r.text
    assert message in r.text and 'role="alert"' in r.text
    assert "Find a person" in r.text and "What is held" not in r.text


def test_a_nul_in_the_find_form_is_refused_at_the_edge(admin: Any, zofia: dict[str, Any]) -> None:
    r = find(admin, source="hubspot", external_id="HS\x00770451")
    assert r.status_code == 422 and "contains a NUL character" in r.text


def test_the_export_downloads_everything_held_as_json(admin: Any, zofia: dict[str, Any]) -> None:
    r = export_form(admin, email=TAGGED)
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-disposition"].startswith("attachment; filename=\"revteam-personal-data-contact-")
    assert "zofia" not in r.headers["content-disposition"].lower()
    data = r.json()
    assert sorted(c["contact"]["id"] for c in data["contacts"]) == sorted([zofia["zofia"], zofia["events"]])
    hubspot = next(c for c in data["contacts"] if c["contact"]["external_id"] == EXTERNAL_ID)
    assert hubspot["contact"]["email"] == EMAIL and hubspot["disputes"][0]["reason"].startswith("Zofia")
    assert hubspot["handoffs"][0]["reject_note"].endswith(f"({EMAIL})")
    assert len(data["outbox_messages"]) == 3 and len(data["import_runs"]) == 1
    assert data["mentions"]["content_usage"][0]["note"].startswith("sent to zofia")
    assert export_form(admin).status_code == 422  # nobody named
    assert admin.get("/privacy/export", params={"email": TAGGED}).status_code == 405  # never in a URL
    assert admin.get("/privacy", params={"email": TAGGED}).text.count("What is held") == 0


# ---------------------------------------------------------------- erase
def test_erase_without_the_csrf_token_is_refused_and_nothing_is_erased(admin: Any, runtime: Runtime,
                                                                      zofia: dict[str, Any]) -> None:
    before = state(runtime)
    for data in ({"email": EMAIL, "confirmation": "ERASE"},
                 {"email": EMAIL, "confirmation": "ERASE", "csrf_token": "forged"}):
        r = admin.post("/privacy/erase", data=data)
        assert r.status_code == 403, r.text
    r = admin.post("/privacy/lift", data={"kind": "email", "digest": "0" * 64, "reason": "x"})
    assert r.status_code == 403
    assert state(runtime) == before


@pytest.mark.parametrize("typed", ["", "erase", "yes", "bo.lind@nimbus-orbital.io", "zofia@nimbus-orbital.io",
                                   "not an address"])
def test_a_wrong_confirmation_is_refused_and_nothing_is_erased(admin: Any, runtime: Runtime, zofia: dict[str, Any],
                                                              typed: str) -> None:
    before = state(runtime)
    r = erase_form(admin, typed, email=EMAIL)
    assert r.status_code == 422, r.text
    assert "The confirmation did not match" in r.text and "Nothing was erased" in r.text
    assert "What is held" in r.text  # the person is still shown, to try again
    assert state(runtime) == before


def test_erase_nobody_is_a_404_on_the_page(admin: Any, runtime: Runtime, zofia: dict[str, Any]) -> None:
    before = state(runtime)
    r = erase_form(admin, "ERASE", email="nobody@nowhere.io")
    assert r.status_code == 404 and "No contact with e-mail nobody@nowhere.io" in r.text
    r = erase_form(admin, "ERASE")
    assert r.status_code == 422 and "Name the person one way" in r.text
    assert state(runtime) == before


@pytest.mark.parametrize("typed", ["ERASE", TAGGED, " ZOFIA.QUILLFEATHER@nimbus-orbital.io "])
def test_erase_then_the_person_is_gone_and_only_hashes_are_shown(admin: Any, runtime: Runtime, people: dict[str, User],
                                                                zofia: dict[str, Any], typed: str) -> None:
    assert "Quillfeather" in admin.get("/contacts").text
    r = erase_form(admin, typed, email=EMAIL)
    assert r.status_code == 303 and r.headers["location"] == "/privacy?notice=erased"
    after = state(runtime)
    assert after["zofia"] == 0 and after["emails"] == 1 and after["externals"] == 2
    contacts = admin.get("/contacts")
    assert "quillfeather" not in contacts.text.lower() and "Bo" in contacts.text
    page = admin.get("/privacy?notice=erased")
    assert "Erased. Only hashes" in page.text
    assert "zofia" not in page.text.lower() and EXTERNAL_ID.lower() not in page.text.lower()
    assert page.text.count('action="/privacy/lift"') == 3
    assert page.text.count(people["admin"].name) >= 4  # the menu, and "by" on each tombstone
    for _kind, digest in digests(runtime):
        assert f'title="{digest}">{digest[:12]}…' in page.text
    assert find(admin, email=EMAIL).status_code == 404


# ---------------------------------------------------------------- lift
def test_lift_needs_a_reason_and_is_audited(admin: Any, runtime: Runtime, zofia: dict[str, Any]) -> None:
    assert erase_form(admin, "ERASE", email=EMAIL).status_code == 303
    kind, digest = next(d for d in digests(runtime) if d[0] == "email")
    before = state(runtime)
    token = csrf_of(admin, "/privacy")
    for reason in ("", "   "):
        r = admin.post("/privacy/lift", data={"csrf_token": token, "kind": kind, "digest": digest, "reason": reason})
        assert r.status_code == 422 and "Say why the erasure is lifted" in r.text and "Nothing was lifted" in r.text
    for bad, message in (({"kind": "phone", "digest": digest}, "must be email or external_id"),
                         ({"kind": "email", "digest": "abc"}, "64 hex characters")):
        r = admin.post("/privacy/lift", data={"csrf_token": token, "reason": "x", **bad})
        assert r.status_code == 422 and message in r.text
    r = admin.post("/privacy/lift", data={"csrf_token": token, "kind": "email", "digest": "f" * 64, "reason": "x"})
    assert r.status_code == 404 and "No erasure is recorded" in r.text
    assert state(runtime) == before
    r = admin.post("/privacy/lift", data={"csrf_token": token, "kind": kind, "digest": digest,
                                          "reason": "She signed up again at the May webinar"})
    assert r.status_code == 303 and r.headers["location"] == "/privacy?notice=lifted"
    assert state(runtime)["emails"] == 0 and state(runtime)["externals"] == 2
    with runtime.sessions() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erasure_lifted")).one()
        assert entry.detail == {"kinds": ["email"], "reason": "She signed up again at the May webinar"}
    assert admin.get("/privacy").text.count('action="/privacy/lift"') == 2


def test_the_page_writes_the_ledger_and_erases_nothing_when_it_cannot(runtime: Runtime, settings: Settings,
                                                                     people: dict[str, User], zofia: dict[str, Any],
                                                                     tmp_path: Any) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    for ledger in (blocked / "ledger.jsonl", tmp_path / "privacy" / "ledger.jsonl"):
        rt = Runtime(settings.model_copy(update={"privacy_ledger": str(ledger)}), runtime.engine, runtime.sessions)
        c = logged_in_client(create_app(rt), people["admin"])
        before = state(runtime)
        r = erase_form(c, "ERASE", email=EMAIL)
        if ledger.parent == blocked:
            assert r.status_code == 422 and "cannot be written" in r.text and "Nothing was erased" in r.text
            assert state(runtime) == before
            continue
        assert r.status_code == 303
        lines = [json.loads(line) for line in ledger.read_text().splitlines()]
        assert [x["event"] for x in lines] == ["erased"] * 3 and "zofia" not in ledger.read_text().lower()
        kind, digest = lines[0]["kind"], lines[0]["digest"]
        r = c.post("/privacy/lift", data={"csrf_token": csrf_of(c, "/privacy"), "kind": kind, "digest": digest,
                                          "reason": "asked to be known again"})
        assert r.status_code == 303
        last = json.loads(ledger.read_text().splitlines()[-1])
        assert (last["event"], last["kind"], last["digest"]) == ("lifted", kind, digest)


# ---------------------------------------------------------------- the API
def test_export_over_the_api_needs_an_admin_full_token(app: FastAPI, runtime: Runtime, people: dict[str, User],
                                                      zofia: dict[str, Any]) -> None:
    c = new_client(app)
    url = "/api/v1/privacy/export"
    for scope in ("read", "ingest"):
        r = c.post(url, json={"email": EMAIL}, headers=bearer(api_token_for(runtime, people["admin"], scope=scope)))
        assert r.status_code == 403 and r.json()["code"] == "token_scope", scope
        assert "zofia" not in r.text.lower()
    full = bearer(api_token_for(runtime, people["admin"]))
    assert c.get(url, params={"email": TAGGED}, headers=full).status_code == 405  # never in a URL
    r = c.post(url, json={"email": TAGGED}, headers=full)
    assert r.status_code == 200
    data = r.json()
    assert {c["contact"]["email"] for c in data["contacts"]} == {EMAIL, TAGGED}
    assert set(data) == {"contacts", "outbox_messages", "audit_entries", "owner_changes", "import_runs", "mentions"}
    r = c.post(url, json={"source_system": "hubspot", "external_id": EXTERNAL_ID}, headers=full)
    assert [c["contact"]["id"] for c in r.json()["contacts"]] == [zofia["zofia"]]
    for params, status, code in (({}, 422, "person_required"), ({"email": "x@nowhere.io"}, 404, "contact_not_found"),
                                 ({"contact_id": 0}, 422, None), ({"contact_id": 2**31}, 422, None),
                                 ({"contact_id": "abc"}, 422, None), ({"email": EMAIL, "color": "red"}, 422, None)):
        r = c.post(url, json=params, headers=full)
        assert r.status_code == status, (params, r.text)
        if code:
            assert r.json()["code"] == code


def test_erase_and_lift_over_the_api(app: FastAPI, runtime: Runtime, people: dict[str, User],
                                     zofia: dict[str, Any]) -> None:
    c = new_client(app)
    read = bearer(api_token_for(runtime, people["admin"], scope="read"))
    full = bearer(api_token_for(runtime, people["admin"]))
    before = state(runtime)
    assert c.post("/api/v1/privacy/erase", json={"email": EMAIL}, headers=read).status_code == 403
    for body, status in (({}, 422), ({"email": EMAIL, "color": "red"}, 422), ({"contact_id": 0}, 422),
                         ({"email": "x@nowhere.io"}, 404)):
        assert c.post("/api/v1/privacy/erase", json=body, headers=full).status_code == status, body
    r = c.post("/api/v1/privacy/erase", json={"email": EMAIL + "\x00"}, headers=full)
    assert r.status_code == 422 and r.json()["code"] == "bad_text"  # refused at the edge (web/deps.py)
    assert state(runtime) == before
    r = c.post("/api/v1/privacy/erase", json={"source_system": "hubspot", "external_id": EXTERNAL_ID}, headers=full)
    assert r.status_code == 200 and r.json()["erased_contact_ids"] == [zofia["zofia"]]
    r = c.post("/api/v1/privacy/erase", json={"contact_id": zofia["zofia"]}, headers=full)
    assert r.status_code == 404 and "erased" in r.json()["message"]  # already erased: nothing left
    r = c.post("/api/v1/privacy/erase", json={"contact_id": zofia["events"]}, headers=full)
    assert r.status_code == 200 and r.json()["erased_contact_ids"] == [zofia["events"]]
    r = c.post("/api/v1/privacy/lift", json={"email": EMAIL}, headers=full)
    assert r.status_code == 422 and r.json()["code"] == "reason_required"
    assert c.post("/api/v1/privacy/lift", json={"email": EMAIL, "reason": "x"}, headers=read).status_code == 403
    r = c.post("/api/v1/privacy/lift", json={"email": "x@nowhere.io", "reason": "x"}, headers=full)
    assert r.status_code == 404 and r.json()["code"] == "tombstone_not_found"
    r = c.post("/api/v1/privacy/lift", json={"email": EMAIL, "reason": "came back"}, headers=full)
    assert r.status_code == 200 and r.json()["tombstones_lifted"] == 1
    _, digest = next(d for d in digests(runtime) if d[0] == "external_id")
    r = c.post("/api/v1/privacy/lift", json={"kind": "external_id", "digest": digest, "reason": "re-signed"},
               headers=full)
    assert r.status_code == 200 and r.json()["tombstones_lifted"] == 1


def test_the_openapi_description_lists_the_privacy_routes_and_their_statuses(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    for path, method in (("/api/v1/privacy/export", "post"), ("/api/v1/privacy/erase", "post"),
                         ("/api/v1/privacy/lift", "post")):
        op = paths[path][method]
        assert {"200", "401", "403", "404", "422"} <= set(op["responses"]), path
        assert op["security"] == [{"bearerAuth": []}]
    assert "full" in paths["/api/v1/privacy/export"]["post"]["responses"]["403"]["description"]
    assert "get" not in paths["/api/v1/privacy/export"]


# ---------------------------------------------------------------- both databases
@pytest.fixture
def app_on(engine: Engine, settings: Settings) -> Iterator[tuple[FastAPI, Runtime]]:
    url = engine.url.render_as_string(hide_password=False)
    rt = Runtime(settings.model_copy(update={"database_url": url}), engine, make_session_factory(engine))
    yield create_app(rt), rt


def test_the_page_erases_on_sqlite_and_postgresql(app_on: tuple[FastAPI, Runtime]) -> None:
    app, rt = app_on
    from tests.factories import make_user
    from tests.web.conftest import PASSWORD

    with rt.sessions() as s:
        seed_person(s)
        make_user(s, role="admin", email="root@revteam.test", name="Root Admin", password=PASSWORD)
        s.commit()
        root = s.scalars(select(User).where(User.email == "root@revteam.test")).one()
        s.expunge(root)
    c = logged_in_client(app, root)
    assert erase_form(c, "wrong", email=TAGGED).status_code == 422
    assert state(rt)["zofia"] == 2
    assert erase_form(c, "ERASE", email=TAGGED).status_code == 303
    assert state(rt)["zofia"] == 0
    page = c.get("/privacy")
    assert page.text.count('action="/privacy/lift"') == 3 and "Root Admin" in page.text
    full = bearer(api_token_for(rt, root))
    r = c.post("/api/v1/privacy/export", json={"external_id": "HS\x00", "source_system": "hubspot"}, headers=full)
    assert r.status_code == 422 and r.json()["code"] == "bad_text"  # refused at the edge: PostgreSQL would refuse the NUL
    r = c.post("/api/v1/privacy/export", json={"email": EMAIL}, headers=full)
    assert r.status_code == 404
    assert json.loads(r.text)["code"] == "contact_not_found"
