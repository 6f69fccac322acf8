"""Contacts and their journeys up to SQL: entry, MQL, the SDR's work, accept or reject, qualify.

The path (stages from ``revteam.domain.lifecycle``):

1. **Entry.** A contact becomes known through a source (``shape.SOURCE_MIX``): organic and direct
   visitors often only subscribe first (``subscriber``, rule ``newsletter_signup``) and raise a hand
   later; everyone else enters as a ``lead`` (inquiry) through the rule that captured them (web form,
   webinar registration, event list, syndication list, LinkedIn lead form). Outbound prospects are
   added by an SDR (the rep is the actor).
2. **MQL** (inquiry → MQL 10–25 %, ``shape.MQL_RATE_BY_SOURCE`` × persona fit). Rule ``scoring``
   at the moment of a trigger touch (demo or pricing request, webinar attended, gated download).
3. **Routing** to an SDR of the account's territory (round robin; ``OwnerChange``). A share of MQLs
   is never worked (``shape.UNWORKED_MQL_SHARE``, more for the rep who drops balls, and every MQL
   that came out of a webinar sales never followed up).
4. **Work.** Calls and e-mails on business days, then accept (``sal``) or reject with a reason:
   ``disqualified`` or ``recycled`` (20–40 % of MQLs). Recycled leads may come back (rule
   ``scoring``, a re-entry) and be worked once more.
5. **Qualify** (SAL → SQL 50–70 %): after a discovery meeting the SDR qualifies (``sql``) or
   recycles/disqualifies with a reason. What happens after SQL is ``deals.py``.

Everything is drafted as float days (see ``timebase``) and cut at "today" when rows are built.
"""

from __future__ import annotations

import math
import random

from revteam.demo import shape
from revteam.demo.accounts import POOR_FIT, PERSONAS, AccountDraft, ContactNamer
from revteam.demo.catalogue import Catalogue
from revteam.demo.draw import Weighted
from revteam.demo.engagement import CONTACT_URL, DEMO_URL, PRICING_URL, Engager, engagement_level
from revteam.demo.people import People
from revteam.demo.timebase import DemoCalendar

ENTRY_RULE = {"organic_search": "web_form", "direct": "web_form", "referral": "web_form", "paid_search": "web_form",
              "paid_social": "linkedin_lead_form", "webinar": "webinar_registration", "event": "event_list_import",
              "content_syndication": "syndication_list_import"}
DISQUALIFY_REASONS = ("no budget this year", "company too small for the product", "competitor doing research",
                      "bad contact data: phone and e-mail bounce", "duplicate of an existing contact",
                      "locked into a competitor contract for two more years", "outside our sales territories")
POOR_FIT_REASONS = ("student or job seeker", "consultant researching for a client, no buying intent",
                    "agency, not an end customer", "freelancer, company too small")
RECYCLE_REASONS = ("not ready: revisit next quarter", "no project this year, keep nurturing",
                   "timing: current contract renews in Q3", "no authority: find the decision maker",
                   "researching only, asked to be contacted later")
SAL_FAIL_REASONS = ("no active project after discovery", "budget not approved", "no pain we solve today",
                    "decision postponed to next fiscal year")
OUTBOUND_FAIL_REASONS = ("replied: not interested", "replied: using a competitor, happy", "wrong person, no referral")
CALL_OUTCOMES = ({"outcome": "connected"}, {"outcome": "voicemail"}, {"outcome": "no_answer"}, {"outcome": "no_answer"})
DISCOVERY = {"kind": "discovery"}
SOURCES = Weighted(shape.SOURCE_MIX)
CONSENTS = Weighted(shape.CONSENT_MIX)
TRIGGERS = Weighted(shape.MQL_TRIGGERS)


class ContactDraft:
    __slots__ = ("id", "account", "email", "first", "last", "persona", "title", "fit", "source", "campaign_id",
                 "consent", "created", "level", "moves", "touches", "owners", "owner", "sdr", "sql_at", "stage",
                 "disqualified_at")

    def __init__(self, account: AccountDraft, created: float) -> None:
        self.account = account
        self.created = created
        self.moves: list[tuple[float, str, int | None, str | None, str | None]] = []
        self.touches: list[tuple] = []
        self.owners: list[tuple[float, int | None, int | None, str]] = []
        self.owner: int | None = None
        self.sdr: int | None = None
        self.sql_at: float | None = None
        self.stage: str | None = None
        self.campaign_id: int | None = None
        self.disqualified_at: float | None = None

    def move(self, day: float, to: str, *, user: int | None = None, rule: str | None = None,
             reason: str | None = None) -> float:
        """Record a lifecycle move; times strictly increase (a minute later than the last at least)."""
        if self.moves and day <= self.moves[-1][0]:
            day = self.moves[-1][0] + 1 / 1440
        self.moves.append((day, to, user, rule, reason))
        self.stage = to
        if to == "disqualified":
            self.disqualified_at = day
        return day

    def hand_to(self, day: float, user: int, reason: str) -> None:
        if self.owner != user:
            self.owners.append((day, self.owner, user, reason))
            self.owner = user


