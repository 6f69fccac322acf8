"""FastAPI dependencies as ``Annotated`` aliases, and ``authorize``: the check every route runs.

``authorize`` is an app-wide dependency (``create_app`` installs it), so no route can forget it. It

1. finds the route's entry in ``policy.POLICY`` (no entry: refused to everybody);
2. finds who is asking: pages by the session cookie, ``/api/`` routes by ``Authorization: Bearer``
   only (a cookie never authenticates an API call, so the API needs no CSRF token);
3. refuses a role the policy does not list (403), an API token whose scope the route does not accept
   (403 ``token_scope``; a route declaring no scope accepts only ``full`` tokens), an anonymous page request (303 to the log-in page,
   see ``web/errors.py``) and an anonymous or badly authenticated API call (401);
4. checks the CSRF token of every unsafe cookie-authenticated request before the route runs;
5. answers 404 for a record id in the path (``/contacts/{contact_id}``, ``/agreement/{version}/sign``) that is
   not 1 to 2,147,483,647 (``domain/ids.py``), on pages and API alike, before any query overflows; the API's
   own parameter types (``web/api/models.py``: ``IdPath``) refuse them with 422 first;
6. refuses (422 ``bad_text``) a JSON body (or a page's URL-encoded form) whose text holds a NUL character or a
   lone surrogate (JSON ``"\\ud800"``): valid JSON, but no database stores it (PostgreSQL refuses both,
   SQLite cannot encode the second), so it would fail as a 500 deep inside a use case; the same for a query
   or path parameter on every method (``GET /api/v1/contacts?q=%00``: 422 ``bad_text``, a 422 page on pages).

``CurrentUser`` and ``PrincipalDep`` depend on ``authorize``; FastAPI caches it per request, so a
route asking for the user gets the already-checked one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from revteam.config import Settings
from revteam.domain.ids import MAX_ID, id_from_text
from revteam.errors import Forbidden, InvalidInput, NotFound
from revteam.runtime import Runtime
from revteam.services.people import User
from revteam.services.people.access import caller_for_token, visitor_for_cookie
from revteam.services.unit_of_work import Session, SessionFactory
from revteam.web import policy
from revteam.web.csrf import UNSAFE_METHODS, check_session_token
from revteam.web.principal import LoginRequired, Principal, get_now, is_api_path, login_next
from revteam.web.sessions import session_token


def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.runtime.settings


def get_session_factory(request: Request) -> SessionFactory:
    return request.app.state.runtime.sessions


def get_db(request: Request) -> Iterator[Session]:
    """One database session per request, handed to the use cases (each commits its own work); closed
    afterwards, so what no use case committed is discarded."""
    with request.app.state.runtime.sessions() as session:
        yield session


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _identify(request: Request, now: datetime, route_name: str) -> Principal:
    """Who is asking, looked up in a unit of work of its own (``services.people.access``): the person
    outlives whatever the route's use case rolls back, so an error page still shows their name and menu."""
    runtime: Runtime = request.app.state.runtime
    if is_api_path(request.url.path):
        caller = caller_for_token(runtime.sessions, bearer_token(request), now=now)  # raises Unauthenticated (401)
        return Principal(caller.user, None, "token", route_name, token_scope=caller.scope, token_id=caller.token_id)
    live = visitor_for_cookie(runtime.sessions, session_token(request), now=now, hours=runtime.settings.session_hours)
    if live is None:
        raise LoginRequired(login_next(request))
    return Principal(live.user, live.row, "session", route_name)


async def authorize(request: Request, now: Annotated[datetime, Depends(get_now)]) -> Principal:
    route = request.scope.get("route")
    route_name = getattr(route, "name", None) or ""
    rule = policy.rule_for(route_name)
    if rule is None:
        raise Forbidden(
            f"The route {route_name!r} has no entry in the access policy (revteam/web/policy.py), so nobody "
            "may use it.",
            code="no_policy",
        )
    if rule.public:
        principal = Principal(None, None, "public", route_name)
    else:
        principal = await run_in_threadpool(_identify, request, now, route_name)
        assert principal.user is not None
        if not rule.allows(principal.user.role):
            request.state.principal = principal  # the 403 page still shows the person's menu
            raise Forbidden(policy.refusal(route_name, principal.user.role), code="role_forbidden")
        if principal.via == "token" and not rule.allows_scope(principal.token_scope or ""):
            request.state.principal = principal
            raise Forbidden(policy.scope_refusal(route_name, principal.token_scope or ""), code="token_scope")
        if principal.web_session is not None and request.method in UNSAFE_METHODS:
            request.state.principal = principal
            await check_session_token(request, principal.web_session.csrf_token)
    request.state.principal = principal
    check_path_ids(request)
    check_address_text(request)
    if request.method in UNSAFE_METHODS:
        await (check_json_text(request) if is_api_path(request.url.path) else check_form_text(request))
    return principal


