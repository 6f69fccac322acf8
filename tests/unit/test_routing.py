"""Routing strategies, eligibility and fairness over 10,000 leads."""

from collections import Counter
from datetime import datetime, time, timedelta, timezone

import pytest

from revteam.domain.business_hours import BusinessCalendar
from revteam.domain.routing import (
    Lead,
    Rep,
    RoutingRule,
    RoutingState,
    check_rules,
    route_lead,
    route_many,
    rules_from_dicts,
)
from revteam.errors import InvalidInput

MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
ANA = Rep(1, "Ana", weight=2)
BEN = Rep(2, "Ben")
CHO = Rep(3, "Cho", role="ae")
REPS = {r.id: r for r in (ANA, BEN, CHO)}
RR = RoutingRule("round_robin", "SDR pool", pool=(1, 2))


def test_worked_example_smooth_weighted_round_robin():
    leads = [(Lead(i), MON_10) for i in range(6)]
    out, _ = route_many([RR], REPS, leads, RoutingState())
    assert [a.rep_id for a in out] == [1, 2, 1, 1, 2, 1]


def test_the_given_state_is_never_mutated():
    state = RoutingState()
    route_lead([RR], REPS, Lead(1), state, at=MON_10)
    assert state.credits == {} and state.assigned == {}


def test_account_owner_first_then_fall_through_when_absent():
    rules = [RoutingRule("account_owner", "account owner"), RR]
    a, _ = route_lead(rules, REPS, Lead(7, account_owner_id=3), RoutingState(), at=MON_10)
    assert a.rep_id == 3 and "owns the account" in a.reason
    away = {**REPS, 3: Rep(3, "Cho", absences=((MON_10 - timedelta(days=1), MON_10 + timedelta(days=3)),))}
    a, _ = route_lead(rules, away, Lead(7, account_owner_id=3), RoutingState(), at=MON_10)
    assert a.rep_id == 1 and a.skipped == ("Cho: absent",)


def test_territory_rules_match_region_and_segment():
    rules = [RoutingRule("territory", "EMEA enterprise", {"region": ("EMEA",), "segment": ("enterprise",)}, (3,)), RR]
    a, _ = route_lead(rules, REPS, Lead(1, region="emea", segment="Enterprise"), RoutingState(), at=MON_10)
    assert (a.rep_id, a.rule) == (3, "EMEA enterprise")
    a, _ = route_lead(rules, REPS, Lead(2, region="NA", segment="enterprise"), RoutingState(), at=MON_10)
    assert a.rule == "SDR pool"


def test_capacity_caps_per_rep_per_local_day():
    capped = {1: Rep(1, "Ana", daily_capacity=2), 2: Rep(2, "Ben", daily_capacity=1)}
    out, state = route_many([RR], capped, [(Lead(i), MON_10) for i in range(4)], RoutingState())
    assert [a.rep_id for a in out] == [1, 2, 1, None]
    assert "at daily capacity (2)" in " ".join(out[3].skipped)
    out, _ = route_many([RR], capped, [(Lead(9), MON_10 + timedelta(days=1))], state)
    assert out[0].rep_id is not None  # a new day


def test_working_hours_in_the_reps_own_time_zone():
    tokyo = BusinessCalendar(tz="Asia/Tokyo", opens=time(9), closes=time(18))
    reps = {1: Rep(1, "Aiko", calendar=tokyo), 2: Rep(2, "Ben", calendar=BusinessCalendar(tz="Europe/London"))}
    # 10:00 UTC Monday = 19:00 Tokyo (closed), 10:00 London (open)
    a, _ = route_lead([RR], reps, Lead(1), RoutingState(), at=MON_10)
    assert a.rep_id == 2 and a.skipped == ("Aiko: outside working hours",)


def test_inactive_reps_are_skipped_and_nobody_left_means_unassigned_with_a_reason():
    reps = {1: Rep(1, "Ana", active=False), 2: Rep(2, "Ben", active=False)}
    a, _ = route_lead([RR], reps, Lead(1), RoutingState(), at=MON_10)
    assert a.rep_id is None and a.reason == "unassigned: every matching rep was unavailable"
    a, _ = route_lead([RoutingRule("territory", "EMEA", {"region": ("EMEA",)}, (1,))], REPS, Lead(1, region="NA"),
                      RoutingState(), at=MON_10)
    assert a.reason == "unassigned: no routing rule matched the lead"


def test_least_loaded_balances_by_weight():
    rule = RoutingRule("least_loaded", "pool", pool=(1, 2))
    out, _ = route_many([rule], REPS, [(Lead(i), MON_10) for i in range(9)], RoutingState())
    assert Counter(a.rep_id for a in out) == {1: 6, 2: 3}


@pytest.mark.parametrize("weights", [(1, 1, 1), (3, 2, 1), (5, 1, 1, 1), (1.5, 1, 0.5)])
def test_weighted_round_robin_is_fair_over_10000_leads(weights):
    reps = {i + 1: Rep(i + 1, f"rep{i + 1}", weight=w) for i, w in enumerate(weights)}
    rule = RoutingRule("round_robin", "pool", pool=tuple(reps))
    out, _ = route_many([rule], reps, [(Lead(i), MON_10) for i in range(10_000)], RoutingState())
    got = Counter(a.rep_id for a in out)
    total = sum(weights)
    for rid, rep in reps.items():
        assert abs(got[rid] - 10_000 * rep.weight / total) <= 1, (rid, got)
    # no bursts: in every window of `len` consecutive leads with equal weights, each rep appears once
    if len(set(weights)) == 1:
        seq = [a.rep_id for a in out]
        assert all(len(set(seq[i:i + len(weights)])) == len(weights) for i in range(0, 9_000, len(weights)))


def test_fairness_survives_absences():
    reps = {1: Rep(1, "Ana"), 2: Rep(2, "Ben", absences=((MON_10, MON_10 + timedelta(hours=1)),)), 3: Rep(3, "Cho")}
    rule = RoutingRule("round_robin", "pool", pool=(1, 2, 3))
    leads = [(Lead(i), MON_10 + timedelta(minutes=i)) for i in range(600)]  # Ben away for the first 60
    out, _ = route_many([rule], reps, leads, RoutingState())
    got = Counter(a.rep_id for a in out)
    assert got[2] == pytest.approx(540 / 3, abs=2) and got[1] == got[3] == pytest.approx(60 / 2 + 540 / 3, abs=2)


def test_routing_is_deterministic():
    leads = [(Lead(i, region="EMEA" if i % 3 else "NA"), MON_10 + timedelta(minutes=i)) for i in range(500)]
    rules = [RoutingRule("territory", "EMEA", {"region": ("EMEA",)}, (1, 2)), RoutingRule("round_robin", "rest", pool=(2, 3))]
    a1, _ = route_many(rules, REPS, leads, RoutingState())
    a2, _ = route_many(rules, REPS, leads, RoutingState())
    assert a1 == a2


def test_bad_rules_are_refused():
    with pytest.raises(InvalidInput, match="unknown strategy"):
        check_rules([RoutingRule("coin_flip", pool=(1,))], REPS)
    with pytest.raises(InvalidInput, match="needs a pool"):
        check_rules([RoutingRule("round_robin")], REPS)
    with pytest.raises(InvalidInput, match="unknown rep"):
        check_rules([RoutingRule("round_robin", pool=(99,))], REPS)
    with pytest.raises(InvalidInput, match="cannot match on"):
        check_rules(rules_from_dicts([{"strategy": "territory", "pool": [1], "match": {"shoe": "42"}}]), REPS)
