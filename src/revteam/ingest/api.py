"""Touchpoint events arriving over the REST API, validated exactly like a touchpoints file.

Each event carries ``event_id``, its idempotency key within its ``source_system``; the batch is
all-or-nothing.

Model
    1. Validate every event with the touchpoints file rules (``KIND_SPECS``, ``validate_records``) and
       resolve the contacts, campaigns, content and sales users it names, asking the database only for
       the ones the batch names. Any problem: 422 with every row's error, nothing written.
    2. One transaction writes the new events with ``INSERT ... ON CONFLICT (source_system, external_id)
       DO NOTHING RETURNING``: an event already stored, also by a request running at the same moment,
       is simply not inserted and counts as ``unchanged`` (the unique index answers, nothing is loaded).
       The same transaction writes the reaction owed to the new events (``reactions.owe_reaction``:
       rescore their contacts, hand over those who qualify), the import run and the audit entry.
       A deadlock or a busy database before the commit is retried (``ATTEMPTS``).
    3. After the commit the queue is drained (``drain_touch_reactions``), unless another request is
       draining it already (then that one does this batch's reaction too); a failure there is logged,
       never answered: the batch is kept, and the worker drains what is left. A committed batch is
       never answered with an error.

Example: the same event sent four times at once is stored once; one answer says ``created: 1``, the
three others ``unchanged: 1``, and the contact is rescored once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from revteam.errors import ImportRejected, InvalidInput, RowError
from revteam.ingest.handlers import HANDLERS
from revteam.ingest.mapping import Mapping
from revteam.ingest.readers import RawRow
from revteam.ingest.schemas import KIND_SPECS
from revteam.ingest.service import ImportReport, check_columns, validate_records
from revteam.services.qualify.reactions import drain_touch_reactions, owe_reaction
from revteam.services.record.audit import record_audit
from revteam.services.record.lifecycle import load_stages
from revteam.store.db import transaction
from revteam.store.models import (
    Campaign,
    Contact,
    ContentAsset,
    ImportRun,
    Touchpoint,
    User,
)

log = logging.getLogger("revteam.ingest.api")

MAX_EVENTS = 10_000
API_MAPPING = Mapping(name="api", kind="touchpoints", columns={"event_id": ["external_id"], "email": ["contact_email"]})
CHUNK = 500  # events per INSERT statement
ATTEMPTS = 4  # tries of the write transaction when the database reports a deadlock or is busy
DRAIN_ROUNDS = 5  # transactions of the reaction queue a request drains at most (the worker goes on)
TRANSIENT_SQLSTATES = {"40P01", "40001", "55P03"}  # deadlock, serialization failure, lock not available


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
    report = ImportReport(kind="touchpoints", filename=f"api batch ({len(events)} events)", rows=len(events))
    report._sha256 = hashlib.sha256(json.dumps(events, sort_keys=True, default=str).encode()).hexdigest()  # type: ignore[attr-defined]
    problems = []
    for i, e in enumerate(events, start=1):
        if not isinstance(e, dict) or not e.get("event_id"):
            problems.append(RowError(i, "event_id", "`event_id` is required: it makes retries safe"))
        elif not (e.get("email") or e.get("contact_email") or e.get("contact_external_id")):
            problems.append(RowError(i, "email", "say whose event it is: give `email` or `contact_external_id`"))
    if problems:
        _rejected(sessions, report, problems, now, actor_user_id)
    rows = _validated(sessions, report, events, source_system, now, actor_user_id)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with sessions() as s:
                _write(s, report, rows, source_system, now=now, actor_user_id=actor_user_id)
            break
        except DBAPIError as e:
            if attempt == ATTEMPTS or not _transient(e):
                raise
            log.info("touch batch write retried after %s (attempt %d)", type(e.orig).__name__, attempt)
            time.sleep(0.02 * attempt)
    if report.created:
        try:
            drain_touch_reactions(sessions, now=now, wait=False, rounds=DRAIN_ROUNDS)
        except Exception:
            log.exception("rescoring after a touch batch failed; the worker will do it")
    return report


def _transient(e: DBAPIError) -> bool:
    state = getattr(e.orig, "sqlstate", None) or getattr(e.orig, "pgcode", None)
    return state in TRANSIENT_SQLSTATES or "database is locked" in str(e.orig)


def _validated(sessions: sessionmaker[Session], report: ImportReport, events: list[dict[str, Any]], source: str,
               now: datetime, actor_user_id: int | None) -> list[dict[str, Any]]:
    """The events as touchpoint rows (contact, campaign, content and user ids resolved), or 422."""
    spec = KIND_SPECS["touchpoints"]
    raw = [RawRow(i, dict(e)) for i, e in enumerate(events, start=1)]
    try:
        check_columns(spec, API_MAPPING, list(dict.fromkeys(k for e in events for k in e)))
    except InvalidInput as e:
        report.errors = [RowError(**d) for d in (e.details or [])] if isinstance(e.details, list) else []
        _record_run(sessions, report, "rejected", now, actor_user_id)
        raise
    with sessions() as s:
        good, errors, warnings = validate_records(spec, API_MAPPING, raw, HANDLERS["touchpoints"](), load_stages(s),
                                                  now, every_key=False)
        good = _without_repeats(good, errors)
        report.warnings = warnings
        if errors:
            _rejected(sessions, report, errors, now, actor_user_id)
        refs = _References(s, source, good)
        rows = []
        for row in good:
            values = refs.resolve(row, errors)
            if values is not None:
                rows.append(values)
        if errors:
            _rejected(sessions, report, errors, now, actor_user_id)
    rows.sort(key=lambda r: r["external_id"])  # one order for every batch: concurrent inserts never deadlock
    return rows


class _References:
    """The records a batch names, looked up by the values it names (by index, never a whole table)."""

    def __init__(self, s: Session, source: str, rows: list[dict[str, Any]]) -> None:
        self.source = source
        emails = {r["contact_email"] for r in rows if r.get("contact_email")}
        exts = {r["contact_external_id"] for r in rows if r.get("contact_external_id")}
        self.by_email = dict(s.execute(select(Contact.email, Contact.id).where(Contact.email.in_(emails)))
                             .all()) if emails else {}
        self.by_ext = dict(s.execute(select(Contact.external_id, Contact.id).where(
            Contact.source_system == source, Contact.external_id.in_(exts))).all()) if exts else {}
        self.campaigns = self._by_ext(s, Campaign, {r["campaign"] for r in rows if r.get("campaign")})
        self.content = self._by_ext(s, ContentAsset, {r["content"] for r in rows if r.get("content")})
        actors = {r["actor_email"] for r in rows if r.get("actor_email")}
        self.users = dict(s.execute(select(User.email, User.id).where(User.email.in_(actors))).all()) if actors else {}

    def _by_ext(self, s: Session, model: Any, exts: set[str]) -> dict[str, int]:
        """External id → id: this source system's record first, else the one record of any source."""
        if not exts:
            return {}
        found: dict[str, list[tuple[str, int]]] = {}
        for i, src, ext in s.execute(select(model.id, model.source_system, model.external_id)
                                     .where(model.external_id.in_(exts))):
            found.setdefault(ext, []).append((src, i))
        out = {}
        for ext, hits in found.items():
            own = [i for src, i in hits if src == self.source]
            if own or len(hits) == 1:
                out[ext] = own[0] if own else hits[0][1]
        return out

    def resolve(self, row: dict[str, Any], errors: list[RowError]) -> dict[str, Any] | None:
        n = row["_row"]
        email, ext = row.get("contact_email"), row.get("contact_external_id")
        contact = self.by_email.get(email) if email else None
        if contact is None and ext:
            contact = self.by_ext.get(ext)
        problems = []
        if contact is None:
            problems.append(RowError(n, "contact_email" if email else "contact_external_id",
                                     f"unknown contact {email or ext!r}; import the contacts first or fix the reference",
                                     email or ext))
        ids = {}
        for column, table, kind in (("campaign", self.campaigns, "campaign"), ("content", self.content, "content")):
            ids[column] = table.get(row[column]) if row.get(column) else None
            if row.get(column) and ids[column] is None:
                problems.append(RowError(n, column, f"unknown {kind} {row[column]!r}; import {kind}s first or fix the id",
                                         row[column]))
        actor = self.users.get(row["actor_email"]) if row.get("actor_email") else None
        if row.get("actor_email") and actor is None:
            problems.append(RowError(n, "actor_email", f"no revteam user has e-mail {row['actor_email']}; add them with "
                                     "`revteam users add` or leave it empty", row["actor_email"]))
        if problems:
            errors.extend(problems)
            return None
        return {"contact_id": contact, "type": row["type"], "channel": row.get("channel"), "campaign_id": ids["campaign"],
                "content_id": ids["content"], "url": row.get("url"), "occurred_at": row["occurred_at"],
                "properties": row.get("properties"), "source_system": self.source, "external_id": row["external_id"],
                "actor_user_id": actor}


