"""The record lists (accounts, contacts, deals): filters, search and pagination; the choices their
filters offer; an account's contacts; the campaigns with the people they touched.

One query per list, used by the pages and by the JSON API, so both always agree. Search is a
case-insensitive substring match (``%`` and ``_`` in the search text are literal). The owner filter
takes ``any`` (everyone), ``me``, ``none`` (unassigned) or a user id; reps' pages default to ``me``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, true
from sqlalchemy.orm import Session, selectinload

from revteam.domain.ids import MAX_ID, id_from_text
from revteam.errors import InvalidInput
from revteam.store.date_range import sane
from revteam.store.models import DEAL_OUTCOMES, Account, Campaign, Contact, Deal, Touchpoint, User

# DEAL_OUTCOMES, Account, Contact and Deal are also what the faces import from here (they never import the store)

T = TypeVar("T")
MAX_PAGE_SIZE = 500


@dataclass
class PageOf(Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.page_size + 1

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.page_size)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def _search(q: str | None, *columns: Any) -> ColumnElement[bool] | None:
    text = (q or "").strip()
    if not text:
        return None
    return or_(*(c.icontains(text, autoescape=True) for c in columns))


def owner_clause(column: Any, owner: str | None, me_id: int | None) -> ColumnElement[bool] | None:
    value = (owner or "any").strip().lower()
    if value in ("", "any"):
        return None
    if value == "me":
        return column == me_id
    if value == "none":
        return column.is_(None)
    user_id = id_from_text(value)
    if user_id is not None:
        return column == user_id
    raise InvalidInput(f"Unknown owner filter {owner!r}; use any, me, none or a user id (1 to {MAX_ID:,}).",
                       code="bad_owner_filter")


def _page(session: Session, stmt: Select[Any], where: list[Any], page: int, page_size: int) -> tuple[list[Any], int]:
    if page < 1:
        raise InvalidInput("page starts at 1.", code="bad_page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be between 1 and {MAX_PAGE_SIZE}.", code="bad_page_size")
    cond = and_(true(), *where)
    total = session.scalar(select(func.count()).select_from(stmt.where(cond).order_by(None).subquery())) or 0
    rows = list(session.execute(stmt.where(cond).limit(page_size).offset((page - 1) * page_size)).all())
    return rows, int(total)


def _clauses(*items: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    return [c for c in items if c is not None]


def _eq(column: Any, value: str | None) -> ColumnElement[bool] | None:
    return None if value is None or value == "" else column == value


# ---------------------------------------------------------------- accounts
@dataclass
class AccountFilters:
    q: str | None = None
    segment: str | None = None
    region: str | None = None
    industry: str | None = None
    owner: str | None = None


@dataclass
class AccountRow:
    account: Account
    contacts: int
    open_deals: int


def list_accounts(session: Session, f: AccountFilters, *, me_id: int | None, page: int, page_size: int) -> PageOf[AccountRow]:
    contacts = select(func.count()).where(Contact.account_id == Account.id).correlate(Account).scalar_subquery()
    open_deals = (
        select(func.count()).where(Deal.account_id == Account.id, Deal.outcome == "open").correlate(Account).scalar_subquery()
    )
    stmt = (
        select(Account, contacts.label("contacts"), open_deals.label("open_deals"))
        .options(selectinload(Account.owner))
        .order_by(func.lower(Account.name), Account.id)
    )
    where = _clauses(
        _search(f.q, Account.name, Account.domain),
        _eq(Account.segment, f.segment),
        _eq(Account.region, f.region),
        _eq(Account.industry, f.industry),
        owner_clause(Account.owner_id, f.owner, me_id),
    )
    rows, total = _page(session, stmt, where, page, page_size)
    return PageOf([AccountRow(a, int(c or 0), int(o or 0)) for a, c, o in rows], page, page_size, total)


# ---------------------------------------------------------------- contacts
@dataclass
class ContactFilters:
    q: str | None = None
    stage: str | None = None
    source: str | None = None
    owner: str | None = None
    account: int | None = None


def list_contacts(session: Session, f: ContactFilters, *, me_id: int | None, page: int, page_size: int) -> PageOf[Contact]:
    full_name = func.coalesce(Contact.first_name, "") + " " + func.coalesce(Contact.last_name, "")
    stmt = (
        select(Contact)
        .options(selectinload(Contact.owner), selectinload(Contact.account))
        .order_by(Contact.stage_changed_at.desc().nulls_last(), Contact.id.desc())
    )
    where = _clauses(
        _search(f.q, full_name, Contact.email, Contact.title),
        _eq(Contact.stage, f.stage),
        _eq(Contact.original_source, f.source),
        owner_clause(Contact.owner_id, f.owner, me_id),
        None if f.account is None else Contact.account_id == f.account,
    )
    rows, total = _page(session, stmt, where, page, page_size)
    return PageOf([r[0] for r in rows], page, page_size, total)


# ---------------------------------------------------------------- deals
@dataclass
class DealFilters:
    q: str | None = None
    outcome: str | None = None
    owner: str | None = None
    account: int | None = None


@dataclass
class DealPage:
    page: PageOf[Deal]
    totals: dict[str, Decimal] = field(default_factory=dict)  # amount per currency over all matching deals


def list_deals(session: Session, f: DealFilters, *, me_id: int | None, page: int, page_size: int) -> DealPage:
    if f.outcome and f.outcome not in DEAL_OUTCOMES:
        raise InvalidInput(f"Unknown outcome {f.outcome!r}; use one of: {', '.join(DEAL_OUTCOMES)}.", code="bad_outcome")
    stmt = (
        select(Deal)
        .outerjoin(Account, Account.id == Deal.account_id)
        .options(selectinload(Deal.owner), selectinload(Deal.account))
        .order_by(Deal.created_on.desc(), Deal.id.desc())
    )
    where = _clauses(
        _search(f.q, Deal.name, Account.name),
        _eq(Deal.outcome, f.outcome),
        owner_clause(Deal.owner_id, f.owner, me_id),
        None if f.account is None else Deal.account_id == f.account,
    )
    rows, total = _page(session, stmt, where, page, page_size)
    sums = session.execute(
        select(Deal.currency, func.coalesce(func.sum(Deal.amount), 0))
        .outerjoin(Account, Account.id == Deal.account_id)
        .where(and_(true(), *where))
        .group_by(Deal.currency)
    ).all()
    totals = {cur: Decimal(str(amount)) for cur, amount in sums}
    return DealPage(PageOf([r[0] for r in rows], page, page_size, total), totals)


# ---------------------------------------------------------------- filter choices
def distinct_values(session: Session, column: Any, limit: int = 300) -> list[str]:
    rows = session.scalars(select(column).where(column.is_not(None)).distinct().order_by(column).limit(limit))
    return [r for r in rows if r != ""]


@dataclass
class AccountChoices:
    segments: list[str]
    regions: list[str]
    industries: list[str]


def account_choices(session: Session) -> AccountChoices:
    """The values the accounts list's filters offer."""
    return AccountChoices(distinct_values(session, Account.segment), distinct_values(session, Account.region),
                          distinct_values(session, Account.industry))


