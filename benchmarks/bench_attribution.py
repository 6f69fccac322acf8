"""Attribution benchmark: every model on 10,000,000 synthetic journeys (≈57M touches), and on 1,000,000.

Ours: revteam.domain.attribution, all models one after another in a fresh process (the data is generated
first and handed over as .npy files, so the peak resident memory reported is that of loading the journeys
and running the models). Peers, in their own venv (benchmarks/peers/env.py), in the same script run:
ChannelAttribution's Markov model (C++, Monte Carlo) and marketing_attribution_models (Polars: first, last,
linear, position-based, Markov), on ``--peer-journeys`` journeys (default 1,000,000: both peers are run
there, and our models on the same journeys, and the ratio is printed).

Run: ``python benchmarks/bench_attribution.py [--journeys N] [--small N] [--peer-journeys N] [--no-peers]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from attribution_data import CHANNELS, make  # noqa: E402

RUNS = [("first_touch", {}), ("last_touch", {}), ("last_non_direct", {}), ("linear", {}), ("time_decay", {}),
        ("u_shaped", {}), ("w_shaped", {}), ("full_path", {}), ("markov", {}), ("markov", {"split": "journey"}),
        ("markov", {"order": 2}), ("shapley", {})]
ARRAYS = ("journey", "key", "time", "direct", "conversions", "value", "lead", "opportunity")


def label(model: str, params: dict) -> str:
    return model + "".join(f" {k}={v}" for k, v in params.items())


# --- ours, in a child process --------------------------------------------------------------------
def run_ours(folder: Path, runs: list[tuple[str, dict]]) -> dict:
    from revteam.domain.attribution import Journeys, attribute

    d = {name: np.load(folder / f"{name}.npy", mmap_mode=None) for name in ARRAYS}
    t0 = time.perf_counter()
    j = Journeys.build(d["journey"], d["key"], keys=CHANNELS, conversions=d["conversions"], value=d["value"],
                       time=d["time"], direct=d["direct"], lead=d["lead"], opportunity=d["opportunity"])
    del d
    out = {"build": time.perf_counter() - t0, "touches": j.n_touches, "journeys": j.n_journeys, "models": {}}
    total = 0.0
    for model, params in runs:
        t = time.perf_counter()
        a = attribute(j, model, **params)
        el = time.perf_counter() - t
        total += el
        assert abs(a.value.sum() - j.value.sum()) <= 1e-6 * j.value.sum(), model
        out["models"][label(model, params)] = {"seconds": el, "conversions": dict(zip(a.keys, a.conversions.tolist())),
                                               "value": dict(zip(a.keys, a.value.tolist()))}
    out["models_total"] = total
    out["peak_rss_mib"] = peak_rss_mib()
    return out


def peak_rss_mib() -> float:
    """VmHWM, the peak resident set of this process image (ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ours_in_child(folder: Path, runs: list[tuple[str, dict]]) -> dict:
    spec = json.dumps({"folder": str(folder), "runs": runs})
    out = subprocess.run([sys.executable, __file__, "--child", spec], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def save(n: int, seed: int, folder: Path) -> dict:
    t = time.perf_counter()
    d = make(n, seed)
    for name in ARRAYS:
        np.save(folder / f"{name}.npy", d[name])
    return {"generate_seconds": time.perf_counter() - t, "touches": int(d["lengths"].sum()), "data": d}


# --- peers ---------------------------------------------------------------------------------------
def peer_paths(d: dict, path: Path) -> None:
    """The journeys as ChannelAttribution's aggregated-path CSV, one row per journey."""
    import pandas as pd

    names = np.array(CHANNELS, dtype=object)[d["key"]]
    starts = np.r_[0, np.cumsum(d["lengths"])[:-1]]
    ends = starts + d["lengths"]
    flat = names.tolist()
    paths = [" > ".join(flat[a:b]) for a, b in zip(starts.tolist(), ends.tolist())]
    pd.DataFrame({"path": paths, "total_conversions": d["conversions"].astype(int), "total_conversion_value": d["value"],
                  "total_null": (1 - d["conversions"]).astype(int)}).to_csv(path, index=False)


def run_peers(csv: Path, ca_only: bool = False) -> dict:
    import importlib.util

    spec = importlib.util.spec_from_file_location("peers_env", HERE / "peers" / "env.py")
    env = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(env)
    spec = {"paths": str(csv), "ca": {"markov": [{"order": 1, "ncore": 2, "seed": 0}]}}
    if not ca_only:
        spec["mam"] = {"heuristic": True, "markov": True}
    return env.run_peers(spec)


def table(rows: list[tuple], head: tuple) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def report_ours(title: str, r: dict) -> str:
    rows = [(name, f"{m['seconds']:.2f}") for name, m in r["models"].items()]
    rows.append(("**all models together**", f"**{r['models_total']:.2f}**"))
    return (f"### {title}: {r['journeys']:,} journeys, {r['touches']:,} touches\n\n" + table(rows, ("model", "seconds"))
            + f"\n\nbuild (validate the arrays): {r['build']:.2f} s; peak resident memory of the process: "
            f"{r['peak_rss_mib']:,.0f} MiB\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--journeys", type=int, default=10_000_000)
    ap.add_argument("--small", type=int, default=1_000_000)
    ap.add_argument("--peer-journeys", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--ca-journeys", type=int, default=10_000_000,
                    help="also run ChannelAttribution's Markov model alone on this many journeys (0: skip)")
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        spec = json.loads(args.child)
        print(json.dumps(run_ours(Path(spec["folder"]), [(m, p) for m, p in spec["runs"]])))
        return
    out: list[str] = []
    with tempfile.TemporaryDirectory(prefix="attribution-bench-") as tmp:
        results = {}
        for n in dict.fromkeys((args.journeys, args.small)):
            folder = Path(tmp) / str(n)
            folder.mkdir()
            g = save(n, args.seed, folder)
            del g["data"]
            results[n] = ours_in_child(folder, RUNS)
            print(f"generated {n:,} journeys in {g['generate_seconds']:.1f} s", file=sys.stderr)
            out.append(report_ours("ours", results[n]))
            print(out[-1], flush=True)
        if not args.no_peers:
            n = args.peer_journeys
            folder = Path(tmp) / f"peers-{n}"
            folder.mkdir()
            g = save(n, args.seed, folder)
            csv = folder / "paths.csv"
            peer_paths(g["data"], csv)
            mine = ours_in_child(folder, [("first_touch", {}), ("last_touch", {}), ("linear", {}), ("u_shaped", {}),
                                          ("markov", {}), ("markov", {"split": "journey"})])
            t = time.perf_counter()
            peers = run_peers(csv)
            print(f"peers answered in {time.perf_counter() - t:.1f} s", file=sys.stderr)
            m = mine["models"]
            heur = sum(m[k]["seconds"] for k in ("first_touch", "last_touch", "linear", "u_shaped"))
            ca = peers["ca"]["markov"]["1"] if "error" not in peers["ca"] else None
            mam = peers["mam"] if "error" not in peers["mam"] else None
            rows = [("revteam markov (exact, whole-total split)", f"{m['markov']['seconds']:.2f}", "1.00")]
            if ca:
                rows.append((f"ChannelAttribution markov_model order 1 ({ca['simulations']:,} simulated walks, 2 threads)",
                             f"{ca['seconds']:.2f}", f"{ca['seconds'] / m['markov']['seconds']:.1f}"))
            if mam:
                rows.append(("marketing_attribution_models run_markov (exact, per-journey split)",
                             f"{mam['markov_seconds']:.2f}", f"{mam['markov_seconds'] / m['markov']['seconds']:.1f}"))
                rows.append(("revteam first + last + linear + u_shaped (conversions and value)", f"{heur:.2f}", "1.00"))
                rows.append(("marketing_attribution_models first + last + linear + position-based (each measure)",
                             f"{mam['heuristic_seconds']:.2f}", f"{mam['heuristic_seconds'] / heur:.1f}"))
            agree = []
            if mam:
                for ours_name, peer_name in (("first_touch", "first_touch"), ("linear", "linear")):
                    mine_v, theirs = m[ours_name]["value"], mam[f"{peer_name}_value"]
                    agree.append(f"{ours_name} value vs MAM: max |difference| "
                                 f"{max(abs(mine_v[k] - theirs.get(k, 0.0)) for k in mine_v):.2e}")
            if ca:
                fx = {k: v for k, v in ca["removal_effects"].items()}
                agree.append("CA removal effects: " + ", ".join(f"{k} {v:.4f}" for k, v in sorted(fx.items())))
            errors = [f"{p}: {peers[p]['error']}" for p in ("ca", "mam") if "error" in peers[p]]
            out.append(f"### peers on {n:,} journeys ({mine['touches']:,} touches), same data, same run\n\n"
                       + table(rows, ("implementation", "seconds", "ratio to ours")) + "\n\n"
                       + "\n".join(f"- {a}" for a in agree + errors) + "\n")
            print(out[-1], flush=True)
        if not args.no_peers and args.ca_journeys:
            n = args.ca_journeys
            folder = Path(tmp) / f"ca-{n}"
            folder.mkdir()
            g = save(n, args.seed, folder)
            csv = folder / "paths.csv"
            peer_paths(g["data"], csv)
            del g
            mine = ours_in_child(folder, [("markov", {})])
            peers = run_peers(csv, ca_only=True)
            ca = peers["ca"]
            rows = [("revteam markov (exact, whole-total split)", f"{mine['models']['markov']['seconds']:.2f}", "1.00")]
            if "error" in ca:
                rows.append(("ChannelAttribution markov_model order 1", "failed", ca["error"]))
            else:
                c = ca["markov"]["1"]
                rows.append((f"ChannelAttribution markov_model order 1 ({c['simulations']:,} simulated walks, 2 threads)",
                             f"{c['seconds']:.2f}", f"{c['seconds'] / mine['models']['markov']['seconds']:.1f}"))
            out.append(f"### ChannelAttribution alone on {n:,} journeys ({mine['touches']:,} touches)\n\n"
                       + table(rows, ("implementation", "seconds", "ratio to ours")) + "\n")
            print(out[-1], flush=True)
    print(f"peak resident memory of this driver (data generation): {peak_rss_mib():,.0f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
