"""The contacts list (search, filters, pages) and a contact's timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from revteam.services.record.lifecycle import stage_labels
from revteam.domain.ids import MAX_ID
from revteam.services.record.listing import ContactFilters, contact_sources, find_account, list_contacts, owner_choices
from revteam.services.record.timeline import contact_timeline
from revteam.web.deps import CurrentUser, SessionDep, SettingsDep
from revteam.web.pages.listing import blank_to_none, default_owner, render_list
from revteam.web.pages.timelines import render_timeline

router = APIRouter(include_in_schema=False)


@router.get("/contacts", name="contacts.list", response_class=HTMLResponse)
def contacts_list(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    me: CurrentUser,
    q: Annotated[str, Query(max_length=200)] = "",
    stage: Annotated[str, Query(max_length=40)] = "",
    source: Annotated[str, Query(max_length=80)] = "",
    owner: Annotated[str | None, Query(max_length=20)] = None,
    account: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    owner = default_owner(me, owner)
    filters = ContactFilters(blank_to_none(q), blank_to_none(stage), blank_to_none(source), owner, account)
    result = list_contacts(db, filters, me_id=me.id, page=page, page_size=settings.page_size)
    context = {
        "result": result,
        "filters": filters,
        "labels": stage_labels(db),
        "sources": contact_sources(db),
        "owners": owner_choices(db),
        "account_row": find_account(db, account),
    }
    return render_list(request, "contacts.html", "_contacts_results.html", context)


@router.get("/contacts/{contact_id}", name="contacts.timeline", response_class=HTMLResponse)
def contact_page(
    request: Request, db: SessionDep, me: CurrentUser, contact_id: int, order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc"
) -> HTMLResponse:
    timeline = contact_timeline(db, contact_id)
    return render_timeline(request, timeline, labels=stage_labels(db), order=order)
