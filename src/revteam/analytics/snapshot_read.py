"""Reading operational rows into Arrow: a whole table streamed in batches, or only the rows that the change
log (``store/data_versions.py``) says were written since a kept copy.

Types
    Every database gives the same Arrow types: timestamps (``*_at``, stored as naive UTC) as naive
    ``timestamp[ns]`` in UTC, dates (``*_on``) as ``timestamp[ns]`` at midnight, money (``amount``, ``cost``)
    as ``float64``, ids (``id``, ``*_id``, ``position``) as ``int64``, ``helped`` as ``bool``, the rest as
    ``string``. SQLite hands over text timestamps and PostgreSQL ``datetime`` and ``Decimal``; both are
    converted by Arrow, column by column, one batch of ``BATCH_ROWS`` driver rows at a time, so a 4.6M-row
    table never exists as Python tuples or a pandas frame (measured at 10x the demo: 46 s and a 3.4 GB peak
    through pandas; see docs/performance.md for the batched figures).

Dates out of range (``store/date_range.py``: 1900-01-01 to 2199-12-31)
    A stored date outside that range (a touch "in 3000", PostgreSQL's ``infinity``, an unparseable text date
    on SQLite) never reaches Arrow: the query flags it, and reads it as null on PostgreSQL (``CASE WHEN``, so
    the driver never builds a Python date it cannot hold: Python's years end in 9999) or has it nulled in
    Python on SQLite (which hands text), so no Arrow conversion overflows (nanoseconds end in 2262). A
    row whose date column is required (``NOT NULL``) is left out of the snapshot; a nullable one is read as
    no date. Each such row's key and columns are collected in ``odd`` (``read_rows``/``read_since``), so the
    snapshot can say what it left out (``analytics/snapshot.py``: ``Snapshot.out_of_range``).

Order
    Rows come sorted by the table's primary key, so a copy brought up to date (``read_since``) equals a
    fresh read row for row.

Bringing a copy up to date (``read_since``)
    Given the kept Arrow table, its data version and highest key, and the change log since that version:
    read the rows with a key at or above the lowest inserted one (or above the kept highest key: the net
    under rows written outside revteam), the rows named by key, and the rows whose column is or was a
    logged value (found in the kept copy, and in the database for rows that took the value since); drop
    every kept row with one of those keys, add what was read. A key that is no longer in the database was
    deleted. When the log cannot prove it is complete (``Logged.complete``), or names more than
    ``MAX_NAMED`` rows, the caller reads the table whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import and_, case, inspect, not_, or_, select

from revteam.store.data_versions import changes_since
from revteam.store.date_range import YEARS, in_range

BATCH_ROWS = 65_536
MAX_NAMED = 20_000  # keys and values a change read may name (bind parameters); more: read the table whole
SANE_YEARS = YEARS  # the dates the analytics read (store/date_range.py); anything else is reported, never converted
Odd = dict[int, tuple[str, ...]]  # key → its date columns that were out of range (or unreadable)


def _kind(col: str) -> str:
    if col.endswith("_at"):
        return "at"
    if col.endswith("_on"):
        return "on"
    if col in ("amount", "cost"):
        return "money"
    if col == "id" or col.endswith("_id") or col == "position":
        return "int"
    return "bool" if col == "helped" else "text"


_TYPES = {"at": pa.timestamp("ns"), "on": pa.timestamp("ns"), "money": pa.float64(), "int": pa.int64(),
          "bool": pa.bool_(), "text": pa.string()}


def arrow_schema(cols: Sequence[str]) -> pa.Schema:
    return pa.schema([(c, _TYPES[_kind(c)]) for c in cols])


def _first(values: Sequence[Any]) -> Any:
    return next((v for v in values if v is not None), None)


def _column(values: Sequence[Any], col: str) -> pa.Array:
    """One column of driver values as Arrow of the column's type (see the module docstring)."""
    kind = _kind(col)
    if kind == "int":
        return pa.array(values, pa.int64())
    if kind == "text":
        if isinstance(_first(values), (str, type(None))):
            return pa.array(values, pa.string())
        return pa.array([None if v is None else str(v) for v in values], pa.string())
    if kind in ("money", "bool"):
        return pa.array(values).cast(_TYPES[kind])
    sample = _first(values)
    if isinstance(sample, str):
        text = pa.array(values, pa.string())
        if kind == "on":
            try:
                return text.cast(pa.date32()).cast(pa.timestamp("ns"))
            except pa.ArrowInvalid:
                pass
        try:
            return text.cast(pa.timestamp("ns"))
        except pa.ArrowInvalid:  # with an offset: to UTC, then naive
            return text.cast(pa.timestamp("ns", tz="UTC")).cast(pa.timestamp("ns"))
    if kind == "on" and sample is not None and not hasattr(sample, "hour"):
        return pa.array(values, pa.date32()).cast(pa.timestamp("ns"))
    return pa.array(values, pa.timestamp("ns"))  # datetimes (aware ones converted to UTC)


