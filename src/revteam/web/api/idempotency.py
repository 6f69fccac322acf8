"""The web glue of ``Idempotency-Key`` (``services/idempotency.py``) for every write API call.

A ``POST``, ``PUT``, ``PATCH`` or ``DELETE`` under ``/api/`` with an ``Idempotency-Key`` header:

* first time: the request runs; a 2xx answer is stored with the request's fingerprint (a digest of
  method, path, query and body, taken while the body streams through: nothing is buffered);
* again with the same request: the stored answer, with ``Idempotent-Replayed: true``; nothing runs,
  but the caller first passes the route's own access check (``web/deps.authorize``): a token revoked or
  expired since, a scope or a role that no longer reaches the route gets its 401/403, never the answer;
* again with another request (other body or path): 422 ``idempotency_key_reused``;
* again while the first is still running: 409 ``idempotency_key_in_use``.

An error answer is not stored, so the same key may be retried after it. Without the header nothing
changes. Keys are per caller (a digest of the bearer token or the session cookie).
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revteam.errors import RevteamError
from revteam.services.idempotency import (
    Busy,
    Earlier,
    Started,
    abandon,
    begin,
    finish,
    key_in_use,
    key_reused,
)
from revteam.web.deps import authorize
from revteam.web.errors import render_error
from revteam.web.principal import app_now, is_api_path
from revteam.web.sessions import session_token

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _caller(scope: Scope) -> str | None:
    """A digest of the credential: the bearer token, else the session cookie (not the other cookies)."""
    credential = Headers(scope=scope).get("authorization") or session_token(Request(scope))
    return hashlib.sha256(credential.encode()).hexdigest() if credential else None


class IdempotencyKeys:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key, caller = headers.get("idempotency-key"), _caller(scope)
        if key is None or caller is None:  # no key, or nobody to keep it for (the call gets its 401)
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        sessions = app.state.runtime.sessions
        fingerprint = hashlib.sha256(f"{scope['method']} {scope['path']}?{scope.get('query_string', b'').decode()}\n"
                                     .encode())
        try:
            begun = await run_in_threadpool(begin, sessions, caller=caller, key=key, method=scope["method"],
                                            path=scope["path"], now=app_now(app))
        except RevteamError as e:
            await self._error(scope, receive, send, e)
            return
        if isinstance(begun, Busy):
            await self._error(scope, receive, send, key_in_use())
            return
        if isinstance(begun, Earlier):
            try:  # the caller must still pass the route's access check: a revoked token replays nothing
                body = await self._authorized_body(scope, receive)
            except RevteamError as e:
                await self._error(scope, receive, send, e)
                return
            fingerprint.update(body)  # compared with the first request's; nothing runs
            if begun.fingerprint != fingerprint.hexdigest():
                await self._error(scope, receive, send, key_reused())
                return
            response_headers = [(b"idempotent-replayed", b"true"), (b"content-length", str(len(begun.body)).encode())]
            if begun.content_type:
                response_headers.append((b"content-type", begun.content_type.encode()))
            await send({"type": "http.response.start", "status": begun.status_code, "headers": response_headers})
            await send({"type": "http.response.body", "body": begun.body})
            return
        await self._run(scope, receive, send, begun, fingerprint, sessions, app)

    async def _run(self, scope: Scope, receive: Receive, send: Send, begun: Started, fingerprint: Any,
                   sessions: Any, app: Any) -> None:
        answer: dict[str, Any] = {"status": 500, "content_type": None, "body": bytearray(), "kept": False}

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                fingerprint.update(message.get("body", b""))
            return message

        async def keeping_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                answer["content_type"] = Headers(raw=message.get("headers", [])).get("content-type")
            elif message["type"] == "http.response.body":
                answer["body"].extend(message.get("body", b""))
                if not message.get("more_body", False):
                    # settled before the last byte leaves: a client that has the answer can replay it (2xx)
                    # or retry the key (an error) at once
                    if 200 <= answer["status"] < 300:
                        await run_in_threadpool(finish, sessions, begun.id, fingerprint=fingerprint.hexdigest(),
                                                status_code=answer["status"], content_type=answer["content_type"],
                                                body=bytes(answer["body"]), now=app_now(app))
                    else:
                        await run_in_threadpool(abandon, sessions, begun.id)
                    answer["kept"] = True
            await send(message)

        try:
            await self.app(scope, hashing_receive, keeping_send)
        except BaseException:
            if not answer["kept"]:
                await run_in_threadpool(abandon, sessions, begun.id)
            raise
        if not answer["kept"]:
            await run_in_threadpool(abandon, sessions, begun.id)

    async def _authorized_body(self, scope: Scope, receive: Receive) -> bytes:
        """The request body, after the same check the route itself runs (``web/deps.authorize``: token
        revoked or expired, its scope, the person's role for the route, text rules); raises its error."""
        routed = dict(scope)
        for route in iter_route_contexts(scope["app"].routes):  # the route the request would reach (full path)
            regex, _, convertors = compile_path(route.path)
            found = regex.match(scope["path"])
            if found and scope["method"] in (route.methods or ()):
                routed["route"] = route
                routed["path_params"] = {k: convertors[k].convert(v) for k, v in found.groupdict().items()}
                break
        request = Request(routed, receive)
        await authorize(request, app_now(scope["app"]))
        return await request.body()

    async def _error(self, scope: Scope, receive: Receive, send: Send, err: RevteamError) -> None:
        response = await render_error(Request(scope, receive), err)
        await response(scope, receive, send)
