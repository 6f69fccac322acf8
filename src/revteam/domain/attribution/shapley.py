"""Shapley-value attribution: each converting journey's credit split by its keys' Shapley values.

Model
    Players are keys (channels, campaigns or content pieces). The characteristic function is the
    *conversion rate of the journeys whose key set is exactly the coalition*:

        r(S) = conversions(S) / journeys(S)   over the journeys whose set of distinct keys equals S,
        r(S) = 0 when no journey has exactly the keys S (no evidence that S converts), r(∅) = 0.

    For a converting journey with key set T, the game is r restricted to the subsets of T and the Shapley
    value of key c in T is

        φ_c(T) = Σ_{S ⊆ T∖{c}} |S|! (|T|−|S|−1)! / |T|! · (r(S ∪ {c}) − r(S)),

    exact over every coalition S ⊆ T. Efficiency gives Σ_{c∈T} φ_c(T) = r(T) > 0, so the journey's
    conversions and value are split in the shares φ_c(T) / r(T); a key's share is divided equally among its
    touches in the journey. Credit sums to the credited total exactly.

Why credit can be negative
    φ_c(T) < 0 when adding c to the coalitions it joins lowers their conversion rate more than it raises
    it: journeys that also carry c convert worse than the same journeys without it (retargeting shown to
    visitors who were leaving anyway; a generic newsletter that everybody gets). The key then gets
    negative credit from that journey and the other keys of T more than 100 % between them; the journey
    still sums to its value. The heuristic and Markov models never give negative credit.

Invariance
    Credit depends only on which journeys hold which keys and what they converted: renaming keys or
    reordering them (or the touches inside a journey) changes no key's credit (Shapley symmetry; the
    computation never reads names or positions, only sets).

Computation
    *Exact* (players ≤ ``exact_max_players``, default 16): with bitmask sets, r is a table of 2^n cells.
    The Harsanyi dividends d = Möbius(r) give φ_c(T) = Σ_{U ⊆ T, c ∈ U} d(U)/|U|, so the credit of c is
    Σ_{U ∋ c} d(U)/|U| · A(U) with A(U) = Σ_{T ⊇ U} credited(T)/r(T): three O(n·2^n) transforms in all.
    Players are the keys of converting journeys only (other keys are in no subset of a converting set).

    *Sampled* (more players): for every converting key set T, ``samples`` random orders of T (drawn from the
    ``rng`` passed in); φ̂_c(T) is the mean marginal r(prefix ∪ c) − r(prefix). Every order's marginals
    telescope to r(T), so the credit still sums to the total exactly. Each marginal lies in [−1, 1], so by
    Hoeffding, with probability at least 1 − δ (δ = ``confidence`` complement, default 0.05) for every key
    at once, |credit_c − exact_c| ≤ sqrt(2 · ln(2n/δ) · Σ_{T∋c} w(T)² / samples), w(T) = credited(T)/r(T).
    That bound and the normal-approximation standard error are in ``details``.

Worked example (three journeys: {a} converts, {a, b} converts, {a, b} does not)
    r({a}) = 1, r({b}) = 0, r({a,b}) = 1/2. For T = {a,b}: φ_a = ½(r(a) − 0) + ½(r(ab) − r(b)) = ½ + ¼ = ¾,
    φ_b = ½(r(b) − 0) + ½(r(ab) − r(a)) = 0 − ¼ = −¼; shares ¾/½ = 1.5 and −¼/½ = −0.5. Conversions
    credited: a = 1 + 1.5 = 2.5, b = −0.5 (sum 2). b lowered the rate of every coalition it joined.
"""

from __future__ import annotations

import numpy as np

from revteam.domain.attribution.journeys import Journeys
from revteam.domain.attribution.result import Attribution
from revteam.errors import InvalidInput

EXACT_MAX_PLAYERS = 16
_ZOBRIST_SEED = 0x5EED_A77B  # fixed: the hash keys of sets are part of the algorithm, not randomness


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, code="bad_attribution_model")


def _popcount(x: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape, dtype=np.int64)
    x = x.copy()
    while x.any():
        out += x & 1
        x >>= 1
    return out


def _players(j: Journeys) -> tuple[np.ndarray, np.ndarray | None]:
    """Keys that occur in converting journeys, and which journeys hold only such keys (None: all do)."""
    sub, _ = j.converting()
    relevant = np.bincount(sub.key, minlength=j.n_keys) > 0
    if relevant.all():
        return np.arange(j.n_keys), None
    inside = np.logical_and.reduceat(relevant[j.key], j.starts) if j.n_touches else np.zeros(0, dtype=bool)
    return np.flatnonzero(relevant), inside


