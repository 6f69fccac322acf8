"""The API description: ``/openapi.json`` and ``/docs`` for people logged in, ``/api/v1/openapi.json``
for programs with a token. Swagger UI is served from ``static/swagger`` (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from revteam.web.deps import CurrentUser
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)
api_router = APIRouter(include_in_schema=False)


@router.get("/docs", name="apidocs.page", response_class=HTMLResponse)
def docs_page(request: Request, me: CurrentUser) -> HTMLResponse:
    return render(request, "apidocs.html", {"spec_url": "/openapi.json"})


@router.get("/openapi.json", name="apidocs.spec")
def spec_for_people(request: Request, me: CurrentUser) -> JSONResponse:
    return JSONResponse(request.app.openapi())


@api_router.get("/openapi.json", name="api.spec")
def spec_for_programs(request: Request, me: CurrentUser) -> JSONResponse:
    return JSONResponse(request.app.openapi())
