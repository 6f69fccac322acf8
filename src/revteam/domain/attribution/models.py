"""The attribution models, as strategies in one table (ARCHITECTURE.md convention 7).

``attribute(journeys, "w_shaped")`` runs one model; ``MODELS`` lists them with a one-line definition each.
Every model credits conversions and value (``Attribution.conversions`` / ``.value``); pass
``touches=True`` to get each touch's share of its journey (what the per-deal explanation shows).
The full definitions, edge rules and worked examples are in each model's module docstring and in
``docs/attribution.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from revteam.domain.attribution import markov as _markov
from revteam.domain.attribution import positional as _pos
from revteam.domain.attribution import shapley as _shapley
from revteam.domain.attribution.journeys import Journeys
from revteam.domain.attribution.result import Attribution
from revteam.errors import InvalidInput


@dataclass(frozen=True)
class Model:
    name: str
    label: str
    kind: str  # heuristic | markov | shapley
    definition: str
    run: Callable[..., Attribution]
    params: tuple[str, ...] = ()


MODELS: dict[str, Model] = {m.name: m for m in (
    Model("first_touch", "First touch", "heuristic", "100% to the journey's first touch.", _pos.first_touch),
    Model("last_touch", "Last touch", "heuristic", "100% to the journey's last touch (the close touch).",
          _pos.last_touch),
    Model("last_non_direct", "Last non-direct", "heuristic",
          "100% to the last touch not through a direct channel (the last touch when all are direct).",
          _pos.last_non_direct),
    Model("linear", "Linear", "heuristic", "An equal share to every touch.", _pos.linear),
    Model("time_decay", "Time decay", "heuristic",
          "Weight 2^(-(t_conversion - t)/half-life) per touch, normalised (half-life 7 days).",
          _pos.time_decay, ("half_life_days",)),
    Model("u_shaped", "U-shaped", "heuristic",
          "40% first touch, 40% last touch, 20% shared by the touches between (1 touch 100%, 2 touches 50/50).",
          _pos.u_shaped),
    Model("w_shaped", "W-shaped", "heuristic",
          "30% each to first touch, lead creation and opportunity creation, 10% shared by the rest.", _pos.w_shaped),
    Model("full_path", "Full path", "heuristic",
          "22.5% each to first touch, lead creation, opportunity creation and close, 10% shared by the rest.",
          _pos.full_path),
    Model("markov", "Markov chain", "markov",
          "Exact removal effects of an order-k absorbing chain; whole-total or per-journey split.",
          _markov.markov, ("order", "split")),
    Model("shapley", "Shapley value", "shapley",
          "Shapley values of the conversion rate of journeys with exactly a coalition's keys; can be negative.",
          _shapley.shapley, ("rng", "samples", "exact_max_players", "confidence")),
)}
HEURISTICS = tuple(name for name, m in MODELS.items() if m.kind == "heuristic")


def attribute(journeys: Journeys, model: str, *, touches: bool = False, **params: Any) -> Attribution:
    """Run one model by name; unknown models and parameters are refused with the list of valid ones."""
    m = MODELS.get(model)
    if m is None:
        raise InvalidInput(f"Unknown attribution model {model!r}; use one of {', '.join(MODELS)}.",
                           code="bad_attribution_model")
    extra = set(params) - set(m.params)
    if extra:
        allowed = ", ".join(m.params) or "none"
        raise InvalidInput(f"Model {model!r} takes no parameter {', '.join(sorted(extra))}; it takes: {allowed}.",
                           code="bad_attribution_model")
    if m.kind != "heuristic":
        return m.run(journeys, touches=touches, **params)
    # heuristic credit is proportional to conversions and value: run on the converting journeys only
    sub, touch = journeys.converting()
    a = m.run(sub, touches=touches, **params)
    if touches and touch is not None:
        share = np.zeros(journeys.n_touches)
        share[touch] = a.touch_share
        a = Attribution(a.model, a.keys, a.conversions, a.value, share, a.details)
    return a
