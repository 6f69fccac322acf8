"""Properties every attribution model must keep, on journeys hypothesis makes up."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revteam.domain.attribution import HEURISTICS, Journeys, attribute

KEYS = ["ads", "direct", "email", "events", "seo", "webinar"]
RUNS = [(m, {}) for m in HEURISTICS] + [("markov", {}), ("markov", {"split": "journey"}), ("markov", {"order": 2}),
                                        ("markov", {"order": 3, "split": "journey"}), ("shapley", {})]


@st.composite
def journey_sets(draw, max_len: int = 6, single_touch: bool = False) -> Journeys:
    n = draw(st.integers(1, 14))
    journey, key, time, direct, conv, value, lead, opp = [], [], [], [], [], [], [], []
    for j in range(n):
        length = 1 if single_touch else draw(st.integers(1, max_len))
        start = len(key)
        for _ in range(length):
            k = draw(st.integers(0, len(KEYS) - 1))
            journey.append(j)
            key.append(k)
            time.append(draw(st.floats(0, 60 * 86400, allow_nan=False)))
            direct.append(KEYS[k] == "direct")
        c = draw(st.sampled_from([0.0, 1.0]))
        conv.append(c)
        value.append(c * draw(st.sampled_from([1.0, 250.0, 12_000.0, 99_999.5])))
        lead.append(draw(st.sampled_from([-1] + list(range(start, start + length)))))
        opp.append(draw(st.sampled_from([-1] + list(range(start, start + length)))))
    return Journeys.build(journey, key, keys=KEYS, conversions=conv, value=value, time=time, direct=direct, lead=lead,
                          opportunity=opp)


def _run(j: Journeys, model: str, params: dict, touches: bool = False):
    return attribute(j, model, touches=touches, **params)


@settings(max_examples=60, deadline=None)
@given(journey_sets())
def test_every_model_credits_exactly_the_total_and_only_shapley_goes_negative(j):
    for model, params in RUNS:
        a = _run(j, model, params, touches=True)
        assert a.conversions.sum() == pytest.approx(j.conversions.sum(), rel=1e-9, abs=1e-9), (model, params)
        assert a.value.sum() == pytest.approx(j.value.sum(), rel=1e-9, abs=1e-6), (model, params)
        per_journey = np.bincount(j.journey, a.touch_share, minlength=j.n_journeys)
        assert per_journey[j.converted] == pytest.approx(np.ones(int(j.converted.sum()))), (model, params)
        if model != "shapley":  # the only model whose docs say why credit can be negative
            assert (a.conversions >= -1e-12).all() and (a.value >= -1e-9).all(), (model, params)
            assert (a.touch_share >= -1e-12).all(), (model, params)


@settings(max_examples=60, deadline=None)
@given(journey_sets(), st.lists(st.integers(0, len(KEYS) - 1), min_size=1, max_size=6))
def test_a_journey_that_did_not_convert_changes_no_heuristic_credit(j, extra_keys):
    more = Journeys.build(np.r_[j.journey, np.full(len(extra_keys), j.n_journeys)], np.r_[j.key, extra_keys],
                          keys=KEYS, conversions=np.r_[j.conversions, 0], value=np.r_[j.value, 0],
                          time=np.r_[j.time, np.arange(len(extra_keys), dtype=float)],
                          direct=np.r_[j.direct, [KEYS[k] == "direct" for k in extra_keys]],
                          lead=np.r_[j.lead, -1], opportunity=np.r_[j.opportunity, -1])
    for model in HEURISTICS:
        before, after = attribute(j, model), attribute(more, model)
        assert np.array_equal(before.value, after.value) and np.array_equal(before.conversions, after.conversions)


@settings(max_examples=60, deadline=None)
@given(journey_sets(), st.permutations(range(len(KEYS))), st.randoms(use_true_random=False))
def test_shapley_ignores_key_names_their_order_and_touch_order(j, perm, random):
    renamed = [f"channel-{p}" for p in perm]  # key i becomes "channel-perm[i]", listed in another order
    order = sorted(range(len(KEYS)), key=lambda i: renamed[i])
    new_index = np.empty(len(KEYS), dtype=np.int64)
    new_index[order] = np.arange(len(KEYS))
    shuffled = list(range(j.n_touches))
    random.shuffle(shuffled)  # touches in another order inside each journey (times dropped: sets only)
    other = Journeys.build(j.journey[shuffled], new_index[j.key[shuffled]], keys=[renamed[i] for i in order],
                           conversions=j.conversions, value=j.value, nulls=j.nulls)
    a, b = attribute(j, "shapley").as_dict(), attribute(other, "shapley").as_dict()
    for i, name in enumerate(KEYS):
        assert b[renamed[i]] == pytest.approx(a[name], rel=1e-9, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(journey_sets(single_touch=True))
def test_single_touch_journeys_get_the_same_credit_under_every_model(j):
    reference = attribute(j, "first_touch")
    for model, params in RUNS:
        a = _run(j, model, params)
        assert a.value == pytest.approx(reference.value, rel=1e-9, abs=1e-6), (model, params)
        assert a.conversions == pytest.approx(reference.conversions, rel=1e-9, abs=1e-9), (model, params)


def brute_force_shapley(j: Journeys) -> np.ndarray:
    """The textbook formula, coalition by coalition, for each converting journey's key set."""
    sets = [frozenset(j.key[j.journey == i].tolist()) for i in range(j.n_journeys)]
    rate = {}
    for s in set(sets):
        rows = [i for i, t in enumerate(sets) if t == s]
        rate[s] = sum(j.conversions[i] for i in rows) / sum(j.conversions[i] + j.nulls[i] for i in rows)
    credit = np.zeros(j.n_keys)
    for i, t in enumerate(sets):
        if not j.value[i]:
            continue
        n = len(t)
        for c in t:
            others = t - {c}
            phi = sum(math.factorial(len(s)) * math.factorial(n - len(s) - 1) / math.factorial(n)
                      * (rate.get(frozenset(s) | {c}, 0.0) - rate.get(frozenset(s), 0.0))
                      for r in range(n) for s in itertools.combinations(sorted(others), r))
            credit[c] += j.value[i] * phi / rate[t]
    return credit


@settings(max_examples=60, deadline=None)
@given(journey_sets())
def test_shapley_is_exact_over_every_coalition(j):
    assert attribute(j, "shapley").value == pytest.approx(brute_force_shapley(j), rel=1e-9, abs=1e-6)
