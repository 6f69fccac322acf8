"""Reading the operational database into the analytics engine as Arrow, and reusing it until the data
changes. A snapshot is keyed by a fingerprint (row count and highest id of every table it holds), which
is cheap to read; any insert, and any import or demo build, changes it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import func, select

from revteam.store.handoff_models import ContentUsage, Handoff
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    DealContact,
    LifecycleStage,
    StageChange,
    Touchpoint,
    User,
)

# what the analytics read, and only the columns they need
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
                     "owner_id", "source", "campaign_id")),
    "deal_contacts": (DealContact, ("deal_id", "contact_id", "role")),
    "lifecycle_stages": (LifecycleStage, ("key", "label", "position", "kind")),
    "handoffs": (Handoff, ("id", "contact_id", "rep_id", "status", "priority", "handed_at", "source")),
    "content_usage": (ContentUsage, ("id", "deal_id", "content_id", "user_id", "used_at", "helped")),
}
_ID = {"deal_contacts": "deal_id", "lifecycle_stages": "position"}


@dataclass
class Snapshot:
    fingerprint: tuple[Any, ...]
    tables: dict[str, pa.Table] = field(default_factory=dict)


def fingerprint(engine: SqlEngine) -> tuple[Any, ...]:
    parts: list[Any] = []
    with engine.connect() as conn:
        for name, (model, _cols) in TABLES.items():
            col = getattr(model, _ID.get(name, "id"))
            parts.append(tuple(conn.execute(select(func.count(), func.max(col)).select_from(model)).one()))
    return tuple(parts)


def _read(engine: SqlEngine, model: Any, cols: tuple[str, ...]) -> pa.Table:
    """One table as Arrow, with uniform types on every database: UTC timestamps (naive, in UTC), dates
    as timestamps at midnight, money as float64, ids as nullable int64."""
    with engine.connect() as conn:
        df = pd.DataFrame(conn.execute(select(*(getattr(model, c) for c in cols))).all(), columns=list(cols))
    for c in cols:
        if c.endswith("_at"):
            df[c] = pd.to_datetime(df[c], utc=True).dt.tz_convert(None)
        elif c.endswith("_on"):
            df[c] = pd.to_datetime(df[c])
        elif c in ("amount", "cost"):
            df[c] = pd.to_numeric(df[c]).astype("float64")
        elif c == "id" or c.endswith("_id") or c == "position":
            df[c] = pd.array(df[c], dtype="Int64")
        elif c == "helped":
            df[c] = pd.array(df[c], dtype="boolean")
        else:
            df[c] = df[c].astype("string")
    return pa.Table.from_pandas(df, preserve_index=False)


def take_snapshot(engine: SqlEngine, names: tuple[str, ...] | None = None) -> Snapshot:
    snap = Snapshot(fingerprint(engine))
    for name in names or tuple(TABLES):
        model, cols = TABLES[name]
        snap.tables[name] = _read(engine, model, cols)
    return snap


class SnapshotCache:
    """Keeps the last snapshot per database and hands it out while the fingerprint is unchanged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snap: dict[str, Snapshot] = {}

    def get(self, engine: SqlEngine) -> Snapshot:
        key = engine.url.render_as_string(hide_password=True)
        fp = fingerprint(engine)
        with self._lock:
            snap = self._snap.get(key)
            if snap is None or snap.fingerprint != fp:
                snap = take_snapshot(engine)
                self._snap[key] = snap
            return snap
