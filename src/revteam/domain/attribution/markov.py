"""Markov-chain attribution with exact removal effects (first order and order k).

Model
    Journeys are walks of an absorbing Markov chain. Its transient states are ``(start)`` and the *states*
    of order k: the last k keys seen (a sliding window over the journey's keys; a journey shorter than k
    is one state, its whole path). Its absorbing states are ``(conversion)`` and ``(null)``. A journey
    with keys c1..cL contributes the transitions start → s1 → … → sm and then sm → conversion (weighted by
    its conversions) and sm → null (weighted by its non-conversions); every other transition is weighted
    by conversions + non-conversions. Transition probabilities are the row-normalised counts.
    Self-transitions are kept; they never change an absorption probability (the walk only stays longer).

    The conversion probability is p = x[start] where (I − Q) x = b, Q the transient-to-transient block and
    b[s] = P(s → conversion): one sparse linear solve, no simulation. *Removing* key c sends every
    transition into a state that contains c to ``(null)``; p₋c is the same solve on the states without c.
    The *removal effect* of c is ``RE_c = 1 − p₋c / p``. A walk that avoids c is untouched by the
    removal, so RE_c is exactly P(the walk visits c | it converts): it lies in [0, 1], and Σ_c RE_c is the
    expected number of distinct keys on a converting walk (≥ 1). ChannelAttribution estimates the same
    quantity by simulating walks; here it is solved.

    For value, each conversion reached from state s is worth v̄_s, the mean value per conversion of the
    journeys whose last state is s (ChannelAttribution's rule). E = y[start] where (I − Q) y = b_v,
    b_v[s] = value converted from s / transitions out of s; the value removal effect is 1 − E₋c / E.

Allocation rules (``split``)
    ``"total"`` (the whole-total split, ChannelAttribution's): key c gets
        conversions × RE_c / Σ RE   and   value × REv_c / Σ REv.
    ``"journey"`` (the per-journey split): each converting journey's conversions and value are split among
        its distinct keys in proportion to their (conversion) removal effects, RE_c / Σ_{c' in journey} RE_c';
        a key's share is divided equally among its touches in that journey. Every key of a converting
        journey has RE > 0 (the journey itself is a walk that visits it), so the split is always defined.
    Both sum to the credited totals; neither gives negative credit.

Assumptions
    The next state depends only on the last k keys; journeys are independent. Higher orders need more
    data: a state seen once estimates its transitions from one journey.

Edge rules
    No conversion at all: every removal effect is 0 and no credit is given. A key never seen in a
    journey gets RE 0. Order k must keep (keys+1)^k below 2^62 (the state codes are 64-bit integers).

Worked example (first order, three journeys: "a > b" converts, "b" converts, "a" does not)
    Counts: start→a 2, start→b 1, a→b 1, a→null 1, b→conv 2. P(start→a)=2/3, P(a→b)=1/2, P(b→conv)=1.
    p = 2/3·1/2 + 1/3 = 2/3. Remove a: p₋a = 1/3, RE_a = 1/2. Remove b: p₋b = 0, RE_b = 1.
    Whole-total split of 2 conversions: a 2·(1/2)/(3/2) = 2/3, b 4/3.
    Per-journey split: "a > b" gives a 1/3, b 2/3; "b" gives b 1: a 1/3, b 5/3.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from revteam.domain.attribution.journeys import Journeys
from revteam.domain.attribution.result import Attribution, from_touch_share
from revteam.errors import InvalidInput

SPLITS = ("total", "journey")


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, code="bad_attribution_model")


def state_codes(j: Journeys, order: int) -> tuple[np.ndarray, np.ndarray]:
    """The chain's states along every journey, in order: (code of each state, number of states per journey).

    A state is the window of the last ``order`` keys ending at a touch (the whole path when the journey is
    shorter). Its code holds the window's keys as digits base (keys + 1), digit = key + 1, digit d being
    the key d touches back, so windows of different lengths never collide. Shifted copies of the key
    array, no gathers: a few passes over the touches whatever the order.
    """
    base = j.n_keys + 1
    if order < 1:
        raise _bad("The Markov order is at least 1.")
    if order * np.log2(base) >= 62:
        raise _bad(f"Order {order} with {j.n_keys} keys overflows 64-bit state codes; use a lower order.")
    dtype = np.int32 if order * np.log2(base) < 31 else np.int64
    code = j.key.astype(dtype)
    code += 1
    if order == 1:
        return code, j.lengths
    lengths, starts = j.lengths, j.starts
    head = [starts + d for d in range(order - 1)]  # touches with fewer than d+1 keys before them
    shifted = np.empty_like(code)
    for d in range(1, order):
        shifted[:d] = 0
        shifted[d:] = code[:-d] % base if d > 1 else code[:-d]
        for e in range(d):  # the first d touches of a journey have no key d places back in it
            at = head[e][lengths > e]
            shifted[at] = 0
        shifted *= base**d
        code += shifted
    del shifted
    valid = np.ones(j.n_touches, dtype=bool)
    long = lengths >= order
    for e in range(order - 1):  # a full window ends at position order-1 or later
        valid[head[e][long]] = False
    for e in range(order - 1):  # a short journey is one state, ending at its last touch
        short = (lengths < order) & (lengths > e + 1)
        valid[head[e][short]] = False
    return code[valid], lengths - np.minimum(lengths, order) + 1


def _decode(codes: np.ndarray, base: int, n_keys: int) -> np.ndarray:
    """Which keys each state contains (states × keys, bool)."""
    out = np.zeros((len(codes), n_keys), dtype=bool)
    rest = codes.copy()
    while (rest > 0).any():
        digit = rest % base
        has = digit > 0
        out[np.flatnonzero(has), digit[has] - 1] = True
        rest //= base
    return out


def _state_ids(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids 1..S for codes, and the distinct codes (a lookup table when the code space is small)."""
    top = int(codes.max()) + 1 if len(codes) else 1
    if top <= 1 << 22:
        seen = np.bincount(codes, minlength=top) > 0
        lookup = (np.cumsum(seen) - 1 + 1).astype(np.int32)
        return lookup[codes], np.flatnonzero(seen)
    uniq, inv = np.unique(codes, return_inverse=True)
    return (inv + 1).astype(np.int32), uniq


