"""The analytics desk over the JSON API (``/api/v1/analytics/...``): bearer token, the pages' roles, the
questions' error codes (422) and a description of every answer in the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from revteam.runtime import Runtime
from revteam.store.models import ROLES, User
from revteam.web.deps import get_now
from tests.web.conftest import NOW, Record, api_token_for, bearer, new_client, session_client

QUESTIONS = ("/funnel", "/attribution", "/attribution/stage?stage=mql", "/content", "/revenue", "/forecast",
             "/outlook", "/reports/compliance", "/reports/board", "/reports/unworked", "/reports/rejections",
             "/reports/followup")


@pytest.fixture
def api(app: FastAPI, runtime: Runtime, people: dict[str, User], record: Record) -> Any:
    app.dependency_overrides[get_now] = lambda: NOW

    def client(role: str) -> Any:
        return new_client(app, headers=bearer(api_token_for(runtime, people[role])))
    return client


def test_every_role_may_ask_what_its_pages_show(api: Any) -> None:
    for role in ROLES:
        c = api(role)
        for path in QUESTIONS:
            r = c.get(f"/api/v1/analytics{path}")
            if path == "/forecast":  # the small record has two weeks of closed deals: too little to forecast from
                assert r.status_code == 422 and r.json()["code"] == "forecast_insufficient_history", r.text
                continue
            assert r.status_code == 200, (role, path, r.text)


def test_without_a_token_it_is_401_and_a_cookie_does_not_count(app: FastAPI, runtime: Runtime,
                                                              people: dict[str, User]) -> None:
    assert new_client(app).get("/api/v1/analytics/funnel").status_code == 401
    assert new_client(app, headers=bearer("rvt_nonsense")).get("/api/v1/analytics/funnel").status_code == 401
    logged_in = session_client(app, runtime, people["leader"])
    assert logged_in.get("/api/v1/analytics/funnel").status_code == 401


@pytest.mark.parametrize("path,params,code", [
    ("/funnel", {"by": "shoe_size"}, "bad_breakdown"),
    ("/funnel", {"mode": "sideways"}, "funnel_bad_mode"),
    ("/funnel", {"stages": "sql,mql"}, "funnel_stage_order"),
    ("/funnel", {"start": "2026-13-01"}, "bad_date"),
    ("/attribution", {"grain": "planet"}, "bad_grain"),
    ("/attribution", {"model": "astrology"}, "bad_attribution_model"),
    ("/attribution", {"start": "2026-03-01", "end": "2026-02-01"}, "bad_attribution_period"),
    ("/attribution/stage", {"stage": "recycled"}, "bad_attribution_stage"),
    ("/content", {"sort": "vibes"}, "bad_sort"),
    ("/content", {"month": "March"}, "bad_month"),
    ("/revenue", {"from": "2026-13"}, "bad_date"),
    ("/forecast", {"period": "year"}, "bad_period"),
    ("/reports/rejections", {"by": "planet"}, "bad_group"),
    ("/reports/compliance", {"by": "galaxy"}, "bad_group"),
])
def test_bad_input_is_422_with_the_questions_code(api: Any, path: str, params: dict[str, str], code: str) -> None:
    r = api("leader").get(f"/api/v1/analytics{path}", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == code and r.json()["message"]


def test_what_does_not_exist_is_404(api: Any, record: Record) -> None:
    c = api("leader")
    assert c.get("/api/v1/analytics/content/999999").json()["code"] == "content_not_found"
    assert c.get("/api/v1/analytics/attribution/deals/999999").status_code == 404
    assert c.get("/api/v1/analytics/reports/followup", params={"campaign": 999999}).status_code == 404
    assert c.get(f"/api/v1/analytics/attribution/deals/{record.deal_id}").json()["code"] == "deal_not_won"


def test_sql_on_request_and_the_seed(api: Any) -> None:
    c = api("marketing")
    funnel = c.get("/api/v1/analytics/funnel", params={"sql": "true"}).json()
    assert "SELECT" in funnel["sql"]["funnel"].upper() and "sql" not in c.get("/api/v1/analytics/funnel").json()
    assert c.get("/api/v1/analytics/attribution", params={"grain": "content"}).json()["seed"] == 0
    assert c.get("/api/v1/analytics/attribution", params={"grain": "content", "seed": 4}).json()["seed"] == 4
    assert c.get("/api/v1/analytics/attribution", params={"seed": -1}).status_code == 422


def test_the_openapi_description_has_every_question(api: Any) -> None:
    spec = api("sdr").get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in (*(p.split("?")[0] for p in QUESTIONS), "/attribution/deals/{deal_id}", "/content/{content_id}",
                 "/forecast/backtest"):
        operation = paths[f"/api/v1/analytics{path}"]["get"]
        assert operation["security"] == [{"bearerAuth": []}], path
        assert {"200", "401", "403", "422"} <= set(operation["responses"]), path
    schemas = spec["components"]["schemas"]
    for name in ("FunnelOut", "AttributionOut", "DealAttributionOut", "ContentRoiOut", "ContentPieceOut", "RevenueOut",
                 "ForecastOut", "BacktestOut", "OutlookOut", "ComplianceReportOut", "UnworkedReportOut",
                 "RejectionsReportOut", "FollowupReportOut"):
        assert name in schemas, name
    assert "p50" in schemas["ForecastOut"]["properties"] and "keys" in schemas["AttributionOut"]["properties"]
