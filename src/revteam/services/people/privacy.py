"""Personal data: export everything held about a person, erase it on request, and keep it erased.

A person is named by e-mail (every contact of that mailbox, whatever its ``+tag``), by contact id, or by
``(source_system, external_id)`` for people without an e-mail. Erasure keeps the revenue record whole
(touches, stage changes and deals still count in funnels and attribution) but removes what identifies the
person, following the column registry in ``privacy_columns``: the person's own rows are blanked (name,
e-mail, title, external id, touch URLs and properties, handoff notes and context, dispute and vote text,
score reasons, outbox messages about their handoffs, audit details), the free-text logs (every outbox
message, import-run errors and warnings, audit details, owner-change reasons, deal names, scoring
reviews, content-usage notes, touch-reaction errors) have the person's e-mail, names and external ids
cut out, and stored idempotent API answers and log-in throttles that mention them are deleted. Tombstones
(``tombstones``) keep hashed identities so no import brings the person back. Erase, lift and re-apply take
the ``imports`` lock (``claims.serialize``), so an import that is writing finishes before and is erased too.

Example::

    erase_person(s, email="ana+news@acme.com", now=now, actor="cli")   # erases ana@ and ana+crm@ too
    export_person(s, source_system="hubspot", external_id="901")        # JSON-ready dict
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, Table, cast, delete, func, or_, select, update
from sqlalchemy.orm import Session

from revteam.domain.identity import normalise_email, person_key
from revteam.errors import InvalidInput, NotFound
from revteam.services.claims import serialize
from revteam.services.people import tombstones as ts
from revteam.services.people.privacy_columns import COLUMNS, ERASED, OWNED_ROWS, Person
from revteam.services.record.audit import record_audit
from revteam.store.db import transaction
from revteam.store.models import (
    AuditEntry,
    Base,
    Contact,
    Dispute,
    Handoff,
    User,
)

email_digest = ts.email_tombstone  # the name older callers used
is_erased = ts.is_erased
erased_identity = ts.erased_identity


# --- finding the person ----------------------------------------------------------------------------


def find_people(session: Session, *, email: str | None = None, contact_id: int | None = None,
                source_system: str | None = None, external_id: str | None = None) -> list[Contact]:
    """The contacts that are this person: one mailbox (any ``+tag``), one contact id, or one CRM record."""
    given = [x for x in (email, contact_id, external_id) if x not in (None, "")]
    if len(given) != 1:
        raise InvalidInput("Name the person one way: by e-mail, by contact id, or by external id (with its "
                           "source system).", code="person_required")
    if any("\x00" in x for x in (email, source_system, external_id) if isinstance(x, str)):
        raise InvalidInput("The e-mail, source system or external id holds a NUL character; no contact has one. "
                           "Copy the value again without it.", code="bad_characters")
    if contact_id is not None:
        c = session.get(Contact, contact_id)
        if c is None:
            raise NotFound(f"No contact with id {contact_id}.", code="contact_not_found")
        return [c] + ([o for o in _same_mailbox(session, c.email) if o.id != c.id] if c.email else [])
    if external_id:
        q = select(Contact).where(Contact.external_id == external_id.strip())
        if source_system:
            q = q.where(func.lower(Contact.source_system) == source_system.strip().lower())
        found = list(session.scalars(q.order_by(Contact.id)))
        if not found:
            where = f" in {source_system}" if source_system else ""
            raise NotFound(f"No contact with external id {external_id}{where}.", code="contact_not_found")
        return found
    try:
        normalise_email(email)
    except ValueError as e:
        raise InvalidInput(str(e), code="bad_email") from None
    found = _same_mailbox(session, email or "")
    if not found:
        raise NotFound(f"No contact with e-mail {email} (or the same address with a +tag).", code="contact_not_found")
    return found


def _same_mailbox(session: Session, email: str) -> list[Contact]:
    key = person_key(email)
    local, _, domain = key.partition("@")
    pattern = _escape(local) + "+%@" + _escape(domain)
    rows = session.scalars(select(Contact).where(or_(Contact.email == key, Contact.email.like(pattern, escape="\\")))
                           .order_by(Contact.id))
    return [c for c in rows if c.email and person_key(c.email) == key]


def _person(session: Session, contact_id: int) -> Person:
    hids = tuple(session.scalars(select(Handoff.id).where(Handoff.contact_id == contact_id).order_by(Handoff.id)))
    dids = tuple(session.scalars(select(Dispute.id).where(Dispute.handoff_id.in_(hids)))) if hids else ()
    return Person(contact_id, hids, dids)


# --- recognising the person in free text -----------------------------------------------------------


def _words(text: str) -> str:
    return r"(?<!\w)" + r"\s+".join(map(re.escape, text.split())) + r"(?!\w)"


def _either(alts: set[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(sorted(alts, key=len, reverse=True)), re.IGNORECASE) if alts else None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)


@dataclass(frozen=True)
class Identifiers:
    """The person's identifying strings, and how a text is recognised as being about them.

    ``strong``  the address (any ``+tag``), the full name, ``source:external_id`` and external ids of four
                characters or more: a text holding one is about the person;
    ``exact``   strings that are the person's when a whole value equals them (a short CRM id ``901`` as the
                ``value`` of an import error; an outbox target that is their address);
    ``weak``    first or last name alone: cut out only of a text that is about the person, so that a digest
                dated "15 May" keeps its date when a lead called May is erased;
    ``terms``   narrow the rows in SQL (``LIKE``) before the patterns decide.
    """

    terms: tuple[str, ...]
    strong: re.Pattern[str] | None
    everything: re.Pattern[str] | None
    exact: frozenset[str]

    @classmethod
    def of(cls, contacts: list[Contact]) -> Identifiers:
        terms: set[str] = set()
        strong: set[str] = set()
        weak: set[str] = set()
        exact: set[str] = set()
        for c in contacts:
            if c.email:
                key = person_key(c.email)
                local, _, domain = key.partition("@")
                terms |= {key, c.email, f"{local}+"}
                exact |= {key, c.email.lower()}
                strong.add(re.escape(local) + r"(?:\+[^@\s\"'<>]*)?@" + re.escape(domain))
            first, last = (n.strip() if n else "" for n in (c.first_name, c.last_name))
            if first and last:
                terms.add(f"{first} {last}")
                strong.add(_words(f"{first} {last}"))
                weak |= {_words(n) for n in (first, last) if len(n) >= 2}
            elif first or last:  # the one name is how revteam's messages name them (``display_name``)
                terms.add(first or last)
                strong.add(_words(first or last))
            if c.external_id and c.source_system != "erased":
                ext = c.external_id.strip()
                terms |= {ext, f"{c.source_system}:{ext}"}
                exact.add(ext.lower())
                strong.add(_words(f"{c.source_system}:{ext}"))
                if len(ext) >= 4:
                    strong.add(_words(ext))
        terms |= {json.dumps(t)[1:-1] for t in terms}  # how JSON columns store non-ASCII text
        return cls(tuple(sorted(t for t in terms if t)), _either(strong), _either(strong | weak), frozenset(exact))

    def found_in(self, value: Any) -> bool:
        """Whether the text (or any string inside the JSON) is about the person."""
        return any(s.strip().lower() in self.exact or (self.strong is not None and self.strong.search(s))
                   for s in _strings(value))

    def scrub(self, value: Any) -> Any:
        """The value with every identifier replaced by ``(erased)``; strings inside JSON too."""
        if isinstance(value, str):
            if value.strip().lower() in self.exact:
                return ERASED
            return self.everything.sub(ERASED, value) if self.everything is not None else value
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, dict):
            return {self.scrub(k) if isinstance(k, str) else k: self.scrub(v) for k, v in value.items()}
        return value


def _table(name: str) -> Table:
    return Base.metadata.tables[name]


def _mentioning(session: Session, name: str, columns: list[str], ids: Identifiers) -> Iterator[Any]:
    """Rows of ``name`` whose ``columns`` mention the person (SQL narrows with LIKE, the pattern decides)."""
    if not ids.terms or not columns:
        return
    t = _table(name)
    like = [cast(t.c[col], String).ilike("%" + _escape(term) + "%", escape="\\") for col in columns for term in ids.terms]
    for row in session.execute(select(t).where(or_(*like))).mappings():
        if any(ids.found_in(row[col]) for col in columns):
            yield row


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _scrub_columns(name: str) -> list[str]:
    return [col for col, rule in COLUMNS[name].items() if rule.scrub]


def _drop_columns(name: str) -> list[str]:
    return [col for col, rule in COLUMNS[name].items() if rule.drop]


def _readable(value: Any) -> Any:
    """A stored value as text a pattern can search: bytes decoded, a JSON document parsed."""
    if isinstance(value, bytes | memoryview):
        value = bytes(value).decode("utf-8", "replace")
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return [value, json.loads(value)]  # JSON answers escape non-ASCII names (``\u00e9``)
        except ValueError:
            return value
    return value


def _to_drop(session: Session, name: str, ids: Identifiers) -> list[dict[str, Any]]:
    """Rows of ``name`` whose ``drop`` columns mention the person (read whole: binary answers, short-lived)."""
    cols = _drop_columns(name)
    t = _table(name)
    return [dict(r) for r in session.execute(select(t)).mappings()
            if any(ids.found_in(_readable(r[c])) for c in cols)]


# --- export ----------------------------------------------------------------------------------------


def export_person(session: Session, email: str | None = None, *, contact_id: int | None = None,
                  source_system: str | None = None, external_id: str | None = None) -> dict[str, Any]:
    """Everything held about the person, ready for JSON (``revteam privacy export``)."""
    people = find_people(session, email=email, contact_id=contact_id, source_system=source_system,
                         external_id=external_id)
    ids = Identifiers.of(people)
    out: dict[str, Any] = {"contacts": [_export_contact(session, c) for c in people]}
    persons = [_person(session, c.id) for c in people]
    for table, key in (("outbox", "outbox_messages"), ("audit_log", "audit_entries"), ("owner_changes", "owner_changes")):
        t = _table(table)
        rows: dict[Any, dict[str, Any]] = {}
        for p in persons:
            for r in session.execute(select(t).where(OWNED_ROWS[table](t, p))).mappings():
                rows[r["id"]] = dict(r)
        for r in _mentioning(session, table, _scrub_columns(table), ids):
            rows.setdefault(r["id"], dict(r))
        out[key] = [rows[i] for i in sorted(rows)]
    runs = []
    for r in _mentioning(session, "import_runs", _scrub_columns("import_runs"), ids):
        runs.append({"id": r["id"], "kind": r["kind"], "filename": r["filename"], "started_at": r["started_at"],
                     "status": r["status"],
                     "errors": [e for e in (r["errors"] or []) if ids.found_in(e)],
                     "warnings": [w for w in (r["warnings"] or []) if ids.found_in(w)]})
    out["import_runs"] = runs
    for table in ("deals", "scoring_reviews", "content_usage", "touch_reactions", "absences", "scoring_models",
                  "sla_agreements"):
        out.setdefault("mentions", {})[table] = [dict(r) for r in _mentioning(session, table, _scrub_columns(table), ids)]
    for table in sorted(n for n in COLUMNS if _drop_columns(n)):
        out["mentions"][table] = [{k: (bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else v)
                                   for k, v in r.items()} for r in _to_drop(session, table, ids)]
    return out


def _own_rows(session: Session, name: str, p: Person, *order: str) -> list[dict[str, Any]]:
    """Every column of the person's rows of ``name``, found the way the erasure finds them (``OWNED_ROWS``)."""
    t = _table(name)
    q = select(t).where(OWNED_ROWS[name](t, p)).order_by(*[t.c[o] for o in order or [k.name for k in t.primary_key]])
    return [dict(r) for r in session.execute(q).mappings()]


