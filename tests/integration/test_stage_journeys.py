"""Stage-conversion journeys (``analytics/stage_journeys.py``): the column-wise build equals the definition
written as a plain loop (``reference``, below) on a seeded random company, read from the database and from
the analytics snapshot alike, on SQLite and PostgreSQL; bad questions get clear messages."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from revteam.analytics.snapshot import take_snapshot
from revteam.errors import InvalidInput
from revteam.analytics.attribution import (LEAD_STAGES, JourneySet, _Builder, _day_end, _first_moves, _touches_of,
                                          credit_rows)
from revteam.services.record.lifecycle import load_stages
from revteam.domain.lifecycle import MAIN_STAGES
from revteam.analytics.stage_journeys import (build_stage_journeys, check_stage, day_bounds, stage_data_from_tables,
                                             stage_journeys, stage_period)
from revteam.store.models import Deal, DealContact, StageChange, Touchpoint
from tests.factories import make_account, make_campaign, make_contact, make_content, make_deal, make_touch
from tests.integration.test_attribution_cache import same_journeys

WINDOW = timedelta(days=365)
MAIN = MAIN_STAGES


def reference(session: Session, stage: str, grain: str, start: datetime, end: datetime) -> JourneySet:
    """The definition, one contact at a time (docs/attribution.md, "Conversions of any stage")."""
    beyond = MAIN[MAIN.index(stage):]  # reaching a stage: entering it or any later main stage
    reached = _first_moves(session, set(session.scalars(select(StageChange.contact_id)
                                                        .where(StageChange.to_stage.in_(beyond))).all()), beyond)
    touched = set(session.scalars(select(Touchpoint.contact_id).distinct()
                                  .where(Touchpoint.occurred_at >= start - WINDOW, Touchpoint.occurred_at < end)).all())
    converting = {c: at for c, at in reached.items() if start <= at < end}
    candidates = set(converting) | {c for c in touched if c not in reached or reached[c] >= end}
    touches = _touches_of(session, candidates, start - WINDOW, end)
    lead_at = _first_moves(session, candidates, LEAD_STAGES)
    opened: dict[int, date] = {}
    for cid, created in session.execute(select(DealContact.contact_id, Deal.created_on)
                                        .join(Deal, Deal.id == DealContact.deal_id)):
        if cid in candidates and (cid not in opened or created < opened[cid]):
            opened[cid] = created
    builder = _Builder(grain, ("direct",))
    for cid in sorted(candidates):
        at = converting.get(cid, end)
        mine = [t for t in touches.get(cid, ()) if at - WINDOW <= t.occurred_at <= at]
        if not mine:
            continue
        opp = _day_end(opened[cid]) if cid in opened and _day_end(opened[cid]) <= at + timedelta(days=1) else None
        lead = lead_at.get(cid)
        builder.add(mine, cid in converting, 1.0, {"kind": "contact", "id": cid, "reached": converting.get(cid)},
                    lead if lead is not None and lead <= at else None, opp)
    return builder.build(session, [])


def random_company(session: Session, seed: int = 7) -> None:
    """80 contacts over two years: touches on five channels (some direct, some with no channel), three
    campaigns and four pieces; forward stage moves (some on the minute of a touch, some skipping MQL or
    SAL), recycles, deals."""
    rng = random.Random(seed)
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    campaigns = [make_campaign(session, name=f"Campaign {i}") for i in range(3)]
    pieces = [make_content(session, title=f"Piece {i}") for i in range(4)]
    account = make_account(session)
    main = ("lead", "mql", "sal", "sql", "opportunity", "customer")
    for n in range(80):
        c = make_contact(session, account_id=account.id, email=f"c{n}@example.com")
        times = sorted(t0 + timedelta(minutes=rng.randrange(0, 60 * 24 * 700)) for _ in range(rng.randrange(0, 9)))
        for k, at in enumerate(times):
            make_touch(session, c, at=at if k % 4 else at.replace(second=0, microsecond=rng.randrange(0, 999999)),
                       channel=rng.choice(["email", "paid_search", "direct", "webinar", None]),
                       campaign_id=rng.choice([None, *[x.id for x in campaigns]]),
                       content_id=rng.choice([None, None, *[x.id for x in pieces]]))
        when = t0 + timedelta(days=rng.randrange(0, 600), hours=rng.randrange(0, 24))
        if times and rng.random() < 0.3:
            when = rng.choice(times)  # a move on the very touch: the touch is in the journey (at or before)
        for stage in main[:rng.randrange(0, len(main) + 1)]:
            if stage in ("mql", "sal") and rng.random() < 0.25:
                continue  # qualified straight past it: reaching a later stage reaches this one too
            session.add(StageChange(contact_id=c.id, to_stage=stage, changed_at=when, actor_rule="t"))
            when += timedelta(days=rng.randrange(0, 40), hours=rng.randrange(0, 24))
        if rng.random() < 0.2:
            session.add(StageChange(contact_id=c.id, to_stage="recycled", changed_at=when, actor_rule="t", reason="r"))
        if rng.random() < 0.3:
            made = (t0 + timedelta(days=rng.randrange(0, 650))).date()
            make_deal(session, account, contacts=[c], created_on=made, name=f"Deal {n}")
    session.commit()


PERIODS = [(date(2025, 1, 1), date(2026, 12, 31)), (date(2025, 6, 1), date(2025, 8, 31)),
           (date(2026, 2, 1), date(2026, 2, 1)), (date(2024, 1, 1), date(2024, 12, 31))]


@pytest.mark.parametrize("grain", ["channel", "campaign", "content"])
def test_the_column_build_equals_the_definition(engine: Engine, grain: str) -> None:
    with Session(engine) as s:
        random_company(s)
        snapshot = stage_data_from_tables(take_snapshot(engine).tables)
        seen = 0
        for stage in ("lead", "mql", "opportunity", "customer"):
            for first, last in PERIODS:
                start, end = day_bounds(first, last)
                want = reference(s, stage, grain, start, end)
                got = stage_journeys(s, stage, grain=grain, start=start, end=end)
                same_journeys_but_unattributed(got, want)
                cut = build_stage_journeys(snapshot, stage, reached_by=MAIN[MAIN.index(stage):], grain=grain,
                                           start=start, end=end,
                                           labels=lambda keys: got.labels)
                same_journeys(cut, got)
                seen += int(want.journeys.converted.sum())
                for model in ("w_shaped", "time_decay", "markov"):
                    assert credit_rows(got, model) == credit_rows(want, model)
        assert seen > 20  # the random company converts now and then


def same_journeys_but_unattributed(a: JourneySet, b: JourneySet) -> None:
    same_journeys(JourneySet(a.journeys, a.grain, a.labels, a.subjects, a.touch_ids, []), b)
    converting = {s["id"] for s in a.subjects if s["reached"] is not None}
    assert not converting & {u["id"] for u in a.unattributed}


def test_a_conversion_with_no_touch_is_listed_not_credited(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as s:
        ana = make_contact(s, first_name="Ana")
        dan = make_contact(s, first_name="Dan")
        make_touch(s, ana, at=datetime(2026, 1, 5, 9, tzinfo=timezone.utc), channel="email")
        for who, day in ((ana, 10), (dan, 12)):
            s.add(StageChange(contact_id=who.id, to_stage="mql", changed_at=datetime(2026, 1, day, tzinfo=timezone.utc),
                              actor_rule="t"))
        s.commit()
        js = stage_journeys(s, "mql", start=datetime(2026, 1, 1, tzinfo=timezone.utc),
                            end=datetime(2026, 2, 1, tzinfo=timezone.utc))
        assert js.journeys.converted.tolist() == [True]
        assert [(u["id"], u["reason"]) for u in js.unattributed] == [
            (dan.id, "no touch in the 365 days before reaching mql on 2026-01-12")]
        assert credit_rows(js, "linear") == [{"key": "email", "label": "email", "credit": 1.0}]


def test_a_contact_qualified_straight_past_the_stage_has_reached_it(sqlite_engine: Engine) -> None:
    """As the funnel counts: Ben went from lead to SQL, so he reached MQL then, and is not a failed path."""
    with Session(sqlite_engine) as s:
        ben = make_contact(s, first_name="Ben")
        make_touch(s, ben, at=datetime(2026, 1, 5, 9, tzinfo=timezone.utc), channel="webinar")
        for stage, day in (("lead", 6), ("sql", 20)):
            s.add(StageChange(contact_id=ben.id, to_stage=stage, changed_at=datetime(2026, 1, day, tzinfo=timezone.utc),
                              actor_rule="t"))
        s.commit()
        js = stage_journeys(s, "mql", start=datetime(2026, 1, 1, tzinfo=timezone.utc),
                            end=datetime(2026, 2, 1, tzinfo=timezone.utc))
        assert js.journeys.converted.tolist() == [True]
        assert js.subjects[0]["reached"] == datetime(2026, 1, 20, tzinfo=timezone.utc)
        assert credit_rows(js, "first_touch") == [{"key": "webinar", "label": "webinar", "credit": 1.0}]


def test_side_states_unknown_stages_and_backward_periods_are_refused(sqlite_engine: Engine) -> None:
    jan, feb = datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 2, 1, tzinfo=timezone.utc)
    with Session(sqlite_engine) as s:
        stages = load_stages(s)
        with pytest.raises(InvalidInput, match="'recycled' is a side state"):
            stage_journeys(s, "recycled", start=jan, end=feb)
        with pytest.raises(InvalidInput, match="Unknown stage 'won'; credit conversions to one of: subscriber, lead"):
            stage_journeys(s, "won", start=jan, end=feb)
        with pytest.raises(InvalidInput, match="The period must end after it starts"):
            stage_journeys(s, "mql", start=feb, end=jan)
        with pytest.raises(InvalidInput, match="Unknown grain"):
            stage_journeys(s, "mql", grain="persona", start=jan, end=feb)
    check_stage(stages, "customer")


def test_the_default_period_is_the_90_days_up_to_today() -> None:
    today = date(2026, 3, 16)
    assert stage_period(None, None, today) == (date(2025, 12, 17), today)
    assert stage_period(date(2026, 1, 1), None, today) == (date(2026, 1, 1), today)
    assert stage_period(None, date(2026, 1, 31), today) == (date(2025, 11, 3), date(2026, 1, 31))
    assert stage_period(date(2026, 1, 1), date(2026, 1, 1), today) == (date(2026, 1, 1), date(2026, 1, 1))
    with pytest.raises(InvalidInput, match=r"The period ends \(2026-01-01\) before it starts \(2026-02-01\)"):
        stage_period(date(2026, 2, 1), date(2026, 1, 1), today)
    assert day_bounds(date(2026, 1, 1), date(2026, 1, 31)) == (datetime(2026, 1, 1, tzinfo=timezone.utc),
                                                              datetime(2026, 2, 1, tzinfo=timezone.utc))


def test_an_empty_database_has_no_journeys(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as s:
        js = stage_journeys(s, "sql", grain="content", start=datetime(2026, 1, 1, tzinfo=timezone.utc),
                            end=datetime(2026, 2, 1, tzinfo=timezone.utc))
        assert js.journeys.n_journeys == 0 and js.unattributed == [] and credit_rows(js, "markov") == []
        empty = stage_data_from_tables(take_snapshot(sqlite_engine).tables)
        assert len(empty.contact) == 0 and len(empty.opened_contact) == 0


def test_channel_none_and_direct(sqlite_engine: Engine) -> None:
    """A touch with no channel is keyed ``(none)``; direct touches are flagged for last non-direct."""
    with Session(sqlite_engine) as s:
        ana = make_contact(s)
        make_touch(s, ana, at=datetime(2026, 1, 2, tzinfo=timezone.utc), channel="email")
        make_touch(s, ana, at=datetime(2026, 1, 3, tzinfo=timezone.utc), channel=None)
        make_touch(s, ana, at=datetime(2026, 1, 4, tzinfo=timezone.utc), channel="direct")
        s.add(StageChange(contact_id=ana.id, to_stage="sql", changed_at=datetime(2026, 1, 4, tzinfo=timezone.utc),
                          actor_rule="t"))
        s.commit()
        js = stage_journeys(s, "sql", start=datetime(2026, 1, 1, tzinfo=timezone.utc),
                            end=datetime(2026, 2, 1, tzinfo=timezone.utc))
        assert js.journeys.path(0) == ["email", "(none)", "direct"]  # the move at the touch's time: in
        assert np.asarray(js.journeys.direct).tolist() == [False, False, True]
        assert {r["key"]: r["credit"] for r in credit_rows(js, "last_non_direct")} == {"(none)": 1.0, "email": 0.0,
                                                                                       "direct": 0.0}