def _exact(j: Journeys, players: np.ndarray, inside: np.ndarray | None, touches: bool):
    n = len(players)
    size = 1 << n
    index = np.full(j.n_keys, -1, dtype=np.int64)
    index[players] = np.arange(n)
    if inside is None:  # every key is a player: the journeys' own bitmasks
        masks = j.masks().astype(np.int64)
        inside = np.ones(j.n_journeys, dtype=bool)
    else:
        bits = np.left_shift(np.int64(1), np.maximum(index[j.key], 0))
        masks = np.bitwise_or.reduceat(bits, j.starts)
        del bits
        masks = np.where(inside, masks, 0)  # journeys with other keys: cell 0, never read
    weight = np.where(inside, j.conversions + j.nulls, 0.0)
    journeys = np.bincount(masks, weight, minlength=size)
    conv = np.bincount(masks, np.where(inside, j.conversions, 0.0), minlength=size)
    val = np.bincount(masks, np.where(inside, j.value, 0.0), minlength=size)
    rate = np.divide(conv, journeys, out=np.zeros(size), where=journeys > 0)
    rate[0] = 0.0
    d = rate.copy()
    for i in range(n):  # Möbius transform: Harsanyi dividends
        v = d.reshape(-1, 2, 1 << i)
        v[:, 1, :] -= v[:, 0, :]
    has = conv > 0
    w_conv = np.where(has, journeys, 0.0)  # conversions(T) / r(T) = journeys(T)
    w_val = np.where(has, val / np.where(has, rate, 1.0), 0.0)
    for arr in (w_conv, w_val):  # superset sums
        for i in range(n):
            v = arr.reshape(-1, 2, 1 << i)
            v[:, 0, :] += v[:, 1, :]
    pop = _popcount(np.arange(size, dtype=np.int64))
    pop[0] = 1
    g = d / pop
    credit_c = np.zeros(j.n_keys)
    credit_v = np.zeros(j.n_keys)
    for i, k in enumerate(players):
        sel = g.reshape(-1, 2, 1 << i)[:, 1, :]
        credit_c[k] = (sel * w_conv.reshape(-1, 2, 1 << i)[:, 1, :]).sum()
        credit_v[k] = (sel * w_val.reshape(-1, 2, 1 << i)[:, 1, :]).sum()
    share = None
    if touches:
        phi = {}
        for t in np.unique(masks[j.converted & inside]):
            members = np.flatnonzero((int(t) >> np.arange(n)) & 1)
            subsets = (np.arange(1 << len(members))[:, None] >> np.arange(len(members))) & 1
            cells = (subsets << members).sum(axis=1)
            contrib = d[cells] / np.maximum(subsets.sum(axis=1), 1)
            phi[int(t)] = dict(zip(members.tolist(), (subsets * contrib[:, None]).sum(axis=0) / rate[t]))
        share = _touch_share(j, lambda jj, k: phi[int(masks[jj])][int(index[k])])
    zero = np.zeros(j.n_keys)
    return credit_c, credit_v, share, {"method": "exact", "players": n, "error_bound": zero,
                                       "error_bound_conversions": zero}


def _touch_share(j: Journeys, share_of) -> np.ndarray:
    """Per touch: its key's share in its journey divided by that key's touches there (converting only)."""
    _, _, count = j.distinct_pairs()
    out = np.zeros(j.n_touches)
    for i in np.flatnonzero(j.converted[j.journey]):
        out[i] = share_of(int(j.journey[i]), int(j.key[i])) / count[i]
    return out


