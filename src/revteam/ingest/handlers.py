"""How each kind of row is recognised, checked against the database, and written.

A handler is picked from ``HANDLERS`` by kind (strategy table). Every handler is idempotent: a row
whose record exists with the same values is ``unchanged``; empty cells never erase stored values.
A problem found while writing raises ``RowProblem`` and the service reports it against that row.

Contacts and touchpoints, the large files, are written a batch at a time (``write_batch``): existing
records are found with one ``IN`` query per key on an index, new ones are inserted with one
multi-row ``INSERT ... RETURNING``, and a key written earlier in the same file is reported as
"duplicate of row N" (``SeenIds``), so memory does not grow with the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal, null, select, text
from sqlalchemy.orm import Session

from revteam.domain.lifecycle import StageSet, classify_move, plan_stage_move
from revteam.errors import InvalidStageMove, RowError
from revteam.ingest.lookups import Lookups, SeenIds
from revteam.services.record.lifecycle import apply_stage_move
from revteam.services.people.tombstones import erased_identity
from revteam.services.revenue.deal_stages import dated_for_import, move_deal
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    DealContact,
    Touchpoint,
)

Row = dict[str, Any]


class RowProblem(Exception):
    def __init__(self, column: str | None, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass
class Context:
    session: Session
    lookups: Lookups
    source: str
    now: datetime
    stages: StageSet
    options: dict[str, Any]
    warnings: list[RowError] = field(default_factory=list)

    @property
    def rule(self) -> str:
        return f"import:{self.source}"


def _apply(obj: Any, values: Row, fields: Iterable[str]) -> bool:
    """Set non-empty values that differ; True when something changed."""
    changed = False
    for f in fields:
        v = values.get(f)
        if v is not None and getattr(obj, f) != v:
            setattr(obj, f, v)
            changed = True
    return changed


def _owner(ctx: Context, row: Row, column: str = "owner_email") -> int | None:
    email = row.get(column)
    if not email:
        return None
    uid = ctx.lookups.user(email)
    if uid is None:
        raise RowProblem(column, f"no revteam user has e-mail {email}; add them with `revteam users add` or leave it empty")
    return uid


def _account_ref(ctx: Context, row: Row, *, create: bool = False) -> int | None:
    ext, dom, name = row.get("account_external_id"), row.get("account_domain"), row.get("account_name")
    if not (ext or dom or name):
        return None
    found = ctx.lookups.account(external_id=ext, domain=dom, name=name)
    if found is None and create and (ext or name):
        acc = Account(name=name or ext, external_id=ext, domain=dom, source_system=ctx.source, created_at=ctx.now)
        ctx.session.add(acc)
        ctx.session.flush()
        ctx.lookups.remember_account(acc)
        return acc.id
    if found is None:
        col = "account_external_id" if ext else "account_domain" if dom else "account_name"
        raise RowProblem(col, f"unknown account {ext or dom or name!r}; import the accounts first or fix the reference")
    return found


def _contact_ref(ctx: Context, row: Row) -> int:
    email, ext = row.get("contact_email"), row.get("contact_external_id")
    found = ctx.lookups.contact(email=email, external_id=ext)
    if found is None:
        col = "contact_email" if email else "contact_external_id"
        raise RowProblem(col, f"unknown contact {email or ext!r}; import the contacts first or fix the reference")
    return found


def _ref(ctx: Context, row: Row, column: str, kind: str) -> int | None:
    ext = row.get(column)
    if not ext:
        return None
    found = ctx.lookups.campaign(ext) if kind == "campaign" else ctx.lookups.content(ext)
    if found is None:
        raise RowProblem(column, f"unknown {kind} {ext!r}; import {kind}s first or fix the id")
    return found


def insert_many(session: Session, model: Any, values: list[dict[str, Any]]) -> list[int]:
    """Insert rows in as few statements as the database allows and return their new ids, in order.

    PostgreSQL: the ids are drawn from the table's sequence first, then the rows go in with ``COPY``
    (one round trip per batch; ``executemany`` would send one INSERT per row). SQLite: ids after the
    largest one, then ``executemany``, which SQLite runs in-process. The data versions (analytics
    caches) learn of the new rows from an ``Insert`` statement run through the session first."""
    if not values:
        return []
    table = model.__table__  # Core, not ORM bulk insert: one batch even when rows leave different cells empty
    empty = [k for k in values[0] if table.c[k].nullable and table.c[k].default is None
             and all(v[k] is None for v in values)]
    for v in values:  # columns empty in every row are left to the database (NULL): less to bind
        for k in empty:
            del v[k]
    if session.get_bind().dialect.name == "postgresql":
        ids = list(session.scalars(text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) "
                                        "FROM generate_series(1, :n)"), {"n": len(values)}))
        for v, i in zip(values, ids):
            v["id"] = i
        _copy(session, table, values)
        return ids
    # SQLite: the ids follow the largest one. The import's transaction holds SQLite's single write lock
    # from its first write on; before that a concurrent writer makes this INSERT fail (busy, or a
    # duplicate primary key), never share an id.
    start = session.scalar(select(func.max(table.c.id))) or 0
    ids = list(range(start + 1, start + 1 + len(values)))
    for v, i in zip(values, ids):
        v["id"] = i
    session.execute(table.insert(), values)
    return ids


def _copy(session: Session, table: Any, values: list[dict[str, Any]]) -> None:
    """``COPY table FROM STDIN`` in the session's transaction, each value bound as SQLAlchemy would."""
    import json

    from sqlalchemy import JSON, false

    cols = [c for c in table.c if c.name in values[0]]
    names = [c.name for c in cols]
    # an INSERT of no rows, through the session: the data-version hook notes "rows from max(id)+1 on"
    session.execute(table.insert().from_select(names, select(*[literal(None).label(n) for n in names]).where(false())))
    dialect = session.get_bind().dialect
    procs: list[Any] = []
    for c in cols:
        if isinstance(c.type, JSON):
            procs.append(lambda v: None if v is None else json.dumps(v, default=str))
        else:
            procs.append(c.type.bind_processor(dialect))
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    try:
        with raw.cursor() as cur, cur.copy(statement) as copy:
            for v in values:
                copy.write_row([v[n] if p is None else p(v[n]) for n, p in zip(names, procs)])
    except raw.IntegrityError as e:  # e.g. a concurrent import stored the same key first: as an INSERT would say
        from sqlalchemy.exc import IntegrityError

        raise IntegrityError(statement, None, e) from e


