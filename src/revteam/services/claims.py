"""Race-safe decisions: a decision claims its row with a conditional update inside the use case's
transaction, so of two people deciding the same thing at once exactly one wins and the other gets a
``Conflict`` (409) instead of a mixed state.

Model
    ``claim(session, Handoff, 7, Handoff.status == "pending", status="accepted")`` runs
    ``UPDATE handoffs SET status = 'accepted' WHERE id = 7 AND status = 'pending'`` and tells whether it
    changed the row. On PostgreSQL the UPDATE takes the row lock: a second claimer waits until the first
    commits, then finds the condition false (READ COMMITTED re-checks it on the new row). On SQLite the
    UPDATE takes the database's write lock (writers are serialised), so the same holds.

    ``hold`` is a claim that changes nothing (it sets a column to itself): it serialises the decisions
    on one row (votes on a dispute, signatures of an agreement), and what the use case reads after it
    is current. ``serialize`` takes a named lock for work that has no row of its own (routing a lead,
    draining the touch-reaction queue): ``pg_advisory_xact_lock`` on PostgreSQL, the write lock on SQLite;
    both are released when the transaction ends. ``try_serialize`` takes it only when it is free.

Example::

    with transaction(session):
        if not claim(session, Handoff, h.id, Handoff.status == "pending", status="accepted", decided_at=now):
            raise Conflict("Someone decided this lead a moment ago.", code="handoff_decided")
"""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import ColumnElement, text, update
from sqlalchemy.orm import Session


def claim(session: Session, model: Any, row_id: int, *conditions: ColumnElement[bool], **values: Any) -> bool:
    """Set ``values`` on the row when ``conditions`` still hold; True when this caller won the row.
    The in-memory object (if loaded) is refreshed either way, so it shows the state that won."""
    result = session.execute(update(model).where(model.id == row_id, *conditions).values(**values)
                             .execution_options(synchronize_session=False))
    won = result.rowcount == 1  # type: ignore[attr-defined]
    obj = session.identity_map.get(session.identity_key(model, row_id))
    if obj is not None:
        session.refresh(obj)
    return won


def hold(session: Session, model: Any, row_id: int, column: Any, *conditions: ColumnElement[bool]) -> bool:
    """Lock the row (when ``conditions`` hold) without changing it; True when it was locked."""
    return claim(session, model, row_id, *conditions, **{column.key: column})


def lock_key(name: str) -> int:
    """A stable 32-bit key for a named lock (the advisory lock's number on PostgreSQL)."""
    return zlib.crc32(f"revteam:{name}".encode())


def serialize(session: Session, name: str) -> None:
    """Wait for, then hold until the end of the transaction, the lock called ``name``."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(name)})
    else:  # SQLite: any write statement takes the one write lock; this one writes nothing
        session.execute(text("UPDATE touch_reactions SET attempts = attempts WHERE 1 = 0"))


def try_serialize(session: Session, name: str) -> bool:
    """Take the lock called ``name`` if nobody holds it (PostgreSQL), and say whether this caller has it.
    SQLite has no such test: it waits for the write lock, as ``serialize`` does, and answers True."""
    if session.get_bind().dialect.name == "postgresql":
        return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": lock_key(name)}))
    serialize(session, name)
    return True
