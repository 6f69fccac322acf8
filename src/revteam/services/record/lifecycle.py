"""Lifecycle use cases: the installation's stage set and moving a contact between stages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revteam.domain.lifecycle import DEFAULT_STAGES, STAGE_LABELS, StageMove, StageSet, plan_stage_move
from revteam.errors import NotFound
from revteam.services.record.audit import record_audit
from revteam.store.models import Contact, LifecycleStage, StageChange


def seed_default_stages(session: Session) -> None:
    """Install the default lifecycle if the installation has none yet."""
    if session.scalar(select(func.count()).select_from(LifecycleStage)):
        return
    for pos, key in enumerate(DEFAULT_STAGES.main):
        session.add(LifecycleStage(key=key, label=STAGE_LABELS[key], position=pos, kind="main"))
    for pos, key in enumerate(DEFAULT_STAGES.side, start=100):
        session.add(LifecycleStage(key=key, label=STAGE_LABELS[key], position=pos, kind="side"))


def load_stages(session: Session) -> StageSet:
    rows = session.scalars(select(LifecycleStage).order_by(LifecycleStage.position)).all()
    if not rows:
        return DEFAULT_STAGES
    return StageSet(
        tuple(r.key for r in rows if r.kind == "main"), tuple(r.key for r in rows if r.kind == "side")
    )


def stage_labels(session: Session) -> dict[str, str]:
    rows = session.scalars(select(LifecycleStage)).all()
    return {r.key: r.label for r in rows} or dict(STAGE_LABELS)


def apply_stage_move(
    session: Session,
    contact: Contact,
    move: StageMove,
    *,
    stages: StageSet,
    source_system: str = "revteam",
    external_id: str | None = None,
    audit: bool = True,
) -> None:
    """Record a checked move and update the contact's current stage.

    The current stage follows the newest move by time; a move recorded out of order (a late record of
    an earlier event) still advances the contact when it is a forward move, because lifecycle
    progress does not go back unless somebody moves it back with a reason.
    """
    if contact.id is None:
        session.flush()
    session.add(
        StageChange(
            contact_id=contact.id,
            from_stage=move.from_stage,
            to_stage=move.to_stage,
            changed_at=move.at,
            actor_user_id=move.actor_user_id,
            actor_rule=move.actor_rule,
            reason=move.reason,
            source_system=source_system,
            external_id=external_id,
        )
    )
    newest = contact.stage_changed_at is None or move.at >= contact.stage_changed_at
    advances = (
        contact.stage is not None
        and move.to_stage in stages.main
        and stages.rank(move.to_stage) > stages.rank(contact.stage)
    )
    if newest or advances or contact.stage is None:
        contact.stage = move.to_stage
    if newest:
        contact.stage_changed_at = move.at
    if audit:
        record_audit(
            session,
            at=move.at,
            actor=f"user:{move.actor_user_id}" if move.actor_user_id is not None else f"rule:{move.actor_rule}",
            actor_user_id=move.actor_user_id,
            action="contact.stage_changed",
            entity="contact",
            entity_id=contact.id,
            detail={"from": move.from_stage, "to": move.to_stage, "kind": move.kind, "reason": move.reason},
        )


def move_contact_stage(
    session: Session,
    contact: Contact,
    target: str,
    *,
    at: datetime,
    stages: StageSet,
    actor_user_id: int | None = None,
    actor_rule: str | None = None,
    reason: str | None = None,
) -> StageMove:
    """Check one lifecycle move of a contact against the rules and record it (stage change + audit)."""
    move = plan_stage_move(
        stages, contact.stage, target, at=at, actor_user_id=actor_user_id, actor_rule=actor_rule, reason=reason
    )
    apply_stage_move(session, contact, move, stages=stages)
    return move


def get_contact(session: Session, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact with id {contact_id}; list contacts with `revteam stats` or the Contacts page.")
    return contact
