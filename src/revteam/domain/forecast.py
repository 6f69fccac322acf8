"""Revenue forecast to the end of the month or quarter, with P10/P50/P90 (PRODUCT.md R11).

Model
    revenue(period) = won so far + wins among the deals open now + wins among deals not yet created

    *Won so far* is won revenue (``domain.revenue.won_revenue``) from the period start to the as-of date
    A, an end of day: everything dated A or earlier is known, nothing later (``DealTable.as_of``).
    H = days left, ``period_end − A``.

    *Past windows* stand in for the days left. A window is a past snapshot day t and a length h: the
    deals open at t (created by t, not closed by t) and what they did in (t, t + h]. Each window ends on
    or before A, so every outcome in it was known at A. Two ways to choose them (``WINDOWS``):

    ``same_point``  the same point of the same kind of period in each past quarter: for a forecast made on
                    D = A + 1 of the period holding D, the window k quarters back starts at t = D_k − 1,
                    D_k = D − 3k months, and runs to the end of the period holding D_k. Month-end and
                    quarter-end pushes are in the windows. Used when at least ``min_same_point`` fit.
    ``sliding``     t_k = A − H − k·H, h = H (k = 0, 1, …): every past stretch of H days, whatever the
                    calendar. Used when too few same-point windows fit (short histories, custom periods).

    Windows start on or after the history start and within ``lookback_days`` of A.

    *Open deals.* Each deal open at A is won before the period ends with probability p(stage, age
    bucket), learned from the past deal-windows in that cell (a deal open at a window's start is one
    deal-window). The raw rate r of a cell is weighted by amount, r = amount won in the windows / amount
    at stake at their starts, so that a few large, slow deals weigh what they are worth (a count-weighted
    rate, set by the many small quick deals, would overstate the revenue of a pipeline of big ones). It is
    shrunk toward its parent with prior strength m (``prior_strength``, default 20 deal-windows)::

        overall       p0    = r over all deal-windows                (0 when nothing was at stake)
        age bucket    p_a   = (n_a·r_a + m·p0) / (n_a + m)            n = deal-windows in the cell
        stage         p_s   = (n_s·r_s + m·p0) / (n_s + m)
        stage × age   p_s,a = (n_s,a·r_s,a + m·p_s) / (n_s,a + m)     (each p at most 1)

    *Stage* comes from recorded stage changes (``StageHistory``: the ``deal_stage_changes`` table): a
    deal's stage on day t is its latest move dated t or earlier. The stage is the parent of its cells
    (``stage_parent="stage"``) because where a deal stands says more about its chances than how old it
    is (``"age"``: each cell shrinks toward its age bucket instead). A deal whose stage is unknown on a
    day (no move recorded by then) is a deal-window of the unknown stage and gets its age bucket's rate,
    p_a; without any stage history every deal gets its age bucket's rate.

    *Deals not yet created.* λ = the mean number of deals created and won inside a window; a draw takes
    Poisson(λ) of them, each amount drawn with replacement from those deals' won amounts.

    *Spread* (``spread``, ``SPREADS``). The deals' own chances are not the only uncertainty: a whole
    period can go better or worse than the windows' average (a few large deals, a slow summer).
    ``window_error`` (default) measures it. Each window in turn is predicted from the others (p and λ
    learned without it): E_w = Σ p·at stake + λ·mean new amount, against what it won, O_w. What the
    deals' own chances explain, V_w = Σ p(1−p)·amount² + λ·mean new amount², is taken out::

        τ² = max(0, (Σ_w (O_w − E_w)² − Σ_w V_w) / Σ_w E_w²)

    and every draw multiplies all p (capped at 1) and λ by one factor f ~ Gamma(mean 1, variance τ²).
    With one window τ² is measured on the sliding windows; with no two windows at all, τ² = 0. Other
    strategies: ``bootstrap`` (draw i uses replicate i mod 200 of the windows resampled with
    replacement, each with its own p and λ: it cannot stray further than the best or worst window
    seen, and with one window not at all) and ``none``.

    *Simulation* (``draws``, default 10,000). A draw is won so far + Σ Bernoulli(f·p_i)·amount_i + the
    new deals' amounts, Poisson(f·λ) of them (open deals with the same cell and amount are drawn
    together as one binomial: the same distribution, fewer draws). P10/P50/P90 are percentiles of the
    draws (linear interpolation). The expected value is exact, from the windows as observed: won so far
    + Σ p_i·amount_i + λ·mean(new-deal amounts); the draws average slightly below it when f·p is capped.
    The order of random draws is fixed (spread, open deals, new-deal counts, their amounts): a seeded
    generator repeats a forecast.

Assumptions
    Given the period and its factor f, deals win independently; p depends on stage and age only (not amount
    or owner); an open deal closes at its open amount; the days left look like the windows chosen, give or
    take the window error. One currency.

Edge rules
    * H = 0 (as of the last day of the period): the forecast is won so far, with no spread.
    * History start: the first close date known at A, unless given. No window fits: ``InsufficientHistory``.
    * No deal open at A, or no created-and-won deal in any window: that part contributes 0.

Worked example (m = 20, age buckets 0–14, 15–29, 30–59, 60–89, 90–179, 180+ days)
    As of 20 January, H = 11. Won so far 10,000. Open: Acme 20,000 aged 10 days and Globex 50,000 aged
    100 days. The windows hold 200 deal-windows with 2,000,000 at stake and 300,000 won (p0 = 0.15); the
    0–14 bucket 40 with 400,000 at stake and 100,000 won (r = 0.25), the 90–179 bucket 5 with nothing
    won (r = 0). p(Acme) = (40·0.25 + 20·0.15) / 60 = 0.2167, p(Globex) = (5·0 + 20·0.15) / 25 = 0.12.
    The windows averaged λ = 0.5 created-and-won deals of mean amount 8,000. Expected = 10,000 +
    0.2167·20,000 + 0.12·50,000 + 0.5·8,000 = 24,333; the draws spread around it. Had Acme been in
    negotiation since 12 January, and 30 past negotiation deal-windows have 300,000 at stake and 180,000
    won (r = 0.6), p_negotiation = (30·0.6 + 20·0.15) / 50 = 0.42; with 4 of them aged 0–14 days and
    40,000 of their 50,000 won (r = 0.8), p(Acme) = (4·0.8 + 20·0.42) / 24 = 0.483.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from revteam.domain.forecast_spread import SPREADS, Spread, window_error
from revteam.domain.revenue import OPEN, PERIODS, WON, DealTable, day, period_span, to_date, won_revenue
from revteam.errors import InvalidInput

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
        if self.spread not in SPREADS:
            raise InvalidInput(f"spread is one of {', '.join(SPREADS)}.", code="bad_forecast_config")
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
def simulate(won_so_far: float, p: np.ndarray, amounts: np.ndarray, new_rate: np.ndarray, new_amounts: np.ndarray,
             draws: int, rng: np.random.Generator, counts: np.ndarray | None = None,
             factor: np.ndarray | None = None) -> np.ndarray:
    """Period revenue in each draw. ``p`` is replicates × open deals (or groups of ``counts`` deals with the
    same p and amount, drawn as one binomial: the same distribution, fewer draws); ``new_rate`` is one λ per
    replicate; ``factor`` (one per draw) multiplies every p (at most 1) and λ of that draw."""
    totals = np.full(draws, float(won_so_far))
    rep = np.arange(draws) % len(new_rate)
    n = p.shape[1]
    counts = np.ones(n, dtype=np.int64) if counts is None else counts
    single = counts == 1  # a uniform draw below p is a Bernoulli draw, and cheaper than a binomial
    if n:
        chunk = max(1, 2_000_000 // n)
        for s in range(0, draws, chunk):
            pr = p[rep[s:s + chunk]]
            if factor is not None:
                pr = np.minimum(pr * factor[s:s + chunk, None], 1.0)
            totals[s:s + len(pr)] += ((rng.random(pr[:, single].shape) < pr[:, single]) @ amounts[single]
                                      + rng.binomial(counts[~single], pr[:, ~single]) @ amounts[~single])
    if len(new_amounts) and new_rate.max() > 0:
        k = rng.poisson(new_rate[rep] * (1.0 if factor is None else factor))
        picks = rng.choice(new_amounts, size=int(k.sum()), replace=True)
        totals += np.bincount(np.repeat(np.arange(draws), k), weights=picks, minlength=draws)
    return totals


@dataclass(frozen=True)
class Forecast:
    as_of: date
    period_start: date
    period_end: date
    history_start: date | None
    won_so_far: float
    open: DealTable  # the deals open at as_of
    open_p: np.ndarray  # each one's chance to be won before the period ends
    open_stage: np.ndarray  # its stage at as_of (None: unknown)
    learned: Learned | None
    totals: np.ndarray  # one simulated period revenue per draw
    spread: Spread | None = None

    @property
    def horizon_days(self) -> int:
        return (self.period_end - self.as_of).days

    @property
    def expected_pipeline(self) -> float:
        return float(self.open_p @ self.open.amount) if len(self.open) else 0.0

    @property
    def expected_new(self) -> float:
        return self.learned.new_rate * self.learned.new_mean_amount if self.learned else 0.0

    @property
    def expected(self) -> float:
        return self.won_so_far + self.expected_pipeline + self.expected_new

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.totals, q))

    @property
    def p10(self) -> float:
        return self.percentile(10)

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p90(self) -> float:
        return self.percentile(90)

    def chance_of_reaching(self, target: float) -> float:
        return float((self.totals >= target).mean())


def forecast(deals: DealTable, *, as_of: date, period_start: date, period_end: date, rng: np.random.Generator,
             config: ForecastConfig = ForecastConfig(), history_start: date | None = None,
             stage_history: StageHistory | None = None) -> Forecast:
    """Forecast the period's won revenue from what was known at the end of ``as_of`` (module docstring)."""
    if not (period_start - timedelta(days=1) <= as_of <= period_end):
        raise InvalidInput(f"The as-of date {as_of} must fall in the period {period_start}–{period_end} "
                           "(or be the day before it starts).", code="forecast_bad_period")
    view = deals.as_of(as_of)
    stages = stage_history.as_of(as_of) if stage_history is not None else None
    A = int(day(as_of).astype(np.int64))
    won = won_revenue(view, period_start, as_of)
    open_ = view.take(view.outcome == OPEN)
    open_stage = (stages.stage_at(open_.ids, np.full(len(open_), A)) if stages is not None
                  else np.full(len(open_), None, dtype=object))
    closes = view.closed_on[~np.isnat(view.closed_on)]
    start = history_start or (to_date(closes.min()) if len(closes) else None)
    if as_of == period_end:
        return Forecast(as_of, period_start, period_end, start, won, open_, np.zeros(len(open_)), open_stage, None,
                        np.full(config.draws, won))
    windows = choose_windows(as_of, (period_start, period_end), start, config) if start else None
    if windows is None or not len(windows.start):
        have = "no deal has closed yet" if start is None else f"the history starts on {start}"
        raise InsufficientHistory(
            f"A forecast {(period_end - as_of).days} days ahead from {as_of} needs at least that many days of "
            f"closed deals before it; {have}.", details={"as_of": as_of.isoformat()})
    extra = tuple(sorted({str(s) for s in open_stage if s is not None}))
    learned = learn(view, windows, config, stages, extra)
    s, b = learned.cells(open_stage, A - days_of(open_.created_on))
    tau2: tuple[float | None, str | None] = (None, None)
    if config.spread == "window_error":
        tau2 = (learned.window_error(), windows.method)
        if tau2[0] is None and windows.method != "sliding":  # one same-point window: measure on sliding ones
            tau2 = (learn(view, sliding_windows(as_of, (period_start, period_end), start, config), config, stages,
                          extra).window_error(), "sliding")
    spread = SPREADS[config.spread](learned, rng, config.draws, tau2)
    _, first, count = np.unique(np.column_stack([s, b, open_.amount]), axis=0, return_index=True, return_counts=True)
    weights = None if spread.weights.shape[0] == 1 else spread.weights
    totals = simulate(won, np.atleast_2d(learned.probabilities(s[first], b[first], weights)), open_.amount[first],
                      spread.new_rate, learned.new_amounts, config.draws, rng, count, spread.factor)
    p = learned.probabilities(s, b)
    return Forecast(as_of, period_start, period_end, start, won, open_, p, open_stage, learned, totals, spread)


