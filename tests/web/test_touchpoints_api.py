"""``POST /api/v1/touchpoints``: all-or-nothing batches with row-level errors, idempotent on event_id."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from revteam.runtime import Runtime
from revteam.store.models import Touchpoint, User
from tests.web.conftest import Record, api_token_for, bearer

URL = "/api/v1/touchpoints"


def event(n: int, **kw: Any) -> dict[str, Any]:
    e = {"event_id": f"evt-{n}", "email": "ana@acme-rockets.com", "type": "page_view",
         "occurred_at": f"2026-03-05T10:{n:02d}:00Z", "channel": "organic_search", "url": "https://acme.example/pricing"}
    e.update(kw)
    return {k: v for k, v in e.items() if v is not None}


@pytest.fixture
def marketing(runtime: Runtime, people: dict[str, User]) -> dict[str, str]:
    return bearer(api_token_for(runtime, people["marketing"]))


def touch_count(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Touchpoint)) or 0


def test_a_batch_is_written_and_repeating_it_changes_nothing(client: Any, runtime: Runtime, record: Record,
                                                             marketing: dict[str, str]) -> None:
    before = touch_count(runtime)
    batch = {"source_system": "website", "events": [
        event(1),
        event(2, type="form_submit", properties={"form": "demo"}),
        event(3, email=None, contact_external_id=None, type="email_open") | {"email": "ben@acme-rockets.com"},
    ]}
    first = client.post(URL, json=batch, headers=marketing)
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["status"], report["rows"], report["created"], report["errors"]) == ("written", 3, 3, [])
    assert touch_count(runtime) == before + 3
    again = client.post(URL, json=batch, headers=marketing)
    assert again.status_code == 200
    assert again.json()["created"] == 0 and again.json()["unchanged"] == 3
    assert touch_count(runtime) == before + 3
    with runtime.sessions() as s:
        stored = s.scalar(select(Touchpoint).where(Touchpoint.external_id == "evt-2"))
        assert stored is not None and stored.source_system == "website" and stored.properties == {"form": "demo"}


BAD_BATCHES = {
    "missing type": ([event(1), event(2, type=None)], [(2, "type")]),
    "bad type": ([event(1, type="page_viewed")], [(1, "type")]),
    "bad timestamp": ([event(1), event(2, occurred_at="05/03/2026 25:61")], [(2, "occurred_at")]),
    "unknown contact": ([event(1), event(2, email="nobody@nowhere.example")], [(2, None)]),
    "duplicate event_id": ([event(1), event(2), event(3) | {"event_id": "evt-1"}], [(3, "external_id")]),
    "missing event_id": ([event(1), event(2) | {"event_id": ""}], [(2, "event_id")]),
    # no event names a contact: each such event is reported on its own row
    "no contact at all": ([event(1, email=None)], [(1, "email")]),
}


@pytest.mark.parametrize("case", list(BAD_BATCHES))
def test_invalid_batches_are_422_with_row_errors_and_write_nothing(client: Any, runtime: Runtime, record: Record,
                                                                    marketing: dict[str, str], case: str) -> None:
    events, expected = BAD_BATCHES[case]
    before = touch_count(runtime)
    response = client.post(URL, json={"source_system": "website", "events": events}, headers=marketing)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "import_rejected"
    details = body["details"]
    assert all(set(d) == {"row", "column", "message", "value"} for d in details)
    for row, column in expected:
        matching = [d for d in details if d["row"] == row]
        assert matching, f"{case}: no error for row {row}: {details}"
        if column is not None:
            assert any(d["column"] == column for d in matching), f"{case}: {details}"
    assert all(d["message"] for d in details)
    assert touch_count(runtime) == before


@pytest.mark.parametrize("body,code", [
    ({"source_system": "website", "events": []}, "empty_batch"),
    ({"source_system": "website"}, "invalid_request"),
    ({"source_system": "website", "events": "not a list"}, "invalid_request"),
    ({"source_system": "", "events": [event(1)]}, "invalid_request"),
    ({"events": [event(1)]}, "invalid_request"),
])
def test_malformed_requests_are_422_and_write_nothing(client: Any, runtime: Runtime, record: Record,
                                                      marketing: dict[str, str], body: dict[str, Any], code: str) -> None:
    before = touch_count(runtime)
    response = client.post(URL, json=body, headers=marketing)
    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert touch_count(runtime) == before


def test_not_json_is_422(client: Any, record: Record, marketing: dict[str, str]) -> None:
    response = client.post(URL, content=b"{not json", headers={**marketing, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


def test_too_many_events_are_refused(client: Any, runtime: Runtime, record: Record, marketing: dict[str, str]) -> None:
    events = [event(1) | {"event_id": f"e{i}"} for i in range(10_001)]
    response = client.post(URL, json={"source_system": "website", "events": events}, headers=marketing)
    assert response.status_code == 422
    assert touch_count(runtime) == 3


@pytest.mark.parametrize("role,status", [("admin", 200), ("marketing", 200), ("sdr", 403), ("ae", 403), ("leader", 403)])
def test_who_may_send_touchpoints(client: Any, runtime: Runtime, people: dict[str, User], record: Record,
                                  role: str, status: int) -> None:
    token = api_token_for(runtime, people[role])
    response = client.post(URL, json={"source_system": "website", "events": [event(7)]}, headers=bearer(token))
    assert response.status_code == status
    assert touch_count(runtime) == (4 if status == 200 else 3)


def test_the_api_description_documents_every_api_route(app: FastAPI, runtime: Runtime, people: dict[str, User],
                                                         client: Any) -> None:
    from fastapi.routing import APIRoute, iter_route_contexts

    spec = client.get("/api/v1/openapi.json", headers=bearer(api_token_for(runtime, people["sdr"]))).json()
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rc in iter_route_contexts(app.routes):
        if isinstance(rc.original_route, APIRoute) and rc.path.startswith("/api/v1/") and rc.name != "api.spec":
            for method in rc.methods - {"HEAD"}:
                assert (rc.path, method) in documented, f"{method} {rc.path} is missing from the OpenAPI description"
                operation = spec["paths"][rc.path][method.lower()]
                assert operation["security"] == [{"bearerAuth": []}]
                assert "401" in operation["responses"] and "422" in operation["responses"]
    assert "TouchpointEvent" in spec["components"]["schemas"]
    batch = spec["components"]["schemas"]["TouchpointBatchIn"]["properties"]["events"]
    assert batch["items"] == {"$ref": "#/components/schemas/TouchpointEvent"}
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert not [p for p in spec["paths"] if not p.startswith("/api/v1/")], "pages must not be in the API description"


def test_an_oversized_body_is_refused_before_it_is_read(client: Any, runtime: Runtime, record: Record,
                                                         marketing: dict[str, str]) -> None:
    response = client.post(URL, content=b" " * (32 * 1024 * 1024 + 1),
                           headers={**marketing, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "too_large" and "at most 10,000" in response.json()["message"]
    assert touch_count(runtime) == 3
