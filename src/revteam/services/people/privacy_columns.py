"""Where a person's data can be, column by column: the one registry erasure and export follow.

Every text, JSON or binary column of EVERY table is named here with one rule:

``blank``     on the person's own rows the column is overwritten with this value (``None`` or a marker);
``scrub``     in every row of the table, the person's e-mail (any ``+tag``), names and external ids are
              cut out of the text (or out of every string inside the JSON) and replaced by ``(erased)``;
``drop``      a row whose column mentions the person is deleted (a stored idempotent API answer, which
              is binary and only replays a request; a log-in throttle keyed by their address);
``keep``      declared not personal, with the reason (a stage key, a code, an id, a team member's data).

A column may be blanked on the person's rows and scrubbed everywhere else (an outbox message about the
person's handoff is blanked; a daily digest that lists them among others is scrubbed).
``tests/privacy/test_schema_walk.py`` walks ``Base.metadata`` and fails when a text, JSON
or binary column of any table is missing here, so a new column cannot be forgotten. Example: adding ``handoffs.call_notes``
fails that test until it is registered, say as ``blank(None)`` (erased with the person).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    false,
    or_,
)

ERASED = "(erased)"


@dataclass(frozen=True)
class Rule:
    blank: Any = None
    blanks: bool = False
    scrub: bool = False
    keep: str = ""
    drop: bool = False


def blank(value: Any = None, *, scrub: bool = False) -> Rule:
    """Overwritten on the person's rows (``value`` may be a function of the row's contact id)."""
    return Rule(blank=value, blanks=True, scrub=scrub)


def scrub() -> Rule:
    """The person's identifiers are cut out of this column in every row."""
    return Rule(scrub=True)


def drop() -> Rule:
    """A row whose value here mentions the person is deleted (nothing in it is worth keeping)."""
    return Rule(drop=True)


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
_STAFF = "about a team member (a user of revteam), not about a contact"
_SETUP = "configuration written by an admin (labels, codes, rules), not about a contact"
_COMPANY = "about a company (an account), not about a person"
_HASH = "a SHA-256 hash, never the clear value"

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
    "idempotent_requests": {
        "body": drop(),  # a stored answer (a decision, a dispute) names the contact: the whole row goes
        "path": drop(),
        "key": drop(),  # the client's Idempotency-Key, free text
        "caller": keep(_HASH + " of the caller's token or session"),
        "fingerprint": keep(_HASH + " of the request"),
        "method": keep("an HTTP method"),
        "content_type": keep("a media type"),
    },
    "login_throttles": {
        "key": drop(),  # account:<e-mail> (a contact may also have been a user) or address:<ip>
    },
    "touch_reactions": {
        "last_error": scrub(),
        "source_system": keep(_SOURCE),
        "contact_ids": keep("a list of contact ids"),
    },
    "absences": {"reason": scrub()},
    "scoring_models": {"body_toml": keep(_SETUP), "name": keep(_SETUP), "note": scrub()},
    "sla_agreements": {"text": scrub(), "terms": keep(_SETUP), "committee": keep("a list of user ids")},
    "accounts": {c: keep(_COMPANY) for c in ("source_system", "external_id", "name", "domain", "industry",
                                               "size_band", "region", "segment")},
    "api_tokens": {"name": keep(_STAFF), "prefix": keep("the first characters of a token, to tell tokens apart"),
                   "token_hash": keep(_HASH), "scope": keep("a token scope")},
    "campaigns": {c: keep("a marketing campaign") for c in ("source_system", "external_id", "name", "channel",
                                                              "type")},
    "content_assets": {c: keep("a content asset (a page, a white paper)") for c in
                       ("source_system", "external_id", "title", "type", "category", "status", "url")},
    "data_changes": {c: keep("a table or column name and a change kind") for c in ("table_name", "kind", "column")},
    "data_versions": {"table_name": keep("a table name")},
    "deal_stage_changes": {"from_stage": keep("a pipeline stage"), "to_stage": keep("a pipeline stage"),
                           "source": keep(_SOURCE)},
    "erased_external_ids": {"digest": keep(_HASH + " (a tombstone)")},
    "erased_identities": {"email_sha256": keep(_HASH + " (a tombstone)")},
    "lifecycle_stages": {c: keep(_SETUP) for c in ("key", "label", "kind")},
    "notification_groups": {"name": keep(_SETUP), "event": keep("a notification event"),
                            "channel": keep("a delivery channel"), "target": keep(_STAFF + ": a team inbox")},
    "notification_prefs": {"event": keep("a notification event"), "channels": keep("a list of channels")},
    "reject_reasons": {"code": keep(_SETUP), "label": keep(_SETUP)},
    "rep_profiles": {c: keep(_STAFF) for c in ("tz", "opens", "closes", "weekdays", "regions", "segments")},
    "routing_credits": {"pool": keep("the name of a routing pool")},
    "routing_rules": {c: keep(_SETUP) for c in ("strategy", "label", "match", "pool", "for_role")},
    "sla_signoffs": {"side": keep("marketing or sales")},
    "targets": {"metric": keep("a metric name")},
    "teams": {"name": keep(_STAFF), "function": keep(_STAFF)},
    "user_channels": {"channel": keep("a delivery channel"), "target": keep(_STAFF + ": their own address")},
    "users": {"email": keep(_STAFF), "name": keep(_STAFF), "role": keep("a role"),
              "password_hash": keep(_HASH + " (argon2) of a password")},
    "web_sessions": {"token_hash": keep(_HASH), "csrf_token": keep("a random token")},
}

_TEXT = (String, JSON, LargeBinary)


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
    """``table.column`` of every text, JSON or binary column of any table that has no rule here."""
    missing = []
    for name in sorted(metadata.tables):
        for col in metadata.tables[name].columns:
            if isinstance(col.type, _TEXT) and col.name not in COLUMNS.get(name, {}):
                missing.append(f"{name}.{col.name}")
    return missing