# --- what stands in the way ----------------------------------------------------------------------
def what_stands_in_the_way(fc: Forecast, target: float | None, k: int = 10) -> dict[str, Any]:
    """The gap to target, the chance of reaching it, and the largest open deals: how many must be won."""
    order = np.argsort(-fc.open.amount, kind="stable")
    A = day(fc.as_of)
    deals = [{"deal_id": int(fc.open.ids[i]), "name": fc.open.name[i], "amount": float(fc.open.amount[i]),
              "team": fc.open.team[i], "stage": fc.open_stage[i] or fc.open.stage[i],
              "age_days": int((A - fc.open.created_on[i]).astype(np.int64)),
              "p_win_in_period": float(fc.open_p[i])} for i in order[:k]]
    out: dict[str, Any] = {"target": target, "gap_now": None, "gap_at_p50": None, "chance_of_reaching": None,
                           "largest_open_deals": deals, "deals_needed": None}
    if target is None:
        return out
    gap = max(0.0, target - fc.won_so_far)
    cum = np.cumsum(fc.open.amount[order])
    needed = 0 if gap == 0 else int(np.searchsorted(cum, gap) + 1) if len(cum) and cum[-1] >= gap else None
    out.update(gap_now=gap, gap_at_p50=max(0.0, target - fc.p50), chance_of_reaching=fc.chance_of_reaching(target),
               deals_needed=needed)
    return out