def derived_id(*parts: Any) -> str:
    """A stable event id for rows that carry none, so re-importing them is idempotent."""
    text = "|".join("" if p is None else (p.isoformat() if isinstance(p, datetime) else str(p)) for p in parts)
    return "h:" + hashlib.sha1(text.encode()).hexdigest()[:24]


class Handler:
    kind = ""
    fails_before_writing = False  # True when write() raises RowProblem before touching the session
    batch = False  # True: write_batch() writes a chunk of rows and finds in-file duplicates itself
    ordered = False  # True: order() needs every row of the file (history imports, sorted by time)

    def write_batch(self, ctx: Context, rows: list[Row]) -> list[str | RowProblem]:
        """One outcome per row, in order: created/updated/unchanged, or the problem that rejects it."""
        raise NotImplementedError

    def check_time(self, row: Row, now: datetime) -> list[tuple[str | None, str]]:
        """Rules that need the import time (the validator calls it after ``check``)."""
        return []

    def key(self, row: Row) -> tuple[Any, ...]:
        return ("ext", row.get("external_id"))

    def check(self, row: Row, stages: StageSet) -> list[tuple[str | None, str]]:
        return []

    def order(self, rows: list[Row]) -> list[Row]:
        return rows

    def write(self, ctx: Context, row: Row) -> str:
        raise NotImplementedError

    def flush(self, ctx: Context) -> None:
        """Write anything the handler buffered (bulk inserts)."""


