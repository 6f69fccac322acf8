"""One touch dated in the year 3000 (or 1500) in the database: the analytics pages and API answer 200 for
everybody, and say what they left out (``Desk.out_of_range``, ``analytics/snapshot_read.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from revteam.store.models import Touchpoint
from revteam.web.deps import get_now
from tests.web.conftest import NOW, api_token_for, bearer, session_client

PAGES = ["/funnel", "/attribution", "/attribution?stage=mql", "/content", "/forecast"]
API = ["/api/v1/analytics/funnel", "/api/v1/analytics/content", "/api/v1/analytics/attribution",
       "/api/v1/analytics/attribution/stage?stage=mql", "/api/v1/analytics/revenue", "/api/v1/analytics/outlook",
       "/api/v1/analytics/reports/followup"]


@pytest.fixture
def far_touch(runtime: Any, record: Any) -> None:
    with runtime.sessions() as s:
        s.add(Touchpoint(contact_id=record.contact_id, type="page_view", channel="display",
                         occurred_at=datetime(3000, 1, 1)))
        s.add(Touchpoint(contact_id=record.contact_id, type="page_view", channel="display",
                         occurred_at=datetime(1500, 1, 1)))
        s.commit()


@pytest.mark.parametrize("path", PAGES)
def test_pages_answer_and_warn(app: Any, runtime: Any, people: Any, far_touch: None, path: str) -> None:
    app.dependency_overrides[get_now] = lambda: NOW
    with session_client(app, runtime, people["leader"]) as c:
        r = c.get(path)
    assert r.status_code == 200, r.text[:500]
    assert "2 touches with dates outside 1900-2199 were left out" in r.text


@pytest.mark.parametrize("path", API)
def test_the_api_answers_and_says_what_it_left_out(client: Any, runtime: Any, people: Any, far_touch: None,
                                                   path: str) -> None:
    r = client.get(path, headers=bearer(api_token_for(runtime, people["admin"])))
    assert r.status_code == 200, r.text[:500]
    [left] = r.json()["out_of_range"]
    assert left["table"] == "touchpoints" and left["left_out"] == 2 and left["columns"] == ["occurred_at"]


def test_no_warning_without_odd_dates(client: Any, runtime: Any, people: Any, record: Any) -> None:
    r = client.get("/api/v1/analytics/funnel", headers=bearer(api_token_for(runtime, people["admin"])))
    assert r.status_code == 200 and "out_of_range" not in r.json()


def test_the_warm_up_runs_every_step(runtime: Any, far_touch: None) -> None:
    """The warm-up failed every 5 s while such a touch was stored; now every step runs."""
    from revteam.web.warm import Warmer

    runtime.settings = runtime.settings.model_copy(update={"warm_analytics": False})
    w = Warmer(runtime)
    took = w.warm_once()
    assert w.failed == [] and len(took) > 5
