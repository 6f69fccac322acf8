"""Import benchmark: N Olist-shaped MQL rows as contacts, ours beside a plain pandas peer, same run.

Ours: ``revteam.ingest.service.run_import`` with ``examples/olist/mqls_as_contacts.toml`` (every row
mapped, validated, checked for duplicates and existing contacts, written with its lifecycle entry, one
transaction). Peer: ``pandas.read_csv`` + ``DataFrame.to_sql`` (chunks of 10,000) of the same file into a
plain table of the same four columns: no validation, no identity, no lifecycle. Each measurement runs in
its own process so its peak resident size (RSS) is its own.

Run: ``python benchmarks/bench_import.py [--rows 200000] [--postgres postgresql+psycopg://...]``.
The PostgreSQL database's ``public`` schema is dropped and re-created: give it a scratch database.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAPPING = HERE.parent / "examples" / "olist" / "mqls_as_contacts.toml"
ORIGINS = ["organic_search", "paid_search", "social", "direct_traffic", "email", "referral", "unknown",
           "other_publicities", "display", "other", ""]


def make_csv(path: Path, rows: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    pages = [hashlib.md5(f"page{i}".encode()).hexdigest() for i in range(500)]
    start = date(2017, 6, 1)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("mql_id,first_contact_date,landing_page_id,origin\n")
        for i in range(rows):
            mql = hashlib.md5(f"mql{i}".encode()).hexdigest()
            day = start + timedelta(days=rng.randrange(365))
            fh.write(f"{mql},{day.isoformat()},{rng.choice(pages)},{rng.choice(ORIGINS)}\n")


def _fresh(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from revteam.services.record.lifecycle import seed_default_stages
    from revteam.store.db import make_engine
    from revteam.store.models import Base

    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        seed_default_stages(s)
        s.commit()
    engine.dispose()


def child_ours(url: str, csv_path: Path) -> dict[str, float]:
    from revteam.ingest.mapping import load_mapping
    from revteam.ingest.service import run_import
    from revteam.store.db import make_engine, make_session_factory

    _fresh(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    t, cpu = time.perf_counter(), _cpu()
    report = run_import(sessions, "contacts", csv_path, now=datetime(2026, 3, 16, tzinfo=UTC),
                        actor="bench", mapping=load_mapping(MAPPING))
    seconds, cpu = time.perf_counter() - t, _cpu() - cpu
    t = time.perf_counter()
    again = run_import(sessions, "contacts", csv_path, now=datetime(2026, 3, 16, tzinfo=UTC),
                       actor="bench", mapping=load_mapping(MAPPING))
    reimport = time.perf_counter() - t
    engine.dispose()
    assert report.created == report.rows and again.unchanged == report.rows, (report.to_dict(), again.created)
    return {"rows": report.rows, "seconds": seconds, "reimport_seconds": reimport, "cpu_seconds": cpu}


def _cpu() -> float:
    """CPU seconds of this process: the rate per CPU second does not depend on what else the machine runs
    (for PostgreSQL the server's own work is not in it)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child_pandas(url: str, csv_path: Path) -> dict[str, float]:
    import pandas as pd
    from sqlalchemy import create_engine

    _fresh(url)
    engine = create_engine(url)
    t, cpu = time.perf_counter(), _cpu()
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    df.to_sql("peer_mqls", engine, if_exists="replace", index=False, chunksize=10_000)
    seconds, cpu = time.perf_counter() - t, _cpu() - cpu
    engine.dispose()
    return {"rows": len(df), "seconds": seconds, "reimport_seconds": float("nan"), "cpu_seconds": cpu}


def run_child(which: str, url: str, csv_path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", which, "--url", url, "--csv", str(csv_path)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--postgres", default=None, help="SQLAlchemy URL of a scratch PostgreSQL database")
    ap.add_argument("--no-peer", action="store_true", help="ours only (e.g. the 1M-row memory check)")
    ap.add_argument("--child", choices=["ours", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--csv", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        result = (child_ours if args.child == "ours" else child_pandas)(args.url, Path(args.csv))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "mqls.csv"
        make_csv(csv_path, args.rows)
        size_mb = csv_path.stat().st_size / 1e6
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        print(f"{args.rows:,} Olist-shaped contact rows ({size_mb:.1f} MB CSV)\n")
        print(f"{'database':<11} {'ours rows/s':>12} {'per CPU s':>10} {'re-import/s':>12} {'ours RSS MB':>12} "
              f"{'pandas rows/s':>14} {'per CPU s':>10} {'pandas RSS MB':>14} {'ours/pandas':>12}")
        for name, url in targets:
            if name == "SQLite":
                Path(tmp, "bench.db").unlink(missing_ok=True)
            ours = run_child("ours", url, csv_path)
            ours_rate = ours["rows"] / ours["seconds"]
            re_rate = ours["rows"] / ours["reimport_seconds"]
            ours_cpu = ours["rows"] / ours["cpu_seconds"]
            if args.no_peer:
                print(f"{name:<11} {ours_rate:>12,.0f} {ours_cpu:>10,.0f} {re_rate:>12,.0f} "
                      f"{ours['peak_rss_mb']:>12,.0f}")
                continue
            if name == "SQLite":
                Path(tmp, "bench.db").unlink(missing_ok=True)
            peer = run_child("pandas", url, csv_path)
            peer_rate = peer["rows"] / peer["seconds"]
            print(f"{name:<11} {ours_rate:>12,.0f} {ours_cpu:>10,.0f} {re_rate:>12,.0f} {ours['peak_rss_mb']:>12,.0f} "
                  f"{peer_rate:>14,.0f} {peer['rows'] / peer['cpu_seconds']:>10,.0f} {peer['peak_rss_mb']:>14,.0f} "
                  f"{ours_rate / peer_rate:>12.2f}")
        print(f"\nload average during the run: {os.getloadavg()[0]:.1f} (2 cores on the project machine)")


if __name__ == "__main__":
    main()
