"""Disputed rejections and the committee that decides them (PRODUCT.md R6).

Model
    Marketing disputes a rejected lead. The SLA names a committee of senior people from both teams.
    Each member votes once: ``return_to_sales`` (the rejection was wrong) or ``uphold_rejection``, with
    a reason. A dispute is decided as soon as one side has a strict majority of the whole committee;
    if every member has voted and neither side has a majority (a tie), the rejection stands (the status
    quo wins a tie). The decision names the votes that made it.

Worked example
    Committee of 4 (CRO, VP sales, head of marketing, demand-gen lead). Two vote return_to_sales: not
    decided (2 of 4 is not a strict majority). A third votes uphold: still open (2–1). The fourth votes
    uphold: 2–2 with all votes in → rejection upheld.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from revteam.errors import Forbidden, InvalidInput

CHOICES = ("return_to_sales", "uphold_rejection")


@dataclass(frozen=True)
class Vote:
    member_id: int
    choice: str
    reason: str


@dataclass(frozen=True)
class Decision:
    outcome: str | None  # return_to_sales | uphold_rejection | None while open
    votes_for_return: int
    votes_for_uphold: int
    summary: str


def majority(members: int) -> int:
    """Votes one side needs to decide a dispute: a strict majority of the whole committee (3 of 4, 3 of 5)."""
    return members // 2 + 1


def check_vote(committee: Iterable[int], existing: Iterable[Vote], vote: Vote) -> None:
    committee = set(committee)
    if vote.member_id not in committee:
        raise Forbidden("Only members of the SLA committee can vote on disputes.", code="not_committee_member")
    if vote.choice not in CHOICES:
        raise InvalidInput(f"Vote {vote.choice!r} is not one of: {', '.join(CHOICES)}.", code="bad_vote")
    if not vote.reason.strip():
        raise InvalidInput("Say why you vote this way; the reason is recorded with the decision.", code="vote_reason_required")
    if any(v.member_id == vote.member_id for v in existing):
        raise InvalidInput("You have already voted on this dispute.", code="already_voted")


def decide(committee: Iterable[int], votes: Iterable[Vote]) -> Decision:
    members = set(committee)
    if not members:
        raise InvalidInput("The SLA has no dispute committee; name its members in the agreement.", code="no_committee")
    valid = [v for v in votes if v.member_id in members]
    ret = sum(v.choice == "return_to_sales" for v in valid)
    up = sum(v.choice == "uphold_rejection" for v in valid)
    need = majority(len(members))
    if ret >= need:
        return Decision("return_to_sales", ret, up, f"returned to sales by {ret} of {len(members)} votes")
    if up >= need:
        return Decision("uphold_rejection", ret, up, f"rejection upheld by {up} of {len(members)} votes")
    if len(valid) == len(members):
        return Decision("uphold_rejection", ret, up, f"tie {ret}–{up}: the rejection stands")
    return Decision(None, ret, up, f"open: {ret} to return, {up} to uphold, {len(members) - len(valid)} still to vote")
