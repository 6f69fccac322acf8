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
        return run_import(sessions, "touchpoints", path, now=now, actor=f"api:user:{actor_user_id}",
                          actor_user_id=actor_user_id, mapping=API_MAPPING, source_system=source_system,
                          filename=f"api batch ({len(events)} events)")
