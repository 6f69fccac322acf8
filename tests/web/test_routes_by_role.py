"""Every route of the app, as every role and as nobody, against the one policy table.

The walk enumerates ``app.routes`` (so a new route is walked without anyone editing this file), fills
path parameters with real ids and checks:

* anonymous: pages answer 303 to ``/login?next=...``; API routes answer 401 JSON, also with a bad token;
* a role the policy does not list: 403 ``role_forbidden``;
* a role the policy lists: no log-in redirect, not 401, and not a 403 *from the policy* (GET pages: 200).
  A 403 from the resource itself is the service speaking, not the policy (another rep's lead:
  ``not_your_lead``), and is fine here; ``test_handoff_pages.py`` tests those refusals.

Unsafe requests carry a valid CSRF token so that what is tested here is the policy, not CSRF (that is
``test_csrf.py``); their bodies are empty, so allowed calls stop at validation and write nothing. The
handoff routes are walked on a *rejected* lead, so the actions without a body (accept, qualify) are
refused as already decided (409) and write nothing either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import re

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from revteam.runtime import Runtime
from revteam.store.models import ROLES, User
from revteam.web import policy
from tests.web.conftest import Record, api_token_for, bearer, csrf_of, logged_in_client, new_client, use_handoff_template

runtime, people, record, world = use_handoff_template()  # the record and the handoff, built once

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # with {params}

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for rc in iter_route_contexts(app.routes):
        if not isinstance(rc.original_route, APIRoute):
            continue  # the /static mount: public files, no policy
        for method in sorted(rc.methods or ()):
            if method != "HEAD":
                found.append(Endpoint(rc.name, method, rc.path))
    return found


def fill(path: str, ids: dict[str, int]) -> str:
    for key, value in ids.items():
        path = path.replace("{" + key + "}", str(value))
    assert "{" not in path, f"no test id for a parameter of {path}; add it to path_ids()"
    return path


@pytest.fixture
def path_ids(runtime: Runtime, people: dict[str, User], record: Record, world: Any) -> dict[str, int]:
    from revteam.services.people.users import issue_api_token
    from tests.web.conftest import T0

    from sqlalchemy import select

    from revteam.store.models import ContentAsset, Deal

    with runtime.sessions() as s:
        spare = issue_api_token(s, s.get(User, people["leader"].id), name="walked", now=T0)
        s.commit()
        token_id = spare.record.id
        won_deal_id = s.scalar(select(Deal.id).where(Deal.outcome == "won").order_by(Deal.id))
        content_id = s.scalar(select(ContentAsset.id).order_by(ContentAsset.id))
    return {
        "account_id": record.account_id,
        "contact_id": record.contact_id,
        "user_id": people["leader"].id,
        "token_id": token_id,
        "handoff_id": world.rejected_disputed,
        "dispute_id": world.dispute_id,
        "version": world.agreement_version,
        "group_id": world.group_id,
        "campaign_id": world.campaign_id,
        "deal_id": won_deal_id,
        "content_id": content_id,
    }


def is_login_redirect(response: Any) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


PUBLIC_ROUTES = {"login.form", "login.submit", "health"}
# routes that answer 422 person_required when walked without naming a person (a privacy export)
NEEDS_A_PERSON = {"privacy.export", "api.privacy.export"}


def intended_roles(route_name: str) -> set[str]:
    """The access rules as the product states them, written independently of web/policy.py."""
    if route_name.startswith(("users.", "privacy.", "api.privacy.")):  # people, access and personal data
        return {"admin"}
    if route_name.startswith(("imports.", "api.imports.", "api.touchpoints.")):
        return {"admin", "marketing"}
    # the lead inbox and its actions: the reps, and the leaders and admins who stand in for them
    if route_name.startswith(("inbox.", "api.inbox.", "api.handoffs.")):
        return {"sdr", "ae", "leader", "admin"}
    # marketing disputes a rejection (so may its head, a leader, and admins); the committee votes
    if route_name in ("disputes.open", "api.disputes.open"):
        return {"marketing", "leader", "admin"}
    if route_name in ("disputes.vote", "api.disputes.vote"):
        return {"leader", "admin"}
    # the heads propose and sign the SLA; everyone reads it
    if route_name in ("agreement.propose", "agreement.sign", "api.agreements.propose", "api.agreements.sign"):
        return {"leader", "admin"}
    # the scoring model: marketing and admins edit it, leaders read it
    if route_name in ("scoring.page", "api.scoring.get"):
        return {"admin", "marketing", "leader"}
    if route_name.startswith(("scoring.", "api.scoring.")):
        return {"admin", "marketing"}
    # the analytics pages (issue #4: funnel, attribution, content ROI, revenue and forecast): read-only, everyone
    if route_name.startswith(("funnel.", "attribution.", "content.", "forecast.")):
        return set(ROLES)
    # every report, the disputes page, the agreement, and one's own notification settings: everyone
    return set(ROLES)


_ERROR_CODE = re.compile(r"Error code: <code>([a-z_]+)</code>")
POLICY_CODES = {"role_forbidden", "no_policy", "csrf_failed"}


def refused_by_policy(response: Any, is_api: bool) -> bool:
    """A 403 from the access policy (or CSRF), as opposed to a resource's own refusal such as another rep's lead."""
    if response.status_code != 403:
        return False
    if is_api:
        return response.json().get("code") in POLICY_CODES
    found = _ERROR_CODE.search(response.text)
    return found is None or found.group(1) in POLICY_CODES


def test_the_policy_is_the_intended_one(app: FastAPI) -> None:
    for ep in endpoints(app):
        rule = policy.POLICY[ep.name]
        if ep.name in PUBLIC_ROUTES:
            assert rule.public, f"{ep.name} must be public"
        else:
            assert not rule.public and set(rule.roles) == intended_roles(ep.name), (
                f"{ep.name}: policy allows {sorted(rule.roles)}, intended {sorted(intended_roles(ep.name))}"
            )


def test_every_route_has_a_policy_entry_and_every_entry_a_route(app: FastAPI) -> None:
    names = {e.name for e in endpoints(app)}
    missing = sorted(n for n in names if policy.rule_for(n) is None)
    assert not missing, f"routes without an entry in web/policy.py POLICY (nobody can use them): {missing}"
    stale = sorted(set(policy.POLICY) - names)
    assert not stale, f"POLICY entries for routes that do not exist: {stale}"
    for name, rule in policy.POLICY.items():
        assert rule.public or rule.roles, f"{name}: a rule needs roles or public"
        assert rule.roles <= set(ROLES), f"{name}: unknown role in {sorted(rule.roles)}"


def test_a_route_without_a_policy_entry_is_refused_to_everyone(app: FastAPI, people: dict[str, User]) -> None:
    @app.get("/unlisted", name="unlisted.page")
    def unlisted() -> dict[str, str]:
        return {"secret": "should not be seen"}

    admin = logged_in_client(app, people["admin"])
    response = admin.get("/unlisted")
    assert response.status_code == 403
    assert "no entry in the access policy" in response.text
    assert "should not be seen" not in response.text


def test_walk_every_route_as_every_role(app: FastAPI, runtime: Runtime, people: dict[str, User],
                                        path_ids: dict[str, int]) -> None:
    walked = endpoints(app)
    assert len(walked) >= 70
    page_clients = {role: logged_in_client(app, people[role]) for role in ROLES}
    csrf = {role: csrf_of(c) for role, c in page_clients.items()}
    tokens = {role: api_token_for(runtime, people[role]) for role in ROLES}
    anonymous = new_client(app)
    problems: list[str] = []

    for ep in walked:
        rule = policy.POLICY[ep.name]
        path = fill(ep.path, path_ids)
        # nobody
        r = anonymous.request(ep.method, path)
        if rule.public:
            login_csrf = ep.name == "login.submit" and r.status_code == 403 and "log-in form has expired" in r.text
            if (r.status_code in (401, 403) and not login_csrf) or is_login_redirect(r):
                problems.append(f"anonymous {ep.method} {path}: public route refused ({r.status_code})")
        elif ep.is_api:
            if r.status_code != 401 or r.json().get("code") != "token_missing":
                problems.append(f"anonymous {ep.method} {path}: expected 401 token_missing, got {r.status_code}")
            r = anonymous.request(ep.method, path, headers=bearer("rvt_not-a-real-token"))
            if r.status_code != 401 or r.headers.get("www-authenticate") != "Bearer":
                problems.append(f"bad token {ep.method} {path}: expected 401 + WWW-Authenticate, got {r.status_code}")
        elif not is_login_redirect(r):
            problems.append(f"anonymous {ep.method} {path}: expected 303 to /login, got {r.status_code}")
        elif ep.method == "GET" and "{" not in ep.path and ep.path != "/":
            if r.headers["location"] != f"/login?next={path}":
                problems.append(f"anonymous GET {path}: next= lost: {r.headers['location']}")
        if rule.public:
            continue
        # every role
        for role in ROLES:
            if ep.name == "logout":
                client = logged_in_client(app, people[role])  # logging out would end the shared session
                token = csrf_of(client)
            else:
                client, token = page_clients[role], csrf[role]
            headers = bearer(tokens[role]) if ep.is_api else ({"X-CSRF-Token": token} if ep.method in UNSAFE else {})
            r = client.request(ep.method, path, headers=headers)
            allowed = role in rule.roles
            if ep.name == "logout":
                if not (r.status_code == 303 and r.headers["location"] == "/login" and is_login_redirect(client.get("/"))):
                    problems.append(f"{role} POST /logout: expected 303 to /login and the session gone, got {r.status_code}")
            elif allowed:
                if r.status_code == 401 or refused_by_policy(r, ep.is_api) or is_login_redirect(r):
                    problems.append(f"{role} {ep.method} {path}: allowed by policy but got {r.status_code}")
                # (the walked record has two weeks of closed deals: too little history for the forecast API)
                elif ep.method == "GET" and r.status_code != 200 and not (
                        ep.name == "api.analytics.forecast" and r.json().get("code") == "forecast_insufficient_history"
                ) and not (ep.name in NEEDS_A_PERSON and r.status_code == 422 and "person_required" in r.text):
                    problems.append(f"{role} GET {path}: expected 200, got {r.status_code}: {r.text[:200]}")
            elif r.status_code != 403:
                problems.append(f"{role} {ep.method} {path}: not in policy, expected 403, got {r.status_code}")
            elif ep.is_api and r.json().get("code") != "role_forbidden":
                problems.append(f"{role} {ep.method} {path}: 403 without the role_forbidden code")
    assert not problems, "\n".join(problems)


def test_a_page_cookie_never_authenticates_the_api(app: FastAPI, people: dict[str, User]) -> None:
    browser = logged_in_client(app, people["admin"])
    assert browser.get("/").status_code == 200
    response = browser.get("/api/v1/stats")
    assert response.status_code == 401
    assert response.json()["code"] == "token_missing"


def test_an_api_token_never_opens_a_page(app: FastAPI, runtime: Runtime, people: dict[str, User]) -> None:
    token = api_token_for(runtime, people["admin"])
    response = new_client(app).get("/users", headers=bearer(token))
    assert is_login_redirect(response)


@pytest.mark.parametrize("role", ROLES)
def test_menu_shows_exactly_what_the_role_may_open(app: FastAPI, people: dict[str, User], role: str) -> None:
    html = logged_in_client(app, people[role]).get("/").text
    nav = html.split('<ul class="navlinks">', 1)[1].split("</ul>", 1)[0]
    for name, label in policy.NAV:
        shown = f">{label}</a>" in nav
        assert shown == policy.allows(role, name), f"{role}: menu item {label!r} shown={shown}"


def test_reps_lists_default_to_their_own_records(app: FastAPI, people: dict[str, User], record: Record) -> None:
    sdr = logged_in_client(app, people["sdr"])
    mine = sdr.get("/contacts")
    assert "Ana Ortega" in mine.text and "Ben Okafor" not in mine.text and "Cleo Park" not in mine.text
    everyone = sdr.get("/contacts?owner=any")
    assert all(n in everyone.text for n in ("Ana Ortega", "Ben Okafor", "Cleo Park"))
    leader = logged_in_client(app, people["leader"])
    assert all(n in leader.get("/contacts").text for n in ("Ana Ortega", "Ben Okafor", "Cleo Park"))
