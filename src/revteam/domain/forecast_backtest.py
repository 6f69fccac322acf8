"""Backtest of the revenue forecast against what happened, beside naive baselines (docs/forecast.md).

Protocol
    For each forecast day D (by default the 1st and the 15th of every month) and each horizon (month,
    quarter), the period is the one holding D. The forecast is made on the morning of D: it knows what is
    dated before D (``as_of`` = D − 1) and nothing later (``DealTable.as_of`` hides every later close, so
    the win probabilities, the run rate and the baselines all learn from the past only). It is compared
    with the period's actual won revenue, read from the full history once the period has ended; periods
    ending after ``data_end`` are left out. Forecasts without enough history before them are skipped and
    listed with the reason.

Errors
    The model's point forecast is its P50. error = forecast − actual; pct error = error / actual.
    Per horizon: MAE (mean |error|), MAPE (mean |pct error| over periods with actual > 0), WAPE
    (Σ |error| / Σ actual: a small month's large percentage does not swamp it), bias (mean error), and
    the share of actuals inside the P10–P90 band (coverage: an honest 80 % band holds about 80 %), and
    the shares below P10 and above P90 (about 10 % each; a lopsided split means a biased band rather than
    a narrow one).
    Each baseline is scored on the rows where it is defined, beside the model's score on the same rows.

Baselines (``BASELINES``), the naive forecasts the model has to beat
    ``run_rate``    won so far + the trailing 90 days' won revenue per day × days left (fewer trailing
                    days when the history is shorter). The main baseline: defined on every day, and it
                    does not explode early in a period the way ``pace`` does.
    ``pace``        won so far × days in the period / days elapsed; undefined on the 1st (nothing elapsed).
    ``last_period`` the previous period's won revenue; undefined when it starts before the history.

Worked example
    D = 2017-05-15, month horizon: as_of 2017-05-14, period May 2017; the forecast (P50) says 1.10 M,
    actual 1.03 M: error +0.07 M, +6.8 %; the run-rate baseline said 0.95 M: error −0.08 M, −7.8 %.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from revteam.domain.forecast import (
    ForecastConfig,
    InsufficientHistory,
    StageHistory,
    forecast,
)
from revteam.domain.revenue import DealTable, period_span, to_date, won_revenue
from revteam.errors import InvalidInput

HORIZONS = ("month", "quarter")


# --- baselines -----------------------------------------------------------------------------------
Baseline = Callable[[DealTable, date, date, date, str, date], float | None]


def _run_rate(view: DealTable, as_of: date, start: date, end: date, kind: str, history_start: date) -> float | None:
    trailing = min(90, (as_of - history_start).days + 1)
    if trailing <= 0:
        return None
    per_day = won_revenue(view, as_of - timedelta(days=trailing - 1), as_of) / trailing
    return won_revenue(view, start, as_of) + per_day * (end - as_of).days


def _pace(view: DealTable, as_of: date, start: date, end: date, kind: str, history_start: date) -> float | None:
    elapsed = (as_of - start).days + 1
    return won_revenue(view, start, as_of) * ((end - start).days + 1) / elapsed if elapsed > 0 else None


def _last_period(view: DealTable, as_of: date, start: date, end: date, kind: str,
                 history_start: date) -> float | None:
    ps, pe = period_span(kind, start - timedelta(days=1))
    return won_revenue(view, ps, pe) if ps >= history_start and pe <= as_of else None


BASELINES: dict[str, Baseline] = {"run_rate": _run_rate, "pace": _pace, "last_period": _last_period}


def baseline(name: str, deals: DealTable, *, as_of: date, period_start: date, period_end: date, kind: str,
             history_start: date) -> float | None:
    """The ``name`` baseline's forecast of the period from what was known at ``as_of`` (None: undefined)."""
    if name not in BASELINES:
        raise InvalidInput(f"Unknown baseline {name!r}; use one of {', '.join(BASELINES)}.", code="bad_baseline")
    return BASELINES[name](deals.as_of(as_of), as_of, period_start, period_end, kind, history_start)


