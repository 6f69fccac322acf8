"""Request and response models of the handoff API (issue #3): the inbox and its actions, disputes, the
SLA reports, campaign follow-up, the scoring model, the agreement and notification settings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le
from pydantic import BaseModel, Field, StrictBool

from revteam.domain.ids import MAX_ID
from revteam.services.handoff.decide import SALES_TOUCH_TYPES
from revteam.web.api.models import JSON_NUMBER, JsonInt, JsonNumber

MINUTES_PER_YEAR = 525_600

Priority = Literal["hot", "warm", "cold"]
TouchType = Literal["sales_call", "sales_email", "meeting"]
Choice = Literal["return_to_sales", "uphold_rejection"]
Side = Literal["marketing", "sales"]
assert set(TouchType.__args__) == set(SALES_TOUCH_TYPES)  # type: ignore[attr-defined]


class UserRef(BaseModel):
    id: int
    name: str


# ---------------------------------------------------------------- the context packet
class ScoreReasonOut(BaseModel):
    points: float
    kind: str = Field(description="fit, engagement or fast_track")
    text: str = Field(examples=["+20 fit: decision-maker seniority (seniority 'director')"])


class ScoreOut(BaseModel):
    total: float
    fit: float
    engagement: float
    model_version: int
    reasons: list[ScoreReasonOut] | None = None


class RecentTouchOut(BaseModel):
    type: str
    at: datetime
    url: str | None = None
    campaign: str | None = None
    content: str | None = None


class ContentOut(BaseModel):
    title: str
    category: str | None = None


class OpenDealOut(BaseModel):
    name: str
    stage: str
    amount: float
    currency: str


class AccountBrief(BaseModel):
    name: str
    industry: str | None = None
    employees: int | None = None
    region: str | None = None
    segment: str | None = None
    open_deals: list[OpenDealOut] = []


class ContextOut(BaseModel):
    """What marketing knew when the lead was handed over."""

    score: ScoreOut | None = None
    recent_touches: list[RecentTouchOut] = []
    touch_count: int = 0
    persona: str | None = None
    title: str | None = None
    content_consumed: list[ContentOut] = []
    campaign: str | None = None
    source: str | None = None
    account: AccountBrief | None = None
    previous_owners: list[str] = []


# ---------------------------------------------------------------- handoffs
class ContactRef(BaseModel):
    id: int
    name: str
    title: str | None
    email: str | None
    account_id: int | None
    account_name: str | None


class ClockOut(BaseModel):
    state: str = Field(description="open, at_risk, breached (clock running), worked (stopped) or none (no SLA)")
    text: str = Field(examples=["due in 35 min", "overdue by 2 h"])
    due_at: datetime | None


class HandoffOut(BaseModel):
    id: int
    kind: str = Field(description="mql (marketing → SDR) or sql (SDR → AE)")
    status: str = Field(description="pending, accepted, rejected, recycled, returned or unassigned")
    priority: str
    contact: ContactRef
    rep: UserRef | None
    handed_at: datetime
    at_risk_at: datetime | None
    due_at: datetime | None
    first_touch_at: datetime | None
    decided_at: datetime | None
    clock: ClockOut
    score_total: float | None
    source: str | None
    campaign: str | None
    routing_rule: str | None
    routing_reason: str | None
    reject_reason: str | None
    reject_note: str | None
    recycle_until: date | None
    can_qualify: bool = Field(description="An accepted MQL not yet handed to an AE")
    context: ContextOut | None


class InboxCounts(BaseModel):
    pending: int
    breached: int
    at_risk: int
    to_qualify: int
    unassigned: int


class InboxOut(BaseModel):
    rep: UserRef | None = Field(description="Whose inbox; null: every rep's")
    counts: InboxCounts
    pending: list[HandoffOut] = Field(description="Most urgent first")
    to_qualify: list[HandoffOut] = Field(description="Accepted MQLs of the last 90 days not yet qualified to SQL")
    unassigned: list[HandoffOut] = Field(description="Leads no rep could take (every rep's inbox only)")


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=40, description="A reject reason code, e.g. bad_fit or not_ready")
    note: str = Field("", max_length=2000)
    recycle_until: date | None = Field(None, description="Required for reasons that send the lead back to nurture")


class TouchIn(BaseModel):
    type: TouchType
    note: str = Field("", max_length=2000)


class QualifyIn(BaseModel):
    note: str = Field("", max_length=2000, description="What the SDR confirmed; the AE reads it")


class ActionOut(BaseModel):
    message: str
    handoff: HandoffOut
    sql_handoff: HandoffOut | None = Field(None, description="After qualifying: the new SQL handoff to an AE")


# ---------------------------------------------------------------- rejections and disputes
class RejectedLeadOut(BaseModel):
    handoff: HandoffOut
    reason_label: str
    dispute_id: int | None


class VoteOut(BaseModel):
    member: UserRef
    choice: Choice | None = Field(description="null: not voted yet")
    reason: str | None
    voted_at: datetime | None


class RejectionOut(BaseModel):
    reason_label: str
    note: str | None
    by: UserRef | None
    at: datetime | None


class DisputeOut(BaseModel):
    id: int
    handoff: HandoffOut
    opened_by: UserRef | None
    opened_at: datetime
    reason: str
    rejection: RejectionOut
    committee: list[VoteOut]
    votes: dict[str, int] = Field(description="Votes so far per choice")
    needed: int = Field(description="Votes one side needs to decide (a strict majority of the committee)")
    outcome: Choice | None
    decided_at: datetime | None
    summary: str | None


class DisputeIn(BaseModel):
    handoff_id: JsonInt = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=4000, description="Why the rejection is wrong; the committee reads it")


class VoteIn(BaseModel):
    choice: Choice
    reason: str = Field(min_length=1, max_length=4000)


# ---------------------------------------------------------------- reports
class BoardItemOut(BaseModel):
    handoff_id: int
    contact_id: int
    contact: str
    rep: str | None
    priority: str
    due_at: datetime
    elapsed_minutes: float = Field(description="Business minutes since the handoff")


class BoardOut(BaseModel):
    at_risk: list[BoardItemOut]
    breached: list[BoardItemOut]


class ComplianceRowOut(BaseModel):
    name: str = Field(description="The rep or team; `all` for everyone")
    handoffs: int = Field(description="Handoffs whose clock stopped or ran out")
    worked_in_time: int
    breached: int
    share_in_time: float | None
    median_response_minutes: float | None = Field(description="Business minutes")
    open: int
    at_risk: int


class ComplianceOut(BaseModel):
    by: Literal["rep", "team"]
    days: int
    rows: list[ComplianceRowOut]


class PacingOut(BaseModel):
    committed: int
    delivered: int
    expected_to_date: float
    pace: float | None = Field(description="delivered / expected to date; 1.0 = on pace")
    projected: float = Field(description="Delivered by month end at this pace")


class DeliveryOut(BaseModel):
    in_force: bool = Field(description="False when no SLA is in force (nothing is committed)")
    mqls: PacingOut | None
    sals: PacingOut | None


class UnworkedLeadOut(BaseModel):
    handoff_id: int
    contact_id: int
    name: str
    priority: str
    handed_at: datetime
    due_at: datetime | None
    overdue: bool


class UnworkedRowOut(BaseModel):
    rep_id: int | None
    rep: str
    handed: int
    unworked: int
    sentence: str
    leads: list[UnworkedLeadOut]


class UnworkedOut(BaseModel):
    days: int
    rows: list[UnworkedRowOut]


class RejectionRateOut(BaseModel):
    key: str = Field(description="The source, campaign, reason code or rep")
    label: str
    handed: int
    decided: int
    rejected: int
    rejection_rate: float | None = Field(description="rejected / decided")


class RejectionsOut(BaseModel):
    by: Literal["source", "campaign", "reason", "rep"]
    days: int
    rows: list[RejectionRateOut]


class CampaignOut(BaseModel):
    id: int
    name: str
    channel: str
    type: str
    people: int = Field(description="People the campaign touched")
    last_touch: datetime | None


class NeverContactedOut(BaseModel):
    contact_id: int
    name: str


class FollowupOut(BaseModel):
    campaign_id: int
    name: str
    people: int
    contacted: int = Field(description="Contacted by sales after their first campaign touch")
    reached: dict[str, int] = Field(description="Reached each stage after it: mql, sal, sql, opportunity, customer")
    pipeline: float = Field(description="Open deals created since")
    revenue: float = Field(description="Won deals created since")
    never_contacted: list[NeverContactedOut] = Field(description="The first 50")


# ---------------------------------------------------------------- scoring
class ModelVersionOut(BaseModel):
    version: int
    name: str
    created_at: datetime
    created_by: UserRef | None
    note: str | None


class ScoringReviewOut(BaseModel):
    id: int
    source: str
    reason: str
    last_week: str
    summary: str
    opened_at: datetime


class ScoringModelOut(BaseModel):
    version: int
    name: str
    mql_threshold: float
    toml: str = Field(description="The model in force as TOML (what the editor shows and save accepts)")
    rules: dict[str, Any] = Field(description="The model as data: fit, engagement and fast_track rules")
    versions: list[ModelVersionOut]
    distribution: dict[str, int] = Field(description="Scored contacts per total-score band")
    open_reviews: list[ScoringReviewOut]


class ModelIn(BaseModel):
    toml: str = Field(min_length=1, max_length=200_000)
    note: str | None = Field(None, max_length=500)


class PreviewRowOut(BaseModel):
    source: str
    active_contacts: int
    mql_now: int
    mql_proposed: int
    change: int


class PreviewOut(BaseModel):
    days: int
    proposed_threshold: float
    rows: list[PreviewRowOut]


class SavedModelOut(BaseModel):
    version: int
    name: str
    mql_threshold: float


# ---------------------------------------------------------------- the agreement
Minutes = Annotated[float, Field(ge=0, le=MINUTES_PER_YEAR, allow_inf_nan=False), JSON_NUMBER]  # a year at most: no 1e400
class TermsModel(BaseModel):
    tz: str = Field(examples=["America/New_York"], max_length=64)
    weekdays: list[Annotated[int, Ge(0), Le(6), JSON_NUMBER]] = Field(description="0 = Monday … 6 = Sunday",
                                                              examples=[[0, 1, 2, 3, 4]])
    opens: str = Field(examples=["09:00"])
    closes: str = Field(examples=["17:00"])
    holidays: list[str] = Field([], description="ISO dates")
    response_minutes: dict[str, Minutes] = Field(description="Business minutes per priority (hot, warm, cold)",
                                                 examples=[{"hot": 60, "warm": 480, "cold": 960}])
    min_attempts: JsonInt = Field(3, ge=0, le=1000)
    attempts_within_minutes: Minutes = 1440
    at_risk_share: JsonNumber = Field(0.75, gt=0, lt=1)
    mqls_per_month: JsonInt = Field(0, ge=0, le=MAX_ID)
    sals_per_month: JsonInt = Field(0, ge=0, le=MAX_ID)


class SignoffOut(BaseModel):
    side: str
    user: UserRef
    signed_at: datetime


class AgreementOut(BaseModel):
    version: int
    status: Literal["in_force", "awaiting_signatures", "superseded"]
    text: str
    terms: TermsModel
    committee: list[UserRef]
    created_at: datetime
    created_by: UserRef | None
    in_force_at: datetime | None
    signoffs: list[SignoffOut]


class AgreementsOut(BaseModel):
    in_force: AgreementOut | None
    versions: list[AgreementOut] = Field(description="Newest first")


class ProposeIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    terms: TermsModel
    committee: list[Annotated[int, Ge(1), Le(MAX_ID), JSON_NUMBER]] = Field(min_length=1, max_length=100,
                                                                   description="User ids of leaders or admins")


class SignIn(BaseModel):
    side: Side


# ---------------------------------------------------------------- notifications
class GroupOut(BaseModel):
    id: int
    name: str
    event: str
    channel: str
    member: bool
    left_at: datetime | None


class NotificationsOut(BaseModel):
    events: list[str]
    channels: list[str]
    preferences: dict[str, list[str]] = Field(description="Channels per event; [] = muted")
    addresses: dict[str, str] = Field(description="Your chat addresses (Apprise URLs) per chat channel")
    groups: list[GroupOut]


class NotificationsIn(BaseModel):
    preferences: dict[str, list[str]] = Field({}, description="Events to change: their channels ([] mutes)")
    addresses: dict[str, str] = Field({}, description="Chat addresses to set; an empty string removes one")


class GroupIn(BaseModel):
    member: StrictBool = Field(description="true: join the group; false: leave it (not 0 or 1)")
