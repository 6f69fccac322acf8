"""Personal data: export everything held about a person, and erase it on request.

Erasure keeps the revenue record whole (touches, stage changes and deals still count in funnels and
attribution) but removes what identifies the person: name, e-mail, title, external id, touch URLs and
properties, context packets and score reasons. The e-mail's SHA-256 is kept so that a later import
does not bring the person back (the importer rejects such rows with a row error).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from revteam.errors import NotFound
from revteam.services.record.audit import record_audit
from revteam.store.db import transaction
from revteam.store.models import ContactScore, ErasedIdentity, Handoff
from revteam.store.models import Contact, DealContact, StageChange, Touchpoint


def email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def is_erased(session: Session, email: str | None) -> bool:
    return bool(email) and session.get(ErasedIdentity, email_digest(email)) is not None  # type: ignore[arg-type]


def _contact(session: Session, email: str) -> Contact:
    c = session.scalar(select(Contact).where(Contact.email == email.strip().lower()))
    if c is None:
        raise NotFound(f"No contact with e-mail {email}.", code="contact_not_found")
    return c


def export_person(session: Session, email: str) -> dict[str, Any]:
    c = _contact(session, email)
    touches = session.scalars(select(Touchpoint).where(Touchpoint.contact_id == c.id).order_by(Touchpoint.occurred_at))
    changes = session.scalars(select(StageChange).where(StageChange.contact_id == c.id).order_by(StageChange.changed_at))
    score = session.get(ContactScore, c.id)
    return {
        "contact": {k: getattr(c, k) for k in ("id", "email", "first_name", "last_name", "title", "persona", "consent",
                                               "original_source", "stage", "created_at", "source_system", "external_id")},
        "account": c.account.name if c.account else None,
        "touchpoints": [{"type": t.type, "channel": t.channel, "url": t.url, "occurred_at": t.occurred_at,
                         "properties": t.properties} for t in touches],
        "stage_changes": [{"from": s.from_stage, "to": s.to_stage, "at": s.changed_at, "reason": s.reason} for s in changes],
        "deals": [dc.deal_id for dc in session.scalars(select(DealContact).where(DealContact.contact_id == c.id))],
        "score": None if score is None else {"total": score.total, "reasons": score.reasons},
        "handoffs": [{"id": h.id, "status": h.status, "handed_at": h.handed_at, "reject_note": h.reject_note}
                     for h in session.scalars(select(Handoff).where(Handoff.contact_id == c.id))],
    }


def erase_person(session: Session, email: str, *, now: datetime, actor: str, actor_user_id: int | None = None) -> int:
    with transaction(session):
        c = _contact(session, email)
        digest = email_digest(c.email or email)
        if session.get(ErasedIdentity, digest) is None:
            session.add(ErasedIdentity(email_sha256=digest, erased_at=now))
        c.email = c.first_name = c.last_name = c.title = c.persona = None
        c.external_id = f"erased-{c.id}"
        c.source_system = "erased"
        c.consent = "opted_out"
        session.execute(update(Touchpoint).where(Touchpoint.contact_id == c.id).values(url=None, properties=None))
        session.execute(update(StageChange).where(StageChange.contact_id == c.id, StageChange.reason.is_not(None))
                        .values(reason="(erased)"))
        session.execute(update(Handoff).where(Handoff.contact_id == c.id).values(context=None, reject_note=None))
        session.execute(update(ContactScore).where(ContactScore.contact_id == c.id).values(reasons=None))
        record_audit(session, at=now, actor=actor, actor_user_id=actor_user_id, action="contact.erased", entity="contact",
                     entity_id=c.id)
    return c.id