def _sampled(j: Journeys, players: np.ndarray, inside: np.ndarray, touches: bool, rng: np.random.Generator,
             samples: int, confidence: float):
    if rng is None:
        raise _bad(f"Shapley over {len(players)} keys is sampled: pass rng (a numpy Generator) and samples.")
    pj, pk, _ = j.distinct_pairs()
    if inside is None:
        inside = np.ones(j.n_journeys, dtype=bool)
    keep = inside[pj]
    pj, pk = pj[keep], pk[keep]
    if j.n_keys <= 63:
        z = np.left_shift(np.uint64(1), np.arange(j.n_keys, dtype=np.uint64))
    else:  # Zobrist hashing of sets: 64-bit, collision chance ~ sets² / 2^64
        z = np.random.default_rng(_ZOBRIST_SEED).integers(1, 2**63, size=j.n_keys, dtype=np.int64).astype(np.uint64)
    hashes = np.zeros(j.n_journeys, dtype=np.uint64)
    np.bitwise_xor.at(hashes, pj, z[pk])
    rows = np.flatnonzero(inside)
    uniq, first, inv = np.unique(hashes[rows], return_index=True, return_inverse=True)
    journeys = np.bincount(inv, (j.conversions + j.nulls)[rows])
    conv = np.bincount(inv, j.conversions[rows])
    val = np.bincount(inv, j.value[rows])
    rate = conv / journeys

    def r_of(h: np.ndarray) -> np.ndarray:
        pos = np.minimum(np.searchsorted(uniq, h), len(uniq) - 1)
        return np.where(uniq[pos] == h, rate[pos], 0.0)

    start_of = np.searchsorted(pj, np.arange(j.n_journeys))
    count_of = np.bincount(pj, minlength=j.n_journeys)
    conv_sets = np.flatnonzero(conv > 0)
    phi: dict[int, dict[int, float]] = {}
    credit_c = np.zeros(j.n_keys)
    credit_v = np.zeros(j.n_keys)
    sumsq = np.zeros((2, j.n_keys))
    var_term = np.zeros((2, j.n_keys))
    size_of = count_of[rows[first[conv_sets]]]
    for t in np.unique(size_of):
        group = conv_sets[size_of == t]
        reps = rows[first[group]]
        members = pk[start_of[reps][:, None] + np.arange(t)]  # G × t keys
        w_c = journeys[group]  # conversions(T)/r(T)
        w_v = val[group] / rate[group]
        if t == 1:
            est = rate[group][:, None]
            var = np.zeros_like(est)
        else:
            chunk = max(1, 4_000_000 // (samples * t))
            est = np.zeros((len(group), t))
            var = np.zeros((len(group), t))
            for a in range(0, len(group), chunk):
                m = members[a:a + chunk]
                order = rng.permuted(np.broadcast_to(np.arange(t), (len(m), samples, t)).copy(), axis=2)
                keys = np.take_along_axis(np.broadcast_to(m[:, None, :], order.shape), order, axis=2)
                prefix = np.bitwise_xor.accumulate(z[keys], axis=2)
                rates = r_of(prefix)
                marg = np.diff(rates, axis=2, prepend=0.0)
                back = np.argsort(order, axis=2)  # marginal of member position p
                marg = np.take_along_axis(marg, back, axis=2)
                est[a:a + chunk] = marg.mean(axis=1)
                var[a:a + chunk] = marg.var(axis=1, ddof=1) if samples > 1 else 0.0
        for col in range(t):
            k = members[:, col]
            credit_c += np.bincount(k, w_c * est[:, col], minlength=j.n_keys)
            credit_v += np.bincount(k, w_v * est[:, col], minlength=j.n_keys)
            for i, w in enumerate((w_c, w_v)):
                sumsq[i] += np.bincount(k, w**2, minlength=j.n_keys)
                var_term[i] += np.bincount(k, w**2 * var[:, col], minlength=j.n_keys)
        if touches:
            for g, row in enumerate(group):
                phi[int(row)] = dict(zip(members[g].tolist(), (est[g] / rate[row]).tolist()))
    delta = 1.0 - confidence
    details = {"method": "sampled", "players": len(players), "samples": samples, "confidence": confidence,
               "error_bound_conversions": np.sqrt(2 * np.log(2 * max(len(players), 1) / delta) * sumsq[0] / samples),
               "error_bound": np.sqrt(2 * np.log(2 * max(len(players), 1) / delta) * sumsq[1] / samples),
               "stderr_conversions": np.sqrt(var_term[0] / samples), "stderr": np.sqrt(var_term[1] / samples)}
    share = None
    if touches:
        set_of = np.full(j.n_journeys, -1)
        set_of[rows] = inv
        share = _touch_share(j, lambda jj, k: phi[int(set_of[jj])][k])
    return credit_c, credit_v, share, details


def shapley(j: Journeys, *, touches: bool = False, rng: np.random.Generator | None = None, samples: int = 1000,
            exact_max_players: int = EXACT_MAX_PLAYERS, confidence: float = 0.95) -> Attribution:
    """Shapley attribution; see the module docstring for the characteristic function and the bounds."""
    if not 0 < confidence < 1 or samples < 1:
        raise _bad("confidence is in (0, 1) and samples at least 1.")
    players, inside = _players(j)
    if len(players) <= min(exact_max_players, 24):
        credit_c, credit_v, share, details = _exact(j, players, inside, touches)
    else:
        credit_c, credit_v, share, details = _sampled(j, players, inside, touches, rng, samples, confidence)
    return Attribution("shapley", j.keys, credit_c, credit_v, share, details)
