"""The session cookie: it holds the random token of a server-side web session
(``services/people/access.py`` keeps the sessions, their sliding expiry and their CSRF tokens).

The cookie is ``HttpOnly``, ``SameSite=Lax`` and ``Secure`` when ``settings.secure_cookies``; it has no
``Max-Age``, so it also ends when the browser closes.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from revteam.config import Settings

COOKIE_NAME = "revteam_session"


def session_token(request: Request) -> str | None:
    return request.cookies.get(COOKIE_NAME)


def set_session_cookie(response: Response, token: str, settings: Settings) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="lax", secure=settings.secure_cookies)
