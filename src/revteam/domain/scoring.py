"""Rule-based lead scoring: fit + engagement, with reasons (PRODUCT.md R3).

Model
    *Fit* is who the contact is. Each fit rule tests one field of the contact or its account (title,
    seniority, industry, employees, region, segment, persona, email domain, consent) and adds its points
    once when it matches. Negative points express negative fit (competitor domain, student, opted out).

    *Engagement* is what the contact did. Each engagement rule matches touches by type, channel,
    campaign, content category and URL pattern (all given criteria must hold). A matching touch earns
    the rule's points, decayed by age with the model's half-life when the rule decays::

        earned = points × 0.5 ^ (age_days / half_life_days)        (age of a future touch counts as 0)

    A rule's total per contact is capped at ``cap`` (in absolute value, for negative rules too).

    *Total* = fit + engagement. The contact is an MQL when total ≥ ``mql_threshold``, or when a
    *fast-track* rule matches a touch no older than ``fast_track_days`` (a hand-raiser: demo or pricing
    request), whatever the score.

Assumptions
    Rules are independent and additive; a touch may match several engagement rules (each counts).
    Times are UTC; ``now`` is passed in. Points and caps are per model version; changing a rule makes a
    new version.

One implementation, two uses
    ``score_batch`` scores many contacts at once with NumPy (bulk rescoring of a million contacts) and
    the single-contact path scores a batch of one, so the explanation a rep reads and the number a
    report counts can never disagree. Regular expressions run once per distinct value, not per touch.

Worked example (half-life 30 days, threshold 60)
    A VP of Operations (fit rule "senior title" +20) at a 250-person company ("mid-market size" +10)
    attended the webinar 'Pricing 101' 3 days ago (rule +20, decays: 20 × 0.5^(3/30) = 18.66) and viewed
    6 pages over the last week (rule +5 each, cap 15 → 15 after decay is below the raw 30).
    fit = 30, engagement = 18.66 + 15 = 33.66, total = 63.66 ≥ 60 → MQL.
    Reasons: "+20 fit: senior title (title 'VP Operations')", "+18.7 attended webinar 'Pricing 101'
    3 days ago, decayed from +20", "+15 from 6× page view (capped at 15)".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from revteam.errors import InvalidInput

FIT_FIELDS = ("title", "seniority", "industry", "employees", "region", "segment", "persona", "email_domain",
              "consent", "source")
MATCH_KINDS = ("equals", "in", "contains", "regex", "range")
TOUCH_CRITERIA = ("type", "channel", "campaign", "content_category")


@dataclass(frozen=True)
class FitRule:
    label: str
    field: str
    match: str
    value: Any
    points: float

    def test(self, raw: Any) -> bool:
        if raw is None or raw == "":
            return False
        if self.match == "range":
            try:
                x = float(raw)
            except (TypeError, ValueError):
                return False
            lo, hi = self.value
            return (lo is None or x >= lo) and (hi is None or x <= hi)
        text = str(raw).strip().lower()
        if self.match == "equals":
            return text == str(self.value).strip().lower()
        if self.match == "in":
            return text in {str(v).strip().lower() for v in self.value}
        if self.match == "contains":
            return str(self.value).lower() in text
        return re.search(self.value, str(raw), re.IGNORECASE) is not None


@dataclass(frozen=True)
class TouchRule:
    label: str
    points: float = 0.0
    type: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    campaign: tuple[str, ...] = ()
    content_category: tuple[str, ...] = ()
    url_pattern: str = ""
    cap: float | None = None
    decay: bool = True


@dataclass(frozen=True)
class ScoringModel:
    name: str
    version: int
    mql_threshold: float
    half_life_days: float = 30.0
    fast_track_days: float = 30.0
    fit: tuple[FitRule, ...] = ()
    engagement: tuple[TouchRule, ...] = ()
    fast_track: tuple[TouchRule, ...] = ()

    def __post_init__(self) -> None:
        if self.half_life_days <= 0:
            raise InvalidInput("half_life_days must be positive.", code="bad_scoring_model")
        for r in self.fit:
            if r.field not in FIT_FIELDS:
                raise InvalidInput(f"Fit rule {r.label!r}: unknown field {r.field!r}; use one of {', '.join(FIT_FIELDS)}.",
                                   code="bad_scoring_model")
            if r.match not in MATCH_KINDS:
                raise InvalidInput(f"Fit rule {r.label!r}: unknown match {r.match!r}; use one of {', '.join(MATCH_KINDS)}.",
                                   code="bad_scoring_model")
            if r.match == "regex":
                _compile(r.value, r.label)
            if r.match == "range" and (not isinstance(r.value, (list, tuple)) or len(r.value) != 2):
                raise InvalidInput(f"Fit rule {r.label!r}: a range is [low, high]; use null for an open end.",
                                   code="bad_scoring_model")
        for r in self.engagement + self.fast_track:
            if r.url_pattern:
                _compile(r.url_pattern, r.label)
            if r.cap is not None and r.cap <= 0:
                raise InvalidInput(f"Rule {r.label!r}: cap must be positive (it limits the absolute points).",
                                   code="bad_scoring_model")
            if not any((r.type, r.channel, r.campaign, r.content_category, r.url_pattern)):
                raise InvalidInput(f"Rule {r.label!r} matches every touch; give at least one criterion.",
                                   code="bad_scoring_model")


def _compile(pattern: str, label: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        raise InvalidInput(f"Rule {label!r}: {pattern!r} is not a valid regular expression ({e}).",
                           code="bad_scoring_model") from None


# --- input tables ----------------------------------------------------------------------------------
@dataclass
class ContactTable:
    """One row per contact: the fields fit rules read (None where unknown)."""

    ids: np.ndarray
    fields: dict[str, Sequence[Any]]

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class TouchTable:
    """One row per touch; ``contact`` is the row index into the ContactTable."""

    contact: np.ndarray  # int
    occurred_at: np.ndarray  # datetime64[s] UTC
    type: Sequence[str | None]
    channel: Sequence[str | None]
    campaign: Sequence[str | None]
    content_category: Sequence[str | None]
    url: Sequence[str | None]
    detail: Sequence[str | None] | None = None  # e.g. campaign or content name, for reasons

    def __len__(self) -> int:
        return len(self.contact)


def _codes(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values (as text, None → "") and each row's index into them (pandas.factorize: C speed)."""
    import pandas as pd

    if len(values) == 0:
        return np.array([], dtype=object), np.array([], dtype=np.int64)
    codes, uniq = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    labels = np.array(["" if u is None else str(u) for u in uniq] + [""], dtype=object)
    return labels, np.where(codes < 0, len(uniq), codes)


