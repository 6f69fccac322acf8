"""People and access (admins only): list users, add one (a person or a service account), (de)activate,
issue API tokens for service accounts and revoke any token.

Admins issue tokens only for service accounts (a token acts as its user: minting one for a person would
let an admin act as them; people create their own on ``/tokens``). An issued token is shown once, on the response to the form that issued it (``Cache-Control: no-store``);
only its SHA-256 is stored. Deactivating someone ends their web sessions at once, and their API
tokens stop working (``user_for_api_token`` refuses inactive users). Admins cannot deactivate
themselves, so an installation cannot lose its last way in by accident.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revteam.domain.roles import ROLES
from revteam.domain.token_scopes import MAX_TOKEN_DAYS, SCOPE_HELP, SCOPES
from revteam.errors import Conflict, InvalidInput
from revteam.services.people.users import (
    add_user,
    issue_token_for,
    people_and_tokens,
    revoke_token,
    set_user_active,
)
from revteam.services.unit_of_work import Session
from revteam.web.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "added": "User added. They can log in now with the password you set.",
    "service": "Service account added. Issue its API token from the People table.",
    "activated": "User activated; they can log in again.",
    "deactivated": "User deactivated; their sessions ended and their API tokens stop working.",
    "revoked": "API token revoked; calls with it now get 401.",
}
ROLE_HELP = {
    "admin": "everything, including users and service-account tokens",
    "marketing": "the record, imports and the touchpoint API",
    "sdr": "the record; lists start with their own records",
    "ae": "the record; lists start with their own records",
    "leader": "the whole record, read-only",
}


def _page(request: Request, db: Session, *, status: int = 200, headers: dict[str, str] | None = None,
          **context: Any) -> HTMLResponse:
    people = people_and_tokens(db)
    base = {
        "users": people.users,
        "tokens": people.tokens,
        "roles": ROLES,
        "role_help": ROLE_HELP,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        "error": None,
        "new_user": {"email": "", "name": "", "role": "sdr", "team": ""},
        "issued": None,
        "scopes": SCOPES,
        "scope_help": SCOPE_HELP,
        "max_days": MAX_TOKEN_DAYS,
    }
    base.update(context)
    return render(request, "users.html", base, status=status, headers=headers)


def _after(notice: str) -> RedirectResponse:
    return RedirectResponse(f"/users?notice={notice}", status_code=303)


@router.get("/users", name="users.page", response_class=HTMLResponse)
def users_page(request: Request, db: SessionDep, me: CurrentUser) -> HTMLResponse:
    return _page(request, db)


@router.post("/users", name="users.add", response_class=HTMLResponse)
def users_add(
    request: Request,
    db: SessionDep,
    me: CurrentUser,
    now: NowDep,
    email: Annotated[str, Form(max_length=254)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    team: Annotated[str, Form(max_length=120)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    service: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    echo = {"email": email, "name": name, "role": role, "team": team, "service": bool(service)}
    try:
        add_user(db, email=email, name=name, role=role, password=password or None, team=team.strip() or None,
                 now=now, actor=f"user:{me.id}", service=bool(service))
    except (InvalidInput, Conflict) as e:
        return _page(request, db, status=e.status, error=e.message, new_user=echo)
    return _after("service" if service else "added")


@router.post("/users/{user_id}/active", name="users.set_active")
def users_set_active(
    db: SessionDep, me: CurrentUser, now: NowDep, user_id: int, active: Annotated[str, Form(pattern="^(true|false)$")]
) -> Response:
    make_active = active == "true"
    set_user_active(db, user_id, make_active, by=me, now=now)
    return _after("activated" if make_active else "deactivated")


@router.post("/users/{user_id}/tokens", name="users.issue_token", response_class=HTMLResponse)
def users_issue_token(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep, settings: SettingsDep, user_id: int,
    name: Annotated[str, Form(min_length=1, max_length=120)] = "api",
    scope: Annotated[str, Form(max_length=20)] = "ingest",
    days: Annotated[int | None, Form(ge=1, le=MAX_TOKEN_DAYS)] = None,
) -> Response:
    try:
        issued = issue_token_for(db, user_id, name=name, by=me, now=now, scope=scope, days=days,
                                 default_days=settings.token_days)
    except InvalidInput as e:  # a refusal (token_consent: a person, not a service account) is the error page
        return _page(request, db, status=e.status, error=e.message)
    shown = {"token": issued.token, "user": issued.user, "name": issued.record.name, "scope": issued.record.scope,
             "expires_at": issued.record.expires_at}
    return _page(request, db, issued=shown, headers={"Cache-Control": "no-store"})


@router.post("/tokens/{token_id}/revoke", name="users.revoke_token")
def users_revoke_token(db: SessionDep, me: CurrentUser, now: NowDep, token_id: int) -> Response:
    revoke_token(db, token_id, by=me, now=now)
    return _after("revoked")
