"""The handoff reports with their scans on the analytics engine: unworked leads, campaign follow-up, SLA
compliance, marketing's delivery and rejection analytics (the ``*_on`` twins of ``analytics/handoff_reports.py``,
whose definitions, in docs/metrics/handoff.md, they keep).

What runs where
    The engine reads the snapshot's handoffs, touchpoints, stage changes, deals and people tables: it filters
    the period, joins the reps, teams and campaigns, and aggregates (handed, unworked, decided, rejected per
    group; the people a campaign touched, who sales contacted afterwards and how far each got). What stays
    in process: the SLA clock reading of each handoff in the period (``domain.sla.read_clock`` needs the
    agreement's business calendar; the rows are a month of handoffs), the agreement itself and the display
    names of the few contacts a report lists (personal data stays out of the snapshot; looked up by id).

Edge rules
    As ``handoff_reports``. Campaign follow-up counts a deal once however many of its contacts the campaign
    touched, when one of them was first touched on or before the deal's creation day (the database version
    agrees whenever the campaign touched fewer than 900 people: it dedupes per batch of 900).

Worked example (``tests/integration/test_handoff_flow.py``)
    Four MQLs handed on Monday at 10:00, two each to Ana and Ben; Ana calls one after 10 minutes. Unworked:
    Ana 1 of 2, Ben 2 of 2. Compliance three hours later: Ana 1 in time, 1 breached; all 1 of 4 (25 %), median
    response 10 minutes: the engine returns the four clock rows, the calendar reads them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta, timezone
from typing import Any

import ibis
from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.analytics.handoff_reports import FUNNEL_STEPS, CampaignFollowup, UnworkedRow
from revteam.analytics.paths import stage_set_on
from revteam.domain.sla import Clock, compliance, month_pacing, read_clock
from revteam.errors import NotFound
from revteam.services.handoff.agreement import agreement_in_force
from revteam.store.models import SALES_TOUCH_TYPES, Contact

DECIDED = ("accepted", "rejected", "recycled", "returned")
REJECTED = ("rejected", "recycled", "returned")


def _ts(at: datetime) -> Any:
    return ibis.timestamp(at.astimezone(timezone.utc).replace(tzinfo=None).isoformat())


def _utc(v: datetime | None) -> datetime | None:
    return None if v is None else v.replace(tzinfo=timezone.utc)


def _names(session: Session, ids: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for a in range(0, len(ids), 900):
        out.update({c.id: c.display_name for c in session.scalars(select(Contact).where(Contact.id.in_(ids[a:a + 900])))})
    return out


# --- unworked leads --------------------------------------------------------------------------------
def unworked_rows(t: dict[str, Any], *, since: datetime, rep_id: int | None) -> tuple[Any, Any]:
    """(per rep: handed, unworked, first handed; the unworked handoffs in handed order)."""
    h, c, u = t["handoffs"], t["contacts"], t["users"]
    j = h.join(c, h.contact_id == c.id).left_join(u, h.rep_id == u.id)
    j = j.select(id=h.id, contact_id=h.contact_id, rep_id=h.rep_id, rep=u.name, status=h.status, priority=h.priority,
                 handed_at=h.handed_at, due_at=h.due_at, first_touch_at=h.first_touch_at)
    j = j.filter(j.handed_at >= _ts(since))
    if rep_id is not None:
        j = j.filter(j.rep_id == rep_id)
    open_ = j.status.isin(["pending", "unassigned"]) & j.first_touch_at.isnull()
    per_rep = j.group_by(["rep_id", "rep"]).aggregate(handed=j.count(), unworked=j.count(where=open_),
                                                      first=j.handed_at.min(), first_id=j.id.min())
    leads = j.filter(open_).select("id", "contact_id", "rep_id", "priority", "handed_at", "due_at")
    return per_rep.order_by(["first", "first_id"]), leads.order_by(["handed_at", "id"])


def unworked_leads_on(analytics: Any, session: Session, *, now: datetime, days: int = 7,
                      rep_id: int | None = None) -> list[UnworkedRow]:
    """``handoff_reports.unworked_leads`` with the scan on the analytics engine."""
    got, _fp = analytics.arrow(lambda t: dict(zip(("reps", "leads"), unworked_rows(
        t, since=now - timedelta(days=days), rep_id=rep_id))))
    leads = got["leads"].to_pylist()
    names = _names(session, sorted({r["contact_id"] for r in leads}))
    rows = {r["rep_id"]: UnworkedRow(r["rep_id"], r["rep"] or "nobody (unassigned)", int(r["handed"]),
                                     int(r["unworked"] or 0)) for r in got["reps"].to_pylist()}
    for r in leads:
        due = _utc(r["due_at"])
        rows[r["rep_id"]].leads.append({"handoff_id": r["id"], "contact_id": r["contact_id"],
                                        "name": names.get(r["contact_id"], ""), "priority": r["priority"],
                                        "handed_at": _utc(r["handed_at"]), "due_at": due,
                                        "overdue": due is not None and due <= now})
    return sorted(rows.values(), key=lambda r: (-r.unworked, r.rep))


# --- campaign follow-up ----------------------------------------------------------------------------
def followup_rows(t: dict[str, Any], campaign_id: int, main: tuple[str, ...]) -> dict[str, Any]:
    """The people the campaign touched (first touch), who sales contacted since, how many reached each funnel
    step since (entering it or a later main stage), and the pipeline and revenue of their deals since."""
    tp, sc, dc, deals = t["touchpoints"], t["stage_changes"], t["deal_contacts"], t["deals"]
    mine = tp.filter(tp.campaign_id == campaign_id)
    first = mine.group_by("contact_id").aggregate(first_at=mine.occurred_at.min())
    sales = tp.filter(tp.type.isin(list(SALES_TOUCH_TYPES)))
    contacted = first.join(sales, [first.contact_id == sales.contact_id, sales.occurred_at >= first.first_at])
    contacted = contacted.select(contact_id=first.contact_id).distinct()
    moves = first.join(sc, [first.contact_id == sc.contact_id, sc.changed_at >= first.first_at])
    moves = moves.select(contact_id=first.contact_id, to_stage=sc.to_stage)
    steps = {}
    for step in FUNNEL_STEPS:
        if step in main:
            on = moves.filter(moves.to_stage.isin(list(main[main.index(step):])))
            steps[f"reached_{step}"] = on.aggregate(n=on.contact_id.nunique())
    j = first.join(dc, first.contact_id == dc.contact_id).join(deals, dc.deal_id == deals.id)
    j = j.filter(deals.created_on >= first.first_at.truncate("D"))
    won_or_open = j.select(deal_id=deals.id, outcome=deals.outcome, amount=deals.amount).distinct()
    money = won_or_open.aggregate(
        pipeline=won_or_open.amount.sum(where=won_or_open.outcome == "open"),
        revenue=won_or_open.amount.sum(where=won_or_open.outcome == "won"))
    never = first.anti_join(contacted, first.contact_id == contacted.contact_id).select("contact_id")
    return {"people": first.aggregate(n=first.count()), "contacted": contacted.aggregate(n=contacted.count()),
            "money": money, "never": never.order_by("contact_id").limit(50),
            "campaign": t["campaigns"].filter(t["campaigns"].id == campaign_id).select("id", "name"), **steps}


def campaign_followup_on(analytics: Any, session: Session, campaign_id: int) -> CampaignFollowup:
    """``handoff_reports.campaign_followup`` with the scans on the analytics engine."""
    main = stage_set_on(analytics).main
    got, _fp = analytics.arrow(lambda t: followup_rows(t, campaign_id, main))
    camp = got["campaign"].to_pylist()
    if not camp:
        raise NotFound(f"No campaign with id {campaign_id}.", code="campaign_not_found")

    def one(name: str) -> int:
        return int(got[name].column("n")[0].as_py() or 0)

    [money] = got["money"].to_pylist()
    never = got["never"].column("contact_id").to_pylist()
    names = _names(session, never)
    return CampaignFollowup(camp[0]["id"], camp[0]["name"], one("people"), one("contacted"),
                            {s: one(f"reached_{s}") if f"reached_{s}" in got else 0 for s in FUNNEL_STEPS},
                            float(money["pipeline"] or 0.0), float(money["revenue"] or 0.0),
                            [{"contact_id": cid, "name": names.get(cid, "")} for cid in never])


# --- SLA compliance --------------------------------------------------------------------------------
def clock_rows(t: dict[str, Any], *, since: datetime) -> Any:
    """The handoffs on a clock (a due time and a rep) handed since ``since``, with the rep's name and team."""
    h, u, teams = t["handoffs"], t["users"], t["teams"]
    h = h.filter((h.handed_at >= _ts(since)) & h.due_at.notnull() & h.rep_id.notnull())
    j = h.left_join(u, h.rep_id == u.id).select(
        h.id, h.contact_id, h.status, h.priority, h.handed_at, h.at_risk_at, h.due_at, h.first_touch_at,
        rep_id=u.id, rep=u.name, team_id=u.team_id)
    j = j.left_join(teams, j.team_id == teams.id).select(*[j[c] for c in j.columns], team=teams.name)
    return j.order_by("id")


