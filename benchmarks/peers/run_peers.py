"""Runs inside the peers' venv (see env.py): ChannelAttribution and marketing_attribution_models.

Reads a JSON spec on stdin and prints one line ``PEERS-JSON: {...}`` on stdout. Spec:
    {"paths": "<csv(.gz) with path,total_conversions,total_conversion_value,total_null>", "sep": ">",
     "ca": {"heuristic": true, "markov": [{"order": 1, "nsim_start": 1e6, "ncore": 2, "seed": 0}, ...]},
     "mam": {"heuristic": true, "markov": true}}
Every peer's answer is {channel: number} dicts plus "seconds"; a peer that fails answers {"error": "..."}
(the caller declares the gap with that error). Peers print banners; they go to stderr here.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import sys
import time
import traceback

import pandas as pd

MARKER = "PEERS-JSON: "


def _ca(data: pd.DataFrame, spec: dict, sep: str) -> dict:
    out: dict = {}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        import ChannelAttribution as ca

        if spec.get("heuristic"):
            t = time.perf_counter()
            h = ca.heuristic_models(data, "path", "total_conversions", var_value="total_conversion_value", sep=sep,
                                    flg_pro=False)
            out["heuristic_seconds"] = time.perf_counter() - t
            for col in h.columns[1:]:
                out[col] = dict(zip(h["channel_name"], h[col].astype(float)))
        for m in spec.get("markov", []):
            t = time.perf_counter()
            r = ca.markov_model(data, "path", "total_conversions", var_value="total_conversion_value",
                                var_null="total_null", order=m.get("order", 1), nsim_start=m.get("nsim_start", 1e5),
                                max_step=m.get("max_step"), out_more=True, sep=sep, ncore=m.get("ncore", 1),
                                seed=m.get("seed", 0), verbose=True, flg_pro=False)
            res, re_ = r["result"], r["removal_effects"]
            log = buf.getvalue()
            sims = re.findall(r"Number of simulations: (\d+)", log)
            buf.truncate(0)
            buf.seek(0)
            sys.stderr.write(log)
            out.setdefault("markov", {})[str(m.get("order", 1))] = {
                "seconds": time.perf_counter() - t,
                "simulations": int(sims[-1]) if sims else None,
                "conversions": dict(zip(res["channel_name"], res["total_conversions"].astype(float))),
                "value": dict(zip(res["channel_name"], res["total_conversion_value"].astype(float))),
                "removal_effects": dict(zip(re_["channel_name"], re_["removal_effects_conversion"].astype(float))),
                "removal_effects_value": dict(zip(re_["channel_name"],
                                                  re_["removal_effects_conversion_value"].astype(float))),
            }
    sys.stderr.write(buf.getvalue())
    return out


def _mam(data: pd.DataFrame, spec: dict, sep: str) -> dict:
    import polars as pl
    from mam.core import MAM

    conv = data[data["total_conversions"] > 0]
    null = data[data["total_null"] > 0]
    rows = pd.DataFrame({
        "journey": list(conv["path"]) + list(null["path"]),
        "conversion": [True] * len(conv) + [False] * len(null),
        "occurrences": list(conv["total_conversions"].astype(int)) + list(null["total_null"].astype(int)),
        "revenue": list(conv["total_conversion_value"].astype(float)) + [0.0] * len(null),
    })
    rows["journey"] = rows["journey"].str.replace(r"\s*" + re.escape(sep) + r"\s*", " > ", regex=True).str.strip()
    out: dict = {}
    t = time.perf_counter()
    by_measure = {"conversions": MAM(pl.from_pandas(rows.drop(columns="revenue")), format_type="grouped_journey",
                                     channels_colname="journey", journey_with_conv_colname="conversion",
                                     occurrences_colname="occurrences"),
                  "value": MAM(pl.from_pandas(rows), format_type="grouped_journey", channels_colname="journey",
                               journey_with_conv_colname="conversion", occurrences_colname="occurrences",
                               conversion_value_colname="revenue")}
    out["prepare_seconds"] = time.perf_counter() - t
    if spec.get("heuristic"):
        t = time.perf_counter()
        for measure, m in by_measure.items():
            for name, run in (("first_touch", m.run_first_click), ("last_touch", m.run_last_click),
                              ("linear", m.run_linear), ("u_shaped", m.run_position_based)):
                df = run().to_pandas()
                out[f"{name}_{measure}"] = dict(zip(df["channels"].astype(str), df["attribution"].astype(float)))
        out["heuristic_seconds"] = time.perf_counter() - t
    if spec.get("markov"):
        t = time.perf_counter()
        r = by_measure["value"].run_markov()
        out["markov_seconds"] = time.perf_counter() - t
        re_ = r.metadata["removal_effect"]
        out["removal_effects"] = {str(k): float(v) for k, v in zip(re_.index, re_["removal_effect"])}
        df = r.to_pandas()
        out["markov_value_journey_split"] = dict(zip(df["channels"].astype(str), df["attribution"].astype(float)))
    return out


def main() -> None:
    spec = json.loads(sys.stdin.read())
    data = pd.read_csv(spec["paths"])
    sep = spec.get("sep", ">")
    answer: dict = {"journeys": int(data["total_conversions"].sum() + data["total_null"].sum())}
    for name, fn in (("ca", _ca), ("mam", _mam)):
        if name not in spec:
            continue
        try:
            answer[name] = fn(data, spec[name], sep)
        except Exception as e:  # noqa: BLE001 - a failing peer is reported, not hidden
            answer[name] = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-3000:]}
    try:
        from importlib.metadata import version

        answer["versions"] = {p: version(p) for p in ("ChannelAttribution", "marketing_attribution_models")}
    except Exception:  # noqa: BLE001
        pass
    print(MARKER + json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
