"""Web fixtures: a fresh database per test, the app on it, one user per role, a small record.

``login(client, user)`` goes through the real log-in form (nonce cookie + HMAC token), so every
test that logs in also exercises the log-in CSRF check.
"""

from __future__ import annotations

import re
import sqlite3
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from revteam.config import Settings
from revteam.runtime import Runtime, build_runtime
from revteam.services.people.users import issue_api_token
from revteam.store.models import OwnerChange, ROLES, StageChange, User
from revteam.web.app import create_app
from revteam.web.deps import get_now
from tests.factories import make_account, make_campaign, make_contact, make_content, make_deal, make_touch, make_user

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette.testclient warns at import when it finds httpx instead of httpx2; the client works the same
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 3, 16, 14, 30, tzinfo=timezone.utc)  # Monday 10:30 in New York, the SLA's time zone

_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_HIDDEN_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def runtime(settings: Settings) -> Iterator[Runtime]:
    rt = build_runtime(settings)
    yield rt
    rt.engine.dispose()


@pytest.fixture
def app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


def new_client(app: FastAPI, **kw: Any) -> TestClient:
    return TestClient(app, follow_redirects=False, **kw)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with new_client(app) as c:
        yield c


def make_people(s: Any) -> dict[str, User]:
    users = {role: make_user(s, role=role, email=f"{role}@revteam.test", name=f"{role.upper()} Person") for role in ROLES}
    users["inactive"] = make_user(s, role="ae", email="gone@revteam.test", name="Gone Person")
    users["inactive"].is_active = False
    return users


@pytest.fixture
def people(runtime: Runtime) -> dict[str, User]:
    """One active user per role (``people["sdr"]``), plus ``people["inactive"]`` (an AE, deactivated)."""
    with runtime.sessions() as s:
        users = make_people(s)
        s.commit()
        s.expunge_all()
    return users


@dataclass
class Record:
    account_id: int
    other_account_id: int
    contact_id: int
    sdr_contact_id: int
    deal_id: int


def make_record(s: Any, people: dict[str, User]) -> Record:
    """A small believable record: two accounts, three contacts, touches, a stage change, two deals."""
    sdr, ae = people["sdr"], people["ae"]
    acme = make_account(s, name="Acme Rockets", domain="acme-rockets.com", owner_id=ae.id, segment="enterprise",
                        region="EMEA", industry="aerospace")
    globex = make_account(s, name="Globex Analytics", domain="globex.io", segment="mid_market", region="NA",
                          industry="software")
    ana = make_contact(s, email="ana@acme-rockets.com", first_name="Ana", last_name="Ortega", account_id=acme.id,
                       stage="mql", owner_id=sdr.id, original_source="webinar")
    ben = make_contact(s, email="ben@acme-rockets.com", first_name="Ben", last_name="Okafor", account_id=acme.id,
                       stage="opportunity", owner_id=ae.id, original_source="paid_search")
    make_contact(s, email="cleo@globex.io", first_name="Cleo", last_name="Park", account_id=globex.id, stage="lead",
                 original_source="organic_search")
    campaign = make_campaign(s, name="Pricing 101 webinar", external_id="cmp-pricing")
    content = make_content(s, title="What does a CRM really cost?", external_id="cnt-crm-cost")
    make_touch(s, ana, type="webinar_attended", at=T0, campaign_id=campaign.id)
    make_touch(s, ana, type="content_download", at=T0 + timedelta(days=1), content_id=content.id,
               url="https://acme.example/crm-cost")
    make_touch(s, ana, type="sales_call", at=T0 + timedelta(days=2), actor_user_id=sdr.id, channel="phone")
    s.add(StageChange(contact_id=ana.id, from_stage="lead", to_stage="mql", changed_at=T0 + timedelta(hours=2),
                      actor_rule="scoring", reason="score 72 ≥ 60"))
    s.add(OwnerChange(entity="contact", entity_id=ana.id, from_user_id=None, to_user_id=sdr.id,
                      changed_at=T0 + timedelta(hours=3), reason="round robin"))
    deal = make_deal(s, acme, amount="48000", outcome="open", contacts=[ben], owner_id=ae.id, name="Acme platform")
    make_deal(s, globex, amount="12500", outcome="won", closed_on=T0.date(), name="Globex starter")
    s.flush()
    return Record(acme.id, globex.id, ben.id, ana.id, deal.id)


@pytest.fixture
def record(runtime: Runtime, people: dict[str, User]) -> Record:
    """A small believable record: two accounts, three contacts, touches, a stage change, two deals."""
    with runtime.sessions() as s:
        rec = make_record(s, people)
        s.commit()
        return rec


