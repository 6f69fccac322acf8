"""The privacy desk (admins only): find a person, see what is held, download it, erase it, lift a tombstone.

The same capability as ``revteam privacy export|erase|lift`` for an admin who does not use the CLI:

* ``GET /privacy`` shows the find form and the list of tombstones (hashes only);
* ``POST /privacy`` (form ``email=ana+news@acme.com``, or ``contact_id=42``, or ``source=hubspot`` +
  ``external_id=901``) shows who was found and counts per area of the export;
* ``POST /privacy/export`` (the same fields) downloads the export as JSON (``Cache-Control: no-store``).
  Both are POST forms with the CSRF token so the address never appears in a URL (access logs, proxies);
* ``POST /privacy/erase`` erases after a typed confirmation (the person's e-mail or the word ERASE);
* ``POST /privacy/lift`` lifts one tombstone picked from the list, with a reason for the audit log.

Every refusal is the page again with the message at the error's status (404 nobody found, 422 a wrong
confirmation or a missing reason); nothing is half-done because each action is one use case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from revteam.errors import InvalidInput, RevteamError
from revteam.services.people.privacy import (
    CONFIRM_WORD,
    PersonRef,
    erase_confirmed,
    export_person,
    lift_tombstone,
    privacy_desk,
)
from revteam.services.unit_of_work import Session
from revteam.web.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "erased": "Erased. Only hashes of their identity are kept (below), so no import brings them back.",
    "lifted": "Erasure lifted; the person may be imported again. The reason is in the audit log.",
}
FormText = Annotated[str, Form(max_length=254)]


def person_ref(email: str = "", contact_id: str = "", source: str = "", external_id: str = "") -> PersonRef | None:
    """The person named by the form (None when nothing is filled in); a contact id must be a number."""
    email, contact_id, source, external_id = (v.strip() for v in (email, contact_id, source, external_id))
    if not (email or contact_id or external_id):
        return None
    cid = None
    if contact_id:
        if not contact_id.isdigit() or not 1 <= int(contact_id) <= 2**31 - 1:
            raise InvalidInput("A contact id is a whole number such as 42.", code="bad_contact_id")
        cid = int(contact_id)
    return PersonRef(email=email or None, contact_id=cid, source_system=source or None, external_id=external_id or None)


def _page(request: Request, db: Session, ref: PersonRef | None = None, *, status: int = 200,
          error: str | None = None, form: dict[str, str] | None = None) -> HTMLResponse:
    try:
        desk = privacy_desk(db, ref)
    except RevteamError as e:  # nobody found (404) or a bad reference (422): the page with the message
        desk = privacy_desk(db)
        status, error = (e.status, e.message) if error is None else (status, error)
    context: dict[str, Any] = {
        "desk": desk,
        "held": desk.held,
        "form": form or {"email": "", "contact_id": "", "source": "", "external_id": ""},
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        "error": error,
        "confirm_word": CONFIRM_WORD,
    }
    return render(request, "privacy.html", context, status=status, headers={"Cache-Control": "no-store"})


def _ledger(settings: Any) -> Path | None:
    return Path(settings.privacy_ledger) if settings.privacy_ledger else None


@router.get("/privacy", name="privacy.page", response_class=HTMLResponse)
def privacy_page(request: Request, db: SessionDep, me: CurrentUser) -> HTMLResponse:
    return _page(request, db)


@router.post("/privacy", name="privacy.find", response_class=HTMLResponse)
def privacy_find(request: Request, db: SessionDep, me: CurrentUser, email: FormText = "", contact_id: FormText = "",
                 source: FormText = "", external_id: FormText = "") -> HTMLResponse:
    form = {"email": email, "contact_id": contact_id, "source": source, "external_id": external_id}
    try:
        ref = person_ref(**form)
    except InvalidInput as e:
        return _page(request, db, status=e.status, error=e.message, form=form)
    return _page(request, db, ref, form=form)


@router.post("/privacy/export", name="privacy.export")
def privacy_export(db: SessionDep, me: CurrentUser, email: FormText = "", contact_id: FormText = "",
                   source: FormText = "", external_id: FormText = "") -> Response:
    ref = person_ref(email, contact_id, source, external_id) or PersonRef()  # nobody named: person_required (422)
    export = export_person(db, **ref.kwargs())
    ids = "-".join(str(c["contact"]["id"]) for c in export["contacts"])
    return JSONResponse(jsonable_encoder(export), headers={
        "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="revteam-personal-data-contact-{ids}.json"',
    })


@router.post("/privacy/erase", name="privacy.erase", response_class=HTMLResponse)
def privacy_erase(request: Request, db: SessionDep, me: CurrentUser, now: NowDep, settings: SettingsDep,
                  email: FormText = "", contact_id: FormText = "", source: FormText = "", external_id: FormText = "",
                  confirmation: FormText = "") -> Response:
    form = {"email": email, "contact_id": contact_id, "source": source, "external_id": external_id}
    ref = None
    try:
        ref = person_ref(**form) or PersonRef()
        erase_confirmed(db, ref, confirmation=confirmation, now=now, actor=f"user:{me.id}", actor_user_id=me.id,
                        ledger=_ledger(settings))
    except RevteamError as e:
        return _page(request, db, ref if ref and ref != PersonRef() else None, status=e.status, error=e.message,
                     form=form)
    return RedirectResponse("/privacy?notice=erased", status_code=303)


@router.post("/privacy/lift", name="privacy.lift", response_class=HTMLResponse)
def privacy_lift(request: Request, db: SessionDep, me: CurrentUser, now: NowDep, settings: SettingsDep,
                 kind: Annotated[str, Form(max_length=20)] = "", digest: Annotated[str, Form(max_length=64)] = "",
                 reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    try:
        lift_tombstone(db, kind=kind, digest=digest, reason=reason, now=now, actor=f"user:{me.id}",
                       actor_user_id=me.id, ledger=_ledger(settings))
    except RevteamError as e:
        return _page(request, db, status=e.status, error=e.message)
    return RedirectResponse("/privacy?notice=lifted", status_code=303)
