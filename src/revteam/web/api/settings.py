"""Configuration of the handoff over the API: the scoring model (read, preview, save), the SLA agreement
(read, propose, sign) and one's own notification settings. The same services and checks as the pages."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from revteam.delivery.outbox import CHANNELS, EVENTS
from revteam.domain.ids import MAX_ID
from revteam.domain.scoring import model_from_toml, model_to_dict, model_to_toml
from revteam.services.handoff.agreement import (
    AgreementView,
    agreements_overview,
    propose_sla,
    sign_agreement,
)
from revteam.services.notify.settings import (
    notification_settings,
    save_notification_settings,
    set_group_membership,
)
from revteam.services.qualify.scoring import (
    PREVIEW_DAYS,
    preview_model_change,
    save_model,
    scoring_overview,
)
from revteam.services.unit_of_work import Session
from revteam.web.api.handoff_models import (
    AgreementOut,
    AgreementsOut,
    GroupIn,
    GroupOut,
    ModelIn,
    ModelVersionOut,
    NotificationsIn,
    NotificationsOut,
    PreviewOut,
    PreviewRowOut,
    ProposeIn,
    SavedModelOut,
    ScoringModelOut,
    ScoringReviewOut,
    SignIn,
    SignoffOut,
    TermsModel,
    UserRef,
)
from revteam.web.api.models import ERROR_RESPONSES, ErrorOut, IdPath, not_found
from revteam.web.deps import CurrentUser, NowDep, SessionDep, SettingsDep

scoring_router = APIRouter(responses=ERROR_RESPONSES)
agreement_router = APIRouter(responses=ERROR_RESPONSES)
notifications_router = APIRouter(responses=ERROR_RESPONSES)


# ---------------------------------------------------------------- scoring
@scoring_router.get("/scoring/model", name="api.scoring.get", response_model=ScoringModelOut,
                    summary="The scoring model in force, its versions, score distribution and open reviews")
def scoring_model(db: SessionDep, me: CurrentUser) -> ScoringModelOut:
    overview = scoring_overview(db)
    model, names = overview.model, overview.makers
    return ScoringModelOut(
        version=model.version, name=model.name, mql_threshold=model.mql_threshold, toml=model_to_toml(model),
        rules=model_to_dict(model),
        versions=[ModelVersionOut(version=v.version, name=v.name, created_at=v.created_at, note=v.note,
                                  created_by=UserRef(id=v.created_by, name=names.get(v.created_by, ""))
                                  if v.created_by else None) for v in overview.versions],
        distribution=overview.distribution,
        open_reviews=[ScoringReviewOut(id=r.id, source=r.source, reason=r.reason, last_week=r.last_week,
                                       summary=r.summary, opened_at=r.opened_at) for r in overview.reviews],
    )


@scoring_router.post("/scoring/preview", name="api.scoring.preview", response_model=PreviewOut,
                     summary="Preview a model change without saving it")
def scoring_preview(db: SessionDep, me: CurrentUser, now: NowDep, body: ModelIn) -> PreviewOut:
    """Per original source, of the contacts active in the last 30 days: MQLs under the model in force and under
    the proposal. A proposal that is not a valid model is refused with 422 and the reason."""
    proposed = model_from_toml(body.toml)
    rows = preview_model_change(db, proposed, now=now, days=PREVIEW_DAYS)
    return PreviewOut(days=PREVIEW_DAYS, proposed_threshold=proposed.mql_threshold,
                      rows=[PreviewRowOut(source=r.source, active_contacts=r.active_contacts, mql_now=r.mql_now,
                                          mql_proposed=r.mql_proposed, change=r.change) for r in rows])


@scoring_router.post("/scoring/models", name="api.scoring.save", response_model=SavedModelOut, status_code=201,
                     summary="Save a model as the new version in force")
def scoring_save(db: SessionDep, me: CurrentUser, now: NowDep, body: ModelIn) -> SavedModelOut:
    model = save_model(db, body.toml, by=me.id, now=now, note=(body.note or "").strip() or None)
    return SavedModelOut(version=model.version, name=model.name, mql_threshold=model.mql_threshold)


# ---------------------------------------------------------------- the agreement
def agreement_out(v: AgreementView, current: AgreementView | None, names: dict[int, str]) -> AgreementOut:
    status = ("in_force" if current is not None and current.row.id == v.row.id
              else "superseded" if v.in_force else "awaiting_signatures")
    ref = lambda uid: UserRef(id=uid, name=names.get(uid, ""))
    return AgreementOut(
        version=v.row.version, status=status, text=v.row.text, terms=TermsModel(**v.row.terms),  # type: ignore[arg-type]
        committee=[ref(m) for m in v.row.committee], created_at=v.row.created_at,
        created_by=ref(v.row.created_by) if v.row.created_by else None, in_force_at=v.row.in_force_at,
        signoffs=[SignoffOut(side=s.side, user=ref(s.user_id), signed_at=s.signed_at) for s in v.signoffs],
    )


def _agreements(db: Session) -> AgreementsOut:
    overview = agreements_overview(db)
    current, versions, names = overview.in_force, overview.versions, overview.names
    return AgreementsOut(in_force=agreement_out(current, current, names) if current else None,
                         versions=[agreement_out(v, current, names) for v in versions])


@agreement_router.get("/agreements", name="api.agreements.get", response_model=AgreementsOut,
                      summary="The SLA in force and every version")
def agreements(db: SessionDep, me: CurrentUser) -> AgreementsOut:
    return _agreements(db)


@agreement_router.post("/agreements", name="api.agreements.propose", response_model=AgreementsOut, status_code=201,
                       summary="Propose a new SLA version")
def propose(db: SessionDep, me: CurrentUser, now: NowDep, body: ProposeIn) -> AgreementsOut:
    """A new version changes nothing until both heads sign it. The committee is made of leaders and admins."""
    propose_sla(db, text=body.text, terms=body.terms.model_dump(), committee=body.committee, by=me, now=now)
    return _agreements(db)


@agreement_router.post("/agreements/{version}/signatures", name="api.agreements.sign", response_model=AgreementsOut,
                       summary="Sign an SLA version for your side",
                       responses={**not_found("No such SLA version"),
                                  409: {"model": ErrorOut, "description": "That side is already signed"}})
def sign(db: SessionDep, me: CurrentUser, now: NowDep, body: SignIn,
         version: Annotated[int, Path(ge=1, le=MAX_ID)]) -> AgreementsOut:
    """Each side (marketing, sales) is signed once, by a leader or admin; one person cannot sign both. Once
    both sides have signed, the version is in force."""
    sign_agreement(db, version, me, body.side, now=now)
    return _agreements(db)


# ---------------------------------------------------------------- notifications
def _settings(db: Session, user_id: int) -> NotificationsOut:
    stored = notification_settings(db, user_id)
    return NotificationsOut(
        events=list(EVENTS), channels=list(CHANNELS), preferences=stored.preferences, addresses=stored.addresses,
        groups=[GroupOut(id=g.group.id, name=g.group.name, event=g.group.event, channel=g.group.channel,
                         member=g.member, left_at=g.left_at) for g in stored.groups],
    )


@notifications_router.get("/me/notifications", name="api.notifications.get", response_model=NotificationsOut,
                          summary="Your notification settings")
def notifications(db: SessionDep, me: CurrentUser) -> NotificationsOut:
    return _settings(db, me.id)


@notifications_router.put("/me/notifications", name="api.notifications.set", response_model=NotificationsOut,
                          summary="Change your notification settings")
def set_notifications(db: SessionDep, me: CurrentUser, settings: SettingsDep, body: NotificationsIn) -> NotificationsOut:
    """Only the events and addresses you send change. A chat channel needs your address on it (an Apprise URL);
    an empty address removes it. Webhook addresses are for admins only and must point to a public host."""
    addresses: dict[str, Any] = {c: u.strip() for c, u in body.addresses.items()}
    save_notification_settings(db, me, body.preferences, addresses, allow_hosts=settings.webhook_allow_hosts)
    return _settings(db, me.id)


@notifications_router.put("/me/groups/{group_id}", name="api.notifications.group", response_model=NotificationsOut,
                          summary="Join or leave a notification group", responses=not_found("No such group"))
def group_membership(db: SessionDep, me: CurrentUser, now: NowDep, group_id: IdPath, body: GroupIn) -> NotificationsOut:
    set_group_membership(db, me, group_id, member=body.member, now=now)
    return _settings(db, me.id)
