"""The customer relationship lifecycle (CRL) timeline of a contact or an account.

One chronological list of what happened: touches, stage changes, deals opened and closed, owner changes.
Used by ``revteam timeline`` (text and ``--json``) and the timeline web pages.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from revteam.domain.lifecycle import derive_account_stage
from revteam.errors import NotFound
from revteam.services.record.lifecycle import load_stages
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    DealContact,
    OwnerChange,
    StageChange,
    Touchpoint,
    User,
)


@dataclass
class TimelineEvent:
    at: datetime
    kind: str  # touch | stage | deal_created | deal_won | deal_lost | owner
    title: str
    detail: dict[str, Any] = field(default_factory=dict)
    contact_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        return d


@dataclass
class Timeline:
    subject: str  # contact | account
    id: int
    name: str
    stage: str | None
    owner: str | None
    facts: dict[str, Any]
    events: list[TimelineEvent]

    def to_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "id": self.id,
            "name": self.name,
            "stage": self.stage,
            "owner": self.owner,
            "facts": self.facts,
            "events": [e.to_dict() for e in self.events],
        }


def _day(d: Any) -> datetime:
    return datetime.combine(d, time(0), tzinfo=timezone.utc)


def _user_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    return {u.id: u.name for u in session.scalars(select(User).where(User.id.in_(ids)))}


def _events_for_contacts(session: Session, contact_ids: list[int], limit: int | None) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    if not contact_ids:
        return events
    touches = session.execute(
        select(Touchpoint, Campaign.name, ContentAsset.title)
        .outerjoin(Campaign, Campaign.id == Touchpoint.campaign_id)
        .outerjoin(ContentAsset, ContentAsset.id == Touchpoint.content_id)
        .where(Touchpoint.contact_id.in_(contact_ids))
        .order_by(Touchpoint.occurred_at.desc())
        .limit(limit)
    ).all()
    changes = session.scalars(
        select(StageChange).where(StageChange.contact_id.in_(contact_ids)).order_by(StageChange.changed_at)
    ).all()
    owners = session.scalars(
        select(OwnerChange).where(OwnerChange.entity == "contact", OwnerChange.entity_id.in_(contact_ids))
    ).all()
    names = _user_names(
        session,
        {c.actor_user_id for c in changes}
        | {t.actor_user_id for t, _, _ in touches}
        | {o.to_user_id for o in owners}
        | {o.from_user_id for o in owners},
    )
    for t, campaign, content in touches:
        what = t.type.replace("_", " ")
        bits = [b for b in (campaign and f"campaign '{campaign}'", content and f"content '{content}'") if b]
        events.append(
            TimelineEvent(
                at=t.occurred_at,
                kind="touch",
                title=what + (f" ({', '.join(bits)})" if bits else ""),
                detail={
                    "type": t.type,
                    "channel": t.channel,
                    "campaign": campaign,
                    "content": content,
                    "url": t.url,
                    "by": names.get(t.actor_user_id or -1),
                },
                contact_id=t.contact_id,
            )
        )
    for c in changes:
        actor = names.get(c.actor_user_id or -1) or (f"rule {c.actor_rule}" if c.actor_rule else None)
        events.append(
            TimelineEvent(
                at=c.changed_at,
                kind="stage",
                title=f"{c.from_stage or 'entered'} → {c.to_stage}",
                detail={"from": c.from_stage, "to": c.to_stage, "by": actor, "reason": c.reason},
                contact_id=c.contact_id,
            )
        )
    for o in owners:
        events.append(
            TimelineEvent(
                at=o.changed_at,
                kind="owner",
                title=f"owner {names.get(o.from_user_id or -1, 'nobody')} → {names.get(o.to_user_id or -1, 'nobody')}",
                detail={"reason": o.reason},
                contact_id=o.entity_id,
            )
        )
    return events


def _deal_events(deals: list[Deal]) -> list[TimelineEvent]:
    events = []
    for d in deals:
        money = f"{d.currency} {d.amount:,.0f}"
        events.append(
            TimelineEvent(_day(d.created_on), "deal_created", f"deal '{d.name}' opened ({money})", {"deal_id": d.id})
        )
        if d.outcome in ("won", "lost") and d.closed_on:
            title = f"deal '{d.name}' {d.outcome} ({money})" + (
                f": {d.lost_reason}" if d.outcome == "lost" and d.lost_reason else ""
            )
            events.append(TimelineEvent(_day(d.closed_on), f"deal_{d.outcome}", title, {"deal_id": d.id}))
    return events


def contact_timeline(session: Session, contact_id: int, *, limit: int | None = 500) -> Timeline:
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"No contact with id {contact_id}.", code="contact_not_found")
    deals = list(
        session.scalars(select(Deal).join(DealContact).where(DealContact.contact_id == contact_id))
    )
    events = _events_for_contacts(session, [contact_id], limit) + _deal_events(deals)
    events.sort(key=lambda e: e.at)
    return Timeline(
        subject="contact",
        id=contact.id,
        name=contact.display_name,
        stage=contact.stage,
        owner=contact.owner.name if contact.owner else None,
        facts={
            "email": contact.email,
            "title": contact.title,
            "account": contact.account.name if contact.account else None,
            "account_id": contact.account_id,
            "persona": contact.persona,
            "original_source": contact.original_source,
            "consent": contact.consent,
            "created_at": contact.created_at.isoformat() if contact.created_at else None,
        },
        events=events,
    )


def account_timeline(session: Session, account_id: int, *, limit: int | None = 1000) -> Timeline:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"No account with id {account_id}.", code="account_not_found")
    contacts = list(session.scalars(select(Contact).where(Contact.account_id == account_id)))
    deals = list(session.scalars(select(Deal).where(Deal.account_id == account_id)))
    acct_owners = session.scalars(
        select(OwnerChange).where(OwnerChange.entity == "account", OwnerChange.entity_id == account_id)
    ).all()
    names = {c.id: c.display_name for c in contacts}
    events = _events_for_contacts(session, list(names), limit) + _deal_events(deals)
    for e in events:
        if e.contact_id in names:
            e.title = f"{names[e.contact_id]}: {e.title}"
    unames = _user_names(session, {o.to_user_id for o in acct_owners} | {o.from_user_id for o in acct_owners})
    for o in acct_owners:
        events.append(
            TimelineEvent(
                o.changed_at,
                "owner",
                f"account owner {unames.get(o.from_user_id or -1, 'nobody')} → {unames.get(o.to_user_id or -1, 'nobody')}",
                {"reason": o.reason},
            )
        )
    events.sort(key=lambda e: e.at)
    stage = derive_account_stage(
        load_stages(session),
        [c.stage for c in contacts],
        open_deals=sum(d.outcome == "open" for d in deals),
        won_deals=sum(d.outcome == "won" for d in deals),
    )
    return Timeline(
        subject="account",
        id=account.id,
        name=account.name,
        stage=stage,
        owner=account.owner.name if account.owner else None,
        facts={
            "domain": account.domain,
            "industry": account.industry,
            "employees": account.employees,
            "region": account.region,
            "segment": account.segment,
            "contacts": len(contacts),
            "open_deals": sum(d.outcome == "open" for d in deals),
            "won_revenue": float(sum(d.amount for d in deals if d.outcome == "won")),
        },
        events=events,
    )
