"""Logging in and out (``/login``, ``/logout``) and the liveness probe (``/healthz``).

A failed log-in always says the same thing, whatever failed (unknown e-mail, wrong password,
deactivated user), and takes about as long, so the page cannot be used to find out who has an account.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlalchemy import select

from revteam.security import hash_password, verify_password
from revteam.services.record.audit import record_audit
from revteam.store.models import User
from revteam.web.csrf import CsrfRejected, LOGIN_NONCE_COOKIE, check_login_token, login_token, set_login_nonce
from revteam.web.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from revteam.web.errors import safe_next
from revteam.web.sessions import (
    COOKIE_NAME,
    clear_session_cookie,
    end_session,
    load_session,
    set_session_cookie,
    start_session,
)
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

LOGIN_FAILED = "That e-mail and password do not match an active account. Check both and try again."


@cache
def _decoy_hash() -> str:
    """A hash to verify against when the e-mail is unknown, so that case takes as long as a wrong password."""
    return hash_password("decoy password that matches nobody")


def _login_page(request: Request, settings, *, next_path: str, email: str = "", error: str | None = None,
                status: int = 200) -> Response:
    new_cookies: dict[str, str] = {}
    token = login_token(request, new_cookies, settings.secret_key)
    response = render(
        request, "login.html", {"next": next_path, "email": email, "error": error, "login_csrf": token}, status=status
    )
    for nonce in new_cookies.values():
        set_login_nonce(response, nonce, secure=settings.secure_cookies)
    return response


@router.get("/login", name="login.form")
def login_form(request: Request, db: SessionDep, settings: SettingsDep, now: NowDep, next: str = "/") -> Response:
    next_path = safe_next(next)
    live = load_session(db, request.cookies.get(COOKIE_NAME), now=now, hours=settings.session_hours)
    db.commit()
    if live is not None:
        return RedirectResponse(next_path, status_code=303)
    return _login_page(request, settings, next_path=next_path)


@router.post("/login", name="login.submit")
def login_submit(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    next_path = safe_next(next)
    try:
        check_login_token(request, csrf_token, settings.secret_key)
    except CsrfRejected as e:
        return _login_page(request, settings, next_path=next_path, email=email, error=e.message, status=403)
    address = email.strip().lower()
    user = db.scalar(select(User).where(User.email == address)) if address else None
    if user is None:
        verify_password(_decoy_hash(), password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password) and user.is_active
    if not ok:
        record_audit(db, at=now, actor="anonymous", action="user.login_failed", entity="user",
                     entity_id=user.id if user else None, detail={"email": address[:254]})
        db.commit()
        return _login_page(request, settings, next_path=next_path, email=email, error=LOGIN_FAILED, status=400)
    assert user is not None
    end_session(db, request.cookies.get(COOKIE_NAME))  # a new session on every log-in: no fixation
    token, _ = start_session(db, user, now=now, hours=settings.session_hours)
    record_audit(db, at=now, actor=f"user:{user.id}", actor_user_id=user.id, action="user.logged_in",
                 entity="user", entity_id=user.id)
    db.commit()
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, token, settings)
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/login")
    return response


@router.post("/logout", name="logout")
def logout(request: Request, db: SessionDep, settings: SettingsDep, now: NowDep, me: CurrentUser) -> Response:
    end_session(db, request.cookies.get(COOKIE_NAME))
    record_audit(db, at=now, actor=f"user:{me.id}", actor_user_id=me.id, action="user.logged_out", entity="user",
                 entity_id=me.id)
    db.commit()
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, settings)
    return response


@router.get("/healthz", name="health", response_class=PlainTextResponse)
def health() -> str:
    return "ok"
