"""Warming the analytics pages: answer their default questions before anyone asks, and again after the
data changes.

A fresh process has no snapshot: the first funnel reads every table the analytics use into DuckDB
(seconds on the demo company), a funnel breakdown is another query, and the attribution journeys of a grain
take about a second to build. ``Warmer`` does that work in a daemon thread that the app starts with its
lifespan (``create_app``, so ``revteam serve`` and ``revteam demo`` get it) when ``REVTEAM_WARM_ANALYTICS``
is on:

1. at start, ``warm_once``: the snapshot, then the questions the pages ask when opened with no filter, most
   visited first (``steps``): the funnel; attribution by channel (journeys, every model, sourced and
   influenced); content ROI with its credited column (every model at content grain); the other grains;
   revenue and the forecast (today's); conversions to each main stage at every grain over the default
   period (the attribution page's "What to credit" switch); every funnel breakdown in cohort mode; the period-mode funnel
   and its breakdowns;
2. then every ``REVTEAM_WARM_INTERVAL_SECONDS`` it reads the data fingerprint (one cheap query) and warms
   again when it moved, so after an import or a deal closing the next page load is warm too.

The answers land in the same caches the pages read (``runtime.analytics``, ``runtime.attribution``,
``runtime.answers``), keyed
by the same specs, so a page finds them. A page asked while warming waits at most for the query being
computed (the caches lock per answer, not per warm-up). A step that fails is logged and skipped; the
page shows the error when someone asks. ``stop`` ends the thread between two steps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

from revteam.analytics.content import ContentSpec
from revteam.analytics.funnel import FunnelSpec
from revteam.analytics.snapshot import fingerprint
from revteam.analytics.content_credit import content_roi

log = logging.getLogger("revteam.warm")

Step = tuple[str, Callable[[], Any]]


def steps(runtime: Any) -> Iterator[Step]:
    """What the analytics pages ask when opened without filters, most visited first."""
    from revteam.web.pages.analytics import BREAKDOWNS, GRAINS

    analytics, attribution = runtime.analytics, runtime.attribution

    def attribution_page(grain: str) -> Callable[[], Any]:
        return lambda: (attribution.credits(grain), attribution.sourced_and_influenced(grain))

    def forecast() -> Any:
        from revteam.web.pages.analytics import forecast_view

        today = datetime.now(timezone.utc).date()  # the page's "today" (its clock, NowDep, is the same)
        with runtime.sessions() as db:
            return runtime.answers.get(("forecast", today), lambda: forecast_view(db, today))

    yield "snapshot", lambda: analytics.tables()
    yield "funnel", lambda: analytics.funnel(FunnelSpec())
    yield "attribution channel", attribution_page("channel")
    yield "content", lambda: content_roi(analytics, attribution, ContentSpec())
    for grain in GRAINS[1:]:
        yield f"attribution {grain}", attribution_page(grain)
    yield "forecast", forecast

    def stage_views(grain: str) -> Callable[[], Any]:  # "Conversions to <stage>": every main stage, default period
        from revteam.analytics.stage_journeys import stage_period

        def run() -> None:
            window = stage_period(None, None, datetime.now(timezone.utc).date())
            for stage in main_stages(runtime):
                attribution.journeys(grain, *window, stage=stage)
                attribution.credits(grain, *window, stage=stage)
        return run

    for grain in GRAINS:
        yield f"attribution {grain}, conversions to each stage", stage_views(grain)
    for by in BREAKDOWNS:
        yield f"funnel by {by}", lambda by=by: analytics.funnel(FunnelSpec(breakdown=by))
    yield "funnel period", lambda: analytics.funnel(FunnelSpec(mode="period"))
    for by in BREAKDOWNS:
        yield f"funnel period by {by}", lambda by=by: analytics.funnel(FunnelSpec(mode="period", breakdown=by))


def main_stages(runtime: Any) -> tuple[str, ...]:
    from revteam.services.record.lifecycle import load_stages

    with runtime.sessions() as db:
        return tuple(load_stages(db).main)


class Warmer:
    def __init__(self, runtime: Any, *, interval: float = 5.0) -> None:
        self.runtime = runtime
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0  # completed warm-ups (the tests and the benchmark wait on it)
        self.last: dict[str, float] = {}  # milliseconds per step of the last warm-up
        self.failed: list[str] = []  # steps of the last warm-up that raised (logged)
        self.warmed = threading.Condition()

    def warm_once(self) -> dict[str, float]:
        """Run every step now (in the calling thread); returns milliseconds per step."""
        took: dict[str, float] = {}
        failed: list[str] = []
        for name, run in steps(self.runtime):
            if self._stop.is_set():
                break
            started = time.perf_counter()
            try:
                run()
            except Exception:  # one bad step must not stop the others; the page reports it when asked
                log.exception("warming %s failed", name)
                failed.append(name)
            took[name] = (time.perf_counter() - started) * 1000
        with self.warmed:
            self.last, self.failed = took, failed
            self.rounds += 1
            self.warmed.notify_all()
        log.info("analytics warm in %.0f ms (%d steps)", sum(took.values()), len(took))
        return took

    def _loop(self) -> None:
        seen = None
        while not self._stop.is_set():
            try:
                now = fingerprint(self.runtime.engine)
            except Exception:
                log.exception("reading the data fingerprint failed")
                now = seen
            if now != seen:
                self.warm_once()
                seen = now
            self._stop.wait(self.interval)

    def start(self) -> Warmer:
        self._thread = threading.Thread(target=self._loop, name="revteam-warm", daemon=True)
        self._thread.start()
        return self

    def wait(self, rounds: int = 1, timeout: float | None = None) -> bool:
        """Block until ``rounds`` warm-ups have finished (False on timeout)."""
        with self.warmed:
            return self.warmed.wait_for(lambda: self.rounds >= rounds, timeout)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
