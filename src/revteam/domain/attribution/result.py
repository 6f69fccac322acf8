"""What every attribution model returns: credit per key, for conversions and for value.

``conversions[k]`` and ``value[k]`` are the conversions and the value (money, or counts of a stage) that
the model credits to key ``k``; each sums to the journeys' total (up to floating-point rounding).
``touch_share`` (when asked for) is, per touch, the fraction of its journey's conversion and value that the
touch earned (it sums to 1 over the touches of every converting journey): the per-deal explanation reads it.
``details`` holds the model's own numbers (removal effects, Shapley error bounds, parameters).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from revteam.domain.attribution.journeys import Journeys


@dataclass(frozen=True, eq=False)
class Attribution:
    model: str
    keys: tuple[str, ...]
    conversions: np.ndarray
    value: np.ndarray
    touch_share: np.ndarray | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def credit(self, measure: str = "value") -> np.ndarray:
        return self.value if measure == "value" else self.conversions

    def as_dict(self, measure: str = "value") -> dict[str, float]:
        return {k: float(v) for k, v in zip(self.keys, self.credit(measure))}


def from_touch_share(model: str, j: Journeys, share: np.ndarray, *, touches: bool,
                     details: dict[str, Any] | None = None) -> Attribution:
    """Credit per key from per-touch shares of each journey (one pass per measure)."""
    n = j.n_keys
    conv = np.bincount(j.key, share * j.conversions[j.journey], minlength=n)
    val = np.bincount(j.key, share * j.value[j.journey], minlength=n)
    return Attribution(model, j.keys, conv, val, share if touches else None, details or {})


def from_parts(model: str, j: Journeys, uniform: np.ndarray | None, points: list[tuple[np.ndarray, np.ndarray]], *,
               touches: bool, details: dict[str, Any] | None = None) -> Attribution:
    """Credit per key from a per-journey share given to every touch plus shares at chosen touches.

    ``uniform[j]`` goes to every touch of journey j; each ``(index, weight)`` in ``points`` gives
    ``weight[j]`` to touch ``index[j]`` (``index`` -1 = nothing). Avoids a per-touch array when not asked.
    """
    n = j.n_keys
    conv = np.zeros(n)
    val = np.zeros(n)
    if uniform is not None:
        u_conv, u_val = uniform * j.conversions, uniform * j.value
        if n * j.n_journeys <= 1 << 30:  # keys × journeys counts: a product per key instead of a pass per touch
            counts = j.key_counts()
            for k in range(n):  # multiply-and-sum, not BLAS: OpenBLAS is slow on this machine's core type
                c = counts[k].astype(np.float64)
                conv[k], val[k] = (c * u_conv).sum(), (c * u_val).sum()
        else:
            conv += np.bincount(j.key, u_conv[j.journey], minlength=n)
            val += np.bincount(j.key, u_val[j.journey], minlength=n)
    if points:
        index = np.concatenate([i for i, _ in points])
        weight = np.concatenate([w for _, w in points])
        ok = np.flatnonzero(index >= 0)
        rows = ok % j.n_journeys  # every part is one entry per journey
        keys = j.key[index[ok]]
        conv += np.bincount(keys, weight[ok] * j.conversions[rows], minlength=n)
        val += np.bincount(keys, weight[ok] * j.value[rows], minlength=n)
    share = None
    if touches:
        share = uniform[j.journey] if uniform is not None else np.zeros(j.n_touches)
        for index, weight in points:
            ok = index >= 0
            np.add.at(share, index[ok], weight[ok])
    return Attribution(model, j.keys, conv, val, share, details or {})