def _write(s: Session, report: ImportReport, rows: list[dict[str, Any]], source: str, *, now: datetime,
           actor_user_id: int | None) -> None:
    """The new events, the reaction they are owed, the run and the audit entry: one transaction."""
    with transaction(s):
        insert = _insert_ignoring_repeats(s)
        new_contacts: list[int] = []
        for start in range(0, len(rows), CHUNK):
            stored = s.execute(insert.returning(Touchpoint.contact_id), rows[start:start + CHUNK]).scalars().all()
            new_contacts.extend(stored)
        report.created = len(new_contacts)
        report.unchanged = len(rows) - report.created
        report.updated = report.rejected = 0
        report.errors = []
        report.status = "written"
        owe_reaction(s, source, new_contacts, now=now)
        record_audit(s, at=now, actor=f"api:user:{actor_user_id}", actor_user_id=actor_user_id, action="import.written",
                     entity="touchpoints", detail={k: v for k, v in report.to_dict().items()
                                                   if k not in ("warnings", "errors", "run_id")})
        run = _run_row(report, "written", now, actor_user_id)
        s.add(run)
        s.flush()
        report.run_id = run.id


def _insert_ignoring_repeats(s: Session) -> Any:
    if s.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(Touchpoint).on_conflict_do_nothing(index_elements=["source_system", "external_id"])


