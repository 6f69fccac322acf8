"""What the forecast learns from the past (the model is stated in ``domain/forecast.py``): its settings
(``ForecastConfig``), the deals' stage history as of a day (``StageHistory``), the past windows it learns
from (``choose_windows``: the same point of past quarters, or sliding), and per window and (stage, age
bucket) how many deals were open, what was at stake and what was won (``Learned``, made by ``learn``),
with the shrunk win rates (``shrink``) the simulation draws from.

Worked example: ``shrink`` with a prior strength of 5 turns a stage cell that saw 2 open deals at stake for
200 and 100 won into (100 + 5·r)/(200 + 5), where r is the age bucket's own rate (the parent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from revteam.domain.revenue import PERIODS, WON, DealTable, day, period_span
from revteam.errors import InvalidInput

SPREAD_METHODS = ("window_error", "bootstrap", "none")  # the strategies of domain/forecast_spread.py
UNKNOWN_STAGE = "(unknown)"
_NEVER = np.int64(2**40)  # "not closed" as a day number


class InsufficientHistory(InvalidInput):
    code = "forecast_insufficient_history"


@dataclass(frozen=True)
class ForecastConfig:
    age_edges: tuple[int, ...] = (0, 15, 30, 60, 90, 180)  # bucket i is [edge_i, edge_i+1) days old
    prior_strength: float = 20.0
    lookback_days: int = 400
    windows: str = "auto"  # auto | same_point | sliding
    min_same_point: int = 1
    stage_parent: str = "stage"  # what a known stage's cells shrink toward: stage | age
    spread: str = "window_error"  # how draws differ beyond each deal's own chance: window_error | bootstrap | none
    draws: int = 10_000

    def __post_init__(self) -> None:
        if self.age_edges[0] != 0 or any(b <= a for a, b in zip(self.age_edges, self.age_edges[1:])):
            raise InvalidInput("Age buckets start at 0 and increase.", code="bad_forecast_config")
        if self.prior_strength < 0 or self.draws < 1 or self.lookback_days < 1 or self.min_same_point < 1:
            raise InvalidInput("prior_strength ≥ 0; draws, lookback_days, min_same_point ≥ 1.",
                               code="bad_forecast_config")
        if self.stage_parent not in ("stage", "age"):
            raise InvalidInput("stage_parent is stage or age.", code="bad_forecast_config")
        if self.spread not in SPREAD_METHODS:
            raise InvalidInput(f"spread is one of {', '.join(SPREAD_METHODS)}.", code="bad_forecast_config")
        if self.windows not in ("auto", *WINDOWS):
            raise InvalidInput(f"windows is auto or one of {', '.join(WINDOWS)}.", code="bad_forecast_config")

    def bucket_labels(self) -> list[str]:
        e = self.age_edges
        return [f"{a}–{b - 1} days" for a, b in zip(e, e[1:])] + [f"{e[-1]}+ days"]


def days_of(x: np.ndarray) -> np.ndarray:
    """datetime64[D] → int64 day numbers; NaT (not closed) → a day after any date."""
    return np.where(np.isnat(x), _NEVER, x.astype("datetime64[D]").astype(np.int64))


@dataclass(frozen=True)
class StageHistory:
    """Recorded pipeline stage changes: deal id, the day of the move, the stage moved to."""

    deal_id: np.ndarray  # int64
    on: np.ndarray  # datetime64[D]
    stage: np.ndarray  # object

    def as_of(self, d: date | np.datetime64) -> StageHistory:
        m = self.on <= day(d)
        return StageHistory(self.deal_id[m], self.on[m], self.stage[m])

    def stage_at(self, ids: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Stage of each deal id on each day number (its latest move on or before it); None when unknown."""
        out = np.full(len(ids), None, dtype=object)
        if not len(self.deal_id) or not len(ids):
            return out
        key = self.deal_id.astype(np.int64) * 2_000_000 + (days_of(self.on) + 1_000_000)
        order = np.argsort(key, kind="stable")
        j = np.searchsorted(key[order], ids.astype(np.int64) * 2_000_000 + (days + 1_000_000), side="right") - 1
        ok = (j >= 0) & (self.deal_id[order][np.maximum(j, 0)] == ids)
        out[ok] = self.stage[order][j[ok]]
        return out


# --- past windows --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Windows:
    method: str
    start: np.ndarray  # day numbers t_k: the snapshot (end of day)
    length: np.ndarray  # days h_k: the window is (t_k, t_k + h_k]


def sliding_windows(as_of: date, period: tuple[date, date], start: date, config: ForecastConfig) -> Windows:
    A, H = int(day(as_of).astype(np.int64)), (period[1] - as_of).days
    first = max(int(day(start).astype(np.int64)), A - max(config.lookback_days, H))
    k = (A - H - first) // H + 1 if A - H >= first else 0
    t = A - H - H * np.arange(max(k, 0), dtype=np.int64)
    return Windows("sliding", t, np.full(len(t), H, dtype=np.int64))