# --- results --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reason:
    points: float
    kind: str  # fit | engagement | fast_track
    text: str


@dataclass
class ScoreBatch:
    model: ScoringModel
    ids: np.ndarray
    fit: np.ndarray
    engagement: np.ndarray
    fit_points: np.ndarray  # contacts × fit rules
    rule_points: np.ndarray  # contacts × engagement rules (after decay and cap)
    rule_raw: np.ndarray  # contacts × engagement rules, undecayed and uncapped
    rule_count: np.ndarray  # contacts × engagement rules, matching touches
    rule_latest: np.ndarray  # contacts × engagement rules, index of the newest matching touch, -1 if none
    fast_track_rule: np.ndarray  # contacts: index of the matching fast-track rule, -1 if none
    fast_track_touch: np.ndarray
    contacts: ContactTable
    touches: TouchTable
    ages: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.fit + self.engagement

    @property
    def is_mql(self) -> np.ndarray:
        return (self.total >= self.model.mql_threshold) | (self.fast_track_rule >= 0)

    def reasons(self, i: int) -> list[Reason]:
        """Why contact row ``i`` has its score, largest effect first."""
        m = self.model
        out: list[Reason] = []
        for j, rule in enumerate(m.fit):
            p = float(self.fit_points[i, j])
            if p:
                value = self.contacts.fields.get(rule.field, [None] * len(self.contacts))[i]
                value = value.item() if hasattr(value, "item") else value  # NumPy scalar → plain value
                out.append(Reason(p, "fit", f"{p:+g} fit: {rule.label} ({rule.field} {value!r})"))
        for j, rule in enumerate(m.engagement):
            p = round(float(self.rule_points[i, j]), 1)
            n = int(self.rule_count[i, j])
            if not n:
                continue
            raw = float(self.rule_raw[i, j])
            t = int(self.rule_latest[i, j])
            detail = self._detail(t)
            age = _age_text(float(self.ages[t]))
            if n == 1:
                text = f"{p:+g} {rule.label}{detail} {age}"
                if rule.decay and abs(p - rule.points) >= 0.05:
                    text += f", decayed from {rule.points:+g}"
            else:
                text = f"{p:+g} from {n}× {rule.label} (latest{detail} {age})"
            if rule.cap is not None and abs(raw) > rule.cap and abs(p) >= rule.cap - 1e-9:
                text += f", capped at {rule.cap:g}"
            out.append(Reason(p, "engagement", text))
        k = int(self.fast_track_rule[i])
        if k >= 0:
            t = int(self.fast_track_touch[i])
            out.append(Reason(0.0, "fast_track",
                              f"fast track: {m.fast_track[k].label}{self._detail(t)} {_age_text(float(self.ages[t]))}"))
        out.sort(key=lambda r: (r.kind != "fast_track", -abs(r.points)))
        return out

    def _detail(self, t: int) -> str:
        if self.touches.detail is None or t < 0:
            return ""
        d = self.touches.detail[t]
        return f" '{d}'" if d else ""


