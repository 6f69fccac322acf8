"""Reading the operational database into the analytics engine as Arrow, and reusing it until the data
changes.

A snapshot is keyed by a *fingerprint*: per table, its data version (``store/data_versions.py``: bumped
by every transaction that inserts, updates or deletes rows the analytics read) and its highest id (a net
under rows written outside revteam). Both come from one cheap query, so every request can ask whether
the data changed. When it did, only the tables whose part of the fingerprint moved are refreshed, and of
those only the rows written since (``refresh``: the change log of ``store/data_versions.py``, read by
``analytics/snapshot_read.py``); a table the log cannot vouch for is read whole.

The snapshot is also kept on disk between starts (``analytics/snapshot_store.py``): a new process loads the
kept Arrow files and reads only what was written since they were made.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import func, select

from revteam.analytics.snapshot_read import (
    SANE_YEARS,
    Delta,
    Odd,
    arrow_schema,
    read_rows,
    read_since,
    required_columns,
    to_arrow,
)
from revteam.analytics.snapshot_store import SnapshotStore, schema_id
from revteam.store.data_versions import KEYS, WATCHED, database_epoch, read_versions
from revteam.store.models import ContentUsage, Handoff
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    DealContact,
    DealStageChange,
    LifecycleStage,
    StageChange,
    Team,
    Touchpoint,
    User,
)

# what the analytics read, and only the columns they need (each a subset of store.data_versions.WATCHED)
TABLES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "stage_changes": (StageChange, ("id", "contact_id", "from_stage", "to_stage", "changed_at")),
    "contacts": (Contact, ("id", "account_id", "original_source", "original_campaign_id", "persona", "owner_id",
                           "stage", "created_at")),
    "accounts": (Account, ("id", "name", "industry", "region", "segment", "owner_id")),
    "users": (User, ("id", "name", "role", "team_id")),
    "campaigns": (Campaign, ("id", "name", "channel", "type", "cost")),
    "content": (ContentAsset, ("id", "title", "type", "category", "status", "published_at")),
    "touchpoints": (Touchpoint, ("id", "contact_id", "type", "channel", "campaign_id", "content_id", "url",
                                 "occurred_at")),
    "deals": (Deal, ("id", "account_id", "amount", "currency", "stage", "outcome", "created_on", "closed_on",
                     "owner_id", "source", "campaign_id", "name")),
    "deal_contacts": (DealContact, ("deal_id", "contact_id", "role")),
    "lifecycle_stages": (LifecycleStage, ("key", "label", "position", "kind")),
    "handoffs": (Handoff, ("id", "contact_id", "rep_id", "status", "priority", "handed_at", "source", "kind",
                           "campaign_id", "reject_reason", "at_risk_at", "due_at", "first_touch_at")),
    "content_usage": (ContentUsage, ("id", "deal_id", "content_id", "user_id", "used_at", "helped")),
    "teams": (Team, ("id", "name")),
    "deal_stage_changes": (DealStageChange, ("id", "deal_id", "changed_on", "to_stage")),
}
_ID = {"deal_contacts": "deal_id", "lifecycle_stages": "position"}

# (snapshot table, data version, highest id) in TABLES order, then (watched table, data version, None) for the
# other tables whose versions the page caches depend on (store.data_versions.WATCHED)
Fingerprint = tuple[tuple[str, int, Any], ...]


SCHEMA = schema_id(TABLES)
log = logging.getLogger("revteam.snapshot")


@dataclass
class Snapshot:
    fingerprint: Fingerprint
    tables: dict[str, pa.Table] = field(default_factory=dict)
    base: Fingerprint | None = None  # the snapshot this one was refreshed from (``deltas`` are relative to it)
    deltas: dict[str, Delta] = field(default_factory=dict)  # tables brought up to date from the change log
    how: dict[str, str] = field(default_factory=dict)  # table → "whole" or "changes", for the tables refreshed
    read: dict[str, int] = field(default_factory=dict)  # table → rows read from the database to make this one
    # table → {key: date columns out of range}: rows left out, or dates read as none (snapshot_read.py)
    odd: dict[str, Odd] = field(default_factory=dict)

    def out_of_range(self) -> list[dict[str, Any]]:
        """What the snapshot did not read as stored: per table, the rows left out because a required date is
        outside 1900-2199, and the rows whose optional dates were read as none; each with a sentence."""
        return out_of_range_report(self.odd)


NOUNS = {"stage_changes": "stage changes", "contacts": "contacts", "touchpoints": "touches", "deals": "deals",
         "content": "content pieces", "handoffs": "handoffs", "content_usage": "content uses",
         "deal_stage_changes": "deal stage changes"}


def out_of_range_report(odd: dict[str, Odd]) -> list[dict[str, Any]]:
    out = []
    for name, rows in odd.items():
        if not rows or name not in TABLES:
            continue
        model, cols = TABLES[name]
        required = required_columns(model, cols)
        columns = sorted({c for names in rows.values() for c in names})
        left_out = sum(1 for names in rows.values() if required.intersection(names))
        blanked = len(rows) - left_out
        noun = NOUNS.get(name, name)
        where = ", ".join(f"{model.__tablename__}.{c}" for c in columns)
        parts = []
        if left_out:
            parts.append(f"{left_out:,} {noun} with dates outside {SANE_YEARS} were left out")
        if blanked:
            parts.append(f"{blanked:,} {noun} had dates outside {SANE_YEARS} read as no date")
        message = (f"{' and '.join(parts)} ({where}; ids {', '.join(map(str, sorted(rows)[:5]))}"
                   f"{', …' if len(rows) > 5 else ''}). Correct those dates in the data to count them.")
        out.append({"table": model.__tablename__, "columns": columns, "left_out": left_out, "read_as_none": blanked,
                    "ids": sorted(rows)[:20], "message": message[0].upper() + message[1:]})
    return out


def fingerprint(engine: SqlEngine) -> Fingerprint:
    """Every watched table's data version, and the snapshot tables' highest ids: two small statements."""
    highest = select(*(select(func.max(getattr(m, _ID.get(n, "id")))).scalar_subquery() for n, (m, _c) in TABLES.items()))
    with engine.connect() as conn:
        versions = read_versions(conn)
        ids = conn.execute(highest).one()
    read = {model.__tablename__ for model, _cols in TABLES.values()}
    return (tuple((name, versions.get(model.__tablename__, 0), top)
                  for (name, (model, _cols)), top in zip(TABLES.items(), ids))
            + tuple((name, versions.get(name, 0), None) for name in sorted(WATCHED) if name not in read))


def changed_tables(old: Fingerprint | None, new: Fingerprint) -> tuple[str, ...]:
    """The snapshot tables whose part of the fingerprint differs (all of them when there was none)."""
    before = {part[0]: part for part in old or ()}
    return tuple(part[0] for part in new if part[0] in TABLES and before.get(part[0]) != part)


def _read(engine: SqlEngine, model: Any, cols: tuple[str, ...], odd: Odd | None = None) -> pa.Table:
    """One table (only ``cols``) as Arrow, sorted by its primary key (``snapshot_read.read_rows``)."""
    return read_rows(engine, model, cols, odd=odd)


def _frame(rows: list[Any], cols: tuple[str, ...]) -> pa.Table:
    """Rows (tuples in ``cols`` order) as Arrow of the snapshot's types."""
    return pa.Table.from_batches([to_arrow(rows, cols)], schema=arrow_schema(cols))