def sla_compliance_on(analytics: Any, session: Session, *, now: datetime, days: int = 30,
                      by: str = "rep") -> list[dict[str, Any]]:
    """``handoff_reports.sla_compliance`` with the scan on the analytics engine; the clocks are read in process."""
    agreement = agreement_in_force(session)
    rows = [] if agreement is None else \
        analytics.arrow(lambda t: {"h": clock_rows(t, since=now - timedelta(days=days))})[0]["h"].to_pylist()
    groups: dict[str, list[Any]] = defaultdict(list)
    ids: dict[str, int] = {}
    for r in rows:
        known = r["rep_id"] is not None
        key = (r["rep"] if known else "?") if by == "rep" else \
            (r["team"] or "no team" if known and r["team_id"] is not None else "no team")
        reading = read_clock(agreement.terms, Clock(_utc(r["handed_at"]), _utc(r["at_risk_at"]), _utc(r["due_at"])),
                             first_touch_at=_utc(r["first_touch_at"]), now=now)
        groups[key].append(reading)
        groups["all"].append(reading)
        if by == "rep" and known:
            ids[key] = r["rep_id"]
    out = []
    for key, rs in sorted(groups.items(), key=lambda kv: (kv[0] == "all", kv[0])):
        c = compliance(rs)
        out.append({by: key, **({"rep_id": ids.get(key)} if by == "rep" else {}), "handoffs": c.handoffs,
                    "worked_in_time": c.worked_in_time, "breached": c.breached, "share_in_time": c.share_in_time,
                    "median_response_minutes": None if c.median_response is None else c.median_response.total_seconds() / 60,
                    "open": sum(r.status == "open" for r in rs), "at_risk": sum(r.status == "at_risk" for r in rs)})
    return out


