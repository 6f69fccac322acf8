"""The written SLA as stored: versions, terms, committee, and the sign-off by both heads.

Use cases (each its own transaction): propose a version (``propose_sla`` from the pages and the API:
its committee is made of leaders and admins, senior people of both teams), sign it for one side.
A version is in force once both sides, marketing and sales, have signed it, by two different people.
Signatures of one version are taken one at a time (the version's row is locked first, ``claims.hold``),
so two heads signing at once both count and the version comes into force; the same side signed twice
at once gets one signature and a ``Conflict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revteam.domain.business_hours import BusinessCalendar
from revteam.domain.roles import SUPERVISORS
from revteam.domain.sla import PRIORITIES, SlaTerms
from revteam.errors import Conflict, Forbidden, InvalidInput, NotFound
from revteam.services.claims import hold, serialize
from revteam.services.people.users import names_of
from revteam.services.record.audit import record_audit
from revteam.store.db import transaction
from revteam.store.models import SlaAgreement, SlaSignoff
from revteam.store.models import User

SIDES = ("marketing", "sales")
DEFAULT_TERMS: dict[str, Any] = {
    "tz": "America/New_York",
    "weekdays": [0, 1, 2, 3, 4],
    "opens": "09:00",
    "closes": "17:00",
    "holidays": [],
    "response_minutes": {"hot": 60, "warm": 480, "cold": 960},
    "min_attempts": 3,
    "attempts_within_minutes": 3 * 480,
    "at_risk_share": 0.75,
    "mqls_per_month": 300,
    "sals_per_month": 150,
}
DEFAULT_TEXT = """Marketing and sales agree:
1. Marketing hands over a lead when it reaches the MQL threshold of the scoring model in force, or asks for a demo or pricing.
2. Sales responds to hot leads within 1 business hour, warm leads within 1 business day, cold leads within 2 business days.
3. Sales makes at least 3 attempts within 3 business days before rejecting a lead for no response.
4. Sales accepts or rejects every lead with a reason from the agreed list; not-ready leads go back to nurture with a return date.
5. Marketing delivers 300 MQLs and 150 sales-accepted leads a month.
6. Disputed rejections go to the committee below; its decision is final."""


def check_zone(tz: str) -> None:
    """A clear message for an unknown time zone (the terms would otherwise call it a missing term)."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file (tzdata looks it up)
        raise InvalidInput(f"{tz[:60]!r} is not a time zone; use a name like America/New_York or Europe/Berlin.",
                           code="bad_sla") from None


def terms_from_json(version: int, t: dict[str, Any]) -> SlaTerms:
    try:
        opens = time.fromisoformat(t["opens"])
        closes = time.fromisoformat(t["closes"])
        cal = BusinessCalendar(tz=t["tz"], weekdays=frozenset(int(d) for d in t["weekdays"]), opens=opens, closes=closes,
                               holidays=frozenset(date.fromisoformat(h) for h in t.get("holidays", [])))
        response = {p: timedelta(minutes=float(m)) for p, m in t["response_minutes"].items()}
        unknown = set(response) - set(PRIORITIES)
        if unknown:
            raise InvalidInput(f"Unknown priority {', '.join(sorted(unknown))}; use {', '.join(PRIORITIES)}.", code="bad_sla")
        return SlaTerms(version, cal, response, int(t.get("min_attempts", 3)),
                        timedelta(minutes=float(t.get("attempts_within_minutes", 1440))),
                        float(t.get("at_risk_share", 0.75)), int(t.get("mqls_per_month", 0)), int(t.get("sals_per_month", 0)))
    except InvalidInput:
        raise
    except KeyError as e:
        raise InvalidInput(f"The SLA terms are missing {e.args[0]!r}.", code="bad_sla") from None
    except (TypeError, ValueError, OverflowError) as e:  # OverflowError: an infinite number of minutes
        raise InvalidInput(f"The SLA terms are malformed: {e}.", code="bad_sla") from None


@dataclass
class AgreementView:
    row: SlaAgreement
    terms: SlaTerms
    signoffs: list[SlaSignoff]

    @property
    def in_force(self) -> bool:
        return self.row.in_force_at is not None


def propose_agreement(session: Session, *, text: str, terms: dict[str, Any], committee: list[int], by: int | None,
                      now: datetime) -> SlaAgreement:
    with transaction(session):
        if not text.strip():
            raise InvalidInput("Write the agreement's text; it is what both heads sign.", code="bad_sla")
        serialize(session, "sla_versions")  # two proposals at once get versions n and n+1
        version = (session.scalar(select(func.max(SlaAgreement.version))) or 0) + 1
        terms_from_json(version, terms)  # validate
        check_committee(session, committee)
        row = SlaAgreement(version=version, text=text.strip(), terms=terms, committee=sorted(set(committee)),
                           created_at=now, created_by=by)
        session.add(row)
        session.flush()
        record_audit(session, at=now, actor=f"user:{by}" if by else "system", actor_user_id=by, action="sla.proposed",
                     entity="sla_agreement", entity_id=version)
    return row