def _rejected(sessions: sessionmaker[Session], report: ImportReport, errors: list[RowError], now: datetime,
              actor_user_id: int | None) -> None:
    report.errors = sorted(errors, key=lambda e: (e.row, e.column or ""))
    report.rejected = len({e.row for e in errors})
    report.created = report.updated = report.unchanged = 0
    _record_run(sessions, report, "rejected", now, actor_user_id)
    raise ImportRejected(errors=report.errors, kind="touchpoints")


def _run_row(report: ImportReport, status: str, now: datetime, actor_user_id: int | None) -> ImportRun:
    return ImportRun(kind=report.kind, filename=report.filename[:500], sha256=getattr(report, "_sha256", ""), started_at=now, finished_at=now,
                     status=status, rows=report.rows, created=report.created, updated=report.updated,
                     unchanged=report.unchanged, rejected=report.rejected,
                     warnings=[w.to_dict() for w in report.warnings[:200]] or None,
                     errors=[e.to_dict() for e in report.errors[:200]] or None, actor_user_id=actor_user_id)


def _record_run(sessions: sessionmaker[Session], report: ImportReport, status: str, now: datetime,
                actor_user_id: int | None) -> None:
    with sessions() as s, transaction(s):
        run = _run_row(report, status, now, actor_user_id)
        s.add(run)
        s.flush()
        report.run_id = run.id


def _without_repeats(rows: list[dict[str, Any]], errors: list[RowError]) -> list[dict[str, Any]]:
    """An event id twice in one batch is a row error (as in a file): the sender meant two events or one."""
    first: dict[str, int] = {}
    kept = []
    for row in rows:
        key = str(row.get("external_id"))
        if key in first:
            errors.append(RowError(row["_row"], "external_id", f"duplicate of row {first[key]} (same event_id {key}); "
                                   "send each event once per batch", key[:200]))
        else:
            first[key] = row["_row"]
            kept.append(row)
    return kept
