"""The lead inbox: a rep's pending handoffs, most urgent first, and what they do with them.

Reps see their own inbox; leaders and admins pick a rep or see everyone's. Each lead opens to its
context packet. The actions (accept, reject with a reason, log a touch, qualify an accepted MQL to SQL)
are plain form POSTs answered with a redirect back to the inbox (303); with htmx they answer with the
lead's card in its new state (and the counts, out of band), and a refused action comes back as the card
with the reason, at the error's status. The services decide (``services/handoff/decide.py``) and say what
the inbox holds (``services/handoff/inbox.py``); this module only translates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revteam.domain.ids import MAX_ID
from revteam.domain.roles import SUPERVISORS
from revteam.errors import RevteamError
from revteam.services.handoff.agreement import sla_zone
from revteam.services.handoff.decide import accept_lead, get_handoff, log_touch, qualify_to_sql, reject_lead
from revteam.services.handoff.inbox import TOUCH_KINDS, inbox, inbox_rep, lead_outcome, lead_row, reject_reasons, reps
from revteam.services.people import User
from revteam.services.unit_of_work import Session
from revteam.web.deps import CurrentUser, NowDep, SessionDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50  # cards rendered at once: "all reps" holds hundreds of leads, and the counts say how many

DONE = {
    "accepted": "{name} is accepted and now sales-accepted (SAL). Qualify to SQL when budget and timing are confirmed.",
    "rejected": "{name} is rejected; marketing sees the reason and may dispute it.",
    "recycled": "{name} goes back to nurture until {until}.",
    "touched": "Your {touch} with {name} is logged; the SLA clock has stopped.",
    "qualified": "{name} is now an SQL, handed to {to}.",
}


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def _rep_param(value: str) -> str:
    return value if value in ("all", "me") or value.isdigit() else ""


def inbox_url(rep: str = "", **params: Any) -> str:
    query = {k: v for k, v in {"rep": _rep_param(rep), **params}.items() if v not in (None, "")}
    return "/inbox" + ("?" + urlencode(query) if query else "")


def done_message(db: Session, done: str, lead_id: int | None, extra: dict[str, str]) -> str | None:
    template = DONE.get(done)
    outcome = lead_outcome(db, lead_id) if lead_id else None
    if template is None or outcome is None:
        return None
    to = outcome.sql_rep or "the unassigned queue (no AE was available)"
    until = outcome.recycle_until.isoformat() if outcome.recycle_until else "the return date"
    return template.format(name=outcome.name, to=to, until=until,
                           touch=TOUCH_KINDS.get(extra.get("touch", ""), "touch").lower())


@router.get("/inbox", name="inbox.page", response_class=HTMLResponse)
def inbox_page(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep,
    rep: Annotated[str, Query(max_length=20)] = "",
    done: Annotated[str, Query(max_length=20)] = "",
    lead: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    touch: Annotated[str, Query(max_length=20)] = "",
    show: Annotated[int, Query(ge=1, le=10_000)] = PAGE_SIZE,
) -> HTMLResponse:
    rep_id = inbox_rep(db, me, rep)
    tz = sla_zone(db)
    box = inbox(db, rep_id=rep_id, now=now, tz=tz)
    context = {
        "box": box,
        "reps": reps(db) if me.role in SUPERVISORS else [],
        "picked": "all" if rep_id is None else ("me" if rep_id == me.id and me.role not in SUPERVISORS else str(rep_id)),
        "supervisor": me.role in SUPERVISORS,
        "reasons": reject_reasons(db),
        "touch_kinds": TOUCH_KINDS,
        "tz": tz,
        "now": now,
        "notice": done_message(db, done, lead, {"touch": touch}),
        "card_form": {},
        "notice_lead": lead,
        "show": show,
        "page_size": PAGE_SIZE,
        "more_url": inbox_url(rep, show=show + PAGE_SIZE) + "#pending-h",
    }
    return render(request, "inbox.html", context)


def _card(request: Request, db: Session, me: User, now: datetime, handoff_id: int, *, rep: str, status: int = 200,
          notice: str | None = None, error: str | None = None, form: dict[str, str] | None = None,
          open_form: str | None = None) -> HTMLResponse:
    tz = sla_zone(db)
    rep_id = inbox_rep(db, me, rep) if rep else (None if me.role in SUPERVISORS else me.id)
    row = lead_row(db, handoff_id, now, tz)
    counts = inbox(db, rep_id=rep_id, now=now, tz=tz).counts
    context = {
        "row": row,
        "reasons": reject_reasons(db),
        "touch_kinds": TOUCH_KINDS,
        "tz": tz,
        "now": now,
        "picked": rep,
        "supervisor": me.role in SUPERVISORS,
        "card_notice": notice,
        "card_error": error,
        "card_form": form or {},
        "open_form": open_form,
        "counts": counts,
        "oob": True,
    }
    return render(request, "_lead_card.html", context, status=status)


def _act(request: Request, db: Session, me: User, now: datetime, handoff_id: int, *, rep: str, done: str,
         form: dict[str, str], open_form: str, action: Callable[[], dict[str, str] | None]) -> Response:
    """Run ``action()``, one use case that keeps its work or none of it (it may return ``{"done": ..., ...}``
    to say what happened), and answer: a redirect to the inbox, or with htmx the lead's card."""
    get_handoff(db, handoff_id)  # 404 for an unknown lead, on the error page even with htmx
    try:
        extra = dict(action() or {})
    except RevteamError as e:
        if not is_htmx(request):
            raise  # the error page
        return _card(request, db, me, now, handoff_id, rep=rep, status=e.status, error=e.message, form=form,
                     open_form=open_form)
    done = extra.pop("done", done)
    if is_htmx(request):
        return _card(request, db, me, now, handoff_id, rep=rep, notice=done_message(db, done, handoff_id, extra))
    return RedirectResponse(inbox_url(rep, done=done, lead=handoff_id, **extra) + f"#lead-{handoff_id}",
                            status_code=303)


