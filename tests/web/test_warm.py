"""The analytics warm-up: it asks exactly what the pages ask when opened without filters, runs with the app,
and warms again after the data changes."""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI

from revteam.analytics.content import ContentSpec
from revteam.analytics.funnel import FunnelSpec
from revteam.runtime import Runtime
from revteam.store.models import Deal, User
from revteam.web.app import create_app
from revteam.web.deps import get_now
from revteam.web.pages.analytics import BREAKDOWNS, GRAINS
from revteam.web.warm import Warmer
from tests.web.conftest import NOW, Record, new_client, session_client


class RecordingAnalytics:
    def __init__(self) -> None:
        self.asked: list[Any] = []

    def tables(self) -> None:
        self.asked.append("snapshot")

    def funnel(self, spec: FunnelSpec) -> None:
        self.asked.append(spec)

    def content_roi(self, spec: ContentSpec) -> Any:
        self.asked.append(spec)
        return None


class RecordingAttribution:
    def __init__(self) -> None:
        self.asked: list[tuple[str, Any]] = []

    def credits(self, grain: str = "channel", start: Any = None, end: Any = None, **kw: Any) -> dict:
        self.asked.append(("credits", grain, start, end))
        return {}

    def journeys(self, grain: str = "channel", start: Any = None, end: Any = None, **kw: Any) -> None:
        self.asked.append(("journeys", grain, kw.get("stage")))

    def sourced_and_influenced(self, grain: str = "channel", start: Any = None, end: Any = None) -> list:
        self.asked.append(("sourced", grain, start, end))
        return []


class RecordingAnswers:
    def __init__(self) -> None:
        self.asked: list[Any] = []

    def get(self, key: Any, compute: Any) -> None:
        self.asked.append(key)


class FakeRuntime:
    def __init__(self) -> None:
        self.analytics = RecordingAnalytics()
        self.attribution = RecordingAttribution()
        self.answers = RecordingAnswers()

    def sessions(self) -> Any:
        return contextlib.nullcontext()


@pytest.fixture
def recorded_content(monkeypatch: Any) -> None:
    """The content page's merge, on the recording fakes: its runner question and its content-grain credit."""
    import revteam.web.warm as warm

    monkeypatch.setattr(warm, "content_roi", lambda analytics, attribution, spec: (analytics.content_roi(spec),
                                                                                   attribution.credits("content")))
    monkeypatch.setattr(warm, "main_stages", lambda runtime: ("mql", "sql"))


def test_the_warm_up_asks_the_pages_default_questions(recorded_content: None) -> None:
    rt = FakeRuntime()
    took = Warmer(rt).warm_once()
    asked = rt.analytics.asked
    assert asked[:2] == ["snapshot", FunnelSpec()]  # the snapshot first, then the funnel page as it opens
    assert {FunnelSpec(breakdown=by) for by in BREAKDOWNS} <= set(asked[2:])
    assert {FunnelSpec(mode="period", breakdown=by) for by in (None, *BREAKDOWNS)} <= set(asked[2:])
    assert ContentSpec() in asked
    assert {("credits", g, None, None) for g in GRAINS} <= set(rt.attribution.asked)
    assert {("sourced", g, None, None) for g in GRAINS} <= set(rt.attribution.asked)
    assert [key for key, _day in rt.answers.asked] == ["forecast"]
    assert {("journeys", g, s) for g in GRAINS for s in ("mql", "sql")} <= set(rt.attribution.asked)
    assert list(took)[:4] == ["snapshot", "funnel", "attribution channel", "content"]


def test_a_failing_step_is_logged_and_the_rest_still_run(recorded_content: None) -> None:
    rt = FakeRuntime()

    def broken(spec: FunnelSpec) -> None:
        if spec.breakdown == "rep":
            raise RuntimeError("the rep table is gone")
        rt.analytics.asked.append(spec)

    rt.analytics.funnel = broken  # type: ignore[method-assign]
    w = Warmer(rt)
    w.warm_once()
    assert w.failed == ["funnel by rep", "funnel period by rep"]
    assert FunnelSpec(breakdown="month") in rt.analytics.asked


def test_the_app_warms_at_start_and_again_after_a_change(runtime: Runtime, people: dict[str, User],
                                                         record: Record) -> None:
    runtime.settings = runtime.settings.model_copy(update={"warm_analytics": True, "warm_interval_seconds": 0.05})
    app: FastAPI = create_app(runtime)
    app.dependency_overrides[get_now] = lambda: NOW
    with new_client(app):  # the lifespan starts the warm-up thread
        warmer: Warmer = app.state.warmer
        assert warmer.wait(1, timeout=120), "the first warm-up did not finish"
        assert warmer.failed == [] and "funnel by rep" in warmer.last
        assert runtime.analytics.cached("funnel", FunnelSpec(breakdown="rep"))
        with runtime.sessions() as s:  # a deal closes won: the data fingerprint moves
            deal = s.get(Deal, record.deal_id)
            deal.outcome, deal.stage, deal.closed_on = "won", "won", date(2026, 3, 12)
            s.commit()
        assert warmer.wait(2, timeout=120), "no warm-up after the data changed"
        assert runtime.analytics.cached("funnel", FunnelSpec(breakdown="rep"))
        page = session_client(app, runtime, people["leader"]).get("/attribution")
        assert page.status_code == 200 and "Acme platform" in page.text  # won now (no touch: unattributed)
    assert not warmer._thread.is_alive()  # stopped with the app