def _export_contact(session: Session, c: Contact) -> dict[str, Any]:
    """One contact and its own rows, each area with every column of its table (nothing hand-picked)."""
    p = _person(session, c.id)
    deals = _table("deals")
    links = _own_rows(session, "deal_contacts", p, "deal_id")
    by_deal = {r["id"]: dict(r) for r in session.execute(select(deals).where(
        deals.c.id.in_([link["deal_id"] for link in links]))).mappings()} if links else {}
    votes = _own_rows(session, "dispute_votes", p, "dispute_id", "id")
    scores = _own_rows(session, "contact_scores", p)
    return {
        "contact": _own_rows(session, "contacts", p)[0],
        "account": None if c.account is None else {"id": c.account.id, "name": c.account.name,
                                                    "domain": c.account.domain},
        "touchpoints": _own_rows(session, "touchpoints", p, "occurred_at", "id"),
        "stage_changes": _own_rows(session, "stage_changes", p, "changed_at", "id"),
        "deals": [{**by_deal[link["deal_id"]], **{k: v for k, v in link.items() if k not in ("deal_id", "contact_id")}}
                  for link in links],
        "score": scores[0] if scores else None,
        "handoffs": _own_rows(session, "handoffs", p),
        "disputes": [{**d, "votes": [v for v in votes if v["dispute_id"] == d["id"]]}
                     for d in _own_rows(session, "disputes", p)],
    }


