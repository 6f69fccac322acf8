"""Attribution models on hand-computed journeys, including every edge rule the docstrings state."""

from __future__ import annotations

import numpy as np
import pytest

from revteam.domain.attribution import MODELS, Journeys, attribute, explain_journey, removal_effects
from revteam.errors import InvalidInput

DAY = 86400.0


def journeys(*paths: str, conv: list[float], value: list[float] | None = None, **kw) -> Journeys:
    """``journeys("ads > email", "email", conv=[1, 0])`` — paths read like the story they tell."""
    return Journeys.from_sequences([[p.strip() for p in s.split(">")] for s in paths], conversions=conv, value=value,
                                   **kw)


def one_deal(keys: list[str], *, lead: int = -1, opportunity: int = -1, value: float = 10_000.0,
             days: list[float] | None = None, direct: list[bool] | None = None) -> Journeys:
    names = sorted(set(keys))
    return Journeys.build([0] * len(keys), [names.index(k) for k in keys], keys=names, conversions=[1], value=[value],
                          lead=[lead], opportunity=[opportunity], direct=direct,
                          time=None if days is None else np.asarray(days) * DAY)


def shares(j: Journeys, model: str, **params) -> list[float]:
    return [round(float(x), 10) for x in attribute(j, model, touches=True, **params).touch_share]


def credit(j: Journeys, model: str, measure: str = "value", **params) -> dict[str, float]:
    return {k: round(v, 9) for k, v in attribute(j, model, **params).as_dict(measure).items()}


# --- positional models ---------------------------------------------------------------------------
def test_first_last_and_linear_split_a_three_touch_deal():
    j = journeys("ads > email > ads", "email", conv=[1, 1], value=[900, 100])
    assert credit(j, "first_touch") == {"ads": 900, "email": 100}
    assert credit(j, "last_touch") == {"ads": 900, "email": 100}
    assert credit(j, "linear") == {"ads": 600, "email": 400}  # ads touched twice: 2/3 of 900
    assert credit(j, "linear", "conversions") == {"ads": round(2 / 3, 9), "email": round(1 + 1 / 3, 9)}


def test_last_non_direct_skips_direct_touches_and_falls_back_to_the_last_when_all_are_direct():
    j = one_deal(["ads", "direct", "direct"], direct=[False, True, True])
    assert shares(j, "last_non_direct") == [1, 0, 0]
    assert shares(one_deal(["direct", "direct"], direct=[True, True]), "last_non_direct") == [0, 1]
    assert shares(one_deal(["ads", "email"]), "last_non_direct") == [0, 1]  # no direct flags: the last touch


def test_time_decay_halves_the_weight_every_half_life():
    j = one_deal(["ads", "email", "demo"], days=[0, 7, 14])
    assert shares(j, "time_decay") == [round(1 / 7, 10), round(2 / 7, 10), round(4 / 7, 10)]
    assert shares(j, "time_decay", half_life_days=14) == pytest.approx([0.5 / 2.2071067811865475,
                                                                        0.7071067811865476 / 2.2071067811865475,
                                                                        1 / 2.2071067811865475])
    with pytest.raises(InvalidInput, match="needs touch times"):
        attribute(journeys("a > b", conv=[1]), "time_decay")


def test_u_shaped_is_40_20_40_with_its_one_and_two_touch_rules():
    assert shares(one_deal(["a", "b", "c", "d"]), "u_shaped") == [0.4, 0.1, 0.1, 0.4]
    assert shares(one_deal(["a", "b", "c"]), "u_shaped") == [0.4, 0.2, 0.4]
    assert shares(one_deal(["a", "b"]), "u_shaped") == [0.5, 0.5]
    assert shares(one_deal(["a"]), "u_shaped") == [1.0]


def test_w_shaped_30_30_30_and_10_for_the_rest():
    j = one_deal(["ads", "email", "webinar", "email", "demo"], lead=2, opportunity=4)
    assert shares(j, "w_shaped") == [0.3, 0.05, 0.3, 0.05, 0.3]
    assert credit(j, "w_shaped") == {"ads": 3000, "demo": 3000, "email": 1000, "webinar": 3000}


def test_w_shaped_edge_rules_coinciding_missing_and_no_rest():
    # first touch is also lead creation: it earns both roles
    assert shares(one_deal(["a", "b", "c", "d"], lead=0, opportunity=2), "w_shaped") == [0.6, 0.05, 0.3, 0.05]
    # no opportunity: its 30 % goes to the roles present (45/45), the rest keeps 10 %
    assert shares(one_deal(["a", "b", "c", "d"], lead=1), "w_shaped") == [0.45, 0.45, 0.05, 0.05]
    # no lead, no opportunity (aggregated paths): first touch 90 %, the rest 10 %
    assert shares(one_deal(["a", "b", "c"]), "w_shaped") == [0.9, 0.05, 0.05]
    # every touch holds a role: the 10 % for the rest goes to the roles
    assert shares(one_deal(["a", "b", "c"], lead=1, opportunity=2), "w_shaped") == [round(1 / 3, 10)] * 3
    assert shares(one_deal(["a", "b"], lead=0, opportunity=1), "w_shaped") == [round(2 / 3, 10), round(1 / 3, 10)]
    assert shares(one_deal(["a"], lead=0, opportunity=0), "w_shaped") == [1.0]


