"""Conflicting decisions at once on SQLite and PostgreSQL (issue #10, item 1): each race has one winner,
the others a clear 409 (``Conflict`` with a code), never a mixed state or a duplicate handoff.

Each call runs in its own thread with its own session (its own connection), released by a barrier.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from revteam.services.handoff.agreement import (
    DEFAULT_TERMS,
    propose_agreement,
    sign_agreement,
)
from revteam.services.handoff.decide import (
    accept_lead,
    cast_vote,
    open_dispute,
    qualify_to_sql,
    reject_lead,
    seed_reject_reasons,
)
from revteam.services.qualify.rescoring import score_and_hand_over
from revteam.store.models import (
    AuditEntry,
    Contact,
    Dispute,
    Handoff,
    RepProfile,
    RoutingRuleRow,
    SlaAgreement,
    User,
)
from tests.concurrency.race import race
from tests.factories import make_account, make_contact, make_touch, make_user

MON = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in New York, every rep at work
ROUNDS = 3  # leads raced over per test: more chances for the race to bite


@pytest.fixture
def team(sessions):
    with sessions() as s:
        u = {
            "ana": make_user(s, role="sdr", name="Ana SDR"),
            "ben": make_user(s, role="sdr", name="Ben SDR"),
            "cho": make_user(s, role="ae", name="Cho AE"),
            "dev": make_user(s, role="ae", name="Dev AE"),
            "mia": make_user(s, role="marketing", name="Mia Marketing"),
            "max": make_user(s, role="marketing", name="Max Marketing"),
            "cro": make_user(s, role="leader", name="Casey CRO"),
            "cmo": make_user(s, role="leader", name="Morgan CMO"),
            "vps": make_user(s, role="leader", name="Val VP Sales"),
        }
        for k in ("ana", "ben", "cho", "dev"):
            s.add(RepProfile(user_id=u[k].id, tz="America/New_York", manager_id=u["vps"].id))
        s.add(RoutingRuleRow(position=1, strategy="round_robin", label="SDR pool", pool=[u["ana"].id, u["ben"].id],
                             for_role="sdr"))
        s.add(RoutingRuleRow(position=1, strategy="round_robin", label="AE pool", pool=[u["cho"].id, u["dev"].id],
                             for_role="ae"))
        seed_reject_reasons(s)
        propose_agreement(s, text="We agree.", terms=DEFAULT_TERMS, committee=[u["cro"].id, u["cmo"].id, u["vps"].id],
                          by=u["cro"].id, now=MON - timedelta(days=30))
        sign_agreement(s, 1, u["cmo"], "marketing", now=MON - timedelta(days=29))
        sign_agreement(s, 1, u["cro"], "sales", now=MON - timedelta(days=29))
        s.commit()
        return {k: v.id for k, v in u.items()}


def person(s, uid):
    return s.get(User, uid)


def hot_leads(sessions, n=ROUNDS, *, hand_over=True):
    """``n`` hot leads (a demo request each); handed over (pending with an SDR) unless told otherwise."""
    with sessions() as s:
        acc = make_account(s, name="Initech", industry="software", employees=400)
        ids = []
        for i in range(n):
            c = make_contact(s, email=f"lead{i}@initech.com", title="VP Engineering", account_id=acc.id, stage="lead")
            make_touch(s, c, type="demo_request", at=MON - timedelta(hours=1))
            ids.append(c.id)
        s.commit()
        if not hand_over:
            return ids
        run = score_and_hand_over(s, now=MON)
        return run.handoffs


def audit_count(sessions, action, entity_id):
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == action, AuditEntry.entity_id == str(entity_id)))


def test_accept_and_reject_at_once_have_one_winner_and_no_mixed_state(sessions, team):
    for hid in hot_leads(sessions):
        with sessions() as s:
            rep = s.get(Handoff, hid).rep_id
        outcomes = race(sessions, [
            lambda s, hid=hid, rep=rep: accept_lead(s, hid, person(s, rep), now=MON + timedelta(minutes=5)),
            lambda s, hid=hid, rep=rep: reject_lead(s, hid, person(s, rep), reason="student", note="a student", now=MON + timedelta(minutes=5)),
        ])
        kinds = sorted(o.kind for o in outcomes)
        assert kinds == ["conflict", "ok"], [o.kind for o in outcomes]
        assert [o.code for o in outcomes if o.error] == ["handoff_decided"]
        loser_message = str(next(o.error for o in outcomes if o.error))
        with sessions() as s:
            h = s.get(Handoff, hid)
            assert h.status in loser_message  # the loser is told what the lead became
            stage = s.get(Contact, h.contact_id).stage
            if h.status == "accepted":
                assert (h.reject_reason, h.reject_note, stage) == (None, None, "sal")
            else:
                assert (h.status, h.reject_reason, stage) == ("rejected", "student", "disqualified")
        decided = [a for a in ("handoff.accepted", "handoff.rejected") if audit_count(sessions, a, hid)]
        assert decided == [f"handoff.{h.status}"] and audit_count(sessions, decided[0], hid) == 1


def test_two_reps_accepting_at_once_accept_once(sessions, team):
    for hid in hot_leads(sessions):
        outcomes = race(sessions, [lambda s, hid=hid: accept_lead(s, hid, person(s, team["vps"]), now=MON),
                                   lambda s, hid=hid: accept_lead(s, hid, person(s, team["cro"]), now=MON)])
        assert sorted(o.kind for o in outcomes) == ["conflict", "ok"]
        assert audit_count(sessions, "handoff.accepted", hid) == 1


def test_four_qualifies_at_once_make_one_sql_handoff(sessions, team):
    for hid in hot_leads(sessions):
        with sessions() as s:
            h = s.get(Handoff, hid)
            rep, contact_id = h.rep_id, h.contact_id
            accept_lead(s, hid, person(s, rep), now=MON + timedelta(minutes=5))
        outcomes = race(sessions, [
            (lambda s, hid=hid, rep=rep: qualify_to_sql(s, hid, person(s, rep), now=MON + timedelta(hours=1))),
            (lambda s, hid=hid, rep=rep: qualify_to_sql(s, hid, person(s, rep), now=MON + timedelta(hours=1))),
            (lambda s, hid=hid: qualify_to_sql(s, hid, person(s, team["vps"]), now=MON + timedelta(hours=1))),
            (lambda s, hid=hid: qualify_to_sql(s, hid, person(s, team["cro"]), now=MON + timedelta(hours=1))),
        ])
        assert sorted(o.kind for o in outcomes) == ["conflict", "conflict", "conflict", "ok"], [o.kind for o in outcomes]
        assert {o.code for o in outcomes if o.error} == {"already_qualified"}
        with sessions() as s:
            sqls = s.scalars(select(Handoff).where(Handoff.contact_id == contact_id, Handoff.kind == "sql")).all()
            assert len(sqls) == 1 and sqls[0].rep_id in (team["cho"], team["dev"])
            assert s.get(Contact, contact_id).stage == "sql"


def test_two_scorings_of_one_lead_at_once_hand_it_over_once(sessions, team):
    for cid in hot_leads(sessions, hand_over=False):
        outcomes = race(sessions, [lambda s, cid=cid: score_and_hand_over(s, now=MON, contact_ids=[cid]) for _ in range(3)])
        assert [o.kind for o in outcomes] == ["ok"] * 3
        assert sum(len(o.value.handoffs) for o in outcomes) == 1
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Handoff).where(Handoff.contact_id == cid)) == 1


def rejected_leads(sessions):
    out = []
    for hid in hot_leads(sessions):
        with sessions() as s:
            rep = s.get(Handoff, hid).rep_id
            reject_lead(s, hid, person(s, rep), reason="student", now=MON + timedelta(minutes=5))
        out.append(hid)
    return out


def test_two_disputes_of_one_rejection_at_once_open_one(sessions, team):
    for hid in rejected_leads(sessions):
        outcomes = race(sessions, [
            lambda s, hid=hid: open_dispute(s, hid, person(s, team["mia"]), reason="a real buyer", now=MON + timedelta(hours=1)),
            lambda s, hid=hid: open_dispute(s, hid, person(s, team["max"]), reason="fits ICP", now=MON + timedelta(hours=1)),
        ])
        assert sorted(o.kind for o in outcomes) == ["conflict", "ok"]
        assert [o.code for o in outcomes if o.error] == ["already_disputed"]
        with sessions() as s:
            assert s.scalar(select(func.count()).select_from(Dispute).where(Dispute.handoff_id == hid)) == 1


def test_the_whole_committee_voting_at_once_decides_once(sessions, team):
    for hid in rejected_leads(sessions):
        with sessions() as s:
            did = open_dispute(s, hid, person(s, team["mia"]), reason="a real buyer", now=MON + timedelta(hours=1)).id
        outcomes = race(sessions, [
            lambda s, m=m, did=did: cast_vote(s, did, person(s, team[m]), choice="return_to_sales", reason="fits",
                                     now=MON + timedelta(hours=2))
            for m in ("cro", "cmo", "vps")])
        # a majority is 2 of 3: the first two votes count and decide, the third finds it decided
        assert sorted(o.kind for o in outcomes) == ["conflict", "ok", "ok"], [o.kind for o in outcomes]
        assert [o.code for o in outcomes if o.error] == ["dispute_decided"]
        assert audit_count(sessions, "dispute.decided", did) == 1
        with sessions() as s:
            d, h = s.get(Dispute, did), s.get(Handoff, hid)
            assert d.outcome == "return_to_sales" and "2 of 3" in d.summary
            assert (h.status, s.get(Contact, h.contact_id).stage) == ("pending", "mql")


def test_two_votes_at_once_that_make_the_majority_decide(sessions, team):
    """Without a lock each vote would count only itself and the dispute would stay open for ever."""
    for hid in rejected_leads(sessions):
        with sessions() as s:
            did = open_dispute(s, hid, person(s, team["mia"]), reason="a real buyer", now=MON + timedelta(hours=1)).id
        outcomes = race(sessions, [
            lambda s, m=m, did=did: cast_vote(s, did, person(s, team[m]), choice="uphold_rejection", reason="a student",
                                     now=MON + timedelta(hours=2))
            for m in ("cro", "vps")])
        assert [o.kind for o in outcomes] == ["ok", "ok"]
        with sessions() as s:
            assert s.get(Dispute, did).outcome == "uphold_rejection"
        assert audit_count(sessions, "dispute.decided", did) == 1


def new_version(sessions, team):
    with sessions() as s:
        return propose_agreement(s, text="We agree again.", terms=DEFAULT_TERMS, committee=[team["cro"]],
                                 by=team["cro"], now=MON).version


def test_both_heads_signing_at_once_put_the_version_in_force(sessions, team):
    for _ in range(ROUNDS):
        version = new_version(sessions, team)
        outcomes = race(sessions, [lambda s, version=version: sign_agreement(s, version, person(s, team["cmo"]), "marketing", now=MON),
                                   lambda s, version=version: sign_agreement(s, version, person(s, team["cro"]), "sales", now=MON)])
        assert [o.kind for o in outcomes] == ["ok", "ok"]
        with sessions() as s:
            assert s.scalar(select(SlaAgreement).where(SlaAgreement.version == version)).in_force_at is not None


def test_one_side_signed_twice_at_once_is_signed_once(sessions, team):
    for _ in range(ROUNDS):
        version = new_version(sessions, team)
        outcomes = race(sessions, [lambda s, version=version: sign_agreement(s, version, person(s, team["cmo"]), "marketing", now=MON),
                                   lambda s, version=version: sign_agreement(s, version, person(s, team["vps"]), "marketing", now=MON)])
        assert sorted(o.kind for o in outcomes) == ["conflict", "ok"]
        assert [o.code for o in outcomes if o.error] == ["already_signed"]


def test_two_proposals_at_once_get_two_versions(sessions, team):
    outcomes = race(sessions, [lambda s: new_version(sessions, team), lambda s: new_version(sessions, team)])
    assert [o.kind for o in outcomes] == ["ok", "ok"]
    assert sorted(o.value for o in outcomes) == [2, 3]


def test_the_same_file_imported_twice_at_once_is_written_once(sessions, team, tmp_path):
    from revteam.ingest.service import run_import

    path = tmp_path / "contacts.csv"
    path.write_text("email,first_name,last_name,stage\n" + "".join(f"p{i}@globex.com,P,{i},lead\n" for i in range(50)))
    outcomes = race(sessions, [lambda s: run_import(sessions, "contacts", path, now=MON, actor="test")
                               for _ in range(3)])
    assert [o.kind for o in outcomes] == ["ok"] * 3, [o.kind for o in outcomes]
    assert sorted((o.value.created, o.value.unchanged) for o in outcomes) == [(0, 50), (0, 50), (50, 0)]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Contact).where(Contact.email.like("%@globex.com"))) == 50


def test_a_dispute_returning_a_lead_already_handed_over_again_does_not_open_a_second_handoff(sessions, team):
    [hid] = rejected_leads(sessions)[:1]
    with sessions() as s:
        old = s.get(Handoff, hid)
        s.add(Handoff(contact_id=old.contact_id, kind="mql", rep_id=team["ben"], status="pending", priority="hot",
                      handed_at=MON + timedelta(minutes=30)))  # handed over again meanwhile
        s.commit()
        did = open_dispute(s, hid, person(s, team["mia"]), reason="a real buyer", now=MON + timedelta(hours=1)).id
        for m in ("cro", "cmo"):
            cast_vote(s, did, person(s, team[m]), choice="return_to_sales", reason="fits", now=MON + timedelta(hours=2))
    with sessions() as s:
        d = s.get(Dispute, did)
        assert d.outcome == "return_to_sales" and "not reopened" in d.summary
        assert s.get(Handoff, hid).status == "rejected"
        assert s.scalar(select(func.count()).select_from(Handoff).where(
            Handoff.contact_id == s.get(Handoff, hid).contact_id, Handoff.status.in_(("pending", "unassigned")))) == 1


def test_two_ticks_at_once_bring_a_recycled_lead_back_once(sessions, team):
    from revteam.services.handoff.sla_clock import tick
    from revteam.store.models import StageChange

    [hid, *_] = hot_leads(sessions)
    with sessions() as s:
        h = s.get(Handoff, hid)
        reject_lead(s, hid, person(s, h.rep_id), reason="not_ready", recycle_until="2026-03-09", now=MON)
        contact_id = h.contact_id
    later = MON + timedelta(days=8)

    def one_tick(s):
        report = tick(s, now=later)
        s.commit()
        return report

    outcomes = race(sessions, [one_tick, one_tick])
    assert [o.kind for o in outcomes] == ["ok", "ok"]
    assert sorted(o.value.returned for o in outcomes) == [0, 1]
    with sessions() as s:
        assert (s.get(Handoff, hid).status, s.get(Contact, contact_id).stage) == ("returned", "lead")
        assert s.scalar(select(func.count()).select_from(StageChange).where(
            StageChange.contact_id == contact_id, StageChange.to_stage == "lead", StageChange.from_stage == "recycled")) == 1
