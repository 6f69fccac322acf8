"""The touch-reaction queue: rescoring and hand-over owed to committed touch batches, done exactly once.

Model
    A batch of touch events is written in one transaction together with a ``TouchReaction`` row (the
    contacts of its new events: ``owe_reaction``). Right after the commit the receiving request drains
    the queue, and the worker drains it every round, so a crash between the commit and the rescoring
    loses nothing: the next drain does it. A drain takes the ``touch_reactions`` lock
    (``claims.serialize``; drains run one at a time), reads the reactions still owed, rescores their
    contacts and hands over those who now qualify (``score_and_hand_over``) and marks them done, all in
    one transaction: either the scores, the handoffs and the marks are kept, or none of them, so no
    batch is scored twice or never.

    A reaction that fails is retried by the next drain (each drain counts one attempt); one that failed
    ``MAX_ATTEMPTS`` times is left in the table with its last error, for an admin to look at, and no
    longer holds up the others.

Example::

    with transaction(session):
        ...insert the touches...
        owe_reaction(session, "website", [7, 9], now=now)
    drain_touch_reactions(sessions, now=now)   # -> 1 (reactions done)
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from revteam.services.claims import serialize, try_serialize
from revteam.services.qualify.rescoring import score_and_hand_over
from revteam.store.db import transaction
from revteam.store.models import TouchReaction

log = logging.getLogger("revteam.reactions")

BATCH = 200  # reactions drained per transaction
MAX_ATTEMPTS = 5
_OWED = TouchReaction.done_at.is_(None) & (TouchReaction.attempts < MAX_ATTEMPTS)



def owe_reaction(session: Session, source_system: str, contact_ids: Iterable[int], *, now: datetime) -> None:
    """Record, in the caller's transaction, that these contacts need rescoring because new touches came in."""
    ids = sorted({int(c) for c in contact_ids})
    if ids:
        session.add(TouchReaction(source_system=source_system, contact_ids=ids, created_at=now, attempts=0))


def pending_reactions(session: Session) -> int:
    """How many reactions are still owed (retried ones included)."""
    return session.scalar(select(func.count()).select_from(TouchReaction).where(TouchReaction.done_at.is_(None))) or 0


def _drain_once(session: Session, *, now: datetime, limit: int, wait: bool) -> int | None:
    """One transaction of the drain: how many reactions it did, or None when another drain holds the lock."""
    with transaction(session):
        if wait:
            serialize(session, "touch_reactions")
        elif not try_serialize(session, "touch_reactions"):
            return None
        owed = session.scalars(select(TouchReaction).where(_OWED).order_by(TouchReaction.id).limit(limit)).all()
        if not owed:
            return 0
        contact_ids = sorted({int(c) for r in owed for c in r.contact_ids})
        score_and_hand_over(session, now=now, contact_ids=contact_ids)
        for r in owed:
            r.done_at = now
        return len(owed)


def _note_failure(sessions: sessionmaker[Session], error: BaseException, *, limit: int) -> None:
    """The batch failed and was rolled back: count an attempt on its reactions, so a poisoned one stops."""
    with sessions() as s, transaction(s):
        ids = s.scalars(select(TouchReaction.id).where(TouchReaction.done_at.is_(None),
                                                       TouchReaction.attempts < MAX_ATTEMPTS)
                        .order_by(TouchReaction.id).limit(limit)).all()
        s.execute(update(TouchReaction).where(TouchReaction.id.in_(ids))
                  .values(attempts=TouchReaction.attempts + 1, last_error=f"{type(error).__name__}: {error}"[:2000]))


def _owed(sessions: sessionmaker[Session]) -> bool:
    with sessions() as s:
        return s.scalar(select(TouchReaction.id).where(_OWED).limit(1)) is not None


def drain_touch_reactions(sessions: sessionmaker[Session], *, now: datetime, limit: int = BATCH,
                          wait: bool = True, rounds: int | None = None) -> int:
    """Do the reactions owed, ``limit`` per transaction; how many were done.

    ``wait=False`` (after a request's commit): when another drain is running, leave it to that one. This
    is safe: a drain that finds the queue empty releases the lock and then looks once more, so a
    reaction committed while it held the lock is never stranded. ``rounds`` bounds the transactions of
    one call (a request does not drain for ever under load; the next request or the worker goes on).
    When a batch fails it is retried one reaction at a time; the first reaction that fails on its own
    gets an attempt counted and the drain stops there (the next drain tries again; after
    ``MAX_ATTEMPTS`` it is skipped)."""
    done = 0
    size = limit
    done_rounds = 0
    while True:
        try:
            with sessions() as s:
                n = _drain_once(s, now=now, limit=size, wait=wait)
        except Exception as e:  # noqa: BLE001 - recorded on the reaction; the worker retries it
            if size > 1:
                size = 1
                continue
            log.warning("a touch reaction failed (%s); it stays owed", e)
            _note_failure(sessions, e, limit=1)
            return done
        if n is None:
            return done  # another drain holds the lock; it looks again after releasing it
        done += n
        done_rounds += 1
        if n == 0:
            if not _owed(sessions):  # the lock is released now: anything committed meanwhile is seen here
                return done
        elif rounds is not None and done_rounds >= rounds:
            return done
        size = limit