class AccountHandler(Handler):
    kind = "accounts"
    FIELDS = ("name", "domain", "industry", "employees", "size_band", "region", "segment")

    def key(self, row: Row) -> tuple[Any, ...]:
        return ("ext", row["external_id"]) if row.get("external_id") else ("domain", row.get("domain"))

    def write(self, ctx: Context, row: Row) -> str:
        owner = _owner(ctx, row)
        aid = ctx.lookups.account(external_id=row.get("external_id"), domain=row.get("domain"), name=None)
        if aid is None and row.get("external_id") and row.get("domain"):
            aid = ctx.lookups.account(external_id=None, domain=row["domain"], name=None)
        if aid is None:
            acc = Account(source_system=ctx.source, external_id=row.get("external_id"), owner_id=owner,
                          created_at=row.get("created_at") or ctx.now)
            _apply(acc, row, self.FIELDS)
            ctx.session.add(acc)
            ctx.session.flush()
            ctx.lookups.remember_account(acc)
            return "created"
        acc = ctx.session.get(Account, aid)
        assert acc is not None
        if row.get("domain") and row["domain"] != acc.domain and ctx.lookups.account(
                external_id=None, domain=row["domain"], name=None) not in (None, acc.id):
            raise RowProblem("domain", f"domain {row['domain']} already belongs to another account")
        changed = _apply(acc, row, self.FIELDS)
        if owner is not None and acc.owner_id != owner:
            acc.owner_id, changed = owner, True
        if changed:
            ctx.lookups.remember_account(acc)
        return "updated" if changed else "unchanged"


