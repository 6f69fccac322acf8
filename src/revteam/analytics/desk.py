"""The analytics desk: every analytics answer of revteam, asked as a typed question, answered by ``ask``.

    desk = runtime.desk
    answer = desk.ask(Funnel(by="source"))               # analytics/questions.py: validated when made
    answer.to_dict()                                      # what `revteam funnel --json` and the API print

One desk per process and database (``runtime.desk``). It holds the engine connection and its snapshot
(``analytics/runner.py``), the attribution journeys (``analytics/attribution_cache.py``) and ONE answer
cache (``analytics/answer_cache.py``) keyed by (question, data fingerprint): the same question on the same
data is answered once, whichever face asks it, and a committed write to a table the analytics read moves the
fingerprint, so the next ask computes afresh. The runner and the attribution cache keep intermediate pieces
(compiled SQL, the funnel's progress table, journey sets, model credit) but no answers.

Seeds: a question whose ``seed`` is None gets the desk's (``REVTEAM_ANALYTICS_SEED``) before it is asked
or kept, so ``Forecast(today=d)`` and ``Forecast(today=d, seed=<the setting>)`` are one question.

SQL: ``reading()`` records the statements the calling thread runs on the operational database while an
answer is computed (the warm-up thread and requests run side by side; each records only its own), so every
answer can show the SQL that produced it. Questions on the handoff clocks (``cached = False``) read tables
the fingerprint does not watch, and depend on the minute: they are answered fresh every time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from typing import Any, TypeVar

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from revteam.analytics.answer_cache import DEFAULT_MAX_ENTRIES, AnswerCache
from revteam.analytics.answering import ANSWERS as ANALYTICS_ANSWERS
from revteam.analytics.attribution_cache import AttributionCache
from revteam.analytics.kept_answers import kept_answers_for
from revteam.analytics.questions import Question
from revteam.analytics.report_answering import ANSWERS as REPORT_ANSWERS
from revteam.analytics.runner import Analytics
from revteam.analytics.snapshot import Fingerprint, fingerprint
from revteam.errors import InvalidInput

A = TypeVar("A")
ANSWERS: dict[type, Callable[[Any, Any], Any]] = {**ANALYTICS_ANSWERS, **REPORT_ANSWERS}


class Desk:
    def __init__(self, engine: SqlEngine, sessions: sessionmaker[Session], *, engine_name: str = "duckdb",
                 seed: int = 0, max_answers: int = DEFAULT_MAX_ENTRIES) -> None:
        self.engine = engine
        self.sessions = sessions
        self.seed = seed
        self.runner = Analytics(engine, engine_name)
        # stage journeys are cut from the analytics snapshot's tables, already in memory
        self.attribution = AttributionCache(sessions, self.fingerprint,
                                            tables=lambda: self.runner.cache.get(engine).tables, runner=self.runner)
        self.answers = AnswerCache(self.fingerprint, max_entries=max_answers, kept=kept_answers_for(engine))
        self._local = threading.local()
        event.listen(engine, "before_cursor_execute", self._heard)
        self.runner.on_sql = self._heard_on_engine

    # --- asking ----------------------------------------------------------------------------------
    def fingerprint(self) -> Fingerprint:
        return fingerprint(self.engine)

    def resolve(self, question: Question[A]) -> Question[A]:
        """The question as the desk keeps it: its seed filled in when it did not say one."""
        if any(f.name == "seed" for f in fields(question)) and getattr(question, "seed") is None:
            return replace(question, seed=self.seed)  # type: ignore[type-var]
        return question

    def ask(self, question: Question[A]) -> A:
        """The answer to ``question`` on the data as it is now (kept per data fingerprint)."""
        answer = ANSWERS.get(type(question))
        if answer is None:
            raise InvalidInput(f"The analytics desk has no answer for {type(question).__name__}.",
                               code="unknown_question")
        q = self.resolve(question)
        if not type(q).cached:
            return answer(self, q)
        return self.answers.get(q, lambda: answer(self, q))

    def cached(self, question: Question[Any]) -> bool:
        """Whether the answer to ``question`` on the data as it is now is kept (the warm-up's test)."""
        return self.answers.has(self.resolve(question))

    def out_of_range(self) -> list[dict[str, Any]]:
        """What the analytics left out of the data as it is now: rows with dates outside 1900-2199 (a touch
        "in 3000"), per table with a sentence (``Snapshot.out_of_range``). Every answer is computed without
        them; the faces show these sentences beside the answer."""
        return self.runner.cache.get(self.engine).out_of_range()

    def snapshot(self) -> None:
        """Bring the engine's snapshot up to date now (the warm-up's first step)."""
        self.runner.tables()

    # --- the SQL an answer ran -------------------------------------------------------------------
    def _heard(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        for statements in getattr(self._local, "recording", ()):
            statements.append(statement)

    def _heard_on_engine(self, sql: Callable[[], str]) -> None:
        recordings = getattr(self._local, "recording", ())
        if recordings:
            text = sql()
            for statements in recordings:
                statements.append(text)

    @contextmanager
    def reading(self) -> Iterator[list[str]]:
        """The statements this thread runs on the operational database inside the block."""
        statements: list[str] = []
        recording = getattr(self._local, "recording", None)
        if recording is None:
            recording = self._local.recording = []
        recording.append(statements)
        try:
            yield statements
        finally:
            del recording[next(i for i, r in enumerate(recording) if r is statements)]

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._heard)
        self.runner.close()
