"""Fire the same or conflicting use cases at once: one thread and one session (one connection) each,
released together by a barrier, and collect what each got (its result, or the error it raised).

Example::

    outcomes = race(sessions, [lambda s: accept_lead(s, h, ana(s), now=NOW),
                               lambda s: reject_lead(s, h, ana(s), reason="student", now=NOW)])
    assert sorted(o.kind for o in outcomes) == ["ok", "conflict"]
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from revteam.errors import Conflict, RevteamError


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None

    @property
    def kind(self) -> str:
        if self.error is None:
            return "ok"
        if isinstance(self.error, Conflict):
            return "conflict"
        if isinstance(self.error, RevteamError):
            return f"refused:{self.error.code}"
        return f"crash:{type(self.error).__name__}: {self.error}"

    @property
    def code(self) -> str | None:
        return getattr(self.error, "code", None)


def race(sessions: sessionmaker[Session], calls: Sequence[Callable[[Session], Any]],
         timeout: float = 120) -> list[Outcome]:
    barrier = threading.Barrier(len(calls))
    outcomes = [Outcome() for _ in calls]

    def run(i: int) -> None:
        with sessions() as s:
            try:
                barrier.wait(timeout)
                outcomes[i].value = calls[i](s)
            except BaseException as e:  # noqa: BLE001 - the test looks at every outcome
                outcomes[i].error = e

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a racing call never finished (a deadlock?)"
    return outcomes
