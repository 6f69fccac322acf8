"""Journeys: the touch arrays every attribution model reads (PRODUCT.md R9).

Model
    A *journey* is the ordered list of touches that led (or did not lead) to one conversion: the touches of
    a won deal's contacts before its close, or of a contact before it reached a stage. Every model reads the
    same columnar form, one row per touch, grouped by journey and sorted by time inside each journey:

    ============  =======================================================================================
    ``journey``   journey index of the touch (int32, 0..n_journeys-1, non-decreasing)
    ``key``       the credited thing: index into ``keys`` (a channel, a campaign or a content piece)
    ``time``      seconds (float64, any origin); ``None`` for aggregated paths, which have no times
    ``direct``    touch came in through a channel marked direct (``last_non_direct`` skips it)
    ============  =======================================================================================

    and one row per journey: ``conversions`` (1 or 0 for one journey; a count for an aggregated path),
    ``value`` (the money or the count being credited), ``nulls`` (journeys on this path that did not
    convert: 1 - conversions for one journey) and the milestone touches ``lead`` and ``opportunity``
    (absolute touch indices, -1 when unknown). The first touch of a journey is its first row and the close
    touch its last row, so those two milestones are implied by the order.

    The *aggregated-paths form* is a ``Journeys`` whose rows are distinct paths (the key sequence) with
    their summed conversions, value and non-conversions (``aggregate``). ChannelAttribution and most
    Markov literature use it; every model here accepts either form, except time decay, which needs times.

Edge rules
    A journey has at least one touch (a conversion with no touch is unattributable and is counted by the
    caller, not here). Value is credited only where there are conversions: ``value`` must be 0 on rows with
    no conversion. Ties in time keep the order the touches were given in (stable sort).

Worked example
    Two won deals and one lost one, channels ``keys = ("ads", "email", "webinar")``::

        Journeys.from_sequences([["ads", "email", "webinar"], ["email"], ["ads", "ads"]],
                                conversions=[1, 1, 0], value=[30_000, 12_000, 0])

    gives ``journey = [0,0,0,1,2,2]``, ``key = [0,1,2,1,0,0]``, ``nulls = [0,0,1]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from revteam.errors import InvalidInput


def _bad(message: str) -> InvalidInput:
    return InvalidInput(message, code="bad_journeys")


@dataclass(frozen=True, eq=False)
class Journeys:
    keys: tuple[str, ...]
    journey: np.ndarray
    key: np.ndarray
    conversions: np.ndarray
    value: np.ndarray
    nulls: np.ndarray
    time: np.ndarray | None = None
    direct: np.ndarray | None = None
    lead: np.ndarray | None = None
    opportunity: np.ndarray | None = None
    _cache: dict = field(default_factory=dict, repr=False)

    # --- construction ---------------------------------------------------------------------------
    @classmethod
    def build(cls, journey: Sequence[int] | np.ndarray, key: Sequence[int] | np.ndarray, *, keys: Sequence[str],
              conversions: Sequence[float] | np.ndarray, value: Sequence[float] | np.ndarray | None = None,
              nulls: Sequence[float] | np.ndarray | None = None, time: Sequence[float] | np.ndarray | None = None,
              direct: Sequence[bool] | np.ndarray | None = None, lead: Sequence[int] | np.ndarray | None = None,
              opportunity: Sequence[int] | np.ndarray | None = None) -> Journeys:
        """Validate touch arrays in any order; sort them by (journey, time) and remap milestone indices.

        ``lead`` and ``opportunity`` are indices into the touch arrays *as given* (-1 when unknown).
        ``value`` defaults to ``conversions``; ``nulls`` to ``max(1 - conversions, 0)`` (one journey a row).
        ``time`` may be datetime64 (converted to seconds) or numbers (seconds).
        """
        j = np.asarray(journey)
        k = np.asarray(key)
        if j.size and not (np.issubdtype(j.dtype, np.integer) and np.issubdtype(k.dtype, np.integer)):
            raise _bad("journey and key must be integers.")
        n_touch = len(j)
        if len(k) != n_touch:
            raise _bad("journey and key must have one entry per touch.")
        conv = np.asarray(conversions, dtype=np.float64)
        n = len(conv)
        val = conv.copy() if value is None else np.asarray(value, dtype=np.float64)
        nul = np.maximum(1.0 - conv, 0.0) if nulls is None else np.asarray(nulls, dtype=np.float64)
        if len(val) != n or len(nul) != n:
            raise _bad("conversions, value and nulls must have one entry per journey.")
        keys = tuple(str(x) for x in keys)
        if len(set(keys)) != len(keys):
            raise _bad("keys must be distinct.")
        if n_touch and (k.min() < 0 or k.max() >= len(keys)):
            raise _bad("every touch key must index into keys.")
        if n_touch and (j.min() < 0 or j.max() >= n):
            raise _bad("every touch journey must index a journey row.")
        lengths = np.bincount(j, minlength=n)
        if n and lengths.min() == 0:
            raise _bad(f"journey {int(np.argmin(lengths))} has no touch; leave unattributable conversions out.")
        for name, arr in (("conversions", conv), ("value", val), ("nulls", nul)):
            if not np.all(np.isfinite(arr)) or (arr < 0).any():
                raise _bad(f"{name} must be finite and not negative.")
        if ((conv == 0) & (val != 0)).any():
            raise _bad("a journey with no conversion cannot carry value.")
        t = None
        if time is not None:
            t = np.asarray(time)
            if np.issubdtype(t.dtype, np.datetime64):
                t = t.astype("datetime64[us]").astype(np.int64) / 1e6
            t = np.asarray(t, dtype=np.float64)
            if len(t) != n_touch or not np.all(np.isfinite(t)):
                raise _bad("time must be finite, one entry per touch.")
        d = None if direct is None else np.asarray(direct, dtype=bool)
        if d is not None and len(d) != n_touch:
            raise _bad("direct must have one entry per touch.")
        step = np.diff(j)
        in_order = bool((step >= 0).all()) and (t is None or bool((np.diff(t)[step == 0] >= 0).all()))
        if in_order:  # already grouped and time-ordered (the bulk path): no sort, no copies
            order = inverse = None
        else:
            order = np.lexsort((t, j)) if t is not None else np.argsort(j, kind="stable")
            inverse = np.empty(n_touch, dtype=np.int64)
            inverse[order] = np.arange(n_touch)
        del step

        def milestone(m: Sequence[int] | np.ndarray | None, name: str) -> np.ndarray | None:
            if m is None:
                return None
            m = np.asarray(m, dtype=np.int64)
            if len(m) != n or (m >= n_touch).any() or (m < -1).any():
                raise _bad(f"{name} must be a touch index or -1 for every journey.")
            if ((m >= 0) & (j[np.maximum(m, 0)] != np.arange(n))).any():
                raise _bad(f"a {name} milestone points at a touch of another journey.")
            return m if inverse is None else np.where(m >= 0, inverse[np.maximum(m, 0)], -1)

        def arrange(a: np.ndarray | None, dtype: type | None = None) -> np.ndarray | None:
            if a is None:
                return None
            a = a if order is None else a[order]
            return a if dtype is None else a.astype(dtype, copy=False)

        out = cls(keys=keys, journey=arrange(j, np.int32), key=arrange(k, np.int32), conversions=conv, value=val,
                  nulls=nul, time=arrange(t), direct=arrange(d), lead=milestone(lead, "lead"),
                  opportunity=milestone(opportunity, "opportunity"))
        out._cache["lengths"] = lengths
        return out

    @classmethod
    def from_sequences(cls, paths: Sequence[Sequence[str]], *, conversions: Sequence[float],
                       value: Sequence[float] | None = None, nulls: Sequence[float] | None = None,
                       keys: Sequence[str] | None = None, direct_keys: Sequence[str] = ()) -> Journeys:
        """Journeys (or aggregated paths) from key-name sequences; keys default to the sorted names seen."""
        names = sorted({x for p in paths for x in p}) if keys is None else list(keys)
        index = {x: i for i, x in enumerate(names)}
        lengths = np.fromiter((len(p) for p in paths), dtype=np.int64, count=len(paths))
        try:
            flat = np.fromiter((index[x] for p in paths for x in p), dtype=np.int64, count=int(lengths.sum()))
        except KeyError as e:
            raise _bad(f"key {e.args[0]!r} is not in keys.") from None
        journey = np.repeat(np.arange(len(paths)), lengths)
        direct = np.isin(flat, [index[x] for x in direct_keys if x in index]) if direct_keys else None
        return cls.build(journey, flat, keys=names, conversions=conversions, value=value, nulls=nulls, direct=direct)

    @classmethod
    def from_path_strings(cls, paths: Sequence[str], *, conversions: Sequence[float], value: Sequence[float] | None = None,
                          nulls: Sequence[float] | None = None, sep: str = ">") -> Journeys:
        """Aggregated paths written the ChannelAttribution way: ``"alpha > beta > alpha"``."""
        return cls.from_sequences([[p.strip() for p in s.split(sep) if p.strip()] for s in paths],
                                  conversions=conversions, value=value, nulls=nulls)

    # --- shape ----------------------------------------------------------------------------------
    @property
    def n_journeys(self) -> int:
        return len(self.conversions)

    @property
    def n_touches(self) -> int:
        return len(self.key)

    @property
    def n_keys(self) -> int:
        return len(self.keys)

    @property
    def lengths(self) -> np.ndarray:
        if "lengths" not in self._cache:
            self._cache["lengths"] = np.bincount(self.journey, minlength=self.n_journeys)
        return self._cache["lengths"]

    @property
    def starts(self) -> np.ndarray:
        """Index of each journey's first touch (its first-touch milestone)."""
        if "starts" not in self._cache:
            s = np.zeros(self.n_journeys, dtype=np.int64)
            np.cumsum(self.lengths[:-1], out=s[1:])
            self._cache["starts"] = s
        return self._cache["starts"]

    @property
    def ends(self) -> np.ndarray:
        """Index of each journey's last touch (its close milestone)."""
        return self.starts + self.lengths - 1

    @property
    def converted(self) -> np.ndarray:
        return self.conversions > 0

    def total(self, measure: str = "value") -> float:
        return float(self.value.sum() if measure == "value" else self.conversions.sum())

    @property
    def positions(self) -> np.ndarray:
        """Each touch's 0-based position inside its journey (int32)."""
        if "positions" not in self._cache:
            pos = np.arange(self.n_touches, dtype=np.int32 if self.n_touches < 2**31 else np.int64)
            pos -= np.repeat(self.starts.astype(pos.dtype), self.lengths)
            self._cache["positions"] = pos
        return self._cache["positions"]

    def masks(self) -> np.ndarray:
        """Each journey's key set as a bitmask (the narrowest unsigned integer that holds the keys)."""
        if self.n_keys > 64:
            raise _bad("bitmasks hold at most 64 keys.")
        if "masks" not in self._cache:
            dtype = next(t for t in (np.uint8, np.uint16, np.uint32, np.uint64) if np.iinfo(t).bits >= self.n_keys)
            bits = np.left_shift(dtype(1), self.key.astype(dtype))
            self._cache["masks"] = np.bitwise_or.reduceat(bits, self.starts) if self.n_touches else bits
        return self._cache["masks"]

    def key_counts(self) -> np.ndarray:
        """keys × journeys: how many touches of each key each journey has (built in chunks of journeys)."""
        if "key_counts" not in self._cache:
            n, k = self.n_journeys, self.n_keys
            dtype = np.uint8 if (self.lengths.max() if n else 0) < 256 else np.uint32
            out = np.zeros((k, n), dtype=dtype)
            step = max(1, (1 << 23) // max(k, 1))
            for a in range(0, n, step):
                b = min(n, a + step)
                lo, hi = self.starts[a], (self.starts[b] if b < n else self.n_touches)
                code = (self.journey[lo:hi] - a).astype(np.int64) * k + self.key[lo:hi]
                out[:, a:b] = np.bincount(code, minlength=(b - a) * k).reshape(b - a, k).T
            self._cache["key_counts"] = out
        return self._cache["key_counts"]

    def converting(self) -> tuple[Journeys, np.ndarray | None]:
        """The converting journeys only, and the index of each of their touches here (None: all convert).

        Heuristic credit is proportional to conversions and value, so it can be computed on these alone;
        with 20 % converting this skips four fifths of the touches.
        """
        if "converting" not in self._cache:
            keep = self.converted
            if keep.all():
                self._cache["converting"] = (self, None)
            else:
                rows = np.flatnonzero(keep)
                touch = np.flatnonzero(np.repeat(keep, self.lengths))
                lengths = self.lengths[rows]
                new_start = np.zeros(len(rows), dtype=np.int64)
                np.cumsum(lengths[:-1], out=new_start[1:])

                def moved(m: np.ndarray | None) -> np.ndarray | None:
                    return None if m is None else np.where(m[rows] >= 0, m[rows] - self.starts[rows] + new_start, -1)

                sub = Journeys(keys=self.keys, journey=np.repeat(np.arange(len(rows), dtype=np.int32), lengths),
                               key=self.key[touch], conversions=self.conversions[rows], value=self.value[rows],
                               nulls=self.nulls[rows], time=None if self.time is None else self.time[touch],
                               direct=None if self.direct is None else self.direct[touch], lead=moved(self.lead),
                               opportunity=moved(self.opportunity))
                self._cache["converting"] = (sub, touch)
        return self._cache["converting"]

    def distinct_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (journey, key) pairs and, per touch, how many touches of its key its journey has."""
        if "pairs" not in self._cache:
            code = self.journey.astype(np.int64) * self.n_keys + self.key
            uniq, inv, counts = np.unique(code, return_inverse=True, return_counts=True)
            self._cache["pairs"] = (uniq // self.n_keys, uniq % self.n_keys, counts[inv])
        return self._cache["pairs"]

    # --- the aggregated-paths form ----------------------------------------------------------------
    def aggregate(self) -> Journeys:
        """Distinct paths with summed conversions, value and nulls (times, milestones and direct dropped)."""
        raw = self.key.astype(np.int32).tobytes()
        starts, ends = self.starts * 4, (self.starts + self.lengths) * 4
        index: dict[bytes, int] = {}
        row = np.empty(self.n_journeys, dtype=np.int64)
        for i, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
            row[i] = index.setdefault(raw[a:b], len(index))
        m = len(index)
        paths = [np.frombuffer(p, dtype=np.int32) for p in index]
        lengths = np.fromiter((len(p) for p in paths), dtype=np.int64, count=m)
        key = np.concatenate(paths) if paths else np.zeros(0, dtype=np.int32)
        return Journeys.build(np.repeat(np.arange(m), lengths), key, keys=self.keys,
                              conversions=np.bincount(row, self.conversions, minlength=m),
                              value=np.bincount(row, self.value, minlength=m),
                              nulls=np.bincount(row, self.nulls, minlength=m))

    def subset(self, rows: Sequence[int] | np.ndarray) -> Journeys:
        """The journeys ``rows`` (in that order) with their touches, milestones and key list kept."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths[rows]
        touch = np.concatenate([np.arange(self.starts[r], self.starts[r] + n) for r, n in zip(rows, lengths)]) \
            if len(rows) else np.zeros(0, dtype=np.int64)
        new_start = np.zeros(len(rows), dtype=np.int64)
        np.cumsum(lengths[:-1], out=new_start[1:])

        def moved(m: np.ndarray | None) -> np.ndarray | None:
            if m is None:
                return None
            m = m[rows]
            return np.where(m >= 0, m - self.starts[rows] + new_start, -1)

        return Journeys(keys=self.keys, journey=np.repeat(np.arange(len(rows), dtype=np.int32), lengths),
                        key=self.key[touch], conversions=self.conversions[rows], value=self.value[rows],
                        nulls=self.nulls[rows], time=None if self.time is None else self.time[touch],
                        direct=None if self.direct is None else self.direct[touch], lead=moved(self.lead),
                        opportunity=moved(self.opportunity))

    def path(self, j: int) -> list[str]:
        s = int(self.starts[j])
        return [self.keys[k] for k in self.key[s:s + int(self.lengths[j])]]