def test_full_path_22_5_on_four_milestones():
    j = one_deal(["ads", "email", "webinar", "email", "demo", "call"], lead=2, opportunity=4)
    assert shares(j, "full_path") == [0.225, 0.05, 0.225, 0.05, 0.225, 0.225]
    # opportunity created at the close touch: that touch holds two roles
    assert shares(one_deal(["a", "b", "c", "d"], lead=1, opportunity=3), "full_path") == [0.225, 0.225, 0.1, 0.45]
    # no lead and no opportunity: first and close share the 90 % (45 each)
    assert shares(one_deal(["a", "b", "c"]), "full_path") == [0.45, 0.1, 0.45]


def test_a_journey_without_conversion_earns_nothing_and_value_follows_conversions():
    j = journeys("a > b", "b", conv=[0, 2], value=[0, 50])
    assert credit(j, "linear") == {"a": 0, "b": 50}
    assert credit(j, "linear", "conversions") == {"a": 0, "b": 2}
    with pytest.raises(InvalidInput, match="cannot carry value"):
        journeys("a", conv=[0], value=[5])


# --- Markov ------------------------------------------------------------------------------------
def test_markov_worked_example_removal_effects_and_both_splits():
    j = journeys("a > b", "b", "a", conv=[1, 1, 0])
    fx = removal_effects(j)
    assert fx["p_conversion"] == pytest.approx(2 / 3)
    assert fx["removal_effects"] == pytest.approx([0.5, 1.0])
    assert credit(j, "markov", "conversions") == pytest.approx({"a": 2 / 3, "b": 4 / 3})
    assert credit(j, "markov", "conversions", split="journey") == pytest.approx({"a": 1 / 3, "b": 5 / 3})


def test_markov_value_removal_effects_weight_conversions_by_their_last_state():
    j = journeys("a", "b", "a > b", conv=[1, 1, 0], value=[10, 30, 0])
    fx = removal_effects(j)
    assert fx["p_conversion"] == pytest.approx(2 / 3)
    assert fx["expected_value"] == pytest.approx(40 / 3)
    assert fx["removal_effects"] == pytest.approx([0.75, 0.5])
    assert fx["removal_effects_value"] == pytest.approx([0.625, 0.75])
    assert credit(j, "markov") == pytest.approx({"a": 40 * 0.625 / 1.375, "b": 40 * 0.75 / 1.375})
    assert credit(j, "markov", "conversions") == pytest.approx({"a": 1.2, "b": 0.8})


def test_markov_higher_order_states_are_windows_and_short_journeys_are_one_state():
    j = journeys("a", "a > b", "b > b", conv=[1, 1, 0])
    fx = removal_effects(j, order=2)
    assert fx["states"] == 3  # "a", "ab", "bb"
    assert fx["p_conversion"] == pytest.approx(2 / 3)
    assert fx["removal_effects"] == pytest.approx([1.0, 0.5])
    first = removal_effects(j, order=1)
    assert first["states"] == 2
    with pytest.raises(InvalidInput, match="at least 1"):
        removal_effects(j, order=0)
    with pytest.raises(InvalidInput, match="Unknown Markov split"):
        attribute(j, "markov", split="halves")


def test_markov_with_no_conversion_gives_no_credit():
    j = journeys("a > b", "b", conv=[0, 0])
    assert credit(j, "markov") == {"a": 0, "b": 0}
    assert credit(j, "markov", split="journey") == {"a": 0, "b": 0}


# --- Shapley -----------------------------------------------------------------------------------
def test_shapley_worked_example_gives_negative_credit_to_a_key_that_lowers_conversion():
    j = journeys("a", "a > b", "b > a", conv=[1, 1, 0])
    assert credit(j, "shapley", "conversions") == {"a": 2.5, "b": -0.5}
    assert shares(j, "shapley") == [1.0, 1.5, -0.5, 0.0, 0.0]


def test_shapley_coalitions_nobody_had_are_worth_nothing():
    # {a, b} converts 1 of 2; {a} alone converts 1 of 1; {b} never seen alone (worth 0)
    j = journeys("a", "a > b", "a > b", conv=[1, 1, 0])
    # phi_a = 1/2 (1 - 0) + 1/2 (1/2 - 0) = 3/4 ; phi_b = 1/2 (0 - 0) + 1/2 (1/2 - 1) = -1/4 ; r(ab) = 1/2
    assert credit(j, "shapley", "conversions") == {"a": 1 + 1.5, "b": -0.5}


