"""Import uploads, shared by the import page and ``POST /api/v1/imports``.

The multipart form is read only after ``authorize`` has let the request in (the routes take the raw
``Request`` instead of ``Form`` parameters, which FastAPI would parse before any check). The file is
copied to a private temporary directory under its own suffix (the reader picks CSV or JSON lines by
it), never under a name the client chose, and refused when larger than ``settings.max_upload_mb``.
A mapping comes from an uploaded TOML file or from a preset picked from ``ingest.mapping.presets()``;
a client-supplied string is never used as a path.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePath

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request

from revteam.errors import InvalidInput
from revteam.ingest.mapping import Mapping, load_mapping, presets
from revteam.ingest.readers import FORMATS
from revteam.ingest.service import KINDS, ImportReport, run_import
from revteam.runtime import Runtime
from revteam.services.people import User
from revteam.web.errors import PayloadTooLarge

MIB = 1024 * 1024
MAX_MAPPING_BYTES = 256 * 1024
_CHUNK = 1024 * 1024
TRUE_VALUES = {"1", "true", "on", "yes"}


@dataclass
class ImportForm:
    kind: str
    data: UploadFile
    preset: str | None
    mapping_file: UploadFile | None
    dry_run: bool
    skip_invalid: bool

    @property
    def filename(self) -> str:
        return PurePath(self.data.filename or "upload").name[:200]


def _flag(form: FormData, name: str) -> bool:
    value = form.get(name)
    return isinstance(value, str) and value.strip().lower() in TRUE_VALUES


def _file(form: FormData, name: str) -> UploadFile | None:
    value = form.get(name)
    if isinstance(value, UploadFile) and (value.filename or value.size):
        return value
    return None


def import_body_limit(max_upload_mb: int) -> int:
    """Bytes a whole import request may have: the file plus a mapping file and the form fields."""
    return max_upload_mb * MIB + MAX_MAPPING_BYTES + 64 * 1024


async def read_import_form(request: Request) -> ImportForm:
    form = await request.form(max_files=2, max_fields=20)
    kind = form.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidInput(f"Pick what the file holds: one of {', '.join(KINDS)}.", code="unknown_kind")
    data = _file(form, "file")
    if data is None:
        raise InvalidInput("Choose a file to import (.csv, .jsonl or .ndjson).", code="no_file")
    preset = form.get("preset")
    preset = preset.strip() if isinstance(preset, str) and preset.strip() else None
    mapping_file = _file(form, "mapping")
    if preset and mapping_file:
        raise InvalidInput("Use a preset or a mapping file, not both.", code="mapping_twice")
    if preset and preset not in presets():
        raise InvalidInput(f"Unknown mapping preset {preset!r}; presets: {', '.join(presets())}.", code="unknown_preset")
    return ImportForm(kind, data, preset, mapping_file, _flag(form, "dry_run"), _flag(form, "skip_invalid"))


async def _save(upload: UploadFile, dest: Path, max_bytes: int, what: str) -> None:
    written = 0
    await upload.seek(0)
    with dest.open("wb") as out:
        while chunk := await upload.read(_CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise PayloadTooLarge(
                    f"The {what} is larger than {max_bytes // MIB if max_bytes >= MIB else max_bytes // 1024} "
                    f"{'MiB' if max_bytes >= MIB else 'KiB'}. Split it, or import it with `revteam import` on the server.",
                    code="upload_too_large",
                )
            out.write(chunk)


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="revteam-upload-") as tmp:
        yield Path(tmp)


async def stage_upload(form: ImportForm, workdir: Path, max_upload_mb: int) -> tuple[Path, Mapping | None]:
    suffix = PurePath(form.filename).suffix.lower()
    if suffix not in FORMATS:
        raise InvalidInput(
            f"{form.filename!r} is not a file revteam can read; upload a .csv, .jsonl or .ndjson file.",
            code="unsupported_file",
        )
    data_path = workdir / f"upload{suffix}"
    await _save(form.data, data_path, max_upload_mb * MIB, "file")
    mapping: Mapping | None = None
    if form.preset:
        mapping = load_mapping(form.preset)  # a name from presets(), checked in read_import_form
    elif form.mapping_file is not None:
        mapping_path = workdir / "mapping.toml"
        await _save(form.mapping_file, mapping_path, MAX_MAPPING_BYTES, "mapping file")
        mapping = load_mapping(mapping_path)
    return data_path, mapping


def run_staged_import(
    runtime: Runtime, form: ImportForm, data_path: Path, mapping: Mapping | None, *, now: datetime, user: User, via: str
) -> ImportReport:
    return run_import(
        runtime.sessions,
        form.kind,
        data_path,
        now=now,
        actor=f"{via}:user:{user.id}",
        actor_user_id=user.id,
        mapping=mapping,
        dry_run=form.dry_run,
        skip_invalid=form.skip_invalid,
        filename=form.filename,
    )


async def import_upload(runtime: Runtime, form: ImportForm, *, now: datetime, user: User, via: str) -> ImportReport:
    """Stage the upload, run the import in a worker thread, clean up. Raises what ``run_import`` raises."""
    with _workdir() as workdir:
        data_path, mapping = await stage_upload(form, workdir, runtime.settings.max_upload_mb)
        return await run_in_threadpool(
            run_staged_import, runtime, form, data_path, mapping, now=now, user=user, via=via
        )
