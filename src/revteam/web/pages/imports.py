"""The import page: upload a file, see exactly what it did (or why nothing was written)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from revteam.errors import ImportRejected, InvalidInput
from revteam.ingest.mapping import presets
from revteam.ingest.runs import recent_runs_with_actor
from revteam.ingest.schemas import KIND_SPECS
from revteam.ingest.service import KINDS
from revteam.services.unit_of_work import Session
from revteam.web.deps import CurrentUser, NowDep, RuntimeDep, SessionDep
from revteam.web.templating import render
from revteam.web.uploads import ImportForm, import_upload, read_import_form

router = APIRouter(include_in_schema=False)
SHOWN_ERRORS = 500


def _page(request: Request, db: Session, *, status: int = 200, **context: Any) -> HTMLResponse:
    base = {
        "kinds": KINDS,
        "specs": KIND_SPECS,
        "presets": presets(),
        "runs": recent_runs_with_actor(db),
        "form": {"kind": "contacts", "preset": "", "dry_run": False, "skip_invalid": False},
        "report": None,
        "problem": None,
        "shown_errors": SHOWN_ERRORS,
    }
    base.update(context)
    return render(request, "imports.html", base, status=status)


@router.get("/imports", name="imports.page", response_class=HTMLResponse)
def imports_page(request: Request, db: SessionDep, me: CurrentUser) -> HTMLResponse:
    return _page(request, db)


def _echo(form: ImportForm | None, request_form: Any) -> dict[str, Any]:
    if form is not None:
        return {"kind": form.kind, "preset": form.preset or "", "dry_run": form.dry_run, "skip_invalid": form.skip_invalid}
    kind = request_form.get("kind")
    return {"kind": kind if kind in KINDS else "contacts", "preset": "", "dry_run": False, "skip_invalid": False}


@router.post("/imports", name="imports.submit", response_class=HTMLResponse)
async def imports_submit(request: Request, db: SessionDep, runtime: RuntimeDep, now: NowDep, me: CurrentUser) -> HTMLResponse:
    form: ImportForm | None = None
    try:
        form = await read_import_form(request)
        report = await import_upload(runtime, form, now=now, user=me, via="web")
    except ImportRejected as e:
        rows = len({err.row for err in e.errors})
        message = (
            f"{rows:,} row{'s' if rows != 1 else ''} of {form.filename if form else 'the file'} "
            f"{'have' if rows != 1 else 'has'} problems, so nothing was written. Fix them and upload the file again, "
            "or tick “Skip invalid rows” to import the good rows and leave these out."
        )
        problem = {"message": message, "code": e.code, "errors": e.errors[:SHOWN_ERRORS], "total": len(e.errors)}
        echo = _echo(form, await request.form())
        return await run_in_threadpool(lambda: _page(request, db, status=422, form=echo, problem=problem))
    except InvalidInput as e:
        rows = [d for d in (e.details or []) if isinstance(d, dict)] if isinstance(e.details, list) else []
        problem = {"message": e.message, "code": e.code, "errors": rows[:SHOWN_ERRORS], "total": len(rows)}
        echo = _echo(form, await request.form())
        return await run_in_threadpool(lambda: _page(request, db, status=422, form=echo, problem=problem))
    return await run_in_threadpool(lambda: _page(request, db, form=_echo(form, None), report=report))
