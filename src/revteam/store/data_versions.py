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

Edge rules
    A rolled-back transaction bumps nothing (the bump is part of it). Over-counting is harmless (a cache
    rebuilds once too often); under-counting is the bug this module exists to prevent. ``revteam demo
    --reset`` empties every table but this one, and the rebuild bumps every counter on: a restarted
    counter with a rebuild of the same size (the same ids) could repeat an old fingerprint.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Connection, String, event, inspect, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

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
_PENDING = "revteam_data_versions"  # Session.info key: table names written in this transaction


class DataVersion(Base):
    """How many committed transactions changed a watched table (see the module docstring)."""

    __tablename__ = "data_versions"
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


def read_versions(conn: Connection) -> dict[str, int]:
    """Every counter, by table name (tables never written since the database was made are absent)."""
    return {name: int(v) for name, v in conn.execute(select(DataVersion.table_name, DataVersion.version))}


def bump(conn: Connection, names: Iterable[str]) -> None:
    """Add one to the counter of each watched table in ``names`` (others are ignored), in ``conn``'s transaction."""
    wanted = sorted({n for n in names if n in WATCHED})  # a fixed order: two writers never wait on each other
    if not wanted:
        return
    t = DataVersion.__table__
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        stmt = insert(t).values([{"table_name": n, "version": 1} for n in wanted])
        conn.execute(stmt.on_conflict_do_update(index_elements=[t.c.table_name], set_={"version": t.c.version + 1}))
        return
    for n in wanted:  # any other database: update, insert the first time
        if conn.execute(update(t).where(t.c.table_name == n).values(version=t.c.version + 1)).rowcount == 0:
            conn.execute(t.insert().values(table_name=n, version=1))


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


def _pending(session: Session) -> set[str]:
    return session.info.setdefault(_PENDING, set())


@event.listens_for(Session, "after_transaction_end")
def _forget_at_the_end(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed (bumped already) or rolled back
        session.info.pop(_PENDING, None)


@event.listens_for(Session, "after_flush")
def _collect_flushed(session: Session, _context: Any) -> None:
    names = _pending(session)
    for obj in session.new:
        name = _table_of(obj)
        if name in WATCHED:
            names.add(name)
    for obj in session.deleted:
        name = _table_of(obj)
        if name is not None:
            names.update(with_cascades(name))
    for obj in session.dirty:
        name = _table_of(obj)
        if name in WATCHED and _changed_watched(obj, WATCHED[name]):
            names.add(name)


@event.listens_for(Session, "do_orm_execute")
def _collect_statement(state: Any) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name is None:
        return
    _pending(state.session).update(with_cascades(name) if state.is_delete else {name})


@event.listens_for(Session, "before_commit")
def _bump_on_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this event: count its writes too
    names = session.info.pop(_PENDING, None)
    if names:
        bump(session.connection(), names)
