"""The app factory: ``create_app(runtime) -> FastAPI``.

Wires the routers (one per area), the static files, the error handlers, the security headers (HSTS in
production and over HTTPS), the proxy headers of trusted proxies (``REVTEAM_TRUSTED_PROXIES``: uvicorn's
``ProxyHeadersMiddleware``, so the client address and scheme are the real ones) and
the app-wide ``authorize`` dependency that applies ``policy.POLICY`` to every route. While it serves, the
analytics warm-up thread runs (``web/warm.py``, ``REVTEAM_WARM_ANALYTICS``). Request bodies
are capped (``web/limits.py``): page forms at 1 MiB, touchpoint batches at 32 MiB, imports at
``max_upload_mb``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from revteam import __version__
from revteam.runtime import Runtime, build_runtime
from revteam.web import auth
from revteam.web.api import analytics as api_analytics
from revteam.web.api import handoff as api_handoff
from revteam.web.api import ingest as api_ingest
from revteam.web.api import privacy as api_privacy
from revteam.web.api import records as api_records
from revteam.web.api import reports as api_reports
from revteam.web.api import settings as api_settings
from revteam.web.api import tokens as api_tokens
from revteam.web.api.idempotency import IdempotencyKeys
from revteam.web.api.models import TouchpointEvent
from revteam.web.deps import authorize
from revteam.web.errors import install_error_handlers
from revteam.web.headers import SecurityHeaders
from revteam.web.limits import BodyLimit, BodyLimits
from revteam.web.pages import (
    accounts,
    agreement,
    analytics,
    apidocs,
    contacts,
    deals,
    disputes,
    home,
    imports,
    inbox,
    notifications,
    privacy,
    reports,
    scoring,
    tokens,
    users,
)
from revteam.web.templating import STATIC_DIR
from revteam.web.uploads import MIB, import_body_limit
from revteam.web.warm import Warmer

API_PREFIX = "/api/v1"
PAGE_BODY_LIMIT = 1 * MIB
TOUCHPOINT_BODY_LIMIT = 32 * MIB

DESCRIPTION = """\
The revteam JSON API: the shared revenue record (accounts, contacts, deals, timelines), the way data
comes in (touchpoint events, file imports), the handoff from marketing to sales (the lead inbox and
its actions, disputes, SLA reports, campaign follow-up, the scoring model, the SLA agreement and
notification settings), and every analytics answer (`/api/v1/analytics/...`: funnel, attribution,
content ROI, revenue, the forecast, the handoff reports; the same numbers as the pages and the CLI).

