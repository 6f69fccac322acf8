"""Synthetic journeys for the attribution benchmark (seeded, reproducible).

12 channels with uneven reach; journey lengths 1–20 from a truncated geometric law (mean ≈ 5.7, so
10,000,000 journeys hold about 57M touches); gaps between touches exponential (mean 3 days); channel
effects on conversion so that the models have something to find, with exactly 20 % of journeys
converting (the top fifth by a noisy score); deal sizes log-normal; lead and opportunity milestones on
converting journeys (missing on a tenth of them).
"""

from __future__ import annotations

import numpy as np

CHANNELS = ("paid_search", "organic_search", "direct", "email", "webinar", "events", "social_paid", "social_organic",
            "display", "referral", "content_syndication", "sales_outreach")
REACH = np.array([14, 16, 12, 18, 6, 3, 8, 7, 6, 4, 3, 3], dtype=float)
EFFECT = np.array([0.3, 0.2, 0.0, 0.25, 0.8, 0.9, 0.1, 0.05, -0.2, 0.4, 0.15, 0.6])
DIRECT = CHANNELS.index("direct")


def lengths(n: int, rng: np.random.Generator, p: float = 0.163, longest: int = 20) -> np.ndarray:
    """Truncated geometric on 1..longest (inverse CDF, so no rejection loop)."""
    u = rng.random(n)
    top = 1 - (1 - p) ** longest
    return (np.floor(np.log1p(-u * top) / np.log1p(-p)) + 1).astype(np.int32)


def make(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    length = lengths(n, rng)
    total = int(length.sum())
    journey = np.repeat(np.arange(n, dtype=np.int32), length)
    key = rng.choice(len(CHANNELS), size=total, p=REACH / REACH.sum()).astype(np.int32)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(length[:-1], out=starts[1:])
    gaps = rng.exponential(3 * 86400.0, size=total)
    gaps[starts] = rng.uniform(0, 365 * 86400.0, size=n)  # each journey starts somewhere in the year
    time = np.cumsum(gaps)
    time -= np.repeat(time[starts] - gaps[starts], length)  # restart the running sum at every journey
    del gaps
    # score = sum of the effects of the journey's touches (diminishing) + noise; top 20 % convert
    score = np.add.reduceat(EFFECT[key], starts) / np.sqrt(length) + rng.normal(0, 0.5, n)
    converted = score >= np.quantile(score, 0.8)
    value = np.where(converted, np.round(rng.lognormal(np.log(20000), 0.8, n), 2), 0.0)
    pos_lead = (rng.random(n) * (length + 1) / 2).astype(np.int64)
    pos_opp = pos_lead + (rng.random(n) * (length - pos_lead)).astype(np.int64)
    known = converted & (rng.random(n) >= 0.1)
    lead = np.where(known, starts + np.minimum(pos_lead, length - 1), -1)
    opp = np.where(known, starts + np.minimum(pos_opp, length - 1), -1)
    return {"journey": journey, "key": key, "time": time, "direct": key == DIRECT, "conversions": converted * 1.0,
            "value": value, "lead": lead, "opportunity": opp, "lengths": length}
