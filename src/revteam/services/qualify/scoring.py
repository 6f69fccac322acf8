"""Scoring use cases: the active model and its versions, scoring contacts from the database, bulk
rescoring, and the preview of a model change before it is saved."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from revteam.domain.identity import email_domain, seniority_from_title
from revteam.domain.scoring import (
    ContactTable,
    ScoreBatch,
    ScoringModel,
    TouchTable,
    model_from_toml,
    model_to_toml,
    score_batch,
)
from revteam.services.people.users import names_of
from revteam.services.record.audit import record_audit
from revteam.store.db import transaction
from revteam.store.models import ContactScore, ScoringModelRow, ScoringReview
from revteam.store.models import Account, Campaign, Contact, ContentAsset, Touchpoint

DEFAULT_MODEL_PATH = Path(__file__).with_name("default_scoring.toml")
TOP_REASONS = 6
LOOKBACK_DAYS = 365  # touches older than a year add < 0.02 % of their points at a 30-day half-life
PREVIEW_DAYS = 30  # a change is previewed on the contacts active in the last 30 days


def active_model(session: Session) -> ScoringModel:
    row = session.scalars(select(ScoringModelRow).order_by(ScoringModelRow.version.desc())).first()
    if row is None:
        return model_from_toml(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    return model_from_toml(row.body_toml)


def save_model(session: Session, toml_text: str, *, by: int | None, now: datetime, note: str | None = None) -> ScoringModel:
    """Validate and store the model as a new version (versions are never edited in place)."""
    from dataclasses import replace

    with transaction(session):
        model = model_from_toml(toml_text)
        latest = session.scalar(select(func.max(ScoringModelRow.version))) or 0
        if latest == 0:
            latest = active_model(session).version
        version = latest + 1
        model = replace(model, version=version)
        session.add(ScoringModelRow(version=version, name=model.name, body_toml=model_to_toml(model), created_at=now,
                                    created_by=by, note=note))
        record_audit(session, at=now, actor=f"user:{by}" if by else "system", actor_user_id=by,
                     action="scoring.model_saved", entity="scoring_model", entity_id=version, detail={"note": note})
    return model


def model_versions(session: Session) -> list[ScoringModelRow]:
    return list(session.scalars(select(ScoringModelRow).order_by(ScoringModelRow.version.desc())))


def open_reviews(session: Session) -> list[ScoringReview]:
    """Scoring reviews still open (a source keeps being rejected for the same reason), newest first."""
    return list(session.scalars(select(ScoringReview).where(ScoringReview.status == "open")
                                .order_by(ScoringReview.opened_at.desc(), ScoringReview.id.desc())))


@dataclass
class ScoringOverview:
    """What the scoring page and ``GET /scoring/model`` show: the model in force and around it."""

    model: ScoringModel
    versions: list[ScoringModelRow]  # newest first
    makers: dict[int, str]  # who saved each version, by user id
    distribution: dict[str, int]  # stored scores per band
    reviews: list[ScoringReview]


def scoring_overview(session: Session) -> ScoringOverview:
    versions = model_versions(session)
    return ScoringOverview(active_model(session), versions, names_of(session, [v.created_by for v in versions if v.created_by]),
                           score_distribution(session), open_reviews(session))


@dataclass
class ScoringInputs:
    contacts: ContactTable
    touches: TouchTable
    sources: list[str | None]
    stages: list[str]


def load_inputs(session: Session, *, now: datetime, contact_ids: list[int] | None = None) -> ScoringInputs:
    """Contacts (with the account fields fit rules read) and their touches of the last year, as arrays."""
    q = select(Contact.id, Contact.title, Contact.email, Contact.persona, Contact.consent, Contact.original_source,
               Contact.stage, Account.industry, Account.employees, Account.region, Account.segment
               ).outerjoin(Account, Account.id == Contact.account_id).order_by(Contact.id)
    if contact_ids is not None:
        q = q.where(Contact.id.in_(contact_ids))
    rows = session.execute(q).all()
    ids = np.array([r.id for r in rows], dtype=np.int64)
    fields: dict[str, list[Any]] = {
        "title": [r.title for r in rows],
        "seniority": [seniority_from_title(r.title) for r in rows],
        "email_domain": [email_domain(r.email) for r in rows],
        "persona": [r.persona for r in rows],
        "consent": [r.consent for r in rows],
        "source": [r.original_source for r in rows],
        "industry": [r.industry for r in rows],
        "employees": [r.employees for r in rows],
        "region": [r.region for r in rows],
        "segment": [r.segment for r in rows],
    }
    position = {int(cid): i for i, cid in enumerate(ids)}
    tq = (select(Touchpoint.contact_id, Touchpoint.occurred_at, Touchpoint.type, Touchpoint.channel, Campaign.external_id,
                 Campaign.name, ContentAsset.category, ContentAsset.title, Touchpoint.url)
          .outerjoin(Campaign, Campaign.id == Touchpoint.campaign_id)
          .outerjoin(ContentAsset, ContentAsset.id == Touchpoint.content_id)
          .where(Touchpoint.occurred_at >= now - timedelta(days=LOOKBACK_DAYS)))
    if contact_ids is not None:
        tq = tq.where(Touchpoint.contact_id.in_(contact_ids))
    trows = [t for t in session.execute(tq) if t[0] in position]
    touches = TouchTable(
        contact=np.fromiter((position[t[0]] for t in trows), dtype=np.int64, count=len(trows)),
        occurred_at=np.array([np.datetime64(t[1].replace(tzinfo=None), "s") for t in trows], dtype="datetime64[s]"),
        type=[t[2] for t in trows],
        channel=[t[3] for t in trows],
        campaign=[t[4] for t in trows],
        content_category=[t[6] for t in trows],
        url=[t[8] for t in trows],
        detail=[t[7] or t[5] for t in trows],
    )
    return ScoringInputs(ContactTable(ids, fields), touches, fields["source"], [r.stage for r in rows])


def score_contacts(session: Session, *, now: datetime, contact_ids: list[int] | None = None,
                   model: ScoringModel | None = None) -> ScoreBatch:
    inputs = load_inputs(session, now=now, contact_ids=contact_ids)
    return score_batch(model or active_model(session), inputs.contacts, inputs.touches, now=now)


def reasons_json(batch: ScoreBatch, i: int) -> list[dict[str, Any]]:
    return [{"points": round(r.points, 1), "kind": r.kind, "text": r.text} for r in batch.reasons(i)[:TOP_REASONS]]


def store_scores(session: Session, batch: ScoreBatch, *, now: datetime, chunk: int = 5000) -> int:
    """Replace the stored scores of the batch's contacts (one statement per chunk)."""
    ids = [int(x) for x in batch.ids]
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        session.execute(delete(ContactScore).where(ContactScore.contact_id.in_(part)))
        session.execute(insert(ContactScore), [
            {"contact_id": cid, "model_version": batch.model.version, "fit": float(batch.fit[i]),
             "engagement": round(float(batch.engagement[i]), 3), "total": round(float(batch.total[i]), 3),
             "is_mql": bool(batch.is_mql[i]), "reasons": reasons_json(batch, i), "scored_at": now}
            for i, cid in enumerate(part, start=start)
        ])
    return len(ids)


