"""The scoring model editor (R3): the model in force as TOML and as a table of rules, a preview of a
change before it is saved, version history, the score distribution and open scoring reviews.

Marketing and admins edit; leaders read. *Preview* scores everyone active in the last 30 days under the
model in force and under the proposal and shows, per source, how many are MQLs under each; nothing is
written. *Save as new version* stores the proposal (versions are never edited in place). A proposal
that is not valid TOML or not a valid model comes back with the error and the text as typed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revteam.domain.ids import MAX_ID
from revteam.domain.scoring import ScoringModel, model_from_toml, model_to_toml
from revteam.errors import InvalidInput
from revteam.services.people import User
from revteam.services.qualify.scoring import PREVIEW_DAYS, preview_model_change, save_model, scoring_overview
from revteam.services.unit_of_work import Session
from revteam.web.deps import CurrentUser, NowDep, SessionDep
from revteam.web.policy import SCORING_EDIT
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)
MAX_TOML = 200_000


def touch_criteria(rule: Any) -> list[tuple[str, str]]:
    """A touch rule's criteria as (what, values) pairs for the rules table."""
    out = []
    for key, label in (("type", "type"), ("channel", "channel"), ("campaign", "campaign"),
                       ("content_category", "content")):
        values = getattr(rule, key)
        if values:
            out.append((label, ", ".join(values)))
    if rule.url_pattern:
        out.append(("URL matches", rule.url_pattern))
    return out


def fit_value(rule: Any) -> str:
    v = rule.value
    if rule.match == "range":
        lo, hi = v
        if lo is None:
            return f"up to {hi:,g}"
        if hi is None:
            return f"{lo:,g} or more"
        return f"{lo:,g} to {hi:,g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def _page(request: Request, db: Session, me: User, *, status: int = 200, text: str | None = None, note: str = "",
          error: str | None = None, preview: list[Any] | None = None, proposed: ScoringModel | None = None,
          saved: int | None = None) -> HTMLResponse:
    overview = scoring_overview(db)
    model, distribution = overview.model, overview.distribution
    widest = max(distribution.values(), default=0) or 1
    preview_totals = None
    if preview is not None:
        preview_totals = {"active": sum(r.active_contacts for r in preview), "now": sum(r.mql_now for r in preview),
                          "proposed": sum(r.mql_proposed for r in preview)}
    context = {
        "model": model,
        "text": model_to_toml(model) if text is None else text,
        "note": note,
        "error": error,
        "preview": preview,
        "preview_totals": preview_totals,
        "preview_days": PREVIEW_DAYS,
        "proposed": proposed,
        "versions": overview.versions,
        "makers": overview.makers,
        "distribution": distribution,
        "scored": sum(distribution.values()),
        "widest": widest,
        "reviews": overview.reviews,
        "can_edit": me.role in SCORING_EDIT,
        "saved": saved,
        "touch_criteria": touch_criteria,
        "fit_value": fit_value,
    }
    return render(request, "scoring.html", context, status=status)


@router.get("/scoring", name="scoring.page", response_class=HTMLResponse)
def scoring_page(request: Request, db: SessionDep, me: CurrentUser,
                 saved: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> HTMLResponse:
    return _page(request, db, me, saved=saved)


TomlField = Annotated[str, Form(min_length=1, max_length=MAX_TOML)]
NoteField = Annotated[str, Form(max_length=500)]


@router.post("/scoring/preview", name="scoring.preview", response_class=HTMLResponse)
def scoring_preview(request: Request, db: SessionDep, me: CurrentUser, now: NowDep, toml: TomlField,
                    note: NoteField = "") -> HTMLResponse:
    try:
        proposed = model_from_toml(toml)
    except InvalidInput as e:
        return _page(request, db, me, status=422, text=toml, note=note, error=e.message)
    rows = preview_model_change(db, proposed, now=now, days=PREVIEW_DAYS)
    return _page(request, db, me, text=toml, note=note, preview=rows, proposed=proposed)


@router.post("/scoring", name="scoring.save")
def scoring_save(request: Request, db: SessionDep, me: CurrentUser, now: NowDep, toml: TomlField,
                 note: NoteField = "") -> Response:
    try:
        model = save_model(db, toml, by=me.id, now=now, note=note.strip() or None)
    except InvalidInput as e:
        return _page(request, db, me, status=422, text=toml, note=note, error=e.message)
    return RedirectResponse(f"/scoring?saved={model.version}", status_code=303)

