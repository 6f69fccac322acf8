"""Touchpoint events arriving over the REST API, validated exactly like a touchpoints file.

Each event carries ``event_id`` (its idempotency key); the batch is all-or-nothing.
"""

from __future__ import annotations

import json
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from revteam.errors import InvalidInput
from revteam.ingest.mapping import Mapping
from revteam.ingest.service import ImportReport, run_import

MAX_EVENTS = 10_000
API_MAPPING = Mapping(name="api", kind="touchpoints", columns={"event_id": ["external_id"], "email": ["contact_email"]})


def ingest_touchpoint_events(
    sessions: sessionmaker[Session],
    source_system: str,
    events: list[dict[str, Any]],
    *,
    now: datetime,
    actor_user_id: int | None,
) -> ImportReport:
    if not events:
        raise InvalidInput("The batch has no events; send at least one.", code="empty_batch")
    if len(events) > MAX_EVENTS:
        raise InvalidInput(f"The batch has {len(events):,} events; send at most {MAX_EVENTS:,} per call.", code="batch_too_large")
    if not source_system or len(source_system) > 40:
        raise InvalidInput("source_system is required (at most 40 characters), e.g. 'website'.", code="bad_source")
    from revteam.errors import ImportRejected, RowError

    problems = []
    for i, e in enumerate(events, start=1):
        if not isinstance(e, dict) or not e.get("event_id"):
            problems.append(RowError(i, "event_id", "`event_id` is required: it makes retries safe"))
        elif not (e.get("email") or e.get("contact_email") or e.get("contact_external_id")):
            problems.append(RowError(i, "email", "say whose event it is: give `email` or `contact_external_id`"))
    if problems:
        raise ImportRejected(errors=problems, kind="touchpoints")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for e in events:
                fh.write(json.dumps(e, default=str) + "\n")
        report = run_import(sessions, "touchpoints", path, now=now, actor=f"api:user:{actor_user_id}",
                            actor_user_id=actor_user_id, mapping=API_MAPPING, source_system=source_system,
                            filename=f"api batch ({len(events)} events)")
    if report.created:
        react_to_new_touches(sessions, source_system, [str(e["event_id"]) for e in events], now=now)
    return report


def react_to_new_touches(sessions: sessionmaker[Session], source_system: str, event_ids: list[str], *,
                         now: datetime) -> None:
    """Rescore the contacts these events belong to and hand over those who just qualified (fast track
    included): the seconds between a hand-raise and a rep's notification are the system's share."""
    from sqlalchemy import select

    from revteam.services.qualify.rescoring import score_and_hand_over
    from revteam.store.models import Touchpoint

    with sessions() as s:
        ids = sorted(set(s.scalars(select(Touchpoint.contact_id).where(
            Touchpoint.source_system == source_system, Touchpoint.external_id.in_(event_ids)))))
        if ids:
            score_and_hand_over(s, now=now, contact_ids=ids)
            s.commit()
