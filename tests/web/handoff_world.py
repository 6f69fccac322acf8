"""A believable handoff for the web and browser tests, built only through the handoff services.

``build_world(session, users, now=...)`` adds to the users it is given (one per role, as the ``people``
fixture and the browser seed make them):

* a second SDR and a second leader (head of marketing), rep profiles for the SDRs and the AE, the
  routing rules (MQLs: round robin over the two SDRs; SQLs: the AE), the reject reasons;
* the SLA, proposed by the sales leader and signed by both heads, with a committee of both leaders and
  the admin (three members: two votes decide a dispute);
* companies, a webinar campaign and people with touches (demo requests, webinar attendance, content
  downloads), scored and handed over by ``score_and_hand_over`` at ``now`` minus a few minutes or hours,
  so the inbox holds hot and warm leads, some due soon and some overdue;
* decisions on some of them: one accepted (ready to qualify to SQL), one rejected and disputed, one
  rejected and not yet disputed; webinar registrants who never qualified; two notification groups;
* with ``history=True`` (browser): four weeks of earlier handoffs worked in time, late or never (some
  qualified to SQL and taken by the AE, deals opened and one won), so the SLA board, the unworked
  report, the rejection rates and the campaign follow-up have something to show; a saved model version
  and a scoring review.

Handoffs alternate between the two SDRs (round robin, equal weights), so every test finds both its
own lead and another rep's lead. ``World`` names what the tests need by role.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.services.handoff.agreement import DEFAULT_TERMS, DEFAULT_TEXT, propose_agreement, sign_agreement
from revteam.services.handoff.decide import (
    accept_lead,
    log_sales_touch,
    open_dispute,
    qualify_to_sql,
    reject_lead,
    seed_reject_reasons,
)
from revteam.services.record.lifecycle import load_stages, move_contact_stage
from revteam.services.qualify.rescoring import score_and_hand_over
from revteam.services.qualify.scoring import active_model, save_model
from revteam.domain.scoring import model_to_toml
from revteam.delivery.outbox import join_group, set_preference
from revteam.store.models import (
    Handoff,
    NotificationGroup,
    RepProfile,
    RoutingRuleRow,
    ScoringReview,
)
from revteam.store.models import Contact, OwnerChange, Team, User
from tests.factories import make_account, make_campaign, make_contact, make_content, make_deal, make_touch, make_user

TERMS = {**DEFAULT_TERMS, "mqls_per_month": 40, "sals_per_month": 20}
TEXT = DEFAULT_TEXT.replace("300 MQLs and 150 sales-accepted leads", "40 MQLs and 20 sales-accepted leads")
# people the webinar reached who never qualified (the follow-up funnel starts wider than the MQLs)
ATTENDEES = [("Pia", "Lund", "Marketing Intern"), ("Ray", "Osei", "Student"), ("Sue", "Park", "Office Manager"),
             ("Tim", "Rowe", "Sales Associate")]

COMPANIES = [
    # name, domain, industry, employees, region, segment
    ("Northwind Traders", "northwind-traders.com", "software", 400, "North America", "mid_market"),
    ("Contoso Health", "contoso-health.com", "healthcare", 3200, "EMEA", "enterprise"),
    ("Fabrikam Foods", "fabrikam.co", "retail", 180, "APAC", "smb"),
    ("Litware Logistics", "litware-logistics.com", "manufacturing", 2100, "North America", "enterprise"),
    ("Adatum Finance", "adatum-finance.com", "financial_services", 900, "LATAM", "mid_market"),
    ("Proseware Robotics", "proseware.ai", "manufacturing", 140, "APAC", "smb"),
]
PEOPLE = [
    # first, last, title, company index, what they did: "demo" (hot) or "webinar" (warm), minutes before now, persona
    ("Dana", "Whitfield", "VP Engineering", 0, "demo", 25, "technical_buyer"),
    ("Eli", "Navarro", "Director of Operations", 1, "webinar", 180, "operations_leader"),
    ("Fern", "Okoye", "Head of Finance", 2, "demo", 50, "economic_buyer"),
    ("Gus", "Lindgren", "COO", 3, "webinar", 195, "operations_leader"),
    ("Hana", "Sato", "IT Director", 4, "demo", 95, "technical_buyer"),
    ("Ivo", "Marek", "VP Procurement", 5, "webinar", 130, "economic_buyer"),
    ("Jade", "Moreno", "Director of IT", 0, "demo", 12, "technical_buyer"),
    ("Kofi", "Mensah", "VP Operations", 1, "webinar", 150, "operations_leader"),
    ("Lara", "Quist", "Head of Sales Ops", 3, "webinar", 165, "operations_leader"),
    ("Milo", "Brandt", "CFO", 4, "demo", 70, "economic_buyer"),
    ("Nora", "Vance", "VP Customer Success", 5, "demo", 5, "operations_leader"),
    ("Omar", "Haddad", "Director of Engineering", 2, "webinar", 110, "technical_buyer"),
]


@dataclass
class World:
    users: dict[str, int]  # key → user id: admin, marketing, sdr, sdr2, ae, leader, leader2
    campaign_id: int
    pending_mine: int  # pending, handed to users["sdr"]
    pending_other: int  # pending, handed to users["sdr2"]
    accepted_mine: int  # accepted MQL of users["sdr"], ready to qualify to SQL
    rejected_disputed: int  # rejected by users["sdr"], disputed by marketing
    rejected_open: int  # rejected by users["sdr2"], not disputed
    dispute_id: int
    agreement_version: int
    handoffs: list[int] = field(default_factory=list)
    contacts: dict[str, int] = field(default_factory=dict)  # first name → contact id
    group_id: int | None = None


def _profile(session: Session, user_id: int, manager_id: int) -> None:
    session.add(RepProfile(user_id=user_id, tz="America/New_York", opens="07:00", closes="19:00",
                           weekdays="0,1,2,3,4", manager_id=manager_id, weight=1.0))


def _person(session: Session, first: str, last: str, title: str, account: Any, *, stage: str = "lead",
            source: str = "webinar", campaign_id: int | None = None, persona: str | None = None) -> Contact:
    return make_contact(session, email=f"{first.lower()}.{last.lower()}@{account.domain}", first_name=first,
                        last_name=last, title=title, account_id=account.id, stage=stage, original_source=source,
                        original_campaign_id=campaign_id, persona=persona)


def _acts(session: Session, contact: Contact, kind: str, at: datetime, campaign_id: int, content_id: int) -> None:
    """What a person did before qualifying: a demo request (fast track, hot) or a webinar and reading (warm)."""
    make_touch(session, contact, type="page_view", at=at - timedelta(days=6), url="https://revteam.example/pricing",
               channel="organic_search")
    make_touch(session, contact, type="content_download", at=at - timedelta(days=3), content_id=content_id,
               channel="email")
    if kind == "demo":
        make_touch(session, contact, type="demo_request", at=at, channel="web", url="https://revteam.example/demo")
    else:
        make_touch(session, contact, type="webinar_registered", at=at - timedelta(days=2), campaign_id=campaign_id,
                   channel="webinar")
        make_touch(session, contact, type="webinar_attended", at=at, campaign_id=campaign_id, channel="webinar")


def _hand_over(session: Session, contact_ids: list[int], at: datetime) -> list[Handoff]:
    run = score_and_hand_over(session, now=at, contact_ids=contact_ids)
    return [session.get(Handoff, h) for h in run.handoffs]  # type: ignore[misc]


def build_world(session: Session, users: dict[str, User], *, now: datetime, history: bool = False) -> World:
    u = {k: users[k] for k in ("admin", "marketing", "sdr", "ae", "leader")}
    u["sdr2"] = make_user(session, role="sdr", email="sdr2@revteam.test", name="Sid Okafor")
    u["leader2"] = make_user(session, role="leader", email="leader2@revteam.test", name="Morgan Reyes")
    sdrs, aes = Team(name="Inbound SDRs", function="sales"), Team(name="Account executives", function="sales")
    session.add_all([sdrs, aes])
    session.flush()
    u["sdr"].team_id = u["sdr2"].team_id = sdrs.id
    u["ae"].team_id = aes.id
    for key in ("sdr", "sdr2", "ae"):
        _profile(session, u[key].id, u["leader"].id)
    session.add(RoutingRuleRow(position=1, strategy="round_robin", label="SDR pool", pool=[u["sdr"].id, u["sdr2"].id],
                               for_role="sdr"))
    session.add(RoutingRuleRow(position=1, strategy="round_robin", label="AE pool", pool=[u["ae"].id], for_role="ae"))
    seed_reject_reasons(session)
    start = now - timedelta(days=40)
    propose_agreement(session, text=TEXT, terms=TERMS, committee=[u["leader"].id, u["leader2"].id, u["admin"].id],
                      by=u["leader"].id, now=start)
    sign_agreement(session, 1, u["leader2"], "marketing", now=start + timedelta(hours=2))
    sign_agreement(session, 1, u["leader"], "sales", now=start + timedelta(hours=3))

    campaign = make_campaign(session, name="March pricing webinar", external_id="cmp-march-pricing",
                             start_date=(now - timedelta(days=30)).date())
    content = make_content(session, title="The true cost of a CRM", external_id="cnt-true-cost", category="pricing")
    accounts = [make_account(session, name=n, domain=d, industry=i, employees=e, region=r, segment=s)
                for n, d, i, e, r, s in COMPANIES]
    make_deal(session, accounts[0], amount="36000", name="Northwind analytics add-on", created_on=(now - timedelta(days=20)).date(),
              expected_close_on=(now + timedelta(days=40)).date())
    world_contacts: dict[str, int] = {}
    for k, (first, last, title) in enumerate(ATTENDEES):  # registered, never qualified
        c = _person(session, first, last, title, accounts[(k + 2) % len(accounts)], campaign_id=campaign.id)
        make_touch(session, c, type="webinar_registered", at=now - timedelta(days=9 + k), campaign_id=campaign.id,
                   channel="webinar")

    if history:
        _history(session, u, accounts, campaign.id, content.id, now=now)

    # today's leads: handed over a few minutes to a few hours ago, oldest first (round robin alternates)
    handoffs: list[Handoff] = []
    for first, last, title, k, kind, minutes, persona in sorted(PEOPLE, key=lambda p: -p[5]):
        c = _person(session, first, last, title, accounts[k], source="webinar" if kind == "webinar" else "paid_search",
                    campaign_id=campaign.id if kind == "webinar" else None, persona=persona)
        world_contacts[first] = c.id
        if first == "Jade":  # worked by the AE a year ago, then released: the rep sees who had her before
            session.add(OwnerChange(entity="contact", entity_id=c.id, from_user_id=u["ae"].id, to_user_id=None,
                                    changed_at=now - timedelta(days=300), reason="released to marketing"))
        at = now - timedelta(minutes=minutes)
        _acts(session, c, kind, at - timedelta(minutes=5), campaign.id, content.id)
        handoffs += _hand_over(session, [c.id], at)
    mine = [h for h in handoffs if h.rep_id == u["sdr"].id]
    other = [h for h in handoffs if h.rep_id == u["sdr2"].id]
    assert len(mine) >= 4 and len(other) >= 4, [(h.rep_id, h.status, h.routing_reason) for h in handoffs]

    accepted, rejected_disputed = mine[0], mine[1]
    accept_lead(session, accepted.id, u["sdr"], now=now - timedelta(minutes=60))
    log_sales_touch(session, accepted.contact_id, u["sdr"], type="sales_call", now=now - timedelta(minutes=50),
                    note="Budget approved for Q2; wants a technical demo")
    reject_lead(session, rejected_disputed.id, u["sdr"], reason="student", note="Answered the call from a university",
                now=now - timedelta(minutes=45))
    lead = session.get(Contact, rejected_disputed.contact_id)
    acct = session.get(type(accounts[0]), lead.account_id)
    dispute = open_dispute(session, rejected_disputed.id, u["marketing"],
                           reason=f"{lead.title} at {acct.name} ({acct.employees:,} people); attended the whole webinar "
                                  "and downloaded the pricing guide. Probably a guest lecture, not a student.",
                           now=now - timedelta(minutes=30))
    rejected_open = other[0]
    reject_lead(session, rejected_open.id, u["sdr2"], reason="bad_fit", note="Too small for us",
                now=now - timedelta(minutes=35))

    group = NotificationGroup(name="Sales leadership digest", event="digest", channel="email", target="-")
    session.add(group)
    session.add(NotificationGroup(name="Breaches to #revops", event="breach", channel="slack",
                                  target="slack://T000/B000/XXXXXXXX"))
    session.flush()
    join_group(session, u["sdr"].id, group.id)
    join_group(session, u["leader"].id, group.id)
    set_preference(session, u["leader"].id, "digest", ["email"])

    session.flush()
    return World(
        users={k: v.id for k, v in u.items()},
        campaign_id=campaign.id,
        pending_mine=mine[2].id,
        pending_other=other[1].id,
        accepted_mine=accepted.id,
        rejected_disputed=rejected_disputed.id,
        rejected_open=rejected_open.id,
        dispute_id=dispute.id,
        agreement_version=1,
        handoffs=[h.id for h in handoffs],
        contacts=world_contacts,
        group_id=group.id,
    )


HISTORY_NAMES = ["Lena", "Marco", "Nadia", "Otto", "Paula", "Quinn", "Ravi", "Sofia", "Tomas", "Uma", "Vera",
                 "Wes", "Xia", "Yusuf", "Zoe", "Aiko", "Bruno", "Carla", "Deniz", "Emil", "Freya", "Goran",
                 "Hugo", "Iris"]
HISTORY_LAST = ["Berg", "Costa", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jansen", "Klein"]


def _history(session: Session, u: dict[str, User], accounts: list[Any], campaign_id: int, content_id: int, *,
             now: datetime) -> None:
    """Four weeks of handoffs: most worked in time, some late, some rejected, a few never touched."""
    for n, first in enumerate(HISTORY_NAMES):
        day = now - timedelta(days=27 - n)
        at = day.replace(hour=15, minute=(n * 7) % 50)  # 11:00-11:50 New York time
        if at.weekday() >= 5 or at >= now - timedelta(hours=3):
            continue
        acct = accounts[n % len(accounts)]
        kind = "demo" if n % 3 == 0 else "webinar"
        c = _person(session, first, HISTORY_LAST[n % len(HISTORY_LAST)], ["VP Sales", "Head of IT", "Director of Finance",
                                                                         "CTO"][n % 4], acct,
                    source=("webinar", "paid_search", "organic_search", "event")[n % 4],
                    campaign_id=campaign_id if kind == "webinar" else None)
        _acts(session, c, kind, at - timedelta(minutes=5), campaign_id, content_id)
        [h] = _hand_over(session, [c.id], at)
        rep = session.get(User, h.rep_id)
        assert rep is not None
        fate = n % 6
        if fate in (0, 1, 2):  # worked in time: a call after 15-35 minutes, accepted right after
            log_sales_touch(session, c.id, rep, type="sales_call", now=at + timedelta(minutes=15 + 10 * fate))
            accept_lead(session, h.id, rep, now=at + timedelta(minutes=20 + 10 * fate))
            if fate in (0, 1) and rep.role == "sdr":
                sql = qualify_to_sql(session, h.id, rep, now=at + timedelta(days=1), note="Budget and timeline confirmed")
                if n % 4 != 1:  # the AE picks most of them up within the hour
                    accept_lead(session, sql.id, u["ae"], now=at + timedelta(days=1, minutes=40))
        elif fate == 3:  # late: the first call came the next day
            log_sales_touch(session, c.id, rep, type="sales_call", now=at + timedelta(days=1, hours=2))
            accept_lead(session, h.id, rep, now=at + timedelta(days=1, hours=3))
        elif fate == 4:  # rejected
            reason = ("bad_fit", "not_ready", "student")[n % 3]
            until = (now + timedelta(days=60)).date() if reason == "not_ready" else None
            reject_lead(session, h.id, rep, reason=reason, note="", recycle_until=until, now=at + timedelta(minutes=50))
        # fate 5: never touched (still pending, breached)
    # a deal from one of the webinar people, and an older model version with a note
    # the webinar's SQLs: deals opened, one won (contacts move to opportunity and customer)
    sqls = list(session.scalars(select(Contact).where(Contact.stage == "sql", Contact.original_campaign_id == campaign_id)
                                .order_by(Contact.id)))
    stages = load_stages(session)
    for k, c in enumerate(sqls[:3]):
        acct = session.get(type(accounts[0]), c.account_id)
        outcome = "won" if k == 0 else "open"
        opened = now - timedelta(days=8 - k)
        make_deal(session, acct, amount=str(54000 - 12000 * k), name=f"{acct.name} platform", contacts=[c],
                  outcome=outcome, created_on=opened.date(), owner_id=u["ae"].id,
                  stage="closed_won" if outcome == "won" else "proposal",
                  closed_on=(now - timedelta(days=1)).date() if outcome == "won" else None,
                  expected_close_on=(now + timedelta(days=45)).date() if outcome == "open" else None)
        move_contact_stage(session, c, "opportunity", at=opened, stages=stages, actor_user_id=u["ae"].id)
        if outcome == "won":
            move_contact_stage(session, c, "customer", at=now - timedelta(days=1), stages=stages, actor_user_id=u["ae"].id)
    model = active_model(session)
    save_model(session, model_to_toml(model), by=u["marketing"].id, now=now - timedelta(days=45),
               note="Imported the default model")
    session.add(ScoringReview(source="event", reason="bad_fit", last_week="2026-W10", opened_at=now - timedelta(days=5),
                              summary="event: 'bad_fit' rejections at 38%, 41%, 45% in weeks 2026-W08, 2026-W09, "
                                      "2026-W10; review the scoring rules and the campaign targeting for this source"))
    session.flush()


__all__ = ["TERMS", "TEXT", "World", "build_world"]
