"""Routing benchmark: 10,000 leads through account-owner, territory and weighted round-robin rules over
12 reps with working hours in three time zones, daily capacities and absences.

Peer: the plain round robin many CRMs ship (itertools.cycle over the reps, no rules or eligibility),
the floor any router is compared against. Run: `python benchmarks/bench_routing.py [--leads N]`.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from revteam.domain.business_hours import BusinessCalendar
from revteam.domain.routing import Lead, Rep, RoutingRule, RoutingState, route_many

START = datetime(2026, 3, 2, 14, 0, tzinfo=timezone.utc)
ZONES = ("America/New_York", "Europe/London", "Asia/Singapore")


def setup(seed: int = 3):
    rng = random.Random(seed)
    reps = {}
    for i in range(1, 13):
        cal = BusinessCalendar(tz=ZONES[i % 3])
        absences = ((START + timedelta(days=1), START + timedelta(days=3)),) if i % 5 == 0 else ()
        reps[i] = Rep(i, f"rep{i}", weight=rng.choice([1, 1, 1.5, 2]), daily_capacity=rng.choice([None, 60, 80]),
                      calendar=cal, absences=absences)
    rules = [
        RoutingRule("account_owner", "account owner"),
        RoutingRule("territory", "EMEA", {"region": ("EMEA",)}, tuple(r for r in reps if r % 3 == 1)),
        RoutingRule("territory", "APAC", {"region": ("APAC",)}, tuple(r for r in reps if r % 3 == 2)),
        RoutingRule("round_robin", "everyone", pool=tuple(reps)),
    ]
    leads = []
    for n in range(1, 10**6):
        leads.append((Lead(n, region=rng.choice(["NA", "EMEA", "APAC"]), segment=rng.choice(["smb", "mid", "ent"]),
                           account_owner_id=rng.choice([None] * 4 + list(reps))),
                      START + timedelta(minutes=7 * n)))
        if len(leads) == 10_000:
            break
    return reps, rules, leads


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=10_000)
    args = ap.parse_args()
    reps, rules, leads = setup()
    leads = leads[: args.leads]
    t0 = time.perf_counter()
    out, _ = route_many(rules, reps, leads, RoutingState())
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    cycle = itertools.cycle(reps)
    naive = [next(cycle) for _ in leads]
    peer = time.perf_counter() - t0
    assigned = Counter(a.rep_id for a in out)
    print(f"routing {len(leads):,} leads over {len(reps)} reps, {len(rules)} rules")
    print("| implementation | seconds | ratio to ours |\n|---|---:|---:|")
    print(f"| revteam route_many (rules, hours, capacity, absence, reasons) | {ours:.3f} | 1.00 |")
    print(f"| itertools.cycle round robin (peer floor) | {peer:.4f} | {peer / ours:.3f} |")
    print(f"unassigned (nobody working or all at capacity): {assigned.pop(None, 0):,}; "
          f"per rep min/max: {min(assigned.values())}/{max(assigned.values())}; naive per rep: {Counter(naive).most_common(1)[0][1]}")


if __name__ == "__main__":
    main()