@pytest.fixture
def world(app: FastAPI, runtime: Runtime, people: dict[str, User]) -> Any:
    """The handoff (``tests/web/handoff_world.py``) on top of ``people``, with the app's clock fixed at ``NOW``.

    Built afresh (about two seconds); test modules that use it in many tests take ``handoff_template``
    instead (see ``use_handoff_template``)."""
    from tests.web.handoff_world import build_world

    app.dependency_overrides[get_now] = lambda: NOW
    with runtime.sessions() as s:
        users = {k: s.get(User, v.id) for k, v in people.items()}
        w = build_world(s, users, now=NOW)
        s.commit()
    return w


@dataclass
class HandoffTemplate:
    """A database with ``people``, ``record`` and the handoff world, built once per test session."""

    path: Path
    people: dict[str, User]
    record: Record
    world: Any


@pytest.fixture(scope="session")
def handoff_template(tmp_path_factory: pytest.TempPathFactory) -> HandoffTemplate:
    from tests.web.handoff_world import build_world

    path = tmp_path_factory.mktemp("handoff-template") / "template.db"
    rt = build_runtime(Settings(database_url=f"sqlite:///{path}", env="test"))
    with rt.sessions() as s:
        users = make_people(s)
        rec = make_record(s, users)
        w = build_world(s, {k: v for k, v in users.items()}, now=NOW)
        s.commit()
        s.expunge_all()
    rt.engine.dispose()
    return HandoffTemplate(path, users, rec, w)


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (the backup API, so WAL content comes along)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def use_handoff_template() -> tuple[Any, ...]:
    """Fixtures for a test module whose every test starts from a copy of ``handoff_template``.

    In the module: ``runtime, people, record, world = use_handoff_template()``. Each test gets its own
    copy of the template database (milliseconds) instead of building the world (seconds)."""

    @pytest.fixture
    def runtime(handoff_template: HandoffTemplate, settings: Settings, tmp_path: Path) -> Iterator[Runtime]:
        copy = tmp_path / "handoff.db"
        copy_database(handoff_template.path, copy)
        rt = build_runtime(settings.model_copy(update={"database_url": f"sqlite:///{copy}"}), migrate=False)
        yield rt
        rt.engine.dispose()

    @pytest.fixture
    def people(handoff_template: HandoffTemplate) -> dict[str, User]:
        return handoff_template.people

    @pytest.fixture
    def record(handoff_template: HandoffTemplate) -> Record:
        return handoff_template.record

    @pytest.fixture
    def world(app: FastAPI, handoff_template: HandoffTemplate) -> Any:
        app.dependency_overrides[get_now] = lambda: NOW
        return handoff_template.world

    return runtime, people, record, world


# ---------------------------------------------------------------- helpers used by the tests
def login(client: TestClient, email: str, password: str = PASSWORD, *, next_path: str | None = None) -> Any:
    page = client.get("/login")
    assert page.status_code == 200, page.text
    token = _HIDDEN_CSRF.search(page.text)
    assert token, "the log-in form has no CSRF token"
    data = {"email": email, "password": password, "csrf_token": token.group(1)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/login", data=data)


def csrf_of(client: TestClient, path: str = "/") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    found = _CSRF_META.search(page.text)
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def logged_in_client(app: FastAPI, user: User) -> TestClient:
    c = new_client(app)
    response = login(c, user.email)
    assert response.status_code == 303, response.text
    return c


def session_client(app: FastAPI, runtime: Runtime, user: User, *, now: datetime = NOW) -> TestClient:
    """A client with a web session started directly (no log-in form, no argon2: a tenth of a second less
    per person), for tests about what happens after logging in. ``client.csrf`` is the session's CSRF token.

    ``now`` must be the app's clock (the handoff tests fix it at ``NOW``)."""
    from revteam.services.people.access import start_session
    from revteam.web.sessions import COOKIE_NAME

    with runtime.sessions() as s:
        token, row = start_session(s, s.get(User, user.id), now=now, hours=runtime.settings.session_hours)
        s.commit()
        csrf = row.csrf_token
    c = new_client(app)
    c.cookies.set(COOKIE_NAME, token)
    c.csrf = csrf  # type: ignore[attr-defined]
    return c


def api_token_for(runtime: Runtime, user: User, name: str = "tests", scope: str = "full") -> str:
    """A token for ``user`` issued now (tokens expire: one issued at ``T0`` would be refused by an app on the
    real clock once its 90 days are over)."""
    with runtime.sessions() as s:
        issued = issue_api_token(s, s.get(User, user.id), name=name, now=datetime.now(timezone.utc), scope=scope)
        s.commit()
        return issued.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
