"""Predictive scoring: metrics on hand-computed cases, refusal below the history floor, explanations."""

import random

import numpy as np
import pytest

from revteam.learning.predictive import FeatureSpec, InsufficientHistory, auc, evaluate, time_split, train


def test_auc_on_hand_computed_cases():
    assert auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert auc([0, 1, 0, 1], [0.1, 0.3, 0.35, 0.8]) == 0.75  # pairs (pos,neg): 4 of which 3 ranked right
    assert auc([0, 1], [0.5, 0.5]) == 0.5  # ties count half


def test_top_decile_lift_and_calibration_table():
    y = [1] * 10 + [0] * 90
    p = list(np.linspace(0.99, 0.9, 10)) + [0.05] * 90
    r = evaluate(y, p)
    assert r["base_rate"] == 0.1 and r["top_decile_rate"] == 1.0 and r["top_decile_lift"] == pytest.approx(10)
    assert [b["leads"] for b in r["calibration"]] == [90, 10]


def synthetic(n, seed=7):
    rng = random.Random(seed)
    rows, y = [], []
    for i in range(n):
        source = rng.choice(["referral", "ads", "organic", "Select"])
        visits = rng.randint(0, 20)
        z = -1.5 + (1.5 if source == "referral" else 0) + 0.15 * visits
        rows.append({"id": i, "source": source, "visits": visits})
        y.append(int(rng.random() < 1 / (1 + np.exp(-z))))
    return rows, y


def test_learns_a_planted_signal_and_explains_it():
    rows, y = synthetic(4000)
    tr, ytr, te, yte = time_split(rows, y, "id")
    m = train(tr, ytr, FeatureSpec(categorical=["source"], numeric=["visits"]))
    r = evaluate(yte, m.predict_proba(te))
    assert r["auc"] > 0.75
    hot = m.reasons({"source": "referral", "visits": 18})
    assert {x.feature for x in hot} >= {"source = referral", "visits (log, standardised)"}
    assert all(x.contribution > 0 for x in hot if x.feature.startswith(("source = referral", "visits (")))
    assert any(x.feature == "source missing" for x in m.reasons({"source": "Select", "visits": 3}, top=5))


def test_refuses_to_train_on_too_little_history():
    rows, y = synthetic(900)
    with pytest.raises(InsufficientHistory, match="at least 1,000 past leads"):
        train(rows, y, FeatureSpec(categorical=["source"]))
    rows, y = synthetic(2000)
    with pytest.raises(InsufficientHistory, match="120 converted"):
        train(rows, [0] * 1950 + [1] * 50, FeatureSpec(categorical=["source"]))
