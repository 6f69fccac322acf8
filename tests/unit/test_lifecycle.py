from datetime import datetime, timezone

import pytest

from revteam.domain.lifecycle import DEFAULT_STAGES, StageSet, derive_account_stage, plan_stage_move
from revteam.errors import InvalidInput, InvalidStageMove

AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
S = DEFAULT_STAGES


def test_forward_moves_are_free_and_may_skip_stages():
    move = plan_stage_move(S, "lead", "sql", at=AT, actor_rule="import")
    assert (move.from_stage, move.to_stage, move.kind, move.reason) == ("lead", "sql", "forward", None)


def test_a_new_contact_enters_at_any_stage():
    assert plan_stage_move(S, None, "mql", at=AT, actor_rule="import:olist").kind == "entry"


@pytest.mark.parametrize("target", ["lead", "recycled", "disqualified"])
def test_backward_and_side_moves_need_a_reason(target):
    with pytest.raises(InvalidStageMove) as e:
        plan_stage_move(S, "sql", target, at=AT, actor_user_id=3)
    assert e.value.code == "stage_reason_required"
    move = plan_stage_move(S, "sql", target, at=AT, actor_user_id=3, reason="not ready until Q3")
    assert move.reason == "not ready until Q3"


def test_blank_reason_counts_as_no_reason():
    with pytest.raises(InvalidStageMove):
        plan_stage_move(S, "sql", "lead", at=AT, actor_user_id=3, reason="   ")


def test_leaving_a_side_state_is_free():
    assert plan_stage_move(S, "recycled", "mql", at=AT, actor_rule="scoring").kind == "reentry"


def test_every_move_names_exactly_one_actor():
    with pytest.raises(InvalidStageMove, match="exactly one"):
        plan_stage_move(S, "lead", "mql", at=AT)
    with pytest.raises(InvalidStageMove, match="exactly one"):
        plan_stage_move(S, "lead", "mql", at=AT, actor_user_id=1, actor_rule="x")


def test_unknown_stage_and_same_stage_and_naive_time_are_refused():
    with pytest.raises(InvalidStageMove, match="Unknown lifecycle stage 'prospect'"):
        plan_stage_move(S, "lead", "prospect", at=AT, actor_rule="x")
    with pytest.raises(InvalidStageMove, match="already at stage"):
        plan_stage_move(S, "lead", "lead", at=AT, actor_rule="x")
    with pytest.raises(InvalidInput, match="timezone-aware"):
        plan_stage_move(S, "lead", "mql", at=AT.replace(tzinfo=None), actor_rule="x")


def test_a_custom_lifecycle_is_validated():
    custom = StageSet(("visitor", "lead", "customer"), ("lost",))
    assert plan_stage_move(custom, "visitor", "customer", at=AT, actor_rule="x").kind == "forward"
    with pytest.raises(InvalidInput):
        StageSet(("lead", "lead"))
    with pytest.raises(InvalidInput):
        StageSet(("Lead", "MQL"))


@pytest.mark.parametrize(
    "contacts,open_deals,won,expected",
    [
        ([], 0, 0, None),
        (["lead", "mql"], 0, 0, "mql"),
        (["lead"], 1, 0, "opportunity"),
        (["sql"], 2, 1, "customer"),
        (["advocate", "lead"], 0, 1, "advocate"),
        (["recycled"], 0, 0, None),
        (["customer"], 1, 0, "customer"),
    ],
)
def test_account_stage_is_derived_from_contacts_and_deals(contacts, open_deals, won, expected):
    assert derive_account_stage(S, contacts, open_deals=open_deals, won_deals=won) == expected
