"""What the desk answers: plain typed data that the pages render as HTML, the CLI as tables, and the CLI's
``--json`` and the JSON API both as ``to_dict()`` (one function, so the two are identical to the byte).

Every answer carries the SQL it ran (``sql``, or the queries of a runner result): ``--show-sql`` prints it,
``?sql=true`` on the API returns it. ``to_dict`` gives JSON values only (``plain``): dates as ISO text,
money as floats, NumPy numbers as Python numbers, NaN as null.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from revteam.analytics.runner import AnalyticsResult

_PLACEHOLDERS = re.compile(r"(\?|%\([^)]+\)s|\$\d+|:\w+)(?:, (?:\?|%\([^)]+\)s|\$\d+|:\w+)){3,}")


def plain(value: Any) -> Any:
    """``value`` as JSON values: dicts (text keys), lists, text, numbers, booleans and null."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # NumPy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _shorten(statement: str) -> str:
    """``IN (?, ?, ?, ?, ?)`` → ``IN (?, … 5 values)``: the chunked id lists stay readable."""
    return _PLACEHOLDERS.sub(lambda m: f"{m.group(1)}, … {m.group(0).count(',') + 1} values", statement)


def compact_statements(statements: list[str]) -> list[str]:
    """Each distinct statement once, white space folded, in first-run order, with how many times it ran when
    more than once."""
    counts: dict[str, int] = {}
    for sql in statements:
        short = _shorten(" ".join(sql.split()))
        counts[short] = counts.get(short, 0) + 1
    return [f"{sql}  -- ran {n} times" if n > 1 else sql for sql, n in counts.items()]


@dataclass(frozen=True)
class Report:
    """An answer that is a document: revenue against target, a forecast, one deal's attribution."""

    kind: str
    data: dict[str, Any]
    sql: tuple[str, ...] = ()

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = plain(self.data)
        if with_sql:
            out["sql"] = list(self.sql)
        return out


@dataclass(frozen=True)
class AttributionAnswer:
    """Won revenue (``credit="won_revenue"``) or conversions to a stage (``"conversions"``) credited per key.

    ``keys``: one row per key, ``{"key", "label", "credit": {model: value}}`` and, for revenue, ``sourced``,
    ``sourced_deals``, ``influenced``, ``influenced_deals``; sorted by ``model`` when the question named one.
    ``journeys`` is the number of deals (revenue) or contacts (conversions) in the population; ``attributed``
    the won deals with a touch, largest first; ``unattributed`` those without one (never credited)."""

    credit: str
    grain: str
    model: str | None
    models: tuple[str, ...]
    seed: int
    start: date | None
    end: date | None
    stage: str | None
    stage_label: str | None
    journeys: int
    conversions: int
    keys: list[dict[str, Any]]
    attributed: list[dict[str, Any]]
    unattributed: list[dict[str, Any]]
    labels: dict[str, str] = field(default_factory=dict)  # the installation's stage labels, for the page's menu
    main_stages: tuple[str, ...] = ()
    sql: tuple[str, ...] = ()

    @property
    def non_converting(self) -> int:
        return self.journeys - self.conversions

    def total(self, model: str) -> float:
        return sum(r["credit"][model] for r in self.keys)

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "credit": self.credit, "grain": self.grain, "model": self.model, "models": list(self.models),
            "seed": self.seed, "start": self.start, "end": self.end}
        if self.credit == "conversions":
            out.update(stage=self.stage, conversions=self.conversions, non_converting=self.non_converting)
        else:
            out.update(deals=self.journeys, attributed=self.attributed)
        out.update(unattributed=self.unattributed,
                   keys=[{**{k: v for k, v in r.items() if k != "credit"}, **r["credit"]} for r in self.keys])
        if with_sql:
            out["sql"] = list(self.sql)
        return plain(out)


@dataclass(frozen=True)
class ContentAnswer:
    """Content ROI: every piece (sorted as asked) with ``credited`` = {model: won revenue credited}, the top
    five by traffic of ``week`` and by won revenue of ``month`` (with each model's credit)."""

    result: AnalyticsResult  # the runner's answer, ``credited`` merged in; ``pieces`` in the engine's order
    pieces: list[dict[str, Any]]
    sort: str
    model: str
    week: str | None
    this_week: str | None
    top_week: list[dict[str, Any]]
    month: str | None  # YYYY-MM
    months: tuple[str, ...]  # every month with a top five, oldest first
    top_month: list[dict[str, Any]]
    credited_sql: tuple[str, ...] = ()

    def rows(self, name: str) -> list[dict[str, Any]]:
        return self.pieces if name == "pieces" else self.result.rows(name)

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = self.result.to_dict(with_sql=with_sql)
        out.update(pieces=self.pieces, sort=self.sort, model=self.model, week=self.week, month=self.month)
        if with_sql:
            out["sql"]["credited"] = list(self.credited_sql)
        return plain(out)


@dataclass(frozen=True)
class CreditedContent:
    """The runner's content ROI answer with every model's credit merged in, and the SQL that read the
    attribution journeys for it (what ``ContentAnswer`` and ``ContentPieceAnswer`` are cut from)."""

    result: AnalyticsResult
    credited_sql: tuple[str, ...] = ()

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = self.result.to_dict(with_sql=with_sql)
        if with_sql:
            out["sql"]["credited"] = list(self.credited_sql)
        return plain(out)


@dataclass(frozen=True)
class ContentPieceAnswer:
    piece: dict[str, Any]
    credits: list[dict[str, Any]]  # {"model", "label", "definition", "credit"} per model, in MODELS order
    start: date | None
    end: date | None

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        return plain({"piece": self.piece, "credits": self.credits, "start": self.start, "end": self.end})


@dataclass(frozen=True)
class BacktestAnswer:
    backtest: Any  # domain.forecast_backtest.Backtest: rows, summary, skipped
    source: str
    draws: int
    seed: int
    sql: tuple[str, ...] = ()

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = {"source": self.source, "draws": self.draws, "seed": self.seed, **self.backtest.to_dict()}
        if with_sql:
            out["sql"] = list(self.sql)
        return plain(out)


@dataclass(frozen=True)
class OutlookAnswer:
    """The revenue page: revenue against target and the month's and the quarter's forecast; a forecast that
    cannot be made (too little history) is ``{"period", "error", "code"}``."""

    revenue: dict[str, Any]
    forecasts: list[dict[str, Any]]
    seed: int
    sql: tuple[str, ...] = ()

    def to_dict(self, *, with_sql: bool = False) -> dict[str, Any]:
        out = {"revenue": self.revenue, "forecasts": self.forecasts, "seed": self.seed}
        if with_sql:
            out["sql"] = list(self.sql)
        return plain(out)


FunnelAnswer = AnalyticsResult  # stages, entered, conversion and velocity; its queries carry the SQL
