"""When touches arrive, or the model changes: rescore contacts and hand over those who just qualified.

``score_and_hand_over`` is one transaction (the scores and the handovers it causes are kept or lost
together); ``rescore_everyone`` (``revteam score``) walks every contact in batches of ``BULK_CHUNK``,
one transaction per batch, so a long run keeps what it has done and reports progress as it goes.
Batches are by contact id; each contact's score depends only on its own touches, so scoring in batches
gives the same scores and the same handovers, in the same order, as scoring everyone at once.
Scorings take the ``scoring`` lock (``claims.serialize``), so two at once (two touch batches of one
contact) store each score once and hand a lead over once. A contact that another transaction handed over meanwhile (the open-handoff ``Conflict``) is skipped in a
savepoint, so a race between two scorings never loses either batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.domain.scoring import score_batch
from revteam.errors import Conflict
from revteam.services.claims import serialize
from revteam.services.handoff.hand_over import hand_over_lead
from revteam.services.qualify.scoring import active_model, load_inputs, store_scores
from revteam.services.record.lifecycle import load_stages
from revteam.store.db import transaction
from revteam.store.models import Contact

BULK_CHUNK = 20_000


@dataclass
class ScoringRun:
    scored: int = 0
    new_mqls: int = 0
    handoffs: list[int] = field(default_factory=list)


def score_and_hand_over(session: Session, *, now: datetime, contact_ids: Sequence[int] | None = None,
                        hand_over: bool = True, progress: Callable[[int, int], None] | None = None) -> ScoringRun:
    """Score the contacts (all when ``contact_ids`` is None), store scores with reasons, and hand over
    every contact below MQL that the model now qualifies (by score or fast track)."""
    with transaction(session):
        serialize(session, "scoring")  # one scoring at a time: its scores and hand-overs read what the last one wrote
        model = active_model(session)
        stages = load_stages(session)
        below = {s for s in stages.main if stages.rank(s) < stages.rank("mql")}
        run = ScoringRun()
        inputs = load_inputs(session, now=now, contact_ids=list(contact_ids) if contact_ids is not None else None)
        batch = score_batch(model, inputs.contacts, inputs.touches, now=now)
        run.scored = store_scores(session, batch, now=now)
        if progress:
            progress(run.scored, run.scored)
        if not hand_over:
            return run
        for i, cid in enumerate(batch.ids):
            if batch.is_mql[i] and inputs.stages[i] in below:
                try:
                    with session.begin_nested():  # a lead handed over meanwhile is skipped, the rest kept
                        h = hand_over_lead(session, int(cid), now=now, model=model,
                                           fast_track=bool(batch.fast_track_rule[i] >= 0),
                                           rule="fast_track" if batch.fast_track_rule[i] >= 0 else "scoring", why=None)
                except Conflict as e:
                    if e.code != "handoff_open":
                        raise
                    continue
                run.new_mqls += 1
                run.handoffs.append(h.id)
    return run


def rescore_everyone(session: Session, *, now: datetime, hand_over: bool = True, batch_size: int = BULK_CHUNK,
                     progress: Callable[[int, int], None] | None = None) -> ScoringRun:
    """Every contact with the model in force, ``batch_size`` contacts per transaction; ``progress(done,
    total)`` after each batch. A failure keeps the batches already done."""
    ids = list(session.scalars(select(Contact.id).order_by(Contact.id)))
    total = len(ids)
    run = ScoringRun()
    if progress:
        progress(0, total)
    for start in range(0, total, batch_size):
        part = score_and_hand_over(session, now=now, contact_ids=ids[start:start + batch_size], hand_over=hand_over)
        run.scored += part.scored
        run.new_mqls += part.new_mqls
        run.handoffs.extend(part.handoffs)
        if progress:
            progress(min(start + batch_size, total), total)
    return run
