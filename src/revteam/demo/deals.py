"""Deals: from SQL to opportunity, the buying committee, the cycle, and won or lost.

Per account, SQL contacts are taken in time order. The SDR hands each one to the account's AE
(``OwnerChange``). If the account already has an open deal, the contact joins it; otherwise the AE
opens a deal (``shape.SQL_TO_OPPORTUNITY``; the rest are recycled by the AE after a first call) and
may add colleagues to the buying committee (``shape.COMMITTEE_EXTRA``: more people in bigger
accounts). Contacts on a deal move to ``opportunity``, then ``customer`` when it is won, or back to
``recycled`` with the lost reason when it is lost; some customers become advocates. The AE accepts
the SQL handover by opening or joining the deal, or turns it down with a reason that recycles.

Cycles and sizes follow the segment (``shape.CYCLE_MEDIAN_DAYS``, ``shape.DEAL_MEDIAN_USD``: SMB
closes in weeks for thousands, enterprise in months for six figures); win rates fall up-market
(``shape.WIN_RATE_BY_SEGMENT``). Won deals that would close in the first month of a quarter are
often pulled into the last days of the one before (``shape.QUARTER_END_PULL``): the quarter-end push.
Each deal walks the pipeline (``plan_stages``, ``shape.PIPELINE_STAGES``): discovery on the day it is
opened, then demo, proposal and negotiation, each after a share of its cycle, and won or lost on the day
it closes. Won deals pass every stage; lost deals stall in the stage they reached last
(``shape.LOST_FURTHEST_STAGE``), so a deal in negotiation is more likely to be won than one in discovery.
A deal still unclosed at "today" is open, in the stage its walk has reached. Some customers buy more
later (``shape.EXPANSION_RATE``): expansion deals, no lifecycle move.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from revteam.demo import shape
from revteam.demo.accounts import AccountDraft
from revteam.demo.journeys import ContactDraft
from revteam.demo.people import People
from revteam.demo.timebase import DemoCalendar

LOST_REASONS = ("lost to competitor: Pipewise", "lost to competitor: Closepath", "lost to competitor: FunnelForge",
                "no decision", "budget cut", "price too high", "timing: project postponed", "went with an in-house build")
# the AE turns the SQL handover down (reject reason code, note, days back in nurture)
AE_DECLINE_REASONS = (("not_ready", "no project after the AE's first call", 90),
                      ("not_ready", "not the decision maker, no access to one yet", 60),
                      ("no_budget", "needs are too small for a paid plan today", 180))
PLANS = {"smb": ("Starter", "Growth"), "mid_market": ("Growth", "Scale"), "enterprise": ("Enterprise",)}
COMMITTEE_ROLES = ("influencer", "technical_buyer", "economic_buyer", "user")
LEADER_PERSONAS = ("Revenue leader", "Marketing leader")
MEETING_KINDS = ({"kind": "demo"}, {"kind": "proposal"}, {"kind": "negotiation"}, {"kind": "check-in"})
CALL = {"outcome": "connected"}
INTRO = {"kind": "intro after SQL handover"}
ATTACH_WINDOW_DAYS = 3.0  # an SQL this soon before an open deal starts is folded into it


@dataclass
class DealDraft:
    account: AccountDraft
    owner: int
    created: float
    close: float
    won: bool
    amount: int
    kind: str  # new | expansion
    name: str
    source: str | None
    campaign_id: int | None
    lost_reason: str | None = None
    contacts: list[tuple[ContactDraft, str]] = field(default_factory=list)
    id: int = 0
    stages: list[tuple[float, str]] = field(default_factory=list)  # (day, stage) moves, from plan_stages

    def outcome(self, horizon: float) -> str:
        if self.close > horizon:
            return "open"
        return "won" if self.won else "lost"

    def pipeline_stage(self, horizon: float) -> str:
        out = self.outcome(horizon)
        if out != "open":
            return out
        if self.stages:
            return next(stage for day, stage in reversed(self.stages) if day <= horizon or day == self.created)
        f = (horizon - self.created) / max(1e-9, self.close - self.created)
        return "discovery" if f < 0.3 else "demo" if f < 0.55 else "proposal" if f < 0.8 else "negotiation"


def plan_stages(deal: DealDraft, rng: random.Random) -> None:
    """The deal's walk through the pipeline as (day, stage) moves, from the day it is opened to its close.

    The cycle is split between the stages reached in proportion to ``shape.STAGE_TIME_SHARE``, each share
    jittered; a lost deal reaches a drawn stage (``shape.LOST_FURTHEST_STAGE``) and lingers there
    (``shape.LOST_STALL_FACTOR``) until it is lost. Example: a won deal opened on day 10 that closes on
    day 50 is in discovery from day 10, demo from about 20, proposal from about 30, negotiation from
    about 42, and won on day 50.
    """
    names = shape.PIPELINE_STAGES
    reached = len(names) if deal.won else 1 + rng.choices(range(len(names)), weights=shape.LOST_FURTHEST_STAGE)[0]
    spans = [shape.STAGE_TIME_SHARE[i] * rng.lognormvariate(0.0, shape.STAGE_TIME_SIGMA) for i in range(reached)]
    if not deal.won:
        spans[-1] *= shape.LOST_STALL_FACTOR
    scale = (deal.close - deal.created) / sum(spans)
    t = deal.created
    deal.stages = [(t, names[0])]
    for i in range(1, reached):
        t += spans[i - 1] * scale
        deal.stages.append((t, names[i]))
    deal.stages.append((deal.close, "won" if deal.won else "lost"))


class DealMaker:
    def __init__(self, rng: random.Random, cal: DemoCalendar, people: People) -> None:
        self.rng = rng
        self.cal = cal
        self.people = people

    def run(self, account: AccountDraft, contacts: list[ContactDraft]) -> list[DealDraft]:
        rng, cal, H = self.rng, self.cal, self.cal.horizon
        ae = account.owner_id
        deals: list[DealDraft] = []
        on_deal: set[int] = set()
        current: DealDraft | None = None
        for c in sorted((c for c in contacts if c.sql_at is not None and c.sql_at <= H), key=lambda c: c.sql_at):
            t = c.sql_at
            hours = rng.lognormvariate(math.log(shape.AE_INTRO_MEDIAN_HOURS), 1.0)  # the AE introduces themself
            c.touches.append((cal.business(t + hours / 24, rng), "sales_email", "sales", None, None, None, ae, INTRO))
            if current is not None and current.created - ATTACH_WINDOW_DAYS <= t < current.close:
                t_o = cal.business(max(t, current.created) + rng.uniform(0.5, 4), rng)
                if t_o < min(current.close, H):
                    c.hand_to(t_o - 0.01, ae, "SDR handover to AE: joins an open deal")
                    self._accepted(c, c.move(t_o, "opportunity", user=ae))
                    current.contacts.append((c, rng.choice(COMMITTEE_ROLES)))
                    on_deal.add(c.id)
                    self._close_moves(c, current)
                continue
            if rng.random() >= shape.SQL_TO_OPPORTUNITY:
                c.hand_to(t + 0.05, ae, "SDR handover to AE: meeting booked")
                c.recycle(c.handoffs[-1], cal, rng, cal.business(t + rng.uniform(3, 15), rng), ae,
                          rng.choice(AE_DECLINE_REASONS))
                continue
            t_o = cal.business(t + rng.uniform(0.5, 6), rng)
            if t_o > H:
                continue
            deal = self._new_deal(account, c, t_o)
            c.hand_to(t_o - 0.01, ae, "SDR handover to AE: meeting booked")
            self._accepted(c, c.move(t_o, "opportunity", user=ae))
            deal.contacts.append((c, "decision_maker" if c.persona in LEADER_PERSONAS else "champion"))
            on_deal.add(c.id)
            self._committee(deal, contacts, on_deal, t_o)
            for member, _role in deal.contacts:
                self._close_moves(member, deal)
            deals.append(deal)
            current = deal
            if deal.won and deal.close <= H and rng.random() < shape.EXPANSION_RATE:
                expansion = self._expansion(deal)
                if expansion.created <= H:
                    deals.append(expansion)
        for d in deals:
            self._sales_touches(d)
        return deals

    @staticmethod
    def _accepted(c: ContactDraft, day: float) -> None:
        """The AE takes the SQL handover by opening (or joining) the opportunity."""
        h = c.handoffs[-1]
        if h.kind == "sql" and h.outcome is None:
            h.outcome, h.decided = "accepted", day

    def _cycle(self, segment: str, factor: float = 1.0) -> float:
        return self.rng.lognormvariate(math.log(shape.CYCLE_MEDIAN_DAYS[segment] * factor), shape.CYCLE_SIGMA)

    def _new_deal(self, account: AccountDraft, primary: ContactDraft, t_o: float) -> DealDraft:
        rng, cal, seg = self.rng, self.cal, account.segment
        ae = account.owner_id
        won = rng.random() < shape.WIN_RATE_BY_SEGMENT[seg] * self.people.profile(ae).win
        close = t_o + self._cycle(seg, 1.0 if won else shape.LOST_CYCLE_FACTOR)
        if won:
            q0, _q1 = cal.quarter_bounds(close)
            if close - q0 < shape.QUARTER_END_WINDOW_DAYS and rng.random() < shape.QUARTER_END_PULL and q0 - 6 > t_o + 5:
                close = q0 - rng.uniform(0.3, 6)  # pulled into the last days of the previous quarter
        close = cal.business(close, rng)
        amount = int(round(rng.lognormvariate(math.log(shape.DEAL_MEDIAN_USD[seg]), shape.DEAL_SIGMA), -2))
        plan = rng.choice(PLANS[seg])
        return DealDraft(account, ae, t_o, close, won, max(amount, 1_000), "new", f"{account.name}: {plan} plan",
                         primary.source, primary.campaign_id, None if won else rng.choice(LOST_REASONS))

    def _committee(self, deal: DealDraft, contacts: list[ContactDraft], on_deal: set[int], t_o: float) -> None:
        lo, hi = shape.COMMITTEE_EXTRA[deal.account.segment]
        k = self.rng.randint(lo, hi)
        if not k:
            return
        pool = [x for x in contacts if x.id not in on_deal and x.stage in ("subscriber", "lead")
                and x.moves and x.moves[-1][0] < t_o]
        for x in self.rng.sample(pool, min(k, len(pool))):
            at = t_o + self.rng.uniform(0.5, min(10.0, max(1.0, (deal.close - t_o) / 2)))
            if at >= min(deal.close, self.cal.horizon):
                continue
            x.hand_to(at - 0.001, deal.owner, "added to the buying committee by the AE")
            x.move(at, "opportunity", user=deal.owner)
            deal.contacts.append((x, self.rng.choice(COMMITTEE_ROLES)))
            on_deal.add(x.id)

    def _close_moves(self, c: ContactDraft, deal: DealDraft) -> None:
        if deal.close > self.cal.horizon:
            return
        if deal.won:
            c.move(deal.close, "customer", user=deal.owner)
            if self.rng.random() < shape.ADVOCATE_SHARE:
                c.move(deal.close + self.rng.uniform(30, 150), "advocate", user=self.rng.choice(self.people.marketing))
        else:
            c.move(deal.close + 0.01, "recycled", user=deal.owner, reason=f"deal lost: {deal.lost_reason}")

    def _expansion(self, base: DealDraft) -> DealDraft:
        rng = self.rng
        created = self.cal.business(base.close + rng.uniform(60, 200), rng)
        won = rng.random() < shape.EXPANSION_WIN_RATE
        close = self.cal.business(created + self._cycle(base.account.segment, 0.6), rng)
        amount = int(round(base.amount * rng.uniform(0.2, 0.5), -2))
        d = DealDraft(base.account, base.owner, created, close, won, max(amount, 500), "expansion",
                      f"{base.account.name}: expansion", "expansion", None, None if won else rng.choice(LOST_REASONS))
        d.contacts.append((base.contacts[0][0], "champion"))
        return d

    def _sales_touches(self, d: DealDraft) -> None:
        """AE meetings, calls and e-mails spread over the deal's life (cut at "today" later)."""
        rng, cal = self.rng, self.cal
        end = min(d.close, cal.horizon)
        span = max(0.5, end - d.created)
        n_meet, n_mail, n_call = 1 + int(span / 18), 1 + int(span / 5), int(span / 10)
        people = [c for c, _ in d.contacts]
        for n, kind in ((n_meet, "meeting"), (n_mail, "sales_email"), (n_call, "sales_call")):
            for _ in range(n):
                at = cal.business(d.created + rng.random() * span, rng)
                who = people[0] if rng.random() < 0.7 else rng.choice(people)
                props = rng.choice(MEETING_KINDS) if kind == "meeting" else CALL if kind == "sales_call" else None
                who.touches.append((at, kind, "sales", None, None, None, d.owner, props))
