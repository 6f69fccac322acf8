"""Content that sells: what every content piece did, as pure Ibis builders (PRODUCT.md R10, R9).

Definitions (docs/metrics/content.md)
    traffic            touches of the piece in the window (views, downloads, webinar attendance …)
    people             distinct contacts who touched it in the window
    leads / MQLs       of those people, how many reached lead / MQL at or after their first touch of the
                       piece in the window ("touched on the way in")
    deals influenced   deals with a deal contact who touched the piece in the window, before the deal
                       closed (open deals: any time); each deal counted once per piece
    influenced revenue won amount of the influenced deals
    used in deals      times reps logged using the piece in a deal; helpful = share they said helped
    top by traffic     per ISO week of the window, the ``n`` pieces with the most traffic (``top_by_week``)
    top by revenue     per calendar month of the window, the ``n`` pieces with the most won revenue from the
                       deals closed that month (``top_by_month``): a won deal counts, in full, for every piece
                       one of its contacts touched in the deal's journey window (the ``lookback_days`` before
                       the close date up to the end of the close day; attribution's window, so this is
                       attribution's *influenced* revenue at content grain, month by month)
Revenue credited under each attribution model comes from the attribution service and is merged by the
runner (``revteam.analytics.attribution``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis

from revteam.analytics.errors import AnalyticsSpecError
from revteam.analytics.funnel import in_period

INFLUENCE_LOOKBACK_DAYS = 365  # a deal's journey window, as services.attribution.DEFAULT_LOOKBACK_DAYS (tested)


@dataclass(frozen=True)
class ContentSpec:
    start: date | None = None
    end: date | None = None  # exclusive
    content_id: int | None = None


def validate(spec: ContentSpec) -> None:
    if spec.start and spec.end and spec.end <= spec.start:
        raise AnalyticsSpecError("The window must end after it starts.", code="content_bad_window")


def content_roi(t: dict[str, Any], spec: ContentSpec, positions: dict[str, int]) -> Any:
    tp, content, sc = t["touchpoints"], t["content"], t["stage_changes"]
    touches = tp.filter(tp.content_id.notnull() & in_period(tp.occurred_at, spec))
    if spec.content_id is not None:
        touches = touches.filter(touches.content_id == spec.content_id)
    traffic = touches.group_by("content_id").aggregate(traffic=touches.count(), people=touches.contact_id.nunique())
    first = touches.group_by(["content_id", "contact_id"]).aggregate(first_at=touches.occurred_at.min())

    ls = t["lifecycle_stages"]
    main = ls.filter(ls.kind == "main")
    ranked = sc.join(main, sc.to_stage == main.key).select(contact_id=sc.contact_id, position=main.position,
                                                            changed_at=sc.changed_at)

    def reached_after(stage: str, name: str) -> Any:
        r = ranked.filter(ranked.position >= positions[stage]).group_by("contact_id").aggregate(at=ranked.changed_at.min())
        j = first.join(r, [first.contact_id == r.contact_id, r.at >= first.first_at])
        j = j.select(content_id=first.content_id, contact_id=first.contact_id)
        return j.group_by("content_id").aggregate(**{name: j.contact_id.nunique()})

    deals, dc = t["deals"], t["deal_contacts"]
    dj = touches.join(dc, touches.contact_id == dc.contact_id).join(deals, dc.deal_id == deals.id)
    dj = dj.filter(deals.closed_on.isnull() | (touches.occurred_at < deals.closed_on + ibis.interval(days=1)))
    per_deal = dj.select(content_id=touches.content_id, deal_id=deals.id, outcome=deals.outcome, amount=deals.amount).distinct()
    deal_stats = per_deal.group_by("content_id").aggregate(
        deals_influenced=per_deal.deal_id.nunique(),
        won_deals=(per_deal.outcome == "won").cast("int64").sum(),
        influenced_revenue=ibis.cases((per_deal.outcome == "won", per_deal.amount), else_=0.0).sum())

    usage = t["content_usage"]
    used = usage.group_by("content_id").aggregate(
        used_in_deals=usage.count(), helped=usage.helped.cast("int64").sum(),
        rated=usage.helped.notnull().cast("int64").sum())

    out = content.select(content_id=content.id, title=content.title, type=content.type, category=content.category,
                         status=content.status)
    if spec.content_id is not None:
        out = out.filter(out.content_id == spec.content_id)
    for extra in (traffic, reached_after("lead", "leads"), reached_after("mql", "mqls"), deal_stats, used):
        out = out.left_join(extra, out.content_id == extra.content_id).drop("content_id_right")
    zero = ("traffic", "people", "leads", "mqls", "deals_influenced", "won_deals", "used_in_deals", "helped", "rated")
    out = out.mutate(**{c: out[c].fill_null(0) for c in zero}, influenced_revenue=out.influenced_revenue.fill_null(0.0))
    return out.mutate(helpful_share=ibis.cases((out.rated > 0, out.helped.cast("float64") / out.rated), else_=None))


def top_by_week(t: dict[str, Any], spec: ContentSpec, n: int = 5) -> Any:
    """The ``n`` pieces with the most traffic in each ISO week of the window."""
    tp, content = t["touchpoints"], t["content"]
    touches = tp.filter(tp.content_id.notnull() & in_period(tp.occurred_at, spec))
    with_week = touches.mutate(week=touches.occurred_at.truncate("W").cast("date"))
    weekly = with_week.group_by(["week", "content_id"]).aggregate(traffic=with_week.count())
    ranked = weekly.mutate(rank=ibis.row_number().over(group_by=weekly.week, order_by=[ibis.desc(weekly.traffic),
                                                                                        weekly.content_id]))
    top = ranked.filter(ranked.rank < n)
    j = top.join(content, top.content_id == content.id)
    return j.select(week=top.week, rank=top.rank + 1, content_id=top.content_id, title=content.title,
                    traffic=top.traffic).order_by(["week", "rank"])


def top_by_month(t: dict[str, Any], spec: ContentSpec, n: int = 5, *,
                 lookback_days: int = INFLUENCE_LOOKBACK_DAYS) -> Any:
    """The ``n`` pieces with the most won revenue from the deals closed in each calendar month of the window.

    A won deal closed in [start, end) counts for a piece when a deal contact touched the piece in the
    ``lookback_days`` before the close date up to the end of the close day; each deal once per piece, in
    full (a deal that touched three pieces counts for each). Months are those of the close dates; a piece
    with no such deal in a month is not listed. Ties: more won deals first, then the lower content id.
    """
    deals, dc, tp, content = t["deals"], t["deal_contacts"], t["touchpoints"], t["content"]
    won = deals.filter((deals.outcome == "won") & deals.closed_on.notnull() & in_period(deals.closed_on, spec))
    touches = tp.filter(tp.content_id.notnull())
    j = won.join(dc, won.id == dc.deal_id).join(touches, dc.contact_id == touches.contact_id)
    j = j.filter((touches.occurred_at < won.closed_on + ibis.interval(days=1))
                 & (touches.occurred_at >= won.closed_on - ibis.interval(days=lookback_days)))
    per_deal = j.select(month=won.closed_on.truncate("M").cast("date"), content_id=touches.content_id, deal_id=won.id,
                        amount=won.amount).distinct()
    monthly = per_deal.group_by(["month", "content_id"]).aggregate(won_revenue=per_deal.amount.sum(),
                                                                   won_deals=per_deal.deal_id.nunique())
    ranked = monthly.mutate(rank=ibis.row_number().over(
        group_by=monthly.month, order_by=[ibis.desc(monthly.won_revenue), ibis.desc(monthly.won_deals), monthly.content_id]))
    top = ranked.filter(ranked.rank < n)
    jc = top.join(content, top.content_id == content.id)
    return jc.select(month=top.month, rank=top.rank + 1, content_id=top.content_id, title=content.title,
                     won_revenue=top.won_revenue, won_deals=top.won_deals).order_by(["month", "rank"])
