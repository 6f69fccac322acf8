"""Funnel definitions on hand-computed cases, on every engine; each validation rule on its own."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from revteam.analytics.errors import AnalyticsSpecError
from revteam.analytics.funnel import FunnelSpec, validate
from revteam.analytics.runner import Analytics
from revteam.domain.lifecycle import MAIN_STAGES
from revteam.services.record.lifecycle import seed_default_stages
from revteam.store.db import make_engine, make_session_factory
from revteam.store.models import Base, StageChange
from tests.factories import make_account, make_contact


def at(m, d):
    return datetime(2026, m, d, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def small(tmp_path_factory, engine_name):
    """Ana: lead 5 Jan → sql 10 Jan → customer 1 Feb.  Ben: lead 6 Jan → mql 8 Jan → recycled 20 Jan.
    Cleo: mql 3 Feb.  Ana's account is enterprise, the others SMB."""
    url = f"sqlite:///{tmp_path_factory.mktemp('small') / 'small.db'}"
    eng = make_engine(url)
    Base.metadata.create_all(eng)
    with make_session_factory(eng)() as s:
        seed_default_stages(s)
        ent = make_account(s, segment="enterprise")
        smb = make_account(s, segment="smb")
        history = {
            make_contact(s, first_name="Ana", account_id=ent.id, original_source="webinar").id: [("lead", at(1, 5)), ("sql", at(1, 10)), ("customer", at(2, 1))],
            make_contact(s, first_name="Ben", account_id=smb.id, original_source="ads").id: [("lead", at(1, 6)), ("mql", at(1, 8)), ("recycled", at(1, 20))],
            make_contact(s, first_name="Cleo", account_id=smb.id, original_source="ads").id: [("mql", at(2, 3))],
        }
        for cid, moves in history.items():
            prev = None
            for stage, when in moves:
                s.add(StageChange(contact_id=cid, from_stage=prev, to_stage=stage, changed_at=when, actor_rule="test"))
                prev = stage
        s.commit()
    a = Analytics(eng, engine_name)
    yield a
    a.close()


def conv(result, a, b, group="all"):
    return next((r["entered"], r["converted"]) for r in result.rows("conversion")
                if (r["group"], r["from_stage"], r["to_stage"]) == (group, a, b))


def test_cohort_conversion_counts_stages_passed_on_the_way(small):
    r = small.funnel(FunnelSpec(start=date(2026, 1, 1), end=date(2026, 2, 1)))
    assert conv(r, "lead", "mql") == (2, 2)  # Ana went straight to SQL: she passed MQL on the way
    assert conv(r, "mql", "sal") == (2, 1)  # Ben was recycled: a side state is not progress
    assert conv(r, "lead", "customer") == (2, 1)
    assert conv(r, "sql", "advocate") == (1, 0)  # pairs nobody converted on are listed with 0


def test_conversion_window(small):
    r = small.funnel(FunnelSpec(stages=("lead", "customer"), start=date(2026, 1, 1), end=date(2026, 2, 1), window_days=7))
    assert conv(r, "lead", "customer") == (2, 0)  # Ana took 27 days


def test_period_conversion_counts_flow_not_cohorts(small):
    r = small.funnel(FunnelSpec(stages=("mql", "customer"), start=date(2026, 2, 1), end=date(2026, 3, 1), mode="period"))
    assert conv(r, "mql", "customer") == (1, 1)  # Cleo reached MQL in February, Ana became a customer in February


def test_velocity_median_and_breakdown(small):
    r = small.funnel(FunnelSpec(stages=("lead", "mql"), start=date(2026, 1, 1), end=date(2026, 2, 1)))
    [v] = r.rows("velocity")
    assert (v["contacts"], v["median_days"]) == (2, 3.5)  # Ana 5 days, Ben 2 days
    seg = small.funnel(FunnelSpec(stages=("lead", "customer"), breakdown="segment"))
    assert conv(seg, "lead", "customer", "enterprise") == (1, 1)
    assert conv(seg, "lead", "customer", "smb") == (2, 0)  # Ben, and Cleo who passed lead on her way to MQL


