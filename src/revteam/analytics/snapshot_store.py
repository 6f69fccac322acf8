"""Keeping the analytics snapshot between starts: Arrow IPC files, with the data versions they reflect.

Where
    ``REVTEAM_SNAPSHOT_DIR`` (docs/settings.md), else beside a SQLite file (``revteam.db`` →
    ``revteam.db.snapshot/``), else ``$XDG_CACHE_HOME/revteam/snapshots`` (``~/.cache``). Inside, one folder
    per database, named by a hash of its URL without the password, holding ``meta.json`` and one or more
    ``<table>.<token>.arrow`` files per table (uncompressed Arrow IPC, memory-mapped when loaded: the
    pages stay in the page cache, not on the heap). ``REVTEAM_KEEP_SNAPSHOT=false`` keeps nothing.

What ``meta.json`` says
    the file format (``FORMAT``), the snapshot's shape (``schema_id``: its tables, columns and Arrow types),
    the database (URL without password, and its epoch: ``store.data_versions.database_epoch``, a random
    number the database keeps, so a new database at the same URL is told apart), and per table its part
    of the fingerprint (data version, highest key), its files and row count, and the keys of its rows with
    dates out of range (``odd``: left out or read as none, ``analytics/snapshot_read.py``), so a new process
    still reports them.

When it is not used (each logged on ``revteam.snapshot``, then the table or every table is read whole)
    missing folder or ``meta.json``; unreadable or corrupt files; another format, shape, URL or epoch; a
    row count or schema that differs from ``meta.json``. A kept table older than the change log can
    prove complete (``store/data_versions.py``) is read whole by ``analytics/snapshot.py``, not here.

Writing (``save``)
    after every refresh, for the tables whose part moved: when the refresh only added rows (a ``Delta``
    that dropped none) and the files on disk are the table it started from, the new rows are one more
    small file; otherwise the table is written again as one file. ``meta.json`` is replaced atomically
    (written aside, then renamed) after the table files, and files it no longer names are deleted, so a
    person erased (``services/people/privacy.py``) leaves the kept files at the first refresh after the
    erasure. More than ``MAX_FILES`` files for a table are written back as one.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.engine import URL

from revteam.analytics.snapshot_read import Delta, arrow_schema

FORMAT = 1
MAX_FILES = 16
log = logging.getLogger("revteam.snapshot")

Part = tuple[str, int, Any]  # (snapshot table, data version, highest key): its part of the fingerprint


def schema_id(tables: Mapping[str, tuple[Any, Sequence[str]]]) -> str:
    """Names the snapshot's shape: a kept copy of another shape is not used."""
    shape = [(name, model.__tablename__, str(arrow_schema(cols))) for name, (model, cols) in tables.items()]
    return hashlib.sha256(json.dumps([FORMAT, shape]).encode()).hexdigest()[:16]


def default_directory(url: URL) -> Path | None:
    """Beside a SQLite file; the user's cache folder for any other database; None for SQLite in memory."""
    if url.get_backend_name() == "sqlite":
        db = url.database or ""
        if db in ("", ":memory:") or db.startswith("file:") or url.query.get("mode") == "memory":
            return None
        path = Path(db).resolve()
        return path.with_name(path.name + ".snapshot")
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "revteam" / "snapshots"


@dataclass
class Kept:
    parts: dict[str, Part]
    tables: dict[str, pa.Table]
    odd: dict[str, dict[int, tuple[str, ...]]] = field(default_factory=dict)


