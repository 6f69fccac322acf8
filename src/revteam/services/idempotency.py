"""``Idempotency-Key`` for write API calls: a retry of a call that succeeded gets the stored answer, not
a second execution.

Model (one row per caller and key, ``IdempotentRequest``)
    * ``begin`` is called before the request runs. No row yet: one is inserted (the unique index on
      caller and key decides between two requests with the same key at once) and the request runs
      (``Started``). A finished row: the caller compares the new request's fingerprint with the stored
      one (``Earlier``): the same request gets the stored answer, another request with the same key is
      refused. A row still running: ``Busy`` (409), unless it was started more than ``STALE_AFTER``
      ago (its server died): then this request takes it over.
    * ``finish`` stores a successful (2xx) answer; ``abandon`` removes the row after an error, so the
      client may retry the same key (errors are not replayed: a 409 from a race may not repeat).
    * ``forget_old`` drops rows older than ``KEEP`` (the worker calls it).

The caller is a digest of the credential (bearer token or session cookie), so keys of different
callers never meet. The key is 1 to 200 visible ASCII characters, e.g. a UUID.

Example::

    begun = begin(sessions, caller="9f…", key="c0ffee-1", method="POST", path="/api/v1/touchpoints", now=now)
    # Started(id=3) → run the request, then finish(sessions, 3, fingerprint=..., status=200, ...)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from revteam.errors import Conflict, InvalidInput
from revteam.store.db import transaction
from revteam.store.models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY = 200
MAX_STORED_BODY = 1 << 20  # answers above 1 MiB are not kept (the request is then not replayable)
STALE_AFTER = timedelta(minutes=10)
KEEP = timedelta(hours=24)


@dataclass(frozen=True)
class Started:
    id: int


@dataclass(frozen=True)
class Earlier:
    fingerprint: str | None
    status_code: int
    content_type: str | None
    body: bytes


@dataclass(frozen=True)
class Busy:
    started_at: datetime


def check_key(key: str) -> str:
    if not (1 <= len(key) <= MAX_KEY) or not all(33 <= ord(ch) <= 126 for ch in key):
        raise InvalidInput(f"The {HEADER} header must be 1 to {MAX_KEY} visible ASCII characters (a UUID is good).",
                           code="bad_idempotency_key")
    return key


def key_in_use() -> Conflict:
    return Conflict(f"A request with this {HEADER} is still being processed; wait for its answer, then retry.",
                    code="idempotency_key_in_use")


def key_reused() -> InvalidInput:
    return InvalidInput(f"This {HEADER} was already used for a different request; use a new key for a new request.",
                        code="idempotency_key_reused")


def begin(sessions: sessionmaker[Session], *, caller: str, key: str, method: str, path: str,
          now: datetime) -> Started | Earlier | Busy:
    check_key(key)
    for _ in range(3):
        with sessions() as s:
            try:
                with transaction(s):
                    row = s.scalar(select(IdempotentRequest).where(IdempotentRequest.caller == caller,
                                                                   IdempotentRequest.key == key))
                    if row is None:
                        row = IdempotentRequest(caller=caller, key=key, method=method[:10], path=path[:500],
                                                started_at=now)
                        s.add(row)
                        s.flush()
                        return Started(row.id)
                    if row.finished_at is not None:
                        return Earlier(row.fingerprint, row.status_code or 200, row.content_type, row.body or b"")
                    if row.started_at > now - STALE_AFTER:
                        return Busy(row.started_at)
                    taken = s.execute(update(IdempotentRequest).where(
                        IdempotentRequest.id == row.id, IdempotentRequest.finished_at.is_(None),
                        IdempotentRequest.started_at == row.started_at).values(started_at=now)).rowcount  # type: ignore[attr-defined]
                    if taken == 1:
                        return Started(row.id)
            except IntegrityError:
                pass  # the same key inserted at the same moment by another request: read it again
    return Busy(now)


def finish(sessions: sessionmaker[Session], request_id: int, *, fingerprint: str, status_code: int,
           content_type: str | None, body: bytes, now: datetime) -> None:
    if len(body) > MAX_STORED_BODY:
        abandon(sessions, request_id)
        return
    with sessions() as s, transaction(s):
        s.execute(update(IdempotentRequest).where(IdempotentRequest.id == request_id).values(
            fingerprint=fingerprint, status_code=status_code, content_type=(content_type or "")[:100] or None,
            body=body, finished_at=now))


def abandon(sessions: sessionmaker[Session], request_id: int) -> None:
    with sessions() as s, transaction(s):
        s.execute(delete(IdempotentRequest).where(IdempotentRequest.id == request_id,
                                                  IdempotentRequest.finished_at.is_(None)))


def forget_old(session: Session, *, now: datetime) -> int:
    with transaction(session):
        return session.execute(delete(IdempotentRequest).where(  # type: ignore[attr-defined]
            IdempotentRequest.started_at < now - KEEP)).rowcount
