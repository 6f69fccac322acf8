"""API tokens (issue #10, item 7): scopes checked on every API route (fail closed), expiry, shown once and
stored hashed, revocable on the page, the API and the CLI, and never minted for another person."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import select
from typer.testing import CliRunner

from revteam.cli.main import app as cli_app
from revteam.errors import Forbidden, InvalidInput, Unauthenticated
from revteam.runtime import Runtime
from revteam.services.people.tokens import (
    caller_for_api_token,
    issue_api_token,
    issue_own_token,
    issue_token_for,
    revoke_token,
)
from revteam.services.people.users import add_user
from revteam.store.models import ApiToken, AuditEntry, User
from revteam.web import policy
from revteam.web.deps import get_now
from tests.factories import make_contact, make_user
from tests.web.conftest import (
    api_token_for,
    bearer,
    csrf_of,
    logged_in_client,
    new_client,
)

NINE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def api_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    return [(rc.name, set(rc.methods or ())) for rc in iter_route_contexts(app.routes)
            if isinstance(rc.original_route, APIRoute) and rc.path.startswith("/api/")]


# ---------------------------------------------------------------- the policy declares scopes, fail closed
def test_no_write_route_accepts_a_read_token_and_every_read_route_does(app: FastAPI) -> None:
    routes = api_routes(app)
    assert len(routes) > 40
    for name, methods in routes:
        rule = policy.POLICY[name]
        if methods & WRITE_METHODS:
            assert "read" not in rule.scopes, f"{name} writes but accepts read-only tokens"
        elif name in policy.FULL_ONLY_READS:  # personal data (a privacy export): full tokens only, on purpose
            assert not rule.scopes, f"{name} is personal data: {policy.FULL_ONLY_READS[name]}"
        else:
            assert "read" in rule.scopes, f"{name} only reads; declare _read() for it"
        assert rule.scopes <= {"read", "ingest"}, name
    ingest = {name for name, _ in routes if "ingest" in policy.POLICY[name].scopes}
    assert ingest == {"api.spec", "api.imports.list", "api.imports.create", "api.touchpoints.create"}
    pages = [rule for name, rule in policy.POLICY.items() if not name.startswith("api.")]
    assert all(not rule.scopes for rule in pages)


def test_a_rule_without_scopes_accepts_only_full_tokens() -> None:
    undeclared = policy.Rule(roles=frozenset({"admin"}))
    assert undeclared.allows_scope("full")
    assert not undeclared.allows_scope("read") and not undeclared.allows_scope("ingest")
    assert not undeclared.allows_scope("") and not undeclared.allows_scope("FULL")


# ---------------------------------------------------------------- scopes on the wire
def test_each_scope_reaches_only_its_routes(client: Any, runtime: Runtime, people: dict[str, User]) -> None:
    marketing = people["marketing"]
    read, ingest, full = (api_token_for(runtime, marketing, name=s, scope=s) for s in ("read", "ingest", "full"))
    assert client.get("/api/v1/contacts", headers=bearer(read)).status_code == 200
    refused = client.post("/api/v1/touchpoints", headers=bearer(read), json={"events": []})
    assert refused.status_code == 403 and refused.json()["code"] == "token_scope"
    assert "scope (read)" in refused.json()["message"] and "ingest or full" in refused.json()["message"]

    no_reads = client.get("/api/v1/contacts", headers=bearer(ingest))
    assert no_reads.status_code == 403 and no_reads.json()["code"] == "token_scope"
    sent = client.post("/api/v1/touchpoints", headers=bearer(ingest), json={"events": []})
    assert sent.status_code != 403 and sent.status_code != 401  # past the policy (the body is the service's business)
    assert client.get("/api/v1/imports", headers=bearer(ingest)).status_code == 200

    assert client.get("/api/v1/contacts", headers=bearer(full)).status_code == 200
    assert client.post("/api/v1/touchpoints", headers=bearer(full), json={"events": []}).status_code not in (401, 403)
    # a decision route declares no scope: only full tokens, and never beyond the role
    leader_read = api_token_for(runtime, people["leader"], scope="read")
    decision = client.post("/api/v1/agreements", headers=bearer(leader_read), json={})
    assert decision.status_code == 403 and decision.json()["code"] == "token_scope"
    sdr_full = api_token_for(runtime, people["sdr"], scope="full")
    beyond = client.post("/api/v1/touchpoints", headers=bearer(sdr_full), json={"events": []})
    assert beyond.status_code == 403 and beyond.json()["code"] == "role_forbidden"


def test_an_expired_token_is_refused_with_its_own_message(app: FastAPI, runtime: Runtime,
                                                           people: dict[str, User]) -> None:
    with runtime.sessions() as s:
        issued = issue_own_token(s, s.get(User, people["leader"].id), name="quarterly", scope="read", days=30, now=NINE)
        s.commit()
    assert issued.record.expires_at == NINE + timedelta(days=30)
    api = new_client(app)
    app.dependency_overrides[get_now] = lambda: NINE + timedelta(days=29, hours=23)
    assert api.get("/api/v1/stats", headers=bearer(issued.token)).status_code == 200
    app.dependency_overrides[get_now] = lambda: NINE + timedelta(days=30)
    expired = api.get("/api/v1/stats", headers=bearer(issued.token))
    assert expired.status_code == 401 and expired.json()["code"] == "token_expired"
    assert "expired on 2026-04-01" in expired.json()["message"]


# ---------------------------------------------------------------- issuing: consent, hashing, bad input
def test_tokens_are_stored_hashed_with_scope_expiry_and_consent_in_the_audit_log(session, sessions) -> None:
    maya = make_user(session, role="marketing", email="maya@revteam.test")
    ada = make_user(session, role="admin", email="ada@revteam.test")
    session.commit()
    mine = issue_own_token(session, maya, name="BI export", scope="read", days=None, now=NINE, default_days=45)
    with sessions() as s:
        row = s.get(ApiToken, mine.record.id)
        assert row.token_hash == hashlib.sha256(mine.token.encode()).hexdigest() and mine.token not in row.token_hash
        assert (row.scope, row.expires_at, row.prefix) == ("read", NINE + timedelta(days=45), mine.token[:10])
    with pytest.raises(Forbidden) as refused:
        issue_token_for(session, maya.id, name="act as Maya", by=ada, now=NINE)
    assert refused.value.code == "token_consent"
    tracker = add_user(session, email="tracker@revteam.test", name="Website tracker", role="marketing", password=None,
                       now=NINE, service=True)
    for_tool = issue_token_for(session, tracker.id, name="tracker", by=ada, now=NINE, scope="ingest")
    with sessions() as s:
        audit = [(a.action, a.actor, (a.detail or {}).get("consent")) for a in s.scalars(
            select(AuditEntry).where(AuditEntry.action.like("token.%")).order_by(AuditEntry.id))]
        assert s.scalar(select(ApiToken.id).where(ApiToken.user_id == maya.id, ApiToken.name == "act as Maya")) is None
    assert audit == [("token.issued", f"user:{maya.id}", "self"), ("token.issued", f"user:{ada.id}", "service_account"),
                     ("token.issued_for", f"user:{ada.id}", "service_account")]
    assert caller_for_api_token(session, for_tool.token, now=NINE).scope == "ingest"


@pytest.mark.parametrize(("scope", "days", "message"), [
    ("god", None, "Unknown token scope 'god'"), ("", None, "Unknown token scope"),
    ("read", 0, "1 to 366 days"), ("read", 367, "1 to 366 days"), ("read", -5, "1 to 366 days"),
])
def test_bad_scopes_and_lifetimes_are_refused(session, scope: str, days: int | None, message: str) -> None:
    maya = make_user(session, role="marketing")
    session.commit()
    with pytest.raises(InvalidInput, match=message) as refused:
        issue_api_token(session, maya, name="x", now=NINE, scope=scope, days=days)
    assert refused.value.code == "bad_token"


def test_a_service_account_cannot_log_in_and_has_no_password(session) -> None:
    with pytest.raises(InvalidInput, match="has no password"):
        add_user(session, email="bot@revteam.test", name="Bot", role="marketing", password="long enough pass",
                 now=NINE, service=True)


def test_revoking_someone_elses_token_is_not_found_unless_admin(session) -> None:
    maya, sam = make_user(session, role="marketing"), make_user(session, role="sdr")
    ada = make_user(session, role="admin")
    session.commit()
    token = issue_own_token(session, maya, name="mine", now=NINE)
    from revteam.errors import NotFound

    with pytest.raises(NotFound):
        revoke_token(session, token.record.id, by=sam, now=NINE)
    revoke_token(session, token.record.id, by=ada, now=NINE)
    with pytest.raises(Unauthenticated):
        caller_for_api_token(session, token.token, now=NINE)


# ---------------------------------------------------------------- the own-tokens page and the API
def test_own_tokens_page_shows_once_and_revokes(app: FastAPI, runtime: Runtime, people: dict[str, User]) -> None:
    ae = logged_in_client(app, people["ae"])
    page = ae.get("/tokens")
    assert page.status_code == 200 and "You have no API tokens" in page.text
    made = ae.post("/tokens", data={"csrf_token": csrf_of(ae, "/tokens"), "name": "pipeline sheet", "scope": "read",
                                    "days": "30"})
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    token = re.search(r'<code class="token" id="new-token">([^<]+)</code>', made.text).group(1)
    api = new_client(app)
    assert api.get("/api/v1/stats", headers=bearer(token)).status_code == 200
    listing = ae.get("/tokens").text
    assert token not in listing and token[:10] + "…" in listing and ">read<" in listing
    for bad in ({"scope": "root"}, {"days": "0"}, {"days": "soon"}):
        refused = ae.post("/tokens", data={"csrf_token": csrf_of(ae, "/tokens"), "name": "x", "scope": "read", **bad})
        assert refused.status_code == 422, bad
    with runtime.sessions() as s:
        token_id = s.scalar(select(ApiToken.id).where(ApiToken.name == "pipeline sheet"))
        assert s.scalar(select(ApiToken.id).where(ApiToken.name == "x")) is None
    other = logged_in_client(app, people["sdr"])
    assert other.post(f"/tokens/{token_id}/revoke-mine", data={"csrf_token": csrf_of(other, "/tokens")}).status_code == 404
    assert ae.post(f"/tokens/{token_id}/revoke-mine", data={"csrf_token": csrf_of(ae, "/tokens")}).status_code == 303
    assert api.get("/api/v1/stats", headers=bearer(token)).status_code == 401


def test_tokens_over_the_api_list_with_read_and_revoke_with_full(client: Any, runtime: Runtime,
                                                                 people: dict[str, User]) -> None:
    read = api_token_for(runtime, people["leader"], name="reader", scope="read")
    full = api_token_for(runtime, people["leader"], name="owner", scope="full")
    listed = client.get("/api/v1/me/tokens", headers=bearer(read))
    assert listed.status_code == 200 and {t["name"] for t in listed.json()} == {"reader", "owner"}
    assert all("token_hash" not in t for t in listed.json())
    reader_id = next(t["id"] for t in listed.json() if t["name"] == "reader")
    assert client.delete(f"/api/v1/tokens/{reader_id}", headers=bearer(read)).json()["code"] == "token_scope"
    gone = client.delete(f"/api/v1/tokens/{reader_id}", headers=bearer(full))
    assert gone.status_code == 200 and gone.json()["revoked_at"]
    assert client.get("/api/v1/stats", headers=bearer(read)).status_code == 401
    assert client.delete("/api/v1/tokens/999999", headers=bearer(full)).status_code == 404
    too_big = client.delete(f"/api/v1/tokens/{2**40}", headers=bearer(full))  # ids are bounded at the edge
    assert too_big.status_code == 404 and too_big.json()["code"] == "no_such_id"


# ---------------------------------------------------------------- the CLI
def test_cli_issues_tokens_only_for_service_accounts_lists_and_revokes(db_env: str) -> None:
    runner = CliRunner()
    assert runner.invoke(cli_app, ["migrate"]).exit_code == 0
    assert runner.invoke(cli_app, ["users", "add", "tracker@revteam.test", "--role", "marketing", "--service"]).exit_code == 0
    assert runner.invoke(cli_app, ["users", "add", "maya@revteam.test", "--role", "marketing", "--password",
                                   "correct horse battery"]).exit_code == 0
    made = runner.invoke(cli_app, ["users", "token", "tracker@revteam.test", "--name", "site", "--days", "10"])
    assert made.exit_code == 0, made.output
    assert "ingest" in made.output and re.search(r"rvt_\S+", made.output)
    person = runner.invoke(cli_app, ["users", "token", "maya@revteam.test"])
    assert person.exit_code == 2 and "token_consent" in person.output
    bad = runner.invoke(cli_app, ["users", "token", "tracker@revteam.test", "--scope", "everything"])
    assert bad.exit_code == 2 and "Unknown token scope" in bad.output
    listed = json.loads(runner.invoke(cli_app, ["users", "tokens", "--json"]).output)
    assert [(t["name"], t["scope"], t["revoked_at"]) for t in listed] == [("site", "ingest", None)]
    assert runner.invoke(cli_app, ["users", "revoke", str(listed[0]["id"])]).exit_code == 0
    assert json.loads(runner.invoke(cli_app, ["users", "tokens", "--json"]).output)[0]["revoked_at"]
    assert runner.invoke(cli_app, ["users", "revoke", "999999"]).exit_code == 2


def test_a_revoked_token_or_a_lost_role_replays_no_stored_answer(client: Any, runtime: Runtime,
                                                                 people: dict[str, User]) -> None:
    marketing = people["marketing"]
    with runtime.sessions() as s:
        issued = issue_api_token(s, s.get(User, marketing.id), name="site", scope="full",
                                 now=datetime.now(UTC))
        second = issue_api_token(s, s.get(User, marketing.id), name="site2", scope="full", now=datetime.now(UTC))
        make_contact(s, email="reader@example.com")
        s.commit()
    recent = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    call = {"json": {"source_system": "website", "events": [
        {"event_id": "evt-1", "email": "reader@example.com", "type": "page_view", "occurred_at": recent}]}}
    first = client.post("/api/v1/touchpoints", headers={**bearer(issued.token), "Idempotency-Key": "k1"}, **call)
    assert first.status_code == 200, first.text
    again = client.post("/api/v1/touchpoints", headers={**bearer(issued.token), "Idempotency-Key": "k1"}, **call)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true", again.text
    with runtime.sessions() as s:
        revoke_token(s, issued.record.id, by=s.get(User, marketing.id), now=datetime.now(UTC))
        s.commit()
    plain = client.post("/api/v1/touchpoints", headers=bearer(issued.token), **call)
    assert plain.status_code == 401
    replay = client.post("/api/v1/touchpoints", headers={**bearer(issued.token), "Idempotency-Key": "k1"}, **call)
    assert replay.status_code == 401 and "Idempotent-Replayed" not in replay.headers
    # a role that no longer reaches the route: 403, not the stored answer
    kept = client.post("/api/v1/touchpoints", headers={**bearer(second.token), "Idempotency-Key": "k2"}, **call)
    assert kept.status_code == 200
    with runtime.sessions() as s:
        s.get(User, marketing.id).role = "sdr"
        s.commit()
    demoted = client.post("/api/v1/touchpoints", headers={**bearer(second.token), "Idempotency-Key": "k2"}, **call)
    assert demoted.status_code == 403 and demoted.json()["code"] == "role_forbidden"


@pytest.mark.parametrize("password", [None, ""])
def test_a_person_needs_a_password_whatever_face_adds_them(session, password: str | None) -> None:
    with pytest.raises(InvalidInput) as refused:
        add_user(session, email="nopass@revteam.test", name="No Pass", role="sdr", password=password, now=NINE)
    assert refused.value.code == "password_missing" and "service account" in refused.value.message
    assert session.scalar(select(User).where(User.email == "nopass@revteam.test")) is None


def test_cli_adds_a_service_account_although_a_password_is_in_the_environment(db_env: str, monkeypatch) -> None:
    runner = CliRunner()
    assert runner.invoke(cli_app, ["migrate"]).exit_code == 0
    monkeypatch.setenv("REVTEAM_NEW_PASSWORD", "correct horse battery")
    added = runner.invoke(cli_app, ["users", "add", "tracker@revteam.test", "--role", "marketing", "--service"])
    assert added.exit_code == 0, added.output
    person = runner.invoke(cli_app, ["users", "add", "maya@revteam.test", "--role", "marketing"])
    assert person.exit_code == 0, person.output  # a person takes the environment's password
    monkeypatch.delenv("REVTEAM_NEW_PASSWORD")
    explicit = runner.invoke(cli_app, ["users", "add", "bot@revteam.test", "--role", "marketing", "--service",
                                       "--password", "correct horse battery"])
    assert explicit.exit_code == 2 and "service_password" in explicit.output
