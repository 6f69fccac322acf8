"""The handoff reports with their scans on the engine (``analytics/handoff_table.py``) equal the database
reports (``analytics/handoff_reports.py``) on the demo company, on every engine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.analytics import handoff_reports as R
from revteam.analytics import handoff_table as T
from revteam.errors import NotFound
from revteam.store.models import Campaign, Touchpoint
from tests.analytics.conftest import DEMO_NOW, cases
from tests.analytics.test_revenue_table import same

NOWS = [DEMO_NOW, DEMO_NOW - timedelta(days=45)]


def test_unworked_leads(demo):
    with Session(demo.sql_engine) as s:
        for now in cases(demo.engine_name, NOWS, NOWS[:1]):
            for days, rep in cases(demo.engine_name, [(7, None), (30, None), (365, None)], [(30, None)]):
                got = T.unworked_leads_on(demo, s, now=now, days=days, rep_id=rep)
                want = R.unworked_leads(s, now=now, days=days, rep_id=rep)
                assert [vars(r) for r in got] == [vars(r) for r in want], (now, days)
                assert any(r.unworked for r in got) or days == 7
        rep = R.unworked_leads(s, now=DEMO_NOW, days=30)[0].rep_id
        assert [vars(r) for r in T.unworked_leads_on(demo, s, now=DEMO_NOW, days=30, rep_id=rep)] == \
            [vars(r) for r in R.unworked_leads(s, now=DEMO_NOW, days=30, rep_id=rep)]


def test_sla_compliance_and_marketing_delivery(demo):
    with Session(demo.sql_engine) as s:
        for now in cases(demo.engine_name, NOWS, NOWS[:1]):
            for by in ("rep", "team"):
                for days in cases(demo.engine_name, [30, 90], [90]):
                    got = T.sla_compliance_on(demo, s, now=now, days=days, by=by)
                    assert got == R.sla_compliance(s, now=now, days=days, by=by), (now, by, days)
            assert T.marketing_delivery_on(demo, s, now=now) == R.marketing_delivery(s, now=now)
        assert any(r["handoffs"] for r in T.sla_compliance_on(demo, s, now=DEMO_NOW))


@pytest.mark.parametrize("by", ["source", "campaign", "reason", "rep"])
def test_rejection_analytics(demo, by):
    with Session(demo.sql_engine) as s:
        for now in cases(demo.engine_name, NOWS, NOWS[:1]):
            for days in cases(demo.engine_name, [90, 365], [365]):
                assert T.rejection_analytics_on(demo, now=now, days=days, by=by) == \
                    R.rejection_analytics(s, now=now, days=days, by=by)


def test_campaign_followup(demo):
    with Session(demo.sql_engine) as s:
        touched = s.scalars(select(Touchpoint.campaign_id).distinct().where(Touchpoint.campaign_id.is_not(None))
                            .order_by(Touchpoint.campaign_id)).all()
        picks = cases(demo.engine_name, touched[:2] + touched[-2:], touched[:1] + touched[-1:])  # oldest, newest
        untouched = s.scalars(select(Campaign.id).where(Campaign.id.not_in(touched))).first()
        for cid in [*picks, *([untouched] if untouched else [])]:
            got, want = T.campaign_followup_on(demo, s, cid), R.campaign_followup(s, cid)
            same(vars(got), vars(want), f"campaign {cid}")
        assert any(T.campaign_followup_on(demo, s, cid).contacted for cid in picks)
        with pytest.raises(NotFound, match="No campaign with id 999999"):
            T.campaign_followup_on(demo, s, 999999)
