"""A quick, one-contact reading of the scoring model while the journeys are drafted.

The stored scores come from the app's scorer (``scores.py``); this estimate only steers the story so
that it agrees with them: a lead the generator makes an MQL on a webinar, download or form should be
over the line at that moment (otherwise the trigger becomes a pricing request, a fast track), and a
lead still below MQL today should not be over it (otherwise its newest marketing touches are
thinned). It reads the same rules (``ScoringModel``: fit rules, engagement rules with decay and caps,
fast-track rules) over the draft's touches; it may differ from ``score_batch`` by rounding, which the
measured shares in docs/demo.md show.
"""

from __future__ import annotations

import re
from typing import Any

from revteam.domain.identity import email_domain, seniority_from_title
from revteam.domain.scoring import ScoringModel, TouchRule


class QuickScore:
    def __init__(self, model: ScoringModel, campaign_ext: dict[int, str], content_category: dict[int, str]) -> None:
        self.model = model
        self.campaign_ext = campaign_ext
        self.content_category = content_category
        self._urls = {r.label: re.compile(r.url_pattern, re.IGNORECASE) for r in (*model.engagement, *model.fast_track)
                      if r.url_pattern}
        self._fit: dict[int, float] = {}
        self._cache: dict[tuple, tuple[tuple[int, ...], bool]] = {}

    def fit(self, c: Any) -> float:
        if c.id not in self._fit:
            a = c.account
            fields = {"title": c.title, "seniority": seniority_from_title(c.title), "email_domain": email_domain(c.email),
                      "persona": c.persona, "consent": c.consent, "source": c.source, "industry": a.industry,
                      "employees": a.employees, "region": a.region, "segment": a.segment}
            self._fit[c.id] = sum(r.points for r in self.model.fit if r.test(fields.get(r.field)))
        return self._fit[c.id]

    def _rules(self, t: tuple) -> tuple[tuple[int, ...], bool]:
        """Indexes of the engagement rules a touch matches, and whether a fast-track rule does (cached
        per distinct type, channel, campaign, content and URL)."""
        key = t[1:6]
        hit = self._cache.get(key)
        if hit is None:
            hit = (tuple(j for j, r in enumerate(self.model.engagement) if self._matches(r, t)),
                   any(self._matches(r, t) for r in self.model.fast_track))
            self._cache[key] = hit
        return hit

    def _matches(self, rule: TouchRule, t: tuple) -> bool:
        if rule.type and t[1] not in rule.type:
            return False
        if rule.channel and t[2] not in rule.channel:
            return False
        if rule.campaign and self.campaign_ext.get(t[3]) not in rule.campaign:
            return False
        if rule.content_category and self.content_category.get(t[4]) not in rule.content_category:
            return False
        return not rule.url_pattern or bool(t[5] and self._urls[rule.label].search(t[5]))

    def engagement(self, touches: list[tuple], at: float) -> tuple[float, bool]:
        """(engagement points, fast-tracked) at day ``at`` from the touches up to it (a year back)."""
        m = self.model
        rules = m.engagement
        pts = [0.0] * len(rules)
        fast = False
        half = m.half_life_days
        for t in touches:
            age = at - t[0]
            if age < 0 or age > 365:
                continue
            hits, ft = self._rules(t)
            if ft and age <= m.fast_track_days:
                fast = True
            for j in hits:
                r = rules[j]
                pts[j] += r.points * (0.5 ** (age / half) if r.decay else 1.0)
        total = 0.0
        for r, p in zip(rules, pts):
            total += max(-r.cap, min(r.cap, p)) if r.cap is not None else p
        return total, fast

    def qualifies(self, c: Any, at: float, window: float = 365.0) -> bool:
        """Over the line (or fast-tracked) at ``at``, counting touches of the last ``window`` days."""
        touches = c.touches if window >= 365 else [t for t in c.touches if at - window <= t[0] <= at]
        eng, fast = self.engagement(touches, at)
        return fast or self.fit(c) + eng >= self.model.mql_threshold
