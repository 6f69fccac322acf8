"""When repeated rejections must change marketing's process (PRODUCT.md R6).

Model
    Handed-over leads are grouped by source and ISO week of handoff; the rejection rate for a reason is
    rejected-for-that-reason / handed-over in that source and week. When that rate is at least
    ``threshold`` in each of the last ``weeks`` complete weeks, and each of those weeks had at least
    ``min_handed`` leads from the source (so three leads do not make a trend), a scoring review is due
    for (source, reason).

Defaults (field figures in PRODUCT.md): reps reject 20–40 % of MQLs and above about 35 % the scoring
usually needs recalibrating; a single reason reaching 20 % for three weeks running is a pattern.

Worked example
    Source "paid_social", reason "student": weeks 10, 11, 12 handed 40, 35, 50 and rejected as student
    10, 9, 12 → 25 %, 26 %, 24 %, all ≥ 20 % with ≥ 20 leads → review due.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_THRESHOLD = 0.20
DEFAULT_WEEKS = 3
DEFAULT_MIN_HANDED = 20


@dataclass(frozen=True)
class WeekCount:
    week: str  # ISO week, e.g. "2026-W11"
    handed: int
    rejected: int


@dataclass(frozen=True)
class ReviewDue:
    source: str
    reason: str
    weeks: tuple[str, ...]
    rates: tuple[float, ...]

    @property
    def summary(self) -> str:
        pct = ", ".join(f"{r:.0%}" for r in self.rates)
        return (f"{self.source}: '{self.reason}' rejections at {pct} in weeks {', '.join(self.weeks)}; "
                "review the scoring rules and the campaign targeting for this source")


def reviews_due(
    counts: Mapping[tuple[str, str], Sequence[WeekCount]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    weeks: int = DEFAULT_WEEKS,
    min_handed: int = DEFAULT_MIN_HANDED,
) -> list[ReviewDue]:
    """``counts`` maps (source, reason) to its complete weeks in order, oldest first."""
    out = []
    for (source, reason), series in sorted(counts.items()):
        last = list(series)[-weeks:]
        if len(last) < weeks:
            continue
        if all(w.handed >= min_handed and w.rejected / w.handed >= threshold for w in last):
            out.append(ReviewDue(source, reason, tuple(w.week for w in last), tuple(w.rejected / w.handed for w in last)))
    return out