class ContactHandler(Handler):
    kind = "contacts"
    batch = True
    FIELDS = ("email", "first_name", "last_name", "title", "persona", "original_source", "consent")
    INSERTED = ("email", "first_name", "last_name", "title", "persona", "original_source")

    def __init__(self) -> None:
        self.seen = SeenIds()

    def key(self, row: Row) -> tuple[Any, ...]:
        return ("email", row["email"]) if row.get("email") else ("ext", row.get("external_id"))

    def check(self, row: Row, stages: StageSet) -> list[tuple[str | None, str]]:
        st = row.get("stage")
        if st is not None and st not in stages:
            return [("stage", f"{st!r} is not a lifecycle stage; use one of: {', '.join(stages.all)}")]
        return []

    def write_batch(self, ctx: Context, rows: list[Row]) -> list[str | RowProblem]:
        by_email = ctx.lookups.contacts_by_email(r["email"] for r in rows if r.get("email"))
        by_ext = ctx.lookups.contacts_by_ext(r["external_id"] for r in rows if r.get("external_id"))
        in_batch: dict[tuple[str, Any], int] = {}
        outcomes: list[str | RowProblem | None] = []
        found: dict[int, int] = {}  # position in rows -> stored contact id
        new: list[int] = []
        for pos, row in enumerate(rows):
            try:
                cid = self._identify(row, by_email, by_ext, in_batch)
                if erased := erased_identity(ctx.session, email=row.get("email"), source_system=ctx.source,
                                             external_id=row.get("external_id")):
                    raise RowProblem(erased.column, erased.message)  # column None: the erased value is not logged
                refs = (_owner(ctx, row), _account_ref(ctx, row, create=bool(ctx.options.get("create_missing_accounts"))),
                        _ref(ctx, row, "original_campaign", "campaign"))
            except RowProblem as p:
                outcomes.append(p)
                continue
            row["_refs"] = refs
            outcomes.append(None)
            if cid is None:
                new.append(pos)
            else:
                found[pos] = cid
        if found:
            stored = ctx.lookups.rows_by_id(Contact, found.values())
            for pos, cid in found.items():
                if self._same(rows[pos], stored[cid]):
                    outcomes[pos] = "unchanged"
                else:
                    c = ctx.session.get(Contact, cid)
                    assert c is not None
                    outcomes[pos] = self._update(ctx, rows[pos], c)
        if new:
            self._insert(ctx, [rows[p] for p in new])
            for p in new:
                outcomes[p] = "created"
        return [o for o in outcomes if o is not None]

    def _identify(self, row: Row, by_email: dict[str, int], by_ext: dict[str, int],
                  in_batch: dict[tuple[str, Any], int]) -> int | None:
        """The stored contact this row is about (e-mail first, else external id), refusing repeats."""
        email, ext, n = row.get("email"), row.get("external_id"), row["_row"]
        keys = [k for k in (("email", email), ("external_id", ext)) if k[1]]
        for col, value in keys:
            if (col, value) in in_batch:
                raise RowProblem(col, f"duplicate of row {in_batch[(col, value)]} (same {col} {value}); keep one of them")
        cid = by_email.get(email) if email else None
        ext_owner = by_ext.get(ext) if ext else None
        col, value = "email", email
        if cid is None:
            cid, col, value = ext_owner, "external_id", ext
        elif ext_owner is not None and ext_owner != cid:
            raise RowProblem("external_id", f"external id {ext} already belongs to another contact; one person "
                             "cannot have two records (fix the e-mail or the id)")
        if cid is not None:
            first = self.seen.get(cid)
            if first is not None:
                raise RowProblem(col, f"duplicate of row {first} (same {col} {value}); keep one of them")
            self.seen.add(cid, n)
        for k in keys:
            in_batch[k] = n
        return cid

    def _insert(self, ctx: Context, rows: list[Row]) -> None:
        """New contacts in one multi-row INSERT, then each one's entry into the lifecycle in another."""
        values = []
        checked: set[str] = set()
        for row in rows:
            owner, account_id, campaign_id = row.pop("_refs")
            at = row.get("created_at") or ctx.now  # always timezone-aware (fields.to_datetime)
            stage = row.get("stage") or "lead"
            if stage not in checked:  # the checks a first move gets one by one, once per stage
                plan_stage_move(ctx.stages, None, stage, at=at, actor_rule=ctx.rule)
                checked.add(stage)
            v = {f: row.get(f) for f in self.INSERTED}
            v.update(source_system=ctx.source, external_id=row.get("external_id"), account_id=account_id,
                     original_campaign_id=campaign_id, owner_id=owner, created_at=at,
                     consent=row.get("consent") or "unknown", stage=stage, stage_changed_at=at)
            values.append(v)
        ids = insert_many(ctx.session, Contact, values)
        self._enter_lifecycle(ctx, ids)
        for cid, row in zip(ids, rows):
            self.seen.add(cid, row["_row"])

    def _enter_lifecycle(self, ctx: Context, ids: list[int]) -> None:
        """Each new contact's first stage change (what ``apply_stage_move`` records), in one
        ``INSERT ... SELECT`` from the rows just inserted."""
        from revteam.store.models import StageChange

        c, sc = Contact.__table__, StageChange.__table__
        if ctx.session.get_bind().dialect.name == "postgresql":
            # one primary-key probe per new id (a plain IN lets the planner scan the table it is filling)
            from sqlalchemy import Integer, cast, true
            from sqlalchemy.dialects.postgresql import ARRAY

            v = func.unnest(cast(ids, ARRAY(Integer))).table_valued("x").render_derived().alias("v")
            new = select(c.c.id, c.c.stage, c.c.stage_changed_at).where(c.c.id == v.c.x).offset(0).lateral("n")
            rows = select(new.c.id, null(), new.c.stage, new.c.stage_changed_at, null(), literal(ctx.rule), null(),
                          literal(ctx.source), null()).select_from(v.join(new, true()))
        else:  # consecutive ids, and SQLite has one writer: this transaction, since the INSERT above
            rows = select(c.c.id, null(), c.c.stage, c.c.stage_changed_at, null(), literal(ctx.rule), null(),
                          literal(ctx.source), null()).where(c.c.id.between(ids[0], ids[-1]))
        ctx.session.execute(sc.insert().from_select(
            ["contact_id", "from_stage", "to_stage", "changed_at", "actor_user_id", "actor_rule", "reason",
             "source_system", "external_id"], rows))

    def _same(self, row: Row, stored: Any) -> bool:
        """True when ``_update`` would change nothing (checked on the stored row, without the ORM)."""
        owner, account_id, campaign_id = row["_refs"]
        for f in self.FIELDS:
            v = row.get(f)
            if v is not None and stored[f] != v:
                return False
        if row.get("external_id") and not stored["external_id"]:
            return False
        for attr, value in (("account_id", account_id), ("original_campaign_id", campaign_id), ("owner_id", owner)):
            if value is not None and stored[attr] != value:
                return False
        return not (row.get("stage") and row["stage"] != stored["stage"])

    def _update(self, ctx: Context, row: Row, c: Contact) -> str:
        owner, account_id, campaign_id = row.pop("_refs")
        changed = _apply(c, row, self.FIELDS)
        if row.get("external_id") and not c.external_id:
            c.source_system, c.external_id, changed = ctx.source, row["external_id"], True
        for attr, value in (("account_id", account_id), ("original_campaign_id", campaign_id), ("owner_id", owner)):
            if value is not None and getattr(c, attr) != value:
                setattr(c, attr, value)
                changed = True
        target = row.get("stage")
        if target and target != c.stage:
            changed = self._advance(ctx, row, c, target) or changed
        return "updated" if changed else "unchanged"

    def _advance(self, ctx: Context, row: Row, c: Contact, target: str) -> bool:
        """A file's stage moves a contact forward; it never moves one back (that needs a reason).

        A stage behind the current one is kept out: silently when the contact has been at that stage
        before (the file is an older snapshot), with a warning otherwise.
        """
        from revteam.store.models import StageChange

        kind = classify_move(ctx.stages, c.stage, target)
        if kind in ("forward", "reentry"):
            move = plan_stage_move(ctx.stages, c.stage, target, at=ctx.now, actor_rule=ctx.rule)
            apply_stage_move(ctx.session, c, move, stages=ctx.stages, source_system=ctx.source, audit=False)
            return True
        was_there = ctx.session.scalar(select(StageChange.id).where(
            StageChange.contact_id == c.id, StageChange.to_stage == target).limit(1))
        if was_there is None:
            ctx.warnings.append(RowError(row["_row"], "stage",
                f"the contact is already at {c.stage!r}; {target!r} was not applied because moving back needs a "
                "reason (import it as a stage change with a reason)", target))
        return False


