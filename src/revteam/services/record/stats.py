"""Counts per entity and per lifecycle stage (``revteam stats``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revteam.services.record.lifecycle import load_stages
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    StageChange,
    Touchpoint,
    User,
)

ENTITIES = {
    "accounts": Account,
    "contacts": Contact,
    "touchpoints": Touchpoint,
    "campaigns": Campaign,
    "content": ContentAsset,
    "deals": Deal,
    "stage_changes": StageChange,
    "users": User,
}


def record_stats(session: Session) -> dict[str, Any]:
    counts = {name: session.scalar(select(func.count()).select_from(m)) or 0 for name, m in ENTITIES.items()}
    by_stage = dict(session.execute(select(Contact.stage, func.count()).group_by(Contact.stage)).all())
    stages = load_stages(session)
    contacts_by_stage = {s: int(by_stage.pop(s, 0)) for s in stages.all}
    contacts_by_stage.update({k: int(v) for k, v in by_stage.items()})  # stages no longer configured
    deals = dict(session.execute(select(Deal.outcome, func.count()).group_by(Deal.outcome)).all())
    won = session.scalar(select(func.coalesce(func.sum(Deal.amount), 0)).where(Deal.outcome == "won"))
    return {
        "counts": counts,
        "contacts_by_stage": contacts_by_stage,
        "deals_by_outcome": {k: int(deals.get(k, 0)) for k in ("open", "won", "lost")},
        "won_revenue": float(won or 0),
    }