def check_path_ids(request: Request) -> None:
    """No record has an id outside 1 to ``MAX_ID``: such an address names nothing (404), whatever the database."""
    for name, value in request.path_params.items():
        text = str(value)
        if (name.endswith("_id") or name == "version") and text.lstrip("-").isdigit() and id_from_text(text) is None:
            raise NotFound(f"There is nothing at {request.url.path}: ids are whole numbers from 1 to {MAX_ID:,}.",
                           code="no_such_id")


def check_address_text(request: Request) -> None:
    """A query or path parameter with text no database stores (``?q=%00``), on any method: refused (422
    ``bad_text``) before a use case compares it with a column (PostgreSQL refuses NUL even in a ``WHERE``)."""
    params = [("query parameter", k, v) for k, v in request.query_params.multi_items()]
    params += [("path parameter", k, str(v)) for k, v in request.path_params.items()]
    for kind, name, value in params:
        what = _bad_text(name) or _bad_text(value)
        if what:
            raise InvalidInput(f"The {kind} {name!r} contains {what}, which cannot be stored or searched; "
                               "remove it and send again.", code="bad_text",
                               details=[{"location": f"{kind.split()[0]}.{name}", "message": f"contains {what}"}])


def _bad_text(value: str) -> str | None:
    if "\x00" in value:
        return "a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a lone surrogate (half of a UTF-16 pair)"
    return None


def bad_json_text(data: Any) -> tuple[str, str] | None:
    """(where, what) of the first text in ``data`` (keys too) that no database can store, else None. Walks
    without recursion, so any depth the JSON parser accepted is fine."""
    stack: list[tuple[str, Any]] = [("body", data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            what = _bad_text(value)
            if what:
                return where, what
        elif isinstance(value, dict):
            for k, v in value.items():
                what = _bad_text(k) if isinstance(k, str) else None
                if what:
                    return f"{where} (a key)", what
                stack.append((f"{where}.{k}", v))
        elif isinstance(value, list):
            stack.extend((f"{where}.{i}", v) for i, v in enumerate(value))
    return None


async def check_json_text(request: Request) -> None:
    """Refuse a JSON body with text no database stores (see the module docstring, step 5)."""
    if "json" not in request.headers.get("content-type", ""):
        return
    try:
        data = await request.json()  # already parsed by FastAPI for routes with a body: cached, not parsed again
    except Exception:  # noqa: BLE001 - not JSON: the route's own parsing answers it (or the route takes no body)
        return
    found = bad_json_text(data)
    if found is not None:
        where, what = found
        raise InvalidInput(f"{where}: the text contains {what}, which cannot be stored; remove it and send again.",
                           code="bad_text", details=[{"location": where, "message": f"contains {what}"}])


async def check_form_text(request: Request) -> None:
    """A page form (URL-encoded; uploads are the importer's) with a NUL character: refused like JSON text."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return
    form = await request.form()  # parsed once per request (Starlette keeps it; the CSRF check read it too)
    for name, value in form.multi_items():
        what = _bad_text(value) if isinstance(value, str) else None
        if what:
            raise InvalidInput(f"The field {name!r} contains {what}, which cannot be stored; remove it and send again.",
                               code="bad_text")


def get_current_user(principal: Annotated[Principal, Depends(authorize)]) -> User:
    if principal.user is None:
        raise RuntimeError("CurrentUser was asked for on a public route, which has no user")
    return principal.user


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionFactoryDep = Annotated[SessionFactory, Depends(get_session_factory)]
SessionDep = Annotated[Session, Depends(get_db)]
NowDep = Annotated[datetime, Depends(get_now)]
PrincipalDep = Annotated[Principal, Depends(authorize)]
CurrentUser = Annotated[User, Depends(get_current_user)]