class CampaignHandler(Handler):
    kind = "campaigns"
    FIELDS = ("name", "channel", "type", "start_date", "end_date", "cost")

    def check(self, row: Row, stages: StageSet) -> list[tuple[str | None, str]]:
        if row.get("start_date") and row.get("end_date") and row["end_date"] < row["start_date"]:
            return [("end_date", f"ends ({row['end_date']}) before it starts ({row['start_date']})")]
        return []

    def write(self, ctx: Context, row: Row) -> str:
        owner = _owner(ctx, row)
        cid = ctx.lookups.own("campaign", row["external_id"])
        if cid is None:
            c = Campaign(source_system=ctx.source, external_id=row["external_id"], owner_id=owner,
                         type=row.get("type") or row["channel"])
            _apply(c, row, self.FIELDS)
            ctx.session.add(c)
            ctx.session.flush()
            ctx.lookups.remember("campaign", ctx.source, c.external_id, c.id)
            return "created"
        c = ctx.session.get(Campaign, cid)
        assert c is not None
        changed = _apply(c, row, self.FIELDS)
        if owner is not None and c.owner_id != owner:
            c.owner_id, changed = owner, True
        return "updated" if changed else "unchanged"


class ContentHandler(Handler):
    kind = "content"
    FIELDS = ("title", "type", "category", "status", "requested_at", "due_date", "published_at", "url")

    def write(self, ctx: Context, row: Row) -> str:
        cid = ctx.lookups.own("content", row["external_id"])
        if cid is None:
            c = ContentAsset(source_system=ctx.source, external_id=row["external_id"],
                             status=row.get("status") or "published")
            _apply(c, row, self.FIELDS)
            ctx.session.add(c)
            ctx.session.flush()
            ctx.lookups.remember("content", ctx.source, c.external_id, c.id)
            return "created"
        c = ctx.session.get(ContentAsset, cid)
        assert c is not None
        return "updated" if _apply(c, row, self.FIELDS) else "unchanged"


