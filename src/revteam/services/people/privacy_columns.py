"""Where a person's data can be, column by column: the one registry erasure and export follow.

Every text or JSON column of a table that belongs to a contact (the contact row itself and every table
that references it, directly or through a handoff or a dispute) and of the free-text logs (outbox,
import runs, audit log, owner changes) is named here with one rule:

``blank``     on the person's own rows the column is overwritten with this value (``None`` or a marker);
``scrub``     in every row of the table, the person's e-mail (any ``+tag``), names and external ids are
              cut out of the text (or out of every string inside the JSON) and replaced by ``(erased)``;
``keep``      declared not personal, with the reason (a stage key, a code, an id).

A column may be blanked on the person's rows and scrubbed everywhere else (an outbox message about the
person's handoff is blanked; a daily digest that lists them among others is scrubbed).
``tests/privacy/test_schema_walk.py`` walks ``Base.metadata`` and fails when a text/JSON column of such a
table is missing here, so a new column cannot be forgotten. Example: adding ``handoffs.call_notes``
fails that test until it is registered, say as ``blank(None)`` (erased with the person).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, ColumnElement, MetaData, String, Table, and_, false, or_

ERASED = "(erased)"


@dataclass(frozen=True)
class Rule:
    blank: Any = None
    blanks: bool = False
    scrub: bool = False
    keep: str = ""


def blank(value: Any = None, *, scrub: bool = False) -> Rule:
    """Overwritten on the person's rows (``value`` may be a function of the row's contact id)."""
    return Rule(blank=value, blanks=True, scrub=scrub)


def scrub() -> Rule:
    """The person's identifiers are cut out of this column in every row."""
    return Rule(scrub=True)


def keep(why: str) -> Rule:
    """Not personal data: a code, a key, an id, a stage."""
    return Rule(keep=why)


@dataclass(frozen=True)
class Person:
    """The rows that are one contact's: the contact, their handoffs and those handoffs' disputes."""

    contact_id: int
    handoff_ids: tuple[int, ...]
    dispute_ids: tuple[int, ...]


def _in(col: Any, ids: tuple[int, ...]) -> ColumnElement[bool]:
    return col.in_(ids) if ids else false()


def _key_prefixes(col: Any, prefix: str, ids: tuple[int, ...]) -> list[ColumnElement[bool]]:
    return [col.like(f"{prefix}:{i}:%") for i in ids]


def _audit_owner(t: Table, p: Person) -> ColumnElement[bool]:
    return or_(and_(t.c.entity == "contact", t.c.entity_id == str(p.contact_id)),
               and_(t.c.entity == "handoff", _in(t.c.entity_id, tuple(str(i) for i in p.handoff_ids))),
               and_(t.c.entity == "dispute", _in(t.c.entity_id, tuple(str(i) for i in p.dispute_ids))))


def _outbox_owner(t: Table, p: Person) -> ColumnElement[bool]:
    keys = _key_prefixes(t.c.key, "handoff", p.handoff_ids) + _key_prefixes(t.c.key, "dispute", p.dispute_ids)
    return or_(*keys) if keys else false()


#: How to find the person's own rows in each table (tables without an entry are only scrubbed).
OWNED_ROWS: dict[str, Callable[[Table, Person], ColumnElement[bool]]] = {
    "contacts": lambda t, p: t.c.id == p.contact_id,
    "touchpoints": lambda t, p: t.c.contact_id == p.contact_id,
    "stage_changes": lambda t, p: t.c.contact_id == p.contact_id,
    "handoffs": lambda t, p: t.c.contact_id == p.contact_id,
    "contact_scores": lambda t, p: t.c.contact_id == p.contact_id,
    "deal_contacts": lambda t, p: t.c.contact_id == p.contact_id,
    "disputes": lambda t, p: _in(t.c.handoff_id, p.handoff_ids),
    "dispute_votes": lambda t, p: _in(t.c.dispute_id, p.dispute_ids),
    "owner_changes": lambda t, p: and_(t.c.entity == "contact", t.c.entity_id == p.contact_id),
    "audit_log": _audit_owner,
    "outbox": _outbox_owner,
}

#: Tables that hold free text about anybody, scanned whole (besides the tables that reference contacts).
LOG_TABLES = ("outbox", "import_runs", "audit_log", "owner_changes", "deals", "scoring_reviews", "content_usage")

_STAGE = "a lifecycle stage key"
_SOURCE = "the name of a source system (crm, hubspot, api)"
_EVENT_ID = "the sending system's event or record id, kept so a repeated event is recognised"

