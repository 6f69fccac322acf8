"""Contacts and their journeys up to SQL: entry, MQL, the SDR's work, accept or reject, qualify.

The path (stages from ``revteam.domain.lifecycle``):

1. **Entry.** A contact becomes known through a source (``shape.SOURCE_MIX``): organic and direct
   visitors often only subscribe first (``subscriber``, rule ``newsletter_signup``) and raise a hand
   later; everyone else enters as a ``lead`` (inquiry) through the rule that captured them (web form,
   webinar registration, event list, syndication list, LinkedIn lead form). Outbound prospects are
   added by an SDR (the rep is the actor).
2. **MQL** (inquiry → MQL 10–25 %, ``shape.MQL_RATE_BY_SOURCE`` × persona fit). Rule ``fast_track``
   at a demo or pricing request, ``scoring`` at any other trigger touch (webinar attended, gated
   download, form), the rule names ``score_and_hand_over`` uses.
3. **Routing** to an SDR of the account's territory (round robin; ``OwnerChange``). A share of MQLs
   is never worked (``shape.UNWORKED_MQL_SHARE``, more for the rep who drops balls, and every MQL
   that came out of a webinar sales never followed up).
4. **Work.** Calls and e-mails on business days (sooner for a hand-raiser), then accept (``sal``) or
   reject with a reason code from the agreed list (``services.decisions.DEFAULT_REJECT_REASONS``) and
   a note: ``disqualified``, or ``recycled`` with a return date for reasons that recycle (20–40 % of
   MQLs). On that date the worker's tick puts the lead back to ``lead`` (rule ``recycle_return``);
   some come back over the threshold later and are worked once more. Each handover is recorded as
   a ``HandoffDraft`` (``rows`` and ``handoffs`` make it a ``handoffs`` row).
5. **Qualify** (SAL → SQL 50–70 %): after a discovery meeting the SDR qualifies (``sql``, an SQL
   handover to the account's AE) or recycles/disqualifies with a reason. What happens after SQL is
   ``deals.py``.

A LinkedIn flight in the last weeks (``shape.SURGE_*``) pulls in a wave of students who ask for a
demo; sales rejects them as students week after week, which is what the worker's scoring review
is there to catch.

Everything is drafted as float days (see ``timebase``) and cut at "today" when rows are built.
"""

from __future__ import annotations

import math
import random

from revteam.demo import shape
from revteam.demo.accounts import POOR_FIT, PERSONAS, AccountDraft, ContactNamer
from revteam.demo.catalogue import Catalogue
from revteam.demo.draw import Weighted
from revteam.demo.estimate import QuickScore
from revteam.demo.engagement import CONTACT_URL, DEMO_URL, PRICING_URL, Engager, engagement_level
from revteam.demo.people import People
from revteam.demo.timebase import DemoCalendar
from revteam.services.handoff.decide import DEFAULT_REJECT_REASONS

ENTRY_RULE = {"organic_search": "web_form", "direct": "web_form", "referral": "web_form", "paid_search": "web_form",
              "paid_social": "linkedin_lead_form", "webinar": "webinar_registration", "event": "event_list_import",
              "content_syndication": "syndication_list_import"}
REJECT_LABELS = {code: label for code, label, _recycles in DEFAULT_REJECT_REASONS}
# (reject reason code, the rep's note); the stage change reads "<label>: <note>" as reject_lead writes it
DISQUALIFY_REASONS = (("bad_fit", "company too small for the product"), ("bad_fit", "outside our sales territories"),
                      ("competitor", "works at a competitor, researching us"),
                      ("wrong_contact_data", "phone and e-mail both bounce"),
                      ("duplicate", "same person as an existing contact"), ("bad_fit", "no sales team to speak of"))
POOR_FIT_REASONS = {"Student": ("student", "student writing a thesis on revenue operations"),
                    "Intern": ("student", "intern, no buying role"),
                    "Consultant": ("bad_fit", "consultant researching for a client, no buying intent"),
                    "Agency Account Manager": ("bad_fit", "agency, not an end customer"),
                    "Freelance Marketer": ("bad_fit", "freelancer, company too small")}
