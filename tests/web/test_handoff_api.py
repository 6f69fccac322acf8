"""The handoff over the JSON API: inbox and actions, disputes, reports, scoring, agreement, notifications.

Each action: the happy path, the wrong person (403 with a code saying why), bad input (422 with a
message, nothing written); and the OpenAPI description names the models.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from revteam.runtime import Runtime
from revteam.store.models import Dispute, DisputeVote, Handoff, ScoringModelRow, SlaAgreement, UserChannel
from revteam.store.models import Touchpoint, User
from tests.web.conftest import NOW, api_token_for, bearer, new_client, use_handoff_template
from tests.web.handoff_world import World

runtime, people, record, world = use_handoff_template()

API = "/api/v1"


class Api:
    """A client that sends the bearer token of one person."""

    def __init__(self, app: FastAPI, runtime: Runtime, user_id: int) -> None:
        with runtime.sessions() as s:
            user = s.get(User, user_id)
            s.expunge(user)
        self.client = new_client(app)
        self.headers = bearer(api_token_for(runtime, user))

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(API + path, headers=self.headers, **kw)

    def post(self, path: str, json: Any = None) -> Any:
        return self.client.post(API + path, headers=self.headers, json=json)

    def put(self, path: str, json: Any = None) -> Any:
        return self.client.put(API + path, headers=self.headers, json=json)


@pytest.fixture
def api(app: FastAPI, runtime: Runtime, world: World) -> Any:
    return lambda key: Api(app, runtime, world.users[key])


def count(runtime: Runtime, model: Any, *where: Any) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def status_of(runtime: Runtime, handoff_id: int) -> str:
    with runtime.sessions() as s:
        return s.get(Handoff, handoff_id).status


# ---------------------------------------------------------------- inbox and actions
def test_the_inbox_lists_a_reps_pending_leads_with_their_context(api: Any, world: World) -> None:
    body = api("sdr").get("/inbox").json()
    assert body["rep"]["id"] == world.users["sdr"]
    ids = [h["id"] for h in body["pending"]]
    assert world.pending_mine in ids and world.pending_other not in ids
    dues = [h["due_at"] for h in body["pending"]]
    assert dues == sorted(dues)
    first = body["pending"][0]
    assert first["clock"]["state"] == "breached" and first["clock"]["text"].startswith("overdue by")
    assert first["context"]["score"]["reasons"][0]["kind"] == "fast_track"
    assert first["context"]["account"]["name"] and first["routing_reason"].startswith("SDR Person")
    assert [h["id"] for h in body["to_qualify"]] == [world.accepted_mine] and body["to_qualify"][0]["can_qualify"]
    assert body["counts"]["pending"] == len(ids)


def test_reps_get_their_own_inbox_only(api: Any, world: World) -> None:
    refused = api("sdr").get("/inbox", params={"rep": "all"})
    assert refused.status_code == 403 and refused.json()["code"] == "not_your_inbox"
    leader = api("leader").get("/inbox").json()
    assert leader["rep"] is None and {world.pending_mine, world.pending_other} <= {h["id"] for h in leader["pending"]}
    assert api("marketing").get("/inbox").json()["code"] == "role_forbidden"


def test_accept_reject_touch_and_qualify(api: Any, runtime: Runtime, world: World) -> None:
    sdr = api("sdr")
    accepted = sdr.post(f"/handoffs/{world.pending_mine}/accept")
    assert accepted.status_code == 200
    assert accepted.json()["handoff"]["status"] == "accepted" and accepted.json()["handoff"]["can_qualify"]
    again = sdr.post(f"/handoffs/{world.pending_mine}/accept")
    assert again.status_code == 409 and again.json()["code"] == "handoff_decided"
    touched = sdr.post(f"/handoffs/{world.pending_mine}/touches", {"type": "meeting", "note": "Discovery call"})
    assert touched.status_code == 200 and touched.json()["handoff"]["clock"]["state"] == "worked"
    qualified = sdr.post(f"/handoffs/{world.pending_mine}/qualify", {"note": "BANT confirmed"}).json()
    assert qualified["sql_handoff"]["kind"] == "sql" and qualified["sql_handoff"]["rep"]["id"] == world.users["ae"]
    assert qualified["sql_handoff"]["context"]["title"]
    ae_inbox = api("ae").get("/inbox").json()
    assert qualified["sql_handoff"]["id"] in [h["id"] for h in ae_inbox["pending"]]


def test_reject_and_recycle(api: Any, runtime: Runtime, world: World) -> None:
    sdr = api("sdr")
    missing_date = sdr.post(f"/handoffs/{world.pending_mine}/reject", {"reason": "not_ready"})
    assert missing_date.status_code == 422 and missing_date.json()["code"] == "recycle_date_required"
    unknown = sdr.post(f"/handoffs/{world.pending_mine}/reject", {"reason": "meh"})
    assert unknown.status_code == 422 and "Unknown reject reason" in unknown.json()["message"]
    assert status_of(runtime, world.pending_mine) == "pending"
    back = (NOW + timedelta(days=30)).date().isoformat()
    done = sdr.post(f"/handoffs/{world.pending_mine}/reject", {"reason": "not_ready", "note": "Q3", "recycle_until": back})
    assert done.status_code == 200
    assert (done.json()["handoff"]["status"], done.json()["handoff"]["recycle_until"]) == ("recycled", back)


def test_another_reps_lead_is_refused_and_nothing_is_written(api: Any, runtime: Runtime, world: World) -> None:
    sdr = api("sdr")
    touches = count(runtime, Touchpoint)
    for path, body in ((f"/handoffs/{world.pending_other}/accept", None),
                       (f"/handoffs/{world.pending_other}/reject", {"reason": "bad_fit"}),
                       (f"/handoffs/{world.pending_other}/touches", {"type": "sales_call"}),
                       (f"/handoffs/{world.pending_other}/qualify", {})):
        response = sdr.post(path, body)
        assert response.status_code == 403 and response.json()["code"] == "not_your_lead", path
    assert status_of(runtime, world.pending_other) == "pending" and count(runtime, Touchpoint) == touches
    assert sdr.post("/handoffs/9999/accept").status_code == 404


@pytest.mark.parametrize("body", [{"type": "carrier_pigeon"}, {}, {"type": "sales_call", "note": "x" * 2001}])
def test_bad_touches_are_422(api: Any, runtime: Runtime, world: World, body: dict[str, Any]) -> None:
    before = count(runtime, Touchpoint)
    response = api("sdr").post(f"/handoffs/{world.pending_mine}/touches", body)
    assert response.status_code == 422 and response.json()["code"] == "invalid_request"
    assert count(runtime, Touchpoint) == before


# ---------------------------------------------------------------- disputes
def test_dispute_and_vote(api: Any, runtime: Runtime, world: World) -> None:
    rejected = api("marketing").get("/rejected-leads").json()
    open_one = next(r for r in rejected if r["handoff"]["id"] == world.rejected_open)
    assert open_one["dispute_id"] is None and open_one["reason_label"] == "Bad fit (not our market)"
    opened = api("marketing").post("/disputes", {"handoff_id": world.rejected_open, "reason": "Fits our ICP"})
    assert opened.status_code == 201
    d = opened.json()
    assert d["rejection"]["reason_label"] == "Bad fit (not our market)" and d["rejection"]["note"] == "Too small for us"
    assert d["needed"] == 2 and [m["choice"] for m in d["committee"]] == [None, None, None]
    assert api("sdr").post("/disputes", {"handoff_id": world.rejected_open, "reason": "x"}).json()["code"] == "role_forbidden"
    vote = api("leader").post(f"/disputes/{d['id']}/votes", {"choice": "uphold_rejection", "reason": "Too small"})
    assert vote.status_code == 200 and vote.json()["votes"] == {"return_to_sales": 0, "uphold_rejection": 1}
    twice = api("leader").post(f"/disputes/{d['id']}/votes", {"choice": "uphold_rejection", "reason": "Still"})
    assert twice.status_code == 422 and twice.json()["code"] == "already_voted"
    decided = api("admin").post(f"/disputes/{d['id']}/votes", {"choice": "uphold_rejection", "reason": "Agree"}).json()
    assert decided["outcome"] == "uphold_rejection" and decided["summary"] == "rejection upheld by 2 of 3 votes"
    late = api("leader2").post(f"/disputes/{d['id']}/votes", {"choice": "return_to_sales", "reason": "late"})
    assert late.status_code == 409 and late.json()["code"] == "dispute_decided"
    assert [x["id"] for x in api("sdr").get("/disputes", params={"status": "decided"}).json()] == [d["id"]]
    assert count(runtime, DisputeVote) == 2


@pytest.mark.parametrize("body,status,code", [
    ({"handoff_id": 0, "reason": "x"}, 422, "invalid_request"),
    ({"reason": "x"}, 422, "invalid_request"),
    ({"handoff_id": 9999, "reason": "x"}, 404, "handoff_not_found"),
])
def test_bad_disputes_are_refused(api: Any, runtime: Runtime, world: World, body: dict[str, Any], status: int,
                                  code: str) -> None:
    response = api("marketing").post("/disputes", body)
    assert response.status_code == status and response.json()["code"] == code
    assert count(runtime, Dispute) == 1


def test_disputes_list_carries_the_lead_and_the_committee(api: Any, world: World) -> None:
    [d] = api("sdr").get("/disputes").json()
    assert d["id"] == world.dispute_id and d["outcome"] is None
    assert d["handoff"]["status"] == "rejected" and d["handoff"]["context"]["score"]
    assert d["rejection"]["reason_label"] == "Student or job seeker" and d["rejection"]["by"]["id"] == world.users["sdr"]
    assert {m["member"]["id"] for m in d["committee"]} == {world.users[k] for k in ("leader", "leader2", "admin")}
    assert api("sdr").get("/disputes", params={"status": "maybe"}).status_code == 422


# ---------------------------------------------------------------- reports
def test_sla_reports(api: Any, world: World) -> None:
    client = api("marketing")
    board = client.get("/sla/board").json()
    assert board["breached"] and board["at_risk"]
    assert all(x["elapsed_minutes"] > 0 for x in board["breached"])
    reps = client.get("/sla/compliance", params={"by": "rep", "days": 30}).json()
    assert reps["by"] == "rep" and reps["rows"][-1]["name"] == "all"
    teams = client.get("/sla/compliance", params={"by": "team"}).json()
    assert {r["name"] for r in teams["rows"]} >= {"Inbound SDRs", "all"}
    assert client.get("/sla/compliance", params={"by": "galaxy"}).status_code == 422
    delivery = client.get("/sla/delivery").json()
    assert delivery["in_force"] and delivery["mqls"]["committed"] == 40 and delivery["sals"]["committed"] == 20
    assert delivery["mqls"]["delivered"] >= 12


def test_unworked_rejections_campaigns_and_follow_up(api: Any, world: World) -> None:
    client = api("leader")
    unworked = client.get("/reports/unworked", params={"days": 7, "rep": world.users["sdr"]}).json()
    [row] = unworked["rows"]
    assert row["rep_id"] == world.users["sdr"] and row["unworked"] >= 1 and row["sentence"].startswith("of the")
    by_reason = client.get("/reports/rejections", params={"by": "reason"}).json()
    assert {"student", "bad_fit"} <= {r["key"] for r in by_reason["rows"]}
    assert next(r for r in by_reason["rows"] if r["key"] == "student")["label"] == "Student or job seeker"
    campaigns = client.get("/campaigns").json()
    march = next(c for c in campaigns if c["id"] == world.campaign_id)
    assert march["name"] == "March pricing webinar" and march["people"] >= 10
    follow = client.get(f"/campaigns/{world.campaign_id}/followup").json()
    assert follow["people"] == march["people"] and set(follow["reached"]) == {"mql", "sal", "sql", "opportunity", "customer"}
    assert any(p["name"] == "Pia Lund" for p in follow["never_contacted"])
    assert client.get("/campaigns/9999/followup").status_code == 404


# ---------------------------------------------------------------- scoring
def test_scoring_model_preview_and_save(api: Any, runtime: Runtime, world: World) -> None:
    model = api("leader").get("/scoring/model").json()
    assert model["mql_threshold"] == 60 and "mql_threshold = 60.0" in model["toml"]
    assert model["rules"]["fast_track"] and sum(model["distribution"].values()) > 0
    proposal = model["toml"].replace("mql_threshold = 60.0", "mql_threshold = 90.0")
    assert api("leader").post("/scoring/preview", {"toml": proposal}).json()["code"] == "role_forbidden"
    versions = count(runtime, ScoringModelRow)
    preview = api("marketing").post("/scoring/preview", {"toml": proposal}).json()
    assert preview["proposed_threshold"] == 90 and preview["days"] == 30
    webinar = next(r for r in preview["rows"] if r["source"] == "webinar")
    assert webinar["mql_proposed"] < webinar["mql_now"] and webinar["change"] < 0
    assert count(runtime, ScoringModelRow) == versions
    saved = api("marketing").post("/scoring/models", {"toml": proposal, "note": "stricter"})
    assert saved.status_code == 201 and saved.json()["mql_threshold"] == 90
    assert api("leader").get("/scoring/model").json()["versions"][0]["note"] == "stricter"


@pytest.mark.parametrize("toml", ["mql_threshold = [", "name = 'x'", "mql_threshold = 60\nhalf_life_days = -1"])
def test_bad_models_are_422_and_nothing_is_saved(api: Any, runtime: Runtime, world: World, toml: str) -> None:
    versions = count(runtime, ScoringModelRow)
    for path in ("/scoring/preview", "/scoring/models"):
        response = api("marketing").post(path, {"toml": toml})
        assert response.status_code == 422 and response.json()["code"] == "bad_scoring_model", path
    assert count(runtime, ScoringModelRow) == versions


# ---------------------------------------------------------------- the agreement
def test_agreement_read_propose_sign(api: Any, runtime: Runtime, world: World) -> None:
    current = api("sdr").get("/agreements").json()
    assert current["in_force"]["version"] == 1 and current["in_force"]["status"] == "in_force"
    assert {s["side"] for s in current["in_force"]["signoffs"]} == {"marketing", "sales"}
    terms = {**current["in_force"]["terms"], "response_minutes": {"hot": 30, "warm": 240, "cold": 960}}
    body = {"text": "Faster for hot leads.", "terms": terms, "committee": [world.users["leader"], world.users["leader2"]]}
    assert api("sdr").post("/agreements", body).json()["code"] == "role_forbidden"
    proposed = api("leader").post("/agreements", body)
    assert proposed.status_code == 201
    v2 = next(v for v in proposed.json()["versions"] if v["version"] == 2)
    assert v2["status"] == "awaiting_signatures" and v2["terms"]["response_minutes"]["hot"] == 30
    assert api("leader").post("/agreements/2/signatures", {"side": "sales"}).status_code == 200
    same = api("leader").post("/agreements/2/signatures", {"side": "marketing"})
    assert same.status_code == 409 and same.json()["code"] == "same_signer"
    done = api("leader2").post("/agreements/2/signatures", {"side": "marketing"}).json()
    assert done["in_force"]["version"] == 2
    assert api("leader2").post("/agreements/9/signatures", {"side": "sales"}).status_code == 404


@pytest.mark.parametrize("change,code", [
    ({"terms": {"tz": "Nowhere/City"}}, "bad_sla"),
    ({"committee": ["MARKETING"]}, "bad_committee"),
    ({"committee": []}, "invalid_request"),
    ({"terms": {"at_risk_share": 1.5}}, "invalid_request"),
])
def test_bad_proposals_are_refused(api: Any, runtime: Runtime, world: World, change: dict[str, Any], code: str) -> None:
    current = api("leader").get("/agreements").json()["in_force"]
    body: dict[str, Any] = {"text": "x", "terms": dict(current["terms"]), "committee": [world.users["leader"]]}
    if "terms" in change:
        body["terms"].update(change["terms"])
    if "committee" in change:
        body["committee"] = [world.users["marketing"]] if change["committee"] == ["MARKETING"] else change["committee"]
    response = api("leader").post("/agreements", body)
    assert response.status_code == 422 and response.json()["code"] == code
    assert count(runtime, SlaAgreement) == 1


# ---------------------------------------------------------------- notifications
def test_notification_settings(api: Any, runtime: Runtime, world: World) -> None:
    client = api("sdr")
    settings = client.get("/me/notifications").json()
    assert settings["preferences"]["assignment"] == ["email"] and settings["addresses"] == {}
    group = next(g for g in settings["groups"] if g["id"] == world.group_id)
    assert group["member"] is True
    refused = client.put("/me/notifications", {"preferences": {"breach": ["teams"]}})
    assert refused.status_code == 422 and refused.json()["code"] == "channel_address_missing"
    url = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX"
    done = client.put("/me/notifications", {"preferences": {"breach": ["email", "slack"], "digest": []},
                                             "addresses": {"slack": url}}).json()
    assert done["preferences"]["breach"] == ["email", "slack"] and done["preferences"]["digest"] == []
    assert done["preferences"]["assignment"] == ["email"]  # untouched
    left = client.put(f"/me/groups/{world.group_id}", {"member": False}).json()
    assert next(g for g in left["groups"] if g["id"] == world.group_id)["member"] is False
    removed = client.put("/me/notifications", {"preferences": {"breach": ["email"]}, "addresses": {"slack": ""}})
    assert removed.status_code == 200 and removed.json()["addresses"] == {}
    with runtime.sessions() as s:
        assert s.get(UserChannel, (world.users["sdr"], "slack")) is None
    assert client.put("/me/notifications", {"preferences": {"gossip": ["email"]}}).json()["code"] == "bad_preference"
    assert client.put("/me/groups/999", {"member": True}).status_code == 404


def test_the_openapi_description_names_the_handoff_models(app: FastAPI, runtime: Runtime, world: World) -> None:
    spec = Api(app, runtime, world.users["sdr"]).get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/api/v1/inbox", "/api/v1/handoffs/{handoff_id}/reject", "/api/v1/disputes/{dispute_id}/votes",
                 "/api/v1/sla/compliance", "/api/v1/campaigns/{campaign_id}/followup", "/api/v1/scoring/preview",
                 "/api/v1/agreements/{version}/signatures", "/api/v1/me/notifications"):
        assert path in paths, path
    schemas = spec["components"]["schemas"]
    for name in ("InboxOut", "HandoffOut", "ContextOut", "RejectIn", "DisputeOut", "ComplianceOut", "DeliveryOut",
                 "FollowupOut", "PreviewOut", "AgreementsOut", "TermsModel", "NotificationsIn"):
        assert name in schemas, name
    reject = paths["/api/v1/handoffs/{handoff_id}/reject"]["post"]
    assert reject["security"] == [{"bearerAuth": []}] and "recycle_until" in schemas["RejectIn"]["properties"]

