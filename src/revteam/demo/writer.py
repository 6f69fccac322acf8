"""Writing the demo: SQLAlchemy Core ``insert()`` executemany in large batches, one transaction.

The caller hands in a ``Connection`` inside ``engine.begin()``: either every row lands or none does.
Rows arrive as tuples in a fixed column order and are zipped into parameter dicts one batch at a time.
Primary keys are explicit, so afterwards PostgreSQL's id sequences are moved past the largest id
(``advance_sequences``), or the next row the app inserts would collide with a demo row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table, delete, func, insert, select, text

from revteam.store.models import Base, LifecycleStage

Progress = Callable[[str, int, int], None]
BATCH_ROWS = 20_000
KEEP_ON_RESET = ("alembic_version",)
# tables that say the database is in use (lifecycle_stages is configuration, seeded on every start)
DATA_TABLES = ("users", "accounts", "contacts", "touchpoints", "deals", "campaigns", "content_assets",
               "stage_changes", "audit_log", "import_runs", "targets", "teams")


def table(name: str) -> Table:
    return Base.metadata.tables[name]


def non_empty_tables(conn: Connection) -> dict[str, int]:
    """Row counts of the data tables that hold anything."""
    out = {}
    for name in DATA_TABLES:
        n = conn.scalar(select(func.count()).select_from(table(name))) or 0
        if n:
            out[name] = int(n)
    return out


def clear_all(conn: Connection) -> None:
    """Delete every row of every revteam table (children first); the schema stays. The data versions stay
    too: the rebuild bumps them on, so a running process sees new data even where a rebuild of the same
    size reuses the same ids (a restarted counter could repeat an old fingerprint)."""
    for t in reversed(Base.metadata.sorted_tables):
        if t.name != "data_versions":
            conn.execute(delete(t))


def write_rows(conn: Connection, name: str, columns: Sequence[str], rows: Sequence[tuple] | Sequence[dict[str, Any]],
               *, phase: str | None = None, progress: Progress | None = None, batch: int = BATCH_ROWS) -> int:
    """Insert ``rows`` (tuples in ``columns`` order, or dicts) into table ``name``; returns the count."""
    t = table(name)
    stmt = insert(t)
    total = len(rows)
    for start in range(0, total, batch):
        chunk = rows[start : start + batch]
        params = chunk if chunk and isinstance(chunk[0], dict) else [dict(zip(columns, r)) for r in chunk]
        if params:
            conn.execute(stmt, params)
        if progress is not None:
            progress(phase or name, min(start + batch, total), total)
    if progress is not None and total == 0:
        progress(phase or name, 0, 0)
    return total


def write_bulk(conn: Connection, name: str, columns: Sequence[str], rows: Sequence[tuple], *,
               datetimes: Sequence[str] = (), json: Sequence[str] = (), phase: str | None = None,
               progress: Progress | None = None, batch: int = BATCH_ROWS) -> int:
    """``write_rows`` for the big tables, past SQLAlchemy's per-value parameter handling.

    Rows are tuples in ``columns`` order whose ``datetimes`` columns hold naive UTC datetimes (never
    None) and ``json`` columns JSON-able values (None → SQL NULL). On PostgreSQL they go through
    ``COPY ... FROM STDIN`` (psycopg); on SQLite through the driver's ``executemany`` with the times
    sent as epoch seconds and formatted by SQLite into exactly the text SQLAlchemy stores
    (``YYYY-MM-DD HH:MM:SS.000000``; the demo's times are whole seconds). Other dialects use
    ``write_rows``. Same rows in, same table contents out, whichever path.
    """
    import json as _json

    dialect = conn.dialect.name
    if dialect not in ("sqlite", "postgresql") or not rows:
        return write_rows(conn, name, columns, rows, phase=phase, progress=progress, batch=batch)
    dt_pos = [columns.index(c) for c in datetimes]
    js_pos = [columns.index(c) for c in json]
    raw = conn.connection.dbapi_connection
    total = len(rows)
    for start in range(0, total, batch):
        chunk = rows[start : start + batch]
        cols: list[Any] = list(zip(*chunk))
        for i in js_pos:
            cols[i] = [None if v is None else _json.dumps(v) for v in cols[i]]
        if dialect == "sqlite":
            import numpy as np
            import pandas as pd

            for i in dt_pos:
                cols[i] = pd.to_datetime(list(cols[i])).values.astype("datetime64[s]").astype(np.int64).tolist()
            values = ", ".join("strftime('%Y-%m-%d %H:%M:%S', ?, 'unixepoch') || '.000000'" if i in dt_pos else "?"
                               for i in range(len(columns)))
            cur = raw.cursor()
            try:
                cur.executemany(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({values})", zip(*cols))
            finally:
                cur.close()
        else:
            with raw.cursor() as cur, cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in zip(*cols):
                    copy.write_row(row)
        if progress is not None:
            progress(phase or name, min(start + batch, total), total)
    return total


def reseed_stages(conn: Connection, stages: Sequence[tuple[str, str, int, str]]) -> None:
    conn.execute(delete(LifecycleStage))
    conn.execute(insert(LifecycleStage), [dict(zip(("key", "label", "position", "kind"), s)) for s in stages])


def advance_sequences(conn: Connection) -> None:
    """PostgreSQL only: set each ``id`` sequence to the table's largest id."""
    if conn.dialect.name != "postgresql":
        return
    for t in Base.metadata.sorted_tables:
        if "id" in t.c and t.c.id.primary_key and t.c.id.autoincrement in (True, "auto"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {t.name}), 0) + 1, false)"
                )
            )
