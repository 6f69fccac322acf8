"""Rule-based (heuristic) attribution: who gets a journey's credit by position, milestone or age.

Models (every converting journey's conversions and value are split among its touches; the shares of a
journey's touches sum to 1; a key's credit is the sum over its touches)
    first_touch       100 % to the first touch.
    last_touch        100 % to the last touch (the close touch of a won deal).
    last_non_direct   100 % to the last touch whose channel is not marked direct; when every touch is
                      direct, to the last touch.
    linear            1/L to each of the journey's L touches (a key touched twice gets 2/L).
    time_decay        touch i gets weight 2^(-(t_conv - t_i)/half_life) (default half-life 7 days),
                      normalised over the journey. t_conv cancels out in the normalisation, so it is
                      computed from the journey's last touch: 2^(-(t_last - t_i)/half_life).
    u_shaped          40 % first touch, 40 % last (converting) touch, 20 % shared equally by the touches in
                      between. 1 touch: 100 %. 2 touches: 50 % / 50 % (no middle; the 20 % goes to the two
                      ends in proportion to their 40 %). For conversions to the lead stage the last touch
                      is the lead-creation touch: the B2B U-shape (first touch and lead creation).
    w_shaped          30 % each to the first touch, the lead-creation touch and the opportunity-creation
                      touch, 10 % shared equally by all other touches.
    full_path         22.5 % each to the first, lead-creation, opportunity-creation and close touches,
                      10 % shared equally by all other touches.

Milestone edge rules (u_shaped, w_shaped, full_path are one "role" model with different weights)
    * A touch holding several roles (the first touch is also the lead-creation touch) earns every role's
      share: 2 × 30 % = 60 % under W-shaped.
    * A missing milestone (no touch at or before the lead's creation, or no opportunity, or aggregated paths
      that have no milestones): its share goes to the roles present, in proportion to their weights
      (W-shaped with no opportunity touch: first touch 45 %, lead creation 45 %, the rest 10 %).
    * When no touch is left outside the roles (one touch, or every touch holds a role), the "rest" share
      goes to the role touches in proportion to their role shares, so the journey still sums to 100 %.

Assumptions
    Touches inside a journey are in time order (``Journeys`` sorts them); ties keep their given order.
    Credit is proportional to the journey's conversions and value, so a journey that did not convert
    changes no credit under these models.

Worked example (W-shaped, a won deal of $10,000 with five touches)
    ads (first touch) → email → webinar (lead creation) → email → demo (opportunity creation):
    ads 30 % = $3,000, webinar 30 % = $3,000, demo 30 % = $3,000, each email 5 % = $500 (so email $1,000).
    Full path, with the demo also the close touch: ads, webinar 22.5 % each, demo 45 % (opportunity
    creation + close), emails 5 % each. U-shaped: ads 40 %, demo 40 %, the three middle touches 6.67 % each.
"""

from __future__ import annotations

import numpy as np

from revteam.domain.attribution.journeys import Journeys
from revteam.domain.attribution.result import Attribution, from_parts, from_touch_share
from revteam.errors import InvalidInput

DAY = 86400.0
ROLE_WEIGHTS: dict[str, tuple[dict[str, float], float]] = {
    "u_shaped": ({"first": 0.40, "close": 0.40}, 0.20),
    "w_shaped": ({"first": 0.30, "lead": 0.30, "opportunity": 0.30}, 0.10),
    "full_path": ({"first": 0.225, "lead": 0.225, "opportunity": 0.225, "close": 0.225}, 0.10),
}


def first_touch(j: Journeys, *, touches: bool = False) -> Attribution:
    """First touch: 100 % of each converting journey to its first touch."""
    return from_parts("first_touch", j, None, [(j.starts, np.ones(j.n_journeys))], touches=touches)


def last_touch(j: Journeys, *, touches: bool = False) -> Attribution:
    """Last touch: 100 % to the journey's last touch (the close touch of a won deal)."""
    return from_parts("last_touch", j, None, [(j.ends, np.ones(j.n_journeys))], touches=touches)


