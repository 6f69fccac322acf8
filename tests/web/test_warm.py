"""The analytics warm-up: it asks exactly what the pages ask when opened without filters, runs with the app,
and warms again after the data changes."""

from __future__ import annotations

from datetime import date, datetime, timezone
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI

from revteam.analytics.questions import Attribution, ContentRoi, Funnel, StageAttribution
from revteam.analytics.revenue_questions import Outlook
from revteam.runtime import Runtime
from revteam.store.models import Deal, User
from revteam.web.app import create_app
from revteam.web.deps import get_now
from revteam.web.pages.analytics import BREAKDOWNS, GRAINS
from revteam.web.warm import Warmer, today
from tests.web.conftest import NOW, Record, new_client, session_client


class RecordingDesk:
    """A desk that records the questions it is asked (attribution answers name two main stages)."""

    def __init__(self) -> None:
        self.asked: list[Any] = []

    def snapshot(self) -> None:
        self.asked.append("snapshot")

    def ask(self, question: Any) -> Any:
        self.asked.append(question)
        return SimpleNamespace(main_stages=("mql", "sql"))

    def fingerprint(self) -> Any:
        return None


class FakeRuntime:
    def __init__(self) -> None:
        self.desk = RecordingDesk()


def test_the_warm_up_asks_the_pages_default_questions() -> None:
    rt = FakeRuntime()
    took = Warmer(rt).warm_once()
    asked = rt.desk.asked
    day = today()
    assert asked[:2] == ["snapshot", Funnel()]  # the snapshot first, then the funnel page as it opens
    assert {Funnel(by=by) for by in BREAKDOWNS} <= set(asked[2:])
    assert {Funnel(mode="period", by=by) for by in (None, *BREAKDOWNS)} <= set(asked[2:])
    assert ContentRoi(sort="traffic", today=day) in asked
    assert {Attribution(g) for g in GRAINS} <= set(asked)
    assert Outlook(today=day) in asked
    assert {StageAttribution.of(s, today=day, grain=g) for g in GRAINS for s in ("mql", "sql")} <= set(asked)
    assert list(took)[:4] == ["snapshot", "funnel", "attribution channel", "content"]


def test_after_a_warm_up_the_pages_compute_nothing(runtime: Runtime, people: dict[str, User], record: Record) -> None:
    """The pages opened without filters (on the warm-up's day, by the app's own clock) ask exactly the
    questions the warm-up asked: every answer is found kept, none is added."""
    runtime.settings = runtime.settings.model_copy(update={"warm_analytics": False})
    app: FastAPI = create_app(runtime)
    Warmer(runtime).warm_once()
    kept = len(runtime.desk.answers)
    client = session_client(app, runtime, people["leader"], now=datetime.now(timezone.utc))
    for path in ("/funnel", "/funnel?by=rep", "/funnel?mode=period", "/attribution", "/attribution?grain=content",
                 "/attribution?stage=mql", "/attribution?stage=sql&grain=campaign", "/content", "/forecast"):
        assert client.get(path).status_code == 200, path
    assert len(runtime.desk.answers) == kept


def test_a_failing_step_is_logged_and_the_rest_still_run() -> None:
    rt = FakeRuntime()
    asked = rt.desk.ask

    def broken(question: Any) -> Any:
        if isinstance(question, Funnel) and question.by == "rep":
            raise RuntimeError("the rep table is gone")
        return asked(question)

    rt.desk.ask = broken  # type: ignore[method-assign]
    w = Warmer(rt)
    w.warm_once()
    assert w.failed == ["funnel by rep", "funnel period by rep"]
    assert Funnel(by="month") in rt.desk.asked


def test_the_app_warms_at_start_and_again_after_a_change(runtime: Runtime, people: dict[str, User],
                                                         record: Record) -> None:
    runtime.settings = runtime.settings.model_copy(update={"warm_analytics": True, "warm_interval_seconds": 0.05})
    app: FastAPI = create_app(runtime)
    app.dependency_overrides[get_now] = lambda: NOW
    with new_client(app):  # the lifespan starts the warm-up thread
        warmer: Warmer = app.state.warmer
        assert warmer.wait(1, timeout=120), "the first warm-up did not finish"
        assert warmer.failed == [] and "funnel by rep" in warmer.last
        assert runtime.desk.cached(Funnel(by="rep"))
        with runtime.sessions() as s:  # a deal closes won: the data fingerprint moves
            deal = s.get(Deal, record.deal_id)
            deal.outcome, deal.stage, deal.closed_on = "won", "won", date(2026, 3, 12)
            s.commit()
        assert warmer.wait(2, timeout=120), "no warm-up after the data changed"
        assert runtime.desk.cached(Funnel(by="rep"))
        page = session_client(app, runtime, people["leader"]).get("/attribution")
        assert page.status_code == 200 and "Acme platform" in page.text  # won now (no touch: unattributed)
    assert not warmer._thread.is_alive()  # stopped with the app
