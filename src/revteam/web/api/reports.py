"""The handoff reports over the API: SLA board and compliance, marketing's delivery, unworked leads,
rejection rates, campaigns and their follow-up. Each endpoint asks the analytics desk one handoff-report
question (``analytics/report_questions.py``, definitions in docs/metrics/handoff.md), the same the pages
ask, and shapes the answer into these models (``/api/v1/analytics/reports/...`` returns the answers as the
CLI prints them); unlike the pages, nothing defaults to "mine": a program asks for what it wants.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from revteam.analytics.report_questions import CampaignFollowup, Rejections, SlaBoard, SlaCompliance, Unworked
from revteam.web.api.handoff_models import (
    BoardItemOut,
    BoardOut,
    CampaignOut,
    ComplianceOut,
    ComplianceRowOut,
    DeliveryOut,
    FollowupOut,
    NeverContactedOut,
    PacingOut,
    RejectionRateOut,
    RejectionsOut,
    UnworkedLeadOut,
    UnworkedOut,
    UnworkedRowOut,
)
from revteam.domain.ids import MAX_ID
from revteam.web.api.models import ERROR_RESPONSES, IdPath, not_found
from revteam.web.deps import NowDep, RuntimeDep

router = APIRouter(responses=ERROR_RESPONSES)

Days = Annotated[int, Query(ge=1, le=366, description="The period: the last N days")]


@router.get("/sla/board", name="api.sla.board", response_model=BoardOut, summary="Leads at risk or overdue now")
def board(runtime: RuntimeDep, now: NowDep) -> BoardOut:
    live = runtime.desk.ask(SlaBoard(now=now)).live
    return BoardOut(at_risk=[BoardItemOut(**x) for x in live["at_risk"]],
                    breached=[BoardItemOut(**x) for x in live["breached"]])


@router.get("/sla/compliance", name="api.sla.compliance", response_model=ComplianceOut,
            summary="Share of leads worked in time and median response, per rep or team")
def compliance(runtime: RuntimeDep, now: NowDep,
               by: Annotated[str, Query(pattern="^(rep|team)$")] = "rep", days: Days = 30) -> ComplianceOut:
    a = runtime.desk.ask(SlaCompliance(now=now, days=days, by=by))
    return ComplianceOut(by=by, days=days, rows=[ComplianceRowOut(name=r[by], **{k: v for k, v in r.items() if k != by})
                                                 for r in a.rows])  # type: ignore[arg-type]


@router.get("/sla/delivery", name="api.sla.delivery", response_model=DeliveryOut,
            summary="Marketing's MQLs and SALs this month against its commitment")
def delivery(runtime: RuntimeDep, now: NowDep) -> DeliveryOut:
    d = runtime.desk.ask(SlaCompliance(now=now)).delivery
    if d is None:
        return DeliveryOut(in_force=False, mqls=None, sals=None)
    return DeliveryOut(in_force=True, mqls=PacingOut(**d["mqls"]), sals=PacingOut(**d["sals"]))


@router.get("/reports/unworked", name="api.reports.unworked", response_model=UnworkedOut,
            summary="Leads handed over with no touch yet, per rep")
def unworked(runtime: RuntimeDep, now: NowDep, days: Days = 7,
             rep: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this rep (user id)")] = None) -> UnworkedOut:
    rows = runtime.desk.ask(Unworked(now=now, days=days, rep_id=rep)).rows
    return UnworkedOut(days=days, rows=[UnworkedRowOut(rep_id=r.rep_id, rep=r.rep, handed=r.handed, unworked=r.unworked,
                                                       sentence=r.sentence, leads=[UnworkedLeadOut(**x) for x in r.leads])
                                        for r in rows])


@router.get("/reports/rejections", name="api.reports.rejections", response_model=RejectionsOut,
            summary="Rejection rates by source, campaign, reason or rep")
def rejections(runtime: RuntimeDep, now: NowDep,
               by: Annotated[str, Query(pattern="^(source|campaign|reason|rep)$")] = "source",
               days: Days = 90) -> RejectionsOut:
    a = runtime.desk.ask(Rejections(now=now, days=days, by=by))
    return RejectionsOut(by=by, days=days, rows=[  # type: ignore[arg-type]
        RejectionRateOut(key=r["key"], label=r["label"], handed=r["handed"], decided=r["decided"],
                         rejected=r["rejected"], rejection_rate=r["rejection_rate"])
        for r in a.rows])


@router.get("/campaigns", name="api.campaigns.list", response_model=list[CampaignOut],
            summary="Campaigns with the number of people they touched")
def campaigns(runtime: RuntimeDep) -> list[CampaignOut]:
    return [CampaignOut(id=c.campaign.id, name=c.campaign.name, channel=c.campaign.channel, type=c.campaign.type,
                        people=c.people, last_touch=c.last_touch) for c in runtime.desk.ask(CampaignFollowup()).campaigns]


@router.get("/campaigns/{campaign_id}/followup", name="api.campaigns.followup", response_model=FollowupOut,
            summary="What happened to everyone a campaign touched", responses=not_found("No such campaign"))
def followup(runtime: RuntimeDep, campaign_id: IdPath) -> FollowupOut:
    f = runtime.desk.ask(CampaignFollowup(campaign_id)).report
    assert f is not None
    return FollowupOut(campaign_id=f.campaign_id, name=f.name, people=f.people, contacted=f.contacted, reached=f.reached,
                       pipeline=f.pipeline, revenue=f.revenue,
                       never_contacted=[NeverContactedOut(**x) for x in f.never_contacted])