class TouchpointHandler(Handler):
    """Touch events are immutable: a stored event id is ``unchanged``. Written a batch at a time."""

    kind = "touchpoints"
    fails_before_writing = True
    batch = True

    def key(self, row: Row) -> tuple[Any, ...]:
        if not row.get("external_id"):
            row["external_id"] = derived_id(row.get("contact_email"), row.get("contact_external_id"), row.get("type"),
                                            row.get("occurred_at"), row.get("url"), row.get("campaign"), row.get("content"))
        return ("ext", row["external_id"])

    def __init__(self) -> None:
        self.seen = SeenIds()

    def write_batch(self, ctx: Context, rows: list[Row]) -> list[str | RowProblem]:
        for row in rows:
            self.key(row)
        stored = ctx.lookups.touchpoints_by_ext(r["external_id"] for r in rows)
        by_email = ctx.lookups.contacts_by_email(r["contact_email"] for r in rows if r.get("contact_email"))
        by_ext = ctx.lookups.contacts_by_ext(r["contact_external_id"] for r in rows if r.get("contact_external_id"))
        in_batch: dict[str, int] = {}
        outcomes: list[str | RowProblem] = []
        pending: list[tuple[Row, dict[str, Any]]] = []
        for row in rows:
            ext = row["external_id"]
            try:
                first = in_batch.get(ext) or (self.seen.get(stored[ext]) if ext in stored else None)
                if first is not None:
                    raise RowProblem("external_id", f"duplicate of row {first} (same event id {ext}); keep one of them")
                in_batch[ext] = row["_row"]
                if ext in stored:
                    self.seen.add(stored[ext], row["_row"])
                    outcomes.append("unchanged")
                    continue
                values = {
                    "contact_id": self._contact(row, by_email, by_ext),
                    "type": row["type"],
                    "channel": row.get("channel"),
                    "campaign_id": _ref(ctx, row, "campaign", "campaign"),
                    "content_id": _ref(ctx, row, "content", "content"),
                    "url": row.get("url"),
                    "occurred_at": row["occurred_at"],
                    "properties": row.get("properties"),
                    "source_system": ctx.source,
                    "external_id": ext,
                    "actor_user_id": _owner(ctx, row, "actor_email"),
                }
            except RowProblem as p:
                outcomes.append(p)
                continue
            pending.append((row, values))
            outcomes.append("created")
        if pending:
            ids = insert_many(ctx.session, Touchpoint, [v for _, v in pending])
            for tid, (row, _) in zip(ids, pending):
                self.seen.add(tid, row["_row"])
        return outcomes

    @staticmethod
    def _contact(row: Row, by_email: dict[str, int], by_ext: dict[str, int]) -> int:
        email, ext = row.get("contact_email"), row.get("contact_external_id")
        found = by_email.get(email) if email else None
        if found is None and ext:
            found = by_ext.get(ext)
        if found is None:
            col = "contact_email" if email else "contact_external_id"
            raise RowProblem(col, f"unknown contact {email or ext!r}; import the contacts first or fix the reference")
        return found


