"""The web edge of the error tree: one translation of ``RevteamError`` into HTML or JSON.

* Paths under ``/api/`` get JSON ``{"code": ..., "message": ..., "details"?: ...}`` with the error's
  status (401 also carries ``WWW-Authenticate: Bearer``).
* Pages get the error page (``templates/error.html``) with the same message, except "not logged in",
  which redirects (303) to ``/login?next=<this page>``.
* Starlette's own HTTP errors (no such route, wrong method, body too large), request validation
  errors and unexpected exceptions are turned into ``RevteamError`` first, so there is one renderer.
* A body FastAPI cannot parse (not JSON, or nested deeper than the parser goes) is 422 ``invalid_json``, like
  every other invalid input, never 400 or 500; a 405 lists in ``Allow`` every method the path answers (all its
  routes, not only the first one that matched the path).

Who is asking (``Principal``) and the app's clock come from ``web/principal.py``, which the access check
(``web/deps.py``) fills in; this module does not depend on the access check, nor it on this one.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Match

from revteam.errors import InvalidInput, NotFound, RevteamError, Unauthenticated
from revteam.services.people.access import visitor_for_cookie
from revteam.web.principal import Principal, app_now, is_api_path, login_next, login_url
from revteam.web.sessions import session_token
from revteam.web.templating import render

log = logging.getLogger("revteam.web")

TITLES = {
    400: "That request did not work",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "Already there",
    413: "Too large",
    422: "Please check the input",
    500: "Something went wrong",
}


class PayloadTooLarge(RevteamError):
    status = 413
    code = "too_large"


def _login_redirect(request: Request, next_path: str) -> Response:
    url = login_url(next_path)
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": url})  # htmx: reload the page there
    return RedirectResponse(url, status_code=303)


def _row_details(details: Any) -> list[dict[str, Any]]:
    if isinstance(details, list):
        return [d for d in details if isinstance(d, dict)]
    return []


async def _principal_for_error_page(request: Request) -> None:
    """Routes that did not match never ran ``authorize``: look the session up so the menu still shows."""
    if getattr(request.state, "principal", None) is not None:
        return
    token = session_token(request)
    if not token:
        return
    runtime = request.app.state.runtime
    now = app_now(request.app)  # the same clock as the routes, so a session is live or not for both

    def lookup() -> None:
        live = visitor_for_cookie(runtime.sessions, token, now=now, hours=runtime.settings.session_hours)
        if live is not None:
            request.state.principal = Principal(live.user, live.row, "session", "")

    try:
        await run_in_threadpool(lookup)
    except Exception:  # noqa: BLE001 - the error page must render even when the database is the problem
        log.warning("could not look up the session for an error page", exc_info=True)


async def render_error(request: Request, exc: RevteamError) -> Response:
    headers = dict(getattr(exc, "headers", None) or {})
    if is_api_path(request.url.path):
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(exc.to_dict(), status_code=exc.status, headers=headers)
    if isinstance(exc, Unauthenticated):
        return _login_redirect(request, getattr(exc, "next_path", login_next(request)))
    await _principal_for_error_page(request)
    context = {
        "status": exc.status,
        "title": TITLES.get(exc.status, "That did not work"),
        "message": exc.message,
        "code": exc.code,
        "rows": _row_details(exc.details),
    }
    try:
        return render(request, "error.html", context, status=exc.status, headers=headers)
    except Exception:  # noqa: BLE001 - never fail while reporting a failure
        log.exception("the error page itself failed to render")
        return PlainTextResponse(f"{exc.status} {context['title']}: {exc.message}", status_code=exc.status)


async def handle_revteam_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RevteamError)
    return await render_error(request, exc)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    path = request.url.path
    err: RevteamError
    if exc.status_code == 404:
        err = NotFound(
            f"There is no API endpoint at {path}; the list is in /api/v1/openapi.json."
            if is_api_path(path)
            else f"There is no page at {path}. Check the address, or pick a page from the menu.",
            code="no_such_path",
        )
    elif exc.status_code == 405:
        allowed = allowed_methods(request)
        err = RevteamError(f"{request.method} is not allowed on {path}; use {', '.join(allowed)}.",
                           code="method_not_allowed")
        err.status = 405
        err.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}  # type: ignore[attr-defined]
        return await render_error(request, err)
    elif exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:
        err = InvalidInput(
            "The request body could not be read as JSON: check that it is UTF-8 JSON, not nested more than a few "
            "hundred levels deep, and that the Content-Type matches it.",
            code="invalid_json",
        )
    elif exc.status_code == 413:
        mb = request.app.state.runtime.settings.max_upload_mb
        err = PayloadTooLarge(
            f"The request is larger than this server accepts. Files up to {mb} MiB can be imported on the web "
            "page (REVTEAM_MAX_UPLOAD_MB); use `revteam import` for bigger files, and send touchpoint batches "
            "of at most 10,000 events."
        )
    else:
        err = RevteamError(str(exc.detail), code=f"http_{exc.status_code}")
        err.status = exc.status_code
    err.headers = exc.headers  # type: ignore[attr-defined]  # e.g. Allow on 405
    return await render_error(request, err)


BODY_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's 400 for a body its parser gave up on


HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path (Starlette's own ``Allow`` names only the first route that
    matched the path). Asked of the routes themselves, one method at a time, so included routers count too."""
    routes = request.app.router.routes
    return [m for m in HTTP_METHODS
            if any(route.matches({**request.scope, "method": m})[0] == Match.FULL for route in routes)]


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "invalid")}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{d['location']}: {d['message']}" for d in details[:3])
    more = f" (and {len(details) - 3} more)" if len(details) > 3 else ""
    err = InvalidInput(
        f"The request has invalid values: {summary}{more}. Fix them and try again.",
        code="invalid_request",
        details=details,
    )
    return await render_error(request, err)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    err = RevteamError(
        "Something went wrong on our side and the error was logged. Try again; if it keeps happening, tell "
        "your admin the time it happened.",
        code="internal_error",
    )
    err.status = 500
    return await render_error(request, err)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RevteamError, handle_revteam_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(Exception, handle_unexpected)
