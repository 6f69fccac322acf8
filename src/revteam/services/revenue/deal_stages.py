"""A deal's pipeline stage and its history: every stage revteam gives a deal, or sees it reach, is a row.

``move_deal`` is the one way a deal's ``stage`` changes. It writes a ``DealStageChange`` when the stage is
new for the deal (its first stage, or a different one) and nothing when the deal is already there, so
running the same import twice adds no history. The forecast (``services.revenue``) learns win rates by
stage and age from these rows (docs/forecast.md, "Stage history").

Dating. A row is dated the day the deal was in that stage *as far as revteam can vouch for it*:

* a deal created through revteam (the demo, a service) enters its first stage on ``created_on``;
* an import dates what it sees on the import day, or, for the move that closes a deal, on ``closed_on``;
  never before the deal was created. An import of a deal created months ago that is now in
  "negotiation" does not claim it was in negotiation all along: that would tell the forecast, looking
  back, which deals were going to advance (see ``dated_for_import``).
* a stage-history file (import kind ``deal_stage_changes``) carries its own dates: real history.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revteam.errors import InvalidInput
from revteam.store.models import DEAL_STAGE_SOURCES, Deal, DealStageChange


def move_deal(session: Session, deal: Deal, stage: str, *, on: date, source: str) -> DealStageChange | None:
    """Put ``deal`` in ``stage`` from ``on``; the new history row, or None when it was already there.

    A new deal (not flushed yet) gets a row with ``from_stage`` NULL; so does a deal that has a stage but
    no history (stored before the history was kept): its stage is then known from ``on``. The deal must
    have been added to the session; a new one is flushed so the row can carry its id.
    """
    if source not in DEAL_STAGE_SOURCES:
        raise InvalidInput(f"Unknown stage-change source {source!r}; use one of {', '.join(DEAL_STAGE_SOURCES)}.",
                           code="bad_stage_source")
    stage = (stage or "").strip()
    if not stage:
        raise InvalidInput("A deal's stage cannot be empty.", code="bad_deal_stage")
    if deal.created_on is not None and on < deal.created_on:
        raise InvalidInput(f"Deal {deal.name!r} cannot move to {stage!r} on {on}, before it was created "
                           f"({deal.created_on}).", code="bad_deal_stage_date")
    new = deal.id is None
    last = None if new else latest_move(session, deal.id)
    same = not new and deal.stage == stage
    if same and last is not None:
        return None
    if last is not None and on < last:
        raise InvalidInput(f"Deal {deal.name!r} cannot move to {stage!r} on {on}, before its latest recorded move "
                           f"({last}).", code="bad_deal_stage_date")
    before = None if new or same else deal.stage
    deal.stage = stage
    if new:
        session.flush()
    row = DealStageChange(deal_id=deal.id, from_stage=before, to_stage=stage, changed_on=on, source=source)
    session.add(row)
    return row


def latest_move(session: Session, deal_id: int) -> date | None:
    """The day of the deal's latest recorded stage change (None: no history)."""
    return session.scalar(select(func.max(DealStageChange.changed_on)).where(DealStageChange.deal_id == deal_id))


def dated_for_import(session: Session, deal: Deal, *, imported_on: date, closes_now: bool) -> date:
    """The day an import can vouch for the stage it just read: ``closed_on`` for the move that closes the
    deal, else the import day; never before ``created_on`` (a deal dated in the future keeps its date) nor
    before the deal's latest recorded move."""
    on = deal.closed_on if closes_now and deal.closed_on is not None else imported_on
    floor = [d for d in (deal.created_on, None if deal.id is None else latest_move(session, deal.id)) if d]
    return max([on, *floor])
