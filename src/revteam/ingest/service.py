"""``run_import``: read → map → validate every row → write all-or-nothing → report.

Guarantees
    * Nothing is written unless every row is valid, or ``skip_invalid`` is set, in which case the
      valid rows are written and the rejected ones go to a rejects file with their errors.
    * Every error names its row, its column and what to do.
    * Re-importing the same file changes nothing (external ids, normalised e-mails, derived event ids).
    * ``dry_run`` does the whole import inside a transaction and rolls it back, so its counts are exact.
    * Each import is recorded as an ``ImportRun`` (also when rejected) and in the audit log.
    * Imports write one at a time (the ``imports`` lock, ``services/claims.py``), so the same file
      imported twice at once is written once and the other import finds it unchanged; a record that
      another writer stored at the same moment makes the import a ``Conflict`` (409), nothing written.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from revteam.config import Settings, get_settings
from revteam.errors import Conflict, ImportRejected, InvalidInput, RowError
from revteam.ingest.fields import FieldSpec, convert, is_empty
from revteam.ingest.handlers import HANDLERS, Context, Handler, RowProblem
from revteam.ingest.lookups import Lookups
from revteam.ingest.mapping import Mapping
from revteam.ingest.readers import RawRow, detect_format, read_rows
from revteam.ingest.schemas import KIND_SPECS, KINDS, KindSpec
from revteam.services.claims import serialize
from revteam.services.record.audit import record_audit
from revteam.services.record.lifecycle import load_stages
from revteam.store.models import ImportRun

__all__ = ["KINDS", "ImportReport", "run_import", "validate_records"]

Progress = Callable[[int, int], None]


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
    return FieldSpec(spec.name, spec.type, spec.required, spec.max_length, spec.choices, spec.help, spec.minimum, (fmt,))


def check_columns(spec: KindSpec, mapping: Mapping, columns: list[str]) -> None:
    """File-level check: every required field and one of each identity group must have a source."""
    provided = set(mapping.defaults) | set(mapping.templates)
    for col in columns:
        provided |= set(mapping.columns.get(col, [col] if col in spec.names else []))
    missing = [f.name for f in spec.fields if f.required and f.name not in provided]
    for group in spec.one_of:
        if not provided & set(group):
            missing.append(" or ".join(group))
    if missing:
        raise InvalidInput(
            f"The {spec.kind} file has no column for: {', '.join(missing)}. "
            f"Columns found: {', '.join(columns) or 'none'}. Rename the columns or use a mapping (--mapping).",
            code="missing_columns",
            details=[RowError(0, m, "required column missing").to_dict() for m in missing],
        )


def validate_records(
    spec: KindSpec, mapping: Mapping, raw_rows: list[RawRow], handler: Handler, stages: Any
) -> tuple[list[dict[str, Any]], list[RowError], list[RowError]]:
    """Types, required fields, cross-field rules and in-file duplicates. Pure: no database."""
    fields = [_with_format(f, mapping) for f in spec.fields]
    good: list[dict[str, Any]] = []
    errors: list[RowError] = []
    warnings: list[RowError] = []
    first_seen: dict[tuple[Any, ...], int] = {}
    for raw in raw_rows:
        values = mapping.apply(raw.values, spec.names)
        row: dict[str, Any] = {"_row": raw.number, "_raw": raw.values}
        row_errors: list[RowError] = []
        if "__too_many_fields__" in raw.values:
            row_errors.append(RowError(raw.number, None, f"has {raw.values['__too_many_fields__']} fields but the header "
                                       "names fewer; quote values that contain commas"))
        for f in fields:
            value = values.get(f.name)
            if is_empty(value):
                if f.required:
                    row_errors.append(RowError(raw.number, f.name, f"`{f.name}` is required; fill it in", None))
                row[f.name] = None
                continue
            try:
                row[f.name] = convert(value, f)
            except ValueError as e:
                row_errors.append(RowError(raw.number, f.name, f"`{f.name}` {e}", str(value)[:200]))
        for group in spec.one_of:
            if not row_errors and all(row.get(g) is None for g in group):
                row_errors.append(RowError(raw.number, group[0], f"give {' or '.join(group)}; the row has neither"))
        if not row_errors:
            for col, msg in handler.check(row, stages):
                row_errors.append(RowError(raw.number, col, msg, None if col is None else str(row.get(col))))
        for fname, msg in mapping.warn_if_empty.items():
            if row.get(fname) is None and not row_errors:
                warnings.append(RowError(raw.number, fname, msg))
        if not row_errors:
            key = handler.key(row)
            if key in first_seen:
                row_errors.append(RowError(raw.number, key[0] if key[0] != "ext" else "external_id",
                    f"duplicate of row {first_seen[key]} (same {key[0]} {key[1]!s}); keep one of them", str(key[1])))
            else:
                first_seen[key] = raw.number
        if row_errors:
            errors.extend(row_errors)
        else:
            good.append(row)
    return good, errors, warnings


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
    digest = _sha256(path) if path.exists() else ""
    try:
        columns, raw_rows = read_rows(path, detect_format(path, fmt), max_line_bytes=settings.max_import_line_bytes)
        check_columns(spec, mapping, columns)
    except InvalidInput as e:
        report.errors = [RowError(**d) for d in (e.details or [])] if isinstance(e.details, list) else []
        _record_run(sessions, report, "rejected", digest, now, actor_user_id)
        raise
    report.rows = len(raw_rows)
    handler = HANDLERS[kind]()
    with sessions() as session:
        stages = load_stages(session)
        good, errors, warnings = validate_records(spec, mapping, raw_rows, handler, stages)
        report.warnings = warnings
        ctx = Context(session, Lookups(session, source), source, now, stages, mapping.options, report.warnings)
        rejected_rows = {e.row for e in errors}
        if not errors or skip_invalid:
            serialize(session, "imports")  # one import writes at a time: the same file twice at once → unchanged
            with _duplicates_are_a_conflict(session):
                _write(ctx, handler, handler.order(good), report, errors, rejected_rows, progress,
                       settings.import_batch_size, savepoints=skip_invalid and not handler.fails_before_writing)
        report.errors = sorted(errors, key=lambda e: (e.row, e.column or ""))
        report.rejected = len(rejected_rows)
        if report.errors and not skip_invalid:
            session.rollback()
            report.created = report.updated = report.unchanged = 0
            _record_run(sessions, report, "rejected", digest, now, actor_user_id)
            raise ImportRejected(errors=report.errors, kind=kind)
        report.status = "dry_run" if dry_run else ("partial" if report.errors else "written")
        if dry_run:
            session.rollback()
        else:
            record_audit(session, at=now, actor=actor, actor_user_id=actor_user_id, action="import." + report.status,
                         entity=kind, detail={k: v for k, v in report.to_dict().items() if k not in ("warnings", "errors")})
            with _duplicates_are_a_conflict(session):
                session.commit()
    if report.errors and rejects_path is not None:
        _write_rejects(rejects_path, raw_rows, report.errors)
        report.rejects_file = str(rejects_path)
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


def _write(ctx: Context, handler: Handler, rows: list[dict[str, Any]], report: ImportReport, errors: list[RowError],
           rejected_rows: set[int], progress: Progress | None, batch: int, savepoints: bool) -> None:
    """Write the rows; a row that fails is reported and, under skip_invalid, rolled back to its savepoint.

    Without skip_invalid one failure rejects the file, so no per-row savepoint is needed.
    """
    total = len(rows)
    for i, row in enumerate(rows, start=1):
        try:
            if savepoints:
                with ctx.session.begin_nested():
                    outcome = handler.write(ctx, row)
            else:
                outcome = handler.write(ctx, row)
        except RowProblem as p:
            errors.append(RowError(row["_row"], p.column, p.message, None if p.column is None else _s(row.get(p.column))))
            rejected_rows.add(row["_row"])
            continue
        setattr(report, outcome, getattr(report, outcome) + 1)
        if i % batch == 0:
            handler.flush(ctx)
            if progress:
                progress(i, total)
    handler.flush(ctx)
    if progress:
        progress(total, total)


def _s(v: Any) -> str | None:
    return None if v is None else str(v)[:200]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _write_rejects(path: Path, raw_rows: list[RawRow], errors: list[RowError]) -> None:
    by_row: dict[int, list[str]] = {}
    for e in errors:
        by_row.setdefault(e.row, []).append(str(e))
    bad = [r for r in raw_rows if r.number in by_row]
    cols: dict[str, None] = {}
    for r in bad:
        cols.update({k: None for k in r.values if not k.startswith("__")})
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["_row", "_errors", *cols])
        for r in bad:
            w.writerow([r.number, " | ".join(by_row[r.number]), *("" if r.values.get(c) is None else r.values.get(c) for c in cols)])


def _record_run(sessions: sessionmaker[Session], report: ImportReport, status: str, digest: str, now: datetime,
                actor_user_id: int | None) -> None:
    with sessions() as s:
        run = ImportRun(kind=report.kind, filename=report.filename[:500], sha256=digest, started_at=now, finished_at=now,
                        status=status, rows=report.rows, created=report.created, updated=report.updated,
                        unchanged=report.unchanged, rejected=report.rejected,
                        warnings=[w.to_dict() for w in report.warnings[:200]] or None,
                        errors=[e.to_dict() for e in report.errors[:200]] or None, actor_user_id=actor_user_id)
        s.add(run)
        s.commit()
        report.run_id = run.id
