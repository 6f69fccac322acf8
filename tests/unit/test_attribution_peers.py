"""Attribution against its peers on ChannelAttribution's example paths, and on an event log.

The peers (ChannelAttribution 2.2.5, a C++ extension built from source, and marketing_attribution_models
2.1.1) are never revteam dependencies: ``benchmarks/peers/env.py`` builds them a venv of their own under
``.cache/`` the first time (about 90 s here) and ``run_peers.py`` answers in JSON from a subprocess.
A peer that cannot be built or run fails this test with its own error; it is never skipped.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from revteam.domain.attribution import HEURISTICS, Journeys, attribute, removal_effects
from tests.conftest import DATASETS

pytestmark = pytest.mark.datasets
ROOT = Path(__file__).resolve().parents[2]
NFOLD = 10  # ChannelAttribution's default: the removal effects come from one fold of nsim/nfold walks


def _peer_env():
    spec = importlib.util.spec_from_file_location("peers_env", ROOT / "benchmarks/peers/env.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def example() -> tuple[Path, pd.DataFrame, Journeys]:
    if not DATASETS.exists():
        pytest.skip(f"shared datasets not found at {DATASETS}")
    path = DATASETS / "channelattribution_example" / "paths.csv.gz"
    data = pd.read_csv(path)
    j = Journeys.from_path_strings(data["path"].tolist(), conversions=data["total_conversions"].to_numpy(),
                                   value=data["total_conversion_value"].to_numpy(), nulls=data["total_null"].to_numpy())
    return path, data, j


@pytest.fixture(scope="module")
def peers(example) -> dict:
    env = _peer_env()
    markov = [{"order": k, "nsim_start": 1_000_000, "ncore": 2, "max_step": 1000, "seed": 0} for k in (1, 2, 3)]
    try:
        answer = env.run_peers({"paths": str(example[0]), "ca": {"heuristic": True, "markov": markov},
                                "mam": {"heuristic": True, "markov": True}})
    except env.PeerEnvError as e:
        pytest.fail(f"the attribution peers could not be built or run: {e}")
    for name in ("ca", "mam"):
        assert "error" not in answer[name], f"{name} failed: {answer[name].get('error')}\n{answer[name].get('traceback')}"
    return answer


def test_example_totals_match_its_readme(example):
    _, _, j = example
    assert (j.n_journeys, j.n_keys) == (10_000, 12)
    assert j.conversions.sum() == 19_785 and j.nulls.sum() == 68_602
    assert j.value.sum() == pytest.approx(74_802.97, abs=0.01)


@pytest.mark.parametrize("model, ca_name, mam_name", [("first_touch", "first_touch", "first_touch"),
                                                       ("last_touch", "last_touch", "last_touch"),
                                                       ("linear", "linear_touch", "linear")])
def test_first_last_and_linear_equal_channelattribution_and_mam(example, peers, model, ca_name, mam_name):
    _, _, j = example
    ours = attribute(j, model)
    for measure in ("conversions", "value"):
        mine = ours.as_dict(measure)
        ca = peers["ca"][f"{ca_name}_{measure}"]
        mam = peers["mam"][f"{mam_name}_{measure}"]
        assert set(ca) == set(mine) == set(mam)
        # equal up to the order in which floating-point sums are added (1e-12 of the credited total)
        tol = 1e-12 * j.total(measure)
        for k in mine:
            assert abs(mine[k] - ca[k]) <= tol, (model, measure, k, mine[k], ca[k])
            assert abs(mine[k] - mam[k]) <= tol, (model, measure, k, mine[k], mam[k])
        if measure == "conversions" and model != "linear":  # sums of whole numbers: bit for bit
            assert mine == ca


def reference_removal_effects(paths: list[list[str]], conv: np.ndarray, nulls: np.ndarray, order: int) -> dict:
    """Explicit absorbing chain on the aggregated paths: fundamental matrix N = (I - Q)^-1, written out."""
    counts: dict[tuple, dict] = {}
    for path, c, n in zip(paths, conv, nulls):
        if len(path) < order:
            states = [tuple(path)]
        else:
            states = [tuple(path[i - order + 1:i + 1]) for i in range(order - 1, len(path))]
        seq = [("(start)",)] + states
        for a, b in zip(seq, seq[1:]):
            counts.setdefault(a, {})[b] = counts.setdefault(a, {}).get(b, 0) + c + n
        counts.setdefault(seq[-1], {})
        counts[seq[-1]]["(conv)"] = counts[seq[-1]].get("(conv)", 0) + c
        counts[seq[-1]]["(null)"] = counts[seq[-1]].get("(null)", 0) + n

    def p_conv(removed: str | None) -> float:
        transient = [s for s in counts if removed is None or removed not in s]
        idx = {s: i for i, s in enumerate(transient)}
        q = np.zeros((len(transient), len(transient)))
        r = np.zeros(len(transient))
        for s in transient:
            out = counts[s]
            total = sum(out.values())
            for t, w in out.items():
                if t == "(conv)":
                    r[idx[s]] += w / total
                elif t in idx:
                    q[idx[s], idx[t]] += w / total
        fundamental = np.linalg.inv(np.eye(len(transient)) - q)
        return float((fundamental @ r)[idx[("(start)",)]])

    base = p_conv(None)
    channels = sorted({c for p in paths for c in p})
    return {c: 1 - p_conv(c) / base for c in channels}


@pytest.mark.parametrize("order", [1, 2])
def test_markov_removal_effects_equal_an_explicit_fundamental_matrix_to_1e_9(example, order):
    _, data, j = example
    paths = [[c.strip() for c in p.split(">")] for p in data["path"]]
    expected = reference_removal_effects(paths, data["total_conversions"].to_numpy(), data["total_null"].to_numpy(), order)
    ours = dict(zip(j.keys, removal_effects(j, order)["removal_effects"]))
    assert set(ours) == set(expected)
    for k in ours:
        assert ours[k] == pytest.approx(expected[k], abs=1e-9)


def test_markov_removal_effects_equal_mam_exactly(example, peers):
    _, _, j = example
    ours = dict(zip(j.keys, removal_effects(j, 1)["removal_effects"]))
    for k, v in peers["mam"]["removal_effects"].items():
        assert ours[k] == pytest.approx(v, abs=1e-9)


@pytest.mark.parametrize("order", [1, 2, 3])
def test_markov_removal_effects_match_channelattribution_within_its_monte_carlo_error(example, peers, order):
    """ChannelAttribution estimates RE_c = P(walk visits c | it converts) from nsim/nfold simulated walks.

    Binomial standard error sqrt(RE(1-RE)/n_conv), n_conv = p_conversion × walks of the fold; allowed: 5 SE.
    For value, each simulated conversion also draws a value, which widens the error by the coefficient of
    variation of value per conversion: sqrt(E[v²]) / E[v].
    """
    _, data, j = example
    ca = peers["ca"]["markov"][str(order)]
    fx = removal_effects(j, order)
    n_conv = fx["p_conversion"] * ca["simulations"] / NFOLD
    unit = data["total_conversion_value"] / data["total_conversions"].where(data["total_conversions"] > 0)
    w = data["total_conversions"]
    spread = np.sqrt((w * unit**2).sum() / w.sum()) / ((w * unit).sum() / w.sum())
    for measure, widen in (("removal_effects", 1.0), ("removal_effects_value", spread)):
        for i, k in enumerate(j.keys):
            re = fx[measure][i]
            se = np.sqrt(max(re * (1 - re), 1e-6) / n_conv) * widen
            assert abs(re - ca[measure][k]) <= 5 * se, (order, measure, k, re, ca[measure][k], se)


def si05_journeys(path: Path) -> Journeys:
    """Each customer's events in time order; a conversion closes a journey (its channel is the last touch)."""
    e = pd.read_csv(path).sort_values(["customer_id", "time"], kind="stable").reset_index(drop=True)
    done_before = e.groupby("customer_id")["conversion"].cumsum() - e["conversion"]
    jid = e.groupby([e["customer_id"], done_before], sort=False).ngroup().to_numpy()
    per = e.assign(j=jid).groupby("j").agg(conv=("conversion", "max"), value=("conversion_value", "sum"))
    keys = sorted(e["channel"].unique())
    return Journeys.build(jid, e["channel"].map({k: i for i, k in enumerate(keys)}).to_numpy(), keys=keys,
                          conversions=per["conv"].to_numpy(float), value=per["value"].to_numpy(float),
                          time=pd.to_datetime(e["time"]).dt.tz_localize(None).to_numpy())


def test_every_model_runs_sanely_on_the_si05_event_log(datasets):
    j = si05_journeys(datasets / "attribution_events_si05" / "attribution_data.csv")
    assert j.n_touches == 62_483 and j.conversions.sum() == 1_838  # the README says 62,482: its last line has no newline
    assert j.keys == ("Facebook", "Instagram", "Online Display", "Online Video", "Paid Search")
    runs = [(m, {}) for m in HEURISTICS] + [("markov", {}), ("markov", {"split": "journey"}), ("markov", {"order": 2}),
                                            ("shapley", {})]
    results = {}
    for model, params in runs:
        a = attribute(j, model, **params)
        assert a.value.sum() == pytest.approx(j.value.sum(), rel=1e-9)
        assert a.conversions.sum() == pytest.approx(1_838, rel=1e-9)
        if model != "shapley":
            assert (a.value >= 0).all()
        results[(model, tuple(params.items()))] = a.value
    fx = removal_effects(j)
    assert ((fx["removal_effects"] > 0) & (fx["removal_effects"] < 1)).all()
    # every channel appears in converting journeys, so every model gives each channel some credit
    for name, v in results.items():
        assert (np.abs(v) > 0).all(), name
