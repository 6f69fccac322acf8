"""Lead routing: which rep gets which lead, and why (PRODUCT.md R5).

Model
    An ordered list of rules. Each rule names a *strategy* (picked from ``STRATEGIES``), the leads it
    applies to (``match`` on region, segment, priority, source) and, where it needs one, a *pool* of reps.
    The first rule that matches the lead and finds an eligible rep assigns it; the assignment records
    the rule and a sentence saying why, plus every rep skipped and why. No rule → the lead stays in the
    unassigned queue, with the reason.

    Eligible means: active, not absent at that moment, inside the rep's working hours (their own
    business calendar), and under their daily capacity (leads assigned on the rep's local date).

Strategies
    ``account_owner``   the owner of the lead's account, when eligible (keeps one face to the account).
    ``territory``       the pool serving the lead's region/segment: weighted round robin inside it.
    ``round_robin``     weighted round robin over the pool.
    ``least_loaded``    the eligible rep with the fewest leads today relative to weight (ties: lowest id).

Weighted round robin is *smooth* (as in nginx): every pick adds each eligible rep's weight to its
credit, gives the lead to the highest credit (ties: lowest rep id) and takes the sum of eligible
weights from the winner. Over any run of N picks among the same reps each gets its weight share of N
within one lead, with no bursts; the credits are the only state and are persisted per pool.

Deterministic: the same rules, reps, state, lead and time always give the same assignment.

Worked example
    Pool [Ana (weight 2), Ben (1)], credits start at 0. Lead 1: credits 2,1 → Ana; Ana 2-3=-1.
    Lead 2: 1,2 → Ben; Ben 2-3=-1. Lead 3: 3,0 → Ana; 0,0. The cycle Ana, Ben, Ana repeats: 2:1.
    If Ana is on holiday, Ben gets every lead and the record says "skipped Ana: absent".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from revteam.domain.business_hours import BusinessCalendar
from revteam.errors import InvalidInput

MATCH_KEYS = ("region", "segment", "priority", "source")


@dataclass(frozen=True)
class Rep:
    id: int
    name: str
    role: str = "sdr"  # sdr | ae
    weight: float = 1.0
    daily_capacity: int | None = None
    calendar: BusinessCalendar | None = None  # None: always working
    absences: tuple[tuple[datetime, datetime], ...] = ()
    active: bool = True


@dataclass(frozen=True)
class Lead:
    contact_id: int
    region: str | None = None
    segment: str | None = None
    priority: str | None = None
    source: str | None = None
    account_owner_id: int | None = None


@dataclass(frozen=True)
class RoutingRule:
    strategy: str
    label: str = ""
    match: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    pool: tuple[int, ...] = ()

    def applies_to(self, lead: Lead) -> bool:
        for key, allowed in self.match.items():
            value = getattr(lead, key)
            if value is None or value.lower() not in {a.lower() for a in allowed}:
                return False
        return True


@dataclass
class RoutingState:
    """What routing remembers between leads: round-robin credits per pool, leads per rep per day."""

    credits: dict[str, dict[int, float]] = field(default_factory=dict)
    assigned: dict[tuple[int, date], int] = field(default_factory=dict)

    def copy(self) -> RoutingState:
        return RoutingState({k: dict(v) for k, v in self.credits.items()}, dict(self.assigned))


@dataclass(frozen=True)
class Assignment:
    contact_id: int
    rep_id: int | None
    rule: str | None
    reason: str
    skipped: tuple[str, ...] = ()


# --- eligibility ---------------------------------------------------------------------------------
def _local_day(rep: Rep, at: datetime) -> date:
    return at.astimezone(rep.calendar.zone).date() if rep.calendar else at.date()


def why_ineligible(rep: Rep, at: datetime, state: RoutingState) -> str | None:
    if not rep.active:
        return "inactive"
    if any(lo <= at < hi for lo, hi in rep.absences):
        return "absent"
    if rep.calendar is not None and not rep.calendar.is_open(at):
        return "outside working hours"
    if rep.daily_capacity is not None and state.assigned.get((rep.id, _local_day(rep, at)), 0) >= rep.daily_capacity:
        return f"at daily capacity ({rep.daily_capacity})"
    return None


def _eligible(pool: Iterable[Rep], at: datetime, state: RoutingState, skipped: list[str]) -> list[Rep]:
    out = []
    for rep in pool:
        why = why_ineligible(rep, at, state)
        if why:
            skipped.append(f"{rep.name}: {why}")
        else:
            out.append(rep)
    return out


# --- strategies ----------------------------------------------------------------------------------
Strategy = Callable[[RoutingRule, Lead, dict[int, Rep], RoutingState, datetime, list[str]], "tuple[Rep, str] | None"]


def _account_owner(rule, lead, reps, state, at, skipped):  # type: ignore[no-untyped-def]
    owner = reps.get(lead.account_owner_id) if lead.account_owner_id is not None else None
    if owner is None:
        return None
    if not _eligible([owner], at, state, skipped):
        return None
    return owner, f"owns the account ({owner.name})"


def _pool(rule: RoutingRule, reps: dict[int, Rep]) -> list[Rep]:
    return [reps[i] for i in rule.pool if i in reps]


def _pool_key(rule: RoutingRule) -> str:
    return rule.label or ",".join(map(str, rule.pool))


def _round_robin(rule, lead, reps, state, at, skipped):  # type: ignore[no-untyped-def]
    eligible = _eligible(_pool(rule, reps), at, state, skipped)
    if not eligible:
        return None
    credits = state.credits.setdefault(_pool_key(rule), {})
    total = sum(r.weight for r in eligible)
    for r in eligible:
        credits[r.id] = credits.get(r.id, 0.0) + r.weight
    winner = max(eligible, key=lambda r: (credits[r.id], -r.id))
    credits[winner.id] -= total
    return winner, f"weighted round robin in {rule.label or 'the pool'} (weight {winner.weight:g} of {total:g})"


def _least_loaded(rule, lead, reps, state, at, skipped):  # type: ignore[no-untyped-def]
    eligible = _eligible(_pool(rule, reps), at, state, skipped)
    if not eligible:
        return None
    winner = min(eligible, key=lambda r: (state.assigned.get((r.id, _local_day(r, at)), 0) / r.weight, r.id))
    return winner, f"fewest leads today in {rule.label or 'the pool'}"


STRATEGIES: dict[str, Strategy] = {
    "account_owner": _account_owner,
    "territory": _round_robin,
    "round_robin": _round_robin,
    "least_loaded": _least_loaded,
}


def check_rules(rules: Iterable[RoutingRule], reps: Mapping[int, Rep]) -> None:
    for i, rule in enumerate(rules, start=1):
        if rule.strategy not in STRATEGIES:
            raise InvalidInput(f"Routing rule {i}: unknown strategy {rule.strategy!r}; use one of "
                               f"{', '.join(STRATEGIES)}.", code="bad_routing_rule")
        if rule.strategy != "account_owner" and not rule.pool:
            raise InvalidInput(f"Routing rule {i} ({rule.strategy}) needs a pool of reps.", code="bad_routing_rule")
        unknown = [r for r in rule.pool if r not in reps]
        if unknown:
            raise InvalidInput(f"Routing rule {i}: unknown rep id(s) {unknown}.", code="bad_routing_rule")
        bad_keys = set(rule.match) - set(MATCH_KEYS)
        if bad_keys:
            raise InvalidInput(f"Routing rule {i}: cannot match on {', '.join(sorted(bad_keys))}; use "
                               f"{', '.join(MATCH_KEYS)}.", code="bad_routing_rule")
    for rep in reps.values():
        if rep.weight <= 0:
            raise InvalidInput(f"Rep {rep.name}: weight must be positive.", code="bad_routing_rule")


def route_lead(
    rules: list[RoutingRule], reps: Mapping[int, Rep], lead: Lead, state: RoutingState, *, at: datetime
) -> tuple[Assignment, RoutingState]:
    """Assign one lead; returns the assignment and the new state (the given state is not changed)."""
    state = state.copy()
    return _route(rules, dict(reps), lead, state, at), state


def _route(rules: list[RoutingRule], reps: dict[int, Rep], lead: Lead, state: RoutingState, at: datetime) -> Assignment:
    """Assign one lead, updating ``state`` in place."""
    skipped: list[str] = []
    for i, rule in enumerate(rules, start=1):
        if not rule.applies_to(lead):
            continue
        picked = STRATEGIES[rule.strategy](rule, lead, reps, state, at, skipped)
        if picked is None:
            continue
        rep, why = picked
        key = (rep.id, _local_day(rep, at))
        state.assigned[key] = state.assigned.get(key, 0) + 1
        label = rule.label or f"rule {i} ({rule.strategy})"
        return Assignment(lead.contact_id, rep.id, label, f"{rep.name}: {why}, by {label}", tuple(skipped))
    why = "no routing rule matched the lead" if not skipped else "every matching rep was unavailable"
    return Assignment(lead.contact_id, None, None, f"unassigned: {why}", tuple(skipped))


def route_many(
    rules: list[RoutingRule], reps: Mapping[int, Rep], leads: Iterable[tuple[Lead, datetime]], state: RoutingState
) -> tuple[list[Assignment], RoutingState]:
    state = state.copy()
    table = dict(reps)
    return [_route(rules, table, lead, state, at) for lead, at in leads], state


def rules_from_dicts(items: Iterable[Mapping[str, Any]]) -> list[RoutingRule]:
    rules = []
    for d in items:
        match = {k: tuple([v] if isinstance(v, str) else v) for k, v in dict(d.get("match", {})).items()}
        rules.append(RoutingRule(str(d["strategy"]), str(d.get("label", "")), match, tuple(int(x) for x in d.get("pool", ()))))
    return rules


def with_weight(rep: Rep, weight: float) -> Rep:
    return replace(rep, weight=weight)
