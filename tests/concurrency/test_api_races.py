"""Conflicting handoff calls at once through the real server (uvicorn on loopback) on SQLite and
PostgreSQL: one 200, the others a 409 with its code, and the lead in one consistent state."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select

from revteam.services.handoff.decide import accept_lead, seed_reject_reasons
from revteam.services.people.users import issue_api_token
from revteam.services.qualify.rescoring import score_and_hand_over
from revteam.store.models import Contact, Handoff, RoutingRuleRow, User
from tests.concurrency.conftest import Live
from tests.factories import make_touch, make_user


def calls_at_once(live: Live, token: str, calls: list[tuple[str, dict[str, Any] | None]]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def send(i: int) -> None:
        path, body = calls[i]
        with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            barrier.wait(30)
            answers[i] = client.post(path, json=body)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


def pending_leads(live: Live) -> tuple[list[int], str]:
    """Every contact of ``live`` handed to one SDR (a demo request each); their ids and a leader's token."""
    now = datetime.now(UTC)
    with live.runtime.sessions() as s:
        sdr = s.scalars(select(User).where(User.role == "sdr")).first()
        make_user(s, role="ae")
        leader = make_user(s, role="leader")
        s.add(RoutingRuleRow(position=1, strategy="round_robin", label="SDR pool", pool=[sdr.id], for_role="sdr"))
        s.add(RoutingRuleRow(position=1, strategy="round_robin", label="AE pool", for_role="ae",
                             pool=[s.scalars(select(User.id).where(User.role == "ae")).one()]))
        seed_reject_reasons(s)
        for c in s.scalars(select(Contact)):
            make_touch(s, c, type="demo_request", at=now)
        s.commit()
        handoffs = score_and_hand_over(s, now=now).handoffs
        token = issue_api_token(s, leader, name="tests", now=now).token
    return handoffs, token


def test_accept_and_reject_at_once_through_the_api(live: Live) -> None:
    handoffs, token = pending_leads(live)
    assert handoffs
    for hid in handoffs[:3]:
        answers = calls_at_once(live, token, [(f"/api/v1/handoffs/{hid}/accept", None),
                                              (f"/api/v1/handoffs/{hid}/reject", {"reason": "student"})])
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        loser = next(a for a in answers if a.status_code == 409).json()
        assert loser["code"] == "handoff_decided" and loser["message"]
        with live.runtime.sessions() as s:
            h = s.get(Handoff, hid)
            assert (h.status, h.reject_reason) in (("accepted", None), ("rejected", "student"))


def test_four_qualifies_at_once_through_the_api_make_one_sql(live: Live) -> None:
    handoffs, token = pending_leads(live)
    with live.runtime.sessions() as s:
        leader = s.scalars(select(User).where(User.role == "leader")).one()
        for hid in handoffs[:2]:
            accept_lead(s, hid, leader, now=datetime.now(UTC))
    for hid in handoffs[:2]:
        answers = calls_at_once(live, token, [(f"/api/v1/handoffs/{hid}/qualify", {"note": "budget confirmed"})] * 4)
        assert sorted(a.status_code for a in answers) == [200, 409, 409, 409], [a.text for a in answers]
        assert {a.json()["code"] for a in answers if a.status_code == 409} == {"already_qualified"}
        with live.runtime.sessions() as s:
            contact_id = s.get(Handoff, hid).contact_id
            assert s.scalar(select(func.count()).select_from(Handoff).where(
                Handoff.contact_id == contact_id, Handoff.kind == "sql")) == 1
