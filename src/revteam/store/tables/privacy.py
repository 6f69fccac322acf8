"""Erasure tombstones beyond the e-mail: hashed ``(source_system, external_id)`` pairs of erased people.

``erased_identities`` (``store/tables/people.py``) holds the SHA-256 of an erased person's mailbox (their
address without ``+tag``); this table holds ``sha256("<source_system>\\x1f<external_id>")`` for each CRM
record of theirs, so a re-import by external id (a person without an e-mail, or a CRM that renamed the
address) is refused too. Example: erasing HubSpot contact ``901`` keeps ``sha256("hubspot\\x1f901")``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from revteam.store.tables.base import Base
from revteam.store.types import UTCDateTime


class ErasedExternalId(Base):
    """SHA-256 of ``source_system + "\\x1f" + external_id`` of a record of an erased person."""

    __tablename__ = "erased_external_ids"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)
