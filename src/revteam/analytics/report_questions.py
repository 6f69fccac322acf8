"""The handoff reports as questions to the analytics desk: SLA compliance and the SLA board, unworked
leads, rejection rates, campaign follow-up (definitions in docs/metrics/handoff.md).

Like the analytics questions (``analytics/questions.py``) each is a frozen dataclass checked when it is made,
with the codes the faces show. They read the handoff clocks as of ``now`` (the SLA's due times, what is at
risk this minute), so ``now`` is part of the question and the desk answers them fresh every time
(``cached = False``) rather than keeping an answer that is stale a minute later.

Worked example: ``Rejections(now=..., days=90, by="reason")`` is "of the MQLs handed over in the last 90
days, what share of everything sales decided did each reason reject"; ``by="planet"`` raises
``InvalidInput("Unknown grouping 'planet'; pick one of: source, campaign, reason, rep.", code="bad_group")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, ClassVar

from revteam.analytics.questions import Question, one_of
from revteam.errors import InvalidInput

MAX_DAYS = 366
COMPLIANCE_GROUPS = ("rep", "team")
REJECTION_GROUPS = ("source", "campaign", "reason", "rep")
REVIEW_RATE = 0.35  # above about 35 % rejected, the scoring usually needs recalibrating (PRODUCT.md field figures)
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def check_days(days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"Pick a period of 1 to {MAX_DAYS} days (not {days}).", code="bad_period")


def in_menu(days: int, menu: tuple[int, ...]) -> int:
    """A page offers a few periods: ``days`` must be one of them."""
    if days not in menu:
        raise InvalidInput(f"Pick a period of {', '.join(map(str, menu))} days.", code="bad_period")
    return days


@dataclass(frozen=True)
class SlaCompliance(Question[Any]):
    """Share of the handoffs of the last ``days`` days worked in time and the median response, per rep or
    team (sales against the SLA), and marketing's MQLs and SALs this month against its commitment."""

    name: ClassVar[str] = "reports/compliance"
    cached: ClassVar[bool] = False
    now: datetime = _EPOCH
    days: int = 30
    by: str = "rep"

    def __post_init__(self) -> None:
        check_days(self.days)
        one_of(self.by, COMPLIANCE_GROUPS, "grouping", "bad_group")


@dataclass(frozen=True)
class SlaBoard(Question[Any]):
    """The SLA board: leads at risk or overdue now, compliance per rep and per team over ``days`` days,
    marketing's delivery and the agreement in force; with ``rep_id``, only that rep's leads and row."""

    name: ClassVar[str] = "reports/board"
    cached: ClassVar[bool] = False
    now: datetime = _EPOCH
    days: int = 30
    rep_id: int | None = None

    def __post_init__(self) -> None:
        check_days(self.days)


@dataclass(frozen=True)
class Unworked(Question[Any]):
    """Leads handed over in the last ``days`` days that no one has touched yet, per rep (or one rep's)."""

    name: ClassVar[str] = "reports/unworked"
    cached: ClassVar[bool] = False
    now: datetime = _EPOCH
    days: int = 7
    rep_id: int | None = None

    def __post_init__(self) -> None:
        check_days(self.days)


@dataclass(frozen=True)
class Rejections(Question[Any]):
    """Handed, decided and rejected MQLs of the last ``days`` days and the rejection rate, per source, campaign,
    reason (each reason's share of everything decided) or rep; rates above ``REVIEW_RATE`` are flagged."""

    name: ClassVar[str] = "reports/rejections"
    cached: ClassVar[bool] = False
    now: datetime = _EPOCH
    days: int = 90
    by: str = "source"

    def __post_init__(self) -> None:
        check_days(self.days)
        one_of(self.by, REJECTION_GROUPS, "grouping", "bad_group")


@dataclass(frozen=True)
class CampaignFollowup(Question[Any]):
    """What happened to everyone a campaign touched: contacted by sales afterwards, the funnel stages they
    reached afterwards, the pipeline and revenue of their deals since. No ``campaign_id``: the most recently
    active campaign that touched anyone. The answer lists the campaigns to choose from."""

    name: ClassVar[str] = "reports/followup"
    cached: ClassVar[bool] = False
    campaign_id: int | None = None

    def __post_init__(self) -> None:
        if self.campaign_id is not None and self.campaign_id < 1:
            raise InvalidInput(f"A campaign id is 1 or more (not {self.campaign_id}).", code="bad_campaign")
