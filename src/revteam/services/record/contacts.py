"""Looking contacts up the way people name them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.domain.identity import normalise_email
from revteam.errors import InvalidInput, NotFound
from revteam.store.models import Contact


def find_contact_id(session: Session, email: str) -> int:
    try:
        norm = normalise_email(email)
    except ValueError as e:
        raise InvalidInput(str(e), code="bad_email") from None
    cid = session.scalar(select(Contact.id).where(Contact.email == norm))
    if cid is None:
        raise NotFound(f"No contact with e-mail {norm}.", code="contact_not_found")
    return cid