def to_arrow(rows: Sequence[Sequence[Any]], cols: Sequence[str]) -> pa.RecordBatch:
    """Driver rows (tuples in ``cols`` order) as one Arrow batch."""
    if not rows:
        return pa.RecordBatch.from_pylist([], schema=arrow_schema(cols))
    columns = list(zip(*rows))
    return pa.RecordBatch.from_arrays([_column(columns[i], c) for i, c in enumerate(cols)], schema=arrow_schema(cols))


def key_columns(model: Any) -> tuple[str, ...]:
    return tuple(c.name for c in inspect(model).primary_key)


def _batches(engine: SqlEngine, stmt: Any) -> Iterator[Sequence[Sequence[Any]]]:
    """The rows as the database driver returns them, ``BATCH_ROWS`` at a time. SQLite and PostgreSQL skip
    SQLAlchemy's per-value result processing (half the time of a large table)."""
    with engine.connect() as conn:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            for part in conn.execution_options(yield_per=BATCH_ROWS).execute(stmt).partitions(BATCH_ROWS):
                yield [tuple(r) for r in part]
            return
        compiled = stmt.compile(conn, compile_kwargs={"render_postcompile": True})
        params = compiled.params
        sql = str(compiled)
        if engine.dialect.name == "sqlite":
            args: Any = tuple(params[p] for p in compiled.positiontup) if compiled.positiontup else ()
        else:
            args = params
        cur = conn.connection.driver_connection.cursor()
        try:
            cur.execute(sql, args) if args else cur.execute(sql)
            while True:
                part = cur.fetchmany(BATCH_ROWS)
                if not part:
                    return
                yield part
        finally:
            cur.close()


def date_columns(cols: Sequence[str]) -> tuple[str, ...]:
    return tuple(c for c in cols if _kind(c) in ("at", "on"))


def required_columns(model: Any, cols: Sequence[str]) -> frozenset[str]:
    """The date columns of ``cols`` that cannot be null: a row with one out of range is left out."""
    table = model.__table__
    return frozenset(c for c in date_columns(cols) if c in table.c and not table.c[c].nullable)


def _tolerant_column(values: Sequence[Any], col: str) -> tuple[pa.Array, list[int]]:
    """``_column``, and when a value cannot be converted (a malformed text date on SQLite), that value read as
    null and its position returned."""
    try:
        return _column(values, col), []
    except (pa.ArrowInvalid, OverflowError, ValueError, TypeError):
        pass
    out: list[Any] = []
    bad: list[int] = []
    for i, v in enumerate(values):
        try:
            out.append(_column([v], col)[0].as_py() if v is not None else None)
        except (pa.ArrowInvalid, OverflowError, ValueError, TypeError):
            out.append(None)
            bad.append(i)
    return pa.array(out, _TYPES[_kind(col)]), bad


def _checked_batch(part: Sequence[Sequence[Any]], cols: Sequence[str], dates: Sequence[str],
                   required: frozenset[str], key: str | None, odd: Odd | None) -> pa.RecordBatch:
    """Driver rows of ``cols`` followed by one out-of-range flag per date column, as Arrow of ``cols``: rows
    with a required date out of range left out, the others' out-of-range dates null (already so in SQL)."""
    n = len(cols)
    columns = list(zip(*part))
    arrays: list[pa.Array] = []
    bad_at: dict[int, list[str]] = {}
    for j, c in enumerate(dates):
        flags = columns[n + j]
        if any(flags):
            values = list(columns[cols.index(c)])
            for i, f in enumerate(flags):
                if f:
                    bad_at.setdefault(i, []).append(c)
                    values[i] = None  # already null when the query did it (PostgreSQL)
            columns[cols.index(c)] = tuple(values)
    for i, c in enumerate(cols):
        if c in dates:
            array, unreadable = _tolerant_column(columns[i], c)
            for r in unreadable:
                bad_at.setdefault(r, []).append(c)
        else:
            array = _column(columns[i], c)
        arrays.append(array)
    batch = pa.RecordBatch.from_arrays(arrays, schema=arrow_schema(cols))
    if not bad_at:
        return batch
    if odd is not None and key is not None:
        k = cols.index(key)
        for r, names in bad_at.items():
            odd[int(columns[k][r])] = tuple(names)
    drop = {r for r, names in bad_at.items() if required.intersection(names)}
    if drop:
        batch = batch.filter(pa.array([r not in drop for r in range(batch.num_rows)]))
    return batch


