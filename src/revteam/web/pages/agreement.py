"""The written SLA (R4): the version in force with its terms, sign-offs and committee, the other versions,
and, for the heads (leaders, admins), a form to propose a new version and buttons to sign.

A version is in force once both sides have signed it, marketing and sales, by two different people
(``services.agreement``). The form takes response times and windows in business hours (the terms store
minutes) and the at-risk point in percent; a bad value comes back with its reason and the form as typed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revteam.domain.ids import MAX_ID
from revteam.domain.roles import SUPERVISORS
from revteam.domain.sla import PRIORITIES
from revteam.errors import Conflict, Forbidden, InvalidInput
from revteam.services.handoff.agreement import (
    DEFAULT_TERMS,
    DEFAULT_TEXT,
    SIDES,
    AgreementView,
    agreement_in_force,
    agreements_overview,
    check_zone,
    committee_candidates,
    propose_sla,
    sign_agreement,
    sla_zone,
)
from revteam.services.people import User
from revteam.services.unit_of_work import Session
from revteam.web.deps import CurrentUser, NowDep, SessionDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
COMMON_ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
                "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Asia/Dubai", "Asia/Kolkata",
                "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "UTC")


# ---------------------------------------------------------------- terms in words
def _day_minutes(t: dict[str, Any]) -> int:
    try:
        h1, m1 = (int(x) for x in str(t["opens"]).split(":"))
        h2, m2 = (int(x) for x in str(t["closes"]).split(":"))
        return max((h2 * 60 + m2) - (h1 * 60 + m1), 1)
    except (KeyError, ValueError):
        return 480


def business_time(minutes: float, day: int) -> str:
    """480 minutes on an 8-hour day → ``1 business day``; 60 → ``1 business hour``; 90 → ``1.5 business hours``;
    30 → ``30 business minutes``."""
    if minutes >= day and minutes % day == 0:
        n = int(minutes // day)
        return f"{n} business day{'s' if n != 1 else ''}"
    if minutes < 60:
        return f"{minutes:g} business minutes"
    hours = minutes / 60
    return f"{hours:g} business hour{'s' if hours != 1 else ''}"


def weekdays_text(days: list[int]) -> str:
    ds = sorted(int(d) for d in days)
    if ds and ds == list(range(ds[0], ds[-1] + 1)) and len(ds) > 2:
        return f"{DAY_NAMES[ds[0]]}–{DAY_NAMES[ds[-1]]}"
    return ", ".join(DAY_NAMES[d] for d in ds) or "no days"


def describe(t: dict[str, Any]) -> list[tuple[str, str]]:
    """The terms as (what, in words) rows."""
    day = _day_minutes(t)
    response = t.get("response_minutes", {})
    rows = [(f"Respond to {p} leads within", business_time(float(response[p]), day)) for p in PRIORITIES if p in response]
    rows += [
        ("Attempts before giving up", f"at least {t.get('min_attempts', 3)} within "
                                      f"{business_time(float(t.get('attempts_within_minutes', 1440)), day)}"),
        ("Business hours", f"{weekdays_text(t.get('weekdays', []))} {t.get('opens')}–{t.get('closes')}, {t.get('tz')}"),
        ("Holidays", ", ".join(t.get("holidays") or []) or "none listed"),
        ("At risk", f"after {float(t.get('at_risk_share', 0.75)):.0%} of the response time"),
        ("Marketing delivers each month", f"{int(t.get('mqls_per_month', 0)):,} MQLs, of which "
                                          f"{int(t.get('sals_per_month', 0)):,} accepted by sales"),
    ]
    return rows


# ---------------------------------------------------------------- the form
def form_from_terms(text: str, t: dict[str, Any], committee: list[int]) -> dict[str, Any]:
    r = t.get("response_minutes", {})
    return {
        "text": text,
        "tz": t.get("tz", "UTC"),
        "weekdays": [str(d) for d in t.get("weekdays", [0, 1, 2, 3, 4])],
        "opens": t.get("opens", "09:00"),
        "closes": t.get("closes", "17:00"),
        "holidays": ", ".join(t.get("holidays") or []),
        **{f"{p}_hours": f"{float(r[p]) / 60:g}" if p in r else "" for p in PRIORITIES},
        "min_attempts": str(t.get("min_attempts", 3)),
        "attempts_within_hours": f"{float(t.get('attempts_within_minutes', 1440)) / 60:g}",
        "at_risk_pct": f"{float(t.get('at_risk_share', 0.75)) * 100:g}",
        "mqls_per_month": str(t.get("mqls_per_month", 0)),
        "sals_per_month": str(t.get("sals_per_month", 0)),
        "committee": [str(c) for c in committee],
    }


def _number(value: str, what: str, *, integer: bool = False, low: float = 0, high: float | None = None) -> float:
    text = (value or "").strip().replace(",", ".") if not integer else (value or "").strip()
    try:
        n = int(text) if integer else float(text)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise InvalidInput(f"{what} must be {kind}; got {value!r}.", code="bad_sla") from None
    if n < low or (high is not None and n > high):
        bound = f"between {low:g} and {high:g}" if high is not None else f"at least {low:g}"
        raise InvalidInput(f"{what} must be {bound}; got {value}.", code="bad_sla")
    return n


def terms_from_form(f: dict[str, Any]) -> dict[str, Any]:
    """The form (business hours, percent) as stored terms (minutes, a share); clear errors for bad values."""
    tz = (f["tz"] or "").strip()
    check_zone(tz)
    weekdays = sorted({int(d) for d in f["weekdays"] if str(d).isdigit() and 0 <= int(d) <= 6})
    if not weekdays:
        raise InvalidInput("Tick at least one working day.", code="bad_sla")
    for key, what in (("opens", "Opening time"), ("closes", "Closing time")):
        try:
            datetime.strptime(f[key].strip(), "%H:%M")
        except ValueError:
            raise InvalidInput(f"{what} must look like 09:00.", code="bad_sla") from None
    if f["closes"].strip() <= f["opens"].strip():
        raise InvalidInput("Business hours must close after they open (e.g. 09:00 to 17:00).", code="bad_sla")
    holidays = []
    for part in f["holidays"].replace("\n", ",").replace(";", ",").split(","):
        if part.strip():
            try:
                holidays.append(date.fromisoformat(part.strip()).isoformat())
            except ValueError:
                raise InvalidInput(f"Holiday {part.strip()!r} is not a date; use YYYY-MM-DD.", code="bad_sla") from None
    response = {}
    for p in PRIORITIES:
        if (f[f"{p}_hours"] or "").strip():
            response[p] = round(_number(f[f"{p}_hours"], f"The {p} response time", low=0.01) * 60, 2)
    if not response:
        raise InvalidInput("Give a response time for at least one priority.", code="bad_sla")
    return {
        "tz": tz,
        "weekdays": weekdays,
        "opens": f["opens"].strip(),
        "closes": f["closes"].strip(),
        "holidays": sorted(set(holidays)),
        "response_minutes": response,
        "min_attempts": int(_number(f["min_attempts"], "Attempts", integer=True, low=0, high=50)),
        "attempts_within_minutes": round(_number(f["attempts_within_hours"], "The attempts window", low=0.01) * 60, 2),
        "at_risk_share": _number(f["at_risk_pct"], "The at-risk point (percent)", low=1, high=99) / 100,
        "mqls_per_month": int(_number(f["mqls_per_month"], "MQLs a month", integer=True, low=0)),
        "sals_per_month": int(_number(f["sals_per_month"], "SALs a month", integer=True, low=0)),
    }


def parse_committee(values: list[str]) -> list[int]:
    ids = []
    for v in values:
        if not str(v).strip().isdigit():
            raise InvalidInput(f"Committee member {v!r} is not a user id.", code="bad_committee")
        ids.append(int(v))
    if not ids:
        raise InvalidInput("Pick the committee: at least one leader or admin who decides disputed rejections.",
                           code="bad_committee")
    return ids


# ---------------------------------------------------------------- the page
def _status(v: AgreementView, in_force: AgreementView | None) -> str:
    if in_force is not None and v.row.id == in_force.row.id:
        return "in_force"
    if v.in_force:
        return "superseded"
    return "awaiting"


def _page(request: Request, db: Session, me: User, *, status: int = 200, notice: str | None = None,
          form: dict[str, Any] | None = None, error: str | None = None, sign_error: dict[str, Any] | None = None,
          ) -> HTMLResponse:
    overview = agreements_overview(db)
    current, versions, names = overview.in_force, overview.versions, overview.names
    base = current or (versions[0] if versions else None)
    default_form = (form_from_terms(base.row.text, base.row.terms, base.row.committee) if base is not None
                    else form_from_terms(DEFAULT_TEXT, DEFAULT_TERMS, []))
    context = {
        "current": current,
        "committee_names": lambda v: ", ".join(names.get(m, f"user {m}") for m in v.row.committee),
        "others": [v for v in versions if current is None or v.row.id != current.row.id],
        "status_of": lambda v: _status(v, current),
        "names": names,
        "describe": describe,
        "sides": SIDES,
        "form": form or default_form,
        "candidates": committee_candidates(db),
        "zones": COMMON_ZONES,
        "day_names": DAY_NAMES,
        "priorities": PRIORITIES,
        "can_edit": me.role in SUPERVISORS,
        "notice": notice,
        "error": error,
        "sign_error": sign_error or {},
        "tz": sla_zone(db),
    }
    return render(request, "agreement.html", context, status=status)


@router.get("/agreement", name="agreement.page", response_class=HTMLResponse)
def agreement_page(request: Request, db: SessionDep, me: CurrentUser,
                   done: Annotated[str, Query(max_length=20)] = "",
                   version: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> HTMLResponse:
    notice = None
    if done == "proposed" and version:
        notice = (f"Version {version} is proposed. It comes into force when the heads of marketing and of sales "
                  "have both signed it.")
    elif done == "signed" and version:
        current = agreement_in_force(db)
        notice = (f"Signed. Version {version} is now in force: new leads get its due times."
                  if current is not None and current.row.version == version
                  else f"Signed. Version {version} still needs the other side's signature.")
    return _page(request, db, me, notice=notice)


Text = Annotated[str, Form(max_length=200)]


@router.post("/agreement", name="agreement.propose")
def agreement_propose(
    request: Request, db: SessionDep, me: CurrentUser, now: NowDep,
    text: Annotated[str, Form(min_length=1, max_length=20_000)],
    tz: Text = "", opens: Text = "", closes: Text = "", holidays: Annotated[str, Form(max_length=4000)] = "",
    hot_hours: Text = "", warm_hours: Text = "", cold_hours: Text = "",
    min_attempts: Text = "", attempts_within_hours: Text = "", at_risk_pct: Text = "",
    mqls_per_month: Text = "", sals_per_month: Text = "",
    weekdays: Annotated[list[str], Form(max_length=7)] = [],  # noqa: B006 - FastAPI copies defaults
    committee: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006
) -> Response:
    form = {"text": text, "tz": tz, "weekdays": weekdays, "opens": opens, "closes": closes, "holidays": holidays,
            "hot_hours": hot_hours, "warm_hours": warm_hours, "cold_hours": cold_hours, "min_attempts": min_attempts,
            "attempts_within_hours": attempts_within_hours, "at_risk_pct": at_risk_pct,
            "mqls_per_month": mqls_per_month, "sals_per_month": sals_per_month, "committee": committee}
    try:
        terms = terms_from_form(form)
        members = parse_committee(committee)
        row = propose_sla(db, text=text, terms=terms, committee=members, by=me, now=now)
    except InvalidInput as e:
        return _page(request, db, me, status=e.status, form=form, error=e.message)
    return RedirectResponse(f"/agreement?done=proposed&version={row.version}#v-{row.version}", status_code=303)


@router.post("/agreement/{version}/sign", name="agreement.sign")
def agreement_sign(request: Request, db: SessionDep, me: CurrentUser, now: NowDep, version: int,
                   side: Annotated[str, Form(max_length=20)]) -> Response:
    try:
        sign_agreement(db, version, me, side, now=now)
    except (InvalidInput, Conflict, Forbidden) as e:
        return _page(request, db, me, status=e.status, sign_error={"version": version, "message": e.message})
    return RedirectResponse(f"/agreement?done=signed&version={version}#v-{version}", status_code=303)
