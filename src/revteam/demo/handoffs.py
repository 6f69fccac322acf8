"""The demo's handoff records: the SLA it runs under, routing rules, and every handover as a row.

Everything here is pure (a function of the generated company and "now"), so it is part of
``generate_company``; the few records that go through the app's services (the SLA's proposal and
signatures, disputes and votes) are *planned* here and carried out by ``build`` on the database.

* **The SLA** (``sla_plan``): version 1 proposed by the head of marketing about ``shape.SLA_V1_DAY``
  days into the year and signed by her (marketing) and the CRO (sales); version 2, in force today,
  ``shape.SLA_V2_DAYS_BEFORE_NOW`` days ago, signed by her and the VP sales, raises marketing's monthly
  commitment and adds the revenue-operations lead (an admin, neutral between the teams) to the dispute
  committee, which is made of leaders and admins only (``agreement.check_committee``). Business hours are London's
  08:00–18:00, the hours the generator's reps work (``timebase.business``).
* **Routing** (``routing_rule_rows``): MQLs go to the SDRs of the account's territory (one rule per
  sales team, matching the regions and segments of ``rep_profiles``), then round robin over all SDRs;
  SQL handovers go to the account's owner, then the AEs of the territory.
* **Handoffs** (``handoff_rows``): one row per ``HandoffDraft`` handed over by "now": kind ``mql`` (the
  SDR who got it) or ``sql`` (SDR → the account's AE). Status from what the rep did by "now": accepted,
  rejected, recycled (``returned`` once the return date passed and the worker moved the lead back),
  or still pending. The first touch is the first call, e-mail or meeting on the contact after the
  handover, or the decision if that came first. Priority, ``score_total`` and the context packet are
  the real scorer's view at the handover (``scores.score_at_handoffs``); the clock is
  ``domain.sla.start_clock`` with the terms of the version in force at the handover (none before the
  first SLA). Packets of the last ``shape.FULL_CONTEXT_DAYS`` days have every field
  ``services.handoff.build_context`` fills, as of the handover; older ones keep the score, reasons,
  person, account and campaign.
* **Notifications**: what the app would have sent and delivered (assignments of the last two weeks,
  every at-risk and breach escalation, scoring reviews) is in the outbox as sent, so the worker's first
  tick has nothing old to send.
* **Scoring reviews**: ``domain.rejections.reviews_due`` on the handoffs as the worker's tick counts
  them, at the first tick of each of the last weeks.
* **Disputes** (``plan_disputes``): a few rejections of well-scored leads disputed by marketing —
  one upheld 3–1, one returned to sales and then accepted, a 2–2 tie (the rejection stands), one
  returned this week with a fresh clock, two still open with one vote.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from revteam.demo import shape
from revteam.demo.deals import DealDraft
from revteam.demo.journeys import ContactDraft, HandoffDraft
from revteam.demo.people import DAILY_CAPACITY, DEMO_EMAIL_DOMAIN, SALES_MANAGER, TEAMS, TERRITORIES, USERS, email_of
from revteam.demo.scores import ContactTouches, TouchColumns, naive64
from revteam.demo.timebase import DemoCalendar
from revteam.domain.rejections import WeekCount, reviews_due
from revteam.domain.scoring import ScoreBatch, ScoringModel
from revteam.domain.sla import SlaTerms, start_clock
from revteam.services.handoff.agreement import DEFAULT_TERMS, terms_from_json
from revteam.services.handoff.hand_over import RECENT_TOUCHES, priority_for
from revteam.services.qualify.scoring import reasons_json

UTC = timezone.utc
NAMES = {uid: name for uid, _local, name, _role, _team, _title in USERS}
ROLES = {uid: role for uid, _local, _name, role, _team, _title in USERS}
TEAM_NAMES = {tid: name for tid, name, _ in TEAMS}
HEAD_OF_MARKETING, CRO, VP_SALES, DEMAND_GEN, REVOPS = 4, 2, 3, 5, 1
TICK_MINUTES = 1.0  # the worker's interval: an escalation goes out within a minute of its moment
ASSIGNMENT_NOTICE_DAYS = 14

# notification preferences a few people chose (event -> channels; [] mutes it). E-mail only: the demo
# has no chat webhook the worker could deliver to.
PREFERENCES = ((VP_SALES, "at_risk", []),  # he manages every rep: breaches are enough
               (HEAD_OF_MARKETING, "digest", []),
               (DEMAND_GEN, "review", ["email"]),
               (CRO, "dispute", ["email"]))
GROUPS = (  # (id, name, event, target, members, (member, days ago they left) or None)
    (1, "Revenue alerts", "breach", f"revenue-alerts@{DEMO_EMAIL_DOMAIN}", (CRO, VP_SALES, HEAD_OF_MARKETING, 1),
     (1, 40)),
    (2, "Scoring reviews", "review", f"marketing-ops@{DEMO_EMAIL_DOMAIN}", (HEAD_OF_MARKETING, 5, 6, 7, 8), None),
)


# --- the SLA ---------------------------------------------------------------------------------------
@dataclass
class SlaVersion:
    version: int
    text: str
    terms: dict[str, Any]
    committee: list[int]
    proposed_by: int
    proposed_at: datetime
    signatures: list[tuple[str, int, datetime]]  # (side, user, when)
    parsed: SlaTerms = field(init=False)

    def __post_init__(self) -> None:
        self.parsed = terms_from_json(self.version, self.terms)

    @property
    def in_force_at(self) -> datetime:
        return max(at for _side, _user, at in self.signatures)


def _sla_text(t: dict[str, Any]) -> str:
    r = t["response_minutes"]
    day = (int(t["closes"][:2]) - int(t["opens"][:2])) * 60
    return (
        "Marketing and sales agree:\n"
        "1. Marketing hands over a lead when it reaches the MQL threshold of the scoring model in force, or asks "
        "for a demo or pricing.\n"
        f"2. Sales responds to hot leads within {r['hot'] // 60} business hour, warm leads within "
        f"{r['warm'] // day} business day, cold leads within {r['cold'] // day} business days "
        f"(business hours {t['opens']}–{t['closes']} London time, Monday to Friday).\n"
        f"3. Sales makes at least {t['min_attempts']} attempts within {t['attempts_within_minutes'] // day} business "
        "days before rejecting a lead for no response.\n"
        "4. Sales accepts or rejects every lead with a reason from the agreed list; not-ready leads go back to "
        "nurture with a return date.\n"
        f"5. Marketing delivers {t['mqls_per_month']} MQLs and {t['sals_per_month']} sales-accepted leads a month.\n"
        "6. Disputed rejections go to the committee below; its decision is final."
    )


def sla_plan(cal: DemoCalendar, scale: float, rng: random.Random) -> list[SlaVersion]:
    """The two versions of the agreement: proposals and signatures at business moments."""
    hours = {"tz": "Europe/London", "opens": "08:00", "closes": "18:00"}
    day = 600  # minutes in a business day
    v1 = {**DEFAULT_TERMS, **hours, "response_minutes": {"hot": 60, "warm": day, "cold": 2 * day},
          "attempts_within_minutes": 3 * day,
          "mqls_per_month": max(1, round(270 * scale / 5) * 5 or 1), "sals_per_month": max(1, round(150 * scale / 5) * 5 or 1)}
    v2 = {**v1, "mqls_per_month": max(1, round(330 * scale / 5) * 5 or 1), "sals_per_month": max(1, round(175 * scale / 5) * 5 or 1)}

    def at(d: float) -> datetime:
        return cal.to_datetime(cal.business(d, rng))

    def after(first: datetime, planned: datetime) -> datetime:
        # business time snaps a weekend to Monday morning with a random minute: the second head signs after
        # the first even when both days fall on one weekend (the version comes into force at the second)
        return max(planned, first + timedelta(minutes=20))

    p1 = shape.SLA_V1_DAY
    p2 = cal.horizon - shape.SLA_V2_DAYS_BEFORE_NOW
    # the same draws in the same order as ever (the rest of the story depends on the generator's state)
    proposed1, m1, s1 = at(p1), at(p1 + 1.2), at(p1 + 4.1)
    proposed2, m2, s2 = at(p2), at(p2 + 0.9), at(p2 + 3.2)
    return [
        SlaVersion(1, _sla_text(v1), v1, [CRO, VP_SALES, HEAD_OF_MARKETING], HEAD_OF_MARKETING, proposed1,
                   [("marketing", HEAD_OF_MARKETING, m1), ("sales", CRO, after(m1, s1))]),
        SlaVersion(2, _sla_text(v2), v2, [CRO, VP_SALES, HEAD_OF_MARKETING, REVOPS], HEAD_OF_MARKETING, proposed2,
                   [("marketing", HEAD_OF_MARKETING, m2), ("sales", VP_SALES, after(m2, s2))]),
    ]


def in_force(plan: list[SlaVersion], at: datetime) -> SlaVersion | None:
    live = [v for v in plan if v.in_force_at <= at]
    return max(live, key=lambda v: v.in_force_at) if live else None


# --- routing and notification settings ----------------------------------------------------------
def _team_rule_label(team: int, role: str) -> str:
    return f"{TEAM_NAMES[team]} {'SDRs' if role == 'sdr' else 'AEs'}"


def routing_rule_rows() -> list[dict[str, Any]]:
    """SDR rules: the territory of each sales team, then everyone; AE rules: account owner, territory."""
    by_team: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for cell, team in TERRITORIES.items():
        by_team[team].append(cell)
    reps = defaultdict(list)
    for uid, _local, _name, role, team, _title in USERS:
        if role in DAILY_CAPACITY:
            reps[(team, role)].append(uid)
    rows: list[dict[str, Any]] = []

    def add(role: str, strategy: str, label: str, match: dict[str, list[str]] | None, pool: list[int] | None) -> None:
        rows.append({"id": len(rows) + 1, "position": sum(r["for_role"] == role for r in rows) + 1, "strategy": strategy,
                     "label": label, "match": match, "pool": pool, "for_role": role})

    for role in ("sdr", "ae"):
        if role == "ae":
            add("ae", "account_owner", "Account owner", None, None)
        for team in sorted(by_team):
            cells = by_team[team]
            add(role, "territory", _team_rule_label(team, role),
                {"region": sorted({r for r, _ in cells}), "segment": sorted({s for _, s in cells})}, reps[(team, role)])
        add(role, "round_robin", f"All {'SDRs' if role == 'sdr' else 'AEs'} (fallback)", None,
            sorted(u for (t, r), us in reps.items() if r == role for u in us))
    return rows


def notification_rows(cal: DemoCalendar) -> dict[str, list[dict[str, Any]]]:
    prefs = [{"user_id": u, "event": e, "channels": ch} for u, e, ch in PREFERENCES]
    groups = [{"id": gid, "name": name, "event": event, "channel": "email", "target": target}
              for gid, name, event, target, _members, _left in GROUPS]
    members = []
    for gid, _name, _event, _target, who, left in GROUPS:
        for uid in who:
            gone = left is not None and left[0] == uid
            members.append({"group_id": gid, "user_id": uid,
                            "left_at": cal.to_datetime(cal.horizon - left[1]) if gone and left else None})
    return {"notification_prefs": prefs, "notification_groups": groups, "group_memberships": members}


def _channels(uid: int, event: str) -> list[str]:
    for u, e, ch in PREFERENCES:
        if u == uid and e == event:
            return list(ch)
    return ["email"]


# --- handoffs --------------------------------------------------------------------------------------
def _iso(at: np.datetime64) -> str:
    return at.astype(datetime).replace(tzinfo=UTC).isoformat()


class HandoffWriter:
    def __init__(self, cal: DemoCalendar, model: ScoringModel, plan: list[SlaVersion], touches: TouchColumns,
                 accounts: dict[int, dict[str, Any]], campaigns: dict[int, str], deals: list[DealDraft]) -> None:
        self.cal = cal
        self.model = model
        self.plan = plan
        self.touches = ContactTouches(touches)
        self.t = touches
        self.accounts = accounts
        self.campaigns = campaigns
        self.deals_by_account: dict[int, list[DealDraft]] = defaultdict(list)
        for d in deals:
            self.deals_by_account[d.account.id].append(d)
        self.now = cal.now
        self.now64 = naive64(cal.now)

    def build(self, drafts: list[ContactDraft], contact_rows: list[tuple], fields: dict[str, list[Any]],
              scored: ScoreBatch | None = None) -> tuple[list[tuple[ContactDraft, HandoffDraft]], list[datetime]]:
        H = self.cal.horizon
        items = [(c, h) for c in drafts for h in c.handoffs if h.at <= H]
        items.sort(key=lambda x: (x[1].at, x[0].id, x[1].kind))
        return items, [self.cal.to_datetime(h.at) for _c, h in items]

    def rows(self, items: list[tuple[ContactDraft, HandoffDraft]], handed: list[datetime], batch: ScoreBatch,
             contact_rows: list[tuple]) -> list[dict[str, Any]]:
        cal, H, to_dt = self.cal, self.cal.horizon, self.cal.to_datetime
        full_since = self.now - timedelta(days=shape.FULL_CONTEXT_DAYS)
        out = []
        for i, ((c, h), at) in enumerate(zip(items, handed)):
            total = float(batch.total[i])
            fast = h.kind == "mql" and bool(batch.fast_track_rule[i] >= 0)
            priority = priority_for(self.model, round(total, 3), fast)
            decided = h.decided if h.outcome is not None and h.decided is not None and h.decided <= H else None
            status = "pending" if decided is None else h.outcome
            if status == "recycled" and h.returned is not None and h.returned <= H:
                status = "returned"
            idx = self.touches.upto(c.id, self.now64, naive64(at))  # the contact's touches from the handover on
            sales = idx[self.t.sales[idx]]
            first = self.t.at[sales[0]].astype(datetime).replace(tzinfo=UTC) if len(sales) else None
            decided_at = to_dt(decided) if decided is not None else None
            if decided_at is not None and (first is None or decided_at < first):
                first = decided_at
            sla = in_force(self.plan, at)
            clock = start_clock(sla.parsed, priority, at) if sla is not None else None
            before = self.touches.upto(c.id, naive64(at))
            camp = [j for j in before if self.t.campaign_id[j]]
            acct = self.accounts[c.account.id]
            if h.kind == "mql":
                label = _team_rule_label(c.account.team, "sdr")
                reason = f"{NAMES[h.rep]}: weighted round robin in {label} (weight 1 of 2), by {label}"
            else:
                label = "Account owner"
                reason = f"{NAMES[h.rep]}: owns the account ({NAMES[h.rep]}), by {label}"
            row = contact_rows[c.id - 1]
            out.append({
                "id": i + 1, "contact_id": c.id, "kind": h.kind, "rep_id": h.rep, "status": status,
                "priority": priority, "handed_at": at, "sla_version": sla.version if sla else None,
                "at_risk_at": clock.at_risk_at if clock else None, "due_at": clock.due_at if clock else None,
                "first_touch_at": first, "decided_at": decided_at,
                "reject_reason": h.code if decided is not None and h.code else None,
                "reject_note": h.note if decided is not None and h.code else None,
                "recycle_until": cal.to_date(h.until) if decided is not None and h.until is not None else None,
                "routing_rule": label, "routing_reason": reason, "score_total": round(total, 3),
                "source": row[9], "campaign_id": int(self.t.campaign_id[camp[-1]]) if camp else row[10],
                "context": self._context(c, h, at, batch, i, before, row, acct, full=at >= full_since),
            })
        return out

    def _context(self, c: ContactDraft, h: HandoffDraft, at: datetime, batch: ScoreBatch, i: int,
                 before: np.ndarray, row: tuple, acct: dict[str, Any], *, full: bool) -> dict[str, Any]:
        t = self.t
        score = {"total": round(float(batch.total[i]), 3), "fit": float(batch.fit[i]),
                 "engagement": round(float(batch.engagement[i]), 3), "reasons": reasons_json(batch, i),
                 "model_version": batch.model.version}
        camp_touch = next((t.campaign_name[j] for j in before[::-1] if t.campaign_name[j]), None)
        campaign = self.campaigns.get(row[10]) if row[10] else camp_touch
        account = {"name": acct["name"], "industry": acct["industry"], "employees": acct["employees"],
                   "region": acct["region"], "segment": acct["segment"]}
        if not full:
            return {"score": score, "touch_count": len(before), "persona": row[8], "title": row[6],
                    "campaign": campaign, "source": row[9], "account": account, "packet": "summary"}
        recent = before[::-1][:RECENT_TOUCHES]
        content: list[dict[str, Any]] = []
        for j in before[::-1]:
            title = t.content_title[j]
            if title and title not in [x["title"] for x in content]:
                content.append({"title": title, "category": t.content_category[j]})
        day = self.cal.horizon - (self.now - at).total_seconds() / 86_400
        deals = [{"name": d.name, "stage": d.pipeline_stage(day), "amount": float(d.amount), "currency": "USD"}
                 for d in self.deals_by_account.get(c.account.id, ()) if d.created <= day < d.close]
        account["open_deals"] = deals
        owners = [NAMES.get(frm, f"user {frm}") for d, frm, _to, _why in sorted(c.owners, key=lambda o: o[0])
                  if frm is not None and d < day]
        return {
            "score": score,
            "recent_touches": [{"type": t.type[j], "at": _iso(t.at[j]), "url": t.url[j], "campaign": t.campaign_name[j],
                                "content": t.content_title[j]} for j in recent],
            "touch_count": len(before), "persona": row[8], "title": row[6], "content_consumed": content[:10],
            "campaign": campaign, "source": row[9], "account": account, "previous_owners": owners,
        }


# --- what the worker sent ----------------------------------------------------------------------
def _message(key: str, event: str, uid: int, subject: str, body: str, at: datetime) -> dict[str, Any]:
    sent = at + timedelta(seconds=20)
    return {"key": f"{key}:u{uid}:email", "event": event, "user_id": uid, "channel": "email", "target": email_of_user(uid),
            "subject": subject, "body": body, "created_at": at, "next_attempt_at": at, "attempts": 1, "status": "sent",
            "claimed_by": None, "claimed_at": None, "sent_at": sent, "last_error": None}


def email_of_user(uid: int) -> str:
    local = next(loc for u, loc, *_ in USERS if u == uid)
    return email_of(local)


def outbox_rows(handoffs: list[dict[str, Any]], names: dict[int, str], titles: dict[int, str | None],
                now: datetime) -> list[dict[str, Any]]:
    """Assignments of the last two weeks and every escalation the worker sent, as ``sla_tick`` words them."""
    out = []
    tick = timedelta(minutes=TICK_MINUTES)
    notice_since = now - timedelta(days=ASSIGNMENT_NOTICE_DAYS)
    for h in handoffs:
        rep, name = h["rep_id"], names[h["contact_id"]]
        if rep is None:
            continue
        if h["handed_at"] >= notice_since and "email" in _channels(rep, "assignment"):
            due = f", respond by {h['due_at']:%a %d %b %H:%M} UTC" if h["due_at"] else ""
            why = h["routing_reason"]
            out.append(_message(f"handoff:{h['id']}:assigned", "assignment", rep, f"New {h['priority']} lead: {name}",
                                f"{name} ({titles[h['contact_id']] or 'no title'}) was handed to you{due}.\nWhy you: {why}.",
                                h["handed_at"]))
        if h["at_risk_at"] is None:
            continue
        first = h["first_touch_at"]
        for level, at, who in (("at_risk", h["at_risk_at"], (rep,)), ("breached", h["due_at"], (rep, SALES_MANAGER))):
            if at + tick > now or (first is not None and first <= at):
                continue
            verb = "is at risk" if level == "at_risk" else "breached the SLA"
            event = "at_risk" if level == "at_risk" else "breach"
            for uid in who:
                if "email" in _channels(uid, event):
                    out.append(_message(f"handoff:{h['id']}:{level}", event, uid,
                                        f"{h['priority'].title()} lead {name} {verb}",
                                        f"Handed over {h['handed_at']:%a %d %b %H:%M} UTC, due {h['due_at']:%a %d %b %H:%M} UTC, "
                                        "no sales touch yet.", at + tick))
    return out


# --- scoring reviews ---------------------------------------------------------------------------
def _week(at: datetime) -> tuple[int, int]:
    iso = at.isocalendar()
    return iso.year, iso.week


def reviews_at(facts: list[tuple[tuple[int, int], str, str, str | None, datetime | None, datetime]],
               at: datetime) -> list[Any]:
    """What ``sla_tick._reviews`` finds at ``at``, with each handoff's rejection as it stood then.
    ``facts``: (ISO week, week label, source, reject reason, decided at, handed at) of every MQL handoff."""
    this_week = _week(at)
    handed: dict[tuple[str, str], int] = defaultdict(int)
    rejected: dict[tuple[str, str, str], int] = defaultdict(int)
    for wk, week, source, reason, decided, handed_at in facts:
        if wk >= this_week or handed_at > at:
            continue  # only complete weeks
        handed[(source, week)] += 1
        if reason and decided is not None and decided <= at:
            rejected[(source, reason, week)] += 1
    weeks_by_source: dict[str, list[str]] = defaultdict(list)
    for source, week in sorted(handed):
        weeks_by_source[source].append(week)
    counts = {}
    for (source, reason, _w) in rejected:
        counts[(source, reason)] = [WeekCount(w, handed[(source, w)], rejected.get((source, reason, w), 0))
                                    for w in weeks_by_source[source][-4:]]
    return reviews_due(counts)


def review_rows(handoffs: list[dict[str, Any]], now: datetime, weeks: int = 10) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Reviews opened at the first tick of each of the last ``weeks`` weeks, and the notices sent."""
    facts = []
    for h in handoffs:
        if h["kind"] == "mql":
            y, w = _week(h["handed_at"])
            facts.append(((y, w), f"{y}-W{w:02d}", h["source"] or "(none)", h["reject_reason"], h["decided_at"],
                          h["handed_at"]))
    monday = datetime.combine(now.date() - timedelta(days=now.weekday()), datetime.min.time(), tzinfo=UTC)
    moments = [monday - timedelta(weeks=k) + timedelta(minutes=TICK_MINUTES) for k in range(weeks, -1, -1)]
    rows: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for at in [m for m in moments if m <= now] + [now]:
        for r in reviews_at(facts, at):
            key = (r.source, r.reason, r.weeks[-1])
            if key in seen:
                continue
            seen.add(key)
            rows.append({"id": len(rows) + 1, "source": r.source, "reason": r.reason, "last_week": r.weeks[-1],
                         "summary": r.summary, "opened_at": at, "status": "open", "closed_note": None})
            for uid, _local, _name, role, _team, _title in USERS:
                if role == "marketing" and "email" in _channels(uid, "review"):
                    notes.append(_message(f"review:{r.source}:{r.reason}:{r.weeks[-1]}", "review", uid,
                                          f"Scoring review: {r.source} leads rejected as {r.reason}", r.summary, at))
    return rows, notes


