"""Funnel and velocity, as pure Ibis builders (tables + spec → expression).

Query intuition
    1. *Progress*: for every contact and every main stage S, ``reached_at`` = the first time the contact
       entered S **or any later main stage**. Lifecycle progress is monotone, so a lead qualified straight
       to SQL counts as having passed MQL and SAL at that moment; side states (recycled, disqualified)
       never count as progress.
    2. *Cohort conversion* A → B: the contacts who reached A inside the period form the cohort; the share
       of them who reached B at or after reaching A (within ``window_days`` when given) is the conversion.
       Every pair A < B of the chosen stages is computed in one pass.
    3. *Period conversion* A → B: contacts reaching B in the period / contacts reaching A in the period
       (the two groups need not be the same people; it measures flow, not cohorts).
    4. *Velocity* A → B: days from reaching A to reaching B, for contacts who reached both (B after A):
       median, p75, p90. Time to revenue is velocity from ``lead`` (or the first chosen stage) to
       ``customer``.
    5. *Breakdowns* attach one attribute per contact: source, campaign (original), persona, segment,
       region, industry (account), rep (owner), channel / landing page / content of the first touch, or
       month of reaching A (trend lines).

Definitions live in docs/metrics/funnel.md; every page, CLI command and report uses these builders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis

from revteam.analytics.errors import AnalyticsSpecError

BREAKDOWNS = ("source", "campaign", "persona", "segment", "region", "industry", "rep", "channel", "landing_page",
              "content", "month")
MODES = ("cohort", "period")


@dataclass(frozen=True)
class FunnelSpec:
    stages: tuple[str, ...] = ()  # empty: every main stage, in order
    start: date | None = None
    end: date | None = None  # exclusive
    mode: str = "cohort"
    window_days: int | None = None
    breakdown: str | None = None


# --- validation rules (small objects, each with its own test) -------------------------------------
def validate(spec: FunnelSpec, main_stages: tuple[str, ...]) -> tuple[str, ...]:
    stages = spec.stages or main_stages
    unknown = [s for s in stages if s not in main_stages]
    if unknown:
        raise AnalyticsSpecError(f"Unknown stage(s) {', '.join(unknown)}; the funnel's stages are "
                                 f"{', '.join(main_stages)}.", code="funnel_unknown_stage")
    if len(stages) < 2:
        raise AnalyticsSpecError("A funnel needs at least two stages.", code="funnel_needs_two_steps")
    order = [main_stages.index(s) for s in stages]
    if order != sorted(order) or len(set(order)) != len(order):
        raise AnalyticsSpecError("List the stages in lifecycle order, each once.", code="funnel_stage_order")
    if spec.mode not in MODES:
        raise AnalyticsSpecError(f"Mode is one of {', '.join(MODES)}.", code="funnel_bad_mode")
    if spec.breakdown is not None and spec.breakdown not in BREAKDOWNS:
        raise AnalyticsSpecError(f"Break down by one of: {', '.join(BREAKDOWNS)}.", code="funnel_bad_breakdown")
    if spec.start and spec.end and spec.end <= spec.start:
        raise AnalyticsSpecError("The period must end after it starts.", code="funnel_bad_period")
    if spec.window_days is not None and spec.window_days <= 0:
        raise AnalyticsSpecError("The conversion window must be a positive number of days.", code="funnel_bad_window")
    return tuple(stages)


# --- builders -------------------------------------------------------------------------------------
def progress(t: dict[str, Any], stages: tuple[str, ...], positions: dict[str, int]) -> Any:
    """(contact_id, stage, rank, reached_at): first time each contact reached each stage or beyond.

    ``positions`` are the installation's stage positions (main stages); ``rank`` is the index in ``stages``.
    """
    ls = t["lifecycle_stages"]
    main = ls.filter(ls.kind == "main")
    sc = t["stage_changes"]
    ranked = sc.join(main, sc.to_stage == main.key).select(contact_id=sc.contact_id, position=main.position,
                                                            changed_at=sc.changed_at)
    pieces = []
    for rank, stage in enumerate(stages):
        pieces.append(ranked.filter(ranked.position >= positions[stage]).group_by("contact_id")
                      .aggregate(reached_at=ranked.changed_at.min())
                      .mutate(stage=ibis.literal(stage), rank=ibis.literal(rank)))
    return ibis.union(*pieces)


def attribute(t: dict[str, Any], name: str) -> Any:
    """(contact_id, value) for one breakdown attribute (other than month), joining only what it needs."""
    c = t["contacts"]
    if name in ("source", "persona"):
        return c.select(contact_id=c.id, value=c.original_source if name == "source" else c.persona)
    if name in ("segment", "region", "industry"):
        a = t["accounts"]
        j = c.left_join(a, c.account_id == a.id)
        return j.select(contact_id=c.id, value=a[name])
    if name == "rep":
        u = t["users"]
        return c.left_join(u, c.owner_id == u.id).select(contact_id=c.id, value=u.name)
    if name == "campaign":
        cam = t["campaigns"]
        return c.left_join(cam, c.original_campaign_id == cam.id).select(contact_id=c.id, value=cam.name)
    tp = t["touchpoints"]  # channel, landing page or content of the first touch
    first = tp.mutate(rn=ibis.row_number().over(group_by=tp.contact_id, order_by=[tp.occurred_at, tp.id]))
    first = first.filter(first.rn == 0)
    if name == "content":
        content = t["content"]
        return first.left_join(content, first.content_id == content.id).select(contact_id=first.contact_id,
                                                                               value=content.title)
    return first.select(contact_id=first.contact_id, value=first.channel if name == "channel" else first.url)


def in_period(col: Any, spec: Any) -> Any:
    """``start <= col < end`` for any spec with optional ``start`` and ``end`` dates (UTC)."""
    cond = ibis.literal(True)
    if spec.start:
        cond &= col >= ibis.timestamp(spec.start.isoformat())
    if spec.end:
        cond &= col < ibis.timestamp(spec.end.isoformat())
    return cond


def _with_group(entries: Any, t: dict[str, Any], spec: FunnelSpec) -> Any:
    if spec.breakdown is None:
        return entries.mutate(grp=ibis.literal("all"))
    if spec.breakdown == "month":
        return entries.mutate(grp=entries.reached_at.truncate("M").cast("date").cast("string"))
    attrs = attribute(t, spec.breakdown)
    j = entries.left_join(attrs, entries.contact_id == attrs.contact_id)
    return j.select(*[entries[c] for c in entries.columns], grp=attrs.value.fill_null("(none)").cast("string"))


def _cohort(t: dict[str, Any], spec: FunnelSpec, stages: tuple[str, ...], positions: dict[str, int]) -> tuple[Any, Any]:
    p = progress(t, stages, positions)
    return p, _with_group(p.filter(in_period(p.reached_at, spec)), t, spec)


def conversion(t: dict[str, Any], spec: FunnelSpec, stages: tuple[str, ...], positions: dict[str, int]) -> Any:
    """Every pair A < B: entered (A), converted (B), rate, grouped by the breakdown. Pairs nobody
    converted on are absent (the runner fills them with 0)."""
    p, inside = _cohort(t, spec, stages, positions)
    if spec.mode == "period":
        counts = inside.group_by(["grp", "stage", "rank"]).aggregate(n=inside.contact_id.nunique())
        b = counts.select(b_grp=counts.grp, to_stage=counts.stage, b_rank=counts.rank, converted=counts.n)
        j = counts.join(b, [counts.grp == b.b_grp, b.b_rank > counts.rank])
        out = j.select(group=counts.grp, from_stage=counts.stage, to_stage=b.to_stage, entered=counts.n,
                       converted=b.converted)
        return out.mutate(rate=out.converted.cast("float64") / out.entered)
    b = p.select(b_contact=p.contact_id, b_stage=p.stage, b_rank=p.rank, b_at=p.reached_at)
    cond = [inside.contact_id == b.b_contact, b.b_rank > inside.rank, b.b_at >= inside.reached_at]
    if spec.window_days:
        cond.append(b.b_at <= inside.reached_at + ibis.interval(days=spec.window_days))
    joined = inside.join(b, cond).select(grp=inside.grp, stage=inside.stage, b_stage=b.b_stage,
                                         contact_id=inside.contact_id)
    pairs = joined.group_by(["grp", "stage", "b_stage"]).aggregate(converted=joined.count())
    entered = inside.group_by(["grp", "stage"]).aggregate(entered=inside.count())
    j = entered.join(pairs, [entered.grp == pairs.grp, entered.stage == pairs.stage])
    out = j.select(group=entered.grp, from_stage=entered.stage, to_stage=pairs.b_stage, entered=entered.entered,
                   converted=pairs.converted)
    return out.mutate(rate=out.converted.cast("float64") / out.entered)


def entered_counts(t: dict[str, Any], spec: FunnelSpec, stages: tuple[str, ...], positions: dict[str, int]) -> Any:
    """How many contacts reached each stage in the period (the bars of the funnel chart)."""
    _, inside = _cohort(t, spec, stages, positions)
    out = inside.group_by(["grp", "stage", "rank"]).aggregate(contacts=inside.contact_id.nunique())
    return out.rename(group="grp")


def velocity(t: dict[str, Any], spec: FunnelSpec, stages: tuple[str, ...], positions: dict[str, int],
             pairs: list[tuple[str, str]]) -> Any:
    """Days from reaching A to reaching B for each requested pair: median, p75, p90, mean, contacts."""
    p, inside = _cohort(t, spec, stages, positions)
    rank = {s: i for i, s in enumerate(stages)}
    b = p.select(b_contact=p.contact_id, b_stage=p.stage, b_rank=p.rank, b_at=p.reached_at)
    wanted = ibis.literal(False)
    for a_stage, b_stage in pairs:
        wanted |= (inside.rank == rank[a_stage]) & (b.b_rank == rank[b_stage])
    cond = [inside.contact_id == b.b_contact, b.b_at >= inside.reached_at, wanted]
    if spec.window_days:
        cond.append(b.b_at <= inside.reached_at + ibis.interval(days=spec.window_days))
    j = inside.join(b, cond).select(
        grp=inside.grp, from_stage=inside.stage, to_stage=b.b_stage, contact_id=inside.contact_id,
        days=(b.b_at.epoch_seconds() - inside.reached_at.epoch_seconds()).cast("float64") / 86400.0)
    out = j.group_by(["grp", "from_stage", "to_stage"]).aggregate(
        contacts=j.contact_id.nunique(), median_days=j.days.quantile(0.5), p75_days=j.days.quantile(0.75),
        p90_days=j.days.quantile(0.9), mean_days=j.days.mean())
    return out.rename(group="grp")