def chain(j: Journeys, order: int = 1) -> dict:
    """Transition counts of the absorbing chain: transient 0 = start, 1..S = states, S+1 conv, S+2 null."""
    codes, per_journey = state_codes(j, order)
    top = (j.n_keys + 1) ** order
    if top <= 4096:  # the codes are the states (a code never seen is an unreachable state)
        state, distinct = codes, np.arange(1, top, dtype=np.int64)
    else:
        state, distinct = _state_ids(codes)
    del codes
    size = len(distinct) + 3
    conv_state, null_state = size - 2, size - 1
    first = np.zeros(j.n_journeys, dtype=np.int64)
    np.cumsum(per_journey[:-1], out=first[1:])
    ends = state[first + per_journey - 1]
    src = np.empty_like(state)
    src[1:] = state[:-1]
    src[first] = 0
    weight = j.conversions + j.nulls
    unit = bool((weight == 1).all())  # one journey a row: every move counts 1, no weights to gather
    if size * size <= 1 << 24:
        src *= size
        src += state
        del state
        if unit:
            moves = np.bincount(src, minlength=size * size).astype(np.float64)
        else:
            moves = np.bincount(src, np.repeat(weight, per_journey), minlength=size * size)
        del src
        counts = moves.reshape(size, size)
        counts[:, conv_state] += np.bincount(ends, j.conversions, minlength=size)
        counts[:, null_state] += np.bincount(ends, j.nulls, minlength=size)
        counts = sp.csr_matrix(counts)
    else:
        w = np.ones(len(src)) if unit else np.repeat(weight, per_journey)
        frm = np.concatenate([src, ends, ends]).astype(np.int64)
        to = np.concatenate([state, np.full(len(ends), conv_state), np.full(len(ends), null_state)]).astype(np.int64)
        counts = sp.csr_matrix((np.concatenate([w, j.conversions, j.nulls]), (frm, to)), shape=(size, size))
    value_in = np.bincount(ends, j.value, minlength=size)
    return {"counts": counts, "codes": distinct, "size": size, "value_in": value_in, "order": order}


