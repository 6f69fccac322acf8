"""Content ROI definitions on a hand-computed case, on every engine."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from revteam.analytics.content import ContentSpec
from revteam.analytics.runner import Analytics
from revteam.services.revenue.content_usage import log_content_use
from revteam.services.record.lifecycle import seed_default_stages
from revteam.store.db import make_engine, make_session_factory
from revteam.store.models import Base, StageChange
from tests.factories import make_account, make_contact, make_content, make_deal, make_touch, make_user


def at(m, d):
    return datetime(2026, m, d, 12, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def roi(tmp_path_factory, engine_name):
    """'Pricing guide': Ana reads it 3 Jan, becomes MQL 5 Jan, her deal (48k) is won 1 Feb; Ben reads it twice
    (4 Jan, 10 Feb) but was an MQL already (1 Jan); his open deal counts as influenced. 'Old post' is never
    read. Ana's rep logs the guide as used and helpful."""
    url = f"sqlite:///{tmp_path_factory.mktemp('roi') / 'roi.db'}"
    eng = make_engine(url)
    Base.metadata.create_all(eng)
    with make_session_factory(eng)() as s:
        seed_default_stages(s)
        rep = make_user(s, role="ae")
        guide = make_content(s, title="Pricing guide")
        make_content(s, title="Old post", category="best_of")
        acc = make_account(s)
        ana = make_contact(s, first_name="Ana", account_id=acc.id)
        ben = make_contact(s, first_name="Ben", account_id=acc.id)
        make_touch(s, ana, type="content_download", at=at(1, 3), content_id=guide.id)
        for d in (at(1, 4), at(2, 10)):
            make_touch(s, ben, type="page_view", at=d, content_id=guide.id)
        s.add_all([StageChange(contact_id=ana.id, to_stage="mql", changed_at=at(1, 5), actor_rule="t"),
                   StageChange(contact_id=ben.id, to_stage="mql", changed_at=at(1, 1), actor_rule="t")])
        won = make_deal(s, acc, amount="48000", outcome="won", contacts=[ana], created_on=date(2026, 1, 10),
                        closed_on=date(2026, 2, 1))
        make_deal(s, acc, amount="90000", outcome="open", contacts=[ben], created_on=date(2026, 1, 20))
        log_content_use(s, deal_id=won.id, content_id=guide.id, user=rep, helped=True, now=at(1, 20))
        s.commit()
    a = Analytics(eng, engine_name)
    yield a
    a.close()


def test_content_roi_counts(roi):
    pieces = {p["title"]: p for p in roi.content_roi(ContentSpec()).rows("pieces")}
    g = pieces["Pricing guide"]
    assert (g["traffic"], g["people"], g["mqls"]) == (3, 2, 1)  # Ben was an MQL before he read it
    assert (g["deals_influenced"], g["won_deals"], g["influenced_revenue"]) == (2, 1, 48000.0)
    assert (g["used_in_deals"], g["helpful_share"]) == (1, 1.0)
    assert pieces["Old post"]["traffic"] == 0 and pieces["Old post"]["helpful_share"] is None
    assert list(pieces) == ["Pricing guide", "Old post"]  # ordered by influenced revenue


def test_window_and_weekly_top(roi):
    feb = roi.content_roi(ContentSpec(start=date(2026, 2, 1), end=date(2026, 3, 1)))
    g = next(p for p in feb.rows("pieces") if p["title"] == "Pricing guide")
    assert (g["traffic"], g["deals_influenced"]) == (1, 1)  # Ben's 10 Feb read; Ana's deal closed before it
    weeks = roi.content_roi(ContentSpec()).rows("top_by_week")
    assert [(w["week"][:10], w["rank"], w["traffic"]) for w in weeks] == [
        ("2025-12-29", 1, 2), ("2026-02-09", 1, 1)]  # ISO weeks start on Monday
