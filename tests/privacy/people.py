"""A person seeded into every table that can hold personal data, and a search of the whole database.

Zofia Quillfeather (HubSpot record HS-770451) is a lead with touches, a score, a deal, a rejected and
disputed handoff, notifications about her, an import run that failed on her address, audit entries and
an owner change. Bo Lind is another lead who must keep his data when Zofia is erased.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from revteam.store.models import (
    AuditEntry,
    Base,
    ContactScore,
    ContentUsage,
    DealContact,
    Dispute,
    DisputeVote,
    Handoff,
    IdempotentRequest,
    ImportRun,
    LoginThrottle,
    OutboxMessage,
    OwnerChange,
    ScoringReview,
    StageChange,
    TouchReaction,
)
from tests.factories import (
    make_account,
    make_contact,
    make_content,
    make_deal,
    make_touch,
    make_user,
)

T = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
EMAIL = "zofia.quillfeather@nimbus-orbital.io"
TAGGED = "zofia.quillfeather+events@nimbus-orbital.io"
EXTERNAL_ID = "HS-770451"
SECRETS = ("zofia", "quillfeather", EXTERNAL_ID.lower())  # none may remain anywhere after erasure


def seed_person(s: Session) -> dict[str, Any]:
    rep = make_user(s, role="sdr", name="Sam Rep")
    head = make_user(s, role="leader", name="Hana Head")
    acc = make_account(s, name="Nimbus Orbital", domain="nimbus-orbital.io")
    zofia = make_contact(s, email=EMAIL, first_name="Zofia", last_name="Quillfeather", title="VP Flight Ops",
                         persona="operations", account_id=acc.id, source_system="hubspot", external_id=EXTERNAL_ID)
    events = make_contact(s, email=TAGGED, first_name="Zofia", last_name="Quillfeather", account_id=acc.id,
                          source_system="events", external_id="ev-1")
    bo = make_contact(s, email="bo.lind@nimbus-orbital.io", first_name="Bo", last_name="Lind", account_id=acc.id)
    make_touch(s, zofia, url=f"https://nimbus.example/pricing?email={EMAIL}", properties={"name": "Zofia Quillfeather"})
    make_touch(s, events, type="event_attended", url="https://events.example/badge/zofia")
    make_touch(s, bo, url="https://nimbus.example/blog")
    s.add(StageChange(contact_id=zofia.id, from_stage="lead", to_stage="mql", changed_at=T,
                      reason="Zofia asked for pricing"))
    s.add(ContactScore(contact_id=zofia.id, model_version=1, fit=40, engagement=30, total=70, is_mql=True,
                       reasons=[{"rule": "title", "text": "Zofia Quillfeather is a VP"}], scored_at=T))
    deal = make_deal(s, acc, name="Nimbus Orbital - Zofia Quillfeather pilot", contacts=[zofia, bo],
                     lost_reason=None)
    h = Handoff(contact_id=zofia.id, rep_id=rep.id, status="rejected", priority="hot", handed_at=T,
                reject_reason="not_a_buyer", reject_note=f"Zofia said she is a student ({EMAIL})",
                routing_reason="EMEA pool", context={"who": "Zofia Quillfeather", "email": EMAIL})
    s.add(h)
    s.flush()
    d = Dispute(handoff_id=h.id, opened_by=head.id, opened_at=T, reason="Zofia Quillfeather runs flight ops",
                committee=[head.id], summary="Zofia is a buyer")
    s.add(d)
    s.flush()
    s.add(DisputeVote(dispute_id=d.id, member_id=head.id, choice="uphold", reason="Quillfeather signs POs",
                      voted_at=T))
    s.add(OutboxMessage(key=f"handoff:{h.id}:assigned:u{rep.id}:email", event="assignment", user_id=rep.id,
                        channel="email", target="sam@revteam.test", subject="New hot lead: Zofia Quillfeather",
                        body=f"Zofia Quillfeather (VP Flight Ops, {EMAIL}) was handed to you.", created_at=T,
                        next_attempt_at=T))
    s.add(OutboxMessage(key=f"digest:{rep.id}:2026-03-10:u{rep.id}:email", event="digest", user_id=rep.id,
                        channel="email", target="sam@revteam.test", subject="2 lead(s) have no touch yet",
                        body="Unworked leads: Bo Lind, Zofia Quillfeather", created_at=T, next_attempt_at=T,
                        last_error=f"550 mailbox {TAGGED} unknown"))
    s.add(OutboxMessage(key="group:2:invite:g2", event="digest", user_id=None, channel="email", target=TAGGED,
                        subject="Your webinar seat", body="Dear Zofia, your seat is confirmed.", created_at=T,
                        next_attempt_at=T))  # a message *to* her
    s.add(ImportRun(kind="contacts", filename="hubspot-export.csv", sha256="0" * 64, started_at=T, status="partial",
                    errors=[{"row": 3, "column": "email", "message": "duplicate", "value": TAGGED},
                            {"row": 4, "column": "email", "message": "bad", "value": "bo.lind@@nimbus"}],
                    warnings=[{"row": 5, "column": "external_id", "value": EXTERNAL_ID, "message": "Quillfeather"}]))
    s.add(AuditEntry(at=T, actor="cli", action="contact.updated", entity="contact", entity_id=str(zofia.id),
                     detail={"email": [None, EMAIL]}))
    s.add(AuditEntry(at=T, actor=f"user:{rep.id}", action="handoff.rejected", entity="handoff", entity_id=str(h.id),
                     detail={"note": "Zofia said she is a student"}))
    s.add(AuditEntry(at=T, actor="import", action="import.finished", entity="import_run", entity_id="1",
                     detail={"sample": [f"hubspot:{EXTERNAL_ID}", "bo.lind@nimbus-orbital.io"]}))
    s.add(OwnerChange(entity="contact", entity_id=zofia.id, to_user_id=rep.id, changed_at=T,
                      reason="Zofia moved to EMEA"))
    s.add(ScoringReview(source="webinar", reason="not_a_buyer", last_week="2026-W10", opened_at=T,
                        summary="3 rejections, e.g. Zofia Quillfeather"))
    s.add(ContentUsage(deal_id=deal.id, content_id=make_content(s).id, user_id=rep.id, used_at=T,
                       note="sent to zofia.quillfeather@nimbus-orbital.io, she loved it"))
    for n, who in enumerate((f"Zofia Quill\u00e9 {EMAIL}", "Bo Lind bo.lind@nimbus-orbital.io")):
        s.add(IdempotentRequest(caller=str(n) * 64, key=f"decide-{n}", fingerprint="f" * 64, method="POST",
                                path=f"/api/v1/handoffs/{h.id}/reject", started_at=T, finished_at=T, status_code=200,
                                content_type="application/json",
                                body=json.dumps({"contact": {"name": who.rsplit(" ", 1)[0],
                                                             "email": who.rsplit(" ", 1)[1]}}).encode()))
    s.add(LoginThrottle(key=f"account:{TAGGED}", failures=2, last_failed_at=T))
    s.add(LoginThrottle(key="account:bo.lind@nimbus-orbital.io", failures=1, last_failed_at=T))
    s.add(TouchReaction(source_system="hubspot", contact_ids=[zofia.id], created_at=T,
                        last_error=f"scoring failed for {EMAIL}"))
    s.commit()
    return {"zofia": zofia.id, "events": events.id, "bo": bo.id, "handoff": h.id, "dispute": d.id, "deal": deal.id,
            "rep": rep.id}


def dump(engine: Engine) -> str:
    """Every row of every table as text (JSON-escaped and plain), lower-cased: what a search would find."""
    parts = []
    with Session(engine) as s:
        for t in Base.metadata.sorted_tables:
            for row in s.execute(select(t)).mappings():
                text = json.dumps({k: v for k, v in row.items()}, default=str, ensure_ascii=False)
                parts.append(f"{t.name}: {text}")
    return "\n".join(parts).lower()


def leftovers(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(secret in line for secret in SECRETS)]


def later(days: int = 1) -> datetime:
    return datetime.combine(date(2026, 3, 16 + days), datetime.min.time(), tzinfo=UTC)


def deal_contacts(s: Session, deal_id: int) -> list[int]:
    return sorted(s.scalars(select(DealContact.contact_id).where(DealContact.deal_id == deal_id)))
