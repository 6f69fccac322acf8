"""Schemathesis on the JSON API: every operation of ``/api/v1/openapi.json``, stateless, with a bounded number
of generated requests (valid and invalid ones), called in process on the ASGI app as an admin, on a small
seeded SQLite database. Every response must be no server error, carry a status the operation declares, match
its declared schema and content type, and reject what the description says is invalid.

Bounded and reproducible: ``MAX_EXAMPLES`` per operation, derandomized (the same requests every run); the whole
file takes about a minute on two cores. ``REVTEAM_SCHEMATHESIS_EXAMPLES`` raises the bound for a longer hunt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from revteam.config import Settings
from revteam.runtime import build_runtime
from revteam.store.models import User
from revteam.web.app import create_app
from revteam.web.deps import get_now
from tests.web.conftest import NOW, api_token_for, make_people, make_record

MAX_EXAMPLES = int(os.environ.get("REVTEAM_SCHEMATHESIS_EXAMPLES", "8"))
DEMO_SCALE = os.environ.get("REVTEAM_SCHEMATHESIS_DEMO", "")
RANDOM = os.environ.get("REVTEAM_SCHEMATHESIS_RANDOM") == "1"  # other requests each run (a hunt, not CI)
SEEN: dict[str, set[int]] = {}  # operation → the statuses it answered (for test_the_hunt_got_past_the_door)


def _seed(url: str) -> tuple[Any, str, Any]:
    """The app on ``url`` with the people, the small record and the handoff world; an admin's token."""
    from tests.web.handoff_world import build_world

    runtime = build_runtime(Settings(database_url=url, env="test", keep_snapshot=False))
    if DEMO_SCALE:  # a longer hunt on the demo company (REVTEAM_SCHEMATHESIS_DEMO=0.02: about 12 s to build)
        from sqlalchemy import select

        from revteam.demo import build_demo_company

        build_demo_company(runtime.engine, seed=1, now=NOW, scale=float(DEMO_SCALE), reset=True)
        with runtime.sessions() as s:
            admin = s.scalars(select(User).where(User.role == "admin", User.is_active.is_(True))).first()
            s.expunge_all()
    else:
        with runtime.sessions() as s:
            users = make_people(s)
            make_record(s, users)
            build_world(s, {k: v for k, v in users.items()}, now=NOW)
            s.commit()
            admin = s.get(User, users["admin"].id)
            s.expunge_all()
    app = create_app(runtime)
    app.dependency_overrides[get_now] = lambda: NOW
    return app, api_token_for(runtime, admin), runtime


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str, Any]]:
    path: Path = tmp_path_factory.mktemp("schemathesis") / "api.db"
    app, token, runtime = _seed(f"sqlite:///{path}")
    yield app, token, runtime
    runtime.engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def edge(request: pytest.FixtureRequest, seeded: tuple[Any, str, Any]) -> Iterator[tuple[Any, str, Any]]:
    """The seeded app on SQLite (the hunt's) and on PostgreSQL, for the pinned edge cases: ids past 2^31 only
    overflow on PostgreSQL."""
    if request.param == "sqlite":
        yield seeded
        return
    from sqlalchemy import text

    from revteam.store.db import make_engine
    from tests.conftest import POSTGRES_URL, skip_or_fail

    engine = make_engine(POSTGRES_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as e:  # noqa: BLE001 - any connection failure means the tier is unavailable
        skip_or_fail("postgres", f"PostgreSQL not reachable at {POSTGRES_URL}: {type(e).__name__}")
    finally:
        engine.dispose()
    app, token, runtime = _seed(POSTGRES_URL)
    yield app, token, runtime
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def hunted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The hunt's own seeded database: it may erase people (``/privacy/erase``), revoke its own token's
    siblings or close handoffs, so the pinned edge cases below get an untouched one (``seeded``)."""
    path: Path = tmp_path_factory.mktemp("schemathesis-hunt") / "api.db"
    app, token, runtime = _seed(f"sqlite:///{path}")
    yield app, token
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(hunted: tuple[Any, str]) -> Any:
    app, token = hunted
    # 413 (a body over the route's limit, web/limits.py) is a refusal too, like the 4xx schemathesis lists
    refusals = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
    config = SchemathesisConfig.from_dict({"auth": {"openapi": {"bearerAuth": {"bearer": token}}},
                                           "checks": {"negative_data_rejection": {"expected-statuses": refusals}}})
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=config,
                                          headers={"Authorization": f"Bearer {token}"})


schema = schemathesis.pytest.from_fixture("api_schema")


@schemathesis.check
def schema_valid_input_reaches_the_domain(ctx: Any, response: Any, case: Any) -> bool | None:
    """Instead of schemathesis' ``positive_data_acceptance``: a request the description calls valid may still be
    refused by the use case with a message of its own (a deal that is not won, TOML that does not parse, a
    committee of non-leaders, too little history: meaning that JSON Schema cannot say), but never by the edge's
    own validation (``invalid_request``): that would mean the description leaves out a constraint the API
    enforces."""
    SEEN.setdefault(case.operation.label, set()).add(response.status_code)
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    code = (response.json() or {}).get("code")
    assert code != "invalid_request", f"the API refused schema-valid input at the edge: {response.text[:300]}"
    return None


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's lazy loader reads ``node._nodeid``, which pytest 9 no longer sets: give it one."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, derandomize=not RANDOM, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_description(case: Any) -> None:
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])


def test_the_hunt_got_past_the_door() -> None:
    """The run above was authenticated and reached the use cases: most operations answered 2xx at least once
    (a broken token would make every answer 401, and the run above would pass without testing anything)."""
    if not SEEN:
        pytest.skip("test_the_api_keeps_its_description did not run")
    answered = [label for label, statuses in SEEN.items() if any(200 <= s < 300 for s in statuses)]
    assert len(SEEN) >= 45, sorted(SEEN)
    assert len(answered) >= 0.8 * len(SEEN), {k: sorted(v) for k, v in SEEN.items() if k not in answered}


# --- what schemathesis found, pinned as plain cases ---------------------------------------------------
ID_ROUTES = [("GET", "/api/v1/contacts/{}/timeline"), ("GET", "/api/v1/accounts/{}/timeline"),
             ("POST", "/api/v1/handoffs/{}/accept"), ("POST", "/api/v1/handoffs/{}/qualify"),
             ("POST", "/api/v1/disputes/{}/votes"), ("GET", "/api/v1/campaigns/{}/followup"),
             ("GET", "/api/v1/analytics/attribution/deals/{}"), ("GET", "/api/v1/analytics/content/{}"),
             ("POST", "/api/v1/agreements/{}/signatures"), ("PUT", "/api/v1/me/groups/{}"),
             ("GET", "/api/v1/contacts?account={}"), ("GET", "/api/v1/deals?owner={}"), ("GET", "/api/v1/inbox?rep={}"),
             ("GET", "/api/v1/analytics/reports/board?rep={}"), ("GET", "/api/v1/analytics/reports/followup?campaign={}")]
JSON_ROUTES = [("POST", "/api/v1/touchpoints"), ("POST", "/api/v1/handoffs/1/reject"), ("POST", "/api/v1/disputes"),
               ("POST", "/api/v1/disputes/1/votes"), ("POST", "/api/v1/scoring/preview"), ("POST", "/api/v1/agreements"),
               ("PUT", "/api/v1/me/notifications")]
EVENT = '{"source_system": "website", "events": [{"event_id": "e-1", "email": "ana@acme-rockets.com", ' \
        '"type": "page_view", "occurred_at": "2026-03-10T10:00:00Z", "url": "https://acme.example/%s"}]}'


@pytest.fixture(scope="module")
def api(edge: tuple[Any, str, Any]) -> Iterator[Any]:
    from tests.web.conftest import new_client

    app, token, _ = edge
    with new_client(app, raise_server_exceptions=False, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


@pytest.mark.parametrize("value", [0, -1, 2**31, 2**63, 2**64, 10**30, "²"])
@pytest.mark.parametrize("method,path", ID_ROUTES)
def test_an_id_out_of_range_is_refused_at_the_edge(api: Any, method: str, path: str, value: Any) -> None:
    """Ids are 1 to 2^31-1 (PostgreSQL's integer keys): beyond, SQLite overflowed (500) above 2^63 and
    PostgreSQL above 2^31. Now 422 (or 404: no such record), on every database."""
    r = api.request(method, path.format(value), json={} if method != "GET" else None)
    assert r.status_code in (404, 422), (r.status_code, r.text[:300])


@pytest.mark.parametrize("name,body", [("deep list", b"[" * 100_000 + b"]" * 100_000),
                                       ("deep object", b'{"a":' * 20_000 + b"1" + b"}" * 20_000),
                                       ("not UTF-8", b"\xff\xfe{}")])
@pytest.mark.parametrize("method,path", JSON_ROUTES)
def test_an_unreadable_body_is_422_not_400_or_500(api: Any, method: str, path: str, name: str, body: bytes) -> None:
    r = api.request(method, path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.json()["code"] in ("invalid_json", "invalid_request")


def test_a_number_too_large_for_a_float_is_refused(api: Any) -> None:
    body = b'{"text": "x", "committee": [1], "terms": {"tz": "UTC", "weekdays": [0], "opens": "09:00", ' \
           b'"closes": "17:00", "holidays": [], "response_minutes": {"high": 1e400}}}'
    r = api.post("/api/v1/agreements", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text[:300]


@pytest.mark.parametrize("text,what", [("\\ud800", "lone surrogate"), ("x\\udfff", "lone surrogate"),
                                       ("a\\u0000b", "NUL character")])
def test_text_no_database_stores_is_refused(api: Any, text: str, what: str) -> None:
    """Valid JSON that PostgreSQL refuses (NUL) or no database can encode (half a UTF-16 pair): 422, nothing
    written; a real pair (an emoji written as two escapes) is fine."""
    r = api.post("/api/v1/touchpoints", content=(EVENT % text).encode(), headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "bad_text", r.text[:300]
    assert what in r.json()["message"] and "body.events.0.url" in r.json()["message"]
    ok = api.post("/api/v1/touchpoints", content=(EVENT % "\\ud83d\\ude00").encode(),
                  headers={"Content-Type": "application/json"})
    assert ok.status_code == 200, ok.text[:300]


@pytest.mark.parametrize("path,allowed", [("/api/v1/imports", "GET, POST"), ("/api/v1/disputes", "GET, POST"),
                                          ("/api/v1/agreements", "GET, POST"),
                                          ("/api/v1/me/notifications", "GET, PUT"),
                                          ("/api/v1/handoffs/1/accept", "POST")])
def test_405_lists_every_method_of_the_path(api: Any, path: str, allowed: str) -> None:
    r = api.request("DELETE", path)
    assert r.status_code == 405 and r.headers["allow"] == allowed
    assert r.json()["code"] == "method_not_allowed" and allowed in r.json()["message"]


PAGE_ID_ROUTES = [("GET", "/accounts/{}"), ("POST", "/agreement/{}/sign"), ("GET", "/attribution/deals/{}"),
                  ("GET", "/content/{}"), ("GET", "/contacts/{}"), ("POST", "/disputes/{}/vote"),
                  ("POST", "/inbox/{}/accept"), ("POST", "/inbox/{}/reject"), ("POST", "/inbox/{}/qualify"),
                  ("POST", "/settings/notifications/groups/{}"), ("POST", "/users/{}/active"),
                  ("POST", "/tokens/{}/revoke"), ("GET", "/followup?campaign={}"), ("GET", "/inbox?rep={}"),
                  ("GET", "/contacts?owner={}"), ("GET", "/contacts?account={}"), ("GET", "/deals?account={}"),
                  ("GET", "/inbox?lead={}"), ("GET", "/disputes?dispute={}"), ("GET", "/scoring?saved={}"),
                  ("GET", "/agreement?version={}"), ("GET", "/sla?rep={}")]


def test_pages_refuse_ids_out_of_range_too(app: Any, runtime: Any, people: Any, record: Any) -> None:
    """The pages share the edge: a path id out of range is 404 (``web/deps.py``), a query id 422 or the
    filter's own message; never 500."""
    from starlette.testclient import TestClient

    from tests.web.conftest import session_client

    app.dependency_overrides[get_now] = lambda: NOW
    logged_in = session_client(app, runtime, people["admin"])
    client = TestClient(app, raise_server_exceptions=False, follow_redirects=False, cookies=logged_in.cookies)
    crashed = []
    for method, path in PAGE_ID_ROUTES:
        for value in (2**31, 2**63, 2**64, "-5"):
            r = client.request(method, path.format(value), data={"csrf_token": logged_in.csrf} if method == "POST" else None)
            if r.status_code >= 500:
                crashed.append((method, path, value, r.status_code))
    assert crashed == []
    assert client.get(f"/contacts/{2**63}").status_code == 404


def test_a_page_form_with_a_nul_is_refused(app: Any, runtime: Any, people: Any, record: Any) -> None:
    """Page forms share the rule: a NUL in a field (PostgreSQL refuses it) is 422 with a message, nothing written."""
    from tests.web.conftest import session_client

    app.dependency_overrides[get_now] = lambda: NOW
    c = session_client(app, runtime, people["admin"])
    r = c.post("/inbox/1/reject", data={"csrf_token": c.csrf, "reason": "bad_fit", "note": "no\x00budget"})
    assert r.status_code == 422 and "contains a NUL character" in r.text and "note" in r.text


OUT_OF_RANGE_DAYS = ["/api/v1/analytics/funnel?start=0001-01-01", "/api/v1/analytics/funnel?start=1677-01-01",
                     "/api/v1/analytics/funnel?end=9999-12-31", "/api/v1/analytics/forecast?as_of=9999-12-31",
                     "/api/v1/analytics/forecast?as_of=0001-01-01", "/api/v1/analytics/forecast?as_of=9999-12",
                     "/api/v1/analytics/attribution/stage?stage=mql&start=0001-01-01&end=9999-12-31",
                     "/api/v1/analytics/attribution?start=2200-01-01"]


@pytest.mark.parametrize("path", OUT_OF_RANGE_DAYS)
def test_a_day_outside_the_reported_years_is_refused(api: Any, path: str) -> None:
    """A day outside 1900-2199 in a query (DuckDB could not convert it, ``month_span`` overflowed): 422
    ``bad_date`` with the years, for any user, on every database."""
    r = api.get(path)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.json()["code"] == "bad_date" and "outside the years 1900-2199" in r.json()["message"]


def test_the_edges_of_the_reported_years_are_accepted(api: Any) -> None:
    r = api.get("/api/v1/analytics/funnel?start=1900-01-01&end=2199-12-31")
    assert r.status_code == 200, r.text[:300]


NUL_QUERIES = ["/api/v1/contacts?q=%00", "/api/v1/contacts?stage=%00", "/api/v1/contacts?source=%00",
               "/api/v1/deals?q=%00", "/api/v1/accounts?q=%00", "/api/v1/contacts?q=a%00b&limit=5",
               "/api/v1/contacts?%00=x"]


@pytest.mark.parametrize("path", NUL_QUERIES)
def test_a_nul_in_a_query_is_refused(api: Any, path: str) -> None:
    """PostgreSQL refuses a NUL even in a ``WHERE`` (it was 500 there): 422 ``bad_text`` on every method."""
    r = api.get(path)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.json()["code"] == "bad_text" and "NUL character" in r.json()["message"]


def _admin_pages(edge: tuple[Any, str, Any]) -> Any:
    from sqlalchemy import select
    from starlette.testclient import TestClient

    from tests.web.conftest import session_client

    app, _, runtime = edge
    with runtime.sessions() as s:
        admin = s.scalars(select(User).where(User.role == "admin")).first()
        s.expunge_all()
    logged_in = session_client(app, runtime, admin)
    return TestClient(app, raise_server_exceptions=False, follow_redirects=False, cookies=logged_in.cookies)


@pytest.mark.parametrize("path", ["/contacts?q=%00", "/contacts?stage=%00", "/deals?q=%00", "/accounts?q=%00",
                                  "/funnel?start=0001-01-01", "/funnel?end=9999-12-31", "/attribution?start=0001-01-01",
                                  "/attribution?stage=mql&start=0001-01-01"])
def test_pages_refuse_a_nul_or_a_day_out_of_range_with_a_page(edge: tuple[Any, str, Any], path: str) -> None:
    r = _admin_pages(edge).get(path)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert "text/html" in r.headers["content-type"]
    assert "NUL character" in r.text or "outside the years 1900-2199" in r.text


PROPS_EVENT = '{"source_system": "website", "events": [{"event_id": "%s", "email": "ana@acme-rockets.com", ' \
              '"type": "page_view", "occurred_at": "2026-03-10T10:00:00Z", "properties": {"blob": "%s"}}]}'


def test_touch_properties_over_16_kb_are_refused(api: Any) -> None:
    """A 2 MB string in ``properties`` was stored; now 422 naming the field and the bound (both databases)."""
    r = api.post("/api/v1/touchpoints", content=(PROPS_EVENT % ("big-1", "x" * 2_000_000)).encode(),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text[:300]
    [err] = r.json()["details"]
    assert err["column"] == "properties" and "at most 16,384 bytes (16 KB) fit" in err["message"], err
    r = api.post("/api/v1/touchpoints", content=(PROPS_EVENT % ("big-2", "é" * 8_200)).encode(),
                 headers={"Content-Type": "application/json"})  # 8,200 characters, 16,400 bytes: still too much
    assert r.status_code == 422 and "16,41" in r.json()["details"][0]["message"], r.text[:300]
    r = api.post("/api/v1/touchpoints", content=(PROPS_EVENT % ("small-1", "x" * 16_000)).encode(),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text[:300]