def test_without_a_period_each_contact_counts_once_for_every_stage_reached(small):
    r = small.funnel(FunnelSpec())
    entered = {row["stage"]: row["contacts"] for row in r.rows("entered")}
    assert entered == {"subscriber": 3, "lead": 3, "mql": 3, "sal": 1, "sql": 1, "opportunity": 1, "customer": 1}
    assert conv(r, "lead", "sal") == (3, 1)
    assert conv(r, "customer", "advocate") == (1, 0)


def test_month_breakdown_groups_by_the_month_each_stage_was_reached(small):
    r = small.funnel(FunnelSpec(stages=("lead", "mql", "customer"), breakdown="month"))
    assert conv(r, "lead", "mql", "2026-01-01") == (2, 2)  # Ana and Ben reached lead in January
    assert conv(r, "lead", "mql", "2026-02-01") == (1, 1)  # Cleo passed lead in February, on her way to MQL
    assert conv(r, "mql", "customer", "2026-01-01") == (2, 1)  # Ana's MQL (via SQL, 10 Jan) and Ben's
    entered = {(row["group"], row["stage"]): row["contacts"] for row in r.rows("entered")}
    assert entered[("2026-02-01", "customer")] == 1  # Ana became a customer in February
    assert ("2026-01-01", "customer") not in entered


def test_velocity_counts_the_converted_contacts_of_each_requested_step(small):
    r = small.funnel(FunnelSpec(stages=("lead", "mql", "customer")))
    vel = {(v["from_stage"], v["to_stage"]): v for v in r.rows("velocity")}
    assert set(vel) == {("lead", "mql"), ("mql", "customer"), ("lead", "customer")}
    assert (vel["lead", "customer"]["contacts"], vel["lead", "customer"]["median_days"]) == (1, 27.0)
    assert vel["lead", "mql"]["contacts"] == conv(r, "lead", "mql")[1] == 3
    assert vel["lead", "mql"]["p90_days"] == pytest.approx(4.4)  # Ana 5, Ben 2, Cleo 0 days: p90 of (0, 2, 5)


@pytest.mark.parametrize("spec,code", [
    (FunnelSpec(stages=("mql", "prospect")), "funnel_unknown_stage"),
    (FunnelSpec(stages=("mql",)), "funnel_needs_two_steps"),
    (FunnelSpec(stages=("sql", "mql")), "funnel_stage_order"),
    (FunnelSpec(mode="rolling"), "funnel_bad_mode"),
    (FunnelSpec(breakdown="shoe_size"), "funnel_bad_breakdown"),
    (FunnelSpec(start=date(2026, 2, 1), end=date(2026, 1, 1)), "funnel_bad_period"),
    (FunnelSpec(window_days=0), "funnel_bad_window"),
])
def test_each_validation_rule_has_a_code(spec, code):
    with pytest.raises(AnalyticsSpecError) as e:
        validate(spec, MAIN_STAGES)
    assert e.value.code == code


def test_the_kept_progress_follows_the_data(tmp_path, engine_name):
    """The runner keeps each stage list's progress until the data change: a new move shows at once."""
    eng = make_engine(f"sqlite:///{tmp_path / 'moves.db'}")
    Base.metadata.create_all(eng)
    with make_session_factory(eng)() as s:
        seed_default_stages(s)
        ana = make_contact(s, first_name="Ana")
        s.add(StageChange(contact_id=ana.id, to_stage="lead", changed_at=at(1, 5), actor_rule="test"))
        s.commit()
        a = Analytics(eng, engine_name)
        try:
            assert conv(a.funnel(FunnelSpec(stages=("lead", "mql"))), "lead", "mql") == (1, 0)
            assert conv(a.funnel(FunnelSpec(stages=("lead", "mql"), breakdown="month")), "lead", "mql", "2026-01-01") == (1, 0)
            s.add(StageChange(contact_id=ana.id, from_stage="lead", to_stage="mql", changed_at=at(1, 9), actor_rule="test"))
            s.commit()
            assert conv(a.funnel(FunnelSpec(stages=("lead", "mql"))), "lead", "mql") == (1, 1)
            assert conv(a.funnel(FunnelSpec(stages=("lead", "mql"), breakdown="month")), "lead", "mql", "2026-01-01") == (1, 1)
        finally:
            a.close()