def last_non_direct_index(j: Journeys) -> np.ndarray:
    """Per journey: the last touch not marked direct, or the last touch when all are direct."""
    if j.direct is None or not j.direct.any():
        return j.ends
    idx = np.where(j.direct, -1, np.arange(j.n_touches, dtype=np.int64))
    best = np.maximum.reduceat(idx, j.starts)
    return np.where(best >= j.starts, best, j.ends)


def last_non_direct(j: Journeys, *, touches: bool = False) -> Attribution:
    """Last non-direct: 100 % to the last touch not marked direct (the last touch when all are)."""
    return from_parts("last_non_direct", j, None, [(last_non_direct_index(j), np.ones(j.n_journeys))],
                      touches=touches)


def linear(j: Journeys, *, touches: bool = False) -> Attribution:
    """Linear: 1/L of the journey to each of its L touches."""
    return from_parts("linear", j, 1.0 / j.lengths, [], touches=touches)


def time_decay(j: Journeys, *, half_life_days: float = 7.0, touches: bool = False) -> Attribution:
    """Time decay: weight 2^(-(t_conversion - t)/half_life) per touch, normalised over the journey."""
    if j.time is None:
        raise InvalidInput("Time decay needs touch times; aggregated paths have none.", code="bad_attribution_model")
    if not half_life_days > 0:
        raise InvalidInput("half_life_days must be positive.", code="bad_attribution_model")
    latest = np.maximum.reduceat(j.time, j.starts)
    w = np.exp2((j.time - latest[j.journey]) / (half_life_days * DAY))
    total = np.add.reduceat(w, j.starts)
    w /= total[j.journey]
    return from_touch_share("time_decay", j, w, touches=touches, details={"half_life_days": half_life_days})


def role_points(j: Journeys, model: str) -> tuple[np.ndarray, list[tuple[str, np.ndarray, np.ndarray]], np.ndarray]:
    """The role model's shares per journey.

    Returns (share of each touch without a role, [(role, touch index or -1, role share)], and for every
    touch holding a role, the index to take the no-role share back from (so ``from_parts`` can give the
    no-role share to every touch and correct the role touches)).
    """
    weights, rest = ROLE_WEIGHTS[model]
    n = j.n_journeys
    missing = np.full(n, -1, dtype=np.int64)
    where = {"first": j.starts, "close": j.ends,
             "lead": j.lead if j.lead is not None else missing,
             "opportunity": j.opportunity if j.opportunity is not None else missing}
    roles = [(r, np.asarray(where[r], dtype=np.int64), w) for r, w in weights.items()]
    role_mass = sum(weights.values())
    present_mass = sum(w * (idx >= 0) for _, idx, w in roles)
    distinct = []  # per role: the touch index where it is the first role on that touch, else -1
    for i, (_, idx, _) in enumerate(roles):
        new = idx >= 0
        for _, earlier, _ in roles[:i]:
            new &= idx != earlier
        distinct.append(np.where(new, idx, -1))
    others = j.lengths - sum((d >= 0).astype(np.int64) for d in distinct)
    scale = np.where(others > 0, role_mass / present_mass, 1.0 / present_mass)  # rest → roles when no other
    uniform = np.where(others > 0, rest / np.maximum(others, 1), 0.0)
    return uniform, [(r, idx, w * scale * (idx >= 0)) for r, idx, w in roles], np.concatenate(distinct)


def _role_model(name: str):
    def run(j: Journeys, *, touches: bool = False) -> Attribution:
        uniform, points, holders = role_points(j, name)
        n = j.n_journeys
        # every touch gets the no-role share; a role touch gives it back once (on its first role)
        parts = [(idx, w - uniform * (holders[i * n:(i + 1) * n] >= 0)) for i, (_, idx, w) in enumerate(points)]
        return from_parts(name, j, uniform, parts, touches=touches)

    run.__name__ = name
    run.__doc__ = f"{name.replace('_', '-')} attribution (see the module docstring for weights and edge rules)."
    return run


u_shaped = _role_model("u_shaped")
w_shaped = _role_model("w_shaped")
full_path = _role_model("full_path")
