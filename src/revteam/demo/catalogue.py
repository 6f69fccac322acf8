"""The marketing catalogue: 41 campaigns and 150 content pieces, and how touches find them.

Campaigns cover the channels a B2B software company runs in a year: webinars (one-day, a
registration window before), paid search and LinkedIn flights (weeks to months), field events (one
to three days), e-mail programmes (newsletters and nurtures, all year) and content syndication (paid
lead lists). Costs follow typical spend per type. ``shape.UNFOLLOWED_WEBINARS`` webinars are marked
as never followed up by sales (R7: "75 people came to the webinar; what happened to that list?").

Content follows the question-led categories buyers search for (pricing and cost, problems,
comparisons, reviews, best-of) in five types (article, ebook, case study, webinar recording, video).
Most pieces are published; some are in production with a due date and some only requested by sales
(R10). Popularity is heavy-tailed (Zipf-like): a few pieces, led by the pricing article, earn most
of the touches, which is what makes "this one article brought $2M" visible.
"""

from __future__ import annotations

import bisect
import math
import random
import re
from dataclasses import dataclass, field
from datetime import timedelta

from revteam.demo import shape
from revteam.demo.people import COMPANY_NAME, COMPANY_SITE
from revteam.demo.timebase import DemoCalendar

COMPETITORS = ("Pipewise", "Closepath", "FunnelForge", "LeadLoom", "Quotastack")
TOPICS = {
    "pricing": ("revenue operations software", "lead routing", "marketing attribution", "a CRM add-on",
                "lead scoring", "an SDR team"),
    "problems": ("leads nobody works", "sales rejecting MQLs", "a broken SDR handoff", "slow lead response",
                 "attribution nobody trusts", "webinar lists left in a drawer", "a pipeline that stalls"),
    "comparisons": tuple(f"{COMPANY_NAME} vs {c}" for c in COMPETITORS) + ("spreadsheets vs a lead router",
                                                                           "in-house build vs buying"),
    "reviews": tuple(f"{c}" for c in COMPETITORS) + (COMPANY_NAME,),
    "best_of": ("lead routing tools", "attribution software", "revenue dashboards", "SLA trackers",
                "sales engagement platforms", "lead scoring tools"),
}
ARTICLE_TEMPLATES = {
    "pricing": ("How much does {t} cost?", "The real price of {t}", "{t}: a pricing checklist",
                "What to budget for {t} next year"),
    "problems": ("Why {t} happens, and how to fix it", "A field guide to {t}", "{t}: five warning signs",
                 "What {t} costs you"),
    "comparisons": ("{t}: an honest comparison", "{t}: which fits a 50-person sales team?",
                    "{t} for mid-market teams"),
    "reviews": ("{t} review after twelve months", "What customers say about {t}", "{t}: the good and the bad"),
    "best_of": ("The 10 best {t} this year", "Best {t} for B2B teams", "{t}: our shortlist"),
}
CUSTOMERS = ("Northwind Freight", "Helio Health", "Copperline Bank", "Arcadia Learning", "Tessellate Labs",
             "Bluefin Logistics", "Orbital Insurance", "Kestrel Robotics", "Juniper Foods", "Maple Systems",
             "Quarry Analytics", "Vantage Clinics", "Sable Security", "Ironwood Energy", "Lumen Retail",
             "Fjord Telecom", "Pinecrest Capital", "Atlas Manufacturing")
OUTCOMES = ("cut lead response from hours to minutes", "stopped losing webinar leads", "doubled SQLs in a quarter",
            "ended the MQL argument", "tied every campaign to revenue", "raised win rates by a third")
WEBINAR_TOPICS = ("Fixing the SDR handoff", "Lead scoring that sales believes", "Attribution for the board",
                  "Pricing pages that convert", "The weekly revenue meeting", "Building a service-level agreement",
                  "Content that sells", "Forecasting to the quarter end", "Winning back recycled leads",
                  "Running a lead review", "Events that pay for themselves", "From MQL to revenue")
EVENTS = ("RevOps Summit, Austin", "B2B Growth Expo, London", "SaaS Connect, Singapore", "Field dinner, Chicago",
          "Demand Gen Live, Berlin", "Pipeline Forum, Toronto", "Revenue Leaders Day, Sydney")
