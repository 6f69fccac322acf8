"""Attribution answers kept between requests: journey sets and each model's credit, per data fingerprint.

Building the won-revenue journeys reads every closed deal's touches (about a second on the demo
company); running the ten models on them takes milliseconds, except sampled Shapley (a few hundred).
The pages ask the same questions again and again, so this keeps

* one *base* journey set per grain: every closed deal, built once per data fingerprint; the journeys of
  any period are cut from it (``attribution.restrict``), which equals building them for that period;
* an LRU of the cut sets per (grain, start, end) and of model answers per (grain, start, end, model,
  seed), bounded in size (``max_entries`` cut sets, ``ANSWERS_PER_SET`` times as many answers: an answer
  is a small dict, and the content page alone asks every model for every month of its top five by
  revenue), and dropped whole when the fingerprint changes;
* for conversions to a stage (``stage=``): one ``StageData`` per data fingerprint (every touch, stage
  change and first deal as columns, ``analytics/stage_journeys.py``), made from the analytics snapshot's
  Arrow tables when ``tables`` is given (the runtime passes its snapshot, already in memory: about 0.1 s
  on the demo company) or read from the database; each (stage, grain, period) is cut from it in tens of
  milliseconds and kept in the same LRUs, keyed with the stage.

``fingerprint`` is a callable that says what the data looks like now (the analytics snapshot's, which
moves on every committed write to the tables read here: ``store/data_versions.py``); it is asked on every
call, so an answer never outlives the data it came from. One lock: two requests for the same cold
answer build it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from revteam.domain.attribution import MODELS, attribute
from revteam.domain.lifecycle import StageSet
from revteam.errors import InvalidInput
from revteam.analytics import attribution as A
from revteam.analytics import paths as P
from revteam.analytics import stage_journeys as SJ

DEFAULT_MAX_ENTRIES = 64
ANSWERS_PER_SET = 16  # model answers kept per cut set kept: 1,024 by default
# conversion journey sets kept: each holds every touch of the contacts in its period (at 10x the demo about
# 300 MB for conversions to SQL); their model answers are kept anyway, and a page asks one set at a time
STAGE_SETS_KEPT = 1


class AttributionCache:
    def __init__(self, sessions: sessionmaker[Session], fingerprint: Callable[[], Any], *,
                 max_entries: int = DEFAULT_MAX_ENTRIES, tables: Callable[[], dict[str, Any]] | None = None,
                 runner: Any = None) -> None:
        self.sessions = sessions
        self.runner = runner  # the analytics runner: journeys are aggregated on its engine (analytics/paths.py)
        self.fingerprint = fingerprint
        self.max_entries = max_entries
        self.tables = tables  # the analytics snapshot's Arrow tables, for stage journeys (else the database)
        self._stage_data: SJ.StageData | None = None
        self._stage_set: StageSet | None = None
        self._lock = threading.RLock()
        self._seen: Any = None
        self._base: dict[str, A.JourneySet] = {}
        self._sets: OrderedDict[tuple[Any, ...], A.JourneySet] = OrderedDict()
        self._answers: OrderedDict[tuple[Any, ...], Any] = OrderedDict()

    # --- the cached pieces ---------------------------------------------------------------------
    def _current(self) -> None:
        fp = self.fingerprint()
        if fp != self._seen:
            self._base.clear()
            self._sets.clear()
            self._answers.clear()
            self._stage_data = self._stage_set = None
            self._seen = fp

    def _remember(self, store: OrderedDict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any) -> Any:
        store[key] = value
        while len(store) > self.max_entries * (ANSWERS_PER_SET if store is self._answers else 1):
            store.popitem(last=False)
        if store is self._sets and key[0] == "stage":
            for old in [k for k in store if k[0] == "stage"][:-STAGE_SETS_KEPT]:
                del store[old]
        return value

    def journeys(self, grain: str = "channel", start: date | None = None, end: date | None = None, *,
                 stage: str | None = None) -> A.JourneySet:
        """The won-revenue journeys of the deals closed in [start, end] (``attribution.revenue_journeys``), or
        with ``stage`` the journeys of the conversions to it from ``start`` to ``end`` (days, both inclusive and
        required: ``stage_journeys.stage_period`` gives the default)."""
        with self._lock:
            self._current()
            return self._journeys(grain, start, end, stage)

    def _journeys(self, grain: str, start: date | None, end: date | None, stage: str | None = None) -> A.JourneySet:
        A.check_period(start, end)
        if stage is not None:
            return self._stage_journeys(grain, start, end, stage)
        key = (grain, start, end)
        if key in self._sets:
            self._sets.move_to_end(key)
            return self._sets[key]
        if grain not in self._base:
            if self.runner is not None:  # the scan on the engine; the same journeys (tests/analytics/test_paths.py)
                self._base[grain] = P.revenue_journeys_on(self.runner, grain=grain)
            else:
                with self.sessions() as s:
                    self._base[grain] = A.revenue_journeys(s, grain=grain)  # validates the grain
        return self._remember(self._sets, key, A.restrict(self._base[grain], start, end))

    def _stage_journeys(self, grain: str, start: date | None, end: date | None, stage: str) -> A.JourneySet:
        key = ("stage", stage, grain, start, end)
        if key in self._sets:
            self._sets.move_to_end(key)
            return self._sets[key]
        if start is None or end is None:
            raise InvalidInput("Conversions are counted in a period: give its first and last day.",
                               code="bad_attribution_period")
        A._check(grain, A.DEFAULT_LOOKBACK_DAYS)
        with self.sessions() as s:
            if self._stage_set is None:
                from revteam.services.record.lifecycle import load_stages

                self._stage_set = load_stages(s)
            SJ.check_stage(self._stage_set, stage)
            lo, hi = SJ.day_bounds(start, end)
            if self.runner is not None:
                return self._remember(self._sets, key, P.stage_journeys_on(self.runner, stage, grain=grain, start=lo,
                                                                           end=hi, stages=self._stage_set))
            if self._stage_data is None:
                self._stage_data = SJ.stage_data_from_tables(self.tables()) if self.tables else SJ.read_stage_data(s)
            js = SJ.build_stage_journeys(self._stage_data, stage, reached_by=SJ.at_or_beyond(self._stage_set, stage),
                                         grain=grain, start=lo, end=hi,
                                         labels=lambda keys: A._labels(s, grain, keys))
        return self._remember(self._sets, key, js)

    def _attribution(self, grain: str, start: date | None, end: date | None, model: str, seed: int,
                     touches: bool, stage: str | None = None) -> Any:
        key = ("touches" if touches else "keys", grain, start, end, model, seed, stage)
        if key in self._answers:
            self._answers.move_to_end(key)
            return self._answers[key]
        js = self._journeys(grain, start, end, stage)
        if touches:
            value = attribute(js.journeys, model, touches=True, **A.model_params(model, seed))
        else:
            value = {r["key"]: r["credit"] for r in A.credit_rows(js, model, **A.model_params(model, seed))}
        return self._remember(self._answers, key, value)

    # --- what the pages and reports ask --------------------------------------------------------
    def credits(self, grain: str = "channel", start: date | None = None, end: date | None = None, *,
                models: tuple[str, ...] | None = None, seed: int = A.DEFAULT_SEED,
                stage: str | None = None) -> dict[str, dict[str, float]]:
        """Credit per key under each model (default: all of them): ``{model: {key: credit}}``; won revenue, or
        with ``stage`` conversions to it (a count)."""
        for m in models or ():
            if m not in MODELS:
                raise InvalidInput(f"Unknown model {m!r}; use one of: {', '.join(MODELS)}.",
                                     code="bad_attribution_model")
        with self._lock:
            self._current()
            return {m: self._attribution(grain, start, end, m, seed, False, stage) for m in models or tuple(MODELS)}

    def sourced_and_influenced(self, grain: str = "channel", start: date | None = None,
                               end: date | None = None) -> list[dict[str, Any]]:
        """Sourced and influenced won revenue per key (revenue only: a conversion has no amount to source)."""
        with self._lock:
            self._current()
            key = ("sourced", grain, start, end)
            if key not in self._answers:
                self._remember(self._answers, key, A.sourced_and_influenced(self._journeys(grain, start, end)))
            return self._answers[key]

    def explain_deal(self, session: Session, deal_id: int, *, model: str = "w_shaped", grain: str = "channel",
                     seed: int = A.DEFAULT_SEED) -> dict[str, Any]:
        """``attribution.explain_deal`` with the population's journeys and touch shares from the cache."""
        if model not in MODELS:
            raise InvalidInput(f"Unknown model {model!r}; use one of: {', '.join(MODELS)}.",
                                 code="bad_attribution_model")
        deal, start, end = A.deal_population(session, deal_id)
        with self._lock:
            self._current()
            js = self._journeys(grain, start, end)
            attributed = any(s["id"] == deal.id for s in js.subjects)
            a = self._attribution(grain, start, end, model, seed, True) if attributed else None
        return A.explained(session, deal, js, a, model=model, grain=grain)

    def clear(self) -> None:
        with self._lock:
            self._seen = None
            self._stage_data = self._stage_set = None
            self._base.clear()
            self._sets.clear()
            self._answers.clear()
