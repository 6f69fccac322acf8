"""Per journey: which touches got how much credit under a model, and why (rows a page can show).

``explain_journey(journeys, attribution, j)`` reads ``attribution.touch_share`` (run the model with
``touches=True``) and returns one ``TouchCredit`` per touch of journey ``j``, in time order, with the
milestone roles the touch holds and a sentence saying why it earned its share. The shares are the same
numbers the key totals are summed from, so a page and a report can never disagree.

Worked example (W-shaped, $10,000, touches ads → email → webinar [lead] → demo [opportunity, close])
    ads      first touch              30.0%   $3,000  "first touch 30%"
    email                             10.0%   $1,000  "the only touch without a milestone: 10%"
    webinar  lead creation            30.0%   $3,000  "lead creation 30%"
    demo     opportunity, close       30.0%   $3,000  "opportunity creation 30%"
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from revteam.domain.attribution.journeys import Journeys
from revteam.domain.attribution.positional import (
    DAY,
    ROLE_WEIGHTS,
    last_non_direct_index,
    role_points,
)
from revteam.domain.attribution.result import Attribution
from revteam.errors import InvalidInput

ROLE_LABELS = {"first": "first touch", "lead": "lead creation", "opportunity": "opportunity creation",
               "close": "close"}


@dataclass(frozen=True)
class TouchCredit:
    touch: int  # index into the journeys' touch arrays
    position: int  # 1-based, in time order
    key: str
    roles: tuple[str, ...]  # first, lead, opportunity, close
    share: float  # of the journey's conversions and value
    conversions: float
    value: float
    reason: str


def _pct(x: float) -> str:
    return f"{x:.1%}" if abs(x) >= 0.001 or x == 0 else f"{x:.3%}"


def explain_journey(journeys: Journeys, attribution: Attribution, j: int, *, half_life_days: float = 7.0) -> list[TouchCredit]:
    if attribution.touch_share is None:
        raise InvalidInput("Run the model with touches=True to explain a journey.", code="bad_attribution_model")
    one = journeys.subset([j])
    start = int(journeys.starts[j])
    n = int(journeys.lengths[j])
    share = attribution.touch_share[start:start + n]
    roles: list[list[str]] = [[] for _ in range(n)]
    roles[0].append("first")
    for name, m in (("lead", one.lead), ("opportunity", one.opportunity)):
        if m is not None and m[0] >= 0:
            roles[int(m[0])].append(name)
    roles[n - 1].append("close")
    reasons = _reasons(attribution, one, share, roles, half_life_days)
    conv, val = float(journeys.conversions[j]), float(journeys.value[j])
    return [TouchCredit(start + i, i + 1, one.keys[int(one.key[i])], tuple(roles[i]), float(share[i]),
                        float(share[i]) * conv, float(share[i]) * val, reasons[i]) for i in range(n)]


def _reasons(a: Attribution, one: Journeys, share: np.ndarray, roles: list[list[str]], half_life: float) -> list[str]:
    n = len(share)
    keys = [one.keys[int(k)] for k in one.key]
    model = a.model
    if model == "first_touch":
        return ["first touch: 100%" if i == 0 else "not the first touch: 0%" for i in range(n)]
    if model == "last_touch":
        return ["last touch before the conversion: 100%" if i == n - 1 else "not the last touch: 0%" for i in range(n)]
    if model == "last_non_direct":
        winner = int(last_non_direct_index(one)[0])
        direct = one.direct if one.direct is not None else np.zeros(n, dtype=bool)
        all_direct = bool(direct.all())
        out = []
        for i in range(n):
            if i == winner:
                out.append("every touch was direct, so the last touch: 100%" if all_direct
                           else "last touch not through a direct channel: 100%")
            else:
                out.append("direct touch, skipped: 0%" if direct[i] else "a later non-direct touch took the credit: 0%")
        return out
    if model == "linear":
        return [f"1 of {n} touches: {_pct(1 / n)}"] * n
    if model == "time_decay":
        h = a.details.get("half_life_days", half_life)
        age = (one.time.max() - one.time) / DAY
        w = np.exp2(-age / h)
        return [f"{age[i]:.1f} days before the last touch, weight 2^(-{age[i]:.1f}/{h:g}) = {w[i]:.3f} "
                f"of the journey's {w.sum():.3f}: {_pct(share[i])}" for i in range(n)]
    if model in ROLE_WEIGHTS:
        uniform, points, _ = role_points(one, model)
        weights, rest = ROLE_WEIGHTS[model]
        missing = [ROLE_LABELS[r] for r, idx, _ in points if idx[0] < 0]
        held: dict[int, list[str]] = {}
        for r, idx, w in points:
            if idx[0] >= 0:
                held.setdefault(int(idx[0]), []).append(f"{ROLE_LABELS[r]} {_pct(float(w[0]))}")
        others = n - len(held)
        note = f" (no {', '.join(missing)} touch: its share went to the roles present)" if missing else ""
        out = []
        for i in range(n):
            if i in held:
                extra = f" (no other touch, so the {_pct(rest)} for the rest went to the roles)" if others == 0 else ""
                out.append(" + ".join(held[i]) + note + extra)
            else:
                out.append(f"1 of {others} touches without a role, sharing {_pct(rest)}: {_pct(float(uniform[0]))}")
        return out
    per_key: dict[str, float] = {}
    count: dict[str, int] = {}
    for k, s in zip(keys, share):
        per_key[k] = per_key.get(k, 0.0) + float(s)
        count[k] = count.get(k, 0) + 1
    if model.startswith("markov"):
        re = a.details["removal_effects"]
        index = {k: i for i, k in enumerate(a.keys)}
        total = sum(float(re[index[k]]) for k in per_key)
        how = ("per-journey split (the whole-total split credits key totals only)"
               if a.details.get("split") == "total" else "per-journey split")
        return [f"removal effect of {k!r} {float(re[index[k]]):.4f} of the journey's {total:.4f}: "
                f"{_pct(per_key[k])} to {k!r}" + (f", over its {count[k]} touches" if count[k] > 1 else "")
                + f"; {how}" for k in keys]
    if model == "shapley":
        names = ", ".join(sorted(per_key))
        out = []
        for k in keys:
            text = f"Shapley share of {k!r} among {{{names}}}: {_pct(per_key[k])}"
            if count[k] > 1:
                text += f", over its {count[k]} touches"
            if per_key[k] < 0:
                text += f" (negative: coalitions with {k!r} convert worse than without it)"
            out.append(text)
        return out
    return [f"{_pct(float(s))}" for s in share]
