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

import numpy as np

from revteam.domain.forecast_learning import SPREAD_METHODS, Learned, window_error  # noqa: F401

REPLICATES = 200


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
assert tuple(SPREADS) == SPREAD_METHODS  # ForecastConfig checks a spread's name against SPREAD_METHODS
