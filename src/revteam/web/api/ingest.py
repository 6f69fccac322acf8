"""Bringing data in over the API: touchpoint event batches and file imports (admin, marketing).

Both are all-or-nothing: when any row is invalid the answer is 422 with every row error in
``details`` and nothing is written. Both are idempotent: a repeated batch or file changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from revteam.ingest.api import ingest_touchpoint_events
from revteam.ingest.runs import recent_runs
from revteam.ingest.service import KINDS
from revteam.web.api.models import ERROR_RESPONSES, ErrorOut, ImportReportOut, ImportRunOut, TouchpointBatchIn
from revteam.web.deps import CurrentUser, NowDep, RuntimeDep, SessionDep
from revteam.web.uploads import import_upload, read_import_form

# two routers: their request bodies have different size limits (see app.py)
touchpoints_router = APIRouter(responses=ERROR_RESPONSES)
imports_router = APIRouter(responses=ERROR_RESPONSES)

_IMPORT_FORM_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["kind", "file"],
                    "properties": {
                        "kind": {"type": "string", "enum": list(KINDS), "description": "What the file holds"},
                        "file": {"type": "string", "format": "binary",
                                 "description": "A .csv, .jsonl or .ndjson file, up to REVTEAM_MAX_UPLOAD_MB"},
                        "preset": {"type": "string", "description": "A mapping preset name, e.g. hubspot-contacts"},
                        "mapping": {"type": "string", "format": "binary", "description": "A mapping TOML file"},
                        "dry_run": {"type": "boolean", "description": "Check and count, write nothing"},
                        "skip_invalid": {"type": "boolean",
                                         "description": "Write the valid rows; report the invalid ones in errors"},
                    },
                }
            }
        },
    }
}


@touchpoints_router.post(
    "/touchpoints",
    name="api.touchpoints.create",
    response_model=ImportReportOut,
    summary="Record a batch of touchpoint events",
    responses={413: {"model": ErrorOut, "description": "The request body is too large"}},
)
def touchpoints(batch: TouchpointBatchIn, runtime: RuntimeDep, now: NowDep, me: CurrentUser) -> ImportReportOut:
    """Each event names its contact by ``email`` or ``contact_external_id`` (the contact must exist).

    Every event is checked before anything is written; one bad event rejects the batch with 422 and
    row-level errors (row = position in ``events``, from 1). Sending the same ``event_id`` again is a
    no-op, so a batch can be retried safely after a timeout.
    """
    report = ingest_touchpoint_events(runtime.sessions, batch.source_system, batch.events, now=now, actor_user_id=me.id)
    return ImportReportOut(**report.to_dict())


@imports_router.post(
    "/imports",
    name="api.imports.create",
    response_model=ImportReportOut,
    summary="Import a file",
    openapi_extra=_IMPORT_FORM_SCHEMA,
    responses={413: {"model": ErrorOut, "description": "The file is larger than REVTEAM_MAX_UPLOAD_MB"}},
)
async def import_file(request: Request, runtime: RuntimeDep, now: NowDep, me: CurrentUser) -> ImportReportOut:
    """The same import as ``revteam import`` and the Import page: validated row by row, all or nothing."""
    form = await read_import_form(request)
    report = await import_upload(runtime, form, now=now, user=me, via="api")
    return ImportReportOut(**report.to_dict())


@imports_router.get("/imports", name="api.imports.list", response_model=list[ImportRunOut], summary="Recent imports")
def import_runs(db: SessionDep, me: CurrentUser,
                limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[ImportRunOut]:
    return [ImportRunOut.model_validate(r) for r in recent_runs(db, limit)]
