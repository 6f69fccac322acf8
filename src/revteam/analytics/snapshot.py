"""Reading the operational database into the analytics engine as Arrow, and reusing it until the data
changes.

A snapshot is keyed by a *fingerprint*: per table, its data version (``store/data_versions.py``: bumped
by every transaction that inserts, updates or deletes rows the analytics read) and its highest id (a net
under rows written outside revteam). Both come from one cheap query, so every request can ask whether
the data changed. When it did, only the tables whose part of the fingerprint moved are read again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import func, select

from revteam.store.data_versions import WATCHED, read_versions
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


@dataclass
class Snapshot:
    fingerprint: Fingerprint
    tables: dict[str, pa.Table] = field(default_factory=dict)


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


def _fetch(engine: SqlEngine, model: Any, cols: tuple[str, ...]) -> list[Any]:
    """The rows as the database driver returns them. SQLite and PostgreSQL skip SQLAlchemy's per-value
    result processing (half the time of a large table); ``_frame`` gives every column one type anyway."""
    stmt = select(*(getattr(model, c) for c in cols))
    with engine.connect() as conn:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            return list(conn.execute(stmt).all())
        cur = conn.connection.driver_connection.cursor()
        try:
            cur.execute(str(stmt.compile(conn)))
            return cur.fetchall()
        finally:
            cur.close()


def _frame(rows: list[Any], cols: tuple[str, ...]) -> pa.Table:
    """Rows as Arrow, with uniform types on every database: UTC timestamps (naive, in UTC), dates as
    timestamps at midnight, money as float64, ids as nullable int64, text as strings."""
    df = pd.DataFrame.from_records(rows, columns=list(cols))
    for c in cols:
        if c.endswith("_at"):  # stored as naive UTC (store/types.py): text on SQLite, datetime on PostgreSQL
            df[c] = pd.to_datetime(df[c], utc=True, format="ISO8601").dt.tz_convert(None)
        elif c.endswith("_on"):
            df[c] = pd.to_datetime(df[c], format="ISO8601")
        elif c in ("amount", "cost"):
            df[c] = pd.to_numeric(df[c]).astype("float64")
        elif c == "id" or c.endswith("_id") or c == "position":
            df[c] = pd.array(df[c], dtype="Int64")
        elif c == "helped":
            df[c] = pd.array(df[c], dtype="boolean")
        else:
            df[c] = df[c].astype("string")
    return pa.Table.from_pandas(df, preserve_index=False)


def _read(engine: SqlEngine, model: Any, cols: tuple[str, ...]) -> pa.Table:
    """One table (only ``cols``) as Arrow."""
    return _frame(_fetch(engine, model, cols), cols)


def take_snapshot(engine: SqlEngine, names: tuple[str, ...] | None = None, *, previous: Snapshot | None = None,
                  fp: Fingerprint | None = None) -> Snapshot:
    """Read ``names`` (default: every table); the other tables come from ``previous`` when given."""
    snap = Snapshot(fp if fp is not None else fingerprint(engine), dict(previous.tables) if previous else {})
    for name in tuple(TABLES) if names is None else names:  # () means none changed: read nothing
        model, cols = TABLES[name]
        snap.tables[name] = _read(engine, model, cols)
    return snap


class SnapshotCache:
    """Keeps the last snapshot per database and hands it out while the fingerprint is unchanged; after a
    change it reads again only the tables that changed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snap: dict[str, Snapshot] = {}

    def get(self, engine: SqlEngine) -> Snapshot:
        key = engine.url.render_as_string(hide_password=True)
        fp = fingerprint(engine)
        with self._lock:
            snap = self._snap.get(key)
            if snap is None or snap.fingerprint != fp:
                changed = changed_tables(snap.fingerprint if snap else None, fp)
                snap = take_snapshot(engine, changed, previous=snap, fp=fp)
                self._snap[key] = snap
            return snap