def test_shapley_sampled_sums_exactly_and_stays_within_its_error_bound():
    rng = np.random.default_rng(4)
    paths = [" > ".join(rng.choice(list("abcdef"), size=rng.integers(1, 5))) for _ in range(300)]
    conv = (rng.random(300) < 0.4).astype(float)
    j = journeys(*paths, conv=list(conv), value=list(conv * rng.integers(1, 100, 300)))
    exact = attribute(j, "shapley")
    sampled = attribute(j, "shapley", rng=np.random.default_rng(7), samples=400, exact_max_players=3)
    assert exact.details["method"] == "exact" and sampled.details["method"] == "sampled"
    assert sampled.value.sum() == pytest.approx(j.value.sum(), rel=1e-12)
    assert sampled.conversions.sum() == pytest.approx(j.conversions.sum(), rel=1e-12)
    assert (np.abs(sampled.value - exact.value) <= sampled.details["error_bound"]).all()
    assert (np.abs(sampled.conversions - exact.conversions) <= sampled.details["error_bound_conversions"]).all()
    assert (np.abs(sampled.value - exact.value) <= 5 * sampled.details["stderr"] + 1e-9).all()
    with pytest.raises(InvalidInput, match="pass rng"):
        attribute(j, "shapley", exact_max_players=3)


# --- the table, explanations, input checks --------------------------------------------------------
def test_every_model_is_in_the_table_with_a_definition_and_unknown_names_are_refused():
    assert set(MODELS) == {"first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "u_shaped",
                           "w_shaped", "full_path", "markov", "shapley"}
    assert all(m.definition and m.run.__doc__ for m in MODELS.values())
    with pytest.raises(InvalidInput, match="Unknown attribution model 'position'"):
        attribute(journeys("a", conv=[1]), "position")
    with pytest.raises(InvalidInput, match="takes no parameter order"):
        attribute(journeys("a", conv=[1]), "linear", order=2)


def test_explain_says_which_touch_got_how_much_and_why():
    j = one_deal(["ads", "email", "webinar", "email", "demo"], lead=2, opportunity=4, days=[0, 3, 5, 8, 9])
    rows = explain_journey(j, attribute(j, "w_shaped", touches=True), 0)
    assert [(r.key, r.roles, r.value) for r in rows] == [
        ("ads", ("first",), 3000), ("email", (), 500), ("webinar", ("lead",), 3000), ("email", (), 500),
        ("demo", ("opportunity", "close"), 3000)]
    assert rows[0].reason == "first touch 30.0%"
    assert rows[1].reason == "1 of 2 touches without a role, sharing 10.0%: 5.0%"
    decay = explain_journey(j, attribute(j, "time_decay", touches=True), 0)
    assert decay[4].reason.startswith("0.0 days before the last touch, weight 2^(-0.0/7) = 1.000")
    markov = explain_journey(j, attribute(j, "markov", touches=True), 0)
    assert sum(r.value for r in markov) == pytest.approx(10_000)
    assert "removal effect of 'email'" in markov[1].reason and "over its 2 touches" in markov[1].reason
    with pytest.raises(InvalidInput, match="touches=True"):
        explain_journey(j, attribute(j, "linear"), 0)


def test_build_sorts_touches_by_time_and_keeps_milestones_on_their_touches():
    j = Journeys.build([1, 0, 0, 1], [0, 1, 0, 1], keys=["ads", "email"], conversions=[1, 1], value=[10, 20],
                       time=[5.0, 2.0, 1.0, 3.0], lead=[1, 0])
    assert j.key.tolist() == [0, 1, 1, 0] and j.journey.tolist() == [0, 0, 1, 1]
    assert j.lead.tolist() == [1, 3]  # journey 0's lead touch (email at t=2) is now its second row
    with pytest.raises(InvalidInput, match="has no touch"):
        Journeys.build([0], [0], keys=["a"], conversions=[1, 1])
    with pytest.raises(InvalidInput, match="another journey"):
        Journeys.build([0, 1], [0, 0], keys=["a"], conversions=[1, 1], lead=[1, -1])


def test_aggregate_sums_identical_paths():
    j = journeys("a > b", "a > b", "b", "a > b", conv=[1, 0, 1, 1], value=[5, 0, 7, 3])
    p = j.aggregate()
    assert [p.path(i) for i in range(p.n_journeys)] == [["a", "b"], ["b"]]
    assert p.conversions.tolist() == [2, 1] and p.value.tolist() == [8, 7] and p.nulls.tolist() == [1, 0]
    for model in ("first_touch", "linear", "markov", "shapley"):
        assert credit(p, model) == pytest.approx(credit(j, model))
