"""The handoff rules that used to sit in the web (``web/handoffs.py``) and now live in the services, tested
where they live: who may act on a lead, when a touch can be logged, when a return date is read, whose inbox
a person may open, who may sit on the committee; and that each use case keeps its work or none of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from revteam.errors import Conflict, Forbidden, InvalidInput, NotFound
from revteam.services.handoff.agreement import DEFAULT_TERMS, propose_sla
from revteam.services.handoff.decide import accept_lead, log_touch, may_act, reject_lead
from revteam.services.handoff.disputes import recent_rejections
from revteam.services.handoff.inbox import inbox, inbox_rep, lead_outcome, lead_row
from revteam.services.qualify.rescoring import score_and_hand_over
from revteam.store.models import Handoff, SlaAgreement, Touchpoint
from tests.integration.test_handoff_flow import MON, hot_lead, team  # noqa: F401 - ``team`` is a fixture


@pytest.fixture
def lead(session, team):  # noqa: F811 - the fixture imported above
    """Dana's demo request, handed to Ana (pending, hot, due in one business hour)."""
    hot_lead(session)
    return session.get(Handoff, score_and_hand_over(session, now=MON).handoffs[0])


def _touches(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Touchpoint).where(Touchpoint.channel == "sales")) or 0


def test_the_leads_rep_or_a_supervisor_may_act_on_it(team, lead):  # noqa: F811
    assert may_act(team["ana"], lead) and may_act(team["cro"], lead)
    assert not may_act(team["ben"], lead) and not may_act(team["mia"], lead)


def test_a_touch_is_logged_only_on_a_lead_being_worked(session, sessions, team, lead):  # noqa: F811
    with pytest.raises(Forbidden, match="Only the rep the lead was handed to"):
        log_touch(session, lead.id, team["ben"], type="sales_call", now=MON)
    with pytest.raises(InvalidInput) as bad:
        log_touch(session, lead.id, team["ana"], type="carrier_pigeon", now=MON)
    assert bad.value.code == "bad_touch_type" and _touches(sessions) == 0
    log_touch(session, lead.id, team["ana"], type="sales_call", note="left a voicemail", now=MON + timedelta(minutes=5))
    assert lead.first_touch_at == MON + timedelta(minutes=5) and _touches(sessions) == 1  # kept without a commit here
    accept_lead(session, lead.id, team["ana"], now=MON + timedelta(minutes=10))
    log_touch(session, lead.id, team["cro"], type="meeting", now=MON + timedelta(days=1))  # accepted: still worked
    reject = hot_lead(session, email="eve@initech.com")
    other = session.get(Handoff, score_and_hand_over(session, now=MON, contact_ids=[reject.id]).handoffs[0])
    reject_lead(session, other.id, team["cro"], reason="bad_fit", now=MON + timedelta(minutes=1))
    with pytest.raises(Conflict) as decided:
        log_touch(session, other.id, team["cro"], type="sales_call", now=MON + timedelta(minutes=2))
    assert decided.value.code == "handoff_decided" and _touches(sessions) == 2


def test_the_return_date_is_read_only_for_a_reason_that_recycles(session, team, lead):  # noqa: F811
    with pytest.raises(InvalidInput, match="The return date 'next spring' is not a date; use YYYY-MM-DD"):
        reject_lead(session, lead.id, team["ana"], reason="not_ready", recycle_until="next spring", now=MON)
    with pytest.raises(InvalidInput, match="must be in the future"):
        reject_lead(session, lead.id, team["ana"], reason="not_ready", recycle_until="2026-03-01", now=MON)
    h = reject_lead(session, lead.id, team["ana"], reason="bad_fit", recycle_until="next spring", now=MON)
    assert (h.status, h.recycle_until) == ("rejected", None)  # the form's leftover date is ignored


def test_a_recycling_reason_takes_the_date_as_typed(session, team, lead):  # noqa: F811
    h = reject_lead(session, lead.id, team["ana"], reason="not_ready", recycle_until=" 2026-06-01 ", now=MON)
    assert (h.status, h.recycle_until) == ("recycled", date(2026, 6, 1))
    outcome = lead_outcome(session, h.id)
    assert outcome is not None and (outcome.status, outcome.recycle_until) == ("recycled", date(2026, 6, 1))
    [row] = recent_rejections(session, now=MON + timedelta(days=1))
    assert (row.lead.handoff.id, row.reason, row.dispute_id) == (h.id, "Not ready to buy yet", None)


