"""How the forecast's draws differ beyond each open deal's own chance: the spread strategies (``SPREADS``).

The model is stated in the docstring of ``domain/forecast.py`` ("Spread"): ``window_error`` (the default)
measures how far each past window strayed from what the other windows predicted for it, beyond chance,
and scales every draw's p and λ by one Gamma factor of that variance; ``bootstrap`` resamples the
windows; ``none`` leaves only the deals' own chances.

Worked example of the window error: two windows, each with ten open deals of 100 (1,000 at stake), won
500 and 100. Leaving out the first, the second predicts p = 0.1: expected 100, won 500; chance alone
explains 0.1·0.9·10·100² = 9,000 of the squared error. Leaving out the second: expected 500, won 100,
chance 25,000. τ² = (400² + 400² − 9,000 − 25,000) / (100² + 500²) = 1.1: a window strays about ±105 %.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from revteam.domain.forecast import Learned

REPLICATES = 200


def window_error(learned: Learned) -> float | None:
    """τ²: how far a window's won amount strays from what the *other* windows predict for it, as a share
    of that prediction, beyond what the deals' own chances explain (``domain/forecast.py``, "Spread"). None
    with fewer than two windows."""
    w = len(learned.windows.start)
    if w < 2:
        return None
    sq_err = noise = scale = 0.0
    for i in range(w):
        rest = np.arange(w) != i
        p = learned.cell_probabilities(rest)
        lam = float(learned.new_counts[rest].mean())
        won_new = learned.new_counts[rest].sum()
        mean_new = float(learned.new_won[rest].sum() / won_new) if won_new else 0.0
        mean_sq = float(learned.new_won_sq[rest].sum() / won_new) if won_new else 0.0
        expected = float((p * learned.at_stake[i]).sum()) + lam * mean_new
        actual = float(learned.won[i].sum() + learned.new_won[i])
        sq_err += (actual - expected) ** 2
        noise += float((p * (1 - p) * learned.at_stake_sq[i]).sum()) + lam * mean_sq
        scale += expected ** 2
    return max(0.0, (sq_err - noise) / scale) if scale > 0 else None


@dataclass(frozen=True)
class Spread:
    method: str
    weights: np.ndarray  # replicates × windows: each replicate's weight of each window
    new_rate: np.ndarray  # λ of each replicate
    factor: np.ndarray | None  # one multiplier of every p and λ per draw (None: 1)
    tau2: float | None = None  # window error, for window_error
    tau2_from: str | None = None  # the windows it was measured on


def _no_spread(learned: Learned, rng: np.random.Generator, draws: int, tau2: tuple[float | None, str | None]) -> Spread:
    return Spread("none", np.ones((1, len(learned.windows.start))), np.array([learned.new_rate]), None)


def _bootstrap(learned: Learned, rng: np.random.Generator, draws: int, tau2: tuple[float | None, str | None]) -> Spread:
    w = len(learned.windows.start)
    if w < 2:
        return Spread("bootstrap", np.ones((1, w)), np.array([learned.new_rate]), None)
    weights = rng.multinomial(w, np.full(w, 1.0 / w), size=REPLICATES).astype(float)
    return Spread("bootstrap", weights, weights @ learned.new_counts / w, None)


def _window_error(learned: Learned, rng: np.random.Generator, draws: int,
                  tau2: tuple[float | None, str | None]) -> Spread:
    t, source = tau2
    factor = rng.gamma(1.0 / t, t, size=draws) if t else None
    return Spread("window_error", np.ones((1, len(learned.windows.start))), np.array([learned.new_rate]), factor,
                  t, source)


SPREADS: dict[str, Callable[[Learned, np.random.Generator, int, tuple[float | None, str | None]], Spread]] = {
    "window_error": _window_error,
    "bootstrap": _bootstrap,
    "none": _no_spread,
}
