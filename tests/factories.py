"""Test factories with vivid defaults: ``make_contact(session, email="ana@acme-rockets.com")``."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from revteam.security import hash_password
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    DealContact,
    Touchpoint,
    User,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
_seq = itertools.count(1)
_PASSWORD_HASH: dict[str, str] = {}


def _hash(pw: str) -> str:
    if pw not in _PASSWORD_HASH:  # argon2 is deliberately slow; hash each test password once
        _PASSWORD_HASH[pw] = hash_password(pw)
    return _PASSWORD_HASH[pw]


def make_user(session: Session, *, role: str = "sdr", email: str | None = None, name: str | None = None,
              password: str = "correct horse battery", **kw: Any) -> User:
    n = next(_seq)
    u = User(email=email or f"{role}{n}@revteam.test", name=name or f"{role.upper()} Person {n}", role=role,
             password_hash=_hash(password), is_active=True, created_at=T0, **kw)
    session.add(u)
    session.flush()
    return u


def make_account(session: Session, *, name: str = "Acme Rockets", domain: str | None = None, **kw: Any) -> Account:
    n = next(_seq)
    a = Account(name=name, domain=domain or f"acme-rockets-{n}.com", industry=kw.pop("industry", "aerospace"),
                employees=kw.pop("employees", 250), region=kw.pop("region", "EMEA"),
                segment=kw.pop("segment", "mid_market"), created_at=kw.pop("created_at", T0), **kw)
    session.add(a)
    session.flush()
    return a


def make_contact(session: Session, *, email: str | None = None, stage: str = "lead", **kw: Any) -> Contact:
    n = next(_seq)
    c = Contact(email=email or f"ana.{n}@acme-rockets.com", first_name=kw.pop("first_name", "Ana"),
                last_name=kw.pop("last_name", f"Ortega{n}"), title=kw.pop("title", "VP Operations"),
                stage=stage, stage_changed_at=kw.pop("stage_changed_at", T0),
                original_source=kw.pop("original_source", "webinar"), created_at=kw.pop("created_at", T0), **kw)
    session.add(c)
    session.flush()
    return c


def make_campaign(session: Session, *, name: str = "Pricing 101 webinar", channel: str = "webinar", **kw: Any) -> Campaign:
    c = Campaign(name=name, channel=channel, type=kw.pop("type", "webinar"), external_id=kw.pop("external_id", f"cmp-{next(_seq)}"), **kw)
    session.add(c)
    session.flush()
    return c


def make_content(session: Session, *, title: str = "What does a CRM really cost?", **kw: Any) -> ContentAsset:
    c = ContentAsset(title=title, type=kw.pop("type", "article"), category=kw.pop("category", "pricing"),
                     status=kw.pop("status", "published"), external_id=kw.pop("external_id", f"cnt-{next(_seq)}"), **kw)
    session.add(c)
    session.flush()
    return c


def make_touch(session: Session, contact: Contact, *, type: str = "page_view", at: datetime = T0, **kw: Any) -> Touchpoint:
    t = Touchpoint(contact_id=contact.id, type=type, occurred_at=at, channel=kw.pop("channel", "organic_search"), **kw)
    session.add(t)
    session.flush()
    return t


def make_deal(session: Session, account: Account, *, amount: str = "24000", outcome: str = "open",
              contacts: list[Contact] = (), **kw: Any) -> Deal:  # type: ignore[assignment]
    d = Deal(name=kw.pop("name", f"{account.name} platform"), account_id=account.id, amount=Decimal(amount),
             currency="USD", stage=kw.pop("stage", "proposal" if outcome == "open" else outcome),
             outcome=outcome, created_on=kw.pop("created_on", date(2026, 1, 5)), **kw)
    session.add(d)
    session.flush()
    for c in contacts:
        session.add(DealContact(deal_id=d.id, contact_id=c.id, role="decision_maker"))
    session.flush()
    return d


def make_import_world(session: Session) -> Session:
    """What the import tests' files refer to: an owner, an account with one contact (an MQL), a campaign,
    a content piece and an open deal."""
    make_user(session, role="sdr", email="owner@revteam.test")
    acc = make_account(session, domain="acme-rockets.com")
    make_contact(session, email="ana@acme-rockets.com", account_id=acc.id, stage="mql")
    make_campaign(session, external_id="cmp-webinar")
    make_content(session, external_id="cnt-pricing")
    make_deal(session, acc, external_id="d-1", stage="discovery", created_on=date(2026, 1, 5))
    session.commit()
    return session
