"""Fast weighted draws for the generator's hot loops (``random.choices`` costs ~3 µs per call).

``Weighted(pairs).pick(rng)`` draws exactly as ``rng.choices(keys, weights)[0]`` does (one
``rng.random()``, a bisect over the cumulative weights), without rebuilding anything per call.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Weighted(Generic[T]):
    __slots__ = ("keys", "cum", "total", "hi")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        self.keys: list[T] = []
        self.cum: list[float] = []
        total = 0.0
        for key, weight in pairs:
            total += weight
            self.keys.append(key)
            self.cum.append(total)
        self.total = total
        self.hi = len(self.keys) - 1

    def pick(self, rng: random.Random) -> T:
        return self.keys[bisect(self.cum, rng.random() * self.total, 0, self.hi)]
