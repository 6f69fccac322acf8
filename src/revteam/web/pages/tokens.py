"""One's own API tokens (``/tokens``), for every logged-in person: create one (name, scope, lifetime),
see it once, list them with their scope, expiry and last use, revoke one.

A token acts as the person who creates it (that act is their consent, recorded in the audit log);
admins issue tokens only for service accounts, on the Users page (``services/people/tokens.py``).
The new token is shown once, on the answer to the form (``Cache-Control: no-store``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revteam.domain.token_scopes import MAX_TOKEN_DAYS, SCOPE_HELP, SCOPES
from revteam.errors import InvalidInput
from revteam.services.people import User
from revteam.services.people.users import issue_own_token, revoke_token, tokens_of
from revteam.services.unit_of_work import Session
from revteam.web.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {"revoked": "API token revoked; calls with it now get 401."}


def _page(request: Request, db: Session, me: User, *, default_days: int, status: int = 200,
          headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    base = {
        "tokens": tokens_of(db, me.id),
        "scopes": SCOPES,
        "scope_help": SCOPE_HELP,
        "default_days": default_days,
        "max_days": MAX_TOKEN_DAYS,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        "error": None,
        "issued": None,
        "form": {"name": "", "scope": "read", "days": default_days},
    }
    base.update(context)
    return render(request, "tokens.html", base, status=status, headers=headers)


@router.get("/tokens", name="tokens.page", response_class=HTMLResponse)
def tokens_page(request: Request, db: SessionDep, me: CurrentUser, settings: SettingsDep) -> HTMLResponse:
    return _page(request, db, me, default_days=settings.token_days)


@router.post("/tokens", name="tokens.create", response_class=HTMLResponse)
def tokens_create(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep, settings: SettingsDep,
    name: Annotated[str, Form(max_length=120)] = "",
    scope: Annotated[str, Form(max_length=20)] = "read",
    days: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    form = {"name": name, "scope": scope, "days": days}
    try:
        if days.strip() and not days.strip().isdigit():
            raise InvalidInput(f"The lifetime must be a whole number of days (1-{MAX_TOKEN_DAYS}).", code="bad_token")
        issued = issue_own_token(db, me, name=name, scope=scope, days=int(days) if days.strip() else None, now=now,
                                 default_days=settings.token_days)
    except InvalidInput as e:
        return _page(request, db, me, default_days=settings.token_days, status=e.status, error=e.message, form=form)
    shown = {"token": issued.token, "name": issued.record.name, "scope": issued.record.scope,
             "expires_at": issued.record.expires_at}
    return _page(request, db, me, default_days=settings.token_days, issued=shown, headers={"Cache-Control": "no-store"})


@router.post("/tokens/{token_id}/revoke-mine", name="tokens.revoke")
def tokens_revoke(db: SessionDep, me: CurrentUser, now: NowDep, token_id: int) -> Response:
    revoke_token(db, token_id, by=me, now=now)
    return RedirectResponse("/tokens?notice=revoked", status_code=303)
