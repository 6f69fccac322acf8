"""The revenue forecast, by hand: windows, shrinkage, run rate, simulation, no peeking, baselines, backtest."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from revteam.domain.forecast import (
    SPREADS,
    UNKNOWN_STAGE,
    ForecastConfig,
    InsufficientHistory,
    Learned,
    StageHistory,
    Windows,
    forecast,
    same_point_windows,
    shrink,
    simulate,
    sliding_windows,
    what_stands_in_the_way,
)
from revteam.domain.forecast_backtest import backtest, baseline, forecast_days, summarise
from revteam.domain.revenue import DealTable, day
from revteam.errors import InvalidInput

JAN = (date(2026, 1, 1), date(2026, 1, 31))
AS_OF = date(2026, 1, 20)  # H = 11 days left in January
SLIDING = ForecastConfig(windows="sliding", prior_strength=2.0, draws=2000, spread="none")


def story_deals(**changes: object) -> DealTable:
    """Five deals around January 2026, history from 1 December (see test_learned_counts_by_hand).

    Acme    created  1 Dec, won  15 Jan, 100
    Birch   created 10 Dec, lost 20 Dec,  40
    Cobalt  created 12 Jan, open,          50
    Delta   created 30 Dec, won   5 Jan,  30  (created and won inside one window)
    Ember   created 20 Dec, won  25 Jan, 1,000  (after the as-of date: open as far as the forecast knows)
    """
    cols: dict[str, list[object]] = {
        "name": ["Acme", "Birch", "Cobalt", "Delta", "Ember"],
        "amount": [100, 40, 50, 30, 1000],
        "outcome": ["won", "lost", "open", "won", "won"],
        "created_on": ["2025-12-01", "2025-12-10", "2026-01-12", "2025-12-30", "2025-12-20"],
        "closed_on": ["2026-01-15", "2025-12-20", None, "2026-01-05", "2026-01-25"],
        "account": [1, 2, 3, 4, 5],
    }
    cols.update(changes)  # type: ignore[arg-type]
    return DealTable.build(**cols)  # type: ignore[arg-type]


def jan_forecast(deals: DealTable | None = None, seed: int = 7, **kw: object):
    return forecast(deals or story_deals(), as_of=AS_OF, period_start=JAN[0], period_end=JAN[1],
                    rng=np.random.default_rng(seed), config=kw.pop("config", SLIDING),  # type: ignore[arg-type]
                    history_start=date(2025, 12, 1), **kw)  # type: ignore[arg-type]


# --- windows -------------------------------------------------------------------------------------
def test_sliding_windows_step_back_by_the_days_left_until_the_history_start():
    w = sliding_windows(AS_OF, JAN, date(2025, 12, 1), SLIDING)
    starts = [str(np.datetime64(int(t), "D")) for t in w.start]
    assert starts == ["2026-01-09", "2025-12-29", "2025-12-18", "2025-12-07"]  # 26 Nov is before the history
    assert set(w.length) == {11}


def test_same_point_windows_repeat_the_position_in_past_quarters():
    cfg = ForecastConfig()
    month = same_point_windows(date(2026, 6, 14), (date(2026, 6, 1), date(2026, 6, 30)), date(2025, 10, 1), cfg)
    assert [str(np.datetime64(int(t), "D")) for t in month.start] == ["2026-03-14", "2025-12-14"]
    assert list(month.length) == [17, 17]  # 15–31 March, 15–31 December
    quarter = same_point_windows(date(2026, 4, 30), (date(2026, 4, 1), date(2026, 6, 30)), date(2025, 1, 1), cfg)
    assert [str(np.datetime64(int(t), "D")) for t in quarter.start] == ["2026-01-31", "2025-10-31", "2025-07-31",
                                                                        "2025-04-30"]
    assert list(quarter.length) == [59, 61, 61, 61]  # to the end of Q1, Q4, Q3, Q2


def test_auto_falls_back_to_sliding_windows_when_no_past_quarter_fits():
    fc = jan_forecast(config=replace(SLIDING, windows="auto"))
    assert fc.learned.windows.method == "sliding"  # 20 October is before the history start


# --- shrinkage -----------------------------------------------------------------------------------
def test_shrinkage_by_hand_the_docstring_example():
    n = np.zeros((1, 6))
    stake = np.zeros((1, 6))
    won = np.zeros((1, 6))
    n[0, 0], stake[0, 0], won[0, 0] = 40, 400_000, 100_000  # r = 0.25
    n[0, 4], stake[0, 4], won[0, 4] = 5, 250_000, 0  # r = 0
    n[0, 2], stake[0, 2], won[0, 2] = 155, 1_350_000, 200_000
    p0, pa, p = shrink(n, stake, won, 20.0)
    assert p0 == pytest.approx(0.15)
    assert pa[0] == pytest.approx((40 * 0.25 + 20 * 0.15) / 60)  # 0.2167
    assert pa[4] == pytest.approx((0 + 20 * 0.15) / 25)  # 0.12
    assert pa[1] == pytest.approx(0.15)  # an empty bucket is its parent
    assert p[0, 0] == pytest.approx((40 * 0.25 + 20 * pa[0]) / 60)  # a stage cell is shrunk toward its bucket


def test_shrinkage_of_a_stage_cell_toward_its_stage_or_its_age_bucket_and_without_shrinkage():
    n = np.array([[30.0, 0.0], [10.0, 5.0]])  # stages (unknown, negotiation) × two age buckets
    stake = np.array([[300.0, 0.0], [100.0, 100.0]])
    won = np.array([[30.0, 0.0], [60.0, 80.0]])
    p0, pa, p = shrink(n, stake, won, 10.0)
    assert p0 == pytest.approx(170 / 500)
    assert pa[0] == pytest.approx((40 * 90 / 400 + 10 * p0) / 50)
    p_negotiation = (15 * 140 / 200 + 10 * p0) / 25  # the stage's own rate, shrunk toward the overall one
    assert p[1, 0] == pytest.approx((10 * 0.6 + 10 * p_negotiation) / 20)
    assert p[1, 1] == pytest.approx((5 * 0.8 + 10 * p_negotiation) / 15)
    assert p[0, 0] == pytest.approx((30 * 0.1 + 10 * pa[0]) / 40)  # the unknown stage: toward the age bucket
    _, pa, by_age = shrink(n, stake, won, 10.0, parent="age")
    assert by_age[1, 0] == pytest.approx((10 * 0.6 + 10 * pa[0]) / 20)
    _, _, raw = shrink(n, stake, won, 0.0)  # m = 0: each cell's own amount-weighted rate
    assert raw[0, 0] == pytest.approx(0.1) and raw[1, 0] == pytest.approx(0.6)


# --- learning and the forecast -------------------------------------------------------------------
def test_learned_counts_by_hand():
    fc = jan_forecast()
    lrn = fc.learned
    n, stake, won = lrn.n.sum(axis=0)[0], lrn.at_stake.sum(axis=0)[0], lrn.won.sum(axis=0)[0]
    # 0–14 days: Acme on 7 Dec, Birch on 18 Dec, Ember on 29 Dec; none won within its window
    # 15–29 days: Acme on 18 and 29 Dec, Ember on 9 Jan (won on 25 Jan: after the as-of date, so not a win)
    # 30–59 days: Acme on 9 Jan, won on 15 Jan
    assert list(n) == [3, 3, 1, 0, 0, 0]
    assert list(stake) == [1140, 1200, 100, 0, 0, 0]
    assert list(won) == [0, 0, 100, 0, 0, 0]
    assert list(lrn.new_counts) == [0, 1, 0, 0]  # Delta, created 30 Dec and won 5 Jan
    assert lrn.new_rate == 0.25 and list(lrn.new_amounts) == [30]
    p0 = 100 / 2440
    p_cobalt, p_ember = 2 * p0 / 5, (1 * 1.0 + 2 * p0) / 3  # ages 8 and 31 days
    assert fc.won_so_far == 130  # Acme and Delta
    assert sorted(fc.open.name) == ["Cobalt", "Ember"]
    got = dict(zip(fc.open.name, fc.open_p))
    assert got["Cobalt"] == pytest.approx(p_cobalt) and got["Ember"] == pytest.approx(p_ember)
    assert fc.expected == pytest.approx(130 + 50 * p_cobalt + 1000 * p_ember + 0.25 * 30)
    assert fc.p10 <= fc.p50 <= fc.p90


def test_no_peeking_deals_closed_after_the_as_of_date_never_inform_the_forecast():
    base = jan_forecast()
    # Ember lost instead of won on 25 January, Cobalt won on 28 January for 9,999 (its pipeline amount was
    # 50), and a deal created on 22 January: none of it was known on 20 January.
    later = story_deals(outcome=["won", "lost", "won", "won", "lost"],
                        closed_on=["2026-01-15", "2025-12-20", "2026-01-28", "2026-01-05", "2026-01-25"],
                        amount=[100, 40, 9999, 30, 1000], open_amount=[100, 40, 50, 30, 1000])
    extra = story_deals(name=["Acme", "Birch", "Cobalt", "Delta", "Ember", "Late"],
                        amount=[100, 40, 50, 30, 1000, 5000], outcome=["won", "lost", "open", "won", "won", "won"],
                        created_on=["2025-12-01", "2025-12-10", "2026-01-12", "2025-12-30", "2025-12-20", "2026-01-22"],
                        closed_on=["2026-01-15", "2025-12-20", None, "2026-01-05", "2026-01-25", "2026-01-24"],
                        account=[1, 2, 3, 4, 5, 6])
    for deals in (later, extra):
        fc = jan_forecast(deals)
        for part in ("n", "at_stake", "won", "new_counts", "new_amounts"):
            np.testing.assert_array_equal(getattr(fc.learned, part), getattr(base.learned, part))
        assert fc.won_so_far == base.won_so_far and fc.expected == pytest.approx(base.expected)
        np.testing.assert_array_equal(fc.totals, base.totals)


def stages(*moves: tuple[int, str, str]) -> StageHistory:
    ids, days, names = zip(*moves)
    return StageHistory(np.array(ids), np.array(days, dtype="datetime64[D]"), np.array(names, dtype=object))


def test_no_peeking_stage_changes_after_the_as_of_date_never_inform_the_forecast():
    known = [(1, "2025-12-01", "discovery"), (1, "2025-12-20", "proposal"), (5, "2025-12-20", "discovery"),
             (3, "2026-01-12", "discovery")]
    base = jan_forecast(stage_history=stages(*known), config=replace(SLIDING, spread="window_error"))
    # Cobalt reaches negotiation and Ember is marked won on 22 and 25 January, and a back-dated history row
    # for Birch is recorded as of 21 January: all after the as-of date (20 January)
    later = stages(*known, (3, "2026-01-22", "negotiation"), (5, "2026-01-25", "won"), (2, "2026-01-21", "demo"))
    fc = jan_forecast(stage_history=later, config=replace(SLIDING, spread="window_error"))
    assert fc.learned.stages == base.learned.stages
    for part in ("n", "at_stake", "won", "at_stake_sq"):
        np.testing.assert_array_equal(getattr(fc.learned, part), getattr(base.learned, part))
    assert list(fc.open_stage) == list(base.open_stage) == ["discovery", "discovery"]  # Cobalt, Ember
    np.testing.assert_array_equal(fc.totals, base.totals)


def test_stage_history_files_deal_windows_under_the_stage_they_had_then():
    deals = story_deals()
    history = StageHistory(np.array([1, 1, 5, 5]), np.array(["2025-12-01", "2025-12-20", "2025-12-20", "2026-01-22"],
                                                             dtype="datetime64[D]"),
                           np.array(["discovery", "proposal", "discovery", "negotiation"], dtype=object))
    fc = jan_forecast(deals, stage_history=history)
    lrn = fc.learned
    assert lrn.stages == (UNKNOWN_STAGE, "discovery", "proposal")  # "negotiation" (22 Jan) is after the as-of date
    n = lrn.n.sum(axis=0)
    # discovery: Acme on 7 Dec and Ember on 29 Dec (0–14 days), Acme on 18 Dec and Ember on 9 Jan (15–29)
    assert n[1].tolist() == [2, 2, 0, 0, 0, 0]
    # proposal (Acme from 20 Dec): 29 Dec (15–29 days) and 9 Jan (30–59), the window it was won in
    assert n[2].tolist() == [0, 1, 1, 0, 0, 0]
    assert lrn.won.sum(axis=0)[2].tolist() == [0, 0, 100, 0, 0, 0]
    assert n[0].tolist() == [1, 0, 0, 0, 0, 0]  # Birch never had a recorded stage
    assert dict(zip(fc.open.name, fc.open_stage)) == {"Cobalt": None, "Ember": "discovery"}


def test_as_of_the_last_day_of_the_period_the_forecast_is_what_was_won():
    fc = forecast(story_deals(), as_of=JAN[1], period_start=JAN[0], period_end=JAN[1],
                  rng=np.random.default_rng(1), config=SLIDING)
    assert fc.won_so_far == fc.p10 == fc.p90 == fc.expected == 1130  # Acme, Delta, Ember


def test_too_little_history_is_refused_with_the_reason():
    with pytest.raises(InsufficientHistory, match="history starts on 2026-01-10"):
        forecast(story_deals(), as_of=AS_OF, period_start=JAN[0], period_end=JAN[1], rng=np.random.default_rng(1),
                 config=SLIDING, history_start=date(2026, 1, 10))
    with pytest.raises(InsufficientHistory, match="no deal has closed yet"):
        forecast(story_deals(), as_of=date(2025, 12, 15), period_start=date(2025, 12, 1),
                 period_end=date(2025, 12, 31), rng=np.random.default_rng(1), config=SLIDING)


# --- spread: how far a window strays from the others ---------------------------------------------
def two_windows(won_first: float, won_second: float) -> Learned:
    """Two windows of one cell, each with ten open deals of 100 at stake (1,000); no new deals; m = 0."""
    cfg = replace(SLIDING, prior_strength=0.0)
    w = Windows("sliding", np.array([10, 20]), np.array([10, 10]))
    cell = lambda a, b: np.array([a, b], dtype=float).reshape(2, 1, 1)  # noqa: E731
    return Learned(w, cfg, (UNKNOWN_STAGE,), cell(10, 10), cell(won_first / 100, won_second / 100),
                   cell(1000, 1000), cell(won_first, won_second), np.zeros(2), np.zeros(0),
                   cell(10 * 100**2, 10 * 100**2), np.zeros(2), np.zeros(2))


def test_window_error_by_hand():
    lrn = two_windows(500, 100)
    # leaving out window 1, window 2 predicts p = 0.1: expected 100, won 500; chance alone: 0.1·0.9·10·100²
    # leaving out window 2, window 1 predicts p = 0.5: expected 500, won 100; chance alone: 0.5·0.5·10·100²
    sq_err, noise, scale = 400**2 + 400**2, 0.09 * 1e5 + 0.25 * 1e5, 100**2 + 500**2
    assert lrn.window_error() == pytest.approx((sq_err - noise) / scale)  # 1.1
    assert two_windows(300, 290).window_error() == 0.0  # closer than the deals' own chances: no extra spread
    assert replace(lrn, windows=Windows("sliding", np.array([10]), np.array([10])), n=lrn.n[:1], wins=lrn.wins[:1],
                   at_stake=lrn.at_stake[:1], won=lrn.won[:1], at_stake_sq=lrn.at_stake_sq[:1],
                   new_counts=np.zeros(1), new_won=np.zeros(1), new_won_sq=np.zeros(1)).window_error() is None


def test_the_window_error_widens_the_band_around_the_same_mean():
    p, amounts, lam = np.array([[0.3] * 50]), np.full(50, 100.0), np.array([0.0])
    chance = simulate(0.0, p, amounts, lam, np.zeros(0), 20_000, np.random.default_rng(4))
    factor = np.random.default_rng(5).gamma(1 / 0.25, 0.25, size=20_000)  # τ² = 0.25: ±50 %
    spread = simulate(0.0, p, amounts, lam, np.zeros(0), 20_000, np.random.default_rng(4), factor=factor)
    assert spread.mean() == pytest.approx(chance.mean(), rel=0.03)  # 1,500
    assert np.percentile(spread, 90) - np.percentile(spread, 10) > 2 * (np.percentile(chance, 90) -
                                                                        np.percentile(chance, 10))


def test_forecast_spreads_are_strategies_and_report_what_they_measured():
    for name in SPREADS:
        fc = jan_forecast(config=replace(SLIDING, spread=name))
        assert fc.spread.method == name and fc.p10 <= fc.p50 <= fc.p90
    fc = jan_forecast(config=replace(SLIDING, spread="window_error"))
    assert fc.spread.tau2_from == "sliding" and fc.spread.tau2 == fc.learned.window_error()
    with pytest.raises(InvalidInput, match="spread is one of"):
        ForecastConfig(spread="guess")
    with pytest.raises(InvalidInput, match="stage_parent is stage or age"):
        ForecastConfig(stage_parent="owner")


# --- simulation ----------------------------------------------------------------------------------
def test_simulation_of_certain_outcomes_has_no_spread():
    totals = simulate(10.0, np.array([[1.0, 0.0]]), np.array([100.0, 50.0]), np.array([0.0]), np.zeros(0), 500,
                      np.random.default_rng(3))
    assert set(totals) == {110.0}


def test_simulation_percentiles_with_a_fixed_seed():
    one = simulate(0.0, np.array([[0.25]]), np.array([100.0]), np.array([0.0]), np.zeros(0), 10_000,
                   np.random.default_rng(42))
    assert np.percentile(one, [10, 50, 90]).tolist() == [0.0, 0.0, 100.0]
    assert one.mean() == pytest.approx(25, abs=1.5)
    new = simulate(0.0, np.zeros((1, 0)), np.zeros(0), np.array([2.0]), np.array([10.0]), 10_000,
                   np.random.default_rng(42))
    assert np.percentile(new, [10, 50, 90]).tolist() == [0.0, 20.0, 40.0]  # 10 × Poisson(2)
    grouped = simulate(0.0, np.array([[0.5]]), np.array([10.0]), np.array([0.0]), np.zeros(0), 10_000,
                       np.random.default_rng(42), counts=np.array([4]))
    assert set(np.unique(grouped)) <= {0.0, 10.0, 20.0, 30.0, 40.0} and grouped.mean() == pytest.approx(20, abs=0.5)


def test_same_seed_same_forecast():
    a, b = jan_forecast(seed=11), jan_forecast(seed=11)
    np.testing.assert_array_equal(a.totals, b.totals)


# --- what stands in the way ----------------------------------------------------------------------
def test_what_stands_in_the_way_lists_the_largest_open_deals_and_how_many_must_close():
    fc = jan_forecast()
    out = what_stands_in_the_way(fc, target=1000.0)
    assert out["gap_now"] == 870  # 1,000 − 130 won so far
    assert [d["name"] for d in out["largest_open_deals"]] == ["Ember", "Cobalt"]
    assert out["deals_needed"] == 1  # Ember alone covers the gap
    assert 0 <= out["chance_of_reaching"] <= 1
    assert what_stands_in_the_way(fc, target=2000.0)["deals_needed"] is None  # even both would not
    assert what_stands_in_the_way(fc, target=100.0)["deals_needed"] == 0
    assert what_stands_in_the_way(fc, target=None)["gap_now"] is None


# --- baselines and the backtest ------------------------------------------------------------------
def test_baselines_by_hand():
    deals = story_deals()
    kw = dict(as_of=AS_OF, period_start=JAN[0], period_end=JAN[1], kind="month", history_start=date(2025, 12, 1))
    # history 1 Dec – 20 Jan = 51 days < 90: won in it 130 → 130/51 per day × 11 days left
    assert baseline("run_rate", deals, **kw) == pytest.approx(130 + 130 / 51 * 11)
    assert baseline("pace", deals, **kw) == pytest.approx(130 * 31 / 20)
    assert baseline("last_period", deals, **kw) == 0  # December: nothing won
    assert baseline("pace", deals, **{**kw, "as_of": date(2025, 12, 31)}) is None  # nothing elapsed yet
    assert baseline("last_period", deals, **{**kw, "history_start": date(2025, 12, 2)}) is None


def test_forecast_days_are_the_1st_and_15th():
    assert forecast_days(date(2026, 1, 10), date(2026, 3, 1)) == [date(2026, 1, 15), date(2026, 2, 1),
                                                                  date(2026, 2, 15), date(2026, 3, 1)]


def test_backtest_rows_errors_and_summary():
    deals = story_deals()
    bt = backtest(deals, [date(2026, 1, 15), date(2026, 2, 1)], rng=np.random.default_rng(5), config=SLIDING,
                  horizons=("month",), data_end=date(2026, 1, 31), history_start=date(2025, 12, 1))
    assert [(r.made_on, r.horizon) for r in bt.rows] == [(date(2026, 1, 15), "month")]  # February is not over
    row = bt.rows[0]
    assert row.as_of == date(2026, 1, 14) and row.actual == 1130
    assert row.error == pytest.approx(row.p50 - 1130) and row.pct_error == pytest.approx(row.error / 1130)
    assert row.baseline_error("run_rate") == pytest.approx(row.baselines["run_rate"] - 1130)
    s = summarise(bt.rows)["month"]
    assert s["forecasts"] == 1 and s["model"]["mae"] == pytest.approx(abs(row.error))
    inside = row.p10 <= 1130 <= row.p90
    assert (s["p10_p90_coverage"], s["below_p10"], s["above_p90"]) == (float(inside), float(1130 < row.p10),
                                                                       float(1130 > row.p90))
    assert s["baselines"]["run_rate"]["baseline"]["mape"] == pytest.approx(abs(row.baseline_error("run_rate")) / 1130)
    assert bt.to_dict()["rows"][0]["made_on"] == date(2026, 1, 15)


def test_the_as_of_view_reopens_later_closes_at_their_open_amount():
    deals = story_deals(amount=[100, 40, 50, 30, 1200], open_amount=[100, 40, 50, 30, 1000])
    view = deals.as_of(AS_OF)
    ember = list(view.name).index("Ember")
    assert view.outcome[ember] == 0 and np.isnat(view.closed_on[ember]) and view.amount[ember] == 1000
    assert "Late" not in view.name and len(view) == 5
    assert view.created_on.max() <= day(AS_OF)
