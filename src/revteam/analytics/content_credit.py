"""Content ROI with the won revenue each attribution model credits to every piece (PRODUCT.md R10, R9).

The pieces table (traffic, leads, MQLs, deals influenced, use in deals: ``analytics/content.py``, run by
the analytics runner) gets ``credited``: for each model in ``revteam.domain.attribution.MODELS``, the won
revenue it credits to the piece at content grain (``services/attribution``: journeys of the won and lost
deals, each touch keyed by its content piece, touches without one under ``(none)``).

Window
    The content window is [start, end) (``end`` exclusive). Revenue credited counts the deals *closed* in
    it, closed_on in [start, end - 1 day]; each deal's journey reaches back ``DEFAULT_LOOKBACK_DAYS``
    before its close, so a piece read before ``start`` still earns credit from a deal closed inside.
    Traffic, leads and MQLs count touches inside the window; the two are different questions ("what did
    this piece do this quarter" and "which pieces earned this quarter's revenue").

Top five by revenue each month
    The runner's ``top_by_month`` rows (won revenue of the deals closed in the month that touched the piece)
    get ``credited`` too: each model's credit to the piece from the deals closed in that month (the part of
    the month inside the window), so "earned this month" can be read both ways. Both count the same deals
    and the same 365-day journeys; influenced counts each deal in full for every piece it touched, credited
    splits it.

Worked example (the test case)
    Deal "Acme platform" $24,000 won 2026-03-10; its touches: pricing article (first), webinar recording
    (lead creation), a touch with no content, case study (opportunity creation), pricing article again
    (close). W-shaped: 30 % first + 30 % lead + 30 % opportunity + 10 % shared by the two others
    (5 % each): pricing article 35 % = $8,400, webinar recording $7,200, case study $7,200, ``(none)``
    $1,200. Linear: five touches at $4,800: pricing article $9,600, the others $4,800 each. A piece
    nobody touched gets 0 under every model.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from revteam.analytics.content import ContentSpec
from revteam.domain.attribution import MODELS
from revteam.analytics.attribution import DEFAULT_SEED


def deals_closed_in(spec: ContentSpec) -> tuple[date | None, date | None]:
    """The close dates (inclusive) of the deals whose revenue a content window credits."""
    return spec.start, (spec.end - timedelta(days=1)) if spec.end else None


def month_closes(month: date, spec: ContentSpec) -> tuple[date, date]:
    """The close dates (inclusive) of the deals a month of ``top_by_month`` counts: the month, cut to the window."""
    last = (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    start, end = deals_closed_in(spec)
    return max(month, start) if start else month, min(last, end) if end else last


def merge_month_credit(rows: list[dict[str, Any]], spec: ContentSpec, attribution: Any, *,
                       seed: int = DEFAULT_SEED) -> list[dict[str, Any]]:
    """New ``top_by_month`` rows, each with ``credited`` = {model: credit to the piece from that month's closes}."""
    out, by_month = [], {}
    for r in rows:
        month = date.fromisoformat(str(r["month"])[:10])
        if month not in by_month:
            by_month[month] = attribution.credits("content", *month_closes(month, spec), seed=seed)
        credits = by_month[month]
        out.append({**r, "credited": {m: float(credits[m].get(str(r["content_id"]), 0.0)) for m in credits}})
    return out


def merge_credit(pieces: list[dict[str, Any]], credits: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """New rows: each piece with ``credited`` = {model: credit} (0.0 where the model credits it nothing).

    ``credits`` is {model: {key: credit}} at content grain; keys are content ids as text, and ``(none)``
    (touches without a piece) is not a piece, so it is not merged anywhere.
    """
    out = []
    for p in pieces:
        key = str(p["content_id"])
        out.append({**p, "credited": {m: float(credits[m].get(key, 0.0)) for m in credits}})
    return out


def credit_result(result: Any, attribution: Any, spec: ContentSpec, *, seed: int = DEFAULT_SEED) -> Any:
    """A copy of the runner's content ROI answer ``result`` with ``credited`` on every piece and on every month's
    top pieces (the runner's answer stays as it is)."""
    start, end = deals_closed_in(spec)
    credits = attribution.credits("content", start, end, seed=seed)
    pieces, months = result.queries["pieces"], result.queries["top_by_month"]
    queries = {**result.queries, "pieces": replace(pieces, rows=merge_credit(pieces.rows, credits)),
               "top_by_month": replace(months, rows=merge_month_credit(months.rows, spec, attribution, seed=seed))}
    meta = {**result.meta, "models": list(MODELS), "seed": seed,
            "credited_deals_closed": {"from": start.isoformat() if start else None,
                                      "to": end.isoformat() if end else None}}
    return replace(result, queries=queries, meta=meta)


def content_roi(analytics: Any, attribution: Any, spec: ContentSpec, *, seed: int = DEFAULT_SEED) -> Any:
    """The runner's content ROI answer with ``credited`` on every piece and on every month's top pieces."""
    return credit_result(analytics.content_roi(spec), attribution, spec, seed=seed)
