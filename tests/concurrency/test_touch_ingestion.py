"""Touch events under concurrency, through the real server on SQLite and PostgreSQL (issue #10, item 2):
repeats answer "unchanged", a committed batch is never an error, the reaction (rescoring and
hand-over) happens exactly once, and ``Idempotency-Key`` replays a successful call."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from revteam.services.notify.worker_loop import run_round
from revteam.services.qualify import reactions
from revteam.services.qualify.reactions import pending_reactions
from revteam.store.models import (
    ContactScore,
    Handoff,
    IdempotentRequest,
    Touchpoint,
    TouchReaction,
)
from tests.concurrency.conftest import Live

URL = "/api/v1/touchpoints"
RECENT = (datetime.now(UTC) - timedelta(days=1)).isoformat()


def event(live: Live, n: int, *, who: int = 0, type: str = "page_view") -> dict[str, Any]:
    return {"event_id": f"evt-{n}", "email": live.contacts[who], "type": type, "occurred_at": RECENT}


def at_once(live: Live, bodies: list[dict[str, Any]], headers: list[dict[str, str]] | None = None) -> list[httpx.Response]:
    """POST each body from its own thread and connection, released together."""
    barrier = threading.Barrier(len(bodies))
    answers: list[Any] = [None] * len(bodies)

    def send(i: int) -> None:
        with httpx.Client(base_url=live.url, headers=live.headers, timeout=60) as client:
            barrier.wait(30)
            answers[i] = client.post(URL, json=bodies[i], headers=(headers or [{}] * len(bodies))[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return answers


def count(live: Live, model: Any, *where: Any) -> int:
    with live.runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_the_same_event_four_times_at_once_is_stored_once_and_three_answers_say_unchanged(live: Live) -> None:
    for n in range(3):
        body = {"source_system": "website", "events": [event(live, n, who=n, type="demo_request")]}
        answers = at_once(live, [body] * 4)
        assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
        assert sorted((a.json()["created"], a.json()["unchanged"]) for a in answers) == [(0, 1)] * 3 + [(1, 0)]
        assert count(live, Touchpoint, Touchpoint.external_id == f"evt-{n}") == 1
    assert count(live, TouchReaction) == 3 and count(live, TouchReaction, TouchReaction.done_at.is_(None)) == 0
    assert count(live, Handoff) == 3  # each demo request handed over once
    assert count(live, ContactScore) == 3


def test_eight_clients_with_overlapping_batches_store_every_event_once(live: Live) -> None:
    """The issue's run in small: 8 clients at once, every batch shares events with the next client's."""
    bodies = [{"source_system": "website",
               "events": [event(live, 10 * c + k, who=(c + k) % 5) for k in range(15)]} for c in range(8)]
    for _ in range(2):  # and then all of it again
        answers = at_once(live, bodies)
        assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers if a.status_code != 200]
    distinct = {e["event_id"] for b in bodies for e in b["events"]}
    assert count(live, Touchpoint) == len(distinct)
    with live.runtime.sessions() as s:
        assert pending_reactions(s) == 0
        doubles = s.execute(select(Handoff.contact_id).where(Handoff.status.in_(("pending", "unassigned")))
                            .group_by(Handoff.contact_id, Handoff.kind).having(func.count() > 1)).all()
        assert doubles == []


def test_a_batch_committed_before_its_rescoring_failed_is_answered_200_and_rescored_by_the_worker(
        live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the server died right after the commit")

    monkeypatch.setattr(reactions, "score_and_hand_over", broken)
    body = {"source_system": "website", "events": [event(live, 1, type="demo_request")]}
    with httpx.Client(base_url=live.url, headers=live.headers) as client:
        answer = client.post(URL, json=body)
    assert answer.status_code == 200 and answer.json()["created"] == 1
    assert count(live, Handoff) == 0 and count(live, TouchReaction, TouchReaction.done_at.is_(None)) == 1
    monkeypatch.undo()
    run_round(live.runtime.sessions, live.runtime.settings, now=datetime.now(UTC), sender=_NoSender())
    assert count(live, TouchReaction, TouchReaction.done_at.is_(None)) == 0
    assert count(live, Handoff) == 1


class _NoSender:
    def send(self, *args: Any, **kwargs: Any) -> None:
        return None


# ---------------------------------------------------------------- Idempotency-Key
def test_a_retry_with_the_same_key_gets_the_stored_answer(live: Live) -> None:
    body = {"source_system": "website", "events": [event(live, 1), event(live, 2)]}
    with httpx.Client(base_url=live.url, headers=live.headers) as client:
        first = client.post(URL, json=body, headers={"Idempotency-Key": "batch-1"})
        again = client.post(URL, json=body, headers={"Idempotency-Key": "batch-1"})
        fresh = client.post(URL, json=body)  # no key: runs, and the events are unchanged
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and first.json()["created"] == 2
    assert again.headers["idempotent-replayed"] == "true" and "idempotent-replayed" not in first.headers
    assert fresh.json()["unchanged"] == 2 and count(live, Touchpoint) == 2


def test_the_same_key_on_another_request_is_refused(live: Live) -> None:
    with httpx.Client(base_url=live.url, headers=live.headers) as client:
        client.post(URL, json={"source_system": "website", "events": [event(live, 1)]}, headers={"Idempotency-Key": "k"})
        other = client.post(URL, json={"source_system": "website", "events": [event(live, 2)]},
                            headers={"Idempotency-Key": "k"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    assert count(live, Touchpoint) == 1


@pytest.mark.parametrize("key", ["x" * 201, "with space", ""])
def test_a_malformed_key_is_422(live: Live, key: str) -> None:
    with httpx.Client(base_url=live.url, headers=live.headers) as client:
        answer = client.post(URL, json={"source_system": "website", "events": [event(live, 1)]},
                             headers={"Idempotency-Key": key})
    assert answer.status_code == 422 and answer.json()["code"] == "bad_idempotency_key"
    assert count(live, Touchpoint) == 0


def test_an_error_is_not_kept_so_the_key_can_be_retried(live: Live) -> None:
    bad = {"source_system": "website", "events": [event(live, 1) | {"type": "page_viewed"}]}
    good = {"source_system": "website", "events": [event(live, 1)]}
    with httpx.Client(base_url=live.url, headers=live.headers) as client:
        refused = client.post(URL, json=bad, headers={"Idempotency-Key": "k"})
        fixed = client.post(URL, json=good, headers={"Idempotency-Key": "k"})
    assert refused.status_code == 422 and refused.json()["code"] == "import_rejected"
    assert fixed.status_code == 200 and fixed.json()["created"] == 1
    assert count(live, IdempotentRequest) == 1


def test_the_same_key_twice_at_once_runs_once(live: Live) -> None:
    for n in range(3):
        body = {"source_system": "website", "events": [event(live, n)]}
        answers = at_once(live, [body, body], headers=[{"Idempotency-Key": f"k{n}"}] * 2)
        ok = [a for a in answers if a.status_code == 200]
        busy = [a for a in answers if a.status_code == 409]
        assert len(ok) + len(busy) == 2 and ok, [a.text for a in answers]
        assert all(a.json()["code"] == "idempotency_key_in_use" for a in busy)
        assert sum(a.json()["created"] for a in ok if "idempotent-replayed" not in a.headers) == 1
    assert count(live, Touchpoint) == 3