def _months_back(d: date, months: int) -> date:
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    last = (date(y + (m + 1) // 12, (m + 1) % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m + 1, min(d.day, last))


def same_point_windows(as_of: date, period: tuple[date, date], start: date, config: ForecastConfig) -> Windows:
    kind = next((k for k, span in PERIODS.items() if span(period[0]) == period), None)
    t: list[int] = []
    h: list[int] = []
    made_on, k = as_of + timedelta(days=1), 1
    while kind is not None:
        d_k = _months_back(made_on, 3 * k)
        a_k = d_k - timedelta(days=1)
        if a_k < start or (as_of - a_k).days > config.lookback_days:
            break
        t.append(int(day(a_k).astype(np.int64)))
        h.append((period_span(kind, d_k)[1] - a_k).days)
        k += 1
    return Windows("same_point", np.asarray(t, dtype=np.int64), np.asarray(h, dtype=np.int64))


WINDOWS: dict[str, Callable[[date, tuple[date, date], date, ForecastConfig], Windows]] = {
    "same_point": same_point_windows,
    "sliding": sliding_windows,
}


def choose_windows(as_of: date, period: tuple[date, date], start: date, config: ForecastConfig) -> Windows:
    if config.windows != "auto":
        return WINDOWS[config.windows](as_of, period, start, config)
    same = same_point_windows(as_of, period, start, config)
    return same if len(same.start) >= config.min_same_point else sliding_windows(as_of, period, start, config)


# --- what the windows teach ----------------------------------------------------------------------
def age_bucket(ages: np.ndarray, edges: tuple[int, ...]) -> np.ndarray:
    return np.clip(np.searchsorted(np.asarray(edges), ages, side="right") - 1, 0, len(edges) - 1)


def shrink(n: np.ndarray, at_stake: np.ndarray, won: np.ndarray, m: float,
           parent: str = "stage") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(overall, by age, by stage × age) win rates from arrays shaped (..., stages, ages): deal-windows,
    amount at stake and amount won; stage 0 is the unknown stage. A level's own rate is won / at stake.
    A known stage's cells shrink toward the stage's rate (``parent="stage"``) or toward their age
    bucket's (``"age"``); the unknown stage's toward their age bucket's. See the module docstring."""
    def rate(w: np.ndarray, a: np.ndarray) -> np.ndarray:
        return np.divide(w, a, out=np.zeros(np.broadcast(w, a).shape), where=a > 0)

    def toward(k: np.ndarray, own: np.ndarray, up: np.ndarray) -> np.ndarray:
        return np.clip(np.where(k + m > 0, (k * own + m * up) / np.maximum(k + m, 1e-12), up), 0.0, 1.0)

    p0 = np.clip(rate(won.sum(axis=(-2, -1)), at_stake.sum(axis=(-2, -1))), 0.0, 1.0)
    na = n.sum(axis=-2)
    pa = toward(na, rate(won.sum(axis=-2), at_stake.sum(axis=-2)), p0[..., None])
    up = np.broadcast_to(pa[..., None, :], n.shape)
    if parent == "stage":
        ns = n.sum(axis=-1)
        ps = toward(ns, rate(won.sum(axis=-1), at_stake.sum(axis=-1)), p0[..., None])
        known = (np.arange(n.shape[-2]) > 0)[:, None]
        up = np.where(known, ps[..., None], up)
    elif parent != "age":
        raise InvalidInput(f"parent is stage or age, not {parent!r}.", code="bad_forecast_config")
    return p0, pa, toward(n, rate(won, at_stake), up)


@dataclass(frozen=True)
class Learned:
    """Per window and (stage, age bucket): deal-windows, wins, amount at stake and amount won; and the
    deals created and won inside each window."""

    windows: Windows
    config: ForecastConfig
    stages: tuple[str, ...]  # index 0 is UNKNOWN_STAGE
    n: np.ndarray  # windows × stages × age buckets
    wins: np.ndarray  # windows × stages × age buckets
    at_stake: np.ndarray  # windows × stages × age buckets: open amounts at the snapshot
    won: np.ndarray  # windows × stages × age buckets: amounts won in the window
    new_counts: np.ndarray  # windows: deals created and won inside the window
    new_amounts: np.ndarray  # their won amounts, all windows together
    at_stake_sq: np.ndarray  # windows × stages × age buckets: Σ open amount² (the chance part of the variance)
    new_won: np.ndarray  # windows: amount won by the deals created inside the window
    new_won_sq: np.ndarray  # windows: Σ of their amounts²

    @property
    def rates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return shrink(self.n.sum(axis=0), self.at_stake.sum(axis=0), self.won.sum(axis=0), self.config.prior_strength,
                      self.config.stage_parent)

    def probabilities(self, stage: np.ndarray, bucket: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """p of deals in cells (stage code, age bucket): the stage × age rate, or the age-bucket rate where
        the stage is unknown (code 0). With bootstrap ``weights`` (replicates × windows): replicates × deals."""
        if weights is None:
            _, pa, p = self.rates
            return np.where(stage == 0, pa[bucket], p[stage, bucket])
        _, pa, p = shrink(*(np.einsum("rw,wsa->rsa", weights, x) for x in (self.n, self.at_stake, self.won)),
                          self.config.prior_strength, self.config.stage_parent)
        return np.where(stage == 0, pa[:, bucket], p[:, stage, bucket])

    @property
    def new_rate(self) -> float:
        return float(self.new_counts.mean()) if len(self.new_counts) else 0.0

    @property
    def new_mean_amount(self) -> float:
        return float(self.new_amounts.mean()) if len(self.new_amounts) else 0.0

    def cells(self, stages: np.ndarray, ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        code = {s: i for i, s in enumerate(self.stages)}
        s = np.fromiter((code.get(UNKNOWN_STAGE if x is None else str(x), 0) for x in stages), np.int64, len(stages))
        return s, age_bucket(ages, self.config.age_edges)

    def cell_probabilities(self, keep: np.ndarray | None = None) -> np.ndarray:
        """p of every (stage, age bucket) cell as ``probabilities`` gives it, learned from the windows in
        ``keep`` (a boolean mask; default all)."""
        k = np.ones(len(self.windows.start), dtype=bool) if keep is None else keep
        _, pa, p = shrink(self.n[k].sum(axis=0), self.at_stake[k].sum(axis=0), self.won[k].sum(axis=0),
                          self.config.prior_strength, self.config.stage_parent)
        p = p.copy()
        p[0] = pa  # an unknown stage gets its age bucket's rate
        return p

    def window_error(self) -> float | None:
        """τ² of the windows (``forecast_spread.window_error``); None with fewer than two windows."""
        return window_error(self)

    def to_dict(self) -> dict[str, Any]:
        labels = self.config.bucket_labels()
        p0, pa, p = self.rates
        n, wins = self.n.sum(axis=0), self.wins.sum(axis=0)
        return {"windows": self.windows.method, "window_count": len(self.windows.start),
                "window_days": sorted({int(x) for x in self.windows.length}), "overall": float(p0),
                "by_age": {lab: float(v) for lab, v in zip(labels, pa)},
                "cells": [{"stage": s, "age": labels[b], "deal_windows": int(n[i, b]), "wins": int(wins[i, b]),
                           "p": float(pa[b] if i == 0 else p[i, b])}  # an unknown stage gets its bucket's rate
                          for i, s in enumerate(self.stages) for b in range(len(labels)) if n[i, b]],
                "new_deals_per_window": self.new_rate, "new_deal_mean_amount": self.new_mean_amount}


def learn(view: DealTable, windows: Windows, config: ForecastConfig, stages: StageHistory | None = None,
          extra_stages: tuple[str, ...] = ()) -> Learned:
    known = {str(s) for s in (stages.stage if stages is not None else ())} | set(extra_stages)
    names = (UNKNOWN_STAGE, *sorted(known - {UNKNOWN_STAGE}))
    code = {s: i for i, s in enumerate(names)}
    k, cells = len(config.age_edges), len(names) * len(config.age_edges)
    created, closed, won = days_of(view.created_on), days_of(view.closed_on), view.outcome == WON
    n, wins, at_stake, won_amt, counts, amounts, stake_sq = [], [], [], [], [], [], []
    for t, h in zip(windows.start, windows.length):
        rows = np.flatnonzero((created <= t) & (closed > t))
        s = np.zeros(len(rows), np.int64)
        if stages is not None:
            at = stages.stage_at(view.ids[rows], np.full(len(rows), t))
            s = np.fromiter((code[UNKNOWN_STAGE if x is None else str(x)] for x in at), np.int64, len(rows))
        cell = s * k + age_bucket(t - created[rows], config.age_edges)
        hit = won[rows] & (closed[rows] <= t + h)
        n.append(np.bincount(cell, minlength=cells))
        wins.append(np.bincount(cell, weights=hit.astype(float), minlength=cells))
        at_stake.append(np.bincount(cell, weights=view.open_amount[rows], minlength=cells))
        stake_sq.append(np.bincount(cell, weights=view.open_amount[rows] ** 2, minlength=cells))
        won_amt.append(np.bincount(cell, weights=np.where(hit, view.amount[rows], 0.0), minlength=cells))
        new = (created > t) & (created <= t + h) & won & (closed <= t + h)
        counts.append(int(new.sum()))
        amounts.append(view.amount[new])
    shape = (len(n), len(names), k)
    n_, wins_, stake_, won_, sq_ = (np.reshape(x, shape).astype(float) for x in (n, wins, at_stake, won_amt, stake_sq))
    return Learned(windows, config, names, n_, wins_, stake_, won_, np.asarray(counts, dtype=float),
                   np.concatenate(amounts) if amounts else np.zeros(0), sq_,
                   np.array([a.sum() for a in amounts], dtype=float), np.array([(a ** 2).sum() for a in amounts],
                                                                             dtype=float))


# --- the forecast --------------------------------------------------------------------------------


def window_error(learned: Learned) -> float | None:
    """τ²: how far a window's won amount strays from what the *other* windows predict for it, as a share
    of that prediction, beyond what the deals' own chances explain (``domain/forecast.py``, "Spread"; ``forecast_spread`` scales the draws by it). None
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
