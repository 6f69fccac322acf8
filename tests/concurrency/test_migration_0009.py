"""Migration 0009 on a database that earlier races left with two open handoffs of one lead: the first
stays open, the later one is closed as a duplicate, and then the partial unique index holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revteam.store.models import Handoff
from tests.conftest import empty_database, upgrade_to
from tests.factories import make_contact

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def handoff(contact_id: int, status: str, kind: str = "mql") -> Handoff:
    return Handoff(contact_id=contact_id, kind=kind, status=status, priority="hot", handed_at=AT)


def test_duplicate_open_handoffs_are_closed_before_the_index(engine: Engine) -> None:
    empty_database(engine)
    upgrade_to(engine, "0008")
    with Session(engine) as s:
        c, other = make_contact(s, email="dup@initech.com"), make_contact(s, email="one@initech.com")
        first, second, third = handoff(c.id, "pending"), handoff(c.id, "unassigned"), handoff(c.id, "pending")
        kept = [handoff(c.id, "rejected"), handoff(c.id, "pending", kind="sql"), handoff(other.id, "pending")]
        s.add_all([first, second, third, *kept])
        s.commit()
        ids = [h.id for h in (first, second, third, *kept)]
        contact_id = c.id
    upgrade_to(engine, "head")
    with Session(engine) as s:
        rows = {h.id: h for h in s.scalars(select(Handoff))}
        assert [rows[i].status for i in ids] == ["pending", "rejected", "rejected", "rejected", "pending", "pending"]
        assert rows[ids[1]].reject_reason == "duplicate" and "0009" in rows[ids[1]].reject_note
        assert rows[ids[3]].reject_reason is None  # a decided handoff is left alone
        s.add(handoff(contact_id, "pending"))
        with pytest.raises(IntegrityError):
            s.flush()