# --- disputes ------------------------------------------------------------------------------------
DISPUTE_WHY = ("Scored {score:.0f} at handover: {title} at a {employees:,}-person {industry} company. "
               "'{note}' does not match what we know; please look again.")
VOTE_WHY = {
    "return_to_sales": ("The account fits our segment and the contact engaged for weeks; worth a proper call.",
                        "Title and company size are in the ICP; the rejection note does not hold.",
                        "I read the call notes: one voicemail is not a conversation. Back to sales."),
    "uphold_rejection": ("The rep spoke to them; the note is specific. The rejection stands.",
                         "Engagement is content-only, no buying signal. Keep it rejected.",
                         "Fit on paper, but they told us plainly. Uphold."),
}
# (name, days before now the rejection happened: (from, to), votes in order: (member, choice), accept after)
SCENARIOS = (
    ("upheld", (100, 45), ((HEAD_OF_MARKETING, "return_to_sales"), (VP_SALES, "uphold_rejection"),
                           (CRO, "uphold_rejection"), (REVOPS, "uphold_rejection")), False),
    ("returned_then_accepted", (90, 35), ((REVOPS, "return_to_sales"), (HEAD_OF_MARKETING, "return_to_sales"),
                                          (CRO, "return_to_sales")), True),
    ("tie", (80, 25), ((HEAD_OF_MARKETING, "return_to_sales"), (VP_SALES, "uphold_rejection"),
                       (REVOPS, "return_to_sales"), (CRO, "uphold_rejection")), False),
    ("returned_this_week", (20, 9), ((HEAD_OF_MARKETING, "return_to_sales"), (CRO, "return_to_sales"),
                                     (REVOPS, "return_to_sales")), False),
    ("open", (14, 2), ((HEAD_OF_MARKETING, "return_to_sales"),), False),
    ("open", (14, 1.5), ((VP_SALES, "uphold_rejection"),), False),
)


