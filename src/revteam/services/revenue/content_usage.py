"""Reps log which content they used in which deal, and whether it helped (PRODUCT.md R10)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.errors import NotFound
from revteam.services.record.audit import record_audit
from revteam.store.models import ContentUsage
from revteam.store.models import ContentAsset, Deal, User


def log_content_use(session: Session, *, deal_id: int, content_id: int, user: User, helped: bool | None,
                    note: str = "", now: datetime) -> ContentUsage:
    """Record (or update) that ``user`` used the piece in the deal; one row per rep, deal and piece."""
    if session.get(Deal, deal_id) is None:
        raise NotFound(f"No deal with id {deal_id}.", code="deal_not_found")
    if session.get(ContentAsset, content_id) is None:
        raise NotFound(f"No content piece with id {content_id}.", code="content_not_found")
    row = session.scalar(select(ContentUsage).where(ContentUsage.deal_id == deal_id, ContentUsage.content_id == content_id,
                                                    ContentUsage.user_id == user.id))
    if row is None:
        row = ContentUsage(deal_id=deal_id, content_id=content_id, user_id=user.id, used_at=now)
        session.add(row)
    row.helped, row.note = helped, note.strip() or None
    session.flush()
    record_audit(session, at=now, actor=f"user:{user.id}", actor_user_id=user.id, action="content.used", entity="deal",
                 entity_id=deal_id, detail={"content_id": content_id, "helped": helped})
    return row
