"""``run_import``: read → map → validate → write, streaming, all-or-nothing → report.

The model: the file is read as a stream (``readers.open_rows``) in chunks of ``import_batch_size``
rows; each row is mapped and validated (pure, ``RowValidator``), and each chunk of valid rows is
written inside the one transaction of the import (contacts and touchpoints with multi-row inserts and
``IN`` lookups). Memory is a chunk plus the per-import bookkeeping (4 bytes per written id, the first
``MAX_KEPT_ERRORS`` errors), not the file: a 1M-row file is imported in the same resident size as a
1,000-row one. Example::

    report = run_import(sessions, "contacts", Path("mqls.csv"), now=now, actor="cli", mapping=m)
    report.created, report.unchanged, report.status      # 8000, 0, "written"

Guarantees
    * Nothing is written unless every row is valid, or ``skip_invalid`` is set, in which case the
      valid rows are written and the rejected ones go to a rejects file with their errors. After a first
      bad row the rest of the file is still checked and written (so every error is reported), then the
      transaction is rolled back; a file-level problem found late (bad quoting on row 90,000) rolls
      back the same way.
    * File-level checks come before any row: the header (linear), required columns, and every column
      the mapping reads (a mapped column the file lacks is refused, not filled with the import time).
    * Every error names its row, its column and what to do; dates more than ``FAR_FUTURE_YEARS``
      after the import are refused unless the mapping sets ``options.allow_far_future_dates``.
    * Re-importing the same file changes nothing (external ids, normalised e-mails, derived event ids).
    * ``dry_run`` does the whole import inside the transaction and rolls it back, so its counts are exact.
    * Each import is recorded as an ``ImportRun`` (also when rejected) and in the audit log.
    * Imports write one at a time (the ``imports`` lock, ``services/claims.py``), so the same file
      imported twice at once is written once and the other import finds it unchanged; a record that
      another writer stored at the same moment makes the import a ``Conflict`` (409), nothing written.
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from revteam.config import Settings, get_settings
from revteam.errors import Conflict, ImportRejected, InvalidInput, RowError
from revteam.ingest.fields import FieldSpec, convert_filled, is_empty
from revteam.ingest.handlers import HANDLERS, Context, Handler, RowProblem
from revteam.ingest.lookups import Lookups
from revteam.ingest.mapping import Mapping
from revteam.ingest.readers import (
    TOO_FEW,
    TOO_MANY,
    RawRow,
    RowSource,
    detect_format,
    open_rows,
)
from revteam.ingest.schemas import KIND_SPECS, KINDS, KindSpec
from revteam.services.claims import serialize
from revteam.services.record.audit import record_audit
from revteam.services.record.lifecycle import load_stages
from revteam.store.models import ImportRun

__all__ = ["KINDS", "ImportReport", "RowValidator", "run_import", "validate_records"]

Progress = Callable[[int, int], None]
FAR_FUTURE_YEARS = 5
IMPORT_TIME_FIELDS = ("created_at",)  # left empty, the handlers write the import time
MAX_KEPT_ERRORS = 1000  # errors and warnings kept in the report (all rejected rows are counted and go to rejects)


@dataclass
class ImportReport:
    kind: str
    filename: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    warnings: list[RowError] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    status: str = "written"
    run_id: int | None = None
    rejects_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "filename": self.filename,
            "status": self.status,
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "warnings": [w.to_dict() for w in self.warnings],
            "errors": [e.to_dict() for e in self.errors],
            "run_id": self.run_id,
            "rejects_file": self.rejects_file,
        }


def _spec_for(kind: str) -> KindSpec:
    if kind not in KIND_SPECS:
        raise InvalidInput(f"Unknown import kind {kind!r}; use one of: {', '.join(KINDS)}.", code="unknown_kind")
    return KIND_SPECS[kind]


def _with_format(spec: FieldSpec, mapping: Mapping) -> FieldSpec:
    fmt = mapping.formats.get(spec.name)
    if not fmt:
        return spec
    return FieldSpec(spec.name, spec.type, spec.required, spec.max_length, spec.choices, spec.help, spec.minimum,
                     (fmt,), spec.maximum, spec.places, spec.digits)


def check_columns(spec: KindSpec, mapping: Mapping, columns: list[str]) -> None:
    """File-level checks, before any row: every column the mapping reads is in the file, and every
    required field and one of each identity group has a source. Linear in the number of columns."""
    absent = mapping.missing_source_columns(columns)
    if absent:
        wanted = [a.split(" (")[0] for a in absent]
        raise InvalidInput(
            f"The {spec.kind} file has no column {'; '.join(absent)}, which the mapping {mapping.name!r} reads. "
            f"Columns found: {_few(columns)}.{column_hints(columns, [w.strip(chr(39)) for w in wanted])} "
            "Nothing was imported: rename the column, fix the mapping, or list "
            "the column in options.optional_columns if the file may lack it.",
            code="mapped_column_missing",
            details=[RowError(0, a.split(" (")[0].strip("'"), "mapped column missing from the file").to_dict()
                     for a in absent],
        )
    provided = set(mapping.defaults) | set(mapping.templates)
    for col in columns:
        provided.update(mapping.columns.get(col, [col] if col in spec.names else []))
    missing = [f.name for f in spec.fields if f.required and f.name not in provided]
    for group in spec.one_of:
        if not provided & set(group):
            missing.append(" or ".join(group))
    if missing:
        wanted = [name for m in missing for name in m.split(" or ")]
        raise InvalidInput(
            f"The {spec.kind} file has no column for: {', '.join(missing)}. "
            f"Columns found: {_few(columns)}.{column_hints(columns, wanted)} Rename the columns or use a mapping "
            "(--mapping).",
            code="missing_columns",
            details=[RowError(0, m, "required column missing").to_dict() for m in missing],
        )


SEPARATORS = {";": "';'", "\t": "tabs", "|": "'|'"}


def _folded(name: str) -> str:
    return " ".join(name.split()).lower().replace(" ", "_")


def column_hints(columns: list[str], wanted: list[str]) -> str:
    """What the header probably means, for a missing-column message: another separator than the comma, or a
    wanted column written with other case, spaces or underscores (``'Email '`` for ``email``). Linear."""
    hints: list[str] = []
    for sep, shown in SEPARATORS.items():
        if any(sep in c for c in columns[:50]):
            parts = {_folded(p) for c in columns[:50] for p in c.split(sep)}
            if parts & {_folded(w) for w in wanted} or len(columns) == 1:
                hints.append(f"The file looks separated by {shown}, not commas: save it as comma-separated CSV "
                             "(in Excel: 'CSV UTF-8 (Comma delimited)') and import again.")
                return " " + " ".join(hints)
    folded = {}
    for c in columns:
        folded.setdefault(_folded(c), c)
    for w in wanted:
        near = folded.get(_folded(w))
        if near is not None and near != w:
            hints.append(f"The column {near!r} looks like {w!r}: names must match exactly (case, spaces), so "
                         f"rename it to {w!r} or map it in a mapping.")
    return (" " + " ".join(hints)) if hints else ""


def _few(columns: list[str], n: int = 30) -> str:
    if not columns:
        return "none"
    return ", ".join(columns[:n]) + (f" ... ({len(columns):,} in all)" if len(columns) > n else "")


def _shown(value: Any) -> str:
    """A cell as an error may quote it: short, and storable on any database (no NUL, no surrogates)."""
    return _storable(str(value)[:200])


def _storable(value: Any) -> str:
    """Text any file or database takes: NUL and lone surrogates written as escapes."""
    return str(value).replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


class RowValidator:
    """Types, required fields, ranges and cross-field rules of one row; in-file duplicates for the kinds
    whose handler does not find them itself. Pure: no database."""

    def __init__(self, spec: KindSpec, mapping: Mapping, handler: Handler, stages: Any, now: datetime | None,
                 *, every_key: bool = True) -> None:
        """``every_key``: a row (a JSON line) lacking a key the mapping reads is an error (files); the touch
        API's events name their contact by e-mail or external id, so it leaves this off."""
        self.spec, self.mapping, self.handler, self.stages, self.now = spec, mapping, handler, stages, now
        self.fields = [_with_format(f, mapping) for f in spec.fields]
        self.names = spec.names
        self.by_name = {f.name: f for f in self.fields}
        self.required = [f for f in self.fields if f.required]
        self.blank: dict[str, Any] = dict.fromkeys(self.by_name)
        self.first_seen: dict[tuple[Any, ...], int] | None = None if handler.batch else {}
        self.horizon: date | None = None
        if now is not None and not mapping.flag("allow_far_future_dates"):
            self.horizon = (now + timedelta(days=365 * FAR_FUTURE_YEARS + FAR_FUTURE_YEARS // 4)).date()
        self.pad = mapping.flag("pad_short_rows")
        self.reads = mapping.read_columns() if every_key else set()
        self.required += [self.by_name[f] for f in mapping.required_fields
                          if f in self.by_name and self.by_name[f] not in self.required]
        # an empty created_at is written as the import time (handlers): say so when the file had the cell
        self.dated_now = {f: [c for c, ts in mapping.columns.items() if f in ts] + ([f] if f not in mapping.columns else [])
                          for f in IMPORT_TIME_FIELDS if f in self.by_name and not self.by_name[f].required}

    def check(self, raw: RawRow) -> tuple[dict[str, Any] | None, list[RowError], list[RowError]]:
        n = raw.number
        errors: list[RowError] = []
        warnings: list[RowError] = []
        if TOO_MANY in raw.values:
            errors.append(RowError(n, None, f"has {raw.values[TOO_MANY]} values but the header names "
                                   f"{len(raw.values) - 1}; quote values that contain commas"))
        if TOO_FEW in raw.values:
            have, want = raw.values[TOO_FEW], len(raw.values) - 1
            if self.pad:
                warnings.append(RowError(n, None, f"has {have} values but the header names {want}; the missing "
                                         "ones were taken as empty (options.pad_short_rows)"))
            else:
                errors.append(RowError(n, None, f"has {have} values but the header names {want}; a cut-off or "
                                       "broken line? Fix the row, or set options.pad_short_rows = true in the "
                                       "mapping to take the missing values as empty"))
        if not self.reads.issubset(raw.values):  # a JSON line without a key the mapping reads
            for absent in self.mapping.missing_source_columns(list(raw.values)):
                errors.append(RowError(n, absent.split(" (")[0].strip("'"), f"has no key {absent}, which the mapping "
                                       f"{self.mapping.name!r} reads; add it (null if unknown), or list it in "
                                       "options.optional_columns"))
        values = self.mapping.apply(raw.values, self.names)
        row: dict[str, Any] = dict(self.blank)
        row["_row"], row["_raw"] = n, raw.values
        for name, value in values.items():
            f = self.by_name.get(name)
            if f is None or value is None or (value.__class__ is str and not value.strip()):
                continue
            try:
                v = convert_filled(value, f)
            except ValueError as e:
                errors.append(RowError(n, f.name, f"`{f.name}` {e}", _shown(value)))
                continue
            if self.horizon is not None and isinstance(v, date) and _day(v) > self.horizon:
                errors.append(RowError(n, f.name, f"`{f.name}` {_day(v)} is more than {FAR_FUTURE_YEARS} years after "
                                       f"the import ({self.now.date() if self.now else ''}); check the year, or set "
                                       "options.allow_far_future_dates = true in the mapping if it is right",
                                       _shown(value)))
                continue
            row[name] = v
        for f in self.required:
            if row[f.name] is None and is_empty(values.get(f.name)):
                why = "" if f.required else f" (options.required_fields of the mapping {self.mapping.name!r})"
                errors.append(RowError(n, f.name, f"`{f.name}` is required{why}; fill it in", None))
        if errors:
            return None, errors, warnings
        for group in self.spec.one_of:
            if all(row.get(g) is None for g in group):
                hint = column_hints([str(k) for k in raw.values], list(group))  # a JSON key "email "?
                errors.append(RowError(n, group[0], f"give {' or '.join(group)}; the row has neither{('.' + hint) if hint else ''}"))
        if not errors:
            problems = self.handler.check(row, self.stages)
            if not problems and self.now is not None:
                problems = self.handler.check_time(row, self.now)
            for col, msg in problems:
                errors.append(RowError(n, col, msg, None if col is None else _shown(row.get(col))))
        if errors:
            return None, errors, warnings
        for fname, msg in self.mapping.warn_if_empty.items():
            if row.get(fname) is None:
                warnings.append(RowError(n, fname, msg))
        for fname, cols in self.dated_now.items():
            if row.get(fname) is None and any(c in raw.values for c in cols) and fname not in self.mapping.defaults:
                col = next(c for c in cols if c in raw.values)
                warnings.append(RowError(n, fname, f"`{col}` is empty, so `{fname}` is the import time "
                                         f"({self.now.isoformat(timespec='seconds') if self.now else 'now'}); fill "
                                         "it in, or list it in options.required_fields to refuse such rows"))
        if self.first_seen is not None:
            key = self.handler.key(row)
            if key in self.first_seen:
                col = key[0] if key[0] != "ext" else "external_id"
                return None, [RowError(n, col, f"duplicate of row {self.first_seen[key]} (same {key[0]} {key[1]!s}); "
                                       "keep one of them", _shown(key[1]))], warnings
            self.first_seen[key] = n
        return row, errors, warnings


def _day(v: date) -> date:
    return v.date() if isinstance(v, datetime) else v


def validate_records(
    spec: KindSpec, mapping: Mapping, raw_rows: Iterable[RawRow], handler: Handler, stages: Any,
    now: datetime | None = None, *, every_key: bool = True,
) -> tuple[list[dict[str, Any]], list[RowError], list[RowError]]:
    """Every row through ``RowValidator``, in memory (tests and small files)."""
    v = RowValidator(spec, mapping, handler, stages, now, every_key=every_key)
    good: list[dict[str, Any]] = []
    errors: list[RowError] = []
    warnings: list[RowError] = []
    for raw in raw_rows:
        row, errs, warns = v.check(raw)
        errors += errs
        warnings += warns
        if row is not None:
            good.append(row)
    return good, errors, warnings


class _Tally:
    """Errors, warnings and rejected rows of one import, bounded in memory; rejects spooled to disk."""

    def __init__(self, report: ImportReport, rejects_path: Path | None) -> None:
        self.report = report
        self.rejected = 0
        self.error_count = 0
        self.warning_count = 0
        self.spool: IO[str] | None = (
            tempfile.TemporaryFile("w+", encoding="utf-8") if rejects_path else None)  # noqa: SIM115 - close()
        self.columns: dict[str, None] = {}

    def reject(self, raw: dict[str, Any], number: int, errors: list[RowError]) -> None:
        self.rejected += 1
        self.error_count += len(errors)
        room = MAX_KEPT_ERRORS - len(self.report.errors)
        if room > 0:
            self.report.errors.extend(errors[:room])
        if self.spool is not None:
            shown = {k: (None if v is None else _storable(v if not isinstance(v, (dict, list)) else
                                                          json.dumps(v, default=str)))
                     for k, v in raw.items() if not k.startswith("__")}  # whole values: the file is re-imported
            self.columns.update(dict.fromkeys(shown))
            self.spool.write(json.dumps([number, " | ".join(_storable(e) for e in errors), shown]) + "\n")

    def warn(self, warnings: list[RowError]) -> None:
        self.warning_count += len(warnings)
        room = MAX_KEPT_ERRORS - len(self.report.warnings)
        if room > 0:
            self.report.warnings.extend(warnings[:room])

    def write_rejects(self, path: Path) -> None:
        assert self.spool is not None
        self.spool.seek(0)
        with Path(path).open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["_row", "_errors", *self.columns])
            for line in self.spool:
                number, msgs, values = json.loads(line)
                w.writerow([number, msgs, *("" if values.get(c) is None else values[c] for c in self.columns)])

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def run_import(
    sessions: sessionmaker[Session],
    kind: str,
    path: Path,
    *,
    now: datetime,
    actor: str,
    actor_user_id: int | None = None,
    mapping: Mapping | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    fmt: str | None = None,
    source_system: str | None = None,
    filename: str | None = None,
    settings: Settings | None = None,
) -> ImportReport:
    spec = _spec_for(kind)
    mapping = mapping or Mapping()
    mapping.check_kind(kind)
    mapping.check_fields(spec.names)
    settings = settings or get_settings()
    path = Path(path)
    report = ImportReport(kind=kind, filename=filename or path.name)
    source = source_system or mapping.source_system or "import"
    if not 0 < len(source) <= 40:
        raise InvalidInput("The source system must be 1-40 characters, e.g. 'hubspot'.", code="bad_source")
    digest = _sha256(path) if path.exists() else ""
    try:
        rows = open_rows(path, detect_format(path, fmt), max_line_bytes=settings.max_import_line_bytes,
                         multiline_values=mapping.flag("multiline_values"))
        if rows.fmt == "csv":
            check_columns(spec, mapping, rows.columns)
    except InvalidInput as e:
        _reject_file(sessions, report, e, digest, now, actor_user_id)
        raise
    handler = HANDLERS[kind]()
    tally = _Tally(report, rejects_path if skip_invalid or rejects_path else None)
    try:
        with sessions() as session:
            stages = load_stages(session)
            ctx = Context(session, Lookups(session, source), source, now, stages, mapping.options, [])
            serialize(session, "imports")  # one import writes at a time: the same file twice at once → unchanged
            try:
                with _duplicates_are_a_conflict(session):
                    _stream(ctx, handler, RowValidator(spec, mapping, handler, stages, now), rows, report, tally,
                            progress, settings.import_batch_size,
                            savepoints=skip_invalid and not handler.fails_before_writing)
            except InvalidInput as e:
                session.rollback()
                report.created = report.updated = report.unchanged = 0
                _reject_file(sessions, report, e, digest, now, actor_user_id)
                raise
            tally.warn(ctx.warnings)
            report.errors.sort(key=lambda e: (e.row, e.column or ""))
            report.rejected = tally.rejected
            if tally.rejected and not skip_invalid:
                session.rollback()
                report.created = report.updated = report.unchanged = 0
                _record_run(sessions, report, "rejected", digest, now, actor_user_id)
                raise ImportRejected(errors=report.errors, kind=kind)
            report.status = "dry_run" if dry_run else ("partial" if tally.rejected else "written")
            if dry_run:
                session.rollback()
            else:
                record_audit(session, at=now, actor=actor, actor_user_id=actor_user_id, action="import." + report.status,
                             entity=kind, detail={k: v for k, v in report.to_dict().items() if k not in ("warnings", "errors")})
                with _duplicates_are_a_conflict(session):
                    session.commit()
        if tally.rejected and rejects_path is not None:
            tally.write_rejects(rejects_path)
            report.rejects_file = str(rejects_path)
    finally:
        tally.close()
    _record_run(sessions, report, report.status, digest, now, actor_user_id)
    return report


@contextmanager
def _duplicates_are_a_conflict(session: Session) -> Iterator[None]:
    """A record written by someone else at the same moment (a unique index refused ours): nothing of this
    import is kept, and the answer says so (409) instead of failing."""
    try:
        yield
    except IntegrityError:
        session.rollback()
        raise Conflict("Someone else wrote some of these records at the same moment, so nothing of this import "
                       "was written. Import the file again: the records already there will be unchanged.",
                       code="import_conflict") from None


def _stream(ctx: Context, handler: Handler, validator: RowValidator, source: RowSource, report: ImportReport,
            tally: _Tally, progress: Progress | None, batch: int, savepoints: bool) -> None:
    """Validate the rows as they are read and write each chunk of valid ones."""

    def valid() -> Iterator[dict[str, Any]]:
        for raw in source:
            report.rows += 1
            row, errors, warnings = validator.check(raw)
            if warnings:
                tally.warn(warnings)
            if row is None:
                tally.reject(raw.values, raw.number, errors)
            else:
                yield row

    rows: Iterable[dict[str, Any]] = valid()
    if handler.ordered:
        rows = handler.order(list(rows))
    done = 0
    for chunk in _chunks(rows, batch):
        if handler.batch:
            outcomes = handler.write_batch(ctx, chunk)
        else:
            outcomes = [_write_one(ctx, handler, row, savepoints) for row in chunk]
        for row, outcome in zip(chunk, outcomes):
            if isinstance(outcome, RowProblem):
                col = outcome.column
                tally.reject(row["_raw"], row["_row"], [RowError(row["_row"], col, outcome.message,
                                                                 None if col is None else _s(row.get(col)))])
            else:
                setattr(report, outcome, getattr(report, outcome) + 1)
        handler.flush(ctx)
        ctx.session.flush()
        ctx.session.expunge_all()  # the chunk's objects are written: memory stays one chunk
        tally.warn(ctx.warnings)
        ctx.warnings.clear()
        done += len(chunk)
        if progress:
            progress(report.rows, _estimate(report.rows, source))
    if progress:
        progress(report.rows, report.rows)


def _estimate(rows: int, source: RowSource) -> int:
    """Rows in the whole file, from the share of its bytes read so far (the file is not counted first)."""
    if not source.bytes_read or not source.size:
        return rows
    return max(rows, round(rows * source.size / source.bytes_read))


def _write_one(ctx: Context, handler: Handler, row: dict[str, Any], savepoints: bool) -> str | RowProblem:
    """One row; under skip_invalid a row that fails is rolled back to its savepoint."""
    try:
        if savepoints:
            with ctx.session.begin_nested():
                return handler.write(ctx, row)
        return handler.write(ctx, row)
    except RowProblem as p:
        return p


def _s(v: Any) -> str | None:
    return None if v is None else _shown(v)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _reject_file(sessions: sessionmaker[Session], report: ImportReport, e: InvalidInput, digest: str, now: datetime,
                 actor_user_id: int | None) -> None:
    if isinstance(e, ImportRejected):
        report.errors = list(e.errors[:MAX_KEPT_ERRORS])
    elif isinstance(e.details, list):
        report.errors = [RowError(**d) for d in e.details[:MAX_KEPT_ERRORS]]
    else:
        report.errors = []
    _record_run(sessions, report, "rejected", digest, now, actor_user_id)


def _record_run(sessions: sessionmaker[Session], report: ImportReport, status: str, digest: str, now: datetime,
                actor_user_id: int | None) -> None:
    with sessions() as s:
        run = ImportRun(kind=report.kind, filename=_shown(report.filename)[:500], sha256=digest, started_at=now,
                        finished_at=now, status=status, rows=report.rows, created=report.created,
                        updated=report.updated, unchanged=report.unchanged, rejected=report.rejected,
                        warnings=[w.to_dict() for w in report.warnings[:200]] or None,
                        errors=[e.to_dict() for e in report.errors[:200]] or None, actor_user_id=actor_user_id)
        s.add(run)
        s.commit()
        report.run_id = run.id
