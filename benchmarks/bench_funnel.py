"""Funnel benchmark: conversion between every pair of stages with a breakdown by source, over
10,000,000 synthetic stage changes (target: under 2 s on DuckDB once the data is loaded).

Ours: the Ibis builders of revteam.analytics.funnel on DuckDB (the same expressions run on Spark).
Peer: the same cohort conversion written by hand in pandas (groupby/merge), checked to agree.
Run: `python benchmarks/bench_funnel.py [--changes N]`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import pyarrow as pa

from revteam.analytics import funnel as F
from revteam.analytics.engines import connect
from revteam.domain.lifecycle import MAIN_STAGES

SOURCES = ["organic_search", "paid_search", "social", "email", "referral", "events", "direct", "partner"]
KEEP = [1.0, 0.9, 0.2, 0.5, 0.6, 0.25, 0.9, 0.1]  # share moving on from each stage


def synthetic(n_changes: int, seed: int = 5):
    rng = np.random.default_rng(seed)
    n_contacts = int(n_changes / 2.3)
    depth = np.ones(n_contacts, dtype=np.int64)
    alive = np.ones(n_contacts, dtype=bool)
    for k in range(1, len(MAIN_STAGES)):
        alive &= rng.random(n_contacts) < KEEP[k]
        depth += alive
    total = int(depth.sum())
    contact = np.repeat(np.arange(n_contacts), depth)
    offsets = np.arange(total) - np.repeat(np.cumsum(depth) - depth, depth)
    start = np.datetime64("2025-01-01T00:00:00") + rng.integers(0, 365 * 86400, n_contacts).astype("timedelta64[s]")
    gaps = rng.integers(1, 20 * 86400, total).astype("timedelta64[s]")
    changed = np.repeat(start, depth) + gaps * offsets  # later stages later; equal gaps per step are fine here
    stage = np.array(MAIN_STAGES, dtype=object)[offsets]
    stage_changes = pa.table({"id": np.arange(total), "contact_id": contact, "from_stage": pa.nulls(total, pa.string()),
                              "to_stage": stage.astype(str), "changed_at": changed.astype("datetime64[us]")})
    contacts = pa.table({"id": np.arange(n_contacts), "account_id": pa.nulls(n_contacts, pa.int64()),
                         "original_source": np.array(SOURCES)[rng.integers(0, len(SOURCES), n_contacts)],
                         "original_campaign_id": pa.nulls(n_contacts, pa.int64()),
                         "persona": pa.nulls(n_contacts, pa.string()), "owner_id": pa.nulls(n_contacts, pa.int64()),
                         "stage": np.array(MAIN_STAGES)[depth - 1], "created_at": start.astype("datetime64[us]")})
    lifecycle = pa.table({"key": list(MAIN_STAGES), "label": list(MAIN_STAGES), "position": list(range(len(MAIN_STAGES))),
                          "kind": ["main"] * len(MAIN_STAGES)})
    empty = {
        "accounts": pa.table({"id": pa.array([], pa.int64()), "name": pa.array([], pa.string()),
                              "industry": pa.array([], pa.string()), "region": pa.array([], pa.string()),
                              "segment": pa.array([], pa.string()), "owner_id": pa.array([], pa.int64())}),
        "users": pa.table({"id": pa.array([], pa.int64()), "name": pa.array([], pa.string()),
                           "role": pa.array([], pa.string()), "team_id": pa.array([], pa.int64())}),
        "campaigns": pa.table({"id": pa.array([], pa.int64()), "name": pa.array([], pa.string()),
                               "channel": pa.array([], pa.string()), "type": pa.array([], pa.string()),
                               "cost": pa.array([], pa.float64())}),
        "content": pa.table({"id": pa.array([], pa.int64()), "title": pa.array([], pa.string()),
                             "type": pa.array([], pa.string()), "category": pa.array([], pa.string()),
                             "status": pa.array([], pa.string()), "published_at": pa.array([], pa.timestamp("us"))}),
        "touchpoints": pa.table({"id": pa.array([], pa.int64()), "contact_id": pa.array([], pa.int64()),
                                 "type": pa.array([], pa.string()), "channel": pa.array([], pa.string()),
                                 "campaign_id": pa.array([], pa.int64()), "content_id": pa.array([], pa.int64()),
                                 "url": pa.array([], pa.string()), "occurred_at": pa.array([], pa.timestamp("us"))}),
    }
    return {"stage_changes": stage_changes, "contacts": contacts, "lifecycle_stages": lifecycle, **empty}


def pandas_peer(tables) -> pd.DataFrame:
    sc = tables["stage_changes"].select(["contact_id", "to_stage", "changed_at"]).to_pandas()
    pos = {s: i for i, s in enumerate(MAIN_STAGES)}
    sc["pos"] = sc["to_stage"].map(pos)
    src = tables["contacts"].select(["id", "original_source"]).to_pandas().rename(columns={"id": "contact_id"})
    reached = []
    for s, p in pos.items():
        r = sc[sc["pos"] >= p].groupby("contact_id", as_index=False)["changed_at"].min()
        r["stage"], r["rank"] = s, p
        reached.append(r)
    prog = pd.concat(reached).merge(src, on="contact_id")
    entered = prog.groupby(["original_source", "stage"])["contact_id"].nunique()
    pairs = prog.merge(prog[["contact_id", "rank", "changed_at", "stage"]], on="contact_id", suffixes=("", "_b"))
    pairs = pairs[(pairs["rank_b"] > pairs["rank"]) & (pairs["changed_at_b"] >= pairs["changed_at"])]
    conv = pairs.groupby(["original_source", "stage", "stage_b"])["contact_id"].nunique().rename("converted").reset_index()
    conv["entered"] = conv.set_index(["original_source", "stage"]).index.map(entered)
    return conv


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--changes", type=int, default=10_000_000)
    args = ap.parse_args()
    tables = synthetic(args.changes)
    engine = connect("duckdb")
    t0 = time.perf_counter()
    t = engine.load(tables)
    load = time.perf_counter() - t0
    spec = F.FunnelSpec(breakdown="source")
    positions = {s: i for i, s in enumerate(MAIN_STAGES)}
    t0 = time.perf_counter()
    ours = engine.execute(F.conversion(t, spec, MAIN_STAGES, positions))
    ours_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    peer = pandas_peer(tables)
    peer_s = time.perf_counter() - t0
    a = {(r.group, r.from_stage, r.to_stage): (r.entered, r.converted) for r in ours.itertuples()}
    b = {(r.original_source, r.stage, r.stage_b): (r.entered, r.converted) for r in peer.itertuples()}
    assert a == b, "ours and the pandas peer disagree"
    print(f"funnel over {tables['stage_changes'].num_rows:,} stage changes, {tables['contacts'].num_rows:,} contacts, "
          f"every pair of {len(MAIN_STAGES)} stages, breakdown by source ({len(a):,} cells)")
    print("| implementation | seconds | ratio to ours |\n|---|---:|---:|")
    print(f"| revteam funnel builders on DuckDB | {ours_s:.2f} | 1.00 |")
    print(f"| hand-written pandas (peer) | {peer_s:.2f} | {peer_s / ours_s:.2f} |")
    print(f"(loading the Arrow tables into DuckDB once: {load:.2f} s)")


if __name__ == "__main__":
    main()
