"""Predictive lead scoring: a calibrated probability of converting, with each lead's top reasons.

Model
    Logistic regression on one-hot categorical fields and standardised ``log1p`` numeric fields (with
    a missing-value indicator each), L2-regularised. The probability is calibrated by Platt scaling
    (a one-feature logistic fit of the model's log-odds) on the newest 20 % of the training period, so
    that "0.7" means about 70 % of such leads converted. Because the calibration is monotone, the
    explanation of a lead is the model's own: each feature's contribution to the log-odds
    (coefficient × value), largest first.

Assumptions and edge rules
    * Evaluation is time-ordered: train on older leads, test on newer ones (``order`` key), never a
      random split, because a model is always used on leads newer than those it learned from.
    * Categories seen fewer than ``MIN_CATEGORY`` times in training are pooled as "(other)"; values
      like "Select" (a form default) count as missing.
    * Fields recorded by sales while working a lead leak the outcome and must not be features; callers
      name the fields they use (the X Education runner excludes Tags, Lead Quality, and others).
    * Too little history gives confident nonsense: training is refused below ``MIN_LEADS`` leads or
      ``MIN_CONVERTED`` conversions (the floor one major CRM uses: 1,000 leads, 120 converted).

Metrics (``evaluate``)
    AUC (probability that a random converter is ranked above a random non-converter); lift in the top
    decile (conversion rate of the 10 % highest-scored leads / overall rate); a calibration table
    (10 bins of predicted probability: mean predicted vs observed rate).

Worked example
    On X Education (9,240 leads, 38.5 % converted, split by Lead Number) the result table is in
    docs/scoring.md, produced by ``revteam scoring x-education PATH``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from revteam.errors import InvalidInput

MIN_LEADS = 1000
MIN_CONVERTED = 120
MIN_CATEGORY = 10
CALIBRATION_SHARE = 0.2
MISSING = {"", "select", "nan", "none", "null"}


class InsufficientHistory(InvalidInput):
    code = "insufficient_history"


@dataclass
class FeatureSpec:
    categorical: Sequence[str]
    numeric: Sequence[str] = ()
    missing_tokens: frozenset[str] = frozenset(MISSING)


def _cat(v: Any, spec: FeatureSpec) -> str | None:
    if v is None:
        return None
    s = str(v).strip()
    return None if s.lower() in spec.missing_tokens else s


def _num(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


@dataclass
class _Encoder:
    spec: FeatureSpec
    vocab: dict[str, list[str]] = field(default_factory=dict)
    mean: dict[str, float] = field(default_factory=dict)
    std: dict[str, float] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)

    def fit(self, rows: Sequence[Mapping[str, Any]]) -> _Encoder:
        for col in self.spec.categorical:
            counts = Counter(_cat(r.get(col), self.spec) for r in rows)
            self.vocab[col] = sorted(str(k) for k, n in counts.items() if k is not None and n >= MIN_CATEGORY)
            self.names += [f"{col} = {v}" for v in self.vocab[col]] + [f"{col} = (other)", f"{col} missing"]
        for col in self.spec.numeric:
            xs = np.array([math.log1p(max(v, 0)) for v in (_num(r.get(col)) for r in rows) if v is not None])
            self.mean[col] = float(xs.mean()) if len(xs) else 0.0
            self.std[col] = float(xs.std()) or 1.0 if len(xs) else 1.0
            self.names += [f"{col} (log, standardised)", f"{col} missing"]
        return self

    def transform(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        X = np.zeros((len(rows), len(self.names)))
        for i, r in enumerate(rows):
            j = 0
            for col in self.spec.categorical:
                voc = self.vocab[col]
                v = _cat(r.get(col), self.spec)
                if v is None:
                    X[i, j + len(voc) + 1] = 1
                elif v in voc:
                    X[i, j + voc.index(v)] = 1
                else:
                    X[i, j + len(voc)] = 1
                j += len(voc) + 2
            for col in self.spec.numeric:
                v = _num(r.get(col))
                if v is None:
                    X[i, j + 1] = 1
                else:
                    X[i, j] = (math.log1p(max(v, 0)) - self.mean[col]) / self.std[col]
                j += 2
        return X


@dataclass(frozen=True)
class Reason:
    feature: str
    contribution: float  # log-odds

    @property
    def text(self) -> str:
        return f"{self.feature} ({self.contribution:+.2f} log-odds)"


@dataclass
class PredictiveScorer:
    encoder: _Encoder
    coef: np.ndarray
    intercept: float
    platt: tuple[float, float]  # a, b: p = sigmoid(a × logit + b)
    trained_on: int
    converted: int

    def logit(self, X: np.ndarray) -> np.ndarray:
        return X @ self.coef + self.intercept

    def predict_proba(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        a, b = self.platt
        z = a * self.logit(self.encoder.transform(rows)) + b
        return 1 / (1 + np.exp(-z))

    def reasons(self, row: Mapping[str, Any], top: int = 3) -> list[Reason]:
        x = self.encoder.transform([row])[0]
        contrib = self.coef * x
        order = np.argsort(-np.abs(contrib))
        return [Reason(self.encoder.names[j], float(contrib[j])) for j in order[:top] if contrib[j] != 0]


def check_history(y: Sequence[int]) -> None:
    n, pos = len(y), int(sum(y))
    if n < MIN_LEADS or pos < MIN_CONVERTED or n - pos < MIN_CONVERTED:
        raise InsufficientHistory(
            f"Predictive scoring needs at least {MIN_LEADS:,} past leads with {MIN_CONVERTED} converted and "
            f"{MIN_CONVERTED} not converted; there are {n:,} leads and {pos:,} converted. Use the rule-based "
            "model until there is more history.")


def train(rows: Sequence[Mapping[str, Any]], y: Sequence[int], spec: FeatureSpec, *, C: float = 1.0) -> PredictiveScorer:
    """Train on rows in time order (oldest first); the newest share calibrates."""
    from sklearn.linear_model import LogisticRegression

    check_history(y)
    yarr = np.asarray(y, dtype=int)
    cut = int(len(rows) * (1 - CALIBRATION_SHARE))
    enc = _Encoder(spec).fit(rows[:cut])
    X = enc.transform(rows)
    lr = LogisticRegression(C=C, max_iter=2000)
    lr.fit(X[:cut], yarr[:cut])
    z = lr.decision_function(X[cut:]).reshape(-1, 1)
    platt = LogisticRegression(C=1e6, max_iter=1000).fit(z, yarr[cut:])
    return PredictiveScorer(enc, lr.coef_[0], float(lr.intercept_[0]), (float(platt.coef_[0][0]), float(platt.intercept_[0])),
                            len(rows), int(yarr.sum()))


def time_split(rows: Sequence[Mapping[str, Any]], y: Sequence[int], order: str, test_share: float = 0.2):  # type: ignore[no-untyped-def]
    idx = sorted(range(len(rows)), key=lambda i: float(rows[i][order]))
    cut = int(len(idx) * (1 - test_share))
    pick = lambda ids: ([rows[i] for i in ids], [int(y[i]) for i in ids])  # noqa: E731
    return (*pick(idx[:cut]), *pick(idx[cut:]))


def auc(y: Sequence[int], p: Sequence[float]) -> float:
    """Mann–Whitney AUC with ties counted half."""
    from scipy.stats import rankdata

    y = np.asarray(y)
    ranks = rankdata(p)
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def evaluate(y: Sequence[int], p: Sequence[float], bins: int = 10) -> dict[str, Any]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    base = float(y.mean())
    top = np.argsort(-p, kind="stable")[: max(1, len(p) // 10)]
    edges = np.linspace(0, 1, bins + 1)
    table = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (p >= lo) & ((p < hi) if hi < 1 else (p <= hi))
        if m.any():
            table.append({"bin": f"{lo:.1f}–{hi:.1f}", "leads": int(m.sum()), "mean_predicted": float(p[m].mean()),
                          "observed": float(y[m].mean())})
    return {"leads": int(len(y)), "base_rate": base, "auc": auc(y, p),
            "top_decile_rate": float(y[top].mean()), "top_decile_lift": float(y[top].mean() / base) if base else None,
            "brier": float(np.mean((p - y) ** 2)), "calibration": table}
