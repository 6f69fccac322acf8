"""The customer relationship lifecycle (PRODUCT.md R1, R2).

Model
    A contact stands at exactly one stage. The installation defines an ordered list of *main* stages
    (default: subscriber → lead → mql → sal → sql → opportunity → customer → advocate) and a set of
    *side states* outside that order (default: recycled, disqualified).

Rules
    * Forward along the main order is free, skipping stages included (a webinar attendee may be
      qualified straight to sql by a rep).
    * Backward along the main order, and any move into a side state, needs a reason: it is a recycle
      or a disqualification and somebody must be able to read why.
    * Out of a side state into any main stage is free (a recycled lead re-engages).
    * A move to the stage the contact already has is refused (nothing to record).
    * Every accepted move becomes a ``StageMove`` carrying the time and the actor: a user id, or the
      name of the rule or import that made it. Exactly one of the two is required.

Account stage
    Derived, never stored by hand: the furthest main stage reached by any of its contacts, raised to
    ``opportunity`` when it has an open deal and to ``customer`` when it has a won deal; ``advocate``
    only if a contact is an advocate. An account with no contacts and no deals has no stage.

Worked example
    >>> s = DEFAULT_STAGES
    >>> plan_stage_move(s, "lead", "sql", at=T0, actor_rule="import").to_stage
    'sql'
    >>> plan_stage_move(s, "sql", "lead", at=T0, actor_user_id=3)  # raises: a move back needs a reason
    Traceback (most recent call last):
    ...
    revteam.errors.InvalidStageMove: ...
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from revteam.errors import InvalidInput, InvalidStageMove

MAIN_STAGES: tuple[str, ...] = (
    "subscriber",
    "lead",
    "mql",
    "sal",
    "sql",
    "opportunity",
    "customer",
    "advocate",
)
SIDE_STATES: tuple[str, ...] = ("recycled", "disqualified")

STAGE_LABELS: dict[str, str] = {
    "subscriber": "Subscriber",
    "lead": "Lead",
    "mql": "Marketing-qualified (MQL)",
    "sal": "Sales-accepted (SAL)",
    "sql": "Sales-qualified (SQL)",
    "opportunity": "Opportunity",
    "customer": "Customer",
    "advocate": "Advocate",
    "recycled": "Recycled",
    "disqualified": "Disqualified",
}


@dataclass(frozen=True)
class StageSet:
    """An installation's stages: the ordered main stages and the side states."""

    main: tuple[str, ...]
    side: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        names = list(self.main) + list(self.side)
        if len(self.main) < 2:
            raise InvalidInput("A lifecycle needs at least two main stages.", code="lifecycle_too_short")
        if len(set(names)) != len(names):
            raise InvalidInput(
                "Stage names must be unique across main stages and side states.", code="lifecycle_duplicate"
            )
        for n in names:
            if not n or not n.replace("_", "").isalnum() or n != n.lower():
                raise InvalidInput(
                    f"Stage name {n!r} must be lower-case letters, digits and underscores.",
                    code="lifecycle_bad_name",
                )

    @property
    def all(self) -> tuple[str, ...]:
        return self.main + self.side

    def __contains__(self, stage: object) -> bool:
        return stage in self.main or stage in self.side

    def rank(self, stage: str) -> int:
        """Position along the main order; side states rank -1."""
        return self.main.index(stage) if stage in self.main else -1

    def require(self, stage: str) -> str:
        if stage not in self:
            raise InvalidStageMove(
                f"Unknown lifecycle stage {stage!r}; use one of: {', '.join(self.all)}.",
                code="unknown_stage",
            )
        return stage

    def furthest(self, stages: Iterable[str]) -> str | None:
        ranked = [s for s in stages if s in self.main]
        return max(ranked, key=self.main.index) if ranked else None


DEFAULT_STAGES = StageSet(MAIN_STAGES, SIDE_STATES)


@dataclass(frozen=True)
class StageMove:
    from_stage: str | None
    to_stage: str
    at: datetime
    actor_user_id: int | None
    actor_rule: str | None
    reason: str | None
    kind: str  # entry | forward | backward | side | reentry


def classify_move(stages: StageSet, current: str | None, target: str) -> str:
    if current is None:
        return "entry"
    if target in stages.side:
        return "side"
    if current in stages.side:
        return "reentry"
    return "forward" if stages.rank(target) > stages.rank(current) else "backward"


def plan_stage_move(
    stages: StageSet,
    current: str | None,
    target: str,
    *,
    at: datetime,
    actor_user_id: int | None = None,
    actor_rule: str | None = None,
    reason: str | None = None,
) -> StageMove:
    """Check one lifecycle move against the rules above and return it, or raise ``InvalidStageMove``."""
    stages.require(target)
    if current is not None:
        stages.require(current)
    if at.tzinfo is None:
        raise InvalidInput("Stage changes need a timezone-aware time.", code="naive_datetime")
    if (actor_user_id is None) == (actor_rule is None):
        raise InvalidStageMove(
            "A stage change is made by exactly one person or one rule; give actor_user_id or actor_rule.",
            code="stage_actor_required",
        )
    if current == target:
        raise InvalidStageMove(f"The contact is already at stage {target!r}.", code="stage_unchanged")
    kind = classify_move(stages, current, target)
    reason = (reason or "").strip() or None
    if kind in ("backward", "side") and reason is None:
        raise InvalidStageMove(
            f"Moving from {current!r} back to {target!r} is a recycle or disqualification and needs a "
            "reason; say why (for example 'not ready, revisit in Q3').",
            code="stage_reason_required",
        )
    return StageMove(current, target, at, actor_user_id, actor_rule, reason, kind)


def derive_account_stage(
    stages: StageSet, contact_stages: Iterable[str], *, open_deals: int, won_deals: int
) -> str | None:
    """Account stage from its contacts and deals (see module docstring)."""
    contact_stages = list(contact_stages)
    best = stages.furthest(contact_stages)
    floor = None
    if won_deals and "customer" in stages.main:
        floor = "customer"
    elif open_deals and "opportunity" in stages.main:
        floor = "opportunity"
    if floor is not None and (best is None or stages.rank(best) < stages.rank(floor)):
        best = floor
    if best == "advocate" and "advocate" not in contact_stages:
        best = "customer"
    return best
