"""Rendering a lifecycle timeline (``services.timeline``) as a page: facts panel + events by day.

The two routes live with their lists (``pages/contacts.py``, ``pages/accounts.py``); this module
turns a ``Timeline`` into what ``timeline.html`` shows: each event gets an icon and a label by kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from revteam.services.record.timeline import Timeline, TimelineEvent
from revteam.web.templating import render

# kind → (icon name in templates/_icons.html, label, css tone)
KIND_STYLE: dict[str, tuple[str, str, str]] = {
    "touch": ("touch", "Touch", "info"),
    "stage": ("stage", "Stage change", "accent"),
    "deal_created": ("deal", "Deal opened", "neutral"),
    "deal_won": ("won", "Deal won", "good"),
    "deal_lost": ("lost", "Deal lost", "bad"),
    "owner": ("owner", "Owner change", "neutral"),
}
# touch types that are sales' own work get their own label
SALES_TOUCHES = {"sales_call": "Sales call", "sales_email": "Sales e-mail", "meeting": "Meeting"}
HIGH_INTENT = {"demo_request", "pricing_request", "form_submit", "webinar_attended"}


@dataclass
class EventView:
    event: TimelineEvent
    icon: str
    label: str
    tone: str


def view_event(e: TimelineEvent) -> EventView:
    icon, label, tone = KIND_STYLE.get(e.kind, ("touch", e.kind.replace("_", " ").capitalize(), "neutral"))
    if e.kind == "touch":
        touch_type = str(e.detail.get("type") or "")
        if touch_type in SALES_TOUCHES:
            icon, label, tone = "sales", SALES_TOUCHES[touch_type], "sales"
        elif touch_type in HIGH_INTENT:
            tone = "hot"
    return EventView(e, icon, label, tone)


def render_timeline(
    request: Request, timeline: Timeline, *, labels: dict[str, str], order: str, **extra: Any
) -> HTMLResponse:
    events = sorted(timeline.events, key=lambda e: e.at, reverse=(order == "desc"))
    days = [(day, [view_event(e) for e in items]) for day, items in groupby(events, key=lambda e: e.at.date())]
    counts: dict[str, int] = {}
    for e in timeline.events:
        counts[e.kind] = counts.get(e.kind, 0) + 1
    context = {
        "tl": timeline,
        "days": days,
        "labels": labels,
        "order": order,
        "kind_counts": counts,
        "kind_style": KIND_STYLE,
        **extra,
    }
    return render(request, "timeline.html", context)