def read_rows(engine: SqlEngine, model: Any, cols: Sequence[str], where: Any = None, odd: Odd | None = None) -> pa.Table:
    """``cols`` of ``model``'s rows (those matching ``where``), sorted by its primary key, as Arrow. Dates out of
    range are left out or read as null (see the module docstring); ``odd`` collects their keys."""
    dates = date_columns(cols)
    # PostgreSQL hands dates to Python, which cannot hold some of them: null them in the query. SQLite hands text,
    # which any value is: read it as stored and null the flagged ones in Python (a fifth faster on a large table)
    in_sql = engine.dialect.name != "sqlite"
    picked = [case((in_range(getattr(model, c)), getattr(model, c)), else_=None).label(c) if c in dates and in_sql
              else getattr(model, c) for c in cols]
    flags = [case((and_(getattr(model, c).is_not(None), not_(in_range(getattr(model, c)))), 1), else_=0)
             for c in dates]
    stmt = select(*picked, *flags).order_by(*(getattr(model, c) for c in key_columns(model)))
    if where is not None:
        stmt = stmt.where(where)
    schema = arrow_schema(cols)
    keys = key_columns(model)
    key = keys[0] if len(keys) == 1 and keys[0] in cols else None
    required = required_columns(model, cols)
    if not dates:
        return pa.Table.from_batches([to_arrow(part, cols) for part in _batches(engine, stmt)], schema=schema)
    return pa.Table.from_batches([_checked_batch(part, cols, dates, required, key, odd)
                                  for part in _batches(engine, stmt)], schema=schema)


@dataclass
class Delta:
    """How ``read_since`` changed a kept table: the kept rows dropped (keys at or above ``from_key`` and the
    keys in ``keys``) and the rows read (``fresh``); the engine applies the same to its copy."""

    key: str
    from_key: int | None
    keys: pa.Array
    fresh: pa.Table
    dropped: int  # kept rows dropped (0: the refresh only added rows)


def read_since(engine: SqlEngine, model: Any, cols: Sequence[str], kept: pa.Table, key: str | None, since: int,
               until: int, top: Any, odd: Odd | None = None) -> tuple[pa.Table, Delta] | None:
    """``kept`` (the table at data version ``since``, highest key ``top``) brought up to version ``until`` by
    reading only what changed; None when the change log cannot prove it is complete (read it whole)."""
    if key is None or key not in kept.column_names:
        return None
    with engine.connect() as conn:
        logged = changes_since(conn, model.__tablename__, since, until)
    if not logged.complete:
        return None
    if top is None and kept.num_rows:
        return None
    net = 0 if top is None else int(top) + 1
    lo = net if logged.inserted_from is None else min(net, logged.inserted_from)
    keys = set(logged.rows)
    by_col: dict[str, set[int]] = {}
    for col, value in logged.refs:
        by_col.setdefault(col, set()).add(value)
    for col, values in by_col.items():
        if col not in kept.column_names or not hasattr(model, col):
            return None
        hit = pc.is_in(kept.column(col), value_set=pa.array(sorted(values), pa.int64()))
        keys.update(k for k in pc.filter(kept.column(key), pc.fill_null(hit, False)).to_pylist() if k is not None)
    if len(keys) + sum(map(len, by_col.values())) > MAX_NAMED:
        return None
    k = getattr(model, key)
    conditions = [k >= lo] + ([k.in_(sorted(keys))] if keys else [])
    conditions += [getattr(model, col).in_(sorted(values)) for col, values in by_col.items()]
    fresh = read_rows(engine, model, cols, where=or_(*conditions), odd=odd)
    named = pa.array(sorted(keys | set(fresh.column(key).to_pylist())), pa.int64())
    drop = pc.or_(pc.is_in(kept.column(key), value_set=named), pc.greater_equal(kept.column(key), lo))
    drop = pc.fill_null(drop, False)
    dropped = int(pc.sum(drop.cast(pa.int64())).as_py() or 0)
    if dropped:
        kept = kept.filter(pc.invert(drop))
    out = pa.concat_tables([kept, fresh]) if fresh.num_rows else kept
    if keys or by_col:  # rows read by key land after the kept ones: put every row back in key order
        order = [(c, "ascending") for c in key_columns(model)]
        out = out.take(pc.sort_indices(out, sort_keys=order))
    return out, Delta(key, lo, named, fresh, dropped)