def test_a_refused_action_writes_nothing_and_a_done_one_is_kept(session, sessions, team, lead):  # noqa: F811
    with pytest.raises(Forbidden):
        accept_lead(session, lead.id, team["ben"], now=MON)
    with sessions() as other:
        assert other.get(Handoff, lead.id).status == "pending"
    accept_lead(session, lead.id, team["ana"], now=MON + timedelta(minutes=3))
    with sessions() as other:  # the use case committed: another session sees it
        assert other.get(Handoff, lead.id).status == "accepted"


def test_reps_open_their_own_inbox_and_supervisors_anybodys(session, team, lead):  # noqa: F811
    ana, ben, cro = team["ana"], team["ben"], team["cro"]
    assert inbox_rep(session, ana, "") == ana.id == inbox_rep(session, ana, "me")
    with pytest.raises(Forbidden):
        inbox_rep(session, ana, str(ben.id))
    assert inbox_rep(session, cro, "all") is None and inbox_rep(session, cro, str(ben.id)) == ben.id
    with pytest.raises(InvalidInput):
        inbox_rep(session, cro, "everyone")
    with pytest.raises(NotFound):
        inbox_rep(session, cro, str(team["mia"].id))  # not a rep
    box = inbox(session, rep_id=ana.id, now=MON + timedelta(minutes=25))
    assert [r.handoff.id for r in box.pending] == [lead.id] and box.counts["pending"] == 1
    assert lead_row(session, lead.id, MON + timedelta(minutes=25)).clock.text == "due in 35 min"
    assert inbox(session, rep_id=ben.id, now=MON).pending == []


def test_the_committee_is_made_of_leaders_and_admins(session, sessions, team):  # noqa: F811
    cro = team["cro"]
    with pytest.raises(InvalidInput) as marketing:
        propose_sla(session, text="v2", terms=DEFAULT_TERMS, committee=[cro.id, team["mia"].id], by=cro, now=MON)
    assert marketing.value.code == "bad_committee" and f"user {team['mia'].id} cannot sit on it" in marketing.value.message
    with pytest.raises(InvalidInput, match="'Mars/Olympus' is not a time zone"):
        propose_sla(session, text="v2", terms={**DEFAULT_TERMS, "tz": "Mars/Olympus"}, committee=[cro.id], by=cro, now=MON)
    row = propose_sla(session, text="v2", terms=DEFAULT_TERMS, committee=[cro.id, team["cmo"].id], by=cro, now=MON)
    with sessions() as other:
        assert other.scalar(select(func.max(SlaAgreement.version))) == row.version == 2


def test_rescoring_everyone_keeps_each_batch_as_it_goes(session, sessions, team):  # noqa: F811
    from revteam.services.qualify.rescoring import rescore_everyone
    from revteam.store.models import ContactScore

    for name in ("dana", "eve", "fay"):
        hot_lead(session, email=f"{name}@initech.com")
    session.commit()
    seen: list[tuple[int, int]] = []

    def stop_after_the_first_batch(done: int, total: int) -> None:
        seen.append((done, total))
        if done == 2:
            raise KeyboardInterrupt  # someone pressed Ctrl-C after the first batch

    with pytest.raises(KeyboardInterrupt):
        rescore_everyone(session, now=MON, batch_size=2, progress=stop_after_the_first_batch)
    assert seen == [(0, 3), (2, 3)]
    with sessions() as other:  # the first batch (scores and handovers) is kept
        assert other.scalar(select(func.count()).select_from(ContactScore)) == 2
        assert other.scalar(select(func.count()).select_from(Handoff)) == 2
    run = rescore_everyone(session, now=MON, batch_size=2, progress=lambda done, total: seen.append((done, total)))
    assert (run.scored, run.new_mqls, seen[-2:]) == (3, 1, [(2, 3), (3, 3)])  # the first two are MQLs already
