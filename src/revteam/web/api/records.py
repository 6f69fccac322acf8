"""Reading the record over the API: stats, the three lists (same filters as the pages), timelines.

Unlike the pages, the lists do not default to "mine" for reps: a program asks for what it wants
(``owner=me`` works with the token's user).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from revteam.domain.ids import MAX_ID
from revteam.services.people import User
from revteam.services.record.listing import (
    MAX_PAGE_SIZE,
    Account,
    AccountFilters,
    AccountRow,
    Contact,
    ContactFilters,
    Deal,
    DealFilters,
    list_accounts,
    list_contacts,
    list_deals,
)
from revteam.services.record.stats import record_stats
from revteam.services.record.timeline import account_timeline, contact_timeline
from revteam.web.api.models import (
    ERROR_RESPONSES,
    AccountOut,
    AccountPage,
    ContactOut,
    ContactPage,
    DealOut,
    DealPage,
    IdPath,
    OwnerOut,
    StatsOut,
    TimelineOut,
    not_found,
)
from revteam.web.deps import CurrentUser, SessionDep

router = APIRouter(responses=ERROR_RESPONSES)

Page = Annotated[int, Query(ge=1, le=1_000_000, description="1-based page number")]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Rows per page")]
Owner = Annotated[str, Query(max_length=20, description="any, me, none (unassigned) or a user id")]
Search = Annotated[str | None, Query(max_length=200)]


def _owner(user: User | None) -> OwnerOut | None:
    return OwnerOut(id=user.id, name=user.name) if user else None


def _account(row: AccountRow) -> AccountOut:
    a: Account = row.account
    return AccountOut(
        id=a.id, name=a.name, domain=a.domain, industry=a.industry, employees=a.employees, size_band=a.size_band,
        region=a.region, segment=a.segment, owner=_owner(a.owner), contacts=row.contacts, open_deals=row.open_deals,
        source_system=a.source_system, external_id=a.external_id, created_at=a.created_at,
    )


def _contact(c: Contact) -> ContactOut:
    return ContactOut(
        id=c.id, email=c.email, name=c.display_name, first_name=c.first_name, last_name=c.last_name, title=c.title,
        account_id=c.account_id, account_name=c.account.name if c.account else None, stage=c.stage,
        stage_changed_at=c.stage_changed_at, original_source=c.original_source, persona=c.persona, consent=c.consent,
        owner=_owner(c.owner), source_system=c.source_system, external_id=c.external_id, created_at=c.created_at,
    )


def _deal(d: Deal) -> DealOut:
    return DealOut(
        id=d.id, name=d.name, account_id=d.account_id, account_name=d.account.name if d.account else None,
        amount=float(d.amount), currency=d.currency, stage=d.stage, outcome=d.outcome, lost_reason=d.lost_reason,
        created_on=d.created_on, expected_close_on=d.expected_close_on, closed_on=d.closed_on, owner=_owner(d.owner),
        source=d.source, source_system=d.source_system, external_id=d.external_id,
    )


@router.get("/stats", name="api.stats", response_model=StatsOut, summary="Record counts and contacts per stage")
def stats(db: SessionDep, me: CurrentUser) -> StatsOut:
    return StatsOut(**record_stats(db))


@router.get("/accounts", name="api.accounts.list", response_model=AccountPage, summary="List accounts")
def accounts(
    db: SessionDep, me: CurrentUser, q: Search = None,
    segment: str | None = None, region: str | None = None, industry: str | None = None,
    owner: Owner = "any", page: Page = 1, page_size: PageSize = 50,
) -> AccountPage:
    """Search matches name or domain; filters match exactly. Sorted by name."""
    result = list_accounts(db, AccountFilters(q, segment, region, industry, owner), me_id=me.id, page=page,
                           page_size=page_size)
    return AccountPage(items=[_account(r) for r in result.items], page=page, page_size=page_size,
                       total=result.total, pages=result.pages)


@router.get("/contacts", name="api.contacts.list", response_model=ContactPage, summary="List contacts")
def contacts(
    db: SessionDep, me: CurrentUser, q: Search = None,
    stage: str | None = None, source: Annotated[str | None, Query(description="Original source")] = None,
    owner: Owner = "any", account: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Account id")] = None,
    page: Page = 1, page_size: PageSize = 50,
) -> ContactPage:
    """Search matches name, e-mail or title. Most recent stage change first."""
    result = list_contacts(db, ContactFilters(q, stage, source, owner, account), me_id=me.id, page=page,
                           page_size=page_size)
    return ContactPage(items=[_contact(c) for c in result.items], page=page, page_size=page_size,
                       total=result.total, pages=result.pages)


@router.get("/deals", name="api.deals.list", response_model=DealPage, summary="List deals")
def deals(
    db: SessionDep, me: CurrentUser, q: Search = None,
    outcome: Annotated[str | None, Query(pattern="^(open|won|lost)$")] = None,
    owner: Owner = "any", account: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Account id")] = None,
    page: Page = 1, page_size: PageSize = 50,
) -> DealPage:
    """Search matches the deal or account name. Newest first."""
    result = list_deals(db, DealFilters(q, outcome, owner, account), me_id=me.id, page=page, page_size=page_size)
    p = result.page
    return DealPage(items=[_deal(d) for d in p.items], page=page, page_size=page_size, total=p.total, pages=p.pages,
                    totals={k: float(v) for k, v in result.totals.items()})


@router.get("/contacts/{contact_id}/timeline", name="api.contacts.timeline", response_model=TimelineOut,
            summary="A contact's lifecycle timeline", responses=not_found("No such contact"))
def contact_tl(db: SessionDep, me: CurrentUser, contact_id: IdPath,
               limit: Annotated[int, Query(ge=1, le=5000, description="Most recent touches")] = 500) -> TimelineOut:
    return TimelineOut(**contact_timeline(db, contact_id, limit=limit).to_dict())


@router.get("/accounts/{account_id}/timeline", name="api.accounts.timeline", response_model=TimelineOut,
            summary="An account's lifecycle timeline", responses=not_found("No such account"))
def account_tl(db: SessionDep, me: CurrentUser, account_id: IdPath,
               limit: Annotated[int, Query(ge=1, le=5000, description="Most recent touches")] = 1000) -> TimelineOut:
    return TimelineOut(**account_timeline(db, account_id, limit=limit).to_dict())