EMAILS = ("Monthly newsletter", "Nurture: new leads", "Nurture: recycled leads", "Product launch announcement",
          "Webinar invitations", "Event invitations", "Customer newsletter")
SEARCH = ("brand terms", "competitor terms", "category terms")
LINKEDIN = ("pricing guide", "SLA template", "ROI calculator", "case study", "webinar promotion", "demo offer")
SYNDICATION = ("TechTarget-style network", "Industry newsletter", "Analyst community", "Review site", "Podcast network")
SURGE_CAMPAIGN = "LinkedIn: RevOps career guide"
STATUS_MIX = (("published", 0.8), ("in_production", 0.1), ("requested", 0.1))
TYPE_COUNTS = {"case_study": 18, "webinar": 10, "video": 20, "ebook": 22}  # articles fill the rest
SECTIONS = {"article": "blog", "ebook": "resources", "case_study": "customers", "webinar": "webinars", "video": "videos"}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


@dataclass
class CampaignDraft:
    id: int
    name: str
    channel: str
    type: str
    start: float
    end: float
    cost: int
    owner_id: int
    followed_up: bool = True
    landing_url: str = ""


@dataclass
class ContentDraft:
    id: int
    title: str
    type: str
    category: str
    status: str
    requested: float | None
    due: float | None
    published: float | None
    url: str
    weight: float = 1.0


@dataclass
class Catalogue:
    campaigns: list[CampaignDraft]
    content: list[ContentDraft]
    by_channel: dict[str, list[CampaignDraft]] = field(default_factory=dict)
    by_id: dict[int, CampaignDraft] = field(default_factory=dict)
    surge: CampaignDraft | None = None  # the career-guide flight (see shape.SURGE_*)
    _by_day: dict[str, dict[int, list[CampaignDraft]]] = field(default_factory=dict)
    _published: list[ContentDraft] = field(default_factory=list)
    _cum: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.surge = next((c for c in self.campaigns if c.name == SURGE_CAMPAIGN), None)
        for c in sorted(self.campaigns, key=lambda c: c.start):
            self.by_channel.setdefault(c.channel, []).append(c)
            self.by_id[c.id] = c
            days = self._by_day.setdefault(c.channel, {})
            for d in range(math.floor(c.start), math.floor(c.end) + 1):
                days.setdefault(d, []).append(c)
        self._published = [c for c in self.content if c.status == "published"]
        total = 0.0
        for c in self._published:
            total += c.weight
            self._cum.append(total)

    def active(self, channel: str, day: float, rng: random.Random) -> CampaignDraft | None:
        live = [c for c in self._by_day.get(channel, {}).get(math.floor(day), ()) if c.start <= day <= c.end]
        return rng.choice(live) if live else None

    def next_dated(self, channel: str, day: float, within: float) -> CampaignDraft | None:
        """The first one-day campaign (webinar, event) on or after ``day``, no later than ``within`` days."""
        for c in self.by_channel.get(channel, ()):
            if day <= c.start <= day + within:
                return c
        return None

    def content_at(self, day: float, rng: random.Random, types: tuple[str, ...] | None = None) -> ContentDraft | None:
        """A popularity-weighted published piece that already existed on ``day``."""
        for _ in range(6):
            c = self._published[bisect.bisect_left(self._cum, rng.random() * self._cum[-1])]
            if c.published is not None and c.published <= day and (types is None or c.type in types):
                return c
        return None