RepField = Annotated[str, Form(max_length=20)]


@router.post("/inbox/{handoff_id}/accept", name="inbox.accept")
def accept(request: Request, db: SessionDep, me: CurrentUser, now: NowDep, handoff_id: int, rep: RepField = "") -> Response:
    def action() -> None:
        accept_lead(db, handoff_id, me, now=now)

    return _act(request, db, me, now, handoff_id, rep=rep, done="accepted", form={}, open_form="", action=action)


@router.post("/inbox/{handoff_id}/reject", name="inbox.reject")
def reject(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep, handoff_id: int,
    reason: Annotated[str, Form(min_length=1, max_length=40)],
    note: Annotated[str, Form(max_length=2000)] = "",
    recycle_until: Annotated[str, Form(max_length=20)] = "",
    rep: RepField = "",
) -> Response:
    def action() -> dict[str, str]:
        h = reject_lead(db, handoff_id, me, reason=reason, note=note, recycle_until=recycle_until, now=now)
        return {"done": h.status}  # rejected, or recycled

    return _act(request, db, me, now, handoff_id, rep=rep, done="rejected", open_form="reject", action=action,
                form={"reason": reason, "note": note, "recycle_until": recycle_until})


@router.post("/inbox/{handoff_id}/touch", name="inbox.touch")
def touch(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep, handoff_id: int,
    type: Annotated[str, Form(min_length=1, max_length=20)],
    note: Annotated[str, Form(max_length=2000)] = "",
    rep: RepField = "",
) -> Response:
    def action() -> dict[str, str]:
        log_touch(db, handoff_id, me, type=type, note=note, now=now)
        return {"touch": type}

    return _act(request, db, me, now, handoff_id, rep=rep, done="touched", form={"type": type, "note": note},
                open_form="touch", action=action)


@router.post("/inbox/{handoff_id}/qualify", name="inbox.qualify")
def qualify(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep, handoff_id: int,
    note: Annotated[str, Form(max_length=2000)] = "",
    rep: RepField = "",
) -> Response:
    def action() -> None:
        qualify_to_sql(db, handoff_id, me, now=now, note=note)

    return _act(request, db, me, now, handoff_id, rep=rep, done="qualified", form={"note": note}, open_form="qualify",
                action=action)
