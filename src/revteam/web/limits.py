"""Request body size limits, per area, refused before the body is read.

A request whose ``Content-Length`` is over its limit gets the usual error page or JSON error (413)
at once. Bodies without a length (chunked) are capped by FastAPI's own ``max_body_size`` on the
routers (same numbers, see ``app.py``), which stops reading as soon as the limit is passed.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from revteam.web.errors import PayloadTooLarge, render_error

MIB = 1024 * 1024


@dataclass(frozen=True)
class BodyLimits:
    default: int  # page forms and everything not listed
    by_path: tuple[tuple[str, int], ...]  # exact path → limit

    def for_path(self, path: str) -> int:
        for prefix, limit in self.by_path:
            if path == prefix:
                return limit
        return self.default


def _describe(limit: int) -> str:
    return f"{limit / MIB:.0f} MiB" if limit >= MIB else f"{limit // 1024} KiB"


class BodyLimit:
    def __init__(self, app: ASGIApp, limits: BodyLimits, upload_mb: int) -> None:
        self.app = app
        self.limits = limits
        self.upload_mb = upload_mb

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            length = Headers(scope=scope).get("content-length")
            limit = self.limits.for_path(scope.get("path", ""))
            if length is not None and length.isdigit() and int(length) > limit:
                err = PayloadTooLarge(self._message(scope.get("path", ""), limit), code="too_large")
                response = await render_error(Request(scope, receive), err)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _message(self, path: str, limit: int) -> str:
        if path.endswith("/imports"):
            return (
                f"The upload is larger than {self.upload_mb} MiB, the most this server takes through the web "
                "(REVTEAM_MAX_UPLOAD_MB). Split the file, or import it on the server with `revteam import`."
            )
        if path.endswith("/touchpoints"):
            return f"The batch is larger than {_describe(limit)}; send fewer events per call (at most 10,000)."
        return f"The request is larger than {_describe(limit)}, the most this page accepts."
