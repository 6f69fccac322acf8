"""How the desk answers the handoff reports (``analytics/report_questions.py``): one small function per
question over ``analytics/handoff_reports.py``, and the typed answers the pages, the CLI and the API show.

``to_dict()`` is what ``revteam handoff ... --json`` prints and ``/api/v1/analytics/reports/...`` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any
from zoneinfo import ZoneInfo

from revteam.analytics import handoff_reports as H
from revteam.analytics import handoff_table as HT
from revteam.analytics.answering import Workbench, compact_sql
from revteam.analytics.answers import plain
from revteam.analytics.report_questions import (
    REVIEW_RATE,
    CampaignFollowup,
    Rejections,
    SlaBoard,
    SlaCompliance,
    Unworked,
)
from revteam.services.handoff.agreement import agreement_in_force, sla_zone
from revteam.services.handoff.inbox import reason_labels, rep_of_handoffs
from revteam.services.record.listing import campaigns_touched


@dataclass(frozen=True)
class ComplianceAnswer:
    by: str
    days: int
    rows: list[dict[str, Any]]  # per rep or team, then "all"
    delivery: dict[str, Any] | None  # marketing's MQLs and SALs this month; None without an SLA in force
    sql: tuple[str, ...] = ()

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = {"by": self.by, "days": self.days, "sales": self.rows, "marketing": self.delivery}
        return plain({**out, "sql": list(self.sql)} if with_sql else out)


@dataclass(frozen=True)
class BoardAnswer:
    days: int
    live: dict[str, list[dict[str, Any]]]  # "at_risk" and "breached": pending leads, most urgent first
    reps: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    overall: dict[str, Any] | None
    headline: dict[str, Any] | None  # the rep's own row when asked for one rep, else everyone's
    delivery: dict[str, Any] | None
    agreement: Any  # services.handoff.agreement.AgreementView | None
    tz: ZoneInfo
    sql: tuple[str, ...] = ()

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = {"days": self.days, **self.live, "reps": self.reps, "teams": self.teams, "overall": self.overall,
               "headline": self.headline, "delivery": self.delivery, "time_zone": str(self.tz),
               "agreement_version": getattr(self.agreement, "version", None)}
        return plain({**out, "sql": list(self.sql)} if with_sql else out)


@dataclass(frozen=True)
class UnworkedAnswer:
    days: int
    rows: list[H.UnworkedRow]
    tz: ZoneInfo
    sql: tuple[str, ...] = ()

    @property
    def handed(self) -> int:
        return sum(r.handed for r in self.rows)

    @property
    def unworked(self) -> int:
        return sum(r.unworked for r in self.rows)

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = {"days": self.days, "handed": self.handed, "unworked": self.unworked,
               "rows": [{"rep_id": r.rep_id, "rep": r.rep, "handed": r.handed, "unworked": r.unworked,
                         "sentence": r.sentence, "leads": r.leads} for r in self.rows]}
        return plain({**out, "sql": list(self.sql)} if with_sql else out)


@dataclass(frozen=True)
class RejectionsAnswer:
    by: str
    days: int
    rows: list[dict[str, Any]]  # handed, decided, rejected, rejection_rate, key, label, share, flag
    totals: dict[str, Any]
    review_rate: float = REVIEW_RATE
    sql: tuple[str, ...] = ()

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = {"by": self.by, "days": self.days, "review_rate": self.review_rate, "totals": self.totals,
               "rows": [{k: v for k, v in r.items() if k != self.by} for r in self.rows]}
        return plain({**out, "sql": list(self.sql)} if with_sql else out)


@dataclass(frozen=True)
class FollowupAnswer:
    campaigns: list[Any]  # services.record.listing.CampaignRow, the most recently active first
    chosen: int | None
    report: H.CampaignFollowup | None
    sql: tuple[str, ...] = ()

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = {**(asdict(self.report) if self.report else {"campaign_id": self.chosen}),
               "campaigns": [{"id": c.campaign.id, "name": c.campaign.name, "channel": c.campaign.channel,
                              "type": c.campaign.type, "people": c.people, "last_touch": c.last_touch}
                             for c in self.campaigns]}
        return plain({**out, "sql": list(self.sql)} if with_sql else out)


def compliance(w: Workbench, q: SlaCompliance) -> ComplianceAnswer:
    with w.sessions() as s, w.reading() as sql:
        rows = HT.sla_compliance_on(w.runner, s, now=q.now, days=q.days, by=q.by)
        delivery = HT.marketing_delivery_on(w.runner, s, now=q.now)
    return ComplianceAnswer(q.by, q.days, rows, delivery, compact_sql(sql))


def board(w: Workbench, q: SlaBoard) -> BoardAnswer:
    with w.sessions() as s, w.reading() as sql:
        live = H.sla_board(s, now=q.now)
        if q.rep_id is not None:
            owners = rep_of_handoffs(s, [x["handoff_id"] for v in live.values() for x in v])
            live = {k: [x for x in v if owners.get(x["handoff_id"]) == q.rep_id] for k, v in live.items()}
        by_rep = HT.sla_compliance_on(w.runner, s, now=q.now, days=q.days, by="rep")
        by_team = HT.sla_compliance_on(w.runner, s, now=q.now, days=q.days, by="team")
        delivery, agreement, tz = HT.marketing_delivery_on(w.runner, s, now=q.now), agreement_in_force(s), sla_zone(s)
    overall = next((r for r in by_rep if r["rep"] == "all"), None)
    reps = [r for r in by_rep if r["rep"] != "all" and (q.rep_id is None or r.get("rep_id") == q.rep_id)]
    headline = next((r for r in reps if r.get("rep_id") == q.rep_id), None) if q.rep_id is not None else overall
    return BoardAnswer(q.days, live, reps, [r for r in by_team if r["team"] != "all"], overall, headline, delivery,
                       agreement, tz, compact_sql(sql))


def unworked(w: Workbench, q: Unworked) -> UnworkedAnswer:
    with w.sessions() as s, w.reading() as sql:
        rows, tz = HT.unworked_leads_on(w.runner, s, now=q.now, days=q.days, rep_id=q.rep_id), sla_zone(s)
    return UnworkedAnswer(q.days, rows, tz, compact_sql(sql))


def _label(by: str, key: str, reasons: dict[str, str]) -> str:
    if by == "reason":
        return reasons.get(key, key)
    return key.replace("_", " ").capitalize() if by == "source" else key


def rejections(w: Workbench, q: Rejections) -> RejectionsAnswer:
    """Per reason the rate is always 100 %: what matters is its share of everything sales decided (the leads
    nobody rejected are the rest, so they get no row)."""
    with w.sessions() as s, w.reading() as sql:
        found = HT.rejection_analytics_on(w.runner, now=q.now, days=q.days, by=q.by)
        reasons = reason_labels(s) if q.by == "reason" else {}
    totals: dict[str, Any] = {k: sum(r[k] for r in found) for k in ("handed", "decided", "rejected")}
    totals["rejection_rate"] = totals["rejected"] / totals["decided"] if totals["decided"] else None
    rows = []
    for r in found:
        key = str(r[q.by])
        if q.by == "reason":
            if r["rejected"] == 0:
                continue
            share = r["rejected"] / totals["decided"] if totals["decided"] else None
            flag = False
        else:
            share = r["rejection_rate"]
            flag = share is not None and share > REVIEW_RATE
        rows.append({**r, "key": key, "label": _label(q.by, key, reasons), "share": share, "flag": flag})
    return RejectionsAnswer(q.by, q.days, rows, totals, REVIEW_RATE, compact_sql(sql))


def followup(w: Workbench, q: CampaignFollowup) -> FollowupAnswer:
    with w.sessions() as s, w.reading() as sql:
        campaigns = campaigns_touched(s)
        chosen = q.campaign_id if q.campaign_id is not None else next(
            (c.campaign.id for c in campaigns if c.people), None)
        report = HT.campaign_followup_on(w.runner, s, chosen) if chosen is not None else None
    return FollowupAnswer(campaigns, chosen, report, compact_sql(sql))


ANSWERS: dict[type, Callable[[Any, Any], Any]] = {
    SlaCompliance: compliance,
    SlaBoard: board,
    Unworked: unworked,
    Rejections: rejections,
    CampaignFollowup: followup,
}
