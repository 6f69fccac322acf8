"""Answers of services that read the database directly (the revenue and forecast page), kept while the data
does not change.

``AnswerCache.get(key, compute)`` returns the answer stored under ``key`` while the data fingerprint (a
callable: the analytics snapshot's, which moves on every committed write to the tables read here,
``store/data_versions.py``) is the one it was computed under; otherwise it runs ``compute`` and keeps the
result. At most ``max_entries`` answers (least recently used go first); a new fingerprint drops them all.
Answers are shared between requests: callers must not change what they get back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class AnswerCache:
    def __init__(self, fingerprint: Callable[[], Any], *, max_entries: int = 32) -> None:
        self.fingerprint = fingerprint
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._seen: Any = None
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        fp = self.fingerprint()
        with self._lock:  # one computation per key at a time: the warm-up and a request never both do it
            if fp != self._seen:
                self._answers.clear()
                self._seen = fp
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
            value = compute()
            self._answers[key] = value
            while len(self._answers) > self.max_entries:
                self._answers.popitem(last=False)
            return value