COLUMNS: dict[str, dict[str, Rule]] = {
    "contacts": {
        "email": blank(None),
        "source_system": blank("erased"),
        "external_id": blank(lambda contact_id: f"erased-{contact_id}"),
        "first_name": blank(None),
        "last_name": blank(None),
        "title": blank(None),
        "persona": blank(None),
        "consent": blank("opted_out"),
        "original_source": keep("the channel that brought the contact (webinar, paid_search)"),
        "stage": keep(_STAGE),
    },
    "touchpoints": {
        "url": blank(None),
        "properties": blank(None),
        "type": keep("a touch type from TOUCH_TYPES"),
        "channel": keep("a marketing channel"),
        "source_system": keep(_SOURCE),
        "external_id": keep(_EVENT_ID),
    },
    "stage_changes": {
        "reason": blank(None),
        "from_stage": keep(_STAGE),
        "to_stage": keep(_STAGE),
        "actor_rule": keep("the rule that moved the contact (import:crm, scoring)"),
        "source_system": keep(_SOURCE),
        "external_id": keep(_EVENT_ID),
    },
    "handoffs": {
        "reject_note": blank(None),
        "routing_reason": blank(None),
        "context": blank(None),
        "kind": keep("mql or sql"),
        "status": keep("a handoff status"),
        "priority": keep("a priority level"),
        "reject_reason": keep("a reject reason code"),
        "routing_rule": keep("the label of a routing rule"),
        "source": keep("the lead source channel"),
    },
    "contact_scores": {
        "reasons": blank(None),
    },
    "deal_contacts": {
        "role": keep("the contact's role in the deal (champion, decision_maker)"),
    },
    "disputes": {
        "reason": blank(ERASED),
        "summary": blank(None),
        "outcome": keep("a dispute outcome code"),
        "committee": keep("a list of user ids"),
    },
    "dispute_votes": {
        "reason": blank(ERASED),
        "choice": keep("a vote choice code"),
    },
    "outbox": {
        "subject": blank(ERASED, scrub=True),
        "body": blank(ERASED, scrub=True),
        "target": scrub(),
        "last_error": scrub(),
        "key": keep("event name and ids (handoff:12:assigned:u3:email)"),
        "event": keep("a notification event"),
        "channel": keep("a delivery channel"),
        "status": keep("a delivery status"),
        "claimed_by": keep("a worker id"),
    },
    "import_runs": {
        "errors": scrub(),
        "warnings": scrub(),
        "filename": scrub(),
        "kind": keep("an import kind"),
        "sha256": keep("the file's hash"),
        "status": keep("an import status"),
    },
    "audit_log": {
        "detail": blank(None, scrub=True),
        "actor": keep("user:<id>, cli, import or rule:<name>"),
        "action": keep("an action name"),
        "entity": keep("an entity kind"),
        "entity_id": keep("an entity id"),
    },
    "owner_changes": {
        "reason": blank(None, scrub=True),
        "entity": keep("contact or account"),
    },
    "deals": {
        "name": scrub(),
        "lost_reason": scrub(),
        "source_system": keep(_SOURCE),
        "external_id": keep("the CRM's deal id"),
        "currency": keep("an ISO currency code"),
        "stage": keep("a pipeline stage"),
        "outcome": keep("open, won or lost"),
        "source": keep("the lead source channel"),
    },
    "scoring_reviews": {
        "summary": scrub(),
        "closed_note": scrub(),
        "source": keep("the lead source channel"),
        "reason": keep("a reject reason code"),
        "last_week": keep("an ISO week"),
        "status": keep("open or done"),
    },
    "content_usage": {
        "note": scrub(),
    },
}


def tables_with_people(metadata: MetaData) -> set[str]:
    """``contacts``, every table that references it (directly or through another such table), and the logs."""
    found = {"contacts"}
    grew = True
    while grew:
        grew = False
        for t in metadata.tables.values():
            if t.name not in found and any(fk.column.table.name in found for fk in t.foreign_keys):
                found.add(t.name)
                grew = True
    return found | set(LOG_TABLES)


def unregistered_columns(metadata: MetaData) -> list[str]:
    """``table.column`` of every text or JSON column that could hold personal data but has no rule here."""
    missing = []
    for name in sorted(tables_with_people(metadata)):
        for col in metadata.tables[name].columns:
            if isinstance(col.type, (String, JSON)) and col.name not in COLUMNS.get(name, {}):
                missing.append(f"{name}.{col.name}")
    return missing