class DealHandler(Handler):
    kind = "deals"
    FIELDS = ("name", "amount", "currency", "outcome", "lost_reason", "created_on", "expected_close_on", "closed_on",
              "source")  # the stage goes through services.deal_stages.move_deal, which keeps its history

    def check(self, row: Row, stages: StageSet) -> list[tuple[str | None, str]]:
        problems: list[tuple[str | None, str]] = []
        row["outcome"] = row.get("outcome") or "open"
        if row["outcome"] in ("won", "lost") and not row.get("closed_on"):
            row["closed_on"] = row.get("expected_close_on")
        if not row.get("created_on"):
            row["created_on"] = row.get("closed_on")
        if row.get("currency"):
            row["currency"] = row["currency"].upper()
            if len(row["currency"]) != 3 or not row["currency"].isalpha():
                problems.append(("currency", f"{row['currency']!r} is not a 3-letter currency code like USD"))
        if not row.get("created_on"):
            problems.append(("created_on", "a deal needs the date it was created (or, for closed deals, closed_on)"))
        if row["outcome"] in ("won", "lost") and not row.get("closed_on"):
            problems.append(("closed_on", f"a {row['outcome']} deal needs the date it closed"))
        if row.get("closed_on") and row.get("created_on") and row["closed_on"] < row["created_on"]:
            problems.append(("closed_on", f"closes ({row['closed_on']}) before it was created ({row['created_on']})"))
        return problems

    def check_time(self, row: Row, now: datetime) -> list[tuple[str | None, str]]:
        if row.get("outcome") in ("won", "lost") and row.get("closed_on") and row["closed_on"] > now.date():
            return [("closed_on", (f"a deal cannot be {row['outcome']} on {row['closed_on']}, after today "
                                   f"({now.date()}); for a deal expected to close then, leave it open with "
                                   "expected_close_on"))]
        return []

    def write(self, ctx: Context, row: Row) -> str:
        owner = _owner(ctx, row)
        account_id = _account_ref(ctx, row, create=bool(ctx.options.get("create_missing_accounts")))
        campaign_id = _ref(ctx, row, "campaign", "campaign")
        links = self._contacts(ctx, row)
        deal = ctx.session.scalar(select(Deal).where(Deal.source_system == ctx.source, Deal.external_id == row["external_id"]))
        status = "unchanged"
        if deal is None:
            deal = Deal(source_system=ctx.source, external_id=row["external_id"], currency="USD")
            ctx.session.add(deal)
            status = "created"
        was_open = deal.outcome in (None, "open")
        changed = _apply(deal, row, self.FIELDS)
        if deal.stage != row["stage"] or status == "created":
            on = dated_for_import(ctx.session, deal, imported_on=ctx.now.date(),
                                  closes_now=was_open and deal.outcome != "open")
            changed = move_deal(ctx.session, deal, row["stage"], on=on, source="import") is not None or changed
        for attr, value in (("account_id", account_id), ("campaign_id", campaign_id), ("owner_id", owner)):
            if value is not None and getattr(deal, attr) != value:
                setattr(deal, attr, value)
                changed = True
        ctx.session.flush()
        existing = {dc.contact_id: dc for dc in deal.contacts}
        for contact_id, role in links:
            if contact_id not in existing:
                deal.contacts.append(DealContact(contact_id=contact_id, role=role))
                changed = True
            elif existing[contact_id].role != role:
                existing[contact_id].role, changed = role, True
        if deal.outcome == "won":
            self._make_customers(ctx, row, deal, [cid for cid, _ in links] or list(existing))
        if status == "created":
            return status
        return "updated" if changed else "unchanged"

    def _contacts(self, ctx: Context, row: Row) -> list[tuple[int, str]]:
        out = []
        for item in row.get("contacts") or []:
            ref, _, role = item.partition(":")
            ref = ref.strip()
            cid = ctx.lookups.contact(email=ref.lower() if "@" in ref else None, external_id=None if "@" in ref else ref)
            if cid is None:
                raise RowProblem("contacts", f"unknown contact {ref!r}; import the contacts first or fix the reference")
            out.append((cid, role.strip() or "influencer"))
        return out

    def _make_customers(self, ctx: Context, row: Row, deal: Deal, contact_ids: list[int]) -> None:
        """A won deal makes its contacts customers, at the date it was won (rule ``deal_won``)."""
        won_at = datetime.combine(deal.closed_on, datetime.min.time(), tzinfo=ctx.now.tzinfo) if deal.closed_on else ctx.now
        for cid in contact_ids:
            c = ctx.session.get(Contact, cid)
            assert c is not None
            if c.created_at and deal.closed_on and deal.closed_on < c.created_at.date():
                ctx.warnings.append(RowError(row["_row"], "closed_on",
                    f"deal won on {deal.closed_on} before its contact {c.display_name}'s first contact on "
                    f"{c.created_at.date()}; kept as is, check the dates in the source", str(deal.closed_on)))
            if c.stage in ctx.stages.main and ctx.stages.rank(c.stage) >= ctx.stages.rank("customer"):
                continue
            move = plan_stage_move(ctx.stages, c.stage, "customer", at=won_at, actor_rule="deal_won")
            apply_stage_move(ctx.session, c, move, stages=ctx.stages, source_system=ctx.source, audit=False)


