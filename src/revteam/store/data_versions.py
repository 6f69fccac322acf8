"""Data versions: one counter per table the analytics read, bumped in the transaction that writes it.

Why
    The analytics runner keeps an Arrow snapshot of the operational tables, and the pages cache answers
    per *data fingerprint*. A row count or the highest id misses an UPDATE (a deal closing won, a contact
    changing owner) and a DELETE of an old row; ``data_versions`` does not. ``fingerprint`` in
    ``revteam.analytics.snapshot`` reads these counters (and the highest ids, as a net under writes made
    outside revteam) in one cheap query per request.

Which tables
    ``WATCHED``: each table the analytics snapshot, the attribution journeys and the revenue and forecast
    page read, with the columns they read (or all). An update that only touches other columns (a user's
    e-mail or password, a contact's title) leaves the version alone, so it does not throw away a warm
    snapshot.

Who bumps
    * Every ORM ``Session`` (the events are on the ``Session`` class, so sessions made anywhere count):
      objects that are new or deleted in a watched table, dirty objects whose changed columns include a
      watched one, and Core statements run through ``Session.execute`` on a watched table
      (``insert(Touchpoint)`` with a list of rows, ``update(...)``, ``delete(...)``). Names are collected
      at each flush and bumped once, just before the transaction (or savepoint) commits, so on PostgreSQL
      the row lock on a counter lasts only for the commit.
    * Code that writes through a bare ``Connection`` (the demo writer's COPY and executemany) calls
      ``bump(conn, names)`` itself, in the same transaction.
    A delete also bumps the watched tables whose rows the database deletes or nulls with it
    (foreign keys ``ON DELETE CASCADE`` / ``SET NULL``), because no ORM event sees those rows go.

The change log (``data_changes``)
    Each bump also writes, in the same transaction and with the table's new version, what changed, so the
    kept analytics snapshot (``analytics/snapshot_store.py``) can be brought up to date by reading only
    those rows. One entry per transaction and table at least, of one of four kinds:

    ``row``   the row whose key (``id``; ``deal_id`` for ``deal_contacts``) is ``value`` was updated or
              deleted (or inserted, where the key is not an ascending id);
    ``from``  rows were inserted with keys ``>= value`` (the lowest id the transaction inserted; for a
              Core ``insert`` the highest id it could see plus one);
    ``ref``   rows whose ``column`` is (or was) ``value`` changed: a Core ``update``/``delete`` whose
              criteria is ``column == value``, and the rows the database deletes or nulls with a parent
              (``ON DELETE CASCADE`` / ``SET NULL``: ``touchpoints.contact_id = 7``);
    ``none``  nothing (a Core statement whose criteria matched no row);
    ``all``   anything else (a Core statement without criteria, or whose criteria match more than
              ``MAX_LOGGED`` rows: the keys of the rows any other criteria match are asked of the database
              just before the statement runs, and logged as ``row``; a bare ``bump(conn, names)``): whoever
              keeps a copy of the table reads it whole again.

    Worked example: a contact is erased (``services/people/privacy.py``): the contact row is dirty
    (``row contacts 7``) and ``update(Touchpoint).where(Touchpoint.contact_id == 7)`` blanks its URLs
    (``ref touchpoints contact_id 7``); a kept snapshot at an older version re-reads contact 7 and the
    touches of contact 7, and nothing else. A kept copy can prove it missed nothing when every version
    since its own has an entry (``changes_since``); entries older than ``KEEP_VERSIONS`` versions are
    pruned, and a copy that old is read whole.

Edge rules
    A rolled-back transaction bumps nothing (the bump is part of it). Over-counting is harmless (a cache
    rebuilds once too often); under-counting is the bug this module exists to prevent. ``revteam demo
    --reset`` empties every table but this one, and the rebuild bumps every counter on: a restarted
    counter with a rebuild of the same size (the same ids) could repeat an old fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import secrets
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, Connection, Index, Integer, String, delete, event, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList

from revteam.store.models import Base

# table → the columns read by the analytics snapshot (``analytics/snapshot.py``, a subset of these) and the
# attribution service; None: every column (the revenue and forecast service reads whole rows)
WATCHED: dict[str, tuple[str, ...] | None] = {
    "stage_changes": ("id", "contact_id", "from_stage", "to_stage", "changed_at"),
    "contacts": ("id", "account_id", "original_source", "original_campaign_id", "persona", "owner_id", "stage",
                 "created_at"),
    "accounts": ("id", "name", "industry", "region", "segment", "owner_id"),
    "users": ("id", "name", "role", "team_id"),
    "campaigns": ("id", "name", "channel", "type", "cost"),
    "content_assets": ("id", "title", "type", "category", "status", "published_at"),
    "touchpoints": ("id", "contact_id", "type", "channel", "campaign_id", "content_id", "url", "occurred_at"),
    "deals": None,
    "deal_contacts": ("deal_id", "contact_id", "role"),
    "lifecycle_stages": ("key", "label", "position", "kind"),
    "handoffs": ("id", "contact_id", "rep_id", "status", "priority", "handed_at", "source", "kind", "campaign_id",
                 "reject_reason", "at_risk_at", "due_at", "first_touch_at"),
    "content_usage": ("id", "deal_id", "content_id", "user_id", "used_at", "helped"),
    "deal_stage_changes": None,
    "targets": None,
    "teams": None,
}
_PENDING = "revteam_data_versions"  # Session.info key: what this transaction wrote (``Pending``)
# the column a changed row is logged by: ``id`` unless named here; None: no key (every change logs ``all``)
KEYS: dict[str, str | None] = {"deal_contacts": "deal_id", "lifecycle_stages": None}
MAX_LOGGED = 10_000  # rows a Core update/delete with other criteria may name; more: ``all``
KEEP_VERSIONS = 10_000  # change-log entries kept per table, in versions (a kept snapshot older than that is read whole)
EPOCH = "(database)"  # a data_versions row naming this database: a random number set once (``database_epoch``)


class DataVersion(Base):
    """How many committed transactions changed a watched table (see the module docstring)."""

    __tablename__ = "data_versions"
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class DataChange(Base):
    """What one committed transaction changed in one watched table (see "The change log" above)."""

    __tablename__ = "data_changes"
    __table_args__ = (Index("ix_data_changes_table_name_version", "table_name", "version"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))  # row | from | ref | all | none
    column: Mapped[str | None] = mapped_column(String(64))  # ``ref``: the column compared
    value: Mapped[int | None] = mapped_column(BigInteger)


@dataclass
class Changes:
    """What a transaction wrote to one table, as the change log records it."""

    rows: set[int] = field(default_factory=set)  # keys of rows updated or deleted (or inserted without an id)
    inserted_from: int | None = None  # the lowest id inserted
    refs: set[tuple[str, int]] = field(default_factory=set)  # (column, value): rows whose column is or was value
    everything: bool = False

    def inserted(self, lowest: int) -> None:
        self.inserted_from = lowest if self.inserted_from is None else min(self.inserted_from, lowest)


def read_versions(conn: Connection) -> dict[str, int]:
    """Every counter, by table name (tables never written since the database was made are absent)."""
    return {name: int(v) for name, v in conn.execute(select(DataVersion.table_name, DataVersion.version))
            if name != EPOCH}


def database_epoch(conn: Connection) -> int:
    """A random number that names this database (made the first time it is asked, then kept; ``demo --reset``
    keeps it as it keeps the counters): a kept snapshot of another database with the same URL is told apart."""
    t = DataVersion.__table__
    found = conn.scalar(select(t.c.version).where(t.c.table_name == EPOCH))
    if found is None:
        try:
            with conn.begin_nested():
                conn.execute(t.insert().values(table_name=EPOCH, version=secrets.randbits(62)))
        except IntegrityError:  # another process named it first
            pass
        found = conn.scalar(select(t.c.version).where(t.c.table_name == EPOCH))
    return int(found)


def bump(conn: Connection, names: Iterable[str], changes: dict[str, Changes] | None = None) -> dict[str, int]:
    """Add one to the counter of each watched table in ``names`` (others are ignored), in ``conn``'s transaction,
    and log what changed (``changes``; a table without an entry there logs ``all``: read it whole). Returns the
    new versions."""
    wanted = sorted({n for n in names if n in WATCHED})  # a fixed order: two writers never wait on each other
    if not wanted:
        return {}
    t = DataVersion.__table__
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(t).values([{"table_name": n, "version": 1} for n in wanted])
        stmt = stmt.on_conflict_do_update(index_elements=[t.c.table_name], set_={"version": t.c.version + 1})
        versions = {n: int(v) for n, v in conn.execute(stmt.returning(t.c.table_name, t.c.version))}
    else:
        for n in wanted:  # any other database: update, insert the first time
            if conn.execute(update(t).where(t.c.table_name == n).values(version=t.c.version + 1)).rowcount == 0:
                conn.execute(t.insert().values(table_name=n, version=1))
        versions = dict(conn.execute(select(t.c.table_name, t.c.version).where(t.c.table_name.in_(wanted))).all())
    _log(conn, versions, changes or {})
    return versions


def _log(conn: Connection, versions: dict[str, int], changes: dict[str, Changes]) -> None:
    rows: list[dict[str, Any]] = []
    for name, version in versions.items():
        c = changes.get(name)
        entry = {"table_name": name, "version": version, "column": None, "value": None}
        if c is None or c.everything or (KEYS.get(name, "id") is None and (c.rows or c.inserted_from is not None)):
            rows.append({**entry, "kind": "all"})
            continue
        rows += [{**entry, "kind": "row", "value": k} for k in sorted(c.rows)]
        if c.inserted_from is not None:
            rows.append({**entry, "kind": "from", "value": c.inserted_from})
        rows += [{**entry, "kind": "ref", "column": col, "value": v} for col, v in sorted(c.refs)]
        if not (c.rows or c.refs or c.inserted_from is not None):
            rows.append({**entry, "kind": "none"})  # a statement that matched no row
    d = DataChange.__table__
    conn.execute(d.insert(), rows)
    for name, version in versions.items():  # prune: one indexed range per table
        if version > KEEP_VERSIONS:
            conn.execute(delete(d).where(d.c.table_name == name, d.c.version <= version - KEEP_VERSIONS))


@dataclass
class Logged:
    """The change log of one table between two versions (``changes_since``)."""

    complete: bool  # every version in the range has its entries (else: read the table whole)
    rows: set[int] = field(default_factory=set)
    inserted_from: int | None = None
    refs: set[tuple[str, int]] = field(default_factory=set)


def changes_since(conn: Connection, name: str, since: int, until: int) -> Logged:
    """What the transactions that moved ``name`` from version ``since`` to ``until`` changed. Incomplete when
    a version in between has no entry (pruned, or the database is not the one ``since`` came from) or one
    says ``all``."""
    if until < since:
        return Logged(False)
    if until == since:
        return Logged(True)
    d = DataChange.__table__
    found = conn.execute(select(d.c.version, d.c.kind, d.c.column, d.c.value)
                         .where(d.c.table_name == name, d.c.version > since, d.c.version <= until)).all()
    out = Logged(len({v for v, *_rest in found}) == until - since)
    for _v, kind, column, value in found:
        if kind == "all":
            return Logged(False)
        if kind == "row":
            out.rows.add(int(value))
        elif kind == "from":
            out.inserted_from = int(value) if out.inserted_from is None else min(out.inserted_from, int(value))
        elif kind == "ref":
            out.refs.add((column, int(value)))
    return out


_CASCADES: dict[str, frozenset[str]] = {}


def with_cascades(name: str) -> frozenset[str]:
    """``name`` and every watched table whose rows a delete in ``name`` deletes or nulls (transitively)."""
    if not _CASCADES:
        direct: dict[str, set[str]] = {t: set() for t in Base.metadata.tables}
        for child in Base.metadata.tables.values():
            for fk in child.foreign_keys:
                if (fk.ondelete or "").upper() in ("CASCADE", "SET NULL"):
                    direct.setdefault(fk.column.table.name, set()).add(child.name)
        for start in direct:
            seen, todo = {start}, [start]
            while todo:
                for nxt in direct.get(todo.pop(), ()):
                    if nxt not in seen:
                        seen.add(nxt)
                        todo.append(nxt)
            _CASCADES[start] = frozenset(seen)
    return _CASCADES.get(name, frozenset({name}))


def _table_of(obj: Any) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return getattr(table, "name", None)


def _changed_watched(obj: Any, columns: tuple[str, ...] | None) -> bool:
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if (columns is None or attr.columns[0].name in columns) and state.attrs[attr.key].history.has_changes():
            return True
    return False


def _pending(session: Session) -> dict[str, Changes]:
    return session.info.setdefault(_PENDING, {})


def _changes(session: Session, name: str) -> Changes:
    return _pending(session).setdefault(name, Changes())


def _key_values(obj: Any, key: str, *, old: bool) -> list[int]:
    """The object's key now (and, with ``old``, what it was before this flush), without loading anything."""
    state = inspect(obj)
    pk = [c.name for c in state.mapper.primary_key]
    out: list[Any] = []
    if old and state.identity is not None and key in pk:
        out.append(state.identity[pk.index(key)])
    attr = state.mapper.get_property_by_column(state.mapper.local_table.c[key]).key
    if attr in state.dict:
        out.append(state.dict[attr])
    if old:
        out += list(state.attrs[attr].history.deleted or ())
    return sorted({int(v) for v in out if v is not None})