# --- erase -----------------------------------------------------------------------------------------


def erase_person(session: Session, email: str | None = None, *, contact_id: int | None = None,
                 source_system: str | None = None, external_id: str | None = None, now: datetime, actor: str,
                 actor_user_id: int | None = None, ledger: Path | None = None) -> list[int]:
    """Erase the person everywhere and keep their tombstones; returns the erased contact ids."""
    ts.check_ledger(ledger)
    with transaction(session):
        serialize(session, "imports")  # an import writing now finishes first; its rows are then erased too
        people = _locked(session, find_people(session, email=email, contact_id=contact_id,
                                              source_system=source_system, external_id=external_id))
        stones = _erase(session, people, now=now, actor=actor, actor_user_id=actor_user_id)
        erased = [c.id for c in people]
    ts.append_to_ledger(ledger, "erased", stones)
    return erased


def _locked(session: Session, people: list[Contact]) -> list[Contact]:
    """The same contacts, locked and read again; a concurrent erasure that committed first leaves none."""
    rows = session.scalars(select(Contact).where(Contact.id.in_([c.id for c in people]), Contact.source_system != "erased")
                           .order_by(Contact.id).with_for_update().execution_options(populate_existing=True))
    locked = list(rows)
    if not locked:
        raise NotFound("That person was erased a moment ago (by another request); nothing left to erase.",
                       code="contact_not_found")
    return locked