class SnapshotStore:
    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory else None

    def folder(self, engine: SqlEngine) -> Path | None:
        base = self.directory or default_directory(engine.url)
        if base is None:
            return None
        url = engine.url.render_as_string(hide_password=True)
        return base / hashlib.sha256(url.encode()).hexdigest()[:16]

    # --- loading ----------------------------------------------------------------------------------
    def load(self, engine: SqlEngine, *, epoch: int, schema: str,
             tables: Mapping[str, tuple[Any, Sequence[str]]]) -> Kept | None:
        """The kept tables that can be used (memory-mapped), with their parts of the fingerprint; None (and a
        log line saying why) when nothing can."""
        folder = self.folder(engine)
        if folder is None:
            return None
        url = engine.url.render_as_string(hide_password=True)
        try:
            meta = json.loads((folder / "meta.json").read_text())
        except FileNotFoundError:
            log.info("no kept analytics snapshot in %s: reading every table", folder)
            return None
        except (OSError, ValueError) as e:
            log.warning("kept analytics snapshot in %s is unreadable (%s): reading every table", folder, e)
            return None
        why = ("another file format" if meta.get("format") != FORMAT else
               "another snapshot shape (tables or columns changed)" if meta.get("schema") != schema else
               "another database URL" if meta.get("database") != url else
               "another database at this URL (its epoch differs)" if meta.get("epoch") != epoch else None)
        if why:
            log.warning("kept analytics snapshot in %s is of %s: reading every table", folder, why)
            return None
        kept = Kept({}, {})
        for name, entry in meta.get("tables", {}).items():
            if name not in tables:
                continue
            try:
                parts = [pa.ipc.open_file(pa.memory_map(str(folder / f), "r")).read_all() for f in entry["files"]]
                table = pa.concat_tables(parts) if parts else arrow_schema(tables[name][1]).empty_table()
                if table.num_rows != entry["rows"] or not table.schema.equals(arrow_schema(tables[name][1])):
                    raise ValueError(f"{table.num_rows} rows where {entry['rows']} were written, or another schema")
            except (OSError, ValueError, KeyError, pa.ArrowException) as e:
                log.warning("kept analytics table %s in %s is unusable (%s): reading it whole", name, folder, e)
                continue
            kept.tables[name] = table
            kept.odd[name] = {int(k): tuple(v) for k, v in entry.get("odd", {}).items()}
            kept.parts[name] = (name, int(entry["part"][0]), entry["part"][1])
        return kept

    # --- saving -----------------------------------------------------------------------------------
    def save(self, engine: SqlEngine, *, epoch: int, schema: str, parts: Mapping[str, Part],
             tables: Mapping[str, pa.Table], base: Mapping[str, Part] | None = None,
             deltas: Mapping[str, Delta] | None = None,
             odd: Mapping[str, Mapping[int, tuple[str, ...]]] | None = None) -> dict[str, pa.Table]:
        """Write what moved since the files on disk; returns the tables written, memory-mapped from their files
        (the caller swaps them in and lets the heap copies go)."""
        folder = self.folder(engine)
        if folder is None:
            return {}
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / ".lock", "w") as lock:  # one writer at a time (a server and a CLI command may both keep it)
            fcntl.flock(lock, fcntl.LOCK_EX)
            return self._save(folder, engine, epoch=epoch, schema=schema, parts=parts, tables=tables, base=base,
                              deltas=deltas, odd=odd or {})

    def _save(self, folder: Path, engine: SqlEngine, *, epoch: int, schema: str, parts: Mapping[str, Part],
              tables: Mapping[str, pa.Table], base: Mapping[str, Part] | None,
              deltas: Mapping[str, Delta] | None,
              odd: Mapping[str, Mapping[int, tuple[str, ...]]]) -> dict[str, pa.Table]:
        url = engine.url.render_as_string(hide_password=True)
        try:  # what is on disk now (another process may have written since this one did)
            old = json.loads((folder / "meta.json").read_text())
        except (OSError, ValueError):
            old = {}
        if (old.get("epoch"), old.get("schema"), old.get("format"), old.get("database")) != (epoch, schema, FORMAT, url):
            old = {"tables": {}}
        old["tables"] = {n: e for n, e in old.get("tables", {}).items() if all((folder / f).is_file() for f in e["files"])}
        entries: dict[str, Any] = {}
        written: dict[str, pa.Table] = {}
        for name, table in tables.items():
            part = parts[name]
            was = old["tables"].get(name)
            if was is not None and tuple(was["part"]) == tuple(part[1:]):
                entries[name] = was
                continue
            delta = (deltas or {}).get(name)
            appendable = (was is not None and delta is not None and delta.dropped == 0 and base is not None
                          and name in base and tuple(was["part"]) == tuple(base[name][1:])
                          and len(was["files"]) < MAX_FILES and was["rows"] + delta.fresh.num_rows == table.num_rows)
            if appendable:
                files = was["files"] + ([self._write(folder, name, delta.fresh)] if delta.fresh.num_rows else [])
            else:
                files = [self._write(folder, name, table)]
                written[name] = pa.ipc.open_file(pa.memory_map(str(folder / files[0]), "r")).read_all()
            entries[name] = {"part": list(part[1:]), "files": files, "rows": table.num_rows}
            if odd.get(name):
                entries[name]["odd"] = {str(k): list(v) for k, v in odd[name].items()}
        meta = {"format": FORMAT, "schema": schema, "database": url, "epoch": epoch, "tables": entries}
        aside = folder / f".meta.{uuid.uuid4().hex}.json"
        aside.write_text(json.dumps(meta, indent=1))
        os.replace(aside, folder / "meta.json")
        named = {f for e in entries.values() for f in e["files"]}
        for path in folder.iterdir():  # the table files meta.json no longer names (and any left half-written)
            if path.name.endswith((".arrow", ".arrow.part")) and path.name not in named:
                path.unlink(missing_ok=True)
        return written

    @staticmethod
    def _write(folder: Path, name: str, table: pa.Table) -> str:
        file = f"{name}.{uuid.uuid4().hex[:12]}.arrow"
        aside = folder / f".{file}.part"
        with pa.OSFile(str(aside), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=1 << 20)
        os.replace(aside, folder / file)
        return file

    def forget(self, engine: SqlEngine) -> None:
        """Delete the kept files of this database (``revteam`` never needs them: they are a cache)."""
        folder = self.folder(engine)
        if folder is not None and folder.is_dir():
            for path in folder.iterdir():
                path.unlink(missing_ok=True)
            folder.rmdir()
