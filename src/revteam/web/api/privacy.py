"""Personal data over the API (admins, ``full`` tokens only): export a person, erase them, lift an erasure.

An export is personal data: only a ``full`` token of an admin may ask for it, and it is a POST with the
person in a JSON body, so the address never appears in a URL (access logs, proxies). Erasing needs no typed confirmation
over the API (the call is the intent; the page asks for one). Example::

    curl -H "Authorization: Bearer $TOKEN" -d '{"email": "ana+news@acme.com"}' "$URL/api/v1/privacy/export"
    curl -H "Authorization: Bearer $TOKEN" -d '{"email": "ana@acme.com"}' "$URL/api/v1/privacy/erase"
    curl -H "Authorization: Bearer $TOKEN" -d '{"email": "ana@acme.com", "reason": "asked to come back"}' \
         "$URL/api/v1/privacy/lift"
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from revteam.services.people.privacy import (
    erase_person,
    export_person,
    lift_erasure,
    lift_tombstone,
)
from revteam.web.api.models import ERROR_RESPONSES
from revteam.web.deps import CurrentUser, NowDep, SessionDep, SettingsDep

router = APIRouter(prefix="/privacy", responses={
    **ERROR_RESPONSES,
    403: {"description": "Not an admin, or the token's scope is not `full` (exports are personal data)."},
    404: {"description": "Nobody matches (no contact, or no erasure recorded for a lift)."},
})

Email = Annotated[str | None, Field(max_length=254, description="Any +tag finds the same person")]
Source = Annotated[str | None, Field(max_length=60, description="The source system of `external_id` (crm, hubspot, ...)")]
ExternalId = Annotated[str | None, Field(max_length=254, description="The person's id in the source system")]


class PersonalDataExport(BaseModel):
    """Everything held about the person (the same JSON as `revteam privacy export`)."""

    contacts: list[dict[str, Any]] = Field(description="Each contact record with its touchpoints, stage changes, "
                                                       "deals, score, handoffs and disputes")
    outbox_messages: list[dict[str, Any]]
    audit_entries: list[dict[str, Any]]
    owner_changes: list[dict[str, Any]]
    import_runs: list[dict[str, Any]] = Field(description="Import runs whose errors or warnings mention the person")
    mentions: dict[str, list[dict[str, Any]]] = Field(description="Deals, scoring reviews and content notes naming them")


class PersonIn(BaseModel):
    """Name the person one way: `email`, `contact_id`, or `external_id` (with `source_system`)."""

    model_config = ConfigDict(extra="forbid")
    email: Email = None
    contact_id: Annotated[int | None, Field(ge=1, le=2**31 - 1)] = None
    source_system: Source = None
    external_id: ExternalId = None


EraseIn = PersonIn


class ErasedOut(BaseModel):
    erased_contact_ids: list[int]
    message: str


class LiftIn(BaseModel):
    """Name the erasure by `email`, by `source_system` + `external_id`, or by a tombstone's `kind` + `digest`."""

    model_config = ConfigDict(extra="forbid")
    email: Email = None
    source_system: Source = None
    external_id: ExternalId = None
    kind: Annotated[str | None, Field(max_length=20, description="`email` or `external_id` (with `digest`)")] = None
    digest: Annotated[str | None, Field(max_length=64, description="A tombstone's SHA-256, 64 hex characters")] = None
    reason: Annotated[str, Field(max_length=500, description="Why, for the audit log (required)")] = ""


class LiftedOut(BaseModel):
    tombstones_lifted: int
    message: str


def _ledger(settings: Any) -> Path | None:
    return Path(settings.privacy_ledger) if settings.privacy_ledger else None


@router.post("/export", name="api.privacy.export", response_model=PersonalDataExport,
             summary="Everything held about a person (admins, full tokens)")
def export(body: PersonIn, db: SessionDep, me: CurrentUser) -> Any:
    """Give exactly one of `email`, `contact_id` or `external_id` (with `source_system`); 422 `person_required`
    else. Writes nothing; a POST so that the person is never part of the URL."""
    return export_person(db, body.email, contact_id=body.contact_id, source_system=body.source_system,
                         external_id=body.external_id)


@router.post("/erase", name="api.privacy.erase", response_model=ErasedOut,
             summary="Erase a person everywhere and keep their tombstones (admins, full tokens)")
def erase(body: EraseIn, db: SessionDep, me: CurrentUser, now: NowDep, settings: SettingsDep) -> ErasedOut:
    """Their touches and deals keep counting, anonymously; imports that match a tombstone are refused."""
    ids = erase_person(db, body.email, contact_id=body.contact_id, source_system=body.source_system,
                       external_id=body.external_id, now=now, actor=f"user:{me.id}", actor_user_id=me.id,
                       ledger=_ledger(settings))
    return ErasedOut(erased_contact_ids=ids, message=f"Erased {len(ids)} contact record(s); only hashes of their "
                     "identity are kept.")


@router.post("/lift", name="api.privacy.lift", response_model=LiftedOut,
             summary="Let an erased person be imported again, with a reason (admins, full tokens)")
def lift(body: LiftIn, db: SessionDep, me: CurrentUser, now: NowDep, settings: SettingsDep) -> LiftedOut:
    """Recorded in the audit log with the reason; 422 `reason_required` without one."""
    who = {"now": now, "actor": f"user:{me.id}", "actor_user_id": me.id, "ledger": _ledger(settings)}
    if body.digest is not None or body.kind is not None:
        n = lift_tombstone(db, kind=body.kind or "", digest=body.digest or "", reason=body.reason, **who)
    else:
        n = lift_erasure(db, email=body.email, source_system=body.source_system, external_id=body.external_id,
                         reason=body.reason, **who)
    return LiftedOut(tombstones_lifted=n, message=f"Lifted {n} tombstone(s); the person may be imported again.")
