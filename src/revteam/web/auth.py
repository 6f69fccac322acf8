"""Logging in and out (``/login``, ``/logout``) and the liveness probe (``/healthz``).

A failed log-in always says the same thing, whatever failed (unknown e-mail, wrong password,
deactivated user), and takes about as long, so the page cannot be used to find out who has an account
(``services/people/access.py`` checks; this module sets and clears the cookie and redirects).
Log-ins are throttled per account and per client address (the connection's, or the one a trusted proxy
reports, ``REVTEAM_TRUSTED_PROXIES``): a throttled attempt gets 429 with ``Retry-After`` and "Too many
attempts; try again in N minutes", and its password is not checked.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from revteam.services.people.access import LoginFailed, TooManyAttempts, log_in, log_out, visitor_for_cookie
from revteam.services.people.throttle import LoginLimits
from revteam.web.csrf import CsrfRejected, LOGIN_NONCE_COOKIE, check_login_token, login_token, set_login_nonce
from revteam.web.deps import CurrentUser, NowDep, SessionDep, SessionFactoryDep, SettingsDep
from revteam.web.principal import safe_next
from revteam.web.sessions import clear_session_cookie, session_token, set_session_cookie
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)


def _login_page(request: Request, settings, *, next_path: str, email: str = "", error: str | None = None,
                status: int = 200, headers: dict[str, str] | None = None) -> Response:
    new_cookies: dict[str, str] = {}
    token = login_token(request, new_cookies, settings.secret_key)
    response = render(
        request, "login.html", {"next": next_path, "email": email, "error": error, "login_csrf": token}, status=status,
        headers=headers,
    )
    for nonce in new_cookies.values():
        set_login_nonce(response, nonce, secure=settings.secure_cookies)
    return response


@router.get("/login", name="login.form")
def login_form(request: Request, sessions: SessionFactoryDep, settings: SettingsDep, now: NowDep,
               next: str = "/") -> Response:
    next_path = safe_next(next)
    live = visitor_for_cookie(sessions, session_token(request), now=now, hours=settings.session_hours)
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
    try:
        token = log_in(db, email=email, password=password, now=now, hours=settings.session_hours,
                       replacing=session_token(request), client=request.client.host if request.client else None,
                       limits=LoginLimits.of(per_account=settings.login_failures_per_account,
                                             per_address=settings.login_failures_per_address,
                                             block_minutes=settings.login_block_minutes))
    except TooManyAttempts as e:
        return _login_page(request, settings, next_path=next_path, email=email, error=e.message, status=e.status,
                           headers=e.headers)
    except LoginFailed as e:
        return _login_page(request, settings, next_path=next_path, email=email, error=e.message, status=e.status)
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, token, settings)
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/login")
    return response


@router.post("/logout", name="logout")
def logout(request: Request, db: SessionDep, settings: SettingsDep, now: NowDep, me: CurrentUser) -> Response:
    log_out(db, session_token(request), me, now=now)
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, settings)
    return response


@router.get("/healthz", name="health", response_class=PlainTextResponse)
def health() -> str:
    return "ok"
