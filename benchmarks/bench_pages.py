"""Page benchmark: every analytics page on the demo company, cold and warm. Target: under 300 ms once warm.

Builds the demo company (``revteam demo``'s generator, seed 20261125, "now" 2026-11-25 09:48 UTC) into
``--db`` unless it is there, logs in as the CRO (a web session, as the browser has) and requests each page
through the FastAPI app in process (``TestClient``: routing, the access policy, the session, the template,
everything but the socket).

cold   the page's first request in a fresh process with the warm-up off: a new runtime and app per page,
       so each pays for what it needs itself (the snapshot, compiling its SQL, building journeys).
warm   after the app's warm-up thread (``web/warm.py``) finished its first round: the first request, then
       the median and the slowest of ``--repeat`` more.
Then one deal closes won (an UPDATE: no new row) and the warm-up runs again; the table's last column is
the first request after that second round, and the script prints how long each round took.

Run: `python benchmarks/bench_pages.py [--db PATH] [--rebuild] [--repeat N]` (prints a Markdown table).

``--scale N`` measures a real server instead (``benchmarks/bench_scale_pages.py``): the demo company at N
times its size (``revteam demo --scale N``; 10 is 200,000 contacts and 4.6M touches), ``revteam serve`` as its
own process, pages over HTTP: the first request of each page after a restart (with the kept snapshot),
warm medians, how long a write takes to show, and the server's peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from revteam.config import Settings
from revteam.runtime import Runtime, build_runtime
from revteam.store.models import ContentAsset, Deal, User
from revteam.web.app import create_app
from revteam.services.people.access import start_session
from revteam.web.sessions import COOKIE_NAME

SEED = 20261125
NOW = datetime(2026, 11, 25, 9, 48, tzinfo=timezone.utc)
BREAKDOWNS = ("source", "campaign", "persona", "segment", "region", "industry", "rep", "channel", "landing_page",
              "content", "month")


def build(db: Path, rebuild: bool, scale: float = 1.0) -> str:
    url = f"sqlite:///{db}"
    if db.exists() and not rebuild:
        return url
    from revteam.demo.build import build_demo_company

    db.parent.mkdir(parents=True, exist_ok=True)
    rt = build_runtime(Settings(database_url=url))
    started = time.perf_counter()
    build_demo_company(rt.engine, seed=SEED, now=NOW, reset=True, scale=scale)
    print(f"built the demo company (scale {scale:g}) in {time.perf_counter() - started:.1f} s: {db}")
    rt.engine.dispose()
    return url


def pages(rt: Runtime) -> list[tuple[str, str]]:
    with rt.sessions() as s:
        won = s.scalars(select(Deal.id).where(Deal.outcome == "won").order_by(Deal.closed_on.desc()).limit(3)).all()
        piece = s.scalar(select(ContentAsset.id).where(ContentAsset.title.like("How much does revenue operations%")))
    out = [("funnel", "/funnel")]
    out += [(f"funnel by {by}", f"/funnel?by={by}") for by in BREAKDOWNS]
    out += [("funnel, period mode", "/funnel?mode=period"), ("funnel, period mode by month", "/funnel?mode=period&by=month"),
            ("attribution (channel, W-shaped)", "/attribution"),
            ("attribution by campaign", "/attribution?grain=campaign"),
            ("attribution by content", "/attribution?grain=content"),
            ("attribution by content, Shapley", "/attribution?grain=content&model=shapley"),
            ("attribution, conversions to MQL (last 90 days)", "/attribution?stage=mql"),
            ("attribution by content, conversions to SQL", "/attribution?grain=content&stage=sql"),
            ("a won deal's attribution", f"/attribution/deals/{won[0]}"),
            ("another won deal (first visit)", f"/attribution/deals/{won[1]}"),
            ("a won deal, content grain, Markov", f"/attribution/deals/{won[2]}?grain=content&model=markov"),
            ("content ROI", "/content"),
            ("content ROI, Linear, by credited", "/content?model=linear&sort=credited"),
            ("content ROI, top five of an earlier month", "/content?month=2026-09"),
            ("a content piece", f"/content/{piece}"),
            ("revenue & forecast", "/forecast")]
    return out


def client(rt: Runtime, app: Any) -> TestClient:
    with rt.sessions() as s:
        cro = s.scalar(select(User).where(User.email == "cro@demo.revteam.test"))
        token, _ = start_session(s, cro, now=datetime.now(timezone.utc), hours=8)
        s.commit()
    c = TestClient(app, follow_redirects=False)
    c.cookies.set(COOKIE_NAME, token)
    return c


def timed(c: TestClient, path: str) -> float:
    started = time.perf_counter()
    r = c.get(path)
    ms = (time.perf_counter() - started) * 1000
    if r.status_code != 200:
        raise SystemExit(f"{path} answered {r.status_code}: {r.text[:300]}")
    return ms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/revteam-bench-pages/demo.db"))
    ap.add_argument("--rebuild", action="store_true", help="Build the demo company again even if --db exists.")
    ap.add_argument("--repeat", type=int, default=5, help="Warm requests per page after the first.")
    ap.add_argument("--scale", type=float, default=None,
                    help="Measure a real server on the demo company at this scale (see bench_scale_pages.py).")
    ap.add_argument("--fresh", action="store_true", help="With --scale: delete the kept snapshot first.")
    args = ap.parse_args()
    if args.scale is not None:
        from bench_scale_pages import run_scaled

        return run_scaled(args)
    url = build(args.db, args.rebuild)
    cold_settings = Settings(database_url=url, warm_analytics=False)
    warm_settings = Settings(database_url=url, warm_analytics=True, warm_interval_seconds=0.5)

    first = build_runtime(cold_settings)
    plan = pages(first)
    first.engine.dispose()
    cold: dict[str, float] = {}
    for name, path in plan:  # a fresh process per page: nothing cached
        rt = build_runtime(cold_settings, migrate=False)
        app = create_app(rt)
        cold[name] = timed(client(rt, app), path)
        rt.engine.dispose()
        print(f"cold {name}: {cold[name]:.0f} ms", flush=True)

    rt = build_runtime(warm_settings, migrate=False)
    app = create_app(rt)
    with TestClient(app):  # its lifespan starts the warm-up thread
        warmer = app.state.warmer
        started = time.perf_counter()
        if not warmer.wait(1, timeout=900):
            raise SystemExit("the warm-up did not finish in 15 minutes")
        first_round = time.perf_counter() - started
        c = client(rt, app)
        warm: dict[str, tuple[float, float, float]] = {}
        for name, path in plan:
            once = timed(c, path)
            again = [timed(c, path) for _ in range(args.repeat)]
            warm[name] = (once, statistics.median(again), max(again))
        with rt.sessions() as s:  # one open deal closes won: an UPDATE, no new row (put back at the end)
            deal = s.scalars(select(Deal).where(Deal.outcome == "open").order_by(Deal.id).limit(1)).one()
            was = {"id": deal.id, "outcome": deal.outcome, "stage": deal.stage, "closed_on": deal.closed_on}
            deal.outcome, deal.stage, deal.closed_on = "won", "won", NOW.date()
            s.commit()
        started = time.perf_counter()
        if not warmer.wait(2, timeout=900):
            raise SystemExit("no warm-up after the data changed")
        second_round = time.perf_counter() - started
        after = {name: timed(c, path) for name, path in plan}
        slow_steps = sorted(warmer.last.items(), key=lambda kv: -kv[1])[:3]
    with rt.sessions() as s:  # the next run measures the same company
        deal = s.get(Deal, was["id"])
        deal.outcome, deal.stage, deal.closed_on = was["outcome"], was["stage"], was["closed_on"]
        s.commit()
    rt.engine.dispose()

    print(f"\nDemo company (seed {SEED}, now {NOW:%Y-%m-%d %H:%M} UTC), SQLite, {os.cpu_count()} cores, "
          f"measured {date.today()}; warm-up: first round {first_round:.1f} s after start, "
          f"{second_round:.1f} s after a deal closed won (slowest steps: "
          + ", ".join(f"{n} {ms:,.0f} ms" for n, ms in slow_steps) + ").\n")
    print("| page | cold ms | warm: first ms | warm: median ms | warm: max ms | after a change, re-warmed ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, path in plan:
        once, median, worst = warm[name]
        print(f"| {name} (`{path.split('?')[0] if '/deals/' in path or path.startswith('/content/') else path}`) "
              f"| {cold[name]:,.0f} | {once:,.0f} | {median:,.0f} | {worst:,.0f} | {after[name]:,.0f} |")
    over = [name for name in warm if max(warm[name][0], warm[name][2], after[name]) >= 300]
    print(f"\nwarm pages at or over 300 ms: {', '.join(over) if over else 'none'}")


if __name__ == "__main__":
    main()
