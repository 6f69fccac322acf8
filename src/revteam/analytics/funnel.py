"""Funnel and velocity, as pure Ibis builders (tables + spec → expression).

Query intuition
    1. *Progress*: for every contact and every chosen stage S, ``r{S}`` = the first time the contact
       entered S **or any later main stage** (one row per contact, one pass over the stage changes).
       Lifecycle progress is monotone, so a lead qualified straight to SQL counts as having passed MQL
       and SAL at that moment; side states (recycled, disqualified) never count as progress. It follows
       that reaching B implies having reached every A before it, no later.
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
    6. *One query*: entered, conversion and velocity of every pair come from one aggregate over the
       progress rows (one per stage with a month breakdown), unpivoted to one row per (group, A, B):
       ``funnel_table``. ``split_funnel`` lays the rows out as the three lists every report shows.

Worked example
    Ana: lead 5 Jan, SQL 10 Jan, customer 1 Feb. Ben: lead 6 Jan, MQL 8 Jan, recycled 20 Jan. Progress:
    Ana r(lead)=5 Jan, r(MQL)=r(SAL)=r(SQL)=10 Jan, r(opportunity)=r(customer)=1 Feb; Ben r(lead)=6 Jan,
    r(MQL)=8 Jan, nothing later (recycled is a side state). January cohort: lead → MQL 2 of 2, MQL → SAL
    1 of 2, lead → customer 1 of 2 with a median of 27 days (Ana's 5 Jan → 1 Feb).

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
    """One row per contact who reached the first chosen stage: ``contact_id`` and ``r0 … r{k-1}``, where
    ``r{i}`` is the first time the contact reached ``stages[i]`` or any later main stage (null: never).

    One pass over the stage changes, grouped by contact. ``positions`` are the installation's stage
    positions (main stages). Progress is monotone by construction: a set ``r{j}`` implies a set ``r{i}``
    for every i < j, and r{i} ≤ r{j}.
    """
    ls = t["lifecycle_stages"]
    main = ls.filter(ls.kind == "main")
    sc = t["stage_changes"]
    ranked = sc.join(main, sc.to_stage == main.key).select(contact_id=sc.contact_id, position=main.position,
                                                            changed_at=sc.changed_at)
    ranked = ranked.filter(ranked.position >= positions[stages[0]])
    return ranked.group_by("contact_id").aggregate(
        **{f"r{i}": ranked.changed_at.min(where=ranked.position >= positions[s]) for i, s in enumerate(stages)})


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


def _with_attribute(wide: Any, t: dict[str, Any], spec: FunnelSpec) -> Any:
    """The progress rows with the contact's breakdown value as ``grp`` (not for ``month``: that one
    depends on the stage, see ``_group_of``)."""
    if spec.breakdown is None or spec.breakdown == "month":
        return wide
    attrs = attribute(t, spec.breakdown)
    j = wide.left_join(attrs, wide.contact_id == attrs.contact_id)
    return j.select(*[wide[c] for c in wide.columns], grp=attrs.value.fill_null("(none)").cast("string"))


def _group_of(rows: Any, spec: FunnelSpec, i: int) -> Any:
    if spec.breakdown is None:
        return ibis.literal("all")
    if spec.breakdown == "month":
        return rows[f"r{i}"].truncate("M").cast("date").cast("string")
    return rows.grp


def _days(rows: Any, i: int, j: int) -> Any:
    return (rows[f"r{j}"].epoch_seconds() - rows[f"r{i}"].epoch_seconds()).cast("float64") / 86400.0


def _stage_aggregates(rows: Any, spec: FunnelSpec, k: int, pairs: set[tuple[int, int]]) -> dict[int, Any]:
    """Per chosen stage i, a table keyed by ``grp`` with, for the contacts who reached stage i in the
    period (the cohort of i): ``e{i}`` = how many; ``c{i}_{j}`` = how many of them reached j (within the
    window, when given); and, for the requested velocity pairs, the days from i to j (median, p75, p90,
    mean). Without a month breakdown one aggregate holds every stage (one pass); by month, the group
    depends on the stage, so there is one aggregate per stage."""

    def measures(i: int, rows: Any) -> dict[str, Any]:
        inside = rows[f"r{i}"].notnull() & in_period(rows[f"r{i}"], spec)
        out: dict[str, Any] = {f"e{i}": rows.count(where=inside)}
        for j in range(i + 1, k):
            reached = inside & rows[f"r{j}"].notnull()
            if spec.window_days:
                reached &= rows[f"r{j}"] <= rows[f"r{i}"] + ibis.interval(days=spec.window_days)
            out[f"c{i}_{j}"] = rows.count(where=reached)
            if (i, j) in pairs:
                d = _days(rows, i, j)
                out |= {f"q{i}_{j}": d.quantile(list(QUANTILES), where=reached), f"mean{i}_{j}": d.mean(where=reached)}
        return out

    if spec.breakdown != "month":
        rows = rows.mutate(grp=_group_of(rows, spec, 0))
        one = rows.group_by("grp").aggregate(**{n: m for i in range(k) for n, m in measures(i, rows).items()})
        return dict.fromkeys(range(k), one)
    out = {}
    for i in range(k):
        cohort = rows.filter(in_period(rows[f"r{i}"], spec))
        cohort = cohort.mutate(grp=_group_of(cohort, spec, i))
        out[i] = cohort.group_by("grp").aggregate(**measures(i, cohort))
    return out


VELOCITY = ("median_days", "p75_days", "p90_days", "mean_days")
PROGRESS = "funnel_progress"  # in ``t``: ``progress`` of these stages, kept by the runner (else computed inline)
QUANTILES = (0.5, 0.75, 0.9)  # one exact multi-quantile per pair: the values are sorted once


def funnel_table(t: dict[str, Any], spec: FunnelSpec, stages: tuple[str, ...], positions: dict[str, int],
                 pairs: list[tuple[str, str]]) -> Any:
    """The whole funnel in one query, one row per group and chosen stage A (``from_rank`` = A's index in
    ``stages``) whose cohort is not empty: ``entered`` (reached A in the period); ``c{j}`` for every
    stage j: how many converted to it (cohort: of the entered, reached j; period: reached j in the
    period, in the same group; 0 for j ≤ A); and for the requested ``pairs`` starting at A, ``q{j}``
    (median, p75, p90 of the days from A to j of the cohort's converted contacts) and ``mean{j}``
    (null elsewhere). ``split_funnel`` lays the rows out as the entered / conversion / velocity lists;
    the columns stay few so that the query compiles fast. ``t[PROGRESS]``, when given, is ``progress`` of
    these ``stages`` kept as a table (the runner keeps it per data fingerprint: every breakdown reuses it)."""
    k = len(stages)
    rank = {s: i for i, s in enumerate(stages)}
    wanted = {(rank[a], rank[b]) for a, b in pairs}
    wide = t[PROGRESS] if PROGRESS in t else progress(t, stages, positions)
    aggs = _stage_aggregates(_with_attribute(wide, t, spec), spec, k, wanted)
    no_q, no_mean, zero = ibis.null("array<float64>"), ibis.null("float64"), ibis.literal(0, "int64")
    parts = []
    for i in range(k):
        agg = aggs[i]
        rows = agg.filter(agg[f"e{i}"] > 0)
        if spec.mode == "period":  # flow: how many reached j in the period, in the same group
            for j in range(i + 1, k):
                bj = aggs[j].select(**{f"g{j}": aggs[j].grp, f"n{j}": aggs[j][f"e{j}"]})
                rows = rows.left_join(bj, rows.grp == bj[f"g{j}"])
            conv = {f"c{j}": rows[f"n{j}"].fill_null(0).cast("int64") if j > i else zero for j in range(k)}
        else:
            conv = {f"c{j}": rows[f"c{i}_{j}"] if j > i else zero for j in range(k)}
        vel = {}
        for j in range(k):
            vel[f"q{j}"] = rows[f"q{i}_{j}"] if (i, j) in wanted else no_q
            vel[f"mean{j}"] = rows[f"mean{i}_{j}"] if (i, j) in wanted else no_mean
        parts.append(rows.select(group=rows.grp, from_rank=ibis.literal(i, "int64"),
                                 entered=rows[f"e{i}"].cast("int64"), **conv, **vel))
    return ibis.union(*parts)


def split_funnel(rows: list[dict[str, Any]], stages: tuple[str, ...],
                 pairs: list[tuple[str, str]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """``funnel_table`` rows → (entered, conversion, velocity), groups by size (most entered first, then
    name), stages in funnel order. Conversion lists every pair A < B of a group that reached A, with 0
    where nobody converted; velocity lists the requested pairs where somebody converted."""
    size: dict[Any, int] = {}
    for r in rows:
        size[r["group"]] = size.get(r["group"], 0) + int(r["entered"])
    groups = sorted(size, key=lambda g: (-size[g], str(g)))
    place = {g: n for n, g in enumerate(groups)}
    rank = {s: i for i, s in enumerate(stages)}
    wanted = {(rank[a], rank[b]) for a, b in pairs}
    entered, conversion, velocity = [], [], []
    for r in sorted(rows, key=lambda r: (place[r["group"]], r["from_rank"])):
        g, i, n = r["group"], int(r["from_rank"]), int(r["entered"])
        entered.append({"group": g, "stage": stages[i], "rank": i, "contacts": n})
        for j in range(i + 1, len(stages)):
            converted = int(r[f"c{j}"] or 0)
            conversion.append({"group": g, "from_stage": stages[i], "to_stage": stages[j], "entered": n,
                               "converted": converted, "rate": converted / n})
            q = r[f"q{j}"]
            if (i, j) in wanted and converted and q is not None:
                velocity.append({"group": g, "from_stage": stages[i], "to_stage": stages[j], "contacts": converted,
                                 **dict(zip(VELOCITY, [*(float(x) for x in q), float(r[f"mean{j}"])]))})
    return entered, conversion, velocity
