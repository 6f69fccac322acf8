"""Scale benchmark: DuckDB in process against a Spark standalone cluster on this machine, same data, same run,
for the two heaviest scans: the funnel (the whole answer, broken down by source) and the aggregation of
touches into attribution journeys (``analytics/paths.py``), at 1M and 10M journeys.

Data: the funnel's contacts from ``bench_funnel.synthetic`` (a journey = a contact moving through the 8 main
stages, about 2.25 stage changes each); attribution journeys from ``attribution_data.make`` (1-20 touches,
mean 5.7; a journey = a closed deal with one contact, won when the journey converts, its lead move at the
lead milestone). Both become the snapshot's Arrow tables, loaded into each engine as revteam loads them
(``Engine.load``: DuckDB tables; Spark temporary views from the Arrow data).

Measured per engine, after a warm-up run on 10,000 journeys (JIT, the executor's start): loading the
tables; the funnel query; building the journeys (the engine's ordered touch rows to Arrow, then
``Journeys.build``); each once, as the first answer after a data change is. Once, in process: every attribution model on the journeys
(NumPy; the same whichever engine built them). The script checks that both engines give the same funnel
rows and the same journeys before it prints.

The cluster: a master and a worker started with pyspark's ``spark-class`` (``tests/analytics/cluster.py``),
``--cores`` and ``--memory`` for the worker; the driver runs in this process (``--driver-memory``).
Run: ``python benchmarks/bench_scale.py [--sizes 1000000,10000000] [--spark-sizes 1000000,10000000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import attribution_data  # noqa: E402
from bench_funnel import synthetic  # noqa: E402

from revteam.analytics import funnel as F  # noqa: E402
from revteam.analytics import paths as P  # noqa: E402
from revteam.analytics.engines import connect, stop_spark  # noqa: E402
from revteam.domain.attribution import MODELS, attribute  # noqa: E402
from revteam.domain.lifecycle import MAIN_STAGES  # noqa: E402

EPOCH = np.datetime64("2025-01-01T00:00:00", "us")
SUBJECTS_UP_TO = 1_000_000
DUCKDB_MEMORY = "6GB"  # beyond, the per-deal subject dicts (about 1 KB each) are not built
DAY_US = 86_400_000_000


def _empty(**cols: pa.DataType) -> pa.Table:
    return pa.table({n: pa.array([], t) for n, t in cols.items()})


def journey_tables(n: int, seed: int = 7) -> dict[str, pa.Table]:
    """Snapshot tables holding ``n`` closed deals, one contact each, whose touches are ``attribution_data.make``."""
    d = attribution_data.make(n, seed)
    total = len(d["journey"])
    at = EPOCH + (d["time"] * 1e6).astype(np.int64).astype("timedelta64[us]")
    last = at[np.cumsum(d["lengths"]) - 1]
    closed = last.astype("datetime64[D]") + np.timedelta64(1, "D")  # the day after the journey's last touch
    won = d["conversions"] > 0
    ids = np.arange(1, n + 1)
    lead_rows = d["lead"][d["lead"] >= 0]
    channel = pa.array(attribution_data.CHANNELS).take(pa.array(d.pop("key")))  # Arrow strings, no Python objects
    none_i, none_s = pa.nulls(total, pa.int64()), pa.nulls(total, pa.string())
    return {
        "deals": pa.table({"id": ids, "account_id": pa.nulls(n, pa.int64()),
                           "amount": np.where(won, d["value"], 1000.0), "currency": pa.array(["USD"] * n),
                           "stage": pa.array(np.where(won, "won", "lost").tolist()),
                           "outcome": pa.array(np.where(won, "won", "lost").tolist()),
                           "created_on": (closed - np.timedelta64(30, "D")).astype("datetime64[us]"),
                           "closed_on": closed.astype("datetime64[us]"), "owner_id": pa.nulls(n, pa.int64()),
                           "source": pa.nulls(n, pa.string()), "campaign_id": pa.nulls(n, pa.int64()),
                           "name": pc.binary_join_element_wise("Deal ", pa.array(ids).cast(pa.string()), "")}),
        "deal_contacts": pa.table({"deal_id": ids, "contact_id": ids, "role": pa.array(["champion"] * n)}),
        "touchpoints": pa.table({"id": np.arange(1, total + 1), "contact_id": d["journey"].astype(np.int64) + 1,
                                 "type": none_s, "channel": channel,
                                 "campaign_id": none_i, "content_id": none_i, "url": none_s, "occurred_at": at}),
        "stage_changes": pa.table({"id": np.arange(1, len(lead_rows) + 1),
                                   "contact_id": d["journey"][lead_rows].astype(np.int64) + 1,
                                   "from_stage": pa.nulls(len(lead_rows), pa.string()),
                                   "to_stage": pa.array(["lead"] * len(lead_rows)), "changed_at": at[lead_rows]}),
        "campaigns": _empty(id=pa.int64(), name=pa.string(), channel=pa.string(), type=pa.string(), cost=pa.float64()),
        "content": _empty(id=pa.int64(), title=pa.string(), type=pa.string(), category=pa.string(),
                          status=pa.string(), published_at=pa.timestamp("us")),
    }


class Loaded:
    """An engine with tables loaded, answering ``arrow(build)`` as the runner does (``Analytics.arrow``)."""

    def __init__(self, engine: Any, tables: dict[str, Any]) -> None:
        self.engine, self.tables = engine, tables

    def arrow(self, build: Any) -> tuple[dict[str, pa.Table], None]:
        return {name: self.engine.con.to_pyarrow(expr) for name, expr in build(self.tables).items()}, None


def timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def funnel_rows(engine: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    positions = {s: i for i, s in enumerate(MAIN_STAGES)}
    pairs = [*zip(MAIN_STAGES[:-1], MAIN_STAGES[1:]), (MAIN_STAGES[0], "customer")]
    rows = engine.con.to_pyarrow(F.funnel_table(t, F.FunnelSpec(breakdown="source"), MAIN_STAGES, positions,
                                                pairs)).to_pylist()
    return sorted(rows, key=lambda r: (r["group"], r["from_rank"]))


def _connect(name: str) -> Any:
    engine = connect(name)
    if name == "duckdb":  # spill rather than take the machine's memory (other work runs here too)
        engine.con.raw_sql(f"SET memory_limit='{DUCKDB_MEMORY}'")
    return engine


def measure_funnel(name: str, size: int, data: dict[str, pa.Table]) -> dict[str, Any]:
    engine = _connect(name)
    out: dict[str, Any] = {}
    out["load_funnel"], t = timed(lambda: engine.load(data))
    out["funnel"], out["funnel_rows"] = timed(lambda: funnel_rows(engine, t))
    engine.close()
    _say(name, size, out)
    return out


def measure_journeys(name: str, size: int, data: dict[str, pa.Table]) -> dict[str, Any]:
    engine = _connect(name)
    out: dict[str, Any] = {}
    out["load_journeys"], t = timed(lambda: engine.load(data))
    out["journeys"], (out["paths"], _ids) = timed(lambda: P.revenue_paths_on(Loaded(engine, t), grain="channel"))
    if name == "duckdb" and size <= SUBJECTS_UP_TO:  # the whole JourneySet, a subject dict per deal (pages)
        out["journey_set"], _js = timed(lambda: P.revenue_journeys_on(Loaded(engine, t), grain="channel"))
    engine.close()
    _say(name, size, out)
    return out


def _say(name: str, size: int, out: dict[str, Any]) -> None:
    print(f"  {name} at {size:,}: " + ", ".join(f"{k} {v:.1f} s" for k, v in out.items() if isinstance(v, float))
          + f" (peak {peak_rss_mib():,.0f} MiB)", file=sys.stderr, flush=True)


def on_spark(fn: Any, *args: Any) -> dict[str, Any]:
    try:
        return fn("spark", *args)
    except Exception as e:  # noqa: BLE001 - report what did not complete, honestly
        error = f"{type(e).__name__}: {str(e).splitlines()[0][:160]}"
        print(f"  spark did not complete: {error}", file=sys.stderr)
        stop_spark()
        return {"error": error}


def same_funnel(a: dict[str, Any], b: dict[str, Any]) -> None:
    for ra, rb in zip(a["funnel_rows"], b["funnel_rows"], strict=True):
        for k in ra:
            if isinstance(ra[k], float) or isinstance(ra[k], list):
                assert np.allclose(np.asarray(ra[k], dtype=float), np.asarray(rb[k], dtype=float), rtol=1e-9,
                                   equal_nan=True), (k, ra, rb)
            else:
                assert ra[k] == rb[k], (k, ra, rb)


def same_paths(a: dict[str, Any], b: dict[str, Any]) -> None:
    ja, jb = a["paths"], b["paths"]
    assert ja.keys == jb.keys
    for f in ("journey", "key", "time", "direct", "lead", "opportunity", "conversions", "value"):
        np.testing.assert_array_equal(getattr(ja, f), getattr(jb, f), err_msg=f)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--spark-sizes", default="1000000,10000000", help="the sizes also run on the cluster")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--memory", default="6g", help="the worker's (and its executor's) memory")
    ap.add_argument("--driver-memory", default="6g")
    ap.add_argument("--steps", default="funnel,journeys", help="which scans to measure")
    args = ap.parse_args()
    steps = set(args.steps.split(","))
    sizes = [int(x) for x in args.sizes.split(",")]
    spark_sizes = {int(x) for x in args.spark_sizes.split(",") if x}
    cluster = None
    if spark_sizes:
        from tests.analytics.cluster import SMALL_DATA, start_cluster

        cluster = start_cluster(cores=args.cores, memory=args.memory)
        settings = cluster.settings
        conf = {k: v for k, v in json.loads(settings["REVTEAM_SPARK_CONF"]).items() if k not in SMALL_DATA}
        conf |= {"spark.driver.memory": args.driver_memory, "spark.driver.maxResultSize": "0",
                 "spark.sql.shuffle.partitions": str(4 * args.cores)}  # Spark's defaults otherwise (AQE, codegen)
        os.environ.update({**settings, "REVTEAM_SPARK_CONF": json.dumps(conf)})
    rows = []
    try:
        warm_f, warm_j = synthetic(22_500), journey_tables(10_000)  # start-up costs (JIT, the executor) aside
        for name in ("duckdb", "spark") if spark_sizes else ("duckdb",):
            measure_funnel(name, 10_000, warm_f)
            measure_journeys(name, 10_000, warm_j)
        for size in sizes:
            data = synthetic(int(size * 2.25))
            n_changes = data["stage_changes"].num_rows
            print(f"{size:,} journeys: {data['contacts'].num_rows:,} contacts, {n_changes:,} stage changes",
                  file=sys.stderr, flush=True)
            duck: dict[str, Any] = {}
            spark: dict[str, Any] | None = {} if size in spark_sizes else None
            if "funnel" in steps:
                duck |= measure_funnel("duckdb", size, data)
                if spark is not None:
                    spark |= on_spark(measure_funnel, size, data)
                    if "funnel_rows" in spark:
                        same_funnel(duck, spark)
            del data
            if "journeys" not in steps:
                rows.append((size, n_changes, 0, duck, spark, None))
                continue
            data = journey_tables(size)
            n_touches = data["touchpoints"].num_rows
            print(f"{size:,} journeys: {size:,} deals, {n_touches:,} touches", file=sys.stderr, flush=True)
            duck |= measure_journeys("duckdb", size, data)
            if spark is not None and "error" not in spark:  # (a failed funnel: the cluster is out of memory)
                spark |= on_spark(measure_journeys, size, data)
            del data
            models_s, _ = timed(lambda: [attribute(duck["paths"], m) for m in MODELS])
            if spark is not None and "paths" in spark:
                same_paths(duck, spark)
                del spark["paths"]
            del duck["paths"]
            rows.append((size, n_changes, n_touches, duck, spark, models_s))
    finally:
        stop_spark()
        if cluster is not None:
            cluster.stop()
    where = f"Spark standalone cluster: 1 worker, {args.cores} cores, {args.memory}; driver {args.driver_memory}"
    print(f"\n{where}; peak resident memory of this process: {peak_rss_mib():,.0f} MiB\n")
    print("| journeys | step | DuckDB (s) | Spark cluster (s) | Spark / DuckDB |\n|---:|---|---:|---:|---:|")
    steps = (("load_funnel", "load the funnel's tables"), ("funnel", "the funnel by source (one query)"),
             ("load_journeys", "load the deals and touches"),
             ("journeys", "the attribution journeys: the scan, then `Journeys.build` (`revenue_paths_on`)"),
             ("journey_set", "the same with a subject per deal for the pages (`revenue_journeys_on`)"))
    for size, n_changes, n_touches, duck, spark, models_s in rows:
        for key, label in steps:
            if key not in duck:
                continue
            detail = f" ({n_changes:,} stage changes)" if key == "load_funnel" else \
                f" ({n_touches:,} touches)" if key == "load_journeys" else ""
            if spark is None:
                s, ratio = "not run", ""
            elif key not in spark:
                s, ratio = ("did not complete" if "error" in spark else "not run"), ""
            else:
                s, ratio = f"{spark[key]:.2f}", f"{spark[key] / duck[key]:.1f}"
            print(f"| {size:,} | {label}{detail} | {duck[key]:.2f} | {s} | {ratio} |")
        if models_s is not None:
            print(f"| {size:,} | every attribution model on the journeys (NumPy, in process) | {models_s:.2f} | "
                  f"{models_s:.2f} | 1.0 |")
    for size, _c, _t, _d, spark, _m in rows:
        if spark and "error" in spark:
            print(f"\nSpark at {size:,} journeys: {spark['error']}")


if __name__ == "__main__":
    main()
