"""The attribution cache: journeys cut from one set per grain equal journeys built for the period, answers
are kept until the data changes, and the LRU stays within its bound."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker

from revteam.analytics.snapshot import fingerprint
from revteam.domain.attribution import MODELS
from revteam.analytics import attribution as A
from revteam.analytics.attribution_cache import AttributionCache
from revteam.store.models import Deal
from tests.integration.test_attribution_service import acme  # noqa: F401  (the worked-example fixture)

WINDOWS = [(None, None), (date(2026, 3, 1), None), (None, date(2026, 3, 5)), (date(2026, 3, 3), date(2026, 3, 10)),
           (date(2026, 4, 1), date(2026, 4, 30))]


class CountingSessions:
    """A session factory that counts the sessions it opened (each is one journey build from the database)."""

    def __init__(self, engine: Any) -> None:
        self.factory = sessionmaker(bind=engine, expire_on_commit=False)
        self.opened = 0

    def __call__(self) -> Session:
        self.opened += 1
        return self.factory()


def same_journeys(a: A.JourneySet, b: A.JourneySet) -> None:
    ja, jb = a.journeys, b.journeys
    assert ja.keys == jb.keys
    for name in ("journey", "key", "conversions", "value", "nulls", "time", "direct", "lead", "opportunity"):
        np.testing.assert_array_equal(getattr(ja, name), getattr(jb, name), err_msg=name)
    assert a.subjects == b.subjects and a.touch_ids == b.touch_ids and a.unattributed == b.unattributed
    assert a.labels == b.labels


@pytest.mark.parametrize("grain", A.GRAINS)
def test_a_period_cut_from_all_deals_equals_building_it(acme: Session, grain: str) -> None:  # noqa: F811
    base = A.revenue_journeys(acme, grain=grain)
    for start, end in WINDOWS:
        built = A.revenue_journeys(acme, grain=grain, start=start, end=end)
        cut = A.restrict(base, start, end)
        same_journeys(cut, built)
        for model in MODELS:
            assert A.credit_rows(cut, model, **A.model_params(model)) == \
                A.credit_rows(built, model, **A.model_params(model)), (start, end, model)


def test_answers_are_kept_until_the_data_changes(acme: Session) -> None:  # noqa: F811
    engine = acme.get_bind()
    sessions = CountingSessions(engine)
    cache = AttributionCache(sessions, lambda: fingerprint(engine))  # type: ignore[arg-type]
    first = cache.journeys("channel")
    assert cache.journeys("channel") is first and cache.journeys("channel", date(2026, 3, 1)) is not first
    credits = cache.credits("channel")
    assert set(credits) == set(MODELS) and credits["w_shaped"]["paid_search"] == pytest.approx(7200)
    assert cache.credits("channel", models=("linear",))["linear"] is credits["linear"]
    assert sessions.opened == 1  # one build of the channel journeys served every question

    globex = acme.query(Deal).filter_by(name="Globex pilot").one()  # the lost deal is won after all
    globex.outcome, globex.stage = "won", "won"
    acme.commit()
    after = cache.credits("channel", models=("linear",))["linear"]
    assert sessions.opened == 2
    assert sum(after.values()) == pytest.approx(24000 + 9000)


def test_the_lru_keeps_at_most_max_entries(acme: Session) -> None:  # noqa: F811
    engine = acme.get_bind()
    cache = AttributionCache(sessionmaker(bind=engine), lambda: fingerprint(engine), max_entries=2)
    oldest = cache.journeys("channel", date(2026, 1, 1))
    cache.journeys("channel", date(2026, 2, 1))
    cache.journeys("channel", date(2026, 3, 1))
    assert cache.journeys("channel", date(2026, 1, 1)) is not oldest  # evicted, cut again


def test_answers_outnumber_cut_sets(acme: Session) -> None:  # noqa: F811
    """Every model for each of several periods (the content page's months) stays kept: answers are small."""
    from revteam.analytics.attribution_cache import ANSWERS_PER_SET

    engine = acme.get_bind()
    cache = AttributionCache(sessionmaker(bind=engine), lambda: fingerprint(engine), max_entries=2)
    periods = [(date(2026, m, 1), date(2026, m, 28)) for m in (1, 2, 3)]
    first = [cache.credits("content", *p) for p in periods]  # 3 periods x 10 models: more than 2 sets' worth
    assert 3 * len(MODELS) <= 2 * ANSWERS_PER_SET
    again = [cache.credits("content", *p) for p in periods]
    assert all(a[m] is b[m] for a, b in zip(first, again) for m in MODELS)


def test_explain_deal_through_the_cache_equals_the_service(acme: Session) -> None:  # noqa: F811
    engine = acme.get_bind()
    cache = AttributionCache(sessionmaker(bind=engine), lambda: fingerprint(engine))
    deal_id = acme.query(Deal.id).filter_by(name="Acme platform").scalar()
    for model in ("w_shaped", "markov", "shapley"):
        assert cache.explain_deal(acme, deal_id, model=model) == \
            A.explain_deal(acme, deal_id, model=model, **A.model_params(model))
    unattributed = acme.query(Deal.id).filter_by(name="Initech renewal").scalar()
    assert "no touch" in cache.explain_deal(acme, unattributed, model="linear")["unattributed"]
    with pytest.raises(A.InvalidInput, match="Unknown model"):
        cache.credits("channel", models=("coin_flip",))
    with pytest.raises(A.InvalidInput, match="Unknown grain"):
        cache.journeys("persona")


def test_stage_journeys_through_the_cache_equal_the_service(acme: Session) -> None:  # noqa: F811
    from revteam.analytics.snapshot import SnapshotCache
    from revteam.analytics.stage_journeys import day_bounds, stage_journeys
    from revteam.store.models import StageChange

    engine = acme.get_bind()
    snapshots = SnapshotCache()
    from_db = AttributionCache(CountingSessions(engine), lambda: fingerprint(engine))  # type: ignore[arg-type]
    from_snapshot = AttributionCache(sessionmaker(bind=engine), lambda: fingerprint(engine),
                                     tables=lambda: snapshots.get(engine).tables)
    jan, mar = date(2026, 1, 1), date(2026, 3, 31)
    for grain in A.GRAINS:
        built = stage_journeys(acme, "mql", grain=grain, start=day_bounds(jan, mar)[0], end=day_bounds(jan, mar)[1])
        for cache in (from_db, from_snapshot):
            same_journeys(cache.journeys(grain, jan, mar, stage="mql"), built)
    assert from_db.journeys("channel", jan, mar, stage="mql") is from_db.journeys("channel", jan, mar, stage="mql")
    credits = from_snapshot.credits("channel", jan, mar, stage="mql", models=("u_shaped",))
    assert credits["u_shaped"] == pytest.approx({"paid_search": 0.5, "webinar": 0.5, "email": 0.0})
    revenue = from_snapshot.credits("channel", jan, mar, models=("u_shaped",))["u_shaped"]  # kept apart from stages
    assert sum(revenue.values()) == pytest.approx(24000)
    opened = from_db.sessions.opened
    from_db.journeys("content", date(2026, 2, 1), mar, stage="lead")  # another stage and period: cut, not read
    assert from_db.sessions.opened == opened + 1  # a session for the labels; the stage data was read once

    ana = acme.query(StageChange.contact_id).filter_by(to_stage="lead").scalar()
    acme.add(StageChange(contact_id=ana, to_stage="mql", changed_at=A.datetime(2026, 2, 5, tzinfo=A.timezone.utc)))
    acme.commit()  # Ana moves to MQL again (her first move stays 01-20): nothing changes but the fingerprint
    again = from_snapshot.journeys("channel", jan, mar, stage="mql")
    same_journeys(again, stage_journeys(acme, "mql", start=day_bounds(jan, mar)[0], end=day_bounds(jan, mar)[1]))


def test_bad_stage_questions_are_refused(acme: Session) -> None:  # noqa: F811
    engine = acme.get_bind()
    cache = AttributionCache(sessionmaker(bind=engine), lambda: fingerprint(engine))
    jan, mar = date(2026, 1, 1), date(2026, 3, 31)
    with pytest.raises(A.InvalidInput, match="'disqualified' is a side state"):
        cache.credits("channel", jan, mar, stage="disqualified")
    with pytest.raises(A.InvalidInput, match="Unknown stage 'won'"):
        cache.journeys("channel", jan, mar, stage="won")
    with pytest.raises(A.InvalidInput, match=r"The period ends \(2026-01-01\) before it starts \(2026-03-31\)"):
        cache.journeys("channel", mar, jan, stage="mql")
    with pytest.raises(A.InvalidInput, match="before it starts"):
        cache.credits("channel", mar, jan)  # won revenue too
    with pytest.raises(A.InvalidInput, match="give its first and last day"):
        cache.journeys("channel", None, mar, stage="mql")
    with pytest.raises(A.InvalidInput, match="Unknown grain"):
        cache.journeys("persona", jan, mar, stage="mql")
