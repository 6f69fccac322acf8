"""The handoff end to end on a real database: score → MQL → route → SLA clock → accept / reject →
dispute → committee decision; escalation ticks; nothing falls through."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from revteam.errors import Conflict, Forbidden, InvalidInput
from revteam.services.handoff.agreement import DEFAULT_TERMS, propose_agreement, sign_agreement
from revteam.services.handoff.decide import (
    accept_lead,
    cast_vote,
    log_sales_touch,
    open_dispute,
    qualify_to_sql,
    reject_lead,
    seed_reject_reasons,
)
from revteam.analytics.handoff_reports import (
    campaign_followup,
    marketing_delivery,
    rejection_analytics,
    sla_board,
    sla_compliance,
    unworked_leads,
)
from revteam.services.qualify.rescoring import score_and_hand_over
from revteam.services.handoff.sla_clock import tick
from revteam.store.models import ContactScore, Handoff, OutboxMessage, RepProfile, RoutingRuleRow
from revteam.store.models import Contact, StageChange
from tests.factories import make_account, make_campaign, make_contact, make_content, make_touch, make_user

# Monday 2 March 2026, 10:00 New York (the default SLA time zone) = 15:00 UTC
MON = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def team(session):
    s = session
    u = {
        "ana": make_user(s, role="sdr", name="Ana SDR"),
        "ben": make_user(s, role="sdr", name="Ben SDR"),
        "cho": make_user(s, role="ae", name="Cho AE"),
        "mia": make_user(s, role="marketing", name="Mia Marketing"),
        "cro": make_user(s, role="leader", name="Casey CRO"),
        "cmo": make_user(s, role="leader", name="Morgan CMO"),
        "vps": make_user(s, role="leader", name="Val VP Sales"),
    }
    for k in ("ana", "ben"):
        s.add(RepProfile(user_id=u[k].id, tz="America/New_York", manager_id=u["vps"].id))
    s.add(RepProfile(user_id=u["cho"].id, tz="America/New_York", manager_id=u["vps"].id))
    s.add(RoutingRuleRow(position=1, strategy="account_owner", label="account owner", for_role="sdr"))
    s.add(RoutingRuleRow(position=2, strategy="round_robin", label="SDR pool", pool=[u["ana"].id, u["ben"].id], for_role="sdr"))
    s.add(RoutingRuleRow(position=1, strategy="round_robin", label="AE pool", pool=[u["cho"].id], for_role="ae"))
    seed_reject_reasons(s)
    propose_agreement(s, text="We agree.", terms=DEFAULT_TERMS, committee=[u["cro"].id, u["cmo"].id, u["vps"].id],
                      by=u["cro"].id, now=MON - timedelta(days=30))
    sign_agreement(s, 1, u["cmo"], "marketing", now=MON - timedelta(days=29))
    sign_agreement(s, 1, u["cro"], "sales", now=MON - timedelta(days=29))
    s.commit()
    return u


def hot_lead(s, email="dana@initech.com", **kw):
    acc = make_account(s, name="Initech", industry="software", employees=400)
    c = make_contact(s, email=email, title="VP Engineering", account_id=acc.id, stage="lead", **kw)
    make_touch(s, c, type="demo_request", at=MON - timedelta(hours=1))
    return c


def test_a_demo_request_is_handed_to_an_sdr_with_context_and_a_clock(session, team):
    c = hot_lead(session)
    run = score_and_hand_over(session, now=MON)
    assert (run.scored, run.new_mqls) == (1, 1)
    h = session.get(Handoff, run.handoffs[0])
    assert (h.status, h.priority, h.rep_id) == ("pending", "hot", team["ana"].id)
    assert "Ana SDR: weighted round robin in SDR pool" in h.routing_reason
    assert h.due_at == datetime(2026, 3, 2, 16, 0, tzinfo=timezone.utc)  # 1 business hour
    assert h.context["score"]["reasons"][0]["text"].startswith("fast track: asked for a demo")
    assert h.context["account"]["name"] == "Initech" and h.context["recent_touches"][0]["type"] == "demo_request"
    assert session.get(Contact, c.id).stage == "mql" and session.get(Contact, c.id).owner_id == team["ana"].id
    [msg] = session.scalars(select(OutboxMessage)).all()
    assert (msg.user_id, msg.event, msg.channel) == (team["ana"].id, "assignment", "email")
    assert score_and_hand_over(session, now=MON).new_mqls == 0  # already an MQL: not handed twice


def test_accept_stops_the_clock_and_makes_the_lead_sales_accepted(session, team):
    hot_lead(session)
    h = session.get(Handoff, score_and_hand_over(session, now=MON).handoffs[0])
    with pytest.raises(Forbidden):
        accept_lead(session, h.id, team["ben"], now=MON + timedelta(minutes=20))
    accept_lead(session, h.id, team["ana"], now=MON + timedelta(minutes=20))
    assert (h.status, h.first_touch_at) == ("accepted", MON + timedelta(minutes=20))
    assert session.get(Contact, h.contact_id).stage == "sal"
    with pytest.raises(Conflict):
        accept_lead(session, h.id, team["ana"], now=MON + timedelta(minutes=21))
    ae = qualify_to_sql(session, h.id, team["ana"], now=MON + timedelta(days=2), note="budget and timing confirmed")
    assert (ae.kind, ae.rep_id, session.get(Contact, h.contact_id).stage) == ("sql", team["cho"].id, "sql")


def test_reject_needs_a_known_reason_and_not_ready_needs_a_return_date(session, team):
    hot_lead(session)
    h = session.get(Handoff, score_and_hand_over(session, now=MON).handoffs[0])
    with pytest.raises(InvalidInput, match="Unknown reject reason"):
        reject_lead(session, h.id, team["ana"], reason="meh", now=MON)
    with pytest.raises(InvalidInput, match="give the date"):
        reject_lead(session, h.id, team["ana"], reason="not_ready", now=MON)
    reject_lead(session, h.id, team["ana"], reason="not_ready", note="budget in Q3", recycle_until=date(2026, 6, 1), now=MON)
    c = session.get(Contact, h.contact_id)
    assert (h.status, c.stage) == ("recycled", "recycled")
    change = session.scalars(select(StageChange).where(StageChange.contact_id == c.id).order_by(StageChange.id.desc())).first()
    assert change.reason == "Not ready to buy yet: budget in Q3" and change.actor_user_id == team["ana"].id
    tick(session, now=datetime(2026, 6, 1, 14, 0, tzinfo=timezone.utc))
    assert session.get(Contact, c.id).stage == "lead" and h.status == "returned"


def test_dispute_goes_to_the_committee_and_a_majority_returns_it_to_sales(session, team):
    hot_lead(session)
    h = session.get(Handoff, score_and_hand_over(session, now=MON).handoffs[0])
    reject_lead(session, h.id, team["ana"], reason="student", note="looks like a student", now=MON + timedelta(minutes=5))
    assert session.get(Contact, h.contact_id).stage == "disqualified"
    with pytest.raises(Forbidden):
        open_dispute(session, h.id, team["ben"], reason="x", now=MON)
    d = open_dispute(session, h.id, team["mia"], reason="VP Engineering at a 400-person software firm", now=MON + timedelta(hours=1))
    with pytest.raises(Forbidden):
        cast_vote(session, d.id, team["mia"], choice="return_to_sales", reason="mine", now=MON)
    cast_vote(session, d.id, team["cro"], choice="return_to_sales", reason="title and company fit", now=MON + timedelta(hours=2))
    assert d.outcome is None
    cast_vote(session, d.id, team["cmo"], choice="return_to_sales", reason="fits ICP", now=MON + timedelta(hours=3))
    assert d.outcome == "return_to_sales" and "2 of 3" in d.summary
    assert (h.status, session.get(Contact, h.contact_id).stage) == ("pending", "mql")
    assert h.due_at > MON + timedelta(hours=3)  # a new clock from the decision
    with pytest.raises(Conflict):
        cast_vote(session, d.id, team["vps"], choice="uphold_rejection", reason="late", now=MON + timedelta(hours=4))
    events = sorted(m.event for m in session.scalars(select(OutboxMessage)))
    assert events.count("dispute") == 3 + 2  # opened → 3 members; decided → marketer and rep


def test_escalation_to_rep_then_manager_once_each(session, team):
    hot_lead(session)
    h = session.get(Handoff, score_and_hand_over(session, now=MON).handoffs[0])
    assert tick(session, now=MON + timedelta(minutes=30)).escalations == 0
    assert tick(session, now=MON + timedelta(minutes=46)).escalations == 1  # at risk after 45 of 60 minutes
    assert tick(session, now=MON + timedelta(minutes=61)).escalations == 2  # breached: rep and manager
    assert tick(session, now=MON + timedelta(minutes=90)).escalations == 0  # never twice
    who = sorted((m.event, m.user_id) for m in session.scalars(select(OutboxMessage).where(OutboxMessage.event.in_(("at_risk", "breach")))))
    assert who == sorted([("at_risk", team["ana"].id), ("breach", team["ana"].id), ("breach", team["vps"].id)])
    board = sla_board(session, now=MON + timedelta(minutes=90))
    assert [b["handoff_id"] for b in board["breached"]] == [h.id]


def test_unworked_leads_and_compliance_both_ways(session, team):
    contacts = [hot_lead(session, email=f"lead{i}@initech{i}.com") for i in range(4)]
    run = score_and_hand_over(session, now=MON)
    assert run.new_mqls == 4
    hs = [session.get(Handoff, i) for i in run.handoffs]
    log_sales_touch(session, hs[0].contact_id, session.get(type(team["ana"]), hs[0].rep_id), type="sales_call",
                    now=MON + timedelta(minutes=10))
    report = {r.rep: r for r in unworked_leads(session, now=MON + timedelta(hours=3))}
    assert report["Ana SDR"].sentence == "of the 2 lead(s) handed to Ana SDR in the period, 1 have no touch"
    assert report["Ben SDR"].unworked == 2
    comp = {r["rep"]: r for r in sla_compliance(session, now=MON + timedelta(hours=3))}
    assert comp["Ana SDR"]["worked_in_time"] == 1 and comp["Ana SDR"]["breached"] == 1
    assert comp["all"]["share_in_time"] == pytest.approx(0.25) and comp["all"]["median_response_minutes"] == 10
    delivery = marketing_delivery(session, now=MON + timedelta(hours=3))
    assert delivery["mqls"]["delivered"] == 4 and delivery["mqls"]["committed"] == 300
    assert len(contacts) == 4


def test_campaign_followup_says_what_happened_to_the_list(session, team):
    webinar = make_campaign(session, name="Pricing 101 webinar")
    attendees = [make_contact(session, email=f"att{i}@globex{i}.com") for i in range(5)]
    for c in attendees:
        make_touch(session, c, type="webinar_attended", campaign_id=webinar.id, at=MON - timedelta(days=10))
    log_sales_touch(session, attendees[0].id, team["ana"], type="sales_email", now=MON - timedelta(days=9))
    session.add(StageChange(contact_id=attendees[1].id, from_stage="lead", to_stage="sql", changed_at=MON - timedelta(days=8),
                            actor_rule="test"))  # qualified straight to SQL after the webinar: passed MQL and SAL
    session.add(StageChange(contact_id=attendees[2].id, from_stage="lead", to_stage="mql", changed_at=MON - timedelta(days=20),
                            actor_rule="test"))  # before the webinar: not its doing
    session.flush()
    f = campaign_followup(session, webinar.id)
    assert (f.people, f.contacted, len(f.never_contacted)) == (5, 1, 4)
    assert f.reached == {"mql": 1, "sal": 1, "sql": 1, "opportunity": 0, "customer": 0}


def test_rejection_analytics_by_reason(session, team):
    for i in range(3):
        hot_lead(session, email=f"x{i}@initech{i}.com")
    run = score_and_hand_over(session, now=MON)
    for hid in run.handoffs[:2]:
        h = session.get(Handoff, hid)
        reject_lead(session, hid, session.get(type(team["ana"]), h.rep_id), reason="bad_fit", now=MON + timedelta(minutes=5))
    accept_lead(session, run.handoffs[2], session.get(type(team["ana"]), session.get(Handoff, run.handoffs[2]).rep_id),
                now=MON + timedelta(minutes=5))
    rows = {r["source"]: r for r in rejection_analytics(session, now=MON + timedelta(days=1))}
    assert rows["webinar"]["rejection_rate"] == pytest.approx(2 / 3)


def test_scores_are_stored_with_reasons(session, team):
    c = make_contact(session, title="Director of IT", account_id=make_account(session, industry="software").id)
    make_touch(session, c, type="webinar_attended", at=MON - timedelta(days=3), campaign_id=make_campaign(session).id,
               content_id=make_content(session).id)
    score_and_hand_over(session, now=MON, hand_over=False)
    row = session.get(ContactScore, c.id)
    assert row.fit == 45 and row.is_mql  # 20 director + 15 size + 10 industry; + webinar 18.7 = 63.7 ≥ 60
    assert any("attended webinar" in r["text"] for r in row.reasons)
    assert session.scalar(select(func.count()).select_from(Handoff)) == 0


def test_a_demo_request_through_the_api_reaches_a_rep_at_once(sessions, team):
    from revteam.ingest.api import ingest_touchpoint_events

    with sessions() as s:
        make_contact(s, email="erin@hooli.com", title="CTO", stage="lead")
        s.commit()
    ingest_touchpoint_events(sessions, "website", [{"event_id": "e1", "email": "erin@hooli.com", "type": "demo_request",
                                                    "occurred_at": MON.isoformat()}], now=MON, actor_user_id=None)
    with sessions() as s:
        h = s.scalars(select(Handoff)).one()
        assert (h.priority, h.status) == ("hot", "pending") and s.get(ContactScore, h.contact_id) is not None


def test_a_lead_arriving_when_nobody_works_is_routed_when_someone_starts(session, team):
    night = datetime(2026, 3, 3, 4, 0, tzinfo=timezone.utc)  # 23:00 in New York: every rep is off
    hot_lead(session)
    h = session.get(Handoff, score_and_hand_over(session, now=night).handoffs[0])
    assert (h.status, h.rep_id) == ("unassigned", None) and "outside working hours" in h.routing_reason
    assert tick(session, now=night + timedelta(hours=1)).rerouted == 0
    morning = datetime(2026, 3, 3, 14, 5, tzinfo=timezone.utc)  # 09:05 in New York
    assert tick(session, now=morning).rerouted == 1
    assert (h.status, h.rep_id) == ("pending", team["ana"].id) and "rerouted" in h.routing_reason
    assert any(m.event == "assignment" for m in session.scalars(select(OutboxMessage)))
