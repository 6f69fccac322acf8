"""The deals list: search (deal or account name), outcome and owner filters, totals, pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from revteam.domain.ids import MAX_ID
from revteam.services.record.listing import DEAL_OUTCOMES, DealFilters, find_account, list_deals, owner_choices
from revteam.web.deps import CurrentUser, SessionDep, SettingsDep
from revteam.web.pages.listing import blank_to_none, default_owner, render_list

router = APIRouter(include_in_schema=False)


@router.get("/deals", name="deals.list", response_class=HTMLResponse)
def deals_list(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    me: CurrentUser,
    q: Annotated[str, Query(max_length=200)] = "",
    outcome: Annotated[str, Query(max_length=10)] = "",
    owner: Annotated[str | None, Query(max_length=20)] = None,
    account: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    owner = default_owner(me, owner)
    filters = DealFilters(blank_to_none(q), blank_to_none(outcome), owner, account)
    result = list_deals(db, filters, me_id=me.id, page=page, page_size=settings.page_size)
    context = {
        "result": result.page,
        "totals": result.totals,
        "filters": filters,
        "outcomes": DEAL_OUTCOMES,
        "owners": owner_choices(db),
        "account_row": find_account(db, account),
    }
    return render_list(request, "deals.html", "_deals_results.html", context)