def _erase(session: Session, people: list[Contact], *, now: datetime, actor: str,
           actor_user_id: int | None) -> list[ts.Tombstone]:
    ids = Identifiers.of(people)
    stones = []
    for c in people:
        if c.email:
            stones.append(ts.Tombstone("email", ts.email_tombstone(c.email), now))
        if c.external_id and c.source_system != "erased":
            stones.append(ts.Tombstone("external_id", ts.external_digest(c.source_system, c.external_id), now))
    added = ts.add_tombstones(session, stones)
    session.flush()
    for c in people:
        p = _person(session, c.id)
        for name, owner in OWNED_ROWS.items():
            values = {col: (r.blank(c.id) if callable(r.blank) else r.blank)
                      for col, r in COLUMNS[name].items() if r.blanks}
            if values:
                t = _table(name)
                session.execute(update(t).where(owner(t, p)).values(**values))
        session.expire(c)
    for name in sorted(COLUMNS):
        cols = _scrub_columns(name)
        t = _table(name)
        pk = list(t.primary_key.columns)
        for row in list(_mentioning(session, name, cols, ids)):
            session.execute(update(t).where(*[k == row[k.name] for k in pk])
                            .values(**{col: ids.scrub(row[col]) for col in cols}))
    for name in sorted(n for n in COLUMNS if _drop_columns(n)):
        t = _table(name)
        (pk,) = t.primary_key.columns
        doomed = [r[pk.name] for r in _to_drop(session, name, ids)]
        if doomed:
            session.execute(delete(t).where(pk.in_(doomed)))
    for c in people:
        record_audit(session, at=now, actor=actor, actor_user_id=actor_user_id, action="contact.erased",
                     entity="contact", entity_id=c.id, detail={"tombstones": len(added)})
    session.flush()
    session.expire_all()  # the rows were changed by SQL statements: nothing loaded before may be shown again
    return added


# --- tombstones: lift, export, re-apply after a restore --------------------------------------------


def lift_erasure(session: Session, *, email: str | None = None, source_system: str | None = None,
                 external_id: str | None = None, reason: str, now: datetime, actor: str,
                 actor_user_id: int | None = None, ledger: Path | None = None) -> int:
    """Let a person be created again (they came back and asked); audited. Returns how many tombstones went."""
    stones = ts.stones_for(email=email, source_system=source_system, external_id=external_id, at=now)
    return _lift(session, stones, reason=reason, now=now, actor=actor, actor_user_id=actor_user_id, ledger=ledger)


def _lift(session: Session, stones: list[ts.Tombstone], *, reason: str, now: datetime, actor: str,
          actor_user_id: int | None, ledger: Path | None) -> int:
    if not reason or not reason.strip():
        raise InvalidInput("Say why the erasure is lifted (--reason, or the Reason field), for the audit log. "
                           "Nothing was lifted.", code="reason_required")
    ts.check_ledger(ledger)
    with transaction(session):
        serialize(session, "imports")  # the same lock as imports and erasures: one at a time
        removed = ts.remove_tombstones(session, stones)
        if not removed:
            raise NotFound("No erasure is recorded for that person.", code="tombstone_not_found")
        record_audit(session, at=now, actor=actor, actor_user_id=actor_user_id, action="privacy.erasure_lifted",
                     entity="tombstone", detail={"kinds": [t.kind for t in removed], "reason": reason.strip()})
    ts.append_to_ledger(ledger, "lifted", removed)
    return len(removed)