def plan_disputes(handoffs: list[dict[str, Any]], contacts: list[tuple], accounts: dict[int, dict[str, Any]],
                  cal: DemoCalendar, plan: list[SlaVersion], rng: random.Random) -> list[dict[str, Any]]:
    """Pick rejections of well-scored leads that are still the contact's last move, and script each
    dispute: who opens it and why, the votes in order (each with a reason), and what follows."""
    now = cal.now
    v_last = plan[-1].in_force_at
    taken: set[int] = set()
    out = []
    for name, (far, near), votes, accept in SCENARIOS:
        lo, hi = now - timedelta(days=far), now - timedelta(days=near)
        pool = [h for h in handoffs if h["kind"] == "mql" and h["status"] == "rejected" and h["contact_id"] not in taken
                and h["reject_reason"] in ("bad_fit", "competitor", "duplicate") and h["score_total"] >= 40
                and lo <= h["decided_at"] <= hi and h["decided_at"] > v_last + timedelta(days=1)
                and contacts[h["contact_id"] - 1][12] == "disqualified"
                and contacts[h["contact_id"] - 1][13] == h["decided_at"]]
        if not pool:
            continue
        h = rng.choice(pool)
        taken.add(h["contact_id"])
        row = contacts[h["contact_id"] - 1]
        acct = accounts[row[7]]
        start = cal.horizon - (now - h["decided_at"]).total_seconds() / 86_400
        t = cal.business(start + rng.uniform(0.3, 1.5), rng)
        opened_at = cal.to_datetime(t)
        steps = []
        for member, choice in votes:
            t = cal.business(t + rng.uniform(0.1, 1.2), rng)
            steps.append({"member": member, "choice": choice, "reason": rng.choice(VOTE_WHY[choice]),
                          "at": cal.to_datetime(t)})
        accept_at = cal.to_datetime(cal.business(t + rng.uniform(0.2, 1.5), rng)) if accept else None
        last = accept_at or steps[-1]["at"]
        if last > now:
            continue
        out.append({
            "scenario": name, "handoff_id": h["id"], "opened_by": rng.choice((DEMAND_GEN, 6, 7)),
            "opened_at": opened_at,
            "reason": DISPUTE_WHY.format(score=h["score_total"], title=row[6] or "no title", employees=acct["employees"],
                                         industry=acct["industry"].replace("_", " "), note=h["reject_note"]),
            "votes": steps, "accept_by": h["rep_id"] if accept else None, "accept_at": accept_at,
        })
    return out