def marketing_delivery_on(analytics: Any, session: Session, *, now: datetime) -> dict[str, Any] | None:
    """``handoff_reports.marketing_delivery`` with the counts made by the analytics engine."""
    agreement = agreement_in_force(session)
    if agreement is None:
        return None
    local = now.astimezone(agreement.terms.calendar.zone)
    start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=local.tzinfo)

    def build(t: dict[str, Any]) -> dict[str, Any]:
        h = t["handoffs"]
        h = h.filter((h.kind == "mql") & (h.handed_at >= _ts(start)))
        return {"n": h.aggregate(mqls=h.count(), sals=h.count(where=h.status == "accepted"))}

    [n] = analytics.arrow(build)[0]["n"].to_pylist()
    out = {}
    for name, committed, delivered in (("mqls", agreement.terms.mqls_per_month, int(n["mqls"] or 0)),
                                       ("sals", agreement.terms.sals_per_month, int(n["sals"] or 0))):
        p = month_pacing(agreement.terms, committed, delivered, now=now)
        out[name] = {"committed": committed, "delivered": delivered, "expected_to_date": round(p.expected_to_date, 1),
                     "pace": p.pace, "projected": round(p.projected, 1)}
    return out


# --- rejection analytics ---------------------------------------------------------------------------
def _text_or(col: Any, default: str) -> Any:
    return ibis.cases((col.isnull() | (col == ""), default), else_=col)


def rejection_rows(t: dict[str, Any], *, since: datetime, by: str) -> Any:
    """Per group (source, campaign, reason or rep) of the MQL handoffs since ``since``: handed, decided,
    rejected, and the lowest handoff id (the order groups are first seen in)."""
    h, u, cam = t["handoffs"], t["users"], t["campaigns"]
    h = h.filter((h.kind == "mql") & (h.handed_at >= _ts(since)))
    j = h.left_join(u, h.rep_id == u.id).select(h.id, h.status, h.source, h.reject_reason, h.campaign_id, rep=u.name)
    j = j.left_join(cam, j.campaign_id == cam.id).select(*[j[c] for c in j.columns], campaign=cam.name)
    key = {"source": _text_or(j.source, "(none)"), "campaign": j.campaign.fill_null("(none)"),
           "reason": _text_or(j.reject_reason, "(not rejected)"), "rep": j.rep.fill_null("unassigned")}[by]
    j = j.mutate(grp=key)
    return j.group_by("grp").aggregate(handed=j.count(), decided=j.count(where=j.status.isin(list(DECIDED))),
                                       rejected=j.count(where=j.status.isin(list(REJECTED))), first=j.id.min())


def rejection_analytics_on(analytics: Any, *, now: datetime, days: int = 90, by: str = "source") -> list[dict[str, Any]]:
    """``handoff_reports.rejection_analytics`` with the scan and the counts on the analytics engine."""
    got, _fp = analytics.arrow(lambda t: {"g": rejection_rows(t, since=now - timedelta(days=days), by=by)})
    groups = [{"key": r["grp"], "handed": int(r["handed"]), "decided": int(r["decided"] or 0),
               "rejected": int(r["rejected"] or 0), "first": r["first"]}
              for r in sorted(got["g"].to_pylist(), key=lambda r: r["first"])]

    def row(g: dict[str, Any], rate: float | None) -> dict[str, Any]:
        return {by: g["key"], "handed": g["handed"], "decided": g["decided"], "rejected": g["rejected"],
                "rejection_rate": rate}

    if by == "reason":  # each reason's share of all decided leads (as handoff_reports)
        decided = sum(g["decided"] for g in groups)
        return [row(g, g["rejected"] / decided if decided else None)
                for g in sorted(groups, key=lambda g: -g["rejected"]) if g["key"] != "(not rejected)"]
    return [row(g, g["rejected"] / g["decided"] if g["decided"] else None)
            for g in sorted(groups, key=lambda g: -g["handed"])]