class JourneyMaker:
    def __init__(self, rng: random.Random, cal: DemoCalendar, cat: Catalogue, people: People) -> None:
        self.rng = rng
        self.cal = cal
        self.cat = cat
        self.people = people
        self.eng = Engager(rng, cal, cat)
        self._rr: dict[int, int] = {}
        self.unfollowed = {c.id for c in cat.by_channel.get("webinar", ()) if not c.followed_up}

    # --- contacts -----------------------------------------------------------------------------------
    def draft_contacts(self, accounts: list[AccountDraft]) -> list[ContactDraft]:
        """Every contact with its account, source, first-seen time and person; ids follow first-seen time."""
        rng, cal, cat = self.rng, self.cal, self.cat
        namer = ContactNamer(rng)
        drafts: list[ContactDraft] = []
        for a in accounts:
            for _ in range(a.n_contacts):
                c = ContactDraft(a, cal.signup_day(rng))
                c.email, c.first, c.last, c.persona, c.title = namer.person(a)
                c.fit = PERSONAS[c.persona][1]
                c.consent = CONSENTS.pick(rng)
                c.level = engagement_level(rng)
                src = SOURCES.pick(rng)
                if src in ("webinar", "event"):
                    camp = cat.next_dated(src, c.created, 45)
                    if camp is None or camp.start > cal.horizon:
                        src = "organic_search"
                    else:
                        c.campaign_id = camp.id
                        c.created = camp.start - rng.uniform(1, 20) if src == "webinar" else camp.start + rng.uniform(0.05, 0.4)
                elif src in ("paid_search", "paid_social", "content_syndication"):
                    camp = cat.active(src, c.created, rng)
                    if camp is None:
                        src = "organic_search"
                    else:
                        c.campaign_id = camp.id
                c.created = min(c.created, cal.horizon - 0.05)
                c.source = src
                drafts.append(c)
        drafts.sort(key=lambda c: c.created)
        for i, c in enumerate(drafts, start=1):
            c.id = i
        for a in accounts:
            a.created = math.inf
        for c in drafts:
            a = c.account
            a.created = min(a.created, c.created - rng.uniform(0.01, 30))  # known before its first contact
        return drafts

    def _sdr_for(self, c: ContactDraft) -> int:
        if c.sdr is None:
            team = c.account.team
            sdrs = self.people.sdrs_by_team[team]
            i = self._rr.get(team, 0)
            self._rr[team] = i + 1
            c.sdr = sdrs[i % len(sdrs)]
        return c.sdr

    # --- the journey ---------------------------------------------------------------------------------
    def run(self, c: ContactDraft) -> None:
        if c.source == "outbound":
            self._outbound(c)
            return
        rng, eng, H = self.rng, self.eng, self.cal.horizon
        t0, src, tt = c.created, c.source, c.touches
        t_lead: float | None = t0
        if src in shape.SUBSCRIBER_SOURCES and rng.random() < shape.SUBSCRIBER_FIRST:
            eng.page_view(t0 - 0.003, tt, content_share=0.9)
            tt.append((t0, "form_submit", tt[-1][2], None, None, f"{CONTACT_URL}?form=newsletter", None, None))
            c.move(t0, "subscriber", rule="newsletter_signup")
            t_lead = t0 + rng.expovariate(1 / 45) if rng.random() < shape.SUBSCRIBER_TO_LEAD else None
            if t_lead is not None and t_lead <= H:
                eng.download(t_lead, tt)
                c.move(t_lead, "lead", rule="web_form")
        else:
            self._first_touch(c)
            c.move(t0, "lead", rule=ENTRY_RULE[src])
        t_m = None
        if t_lead is not None and rng.random() < min(0.9, shape.MQL_RATE_BY_SOURCE[src] * c.fit):
            t_m = t_lead + rng.lognormvariate(math.log(shape.MQL_LAG_MEDIAN_DAYS), 1.0) * (0.05 if src in ("direct", "referral") and rng.random() < 0.5 else 1.0)
        boost = (max(t0, t_m - 21), t_m) if t_m is not None else None
        eng.engage(t0, H, c.level, tt, boost=boost, opted_out=c.consent == "opted_out", horizon=H)
        if t_m is not None and t_m <= H:
            t_m = self._trigger(c, t_m)
            if t_m is not None and t_m <= H:
                c.move(t_m, "mql", rule="scoring")
                self._work(c, t_m, 1)
        self._webinar_follow_up(c)

    def _first_touch(self, c: ContactDraft) -> None:
        rng, eng, tt, t0, src = self.rng, self.eng, c.touches, c.created, c.source
        camp = self.cat.by_id.get(c.campaign_id) if c.campaign_id else None
        if src == "webinar" and camp:
            tt.append((t0, "webinar_registered", "webinar", camp.id, None, camp.landing_url, None, None))
            if camp.start <= self.cal.horizon and rng.random() < shape.WEBINAR_ATTEND_RATE + 0.1:
                tt.append((camp.start + rng.uniform(0, 0.01), "webinar_attended", "webinar", camp.id, None, None, None, None))
        elif src == "event" and camp:
            tt.append((t0, "event_attended", "event", camp.id, None, None, None, None))
        elif src == "content_syndication" and camp:
            c_ = self.cat.content_at(t0, rng, ("ebook", "case_study"))
            tt.append((t0, "content_download", src, camp.id, c_.id if c_ else None, c_.url if c_ else None, None, None))
        elif src in ("paid_search", "paid_social") and camp:
            tt.append((t0 - 0.002, "ad_click", src, camp.id, None, camp.landing_url, None, None))
            tt.append((t0, "form_submit", src, camp.id, None, camp.landing_url, None, None))
        else:
            eng.page_view(t0 - 0.004, tt, content_share=0.7)
            if rng.random() < 0.5:
                eng.download(t0, tt, channel=tt[-1][2], campaign=tt[-1][3])
                if tt[-1][1] == "content_download":
                    return
            tt.append((t0, "form_submit", src, None, None, CONTACT_URL, None, None))

    def _trigger(self, c: ContactDraft, t_m: float) -> float | None:
        """Add the touch that crosses the MQL threshold; returns its time (webinars move it)."""
        rng, tt = self.rng, c.touches
        kind = TRIGGERS.pick(rng)
        if kind == "webinar_attended":
            at = self.eng.webinar(max(c.created, t_m - 10), tt, self.cal.horizon, attend=1.0)
            if at is not None:
                return at + 0.01
            kind = "demo_request"
        ch, camp = self.eng.web_channel(t_m)
        if kind == "content_download":
            n = len(tt)
            self.eng.download(t_m, tt)
            if len(tt) > n:
                return t_m + 0.001
            kind = "pricing_request"
        url = {"demo_request": DEMO_URL, "pricing_request": PRICING_URL}.get(kind, CONTACT_URL)
        tt.append((t_m - 0.003, "page_view", ch, camp, None, url, None, None))
        tt.append((t_m, kind, ch, camp, None, url, None, None))
        return t_m + 0.001

    def _unfollowed_attendee(self, c: ContactDraft, t_m: float) -> bool:
        return any(t[1] == "webinar_attended" and t[3] in self.unfollowed and t_m - 14 <= t[0] <= t_m
                   for t in c.touches)

    def _sequence(self, c: ContactDraft, start: float, sdr: int, n: int, call_share: float = 0.5) -> float:
        """n calls and e-mails by the SDR on business days; returns the time after the last one."""
        rng, cal = self.rng, self.cal
        t = cal.business(start, rng)
        for _ in range(n):
            if rng.random() < call_share:
                c.touches.append((t, "sales_call", "sales", None, None, None, sdr, rng.choice(CALL_OUTCOMES)))
            else:
                c.touches.append((t, "sales_email", "sales", None, None, None, sdr, None))
            t = cal.business(t + rng.expovariate(1 / 1.5), rng)
        return t

    def _work(self, c: ContactDraft, t_m: float, round_: int) -> None:
        rng, cal = self.rng, self.cal
        sdr = self._sdr_for(c)
        prof = self.people.profile(sdr)
        c.hand_to(t_m + 0.001, sdr, "routed to SDR: territory round robin")
        if self._unfollowed_attendee(c, t_m) or rng.random() < shape.UNWORKED_MQL_SHARE * prof.unworked:
            return  # nobody ever calls: the lead sits at mql
        hours = rng.lognormvariate(math.log(shape.FIRST_RESPONSE_MEDIAN_HOURS * prof.response), 1.1)
        t_d = self._sequence(c, t_m + hours / 24, sdr, rng.randint(*shape.ATTEMPTS_RANGE))
        poor = c.persona == POOR_FIT
        fit_mod = shape.POOR_FIT_REJECT_BOOST if poor else (shape.HIGH_FIT_REJECT if c.fit >= 1.3 else 1.0)
        if rng.random() < shape.REJECT_SHARE_OF_WORKED * prof.reject * fit_mod:
            if poor or rng.random() < shape.DISQUALIFY_SHARE_OF_REJECTS:
                c.move(t_d, "disqualified", user=sdr, reason=rng.choice(POOR_FIT_REASONS if poor else DISQUALIFY_REASONS))
            else:
                self._recycle(c, t_d, sdr, RECYCLE_REASONS, round_)
            return
        t_d = c.move(t_d, "sal", user=sdr)
        self._qualify(c, t_d, sdr, round_)

    def _qualify(self, c: ContactDraft, t_sal: float, sdr: int, round_: int) -> None:
        rng, cal = self.rng, self.cal
        t_meet = cal.business(t_sal + rng.uniform(1, 7), rng)
        c.touches.append((t_meet, "meeting", "sales", None, None, None, sdr, DISCOVERY))
        t_q = cal.business(t_meet + rng.uniform(0.05, 3), rng)
        if rng.random() < min(0.95, shape.SAL_TO_SQL * (0.6 if c.persona == POOR_FIT else 1.0)):
            c.sql_at = c.move(t_q, "sql", user=sdr)
        elif rng.random() < 0.6:
            self._recycle(c, t_q, sdr, SAL_FAIL_REASONS, round_)
        else:
            c.move(t_q, "disqualified", user=sdr, reason=rng.choice(SAL_FAIL_REASONS))

    def _recycle(self, c: ContactDraft, day: float, sdr: int, reasons: tuple[str, ...], round_: int) -> None:
        rng = self.rng
        c.move(day, "recycled", user=sdr, reason=rng.choice(reasons))
        if round_ == 1 and rng.random() < shape.RECYCLED_REENGAGE:
            back = self._trigger(c, day + rng.uniform(30, 150))
            if back is not None and back <= self.cal.horizon:
                c.move(back, "mql", rule="scoring")
                self._work(c, back, 2)

    def _outbound(self, c: ContactDraft) -> None:
        rng, H = self.rng, self.cal.horizon
        sdr = self._sdr_for(c)
        t0 = self.cal.business(c.created, rng)
        if t0 > H:  # added over the weekend before "today": keep the time it was added
            t0 = c.created
        c.created = t0
        c.move(t0, "lead", user=sdr)
        c.hand_to(t0, sdr, "prospect added by SDR")
        t = self._sequence(c, t0 + 0.01, sdr, rng.randint(3, 8), call_share=0.35)
        self.eng.engage(t0, H, c.level * 0.3, c.touches, boost=None, opted_out=c.consent == "opted_out", horizon=H)
        if rng.random() < shape.OUTBOUND_REPLY * c.fit:
            self._qualify(c, c.move(t, "sal", user=sdr), sdr, 2)
        elif rng.random() < 0.25:
            c.move(t, "recycled", user=sdr, reason=rng.choice(OUTBOUND_FAIL_REASONS))

    def scrub_unfollowed(self, contacts: list[ContactDraft]) -> None:
        """Keep unfollowed webinars unfollowed: an attendee who happened to get a sales touch soon after
        (an AE meeting on another thread, an outbound sequence) is recorded as registered, not attended."""
        quiet = shape.UNFOLLOWED_QUIET_DAYS
        for c in contacts:
            attended = [t for t in c.touches if t[1] == "webinar_attended" and t[3] in self.unfollowed]
            if not attended:
                continue
            sales = [t[0] for t in c.touches if t[6] is not None]
            drop = {id(a) for a in attended if any(a[0] <= s <= a[0] + quiet for s in sales)}
            if drop:
                c.touches = [t for t in c.touches if id(t) not in drop]

    def _webinar_follow_up(self, c: ContactDraft) -> None:
        rng = self.rng
        for t in [x for x in c.touches if x[1] == "webinar_attended" and x[3] not in self.unfollowed]:
            if rng.random() < shape.WEBINAR_FOLLOW_UP:
                at = self.cal.business(t[0] + rng.uniform(0.5, 3), rng)
                c.touches.append((at, "sales_email", "sales", None, None, None, self._sdr_for(c),
                                  {"follow_up": "webinar", "campaign_id": t[3]}))
