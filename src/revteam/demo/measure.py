"""Measuring a built demo from the database: volumes, funnel, rejections, cycles, what fell through.

These are the numbers ``revteam demo`` prints and ``docs/demo.md`` reports. They are read back from
the tables (not from the generator's memory), with these definitions:

* **reached** a stage: the contact has a stage change *to* it (entry or move), at any time.
* **conversion A → B**: of the contacts that reached A, the share that reached B later (cohort
  conversion over the whole history; contacts still in flight at "today" count as not converted).
* **rejection rate**: contacts moved from ``mql`` to ``disqualified`` or ``recycled`` by a person, over
  contacts that reached ``mql``.
* **win rate**: won deals over closed (won + lost) deals; **cycle**: ``closed_on - created_on`` in days.
* **unworked lead**: a contact at ``mql`` now with no sales touch (call, sales e-mail, meeting) since it
  became an MQL; **unfollowed webinar**: a past webinar none of whose attendees got a sales touch in
  the ``FOLLOW_UP_DAYS`` after attending.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, and_, exists, func, select

from revteam.store.models import Account, AuditEntry, Campaign, Contact, Deal, StageChange, Touchpoint, User

SALES_TOUCHES = ("sales_call", "sales_email", "meeting")
FUNNEL_STEPS = (("lead", "mql"), ("mql", "sal"), ("sal", "sql"), ("sql", "opportunity"), ("opportunity", "customer"),
                ("sql", "customer"))
FOLLOW_UP_DAYS = 7
SEGMENTS = ("smb", "mid_market", "enterprise")
COUNTED = {"accounts": Account, "contacts": Contact, "touchpoints": Touchpoint, "campaigns": Campaign,
           "deals": Deal, "stage_changes": StageChange}


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    s = sorted(values)
    return float(s[max(0, math.ceil(p / 100 * len(s)) - 1)])


def _funnel(conn: Connection) -> dict[str, Any]:
    first: dict[int, dict[str, Any]] = defaultdict(dict)
    rejected: set[int] = set()
    rows = conn.execute(
        select(StageChange.contact_id, StageChange.from_stage, StageChange.to_stage, StageChange.changed_at,
               StageChange.actor_user_id).order_by(StageChange.contact_id, StageChange.changed_at, StageChange.id)
    )
    for cid, frm, to, at, user in rows:
        first[cid].setdefault(to, at)
        if frm == "mql" and to in ("disqualified", "recycled") and user is not None:
            rejected.add(cid)
    reached: dict[str, int] = defaultdict(int)
    for stages in first.values():
        for s in stages:
            reached[s] += 1
    conversion = {}
    for a, b in FUNNEL_STEPS:
        cohort = [s for s in first.values() if a in s]
        converted = sum(1 for s in cohort if b in s and s[b] >= s[a])
        conversion[f"{a}->{b}"] = round(converted / len(cohort), 4) if cohort else None
    mqls = reached.get("mql", 0)
    return {
        "reached": dict(reached),
        "conversion": conversion,
        "rejected_mqls": len(rejected),
        "rejection_rate": round(len(rejected) / mqls, 4) if mqls else None,
    }


def _deals(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(
        select(Deal.outcome, Deal.amount, Deal.created_on, Deal.closed_on, Deal.source, Account.segment)
        .join(Account, Account.id == Deal.account_id)
    ).all()
    by_outcome: dict[str, int] = defaultdict(int)
    seg: dict[str, dict[str, list[float]]] = {s: defaultdict(list) for s in SEGMENTS}
    quarter_end_wins = last_month_wins = 0
    for outcome, amount, created, closed, source, segment in rows:
        by_outcome[outcome] += 1
        bucket = seg.setdefault(segment, defaultdict(list))
        if outcome in ("won", "lost"):
            bucket["closed_days"].append((closed - created).days)
            bucket[outcome].append(1.0)
        if outcome == "won":
            if source != "expansion":
                bucket["won_days"].append((closed - created).days)
            bucket["won_amount"].append(float(amount))
            next_q = closed + timedelta(days=14)
            quarter_end_wins += (next_q.month - 1) // 3 != (closed.month - 1) // 3 or next_q.year != closed.year
            last_month_wins += closed.month % 3 == 0
    won, lost = by_outcome.get("won", 0), by_outcome.get("lost", 0)
    segments = {}
    for s, b in seg.items():
        w, l_ = len(b["won"]), len(b["lost"])
        segments[s] = {
            "won": w,
            "lost": l_,
            "win_rate": round(w / (w + l_), 4) if w + l_ else None,
            "won_cycle_days": {f"p{p}": percentile(b["won_days"], p) for p in (50, 75, 90)},
            "closed_cycle_days_median": percentile(b["closed_days"], 50),
            "won_amount_median": percentile(b["won_amount"], 50),
            "won_amount_mean": round(statistics.fmean(b["won_amount"]), 2) if b["won_amount"] else None,
        }
    return {
        "by_outcome": {k: by_outcome.get(k, 0) for k in ("open", "won", "lost")},
        "win_rate": round(won / (won + lost), 4) if won + lost else None,
        "won_revenue": float(sum(float(r[1]) for r in rows if r[0] == "won")),
        "won_in_last_two_weeks_of_quarter": round(quarter_end_wins / won, 4) if won else None,
        "won_in_last_month_of_quarter": round(last_month_wins / won, 4) if won else None,
        "by_segment": segments,
    }


def _fell_through(conn: Connection) -> dict[str, Any]:
    sales_after = exists().where(
        and_(Touchpoint.contact_id == Contact.id, Touchpoint.type.in_(SALES_TOUCHES),
             Touchpoint.occurred_at >= Contact.stage_changed_at)
    )
    unworked = conn.scalar(select(func.count()).select_from(Contact).where(Contact.stage == "mql", ~sales_after)) or 0
    at_mql = conn.scalar(select(func.count()).select_from(Contact).where(Contact.stage == "mql")) or 0
    attended = conn.execute(
        select(Touchpoint.campaign_id, Touchpoint.contact_id, Touchpoint.occurred_at).where(
            Touchpoint.type == "webinar_attended")
    ).all()
    sales = defaultdict(list)
    ids = {r[1] for r in attended}
    if ids:
        for cid, at in conn.execute(
            select(Touchpoint.contact_id, Touchpoint.occurred_at).where(Touchpoint.type.in_(SALES_TOUCHES))
        ):
            if cid in ids:
                sales[cid].append(at)
    names = dict(conn.execute(select(Campaign.id, Campaign.name).where(Campaign.channel == "webinar")).all())
    per: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    window = timedelta(days=FOLLOW_UP_DAYS)
    for camp, cid, at in attended:
        per[camp][0] += 1
        per[camp][1] += any(at <= s <= at + window for s in sales.get(cid, ()))
    webinars = [{"campaign_id": k, "name": names.get(k), "attendees": a, "followed_up": f,
                 "follow_up_share": round(f / a, 4)} for k, (a, f) in sorted(per.items())]
    return {
        "unworked_leads": int(unworked),
        "contacts_at_mql": int(at_mql),
        "webinars": webinars,
        "unfollowed_webinars": [w["name"] for w in webinars if w["followed_up"] == 0],
        "unfollowed_attendees": sum(w["attendees"] for w in webinars if w["followed_up"] == 0),
    }


def _sdrs(conn: Connection) -> dict[str, Any]:
    """Per SDR: decisions on MQLs (accepted or rejected) and MQLs of theirs sitting unworked now."""
    names = dict(conn.execute(select(User.id, User.name).where(User.role == "sdr")).all())
    out = {n: {"accepted": 0, "rejected": 0, "unworked_now": 0} for n in names.values()}
    rows = conn.execute(select(StageChange.actor_user_id, StageChange.to_stage, func.count())
                        .where(StageChange.from_stage == "mql", StageChange.actor_user_id.in_(names))
                        .group_by(StageChange.actor_user_id, StageChange.to_stage))
    for uid, to, n in rows:
        out[names[uid]]["accepted" if to == "sal" else "rejected"] += int(n)
    sales_after = exists().where(
        and_(Touchpoint.contact_id == Contact.id, Touchpoint.type.in_(SALES_TOUCHES),
             Touchpoint.occurred_at >= Contact.stage_changed_at)
    )
    for uid, n in conn.execute(select(Contact.owner_id, func.count()).where(Contact.stage == "mql", ~sales_after)
                               .group_by(Contact.owner_id)):
        if uid in names:
            out[names[uid]]["unworked_now"] = int(n)
    for v in out.values():
        decided = v["accepted"] + v["rejected"]
        v["rejection_share"] = round(v["rejected"] / decided, 4) if decided else None
    return out


def _built_at(conn: Connection) -> datetime | None:
    detail = conn.scalar(select(AuditEntry.detail).where(AuditEntry.action == "demo.built").order_by(AuditEntry.id.desc()))
    return datetime.fromisoformat(detail["now"]) if detail and detail.get("now") else None


def _minutes(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def _handoffs(conn: Connection, now: datetime) -> dict[str, Any]:
    """The handoff figures, through the app's own report code (``services.followup``) where it has one."""
    from sqlalchemy.orm import Session

    from revteam.analytics.handoff_reports import rejection_analytics, sla_compliance, unworked_leads
    from revteam.services.qualify.scoring import active_model
    from revteam.store.models import ContactScore, Dispute, DisputeVote, Handoff, ScoringReview

    with Session(bind=conn) as s:
        n = s.scalar(select(func.count()).select_from(Handoff)) or 0
        if not n:
            return {"handoffs": 0}
        by = defaultdict(int)
        for kind, status, k in s.execute(select(Handoff.kind, Handoff.status, func.count())
                                         .group_by(Handoff.kind, Handoff.status)):
            by[f"{kind}:{status}"] = int(k)
        pending = s.execute(select(Handoff.rep_id, Handoff.handed_at, Handoff.at_risk_at, Handoff.due_at,
                                   Handoff.first_touch_at).where(Handoff.status.in_(("pending", "unassigned")))).all()
        names = dict(s.execute(select(User.id, User.name)).all())
        today: dict[str, dict[str, int]] = {}
        for rep, handed, risk, due, first in pending:
            row = today.setdefault(names.get(rep, "unassigned"), {"pending": 0, "no_touch": 0, "breached": 0, "at_risk": 0,
                                                                  "handed_last_24h": 0, "handed_last_7d": 0})
            row["pending"] += 1
            row["no_touch"] += first is None
            if first is None and due is not None:
                row["breached"] += due <= now
                row["at_risk"] += risk <= now < due
            row["handed_last_24h"] += handed >= now - timedelta(days=1)
            row["handed_last_7d"] += handed >= now - timedelta(days=7)
        compliance = {r["rep"]: {"handoffs": r["handoffs"], "share_in_time": r["share_in_time"],
                                 "median_response_minutes": _minutes(r["median_response_minutes"]),
                                 "breached": r["breached"], "at_risk_now": r["at_risk"], "open_now": r["open"]}
                      for r in sla_compliance(s, now=now, days=30)}
        compliance_90 = {r["rep"]: r["share_in_time"] for r in sla_compliance(s, now=now, days=90)}
        analytics = rejection_analytics(s, now=now, days=365, by="reason")
        reasons = {r["reason"]: {"rejected": r["rejected"]} for r in analytics if r["reason"] != "(not rejected)"}
        decided = sum(r["decided"] for r in analytics)
        for v in reasons.values():
            v["share_of_decided"] = round(v["rejected"] / decided, 4) if decided else None
        unworked = sum(r.unworked for r in unworked_leads(s, now=now, days=7))
        unworked_all = s.scalar(select(func.count()).select_from(Handoff).where(
            Handoff.status.in_(("pending", "unassigned")), Handoff.first_touch_at.is_(None))) or 0
        disputes = defaultdict(int)
        for outcome, k in s.execute(select(Dispute.outcome, func.count()).group_by(Dispute.outcome)):
            disputes[outcome or "open"] = int(k)
        model = active_model(s)
        reached = select(StageChange.contact_id).where(StageChange.to_stage == "mql").distinct().scalar_subquery()
        ever = s.execute(select(func.count(), func.sum(func.cast(ContactScore.is_mql, Integer)), func.avg(ContactScore.total))
                         .where(ContactScore.contact_id.in_(reached))).one()
        never = s.execute(select(func.count(), func.sum(func.cast(ContactScore.is_mql, Integer)), func.avg(ContactScore.total))
                          .where(ContactScore.contact_id.not_in(reached))).one()
        at_mql = s.execute(select(func.count(), func.sum(func.cast(ContactScore.is_mql, Integer)))
                           .join(Contact, Contact.id == ContactScore.contact_id).where(Contact.stage == "mql")).one()
        below = s.scalar(select(func.count()).select_from(ContactScore).join(Contact, Contact.id == ContactScore.contact_id)
                         .where(ContactScore.is_mql.is_(True), Contact.stage.in_(("subscriber", "lead")))) or 0
        mql_handoffs = s.execute(select(Handoff.priority, func.count()).where(Handoff.kind == "mql")
                                 .group_by(Handoff.priority)).all()
        over_at_handover = s.scalar(select(func.count()).select_from(Handoff).where(
            Handoff.kind == "mql", (Handoff.score_total >= model.mql_threshold) | (Handoff.priority == "hot"))) or 0
        n_mql = sum(int(k) for _p, k in mql_handoffs)
        return {
            "handoffs": n,
            "by_kind_and_status": dict(sorted(by.items())),
            "mql_priority": {p: int(k) for p, k in sorted(mql_handoffs)},
            "mql_handoffs_qualified_at_handover": round(over_at_handover / n_mql, 4) if n_mql else None,
            "pending_now_by_rep": dict(sorted(today.items())),
            "breached_now": sum(r["breached"] for r in today.values()),
            "at_risk_now": sum(r["at_risk"] for r in today.values()),
            "unworked_leads": unworked_all,
            "unworked_leads_handed_last_7d": unworked,
            "compliance_30d": compliance,
            "compliance_90d": compliance_90,
            "rejections_365d": {"decided": decided, "by_reason": reasons},
            "disputes": dict(disputes),
            "dispute_votes": s.scalar(select(func.count()).select_from(DisputeVote)) or 0,
            "scoring_reviews": [{"source": r.source, "reason": r.reason, "last_week": r.last_week, "status": r.status}
                                for r in s.scalars(select(ScoringReview).order_by(ScoringReview.id))],
            "scores": {
                "threshold": model.mql_threshold,
                "ever_mql": {"contacts": int(ever[0]), "mql_now": int(ever[1] or 0),
                             "share_mql_now": round((ever[1] or 0) / ever[0], 4) if ever[0] else None,
                             "mean_score": round(float(ever[2] or 0), 1)},
                "never_mql": {"contacts": int(never[0]), "mql_now": int(never[1] or 0),
                              "share_mql_now": round((never[1] or 0) / never[0], 4) if never[0] else None,
                              "mean_score": round(float(never[2] or 0), 1)},
                "at_mql_stage_now": {"contacts": int(at_mql[0]), "mql_now": int(at_mql[1] or 0)},
                "below_mql_stage_but_qualified_now": int(below),
            },
        }


def measure_demo(conn: Connection, now: datetime | None = None) -> dict[str, Any]:
    """Every number the demo summary and docs report, read from the database. ``now`` is the moment
    the demo was built for (default: read from its ``demo.built`` audit entry)."""
    counts = {k: int(conn.scalar(select(func.count()).select_from(m)) or 0) for k, m in COUNTED.items()}
    by_stage = dict(conn.execute(select(Contact.stage, func.count()).group_by(Contact.stage)).all())
    now = now or _built_at(conn)
    return {
        "counts": counts,
        "contacts_by_stage": {k: int(v) for k, v in sorted(by_stage.items())},
        "funnel": _funnel(conn),
        "deals": _deals(conn),
        "fell_through": _fell_through(conn),
        "sdrs": _sdrs(conn),
        "handoffs": _handoffs(conn, now) if now is not None else {},
    }