def committee_candidates(session: Session) -> list[User]:
    """Who can sit on the dispute committee: the senior people (leaders) and admins, active."""
    return list(session.scalars(select(User).where(User.role.in_(SUPERVISORS), User.is_active.is_(True))
                                .order_by(User.role.desc(), User.name)))


def check_committee(session: Session, committee: list[int]) -> None:
    """The one committee rule, for the demo, the pages and the API: at least one member, each an active leader
    or admin (reps would judge their own rejections; the votes on the web are SUPERVISORS' too)."""
    if not committee:
        raise InvalidInput("Name at least one member of the dispute committee (leaders and admins).", code="bad_committee")
    allowed = {u.id for u in committee_candidates(session)}
    strangers = [uid for uid in committee if uid not in allowed]
    if strangers:
        raise InvalidInput("The committee is made of leaders and admins (senior people from both teams); "
                           f"user{'s' if len(strangers) > 1 else ''} {', '.join(map(str, strangers))} cannot sit on it.",
                           code="bad_committee")


def propose_sla(session: Session, *, text: str, terms: dict[str, Any], committee: list[int], by: User,
                now: datetime) -> SlaAgreement:
    """A head proposes a new version (pages and API): a known time zone, a committee of leaders and admins."""
    with transaction(session):
        check_zone(str(terms.get("tz") or ""))
        check_committee(session, committee)
        return propose_agreement(session, text=text, terms=terms, committee=committee, by=by.id, now=now)


def sign_agreement(session: Session, version: int, user: User, side: str, *, now: datetime) -> AgreementView:
    """A head signs for their side. Both sides signed → the version is in force from that moment."""
    with transaction(session):
        if side not in SIDES:
            raise InvalidInput(f"Sign for one of: {', '.join(SIDES)}.", code="bad_side")
        if user.role not in SUPERVISORS:
            raise Forbidden("Only the heads of marketing and sales (leaders) sign the SLA.", code="not_a_head")
        row = session.scalar(select(SlaAgreement).where(SlaAgreement.version == version))
        if row is None:
            raise NotFound(f"No SLA version {version}.", code="sla_not_found")
        hold(session, SlaAgreement, row.id, SlaAgreement.in_force_at)  # one signature of this version at a time
        if session.scalar(select(SlaSignoff).where(SlaSignoff.agreement_id == row.id, SlaSignoff.side == side)):
            raise Conflict(f"Version {version} is already signed for {side}.", code="already_signed")
        if any(s.user_id == user.id
               for s in session.scalars(select(SlaSignoff).where(SlaSignoff.agreement_id == row.id))):
            raise Conflict("One person cannot sign for both sides; the other head must sign.", code="same_signer")
        session.add(SlaSignoff(agreement_id=row.id, side=side, user_id=user.id, signed_at=now))
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"Version {version} is already signed for {side}.", code="already_signed") from None
        sides = set(session.scalars(select(SlaSignoff.side).where(SlaSignoff.agreement_id == row.id)))
        if sides == set(SIDES):
            row.in_force_at = now
        record_audit(session, at=now, actor=f"user:{user.id}", actor_user_id=user.id, action="sla.signed",
                     entity="sla_agreement", entity_id=version,
                     detail={"side": side, "in_force": row.in_force_at is not None})
        return view(session, row)


def view(session: Session, row: SlaAgreement) -> AgreementView:
    signs = list(session.scalars(select(SlaSignoff).where(SlaSignoff.agreement_id == row.id).order_by(SlaSignoff.signed_at)))
    return AgreementView(row, terms_from_json(row.version, row.terms), signs)


def agreement_in_force(session: Session) -> AgreementView | None:
    row = session.scalars(select(SlaAgreement).where(SlaAgreement.in_force_at.is_not(None))
                          .order_by(SlaAgreement.in_force_at.desc(), SlaAgreement.version.desc())).first()
    return view(session, row) if row else None


def all_agreements(session: Session) -> list[AgreementView]:
    return [view(session, r) for r in session.scalars(select(SlaAgreement).order_by(SlaAgreement.version.desc()))]


def sla_zone(session: Session) -> ZoneInfo:
    """The time zone of the SLA in force (its business hours); UTC when there is none."""
    agreement = agreement_in_force(session)
    return agreement.terms.calendar.zone if agreement is not None else ZoneInfo("UTC")


@dataclass
class AgreementsOverview:
    """Every version with the one in force, and the names of everyone they mention."""

    in_force: AgreementView | None
    versions: list[AgreementView]  # newest first
    names: dict[int, str]  # proposers, signers and committee members by id


def agreements_overview(session: Session) -> AgreementsOverview:
    current = agreement_in_force(session)
    versions = all_agreements(session)
    ids = {s.user_id for v in versions for s in v.signoffs} | {m for v in versions for m in v.row.committee}
    ids |= {v.row.created_by for v in versions if v.row.created_by}
    return AgreementsOverview(current, versions, names_of(session, sorted(ids)))