def _cascade(session: Session, parent: str, value: Any) -> None:
    """The watched rows the database deletes or nulls with row ``value`` of ``parent`` (its id): one ``ref``
    per foreign key onto it; deeper (a child's child) it cannot name the rows: ``all``."""
    for name in with_cascades(parent) - {parent}:
        if name not in WATCHED:
            continue
        fks = [fk for fk in Base.metadata.tables[name].foreign_keys if fk.column.table.name == parent
               and (fk.ondelete or "").upper() in ("CASCADE", "SET NULL")]
        if value is None or not fks:
            _changes(session, name).everything = True
        for fk in fks:
            _changes(session, name).refs.add((fk.parent.name, int(value)))


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed (bumped already) or rolled back
        session.info.pop(_PENDING, None)


def _log_object(session: Session, obj: Any, name: str, how: str) -> None:
    key = KEYS.get(name, "id")
    c = _changes(session, name)
    if key is None or key not in Base.metadata.tables[name].c:
        c.everything = True
    elif how == "new" and key == "id":
        c.inserted(min(_key_values(obj, key, old=False), default=0))
    else:
        c.rows.update(_key_values(obj, key, old=how != "new"))


@event.listens_for(Session, "after_flush")
def _collect_flushed(session: Session, _context: Any) -> None:
    for obj in session.new:
        name = _table_of(obj)
        if name in WATCHED:
            _log_object(session, obj, name, "new")
    for obj in session.deleted:
        name = _table_of(obj)
        if name is None:
            continue
        if name in WATCHED:
            _log_object(session, obj, name, "deleted")
        if with_cascades(name) - {name}:
            _cascade(session, name, next(iter(_key_values(obj, "id", old=True)), None)
                     if "id" in Base.metadata.tables[name].c else None)
    for obj in session.dirty:
        name = _table_of(obj)
        if name in WATCHED and _changed_watched(obj, WATCHED[name]):
            _log_object(session, obj, name, "dirty")