def _solve(q: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    """x with (I - Q) x = rhs, by sparse LU (also for small chains: faster here than a dense BLAS solve)."""
    a = sp.identity(q.shape[0], format="csc") - q.tocsc()
    return spla.splu(a).solve(rhs)


def removal_effects(j: Journeys, order: int = 1) -> dict:
    """Exact conversion probability, value and removal effects per key (conversions and value).

    Cached on the journeys per order, so the two splits of one model share one solve.
    """
    cached = j._cache.get(("removal_effects", order))
    if cached is None:
        cached = j._cache[("removal_effects", order)] = _removal_effects(j, order)
    return cached


def _removal_effects(j: Journeys, order: int) -> dict:
    c = chain(j, order)
    counts, size = c["counts"], c["size"]
    t = size - 2  # transient states: start + S
    out_tot = np.asarray(counts.sum(axis=1)).ravel()[:t]
    inv = np.divide(1.0, out_tot, out=np.zeros(t), where=out_tot > 0)
    p = sp.diags(inv) @ counts[:t]
    q = p[:, :t].tocsr()
    b = np.column_stack([p[:, t].toarray().ravel(), c["value_in"][:t] * inv])
    base = _solve(q, b)[0]
    n = j.n_keys
    contains = _decode(c["codes"], n + 1, n)
    contains = np.vstack([np.zeros((1, n), dtype=bool), contains])  # start contains nothing
    re = np.zeros(n)
    re_v = np.zeros(n)
    seen = contains.any(axis=0)
    for k in np.flatnonzero(seen):
        keep = np.flatnonzero(~contains[:, k])
        sol = _solve(q[keep][:, keep], b[keep])[0]
        if base[0] > 0:
            re[k] = 1.0 - sol[0] / base[0]
        if base[1] > 0:
            re_v[k] = 1.0 - sol[1] / base[1]
    # round-off can leave -1e-17 where a key sits only on non-converting walks
    return {"p_conversion": float(base[0]), "expected_value": float(base[1]),
            "removal_effects": np.clip(re, 0.0, 1.0), "removal_effects_value": np.clip(re_v, 0.0, 1.0),
            "states": int((out_tot[1:] > 0).sum()), "order": order}


def _journey_split(j: Journeys, re: np.ndarray, touches: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    n = j.n_keys
    if not touches and n <= 20:  # group journeys by key set: 2^n cells instead of a pass per touch
        masks = j.masks()
        size = 1 << n
        conv = np.bincount(masks, j.conversions, minlength=size)
        val = np.bincount(masks, j.value, minlength=size)
        denom = np.zeros(size)
        bits = np.arange(size)
        for k in range(n):
            denom += re[k] * ((bits >> k) & 1)
        has = (conv > 0) & (denom > 0)
        cw = np.where(has, conv / np.where(has, denom, 1), 0.0)
        vw = np.where(has, val / np.where(has, denom, 1), 0.0)
        c_out = np.array([re[k] * cw[(bits >> k) & 1 == 1].sum() for k in range(n)])
        v_out = np.array([re[k] * vw[(bits >> k) & 1 == 1].sum() for k in range(n)])
        return c_out, v_out, None
    pj, pk, count = j.distinct_pairs()
    denom = np.bincount(pj, re[pk], minlength=j.n_journeys)
    share = re[j.key] / np.where(denom > 0, denom, 1.0)[j.journey] / count
    share[~j.converted[j.journey]] = 0.0
    a = from_touch_share("markov", j, share, touches=True)
    return a.conversions, a.value, share


def markov(j: Journeys, *, order: int = 1, split: str = "total", touches: bool = False) -> Attribution:
    """Markov attribution; see the module docstring for the chain, the removal effects and the splits."""
    if split not in SPLITS:
        raise _bad(f"Unknown Markov split {split!r}; use one of {', '.join(SPLITS)}.")
    fx = removal_effects(j, order)
    re, re_v = fx["removal_effects"], fx["removal_effects_value"]
    details = {**fx, "split": split}
    share = None
    if split == "total":
        total_c, total_v = j.total("conversions"), j.total("value")
        conv = total_c * re / re.sum() if re.sum() > 0 else np.zeros(j.n_keys)
        val = total_v * re_v / re_v.sum() if re_v.sum() > 0 else np.zeros(j.n_keys)
        if touches:  # no per-journey credit exists under the whole-total split; explain with the journey split
            share = _journey_split(j, re, True)[2]
    else:
        conv, val, share = _journey_split(j, re, touches)
    return Attribution(f"markov_{order}" if order > 1 else "markov", j.keys, conv, val, share, details)