def _key(name: str) -> str | None:
    return KEYS.get(TABLES[name][0].__tablename__, "id")


def refresh(engine: SqlEngine, previous: Snapshot | None, fp: Fingerprint) -> Snapshot:
    """``previous`` brought up to ``fp``: each table whose part moved is brought up to date from the change log
    (``snapshot_read.read_since``: only the rows written since), or read whole when the log cannot prove it
    complete; the others are reused as they are. ``snap.read`` says how many rows each table read."""
    snap = Snapshot(fp, dict(previous.tables) if previous else {}, base=previous.fingerprint if previous else None,
                    odd=dict(previous.odd) if previous else {})
    before = {part[0]: part for part in previous.fingerprint} if previous else {}
    parts = {part[0]: part for part in fp}
    for name in changed_tables(previous.fingerprint if previous else None, fp):
        model, cols = TABLES[name]
        was, now = before.get(name), parts[name]
        got = None
        odd: Odd = {}
        if was is not None and name in snap.tables:
            got = read_since(engine, model, cols, snap.tables[name], _key(name), was[1], now[1], was[2], odd=odd)
        if got is None:
            odd = {}
            snap.tables[name] = _read(engine, model, cols, odd)
            snap.how[name] = "whole"
            snap.read[name] = snap.tables[name].num_rows
            snap.odd[name] = odd
        else:
            snap.tables[name], snap.deltas[name] = got
            snap.how[name] = "changes"
            snap.read[name] = got[1].fresh.num_rows
            delta = got[1]
            reread = set(delta.keys.to_pylist())
            kept_odd = {k: v for k, v in snap.odd.get(name, {}).items()
                        if k not in reread and (delta.from_key is None or k < delta.from_key)}
            snap.odd[name] = {**kept_odd, **odd}
    return snap