def export_tombstones(session: Session, path: Path) -> int:
    """Write every tombstone to ``path`` (keep it apart from the database backups); returns how many."""
    return ts.write_ledger(path, ts.all_tombstones(session))


@dataclass(frozen=True)
class Reapplied:
    tombstones_added: int
    contacts_erased: list[int]


def reapply_tombstones(session: Session, path: Path, *, now: datetime, actor: str,
                       actor_user_id: int | None = None) -> Reapplied:
    """After restoring a backup: put back the tombstones of ``path`` and erase again whoever they match."""
    stones = ts.read_ledger(path)
    with transaction(session):
        serialize(session, "imports")  # as an erasure: an import writing now finishes first
        added = ts.add_tombstones(session, stones)
        session.flush()
        wanted = {(t.kind, t.digest) for t in stones}
        rows = session.execute(select(Contact.id, Contact.email, Contact.source_system, Contact.external_id)
                               .where(Contact.source_system != "erased")).all()
        hits = [cid for cid, email, src, ext in rows if wanted & set(ts.contact_digests(email, src, ext))]
        people = [c for c in (session.get(Contact, cid) for cid in hits) if c is not None]
        if people:
            _erase(session, people, now=now, actor=actor, actor_user_id=actor_user_id)
        record_audit(session, at=now, actor=actor, actor_user_id=actor_user_id, action="privacy.tombstones_reapplied",
                     entity="tombstone", detail={"added": len(added), "erased_contacts": hits})
    return Reapplied(len(added), hits)



# --- the privacy desk: the page and the API for admins who do not use the CLI -----------------------

CONFIRM_WORD = "ERASE"
_AREAS: tuple[tuple[str, str], ...] = (
    ("contacts", "Contact records"),
    ("touchpoints", "Touchpoints"),
    ("stage_changes", "Stage changes"),
    ("deals", "Deals they are on"),
    ("score", "Lead scores"),
    ("handoffs", "Handoffs"),
    ("disputes", "Disputes"),
    ("outbox_messages", "Notification messages"),
    ("audit_entries", "Audit entries"),
    ("owner_changes", "Owner changes"),
    ("import_runs", "Import runs mentioning them"),
    ("mentions", "Other mentions (deal names, scoring reviews, content notes, stored API answers, log-in limits)"),
)


@dataclass(frozen=True)
class PersonRef:
    """How an admin named the person: exactly one of e-mail, contact id, or external id (+ source system)."""

    email: str | None = None
    contact_id: int | None = None
    source_system: str | None = None
    external_id: str | None = None

    def kwargs(self) -> dict[str, Any]:
        return {"email": self.email, "contact_id": self.contact_id, "source_system": self.source_system,
                "external_id": self.external_id}

    def params(self) -> dict[str, str]:
        """The same reference as form fields (the hidden fields of the export and erase forms)."""
        out = {"email": self.email, "contact_id": None if self.contact_id is None else str(self.contact_id),
               "source": self.source_system, "external_id": self.external_id}
        return {k: v for k, v in out.items() if v}


@dataclass(frozen=True)
class Held:
    """What is held about one person: who they are (for the admin to confirm) and counts per area."""

    ref: PersonRef
    contacts: list[dict[str, Any]]
    areas: list[tuple[str, int]]
    emails: list[str]
    same_mailbox: list[int]  # other live contacts of the same mailbox, not part of this request (by external id)


@dataclass(frozen=True)
class TombstoneRow:
    """One tombstone as the page shows it: the hash (never the identity), when, and who erased."""

    kind: str
    digest: str
    erased_at: datetime
    erased_by: str


@dataclass(frozen=True)
class Desk:
    held: Held | None
    tombstones: list[TombstoneRow]