class StageChangeHandler(Handler):
    """History of lifecycle moves. Rows are applied per contact in time order; a move earlier than the
    contact's newest recorded change is kept as history and checked against its own ``from_stage``."""

    kind = "stage_changes"
    ordered = True

    def key(self, row: Row) -> tuple[Any, ...]:
        if not row.get("external_id"):
            row["external_id"] = derived_id(row.get("contact_email"), row.get("contact_external_id"),
                                            row.get("from_stage"), row.get("to_stage"), row.get("changed_at"))
        return ("ext", row["external_id"])

    def order(self, rows: list[Row]) -> list[Row]:
        return sorted(rows, key=lambda r: r["changed_at"])

    def check(self, row: Row, stages: StageSet) -> list[tuple[str | None, str]]:
        out: list[tuple[str | None, str]] = []
        for col in ("from_stage", "to_stage"):
            if row.get(col) and row[col] not in stages:
                out.append((col, f"{row[col]!r} is not a lifecycle stage; use one of: {', '.join(stages.all)}"))
        if row.get("actor_email") and row.get("actor_rule"):
            out.append(("actor_rule", "give actor_email or actor_rule, not both"))
        return out

    def write(self, ctx: Context, row: Row) -> str:
        from revteam.store.models import StageChange

        self.key(row)
        exists = ctx.session.scalar(select(StageChange.id).where(
            StageChange.source_system == ctx.source, StageChange.external_id == row["external_id"]))
        if exists is not None:
            return "unchanged"
        contact = ctx.session.get(Contact, _contact_ref(ctx, row))
        assert contact is not None
        actor_user = _owner(ctx, row, "actor_email")
        newest = contact.stage_changed_at is None or row["changed_at"] >= contact.stage_changed_at
        current = contact.stage if newest else row.get("from_stage")
        if newest and row.get("from_stage") and row["from_stage"] != contact.stage:
            raise RowProblem("from_stage", f"the contact is at {contact.stage!r}, not {row['from_stage']!r}, at that time")
        try:
            move = plan_stage_move(ctx.stages, current, row["to_stage"], at=row["changed_at"], actor_user_id=actor_user,
                                   actor_rule=None if actor_user else (row.get("actor_rule") or ctx.rule),
                                   reason=row.get("reason"))
        except InvalidStageMove as e:
            raise RowProblem("to_stage", e.message) from None
        apply_stage_move(ctx.session, contact, move, stages=ctx.stages, source_system=ctx.source,
                         external_id=row["external_id"], audit=False)
        return "created"


class DealStageChangeHandler(Handler):
    """Pipeline stage history of deals imported before, for the forecast. A move already recorded for the
    deal (same day, same stage moved to, from any source) is unchanged. The deal's current stage stays what
    the deals file set: history rows only say where the deal was, and when."""

    kind = "deal_stage_changes"
    fails_before_writing = True
    ordered = True

    def key(self, row: Row) -> tuple[Any, ...]:
        return ("deal_external_id", f"{row.get('deal_external_id')} → {row.get('to_stage')} on {row.get('changed_on')}")

    def order(self, rows: list[Row]) -> list[Row]:
        return sorted(rows, key=lambda r: r["changed_on"])

    def check(self, row: Row, stages: StageSet) -> list[tuple[str | None, str]]:
        if row.get("from_stage") and row["from_stage"] == row["to_stage"]:
            return [("to_stage", (f"from_stage and to_stage are both {row['to_stage']!r}; a row is a move between "
                                  "two stages (leave from_stage empty for the deal's first stage)"))]
        return []

    def write(self, ctx: Context, row: Row) -> str:
        from revteam.store.models import DealStageChange

        deal_id = ctx.lookups.deal(row["deal_external_id"])
        if deal_id is None:
            raise RowProblem("deal_external_id", f"unknown deal {row['deal_external_id']!r}; import the deals file "
                             "first or fix the id")
        deal = ctx.session.get(Deal, deal_id)
        assert deal is not None
        on = row["changed_on"]
        if on < deal.created_on:
            raise RowProblem("changed_on", f"{on} is before the deal was created ({deal.created_on})")
        if on > ctx.now.date():
            raise RowProblem("changed_on", f"{on} is after today ({ctx.now.date()}); history cannot be in the future")
        exists = ctx.session.scalar(select(DealStageChange.id).where(
            DealStageChange.deal_id == deal_id, DealStageChange.changed_on == on,
            DealStageChange.to_stage == row["to_stage"]).limit(1))
        if exists is not None:
            return "unchanged"
        ctx.session.add(DealStageChange(deal_id=deal_id, from_stage=row.get("from_stage"), to_stage=row["to_stage"],
                                        changed_on=on, source="history"))
        return "created"


HANDLERS: dict[str, type[Handler]] = {
    h.kind: h for h in (AccountHandler, ContactHandler, CampaignHandler, ContentHandler, TouchpointHandler,
                        DealHandler, StageChangeHandler, DealStageChangeHandler)
}
