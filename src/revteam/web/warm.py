"""Warming the analytics pages: ask their default questions before anyone does, and again after the data
changes.

A fresh process has no snapshot: the first funnel reads every table the analytics use into DuckDB
(seconds on the demo company), a funnel breakdown is another query, and the attribution journeys of a grain
take about a second to build. ``Warmer`` does that work in a daemon thread that the app starts with its
lifespan (``create_app``, so ``revteam serve`` and ``revteam demo`` get it) when ``REVTEAM_WARM_ANALYTICS``
is on:

1. at start, ``warm_once``: the snapshot, then the questions the pages ask when opened with no filter, most
   visited first (``steps``): the funnel; attribution by channel; content ROI (its credited column: every
   model at content grain); attribution by the other grains; the revenue page (revenue and today's
   forecasts); conversions to each main stage at every grain over the default period (the attribution
   page's "What to credit" switch); every funnel breakdown in cohort mode; the period-mode funnel and its
   breakdowns;
2. then every ``REVTEAM_WARM_INTERVAL_SECONDS`` it reads the data fingerprint (one cheap query) and warms
   again when it moved, so after an import or a deal closing the next page load is warm too.

Every step is one ``runtime.desk.ask`` of the very question the page asks (``analytics/questions.py``,
the same defaults, today's date from the same clock), so the answer lands where the page finds it: the
desk's one cache. A page asked while warming waits at most for the answer being computed (the cache locks
per answer). A step that fails is logged and skipped; the page shows the error when someone asks.
``stop`` ends the thread between two steps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timezone
from typing import Any

from revteam.analytics.attribution import GRAINS
from revteam.analytics.funnel import BREAKDOWNS
from revteam.analytics.questions import Attribution, ContentRoi, Funnel, StageAttribution
from revteam.analytics.revenue_questions import Outlook

log = logging.getLogger("revteam.warm")

Step = tuple[str, Callable[[], Any]]


def today() -> date:
    """The pages' "today" (their clock, ``NowDep``, is UTC now)."""
    return datetime.now(timezone.utc).date()


def steps(desk: Any, day: date) -> Iterator[Step]:
    """What the analytics pages ask when opened without filters on ``day``, most visited first."""
    ask = desk.ask

    def stage_views(grain: str) -> Callable[[], Any]:  # "Conversions to <stage>": every main stage, default period
        def run() -> None:
            for stage in ask(Attribution(grain)).main_stages:
                ask(StageAttribution.of(stage, today=day, grain=grain))
        return run

    yield "snapshot", desk.snapshot
    yield "funnel", lambda: ask(Funnel())
    yield "attribution channel", lambda: ask(Attribution("channel"))
    yield "content", lambda: ask(ContentRoi(sort="traffic", today=day))
    for grain in GRAINS[1:]:
        yield f"attribution {grain}", lambda grain=grain: ask(Attribution(grain))
    yield "forecast", lambda: ask(Outlook(today=day))
    for grain in GRAINS:
        yield f"attribution {grain}, conversions to each stage", stage_views(grain)
    for by in BREAKDOWNS:
        yield f"funnel by {by}", lambda by=by: ask(Funnel(by=by))
    yield "funnel period", lambda: ask(Funnel(mode="period"))
    for by in BREAKDOWNS:
        yield f"funnel period by {by}", lambda by=by: ask(Funnel(mode="period", by=by))


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
        for name, run in steps(self.runtime.desk, today()):
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
                now = self.runtime.desk.fingerprint()
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