def take_snapshot(engine: SqlEngine, names: tuple[str, ...] | None = None, *, previous: Snapshot | None = None,
                  fp: Fingerprint | None = None) -> Snapshot:
    """Read ``names`` (default: every table) whole; the other tables come from ``previous`` when given."""
    snap = Snapshot(fp if fp is not None else fingerprint(engine), dict(previous.tables) if previous else {},
                    odd=dict(previous.odd) if previous else {})
    for name in tuple(TABLES) if names is None else names:  # () means none changed: read nothing
        model, cols = TABLES[name]
        snap.odd[name] = {}
        snap.tables[name] = _read(engine, model, cols, snap.odd[name])
        snap.read[name] = snap.tables[name].num_rows
    return snap


_FROM_SETTINGS = object()


def _store_from_settings() -> SnapshotStore | None:
    from revteam.config import get_settings

    settings = get_settings()
    return SnapshotStore(settings.snapshot_dir or None) if settings.keep_snapshot else None


class SnapshotCache:
    """Keeps the last snapshot per database and hands it out while the fingerprint is unchanged; after a
    change it reads only what changed (``refresh``). With a ``store`` (default: from the settings
    ``REVTEAM_KEEP_SNAPSHOT`` and ``REVTEAM_SNAPSHOT_DIR``) the snapshot is also kept on disk: a new process
    starts from the kept copy and reads only what was written since (``analytics/snapshot_store.py``)."""

    def __init__(self, store: Any = _FROM_SETTINGS) -> None:
        self.store: SnapshotStore | None = _store_from_settings() if store is _FROM_SETTINGS else store
        self._lock = threading.Lock()
        self._snap: dict[str, Snapshot] = {}

    def get(self, engine: SqlEngine) -> Snapshot:
        key = engine.url.render_as_string(hide_password=True)
        fp = fingerprint(engine)
        with self._lock:
            snap = self._snap.get(key)
            if snap is None:
                snap = self._start(engine, fp)
            elif snap.fingerprint != fp:
                snap = refresh(engine, snap, fp)
                self._keep(engine, snap)
            self._snap[key] = snap
            return snap

    def _start(self, engine: SqlEngine, fp: Fingerprint) -> Snapshot:
        """The first snapshot of this process: from the kept copy when there is one, else read whole."""
        kept = None
        if self.store is not None:
            with engine.begin() as conn:
                epoch = database_epoch(conn)
            kept = self.store.load(engine, epoch=epoch, schema=SCHEMA, tables=TABLES)
        base = None if kept is None else Snapshot(tuple(kept.parts.values()), kept.tables, odd=kept.odd)
        snap = refresh(engine, base, fp)
        snap.base = None  # the engine holds nothing yet: it loads every table
        if kept is not None:
            log.info("analytics snapshot: kept copy used for %d of %d tables; rows read since: %s", len(kept.tables),
                     len(TABLES), ", ".join(f"{n} {r:,} ({snap.how[n]})" for n, r in snap.read.items()) or "none")
        self._keep(engine, snap, base=base)
        return snap

    def _keep(self, engine: SqlEngine, snap: Snapshot, base: Snapshot | None = None) -> None:
        """Write the tables that moved to the store, and use their memory-mapped copies from then on."""
        if self.store is None or not snap.read:
            return
        try:
            with engine.begin() as conn:
                epoch = database_epoch(conn)
            parts = {part[0]: part for part in snap.fingerprint if part[0] in TABLES}
            start = base.fingerprint if base is not None else snap.base
            written = self.store.save(engine, epoch=epoch, schema=SCHEMA, parts=parts, tables=snap.tables,
                                      base={p[0]: p for p in start} if start else None, deltas=snap.deltas,
                                      odd=snap.odd)
        except OSError as e:  # a cache: the answers do not depend on it
            log.warning("could not keep the analytics snapshot: %s", e)
            return
        snap.tables.update(written)
        if written:  # the heap copies of the tables now read from their files: give the memory back
            pa.default_memory_pool().release_unused()



def register_arrow(con: Any, tables: dict[str, pa.Table]) -> dict[str, Any]:
    """Hand the snapshot's Arrow tables to DuckDB (``con``: the Ibis backend) as views it scans in place, and
    return Ibis table expressions by name. No copy: the kept tables are memory-mapped files, so the server
    holds them once, in the page cache (at 10x the demo, copying them into DuckDB took 4-8 s and 700 MB more
    resident memory; the queries run about as fast on the views). Registering a name again replaces it."""
    out = {}
    for name, table in tables.items():
        con.con.register(name, table)
        out[name] = con.table(name)
    return out
