"""People and access (admins only): list users, add one, (de)activate, issue and revoke API tokens.

An issued token is shown once, on the response to the form that issued it (``Cache-Control: no-store``);
only its SHA-256 is stored. Deactivating someone ends their web sessions at once, and their API
tokens stop working (``user_for_api_token`` refuses inactive users). Admins cannot deactivate
themselves, so an installation cannot lose its last way in by accident.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from revteam.errors import Conflict, InvalidInput, NotFound
from revteam.services.record.audit import record_audit
from revteam.services.people.users import add_user, issue_api_token
from revteam.store.models import ROLES, ApiToken, User
from revteam.web.deps import CurrentUser, NowDep, SessionDep
from revteam.web.sessions import end_user_sessions
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "added": "User added. They can log in now with the password you set.",
    "activated": "User activated; they can log in again.",
    "deactivated": "User deactivated; their sessions ended and their API tokens stop working.",
    "revoked": "API token revoked; calls with it now get 401.",
}
ROLE_HELP = {
    "admin": "everything, including users and tokens",
    "marketing": "the record, imports and the touchpoint API",
    "sdr": "the record; lists start with their own records",
    "ae": "the record; lists start with their own records",
    "leader": "the whole record, read-only",
}


def _page(request: Request, db: Session, *, status: int = 200, headers: dict[str, str] | None = None,
          **context: Any) -> HTMLResponse:
    users = list(db.scalars(select(User).options(selectinload(User.team)).order_by(User.is_active.desc(), User.name)))
    tokens = db.execute(
        select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).order_by(ApiToken.created_at.desc())
    ).all()
    base = {
        "users": users,
        "tokens": tokens,
        "roles": ROLES,
        "role_help": ROLE_HELP,
        "notice": NOTICES.get(request.query_params.get("notice", "")),
        "error": None,
        "new_user": {"email": "", "name": "", "role": "sdr", "team": ""},
        "issued": None,
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
) -> Response:
    echo = {"email": email, "name": name, "role": role, "team": team}
    try:
        if not password:
            raise InvalidInput("Set a password (at least 10 characters); share it with the person safely.",
                               code="password_missing")
        add_user(db, email=email, name=name, role=role, password=password, team=team.strip() or None, now=now,
                 actor=f"user:{me.id}")
        db.commit()
    except (InvalidInput, Conflict) as e:
        db.rollback()
        return _page(request, db, status=e.status, error=e.message, new_user=echo)
    return _after("added")


def _user(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}; pick one from the Users page.", code="user_not_found")
    return user


@router.post("/users/{user_id}/active", name="users.set_active")
def users_set_active(
    db: SessionDep, me: CurrentUser, now: NowDep, user_id: int, active: Annotated[str, Form(pattern="^(true|false)$")]
) -> Response:
    user = _user(db, user_id)
    make_active = active == "true"
    if user.id == me.id and not make_active:
        raise InvalidInput("You cannot deactivate yourself; ask another admin.", code="self_deactivate")
    if user.is_active != make_active:
        user.is_active = make_active
        if not make_active:
            end_user_sessions(db, user.id)
        record_audit(db, at=now, actor=f"user:{me.id}", actor_user_id=me.id,
                     action="user.activated" if make_active else "user.deactivated", entity="user", entity_id=user.id)
        db.commit()
    return _after("activated" if make_active else "deactivated")


@router.post("/users/{user_id}/tokens", name="users.issue_token", response_class=HTMLResponse)
def users_issue_token(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep, user_id: int,
    name: Annotated[str, Form(min_length=1, max_length=120)] = "api",
) -> Response:
    user = _user(db, user_id)
    if not user.is_active:
        raise InvalidInput(f"{user.email} is deactivated; activate them before issuing a token.", code="user_inactive")
    issued = issue_api_token(db, user, name=name.strip() or "api", now=now)
    record_audit(db, at=now, actor=f"user:{me.id}", actor_user_id=me.id, action="token.issued_for",
                 entity="api_token", entity_id=issued.record.id, detail={"user_id": user.id, "name": issued.record.name})
    db.commit()
    shown = {"token": issued.token, "user": user, "name": issued.record.name}
    return _page(request, db, issued=shown, headers={"Cache-Control": "no-store"})


@router.post("/tokens/{token_id}/revoke", name="users.revoke_token")
def users_revoke_token(db: SessionDep, me: CurrentUser, now: NowDep, token_id: int) -> Response:
    token = db.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No API token with id {token_id}.", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = now
        record_audit(db, at=now, actor=f"user:{me.id}", actor_user_id=me.id, action="token.revoked",
                     entity="api_token", entity_id=token.id, detail={"user_id": token.user_id})
        db.commit()
    return _after("revoked")
