"""What the three list pages share: the reps' "mine" default and htmx partial rendering."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from revteam.domain.roles import REPS
from revteam.services.people import User
from revteam.web.templating import render

RESULTS_ID = "results"


def default_owner(me: User, owner: str | None) -> str:
    """Reps (SDR, AE) see their own records first; everyone else sees everyone's."""
    if owner is None:
        return "me" if me.role in REPS else "any"
    return owner


def wants_results_only(request: Request) -> bool:
    """htmx asked for the results block only (search, filter and paging swap just that block)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-Target") == RESULTS_ID
        and not request.headers.get("HX-History-Restore-Request")
    )


def render_list(request: Request, page_template: str, results_template: str, context: dict[str, Any]) -> HTMLResponse:
    template = results_template if wants_results_only(request) else page_template
    response = render(request, template, context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None
