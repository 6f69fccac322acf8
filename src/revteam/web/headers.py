"""Security headers on every response (pure ASGI middleware, so streaming responses keep streaming).

* ``Content-Security-Policy``: scripts and everything else only from this server (htmx, the app
  script and Swagger UI are vendored under ``/static``); no inline scripts. Inline *styles* are
  allowed because the bar charts set their widths with ``style``.
* No framing (clickjacking), no MIME sniffing, the referrer never leaves the site.
* ``Strict-Transport-Security`` (HSTS, ``max-age=REVTEAM_HSTS_SECONDS``, plus ``includeSubDomains`` only
  with ``REVTEAM_HSTS_INCLUDE_SUBDOMAINS=true``) in production
  and on every request that arrived over HTTPS (the scheme a trusted proxy reports counts, see
  ``REVTEAM_TRUSTED_PROXIES``), so a browser never again talks plain HTTP to the site.
* Pages and API answers are ``Cache-Control: no-store``: they hold customer data and must not stay
  in shared or browser caches. Static files are cacheable (their URLs carry the version).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
ALWAYS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 0, production: bool = False,
                 include_subdomains: bool = False) -> None:
        self.app = app
        subdomains = "; includeSubDomains" if include_subdomains else ""
        self.hsts = f"max-age={hsts_seconds}{subdomains}" if hsts_seconds > 0 else None
        self.production = production

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope.get("path", "").startswith("/static/")
        hsts = self.hsts if self.hsts and (self.production or scope.get("scheme") == "https") else None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers.setdefault(name, value)
                if hsts:
                    headers.setdefault("Strict-Transport-Security", hsts)
                if is_static:
                    headers.setdefault("Cache-Control", "public, max-age=86400")
                else:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)