@dataclass
class PreviewRow:
    source: str
    active_contacts: int
    mql_now: int
    mql_proposed: int

    @property
    def change(self) -> int:
        return self.mql_proposed - self.mql_now


def preview_model_change(session: Session, proposed: ScoringModel, *, now: datetime, days: int = 30) -> list[PreviewRow]:
    """Of the contacts who touched us in the last ``days`` days, how many are over the MQL line (or
    fast-tracked) under the model in force and under the proposed one, per original source."""
    inputs = load_inputs(session, now=now)
    recent = np.zeros(len(inputs.contacts), dtype=bool)
    if len(inputs.touches):
        cutoff = np.datetime64((now - timedelta(days=days)).replace(tzinfo=None), "s")
        recent[np.unique(inputs.touches.contact[inputs.touches.occurred_at >= cutoff])] = True
    current = score_batch(active_model(session), inputs.contacts, inputs.touches, now=now).is_mql
    proposed_mql = score_batch(proposed, inputs.contacts, inputs.touches, now=now).is_mql
    src = np.array([s or "(no source)" for s in inputs.sources], dtype=object)
    out = []
    for source in sorted(set(src[recent])):
        m = recent & (src == source)
        out.append(PreviewRow(str(source), int(m.sum()), int((current & m).sum()), int((proposed_mql & m).sum())))
    out.sort(key=lambda r: -r.active_contacts)
    return out


def score_distribution(session: Session) -> dict[str, int]:
    rows = session.execute(select(ContactScore.total)).scalars().all()
    bands = Counter("≥ 80" if t >= 80 else "60–79" if t >= 60 else "30–59" if t >= 30 else "0–29" if t >= 0 else "< 0"
                    for t in rows)
    return {k: bands.get(k, 0) for k in ("< 0", "0–29", "30–59", "60–79", "≥ 80")}
