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

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from revteam.domain.forecast_learning import (  # noqa: F401 - the forecast's public names
    _NEVER,
    UNKNOWN_STAGE,
    ForecastConfig,
    InsufficientHistory,
    Learned,
    StageHistory,
    Windows,
    age_bucket,
    choose_windows,
    days_of,
    learn,
    same_point_windows,
    shrink,
    sliding_windows,
)
from revteam.domain.forecast_spread import SPREADS, Spread
from revteam.domain.revenue import OPEN, DealTable, day, to_date, won_revenue
from revteam.errors import InvalidInput


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
