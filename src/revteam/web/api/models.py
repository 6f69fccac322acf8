"""Request and response models of the JSON API: they are what ``/api/v1/openapi.json`` describes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from revteam.domain.ids import MAX_ID
from revteam.ingest.schemas import TOUCH_TYPES

MAX_EVENTS = 10_000



def _a_json_number(value: Any) -> Any:
    """JSON numbers only: ``false`` and ``"5"`` are not numbers (pydantic's lax mode would read 0 and 5), but
    ``5.0`` is the integer 5, as JSON Schema says."""
    if isinstance(value, (bool, str)):
        raise ValueError("a number is expected (not true, false or text)")  # noqa: TRY004 - pydantic reports ValueError
    return value


JSON_NUMBER = BeforeValidator(_a_json_number)  # last in an Annotated: constraints before it stay in the schema
JsonInt = Annotated[int, JSON_NUMBER]
JsonNumber = Annotated[float, JSON_NUMBER]

# every record id in a path or a query: 1 to 2,147,483,647 (PostgreSQL's integer keys); others are 422 at the edge
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


class ErrorOut(BaseModel):
    """Every API error: a stable code for programs, a sentence for people, and details when there are some.

    For invalid rows ``details`` is a list of ``{"row", "column", "message", "value"}`` (rows count from 1).
    """

    code: str = Field(examples=["import_rejected"])
    message: str = Field(examples=["2 invalid rows in the touchpoints file, nothing was written: ..."])
    details: Any = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or the token is unknown, revoked or its user deactivated."},
    403: {"model": ErrorOut, "description": "The token's user has a role that may not use this endpoint."},
    413: {"model": ErrorOut, "description": "The request body is larger than this endpoint accepts."},
    422: {"model": ErrorOut, "description": "Invalid input (also a body that is not JSON, nested too deeply, or with a "
                                            "NUL character or a lone surrogate in its text); `details` says where."},
}


def not_found(what: str) -> dict[int | str, dict[str, Any]]:
    """The 404 of an endpoint that names a record: ``responses={**not_found("No such deal")}``."""
    return {404: {"model": ErrorOut, "description": what}}


class OwnerOut(BaseModel):
    id: int
    name: str


class AccountOut(BaseModel):
    id: int
    name: str
    domain: str | None
    industry: str | None
    employees: int | None
    size_band: str | None
    region: str | None
    segment: str | None
    owner: OwnerOut | None
    contacts: int = Field(description="Contacts at this account")
    open_deals: int
    source_system: str
    external_id: str | None
    created_at: datetime


class ContactOut(BaseModel):
    id: int
    email: str | None
    name: str
    first_name: str | None
    last_name: str | None
    title: str | None
    account_id: int | None
    account_name: str | None
    stage: str = Field(description="Lifecycle stage key, e.g. `mql`")
    stage_changed_at: datetime | None
    original_source: str | None
    persona: str | None
    consent: str
    owner: OwnerOut | None
    source_system: str
    external_id: str | None
    created_at: datetime


class DealOut(BaseModel):
    id: int
    name: str
    account_id: int | None
    account_name: str | None
    amount: float = Field(description="In `currency`, two decimals")
    currency: str
    stage: str = Field(description="Pipeline stage name from the CRM")
    outcome: str = Field(description="open, won or lost")
    lost_reason: str | None
    created_on: date
    expected_close_on: date | None
    closed_on: date | None
    owner: OwnerOut | None
    source: str | None
    source_system: str
    external_id: str | None


class PageInfo(BaseModel):
    page: int
    page_size: int
    total: int = Field(description="Rows matching the filters, over all pages")
    pages: int


class AccountPage(PageInfo):
    items: list[AccountOut]


class ContactPage(PageInfo):
    items: list[ContactOut]


class DealPage(PageInfo):
    items: list[DealOut]
    totals: dict[str, float] = Field(description="Sum of `amount` per currency over all matching deals")


class StatsOut(BaseModel):
    counts: dict[str, int] = Field(description="Rows per entity")
    contacts_by_stage: dict[str, int] = Field(description="Contacts per lifecycle stage, in lifecycle order")
    deals_by_outcome: dict[str, int]
    won_revenue: float


class TimelineEventOut(BaseModel):
    at: datetime
    kind: str = Field(description="touch, stage, deal_created, deal_won, deal_lost or owner")
    title: str
    detail: dict[str, Any]
    contact_id: int | None


class TimelineOut(BaseModel):
    subject: str = Field(description="contact or account")
    id: int
    name: str
    stage: str | None
    owner: str | None
    facts: dict[str, Any]
    events: list[TimelineEventOut]


class RowErrorOut(BaseModel):
    row: int = Field(description="1-based row (or event) number; 0 for the file as a whole")
    column: str | None
    message: str
    value: str | None = None


class ImportReportOut(BaseModel):
    kind: str
    filename: str
    status: str = Field(description="written, dry_run or partial (with skip_invalid)")
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    warnings: list[RowErrorOut]
    errors: list[RowErrorOut] = Field(description="Rows left out (only with skip_invalid)")
    run_id: int | None


class ImportRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    filename: str
    status: str
    started_at: datetime
    rows: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    actor_user_id: int | None


class TouchpointEvent(BaseModel):
    """One thing a contact did. ``event_id`` makes retries safe: an event already stored is not stored twice."""

    event_id: str = Field(max_length=120, description="Your id of the event; unique per source_system")
    email: str | None = Field(None, description="The contact's e-mail (or give contact_external_id)")
    contact_external_id: str | None = Field(None, max_length=120, description="The contact's id in source_system")
    type: str = Field(description="One of: " + ", ".join(TOUCH_TYPES), json_schema_extra={"enum": list(TOUCH_TYPES)})
    occurred_at: datetime = Field(description="ISO 8601; without an offset it is taken as UTC")
    channel: str | None = Field(None, max_length=40, examples=["organic_search"])
    campaign: str | None = Field(None, max_length=120, description="External id of a known campaign")
    content: str | None = Field(None, max_length=120, description="External id of a known content piece")
    url: str | None = Field(None, max_length=2000)
    properties: dict[str, Any] | None = None
    actor_email: str | None = Field(None, description="The revteam user who made a sales touch")


# The events are validated by the import pipeline (the same rules as a touchpoints file, every row
# checked, all errors returned at once), so the body accepts any objects; the schema documents them.
_EVENTS_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": MAX_EVENTS,
    "items": {"$ref": "#/components/schemas/TouchpointEvent"},
}


class TouchpointBatchIn(BaseModel):
    source_system: str = Field(min_length=1, max_length=40, examples=["website"],
                               description="Who sends the events; event ids are unique per source system")
    events: Annotated[list[dict[str, Any]], WithJsonSchema(_EVENTS_SCHEMA)] = Field(
        max_length=MAX_EVENTS, description=f"1 to {MAX_EVENTS:,} events, all written or none"
    )