def _age_text(days: float) -> str:
    if days < 1:
        return "today"
    if days < 2:
        return "yesterday"
    return f"{int(days)} days ago"


# --- the scorer ----------------------------------------------------------------------------------
def _match_values(uniq: np.ndarray, allowed: tuple[str, ...]) -> np.ndarray:
    wanted = {a.lower() for a in allowed}
    return np.fromiter((u.lower() in wanted for u in uniq), dtype=bool, count=len(uniq))


class _TouchIndex:
    """Distinct values of each touch column, so every criterion is evaluated once per distinct value."""

    def __init__(self, touches: TouchTable) -> None:
        self.cols = {c: _codes(getattr(touches, c)) for c in (*TOUCH_CRITERIA, "url")}

    def mask(self, rule: TouchRule) -> np.ndarray:
        n = len(self.cols["type"][1])
        mask = np.ones(n, dtype=bool)
        for crit in TOUCH_CRITERIA:
            allowed = getattr(rule, crit)
            if allowed:
                uniq, inv = self.cols[crit]
                mask &= _match_values(uniq, allowed)[inv]
        if rule.url_pattern:
            uniq, inv = self.cols["url"]
            rx = _compile(rule.url_pattern, rule.label)
            mask &= np.fromiter((bool(rx.search(u)) for u in uniq), dtype=bool, count=len(uniq))[inv]
        return mask


def _newest_first(contact: np.ndarray, ages: np.ndarray) -> np.ndarray:
    """Touch order grouped by contact, newest first within a contact (computed once per batch)."""
    return np.lexsort((ages, contact))


def _latest_per_contact(contact: np.ndarray, order: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    """Index of the newest matching touch of each contact, -1 where none matches."""
    out = np.full(n, -1, dtype=np.int64)
    picked = order[mask[order]]
    if len(picked):
        c = contact[picked]
        first = np.empty(len(c), dtype=bool)
        first[0] = True
        np.not_equal(c[1:], c[:-1], out=first[1:])
        out[c[first]] = picked[first]
    return out


def score_batch(model: ScoringModel, contacts: ContactTable, touches: TouchTable, *, now: datetime) -> ScoreBatch:
    """Score every contact in ``contacts`` from its fields and its touches (see module docstring)."""
    n, k_fit, k_eng = len(contacts), len(model.fit), len(model.engagement)
    now64 = np.datetime64(now.replace(tzinfo=None), "s")
    ages = np.maximum((now64 - touches.occurred_at.astype("datetime64[s]")).astype(np.float64) / 86400.0, 0.0)
    contact = np.asarray(touches.contact, dtype=np.int64)

    fit_points = np.zeros((n, k_fit), dtype=np.float64)
    for j, rule in enumerate(model.fit):
        uniq, inv = _codes(contacts.fields.get(rule.field, [None] * n))
        hits = np.fromiter((rule.test(u if u != "" else None) for u in uniq), dtype=bool, count=len(uniq))
        fit_points[:, j] = np.where(hits[inv], rule.points, 0.0) if n else 0.0

    index = _TouchIndex(touches) if len(touches) else None
    order = _newest_first(contact, ages) if len(touches) else np.array([], dtype=np.int64)
    decay = np.power(0.5, ages / model.half_life_days)
    rule_points = np.zeros((n, k_eng))
    rule_raw = np.zeros((n, k_eng))
    rule_count = np.zeros((n, k_eng), dtype=np.int64)
    rule_latest = np.full((n, k_eng), -1, dtype=np.int64)
    for j, rule in enumerate(model.engagement):
        if index is None:
            break
        mask = index.mask(rule)
        earned = rule.points * (decay if rule.decay else 1.0)
        hit = contact[mask]
        pts = np.bincount(hit, weights=np.broadcast_to(earned, mask.shape)[mask], minlength=n)
        rule_count[:, j] = np.bincount(hit, minlength=n)
        rule_raw[:, j] = rule_count[:, j] * rule.points
        rule_points[:, j] = np.clip(pts, -rule.cap, rule.cap) if rule.cap is not None else pts
        rule_latest[:, j] = _latest_per_contact(contact, order, mask, n)

    fast_rule = np.full(n, -1, dtype=np.int64)
    fast_touch = np.full(n, -1, dtype=np.int64)
    for j, rule in enumerate(model.fast_track):
        if index is None:
            break
        mask = index.mask(rule) & (ages <= model.fast_track_days)
        latest = _latest_per_contact(contact, order, mask, n)
        new = (latest >= 0) & (fast_rule < 0)
        fast_rule[new] = j
        fast_touch[new] = latest[new]

    return ScoreBatch(model, contacts.ids, fit_points.sum(axis=1), rule_points.sum(axis=1), fit_points, rule_points,
                      rule_raw, rule_count, rule_latest, fast_rule, fast_touch, contacts, touches, ages)


def top_reason_codes(batch: ScoreBatch, k: int = 3) -> np.ndarray:
    """For every contact, the indices of its ``k`` largest contributions (by absolute points) over the
    concatenated rule list [fit rules, engagement rules]; -1 where fewer rules contributed. This is the
    compact, vectorised form of ``ScoreBatch.reasons`` for bulk storage; the text is rendered on display."""
    contrib = np.hstack([batch.fit_points, batch.rule_points])
    if contrib.shape[1] == 0:
        return np.full((len(batch.ids), k), -1, dtype=np.int16)
    k_eff = min(k, contrib.shape[1])
    order = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :k_eff]
    picked = np.take_along_axis(contrib, order, axis=1)
    out = np.where(picked != 0, order, -1).astype(np.int16)
    if k_eff < k:
        out = np.hstack([out, np.full((len(out), k - k_eff), -1, dtype=np.int16)])
    return out


