"""Cross-site request forgery protection for cookie-authenticated requests.

* Logged in: every form carries the session's token (``WebSession.csrf_token``) in the hidden field
  ``csrf_token``; htmx requests may send it as the ``X-CSRF-Token`` header instead (``base.html`` sets
  it for every htmx request). Every unsafe method (POST, PUT, PATCH, DELETE) on a page route is refused
  with 403 when the token is missing or wrong, before the route runs, so nothing is written.
* The log-in form has no session yet: it uses a double-submit token. ``GET /login`` sets a random
  nonce in a short-lived cookie and renders ``HMAC(secret_key, nonce)`` into the form; ``POST /login``
  recomputes it. A page on another site can neither read the cookie nor forge the HMAC.
* API routes (``/api/``) authenticate with a bearer token, which a browser never sends on its own,
  so they need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from revteam.errors import Forbidden
from revteam.security import same_token

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_NONCE_COOKIE = "revteam_login_nonce"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class CsrfRejected(Forbidden):
    code = "csrf_failed"


def rejected() -> CsrfRejected:
    return CsrfRejected(
        "The form was not accepted because its security token is missing or out of date (CSRF check). "
        "Reload the page and submit it again."
    )


async def submitted_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(_FORM_TYPES):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def check_session_token(request: Request, expected: str) -> None:
    given = await submitted_token(request)
    if not given or not same_token(given, expected):
        raise rejected()


def _login_mac(secret_key: str, nonce: str) -> str:
    return hmac.new(secret_key.encode(), f"login:{nonce}".encode(), hashlib.sha256).hexdigest()


def login_token(request: Request, response_cookies: dict[str, str], secret_key: str) -> str:
    """The log-in form's token; puts a fresh nonce into ``response_cookies`` when the browser has none."""
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not nonce or len(nonce) > 100:
        nonce = secrets.token_urlsafe(24)
        response_cookies[LOGIN_NONCE_COOKIE] = nonce
    return _login_mac(secret_key, nonce)


def set_login_nonce(response: Response, nonce: str, *, secure: bool) -> None:
    response.set_cookie(
        LOGIN_NONCE_COOKIE, nonce, max_age=3600 * 12, httponly=True, samesite="lax", secure=secure, path="/login"
    )


def check_login_token(request: Request, given: str | None, secret_key: str) -> None:
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE)
    if not nonce or not given or not same_token(given, _login_mac(secret_key, nonce)):
        raise CsrfRejected(
            "The log-in form has expired or did not come from this site. Reload the log-in page and try again."
        )