# --- the backtest --------------------------------------------------------------------------------
def forecast_days(first: date, last: date, days_of_month: Sequence[int] = (1, 15)) -> list[date]:
    """The 1st and 15th (by default) of every month from ``first`` to ``last``, both included."""
    out, m = [], first.replace(day=1)
    while m <= last:
        out += [m.replace(day=d) for d in days_of_month if first <= m.replace(day=d) <= last]
        m = (m.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


@dataclass(frozen=True)
class BacktestRow:
    made_on: date
    horizon: str
    period_start: date
    period_end: date
    won_so_far: float
    expected: float
    p10: float
    p50: float
    p90: float
    actual: float
    baselines: dict[str, float | None]

    @property
    def as_of(self) -> date:
        return self.made_on - timedelta(days=1)

    @property
    def error(self) -> float:
        return self.p50 - self.actual

    @property
    def pct_error(self) -> float | None:
        return self.error / self.actual if self.actual else None

    @property
    def within_band(self) -> bool:
        return self.p10 <= self.actual <= self.p90

    def baseline_error(self, name: str) -> float | None:
        b = self.baselines.get(name)
        return None if b is None else b - self.actual

    def to_dict(self) -> dict[str, Any]:
        return {"made_on": self.made_on, "as_of": self.as_of, "horizon": self.horizon,
                "period_start": self.period_start, "period_end": self.period_end, "won_so_far": self.won_so_far,
                "expected": self.expected, "p10": self.p10, "p50": self.p50, "p90": self.p90,
                "actual": self.actual, "error": self.error, "pct_error": self.pct_error,
                "within_p10_p90": self.within_band, "baselines": self.baselines,
                "baseline_errors": {k: self.baseline_error(k) for k in self.baselines}}


def _scores(pred: np.ndarray, actual: np.ndarray) -> dict[str, float | None]:
    if not len(pred):
        return {"mae": None, "mape": None, "wape": None, "bias": None}
    err = pred - actual
    pos = actual > 0
    return {"mae": float(np.abs(err).mean()), "bias": float(err.mean()),
            "mape": float(np.abs(err[pos] / actual[pos]).mean()) if pos.any() else None,
            "wape": float(np.abs(err).sum() / actual.sum()) if actual.sum() > 0 else None}


def summarise(rows: Sequence[BacktestRow]) -> dict[str, Any]:
    """Per horizon: the model's MAE, MAPE, bias and band coverage; each baseline beside the model on its rows."""
    out: dict[str, Any] = {}
    for h in sorted({r.horizon for r in rows}, key=lambda h: (h not in HORIZONS, HORIZONS.index(h) if h in HORIZONS else 0)):
        rs = [r for r in rows if r.horizon == h]
        actual = np.array([r.actual for r in rs])
        model = np.array([r.p50 for r in rs])
        entry: dict[str, Any] = {"forecasts": len(rs), "model": _scores(model, actual),
                                 "p10_p90_coverage": float(np.mean([r.within_band for r in rs])),
                                 "below_p10": float(np.mean([r.actual < r.p10 for r in rs])),
                                 "above_p90": float(np.mean([r.actual > r.p90 for r in rs])), "baselines": {}}
        for b in BASELINES:
            ok = np.array([r.baselines.get(b) is not None for r in rs], dtype=bool)
            pred = np.array([r.baselines[b] for r, k in zip(rs, ok) if k], dtype=float)
            better = np.abs(model[ok] - actual[ok]) < np.abs(pred - actual[ok])
            entry["baselines"][b] = {"forecasts": int(ok.sum()), "baseline": _scores(pred, actual[ok]),
                                     "model_same_rows": _scores(model[ok], actual[ok]),
                                     "model_closer_share": float(better.mean()) if len(better) else None}
        out[h] = entry
    return out


@dataclass
class Backtest:
    rows: list[BacktestRow] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        return summarise(self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {"rows": [r.to_dict() for r in self.rows], "skipped": self.skipped, "summary": self.summary}


def backtest(deals: DealTable, days: Sequence[date], *, rng: np.random.Generator,
             config: ForecastConfig = ForecastConfig(), horizons: Sequence[str] = HORIZONS,
             data_end: date | None = None, history_start: date | None = None,
             stage_history: StageHistory | None = None) -> Backtest:
    """Forecast as of the morning of each day in ``days`` for each horizon; score against the actuals."""
    closes = deals.closed_on[~np.isnat(deals.closed_on)]
    end = data_end or (to_date(closes.max()) if len(closes) else None)
    out = Backtest()
    for d in days:
        for h in horizons:
            start, stop = period_span(h, d)
            if end is None or stop > end:
                continue
            as_of = d - timedelta(days=1)
            try:
                fc = forecast(deals, as_of=as_of, period_start=start, period_end=stop, rng=rng, config=config,
                              history_start=history_start, stage_history=stage_history)
            except InsufficientHistory as e:
                out.skipped.append({"made_on": d, "horizon": h, "reason": e.message})
                continue
            hist = fc.history_start or start
            base = {b: baseline(b, deals, as_of=as_of, period_start=start, period_end=stop, kind=h,
                                history_start=hist) for b in BASELINES}
            out.rows.append(BacktestRow(d, h, start, stop, fc.won_so_far, fc.expected, fc.p10, fc.p50, fc.p90,
                                        won_revenue(deals, start, stop), base))
    return out