# (code, note, days until the lead comes back to nurture): reasons that recycle need a return date
RECYCLE_REASONS = (("not_ready", "revisit next quarter", 90), ("not_ready", "no project this year, keep nurturing", 150),
                   ("not_ready", "current contract renews in Q3", 120),
                   ("not_ready", "no authority: find the decision maker", 60),
                   ("not_ready", "researching only, asked to be contacted later", 45),
                   ("no_budget", "no budget this year", 120),
                   ("not_ready", "locked into a competitor contract for two more years", 300))
SAL_FAIL_REASONS = ("no active project after discovery", "budget not approved", "no pain we solve today",
                    "decision postponed to next fiscal year")
OUTBOUND_FAIL_REASONS = ("replied: not interested", "replied: using a competitor, happy", "wrong person, no referral")
CALL_OUTCOMES = ({"outcome": "connected"}, {"outcome": "voicemail"}, {"outcome": "no_answer"}, {"outcome": "no_answer"})
DISCOVERY = {"kind": "discovery"}
SOURCES = Weighted(shape.SOURCE_MIX)
CONSENTS = Weighted(shape.CONSENT_MIX)
TRIGGERS = Weighted(shape.MQL_TRIGGERS)


class HandoffDraft:
    """One handover of a contact to a rep: an MQL to an SDR, or an SQL from the SDR to the account's AE.

    ``outcome`` is what the rep eventually did (None: nothing yet), ``decided`` when; both are cut at
    "today" when rows are made, so a decision still to come leaves the handoff pending.
    """

    __slots__ = ("kind", "at", "rep", "fast", "outcome", "decided", "code", "note", "until", "returned")

    def __init__(self, kind: str, at: float, rep: int, fast: bool = False) -> None:
        self.kind = kind
        self.at = at
        self.rep = rep
        self.fast = fast
        self.outcome: str | None = None  # accepted | rejected | recycled
        self.decided: float | None = None
        self.code: str | None = None
        self.note: str | None = None
        self.until: float | None = None  # recycle_until (midnight UTC of the date, as a day)
        self.returned: float | None = None  # when the worker put the lead back to nurture


class ContactDraft:
    __slots__ = ("id", "account", "email", "first", "last", "persona", "title", "fit", "source", "campaign_id",
                 "consent", "created", "level", "moves", "touches", "owners", "owner", "sdr", "sql_at", "stage",
                 "disqualified_at", "handoffs", "surge")

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
        self.handoffs: list[HandoffDraft] = []
        self.surge = False

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

    def reject(self, h: HandoffDraft, day: float, user: int, code: str, note: str) -> float:
        """The rep rejects handoff ``h`` with a reason that disqualifies (``reject_lead``)."""
        day = self.move(day, "disqualified", user=user, reason=f"{REJECT_LABELS[code]}: {note}")
        h.outcome, h.decided, h.code, h.note = "rejected", day, code, note
        return day

    def recycle(self, h: HandoffDraft, cal: DemoCalendar, rng: random.Random, day: float, user: int,
                reason: tuple[str, str, int], back: float | None = None) -> float:
        """The rep rejects ``h`` with a reason that recycles: back to nurture until a return date, on
        which the worker moves the lead to ``lead`` (``sla_tick``). A lead that will come back over the
        threshold at ``back`` gets a return date at least 11 days before it."""
        code, note, days = reason
        day = self.move(day, "recycled", user=user, reason=f"{REJECT_LABELS[code]}: {note}")
        h.outcome, h.decided, h.code, h.note = "recycled", day, code, note
        until = cal.day_of(cal.to_date(day + days))
        if back is not None:
            until = min(until, cal.day_of(cal.to_date(back - 11)))
        h.until = until
        ret = min(until + rng.uniform(1, 20) / 1440, max(until, cal.horizon))  # the first tick on that date
        if ret <= cal.horizon:
            h.returned = self.move(ret, "lead", rule="recycle_return")
        return day