def _equalities(clause: Any, table: Any) -> list[tuple[str, list[Any]]] | None:
    """``[(column, values)]`` when ``clause`` is ``column == value`` / ``column IN (...)`` on ``table``'s own
    columns, or an AND of such; None for anything else (the caller logs ``all``)."""
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
        parts = [_equalities(c, table) for c in clause.clauses]
        return None if any(p is None for p in parts) else [x for p in parts for x in p]  # type: ignore[union-attr]
    if not isinstance(clause, BinaryExpression) or getattr(getattr(clause.left, "table", None), "name", None) != table.name:
        return None
    right = clause.right
    if clause.operator is operators.eq and isinstance(right, BindParameter) and right.value is not None:
        return [(clause.left.name, [right.value])]
    if clause.operator is operators.in_op and isinstance(right, BindParameter) and right.expanding:
        return [(clause.left.name, list(right.value or ()))]
    return None


def _log_statement(session: Session, state: Any, name: str, table: Any) -> None:
    c = _changes(session, name)
    key = KEYS.get(name, "id")
    if state.is_insert:
        if key == "id" and "id" in table.c:
            c.inserted(int(session.scalar(select(func.max(table.c.id))) or 0) + 1)
        else:
            c.everything = True
        return
    where = state.statement.whereclause
    found = None if where is None else _equalities(where, table)
    found = [(col, vals) for col, vals in found or () if all(isinstance(v, int) for v in vals)] or None
    if not found:  # other criteria: ask the database which rows they match, before the statement runs
        keys = None
        if where is not None and key is not None and key in table.c:
            keys = session.execute(select(table.c[key]).where(where).limit(MAX_LOGGED + 1)).scalars().all()
        if keys is None or len(keys) > MAX_LOGGED:
            c.everything = True
            for child in with_cascades(name) - {name} if state.is_delete else ():
                _changes(session, child).everything = True
            return
        found = [(key, list(keys))]
    column, values = min(found, key=lambda cv: len(cv[1]))  # the narrowest condition names the rows
    ints = [int(v) for v in values if isinstance(v, int)]
    if len(ints) != len(values):
        c.everything = True
    elif column == key:
        c.rows.update(ints)
    else:
        c.refs.update((column, v) for v in ints)
    if state.is_delete:
        if column == "id" and len(ints) == len(values):
            for v in ints:
                _cascade(session, name, v)
        else:
            for child in with_cascades(name) - {name}:
                _changes(session, child).everything = True


@event.listens_for(Session, "do_orm_execute")
def _collect_statement(state: Any) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name is None:
        return
    if name in WATCHED:
        _log_statement(state.session, state, name, table)
    elif state.is_delete:
        for child in with_cascades(name) - {name}:
            if child in WATCHED:
                _changes(state.session, child).everything = True


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this event: count its writes too
    changes = session.info.pop(_PENDING, None)
    if changes:
        bump(session.connection(), changes, changes)