# --- TOML ----------------------------------------------------------------------------------------
def _touch_rule(d: dict[str, Any]) -> TouchRule:
    def tup(key: str) -> tuple[str, ...]:
        v = d.get(key, ())
        return (v,) if isinstance(v, str) else tuple(str(x) for x in v)

    known = {"label", "points", "type", "channel", "campaign", "content_category", "url_pattern", "cap", "decay"}
    extra = set(d) - known
    if extra:
        raise InvalidInput(f"Rule {d.get('label')!r}: unknown key(s) {', '.join(sorted(extra))}.", code="bad_scoring_model")
    return TouchRule(label=str(d["label"]), points=float(d.get("points", 0)), type=tup("type"), channel=tup("channel"),
                     campaign=tup("campaign"), content_category=tup("content_category"),
                     url_pattern=str(d.get("url_pattern", "")), cap=None if d.get("cap") is None else float(d["cap"]),
                     decay=bool(d.get("decay", True)))


def _fit_value(v: Any) -> Any:
    """Lists become tuples; in a range an empty string is an open end (TOML has no null)."""
    if isinstance(v, list):
        return tuple(None if x == "" else x for x in v)
    return v


def model_from_dict(data: dict[str, Any]) -> ScoringModel:
    try:
        return ScoringModel(
            name=str(data.get("name", "Scoring model")),
            version=int(data.get("version", 1)),
            mql_threshold=float(data["mql_threshold"]),
            half_life_days=float(data.get("half_life_days", 30)),
            fast_track_days=float(data.get("fast_track_days", 30)),
            fit=tuple(FitRule(str(r["label"]), str(r["field"]), str(r.get("match", "equals")),
                              _fit_value(r["value"]), float(r["points"]))
                      for r in data.get("fit", [])),
            engagement=tuple(_touch_rule(r) for r in data.get("engagement", [])),
            fast_track=tuple(_touch_rule(r) for r in data.get("fast_track", [])),
        )
    except KeyError as e:
        raise InvalidInput(f"The scoring model is missing {e.args[0]!r}.", code="bad_scoring_model") from None
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"The scoring model is malformed: {e}.", code="bad_scoring_model") from None


def model_from_toml(text: str) -> ScoringModel:
    try:
        return model_from_dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"The scoring model is not valid TOML: {e}.", code="bad_scoring_model") from None


def model_to_dict(m: ScoringModel) -> dict[str, Any]:
    def touch(r: TouchRule) -> dict[str, Any]:
        d: dict[str, Any] = {"label": r.label}
        if r.points:
            d["points"] = r.points
        for key in ("type", "channel", "campaign", "content_category"):
            if getattr(r, key):
                d[key] = list(getattr(r, key))
        if r.url_pattern:
            d["url_pattern"] = r.url_pattern
        if r.cap is not None:
            d["cap"] = r.cap
        if not r.decay:
            d["decay"] = False
        return d

    return {
        "name": m.name,
        "version": m.version,
        "mql_threshold": m.mql_threshold,
        "half_life_days": m.half_life_days,
        "fast_track_days": m.fast_track_days,
        "fit": [{"label": r.label, "field": r.field, "match": r.match,
                 "value": list(r.value) if isinstance(r.value, tuple) else r.value, "points": r.points} for r in m.fit],
        "engagement": [touch(r) for r in m.engagement],
        "fast_track": [touch(r) for r in m.fast_track],
    }


def model_to_toml(m: ScoringModel) -> str:
    import tomli_w

    d = model_to_dict(m)
    for r in d["fit"]:
        if r["match"] == "range":
            r["value"] = [("" if v is None else v) for v in r["value"]]
    return tomli_w.dumps(d)
