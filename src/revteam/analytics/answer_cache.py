"""The desk's one answer cache: every analytics answer, kept per (question, data fingerprint).

``AnswerCache.get(question, compute)`` returns the answer stored for ``question`` while the data
fingerprint (a callable: the analytics snapshot's, which moves on every committed write to the tables the
analytics read, ``store/data_versions.py``) is the one it was computed under; otherwise it runs ``compute``
and keeps the result. A new fingerprint drops every answer of the old one; at most ``max_entries`` answers
are kept (the least recently used go first).

Locking: the lookup holds one short lock; the computation holds a lock of its own key only, so two
requests for the same cold answer compute it once while a page asking another, already kept answer is
answered at once (the warm-up thread and the requests share this cache). Nested questions (content ROI
asks for the credited pieces first) take their own key's lock; a computation never waits on its own key.
Answers are shared between requests: callers must not change what they get back.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
DEFAULT_MAX_ENTRIES = 512  # a page asks a handful of questions; the warm-up about a hundred


class AnswerCache:
    def __init__(self, fingerprint: Callable[[], Any], *, max_entries: int = DEFAULT_MAX_ENTRIES,
                 kept: Any = None) -> None:
        self.fingerprint = fingerprint
        self.max_entries = max_entries
        self.kept = kept  # answers kept between starts (analytics/kept_answers.py), or None
        self._lock = threading.Lock()
        self._seen: Any = None
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}

    def _lookup(self, key: Hashable, fp: Any) -> tuple[bool, Any]:
        with self._lock:
            if fp != self._seen:
                self._answers.clear()
                if self.kept is not None:  # a restart on unchanged data: the last run's answers hold
                    self._answers.update(self.kept.load(fp))
                self._seen = fp
            if key in self._answers:
                self._answers.move_to_end(key)
                return True, self._answers[key]
            return False, None

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        fp = self.fingerprint()
        found, value = self._lookup(key, fp)
        if found:
            return value
        with self._lock:
            gate = self._computing.setdefault((key, fp), threading.Lock())
        with gate:  # one computation per key; the others wait for it and then find it kept
            found, value = self._lookup(key, fp)
            if found:
                return value
            try:
                value = compute()
            finally:
                with self._lock:
                    self._computing.pop((key, fp), None)
            with self._lock:
                if fp == self._seen:  # the data moved on while computing: answer, but do not keep
                    self._answers[key] = value
                    while len(self._answers) > self.max_entries:
                        self._answers.popitem(last=False)
                answers = dict(self._answers) if self.kept is not None and fp == self._seen else None
            if answers is not None:
                self.kept.save(fp, answers)
            return value

    def has(self, key: Hashable) -> bool:
        """Whether the answer to ``key`` on the data as it is now is kept."""
        fp = self.fingerprint()
        with self._lock:
            return fp == self._seen and key in self._answers

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()
            self._seen = None

    def __len__(self) -> int:
        with self._lock:
            return len(self._answers)