**Authentication.** Every call sends `Authorization: Bearer <token>`. People create their own tokens on
their API tokens page (`/tokens`); admins issue tokens for service accounts on the Users page or with
`revteam users token EMAIL`. A token has a scope (`read`: the GET routes; `ingest`: touchpoints and
imports; `full`: everything its user's role allows) and an expiry. A missing, unknown, revoked or expired
token gets 401; a role that may not use an endpoint, or a token whose scope does not cover it, gets 403
(touchpoints and imports: admin and marketing; the inbox: reps, leaders and admins; disputes: marketing
opens, the committee votes; the SLA: leaders and admins propose and sign; the scoring model: marketing
and admins change it, leaders read it). The privacy routes (`/api/v1/privacy/...`: a person's export,
erase, lift) are for admins with a `full` token only: an export is personal data, so a `read` token
may not fetch it.

**Errors** are JSON `{"code": "...", "message": "...", "details": ...}`. Invalid rows give 422 with
`details` = a list of `{"row", "column", "message", "value"}`, and nothing is written.
"""


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema.setdefault("components", {})
        components.setdefault("securitySchemes", {})["bearerAuth"] = {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token (rvt_...) from your API tokens page (/tokens), or for a service account "
            "from the Users page or `revteam users token`.",
        }
        components.setdefault("schemas", {})["TouchpointEvent"] = TouchpointEvent.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for path, operations in schema.get("paths", {}).items():
            if path.startswith(API_PREFIX):
                for operation in operations.values():
                    operation["security"] = [{"bearerAuth": []}]
        app.openapi_schema = schema
    return app.openapi_schema


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves: the analytics warm-up thread (``web/warm.py``), when the settings turn it on."""
    runtime: Runtime = app.state.runtime
    warmer = None
    if runtime.settings.warm_analytics:
        warmer = Warmer(runtime, interval=runtime.settings.warm_interval_seconds).start()
    app.state.warmer = warmer
    try:
        yield
    finally:
        if warmer is not None:
            warmer.stop()


def create_app(runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or build_runtime()
    settings = runtime.settings
    app = FastAPI(
        title="revteam",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=None,  # served by pages/apidocs.py, behind the access policy
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(authorize)],
        lifespan=_lifespan,
    )
    app.state.runtime = runtime
    app.state.warmer = None
    install_error_handlers(app)
    upload_limit = import_body_limit(settings.max_upload_mb)
    limits = BodyLimits(
        default=PAGE_BODY_LIMIT,
        by_path=(("/imports", upload_limit), (f"{API_PREFIX}/imports", upload_limit),
                 (f"{API_PREFIX}/touchpoints", TOUCHPOINT_BODY_LIMIT)),
    )
    app.add_middleware(IdempotencyKeys)  # inside the body limits: a refused body is never remembered
    app.add_middleware(BodyLimit, limits=limits, upload_mb=settings.max_upload_mb)
    app.add_middleware(SecurityHeaders, hsts_seconds=settings.hsts_seconds, production=settings.is_production,
                       include_subdomains=settings.hsts_include_subdomains)
    if settings.trusted_proxies.strip():  # outermost: every layer sees the client's address and scheme
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    for module in (auth, home, accounts, contacts, deals, users, apidocs, inbox, reports, disputes, scoring, agreement,
                   notifications, analytics, tokens, privacy):
        app.include_router(module.router, max_body_size=PAGE_BODY_LIMIT)
    app.include_router(imports.router, max_body_size=upload_limit)

    app.include_router(apidocs.api_router, prefix=API_PREFIX, max_body_size=PAGE_BODY_LIMIT)
    app.include_router(api_records.router, prefix=API_PREFIX, tags=["record"], max_body_size=PAGE_BODY_LIMIT)
    app.include_router(api_ingest.touchpoints_router, prefix=API_PREFIX, tags=["data in"],
                       max_body_size=TOUCHPOINT_BODY_LIMIT)
    app.include_router(api_ingest.imports_router, prefix=API_PREFIX, tags=["data in"], max_body_size=upload_limit)
    app.include_router(api_handoff.router, prefix=API_PREFIX, tags=["handoff"], max_body_size=PAGE_BODY_LIMIT)
    app.include_router(api_reports.router, prefix=API_PREFIX, tags=["handoff reports"], max_body_size=PAGE_BODY_LIMIT)
    app.include_router(api_analytics.router, prefix=API_PREFIX, tags=["analytics"], max_body_size=PAGE_BODY_LIMIT)
    app.include_router(api_settings.scoring_router, prefix=API_PREFIX, tags=["scoring"], max_body_size=PAGE_BODY_LIMIT)
    app.include_router(api_settings.agreement_router, prefix=API_PREFIX, tags=["SLA agreement"],
                       max_body_size=PAGE_BODY_LIMIT)
    app.include_router(api_settings.notifications_router, prefix=API_PREFIX, tags=["notifications"],
                       max_body_size=PAGE_BODY_LIMIT)
    app.include_router(api_tokens.router, prefix=API_PREFIX, tags=["access"], max_body_size=PAGE_BODY_LIMIT)
    app.include_router(api_privacy.router, prefix=API_PREFIX, tags=["privacy"], max_body_size=PAGE_BODY_LIMIT)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app