def held_counts(export: dict[str, Any]) -> list[tuple[str, int]]:
    """Counts per area of an ``export_person`` result, in the order the page shows them (pure)."""
    contacts = export.get("contacts", [])

    def per_contact(key: str) -> int:
        return sum(len(c.get(key) or []) if key != "score" else int(c.get("score") is not None) for c in contacts)

    counts = {
        "contacts": len(contacts),
        "touchpoints": per_contact("touchpoints"),
        "stage_changes": per_contact("stage_changes"),
        "deals": per_contact("deals"),
        "score": per_contact("score"),
        "handoffs": per_contact("handoffs"),
        "disputes": per_contact("disputes"),
        "outbox_messages": len(export.get("outbox_messages", [])),
        "audit_entries": len(export.get("audit_entries", [])),
        "owner_changes": len(export.get("owner_changes", [])),
        "import_runs": len(export.get("import_runs", [])),
        "mentions": sum(len(v) for v in (export.get("mentions") or {}).values()),
    }
    return [(label, counts[key]) for key, label in _AREAS]


def privacy_desk(session: Session, ref: PersonRef | None = None) -> Desk:
    """The ``/privacy`` page: what is held about ``ref`` (when given) and every tombstone, newest first."""
    held = None
    if ref is not None:
        export = export_person(session, **ref.kwargs())
        contacts = [c["contact"] for c in export["contacts"]]
        emails = sorted({c["email"] for c in contacts if c["email"]})
        held = Held(ref, [{"id": c["id"], "email": c["email"],
                           "name": " ".join(n for n in (c["first_name"], c["last_name"]) if n) or None,
                           "source_system": c["source_system"], "external_id": c["external_id"],
                           "stage": c["stage"]} for c in contacts],
                    held_counts(export), emails, _others_of_mailbox(session, emails, {c["id"] for c in contacts}))
    return Desk(held, list_tombstones(session))


def _others_of_mailbox(session: Session, emails: list[str], found: set[int]) -> list[int]:
    others = {c.id for e in emails for c in _same_mailbox(session, e) if c.source_system != "erased"}
    return sorted(others - found)


def list_tombstones(session: Session) -> list[TombstoneRow]:
    """Every tombstone with who erased it (from the audit entry of the same erasure; hashes only)."""
    by_time: dict[datetime, str] = {}
    entries = session.execute(select(AuditEntry.at, AuditEntry.actor, AuditEntry.actor_user_id)
                              .where(AuditEntry.action.in_(("contact.erased", "privacy.tombstones_reapplied"))))
    names = {uid: name for uid, name in session.execute(select(User.id, User.name))}
    for at, actor, user_id in entries:
        by_time.setdefault(at, names.get(user_id, actor) if user_id is not None else actor)
    rows = [TombstoneRow(t.kind, t.digest, t.at, by_time.get(t.at, "unknown")) for t in ts.all_tombstones(session)]
    return sorted(rows, key=lambda r: (r.erased_at, r.kind, r.digest), reverse=True)


def erase_confirmed(session: Session, ref: PersonRef, *, confirmation: str, now: datetime, actor: str,
                    actor_user_id: int | None = None, ledger: Path | None = None) -> list[int]:
    """``erase_person`` after a typed confirmation: the person's e-mail (any ``+tag``) or the word ERASE."""
    people = find_people(session, **ref.kwargs())
    typed = (confirmation or "").strip()
    if typed != CONFIRM_WORD and not _is_their_address(typed, people):
        raise InvalidInput(f"The confirmation did not match: type the person's e-mail address or the word "
                           f"{CONFIRM_WORD} to erase them. Nothing was erased.", code="confirmation_mismatch")
    return erase_person(session, now=now, actor=actor, actor_user_id=actor_user_id, ledger=ledger, **ref.kwargs())


def _is_their_address(typed: str, people: list[Contact]) -> bool:
    if "@" not in typed:
        return False
    try:
        key = person_key(typed)
    except ValueError:
        return False
    return any(c.email and person_key(c.email) == key for c in people)


def lift_tombstone(session: Session, *, kind: str, digest: str, reason: str, now: datetime, actor: str,
                   actor_user_id: int | None = None, ledger: Path | None = None) -> int:
    """Lift one tombstone picked from the list (by its hash; the page never knows the identity); audited."""
    if kind not in ts.KINDS:
        raise InvalidInput("The tombstone kind must be email or external_id.", code="bad_tombstone")
    digest = (digest or "").strip().lower()
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        raise InvalidInput("A tombstone is named by its 64 hex characters.", code="bad_tombstone")
    return _lift(session, [ts.Tombstone(kind, digest, now)], reason=reason, now=now, actor=actor,
                 actor_user_id=actor_user_id, ledger=ledger)
