"""The accounts list (search, filters, pages) and an account's timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from revteam.services.record.lifecycle import stage_labels
from revteam.services.record.listing import AccountFilters, account_choices, account_contacts, list_accounts, owner_choices
from revteam.services.record.timeline import account_timeline
from revteam.web.deps import CurrentUser, SessionDep, SettingsDep
from revteam.web.pages.listing import blank_to_none, default_owner, render_list
from revteam.web.pages.timelines import render_timeline

router = APIRouter(include_in_schema=False)


@router.get("/accounts", name="accounts.list", response_class=HTMLResponse)
def accounts_list(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    me: CurrentUser,
    q: Annotated[str, Query(max_length=200)] = "",
    segment: Annotated[str, Query(max_length=80)] = "",
    region: Annotated[str, Query(max_length=80)] = "",
    industry: Annotated[str, Query(max_length=80)] = "",
    owner: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    owner = default_owner(me, owner)
    filters = AccountFilters(blank_to_none(q), blank_to_none(segment), blank_to_none(region), blank_to_none(industry), owner)
    result = list_accounts(db, filters, me_id=me.id, page=page, page_size=settings.page_size)
    choices = account_choices(db)
    context = {
        "result": result,
        "filters": filters,
        "segments": choices.segments,
        "regions": choices.regions,
        "industries": choices.industries,
        "owners": owner_choices(db),
    }
    return render_list(request, "accounts.html", "_accounts_results.html", context)


@router.get("/accounts/{account_id}", name="accounts.timeline", response_class=HTMLResponse)
def account_page(
    request: Request, db: SessionDep, me: CurrentUser, account_id: int, order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc"
) -> HTMLResponse:
    timeline = account_timeline(db, account_id)
    return render_timeline(request, timeline, labels=stage_labels(db), order=order,
                           contacts=account_contacts(db, account_id))
