"""Revenue attribution (PRODUCT.md R9): which channels, campaigns and content pieces earned the revenue.

Pure NumPy/SciPy, no I/O. ``Journeys`` holds the touch arrays (one row per touch, grouped by journey in
time order) and per-journey conversions, value, non-conversions and milestone touches; ``aggregate()``
gives the aggregated-paths form. ``attribute(journeys, model)`` runs a model from ``MODELS``:

    first_touch, last_touch, last_non_direct, linear, time_decay      (positional, ``positional.py``)
    u_shaped, w_shaped, full_path                                      (milestone roles, ``positional.py``)
    markov (order k, whole-total or per-journey split)                 (``markov.py``)
    shapley (exact, or sampled with an error bound)                    (``shapley.py``)

Each module's docstring states its model, assumptions, edge rules and a worked example;
``docs/attribution.md`` collects them. ``explain`` turns one journey's touch shares into rows a page shows.
"""

from revteam.domain.attribution.explain import TouchCredit, explain_journey
from revteam.domain.attribution.journeys import Journeys
from revteam.domain.attribution.markov import removal_effects
from revteam.domain.attribution.models import HEURISTICS, MODELS, Model, attribute
from revteam.domain.attribution.result import Attribution

__all__ = ["Attribution", "HEURISTICS", "Journeys", "MODELS", "Model", "TouchCredit", "attribute",
           "explain_journey", "removal_effects"]