def _campaigns(rng: random.Random, cal: DemoCalendar, marketing: list[int]) -> list[CampaignDraft]:
    out: list[CampaignDraft] = []
    demand, content_mgr, events_mgr, mops = marketing[0], marketing[1], marketing[2], marketing[3]
    span = cal.horizon + shape.WARMUP_DAYS

    def add(name: str, channel: str, type_: str, start: float, end: float, cost: int, owner: int) -> CampaignDraft:
        c = CampaignDraft(len(out) + 1, name, channel, type_, start, end, cost, owner)
        c.landing_url = f"{COMPANY_SITE}/lp/{slug(name)}"
        out.append(c)
        return c

    n_web = 10
    webinars = []
    for i in range(n_web):  # every five weeks or so, a Tuesday-Thursday at 16:00 UTC
        day = -shape.WARMUP_DAYS + 20 + i * (span - 30) / n_web + rng.uniform(-5, 5)
        day = float(int(day)) + 16 / 24
        while cal.weekday(day) not in (1, 2, 3):
            day += 1
        topic = WEBINAR_TOPICS[i % len(WEBINAR_TOPICS)]
        webinars.append(add(f"Webinar: {topic}", "webinar", "webinar", day, day + 0.05,
                            rng.randrange(3_000, 12_000, 250), content_mgr))
    past = [w for w in webinars if w.start < cal.horizon - 14]
    for w in rng.sample(past, min(shape.UNFOLLOWED_WEBINARS, len(past))):
        w.followed_up = False
    for i in range(6):  # paid search: three keyword groups, two half-year flights each
        start = -shape.WARMUP_DAYS + (i // 3) * span / 2
        add(f"Paid search: {SEARCH[i % 3]} (H{i // 3 + 1})", "paid_search", "paid_search", start,
            start + span / 2, rng.randrange(18_000, 45_000, 500), demand)
    for i in range(6):
        start = -shape.WARMUP_DAYS + i * span / 6 + rng.uniform(0, 10)
        add(f"LinkedIn: {LINKEDIN[i]}", "paid_social", "linkedin", start, start + rng.uniform(45, 80),
            rng.randrange(9_000, 30_000, 500), demand)
    for i in range(6):
        day = float(int(-shape.WARMUP_DAYS + 30 + i * (span - 45) / 6 + rng.uniform(-8, 8))) + 0.4
        add(f"Event: {EVENTS[i]}", "event", "event", day, day + rng.choice((1, 2, 3)),
            rng.randrange(15_000, 80_000, 1_000), events_mgr)
    for i, name in enumerate(EMAILS):
        whole_year = i < 3 or name == "Customer newsletter"
        start = -shape.WARMUP_DAYS if whole_year else rng.uniform(0, cal.horizon - 60)
        end = cal.horizon if whole_year else start + rng.uniform(20, 45)
        add(f"E-mail: {name}", "email", "email", start, end, rng.randrange(800, 4_000, 100), mops)
    for i in range(5):
        start = -shape.WARMUP_DAYS + 20 + i * span / 5
        add(f"Syndication: {SYNDICATION[i]}", "content_syndication", "content_syndication", start,
            start + rng.uniform(45, 70), rng.randrange(8_000, 26_000, 500), demand)
    # the career-guide flight: from the Monday SURGE_WEEKS weeks before this week's (UTC, as ISO weeks go)
    today = cal.now.date()
    start = cal.day_of(today - timedelta(days=today.weekday() + 7 * shape.SURGE_WEEKS)) + 7 / 24
    add(SURGE_CAMPAIGN, "paid_social", "linkedin", start, start + 7 * shape.SURGE_WEEKS + 21,
        rng.randrange(6_000, 12_000, 500), demand)
    return out


def _titles(rng: random.Random, webinars: list[CampaignDraft]) -> list[tuple[str, str, str]]:
    """(title, type, category) for every piece, the hero pricing article first."""
    seen: set[str] = set()
    out: list[tuple[str, str, str]] = []

    def add(title: str, type_: str, category: str) -> None:
        if title not in seen:
            seen.add(title)
            out.append((title, type_, category))

    add("How much does revenue operations software cost?", "article", "pricing")
    for w in webinars:
        add(f"Recording: {w.name.removeprefix('Webinar: ')}", "webinar", "problems")
    for i in range(TYPE_COUNTS["case_study"]):
        add(f"How {CUSTOMERS[i % len(CUSTOMERS)]} {OUTCOMES[i % len(OUTCOMES)]}", "case_study", "reviews")
    cats = list(TOPICS)
    for i in range(TYPE_COUNTS["video"]):
        cat = cats[i % len(cats)]
        topic = rng.choice(TOPICS[cat])  # one topic: its first letter capitalised (two draws made "Lales engagement")
        add(f"{topic[:1].upper()}{topic[1:]} in {rng.choice((3, 5, 7))} minutes (episode {i + 1})", "video", cat)
    for i in range(TYPE_COUNTS["ebook"]):
        cat = cats[i % len(cats)]
        add(f"The {('complete', 'practical', 'executive', 'field')[i % 4]} guide to {TOPICS[cat][i % len(TOPICS[cat])]}",
            "ebook", cat)
    combos = [(tpl, t, cat) for cat in cats for tpl in ARTICLE_TEMPLATES[cat] for t in TOPICS[cat]]
    rng.shuffle(combos)
    for tpl, t, cat in combos:
        if len(out) >= shape.N_CONTENT:
            break
        title = tpl.format(t=t)
        add(title[:1].upper() + title[1:], "article", cat)
    return out[: shape.N_CONTENT]


def _content(rng: random.Random, cal: DemoCalendar, webinars: list[CampaignDraft]) -> list[ContentDraft]:
    out: list[ContentDraft] = []
    recordings = {f"Recording: {w.name.removeprefix('Webinar: ')}": w for w in webinars}
    statuses, weights = zip(*STATUS_MIX)
    for rank, (title, type_, cat) in enumerate(_titles(rng, webinars)):
        cid = len(out) + 1
        requested = due = published = None
        w = recordings.get(title)
        if w is not None:
            status = "published" if w.start + 3 < cal.horizon else "in_production"
            requested = w.start - 30
            published = w.start + 2 if status == "published" else None
            due = w.start + 3
        else:
            status = "published" if rank == 0 else rng.choices(statuses, weights)[0]
            if status == "published":
                published = rng.uniform(-shape.WARMUP_DAYS - 400, cal.horizon - 10) if rank else -300.0
                requested = published - rng.uniform(14, 60)
                due = published + rng.uniform(-5, 5)
            elif status == "in_production":
                requested = cal.horizon - rng.uniform(10, 60)
                due = cal.horizon + rng.uniform(3, 45)
            else:
                requested = cal.horizon - rng.uniform(1, 40)
        url = f"{COMPANY_SITE}/{SECTIONS[type_]}/{slug(title)}"
        weight = 1.0 / (rank + 1) ** 1.05 if rank else 0.6  # the hero piece leads by far
        out.append(ContentDraft(cid, title, type_, cat, status, requested, due, published, url, weight))
    # popularity must not follow creation order beyond the hero: shuffle weights among the rest
    rest = [c.weight for c in out[1:]]
    rng.shuffle(rest)
    for c, wt in zip(out[1:], rest):
        c.weight = wt
    return out


def build_catalogue(rng: random.Random, cal: DemoCalendar, marketing: list[int]) -> Catalogue:
    campaigns = _campaigns(rng, cal, marketing)
    webinars = [c for c in campaigns if c.channel == "webinar"]
    return Catalogue(campaigns, _content(rng, cal, webinars))


def campaign_rows(cat: Catalogue, cal: DemoCalendar) -> list[dict[str, object]]:
    from decimal import Decimal

    return [
        {
            "id": c.id,
            "source_system": "revteam",
            "external_id": f"demo-cmp-{c.id:03d}",
            "name": c.name,
            "channel": c.channel,
            "type": c.type,
            "start_date": cal.to_date(c.start),
            "end_date": cal.to_date(c.end),
            "cost": Decimal(c.cost),
            "owner_id": c.owner_id,
        }
        for c in cat.campaigns
    ]


def content_rows(cat: Catalogue, cal: DemoCalendar) -> list[dict[str, object]]:
    def d(day: float | None) -> object:
        return None if day is None else cal.to_date(day)

    return [
        {
            "id": c.id,
            "source_system": "revteam",
            "external_id": f"demo-cnt-{c.id:03d}",
            "title": c.title,
            "type": c.type,
            "category": c.category,
            "status": c.status,
            "requested_at": d(c.requested),
            "due_date": d(c.due),
            "published_at": d(c.published),
            "url": c.url,
        }
        for c in cat.content
    ]