def contact_sources(session: Session) -> list[str]:
    """The original sources the contacts list's filter offers."""
    return distinct_values(session, Contact.original_source)


def owner_choices(session: Session) -> list[User]:
    return list(session.scalars(select(User).where(User.is_active.is_(True)).order_by(User.name)))


def find_account(session: Session, account_id: int | None) -> Account | None:
    """The account a list is narrowed to (None when there is none, or no such account)."""
    return session.get(Account, account_id) if account_id else None


def account_contacts(session: Session, account_id: int, limit: int = 25) -> list[Contact]:
    """An account's contacts, the most recently moved first (beside its timeline)."""
    return list(session.scalars(select(Contact).where(Contact.account_id == account_id)
                                .order_by(Contact.stage_changed_at.desc()).limit(limit)))


# ---------------------------------------------------------------- campaigns
@dataclass
class CampaignRow:
    campaign: Campaign
    people: int
    last_touch: datetime | None


def campaigns_touched(session: Session, limit: int = 200) -> list[CampaignRow]:
    """Campaigns with the number of people they touched, the most recently active first."""
    last_touch = func.max(sane(Touchpoint.occurred_at))  # a touch dated "3000" is not the latest activity
    q = (select(Campaign, func.count(func.distinct(Touchpoint.contact_id)), last_touch)
         .outerjoin(Touchpoint, Touchpoint.campaign_id == Campaign.id)
         .group_by(Campaign.id)
         .order_by(last_touch.desc().nulls_last(), Campaign.name)
         .limit(limit))
    return [CampaignRow(c, int(n or 0), last) for c, n, last in session.execute(q)]
