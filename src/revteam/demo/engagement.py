"""Marketing touches: what a known contact does between stage changes.

A contact engages as a Poisson process at ``shape.TOUCHES_PER_MONTH`` times a personal, log-normal
engagement level (a few people do most of the clicking), from the day they become known until
"today". In the three weeks before crossing the MQL threshold the rate rises by
``shape.PRE_MQL_BOOST`` (scores rise because people engage); after a disqualification most of it
stops. The mix of touches (``ENGAGE_MIX``) is the one marketing-automation exports show: page views
and e-mail opens dominate, downloads, ad clicks, webinars and events are rarer. Every touch names its
channel, and where one was running, the campaign; page views and downloads name the content piece and
its URL. Opted-out contacts receive no e-mail.

A touch is a plain tuple ``(day, type, channel, campaign_id, content_id, url, actor_user_id, props)``.
"""

from __future__ import annotations

import random

from revteam.demo import shape
from revteam.demo.catalogue import Catalogue
from revteam.demo.draw import Weighted
from revteam.demo.people import COMPANY_SITE
from revteam.demo.timebase import DemoCalendar

Touch = tuple  # (day, type, channel, campaign_id, content_id, url, actor_user_id, props)

ENGAGE_MIX = (("page_view", 0.42), ("email_open", 0.30), ("email_click", 0.08), ("ad_click", 0.07),
              ("content_download", 0.06), ("webinar", 0.05), ("event", 0.02))
SITE_PAGES = tuple(f"{COMPANY_SITE}{p}" for p in ("/", "/pricing", "/product", "/product/routing", "/product/attribution",
                                                  "/integrations", "/customers", "/security", "/about", "/careers"))
PRICING_URL = f"{COMPANY_SITE}/pricing"
DEMO_URL = f"{COMPANY_SITE}/demo"
CONTACT_URL = f"{COMPANY_SITE}/contact"
WEB_CHANNELS = (("organic_search", 0.45), ("direct", 0.35), ("referral", 0.12), ("paid_search", 0.08))
KINDS = Weighted(ENGAGE_MIX)
WEB = Weighted(WEB_CHANNELS)


class Engager:
    def __init__(self, rng: random.Random, cal: DemoCalendar, cat: Catalogue) -> None:
        self.rng = rng
        self.cal = cal
        self.cat = cat

    def web_channel(self, day: float) -> tuple[str, int | None]:
        ch = WEB.pick(self.rng)
        if ch == "paid_search":
            camp = self.cat.active("paid_search", day, self.rng)
            return ("paid_search", camp.id) if camp else ("organic_search", None)
        return ch, None

    def page_view(self, day: float, out: list[Touch], content_share: float = 0.55) -> None:
        ch, camp = self.web_channel(day)
        if self.rng.random() < content_share:
            c = self.cat.content_at(day, self.rng, ("article", "video", "case_study"))
            if c is not None:
                out.append((day, "page_view", ch, camp, c.id, c.url, None, None))
                return
        url = PRICING_URL if self.rng.random() < 0.2 else self.rng.choice(SITE_PAGES)
        out.append((day, "page_view", ch, camp, None, url, None, None))

    def download(self, day: float, out: list[Touch], channel: str | None = None, campaign: int | None = None) -> None:
        c = self.cat.content_at(day, self.rng, ("ebook", "case_study", "webinar"))
        if c is None:
            return
        if channel is None:
            channel, campaign = self.web_channel(day)
            out.append((day - 0.002, "page_view", channel, campaign, c.id, c.url, None, None))
        out.append((day, "content_download", channel, campaign, c.id, c.url, None, None))

    def webinar(self, day: float, out: list[Touch], horizon: float, attend: float | None = None) -> float | None:
        """Register for the next webinar; returns the attendance day (or None)."""
        w = self.cat.next_dated("webinar", day, 35)
        if w is None:
            return None
        out.append((day, "webinar_registered", "webinar", w.id, None, w.landing_url, None, None))
        p = shape.WEBINAR_ATTEND_RATE if attend is None else attend
        if w.start <= horizon and self.rng.random() < p:
            at = w.start + self.rng.uniform(0, 0.01)
            out.append((at, "webinar_attended", "webinar", w.id, None, None, None, None))
            return at
        return None

    def engage(self, day0: float, day1: float, level: float, out: list[Touch], *, boost: tuple[float, float] | None,
               opted_out: bool, horizon: float) -> None:
        """Append the contact's engagement touches in (day0, day1]."""
        rng = self.rng
        rate = shape.TOUCHES_PER_MONTH / 30.0 * level
        times: list[float] = []
        if rate > 0:
            t = day0
            while True:
                t += rng.expovariate(rate)
                if t > day1:
                    break
                times.append(t)
        if boost is not None and boost[1] > boost[0]:
            t, end = boost
            brate = rate * (shape.PRE_MQL_BOOST - 1.0)
            while brate > 0:
                t += rng.expovariate(brate)
                if t >= end:
                    break
                times.append(t)
        for t in times:
            kind = KINDS.pick(rng)
            if kind == "page_view":
                self.page_view(t, out)
            elif kind in ("email_open", "email_click"):
                if opted_out:
                    continue
                camp = self.cat.active("email", t, rng)
                cid = camp.id if camp else None
                out.append((t, "email_open", "email", cid, None, None, None, None))
                if kind == "email_click":
                    c = self.cat.content_at(t, rng)
                    if c is not None:
                        out.append((t + 0.001, "email_click", "email", cid, c.id, c.url, None, None))
            elif kind == "ad_click":
                ch = "paid_social" if rng.random() < 0.45 else "paid_search"
                camp = self.cat.active(ch, t, rng)
                if camp is None:
                    self.page_view(t, out)
                else:
                    out.append((t, "ad_click", ch, camp.id, None, camp.landing_url, None, None))
            elif kind == "content_download":
                self.download(t, out)
            elif kind == "webinar":
                self.webinar(t, out, horizon)
            else:  # event
                ev = self.cat.next_dated("event", t, 25)
                if ev is not None and ev.start <= horizon:
                    at = ev.start + rng.uniform(0, max(0.2, ev.end - ev.start - 0.6))
                    out.append((at, "event_attended", "event", ev.id, None, None, None, None))


def engagement_level(rng: random.Random) -> float:
    """A contact's personal engagement multiplier: log-normal with mean 1."""
    s = shape.ENGAGEMENT_SIGMA
    return rng.lognormvariate(-s * s / 2, s)

