"""Home: how big the record is and where the contacts stand in the lifecycle."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from revteam.services.record.lifecycle import load_stages, stage_labels
from revteam.services.record.stats import record_stats
from revteam.web.deps import CurrentUser, SessionDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

CARDS = (
    ("accounts", "Accounts", "accounts.list"),
    ("contacts", "Contacts", "contacts.list"),
    ("deals", "Deals", "deals.list"),
    ("touchpoints", "Touchpoints", None),
    ("campaigns", "Campaigns", None),
    ("content", "Content pieces", None),
)


@router.get("/", name="home", response_class=HTMLResponse)
def home(request: Request, db: SessionDep, me: CurrentUser) -> HTMLResponse:
    stats = record_stats(db)
    side = set(load_stages(db).side)
    by_stage = stats["contacts_by_stage"]
    widest = max(by_stage.values(), default=0) or 1
    bars = [
        {"stage": key, "count": n, "pct": round(100 * n / widest, 1), "side": key in side}
        for key, n in by_stage.items()
    ]
    outcomes = stats["deals_by_outcome"]
    widest_deals = max(outcomes.values(), default=0) or 1
    deal_bars = [{"outcome": k, "count": v, "pct": round(100 * v / widest_deals, 1)} for k, v in outcomes.items()]
    context = {
        "stats": stats,
        "cards": CARDS,
        "bars": bars,
        "deal_bars": deal_bars,
        "labels": stage_labels(db),
        "total_contacts": sum(by_stage.values()),
    }
    return render(request, "home.html", context)