class JourneyMaker:
    def __init__(self, rng: random.Random, cal: DemoCalendar, cat: Catalogue, people: People,
                 quick: QuickScore | None = None) -> None:
        self.rng = rng
        self.cal = cal
        self.cat = cat
        self.people = people
        self.quick = quick
        self.eng = Engager(rng, cal, cat)
        self._rr: dict[int, int] = {}
        self.unfollowed = {c.id for c in cat.by_channel.get("webinar", ()) if not c.followed_up}

    # --- contacts -----------------------------------------------------------------------------------
    def draft_contacts(self, accounts: list[AccountDraft], surge: int = 0) -> list[ContactDraft]:
        """Every contact with its account, source, first-seen time and person; ids follow first-seen time.
        ``surge`` more contacts come from the student-heavy LinkedIn flight of the last weeks."""
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
        drafts.extend(self._surge(accounts, namer, surge))
        drafts.sort(key=lambda c: c.created)
        for i, c in enumerate(drafts, start=1):
            c.id = i
        for a in accounts:
            a.created = math.inf
        for c in drafts:
            a = c.account
            a.created = min(a.created, c.created - rng.uniform(0.01, 30))  # known before its first contact
        return drafts

    def _surge(self, accounts: list[AccountDraft], namer: ContactNamer, n: int) -> list[ContactDraft]:
        """Sign-ups from the career-guide flight, evenly over its weeks: many students, all asking for a demo."""
        rng, camp = self.rng, self.cat.surge
        if not n or camp is None:
            return []
        span = self.cal.horizon - 0.05 - camp.start
        out = []
        for i in range(n):
            a = rng.choice(accounts)
            c = ContactDraft(a, camp.start + (i + rng.random()) * span / n)
            c.email, c.first, c.last, c.persona, c.title = namer.person(a)
            if rng.random() < shape.SURGE_STUDENT_SHARE:
                c.persona, c.title = POOR_FIT, "Student" if rng.random() < 0.75 else "Intern"
            a.n_contacts += 1
            c.fit = PERSONAS[c.persona][1]
            c.consent = CONSENTS.pick(rng)
            c.level = engagement_level(rng)
            c.source, c.campaign_id, c.surge = "paid_social", camp.id, True
            out.append(c)
        return out

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
        if c.surge and t_lead is not None:  # the flight's lead form offers a demo: they ask the same day
            t_m = t_lead + rng.uniform(0.02, 1.2)
        elif t_lead is not None and rng.random() < min(0.9, shape.MQL_RATE_BY_SOURCE[src] * c.fit):
            t_m = t_lead + rng.lognormvariate(math.log(shape.MQL_LAG_MEDIAN_DAYS), 1.0) * (0.05 if src in ("direct", "referral") and rng.random() < 0.5 else 1.0)
        boost = (max(t0, t_m - 21), t_m) if t_m is not None else None
        eng.engage(t0, H, c.level, tt, boost=boost, opted_out=c.consent == "opted_out", horizon=H)
        if t_m is not None and t_m <= H:
            self._become_mql(c, t_m, 1, "demo_request" if c.surge else None)
        self._webinar_follow_up(c)

    def _become_mql(self, c: ContactDraft, t_m: float, round_: int, kind: str | None = None) -> None:
        at, fast = self._trigger(c, t_m, kind)
        if at is not None and at <= self.cal.horizon:
            at = c.move(at, "mql", rule="fast_track" if fast else "scoring")
            self._work(c, at, round_, fast)

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

    def _trigger(self, c: ContactDraft, t_m: float, kind: str | None = None) -> tuple[float | None, bool]:
        """Add the touch that crosses the MQL threshold; returns its time (webinars move it) and whether
        it is a fast-track hand-raise (demo or pricing request)."""
        rng, tt = self.rng, c.touches
        kind = kind or TRIGGERS.pick(rng)
        if kind == "webinar_attended":
            at = self.eng.webinar(max(c.created, t_m - 10), tt, self.cal.horizon, attend=1.0)
            if at is not None:
                return self._qualified(c, at + 0.01)
            kind = "demo_request"
        ch, camp = self.eng.web_channel(t_m)
        if kind == "content_download":
            n = len(tt)
            self.eng.download(t_m, tt)
            if len(tt) > n:
                return self._qualified(c, t_m + 0.001)
            kind = "pricing_request"
        if c.surge:
            ch, camp = "paid_social", c.campaign_id
        url = {"demo_request": DEMO_URL, "pricing_request": PRICING_URL}.get(kind, CONTACT_URL)
        tt.append((t_m - 0.003, "page_view", ch, camp, None, url, None, None))
        tt.append((t_m, kind, ch, camp, None, url, None, None))
        if kind in ("demo_request", "pricing_request"):
            return t_m + 0.001, True
        return self._qualified(c, t_m + 0.001)

    def _qualified(self, c: ContactDraft, at: float) -> tuple[float, bool]:
        """A webinar, download or form hands the lead over only if the model puts it over the line then.
        A lead short of it did more research in the days before (pricing page, a download: the visits
        that got it there); if even that is not enough, the same visit ends with a pricing request."""
        if self.quick is None or self.quick.qualifies(c, at):
            return at, False
        rng = self.rng
        for i in range(shape.PRE_MQL_RESEARCH):
            day = max(c.created + 0.01, at - rng.uniform(0.2, 6))
            if i % 2 == 0:
                ch, camp = self.eng.web_channel(day)
                c.touches.append((day, "page_view", ch, camp, None, PRICING_URL, None, None))
            else:
                self.eng.download(day, c.touches)
            if self.quick.qualifies(c, at):
                return at, False
        ch, camp = self.eng.web_channel(at)
        c.touches.append((at, "page_view", ch, camp, None, PRICING_URL, None, None))
        c.touches.append((at + 0.002, "pricing_request", ch, camp, None, PRICING_URL, None, None))
        return at + 0.003, True

    def _unfollowed_attendee(self, c: ContactDraft, t_m: float) -> bool:
        return any(t[1] == "webinar_attended" and t[3] in self.unfollowed and t_m - 14 <= t[0] <= t_m
                   for t in c.touches)

    def _sequence(self, c: ContactDraft, start: float, sdr: int, n: int, call_share: float = 0.5,
                  gap_days: float = 1.5, first_thing: bool = False) -> float:
        """n calls and e-mails by the SDR on business days; returns the time after the last one. A hot
        lead that came in overnight is called first thing in the morning."""
        rng, cal = self.rng, self.cal
        t = cal.business(start, rng, first_thing)
        for _ in range(n):
            if rng.random() < call_share:
                c.touches.append((t, "sales_call", "sales", None, None, None, sdr, rng.choice(CALL_OUTCOMES)))
            else:
                c.touches.append((t, "sales_email", "sales", None, None, None, sdr, None))
            t = cal.business(t + rng.expovariate(1 / gap_days), rng)
        return t

    def _work(self, c: ContactDraft, t_m: float, round_: int, fast: bool) -> None:
        rng, cal = self.rng, self.cal
        sdr = self._sdr_for(c)
        prof = self.people.profile(sdr)
        h = HandoffDraft("mql", t_m, sdr, fast)
        c.handoffs.append(h)
        c.hand_to(t_m + 0.001, sdr, "routed to SDR: territory round robin")
        if self._unfollowed_attendee(c, t_m) or rng.random() < shape.UNWORKED_MQL_SHARE * prof.unworked:
            return  # nobody ever calls: the lead sits at mql
        median, sigma = ((shape.HOT_RESPONSE_MEDIAN_HOURS, shape.HOT_RESPONSE_SIGMA) if fast
                         else (shape.FIRST_RESPONSE_MEDIAN_HOURS, 1.1))
        hours = rng.lognormvariate(math.log(median * prof.response), sigma)
        early = fast and prof.response <= 1.0
        poor = c.persona == POOR_FIT
        if poor:  # one conversation is enough to hear "I'm a student"
            t_d = self._sequence(c, t_m + hours / 24, sdr, rng.randint(*shape.POOR_FIT_ATTEMPTS), call_share=0.8,
                                 gap_days=shape.POOR_FIT_GAP_DAYS, first_thing=early)
        else:
            t_d = self._sequence(c, t_m + hours / 24, sdr, rng.randint(*shape.ATTEMPTS_RANGE), first_thing=early)
        fit_mod = shape.POOR_FIT_REJECT_BOOST if poor else (shape.HIGH_FIT_REJECT if c.fit >= 1.3 else 1.0)
        if rng.random() < shape.REJECT_SHARE_OF_WORKED * prof.reject * fit_mod:
            if poor:
                c.reject(h, t_d, sdr, *POOR_FIT_REASONS[c.title])
            elif rng.random() < shape.DISQUALIFY_SHARE_OF_REJECTS:
                c.reject(h, t_d, sdr, *rng.choice(DISQUALIFY_REASONS))
            else:
                reason = rng.choice(RECYCLE_REASONS)
                back = t_d + rng.uniform(30, 150) if round_ == 1 and rng.random() < shape.RECYCLED_REENGAGE else None
                c.recycle(h, cal, rng, t_d, sdr, reason, back)
                if back is not None:
                    self._become_mql(c, back, 2)
            return
        t_d = c.move(t_d, "sal", user=sdr)
        h.outcome, h.decided = "accepted", t_d
        self._qualify(c, t_d, sdr, round_)

    def _qualify(self, c: ContactDraft, t_sal: float, sdr: int, round_: int) -> None:
        rng, cal = self.rng, self.cal
        t_meet = cal.business(t_sal + rng.uniform(1, 7), rng)
        c.touches.append((t_meet, "meeting", "sales", None, None, None, sdr, DISCOVERY))
        t_q = cal.business(t_meet + rng.uniform(0.05, 3), rng)
        if rng.random() < min(0.95, shape.SAL_TO_SQL * (0.6 if c.persona == POOR_FIT else 1.0)):
            c.sql_at = c.move(t_q, "sql", user=sdr)
            c.handoffs.append(HandoffDraft("sql", c.sql_at, c.account.owner_id))  # SDR → the account's AE
        elif rng.random() < 0.6:
            self._recycle(c, t_q, sdr, SAL_FAIL_REASONS, round_)
        else:
            c.move(t_q, "disqualified", user=sdr, reason=rng.choice(SAL_FAIL_REASONS))

    def _recycle(self, c: ContactDraft, day: float, sdr: int, reasons: tuple[str, ...], round_: int) -> None:
        """After a discovery meeting (not a handoff decision): back to nurture; some come back later."""
        rng = self.rng
        c.move(day, "recycled", user=sdr, reason=rng.choice(reasons))
        if round_ == 1 and rng.random() < shape.RECYCLED_REENGAGE:
            self._become_mql(c, day + rng.uniform(30, 150), 2)

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

    def thin_unqualified(self, contacts: list[ContactDraft]) -> int:
        """A lead below MQL today should be below the line today: scoring hands over anyone over it. For
        a subscriber or lead the model would qualify, drop its newest marketing touches (not the first
        one) until it would not. Returns how many contacts were thinned."""
        if self.quick is None:
            return 0
        H, thinned = self.cal.horizon, 0
        for c in contacts:
            stage = next((m[1] for m in reversed(c.moves) if m[0] <= H), None)
            if stage not in ("subscriber", "lead") or self.quick.fit(c) < shape.THIN_MIN_FIT:
                continue
            if not self.quick.qualifies(c, H, shape.THIN_WINDOW_DAYS):
                continue
            thinned += 1
            for t in sorted((t for t in c.touches if t[6] is None and c.created + 0.01 < t[0] <= H and H - t[0] < 120),
                            key=lambda t: -t[0]):
                c.touches.remove(t)
                if not self.quick.qualifies(c, H, shape.THIN_WINDOW_DAYS):
                    break
        return thinned

    def _webinar_follow_up(self, c: ContactDraft) -> None:
        rng = self.rng
        for t in [x for x in c.touches if x[1] == "webinar_attended" and x[3] not in self.unfollowed]:
            if rng.random() < shape.WEBINAR_FOLLOW_UP:
                at = self.cal.business(t[0] + rng.uniform(0.5, 3), rng)
                c.touches.append((at, "sales_email", "sales", None, None, None, self._sdr_for(c),
                                  {"follow_up": "webinar", "campaign_id": t[3]}))
