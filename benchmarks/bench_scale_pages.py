"""The page benchmark against a real server at scale (``bench_pages.py --scale N``).

``revteam serve`` runs as its own process on the demo company at ``--scale`` (built into ``--db`` unless it
is there; point ``--db`` at a database ``revteam demo --scale 10`` built to skip the build), with the
warm-up on and the worker off (its SLA ticks would move the data while we measure). The script logs in
as the CRO (a web session written to the database, as the log-in page does) and asks each page over HTTP.

1. **first start**: the server starts (without a kept snapshot if ``--fresh`` or none is there: it reads
   every table whole and keeps the snapshot), each page once; then the server stops.
2. **restart**: the server starts again and finds the kept snapshot. Each page is asked once, in order,
   at once (the warm-up runs beside, as on any restart): its *first request after a restart*.
3. **warm**: once the server is idle (the warm-up done), each page ``--repeat`` times: median and slowest.
4. **a write shows**: one open deal closes won (an UPDATE committed here, as a rep's click would) and the
   attribution page is asked every 0.25 s until it shows it: the seconds from the commit; then a lead
   becomes an MQL (a new stage change) and the funnel page is asked the same way.
   Then, idle again, each page once (*after the change*). The deal is put back at the end.
5. the server's peak resident memory (``VmHWM`` of its process) after each phase of the server's life.
6. **a restart that follows writes**: the server stops, the deal and the stage change are put back (writes
   while no server runs), and a new server asks each page once: the kept snapshot reads only those rows,
   but the kept answers no longer hold, so each first request computes (beside the warm-up).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench_pages import NOW, SEED, build, pages
from revteam.analytics.snapshot_store import SnapshotStore
from revteam.config import Settings
from revteam.runtime import build_runtime
from revteam.services.people.access import start_session
from revteam.store.models import Contact, Deal, StageChange, User
from revteam.web.sessions import COOKIE_NAME

TARGET_FIRST_S, TARGET_WARM_MS, TARGET_RSS_MB = 5.0, 300.0, 3 * 1024


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``revteam serve`` in its own process, and what /proc says about it."""

    def __init__(self, url: str, port: int) -> None:
        env = {**os.environ, "REVTEAM_DATABASE_URL": url, "REVTEAM_WARM_ANALYTICS": "true",
               "REVTEAM_RUN_WORKER_IN_SERVE": "false", "REVTEAM_ENV": "development"}
        bin_dir = Path(sys.executable).parent
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([str(bin_dir / "revteam"), "serve", "--port", str(port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.base = f"http://127.0.0.1:{port}"
        while True:
            try:
                httpx.get(self.base + "/login", timeout=2)
                break
            except httpx.TransportError:
                if self.proc.poll() is not None:
                    raise SystemExit(f"revteam serve ended: {self.proc.stderr.read()[-2000:]}")
                time.sleep(0.2)
        self.listening_s = time.perf_counter() - self.started

    def status(self, field: str) -> int:
        """A /proc/<pid>/status field in MiB (VmHWM: the peak resident set so far; VmRSS: now)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
        return -1

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, *, quiet_s: float = 3.0, timeout: float = 1800) -> float:
        """Wait until the server used under 5 % of a core for ``quiet_s`` seconds (the warm-up done)."""
        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            before = self.cpu_s()
            time.sleep(quiet_s)
            if self.cpu_s() - before < 0.05 * quiet_s:
                return time.perf_counter() - started
        raise SystemExit("the server did not go idle")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _login(url: str) -> str:
    rt = build_runtime(Settings(database_url=url), migrate=False)
    with rt.sessions() as s:
        cro = s.scalar(select(User).where(User.email == "cro@demo.revteam.test"))
        token, _ = start_session(s, cro, now=datetime.now(timezone.utc), hours=12)
        s.commit()
    rt.engine.dispose()
    return token


def _client(server: Server, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.base, cookies={COOKIE_NAME: token}, timeout=600, follow_redirects=False)


def _timed(c: httpx.Client, path: str) -> tuple[float, str]:
    started = time.perf_counter()
    r = c.get(path)
    ms = (time.perf_counter() - started) * 1000
    if r.status_code != 200:
        raise SystemExit(f"{path} answered {r.status_code}: {r.text[:300]}")
    return ms, r.text


_VOLATILE = re.compile(r'(csrf[^>]*>|nonce="[^"]*"|\d+(\.\d+)? ms\b)')


def _shown(html: str) -> str:
    return _VOLATILE.sub("", html)


def run_scaled(args: Any) -> None:
    db = args.db if args.db != Path("/tmp/revteam-bench-pages/demo.db") else Path(
        f"/tmp/revteam-bench-pages/demo-{args.scale:g}x.db")
    url = build(db, args.rebuild, scale=args.scale)  # prints how long a build took
    rt = build_runtime(Settings(database_url=url))  # migrates to head (the change log)
    plan = pages(rt)
    rt.engine.dispose()
    if args.fresh:
        folder = SnapshotStore().folder(rt.engine)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
    token = _login(url)
    port = _free_port()

    server = Server(url, port)  # 1. first start
    c = _client(server, token)
    first_start = {name: _timed(c, path)[0] for name, path in plan}
    print(f"first start: listening after {server.listening_s:.1f} s; "
          + ", ".join(f"{n} {ms / 1000:.1f} s" for n, ms in first_start.items()), flush=True)
    server.wait_idle()
    first_start_peak = server.status("VmHWM")
    server.stop()

    server = Server(url, port)  # 2. restart, with the kept snapshot
    c = _client(server, token)
    after_restart = {name: _timed(c, path)[0] for name, path in plan}
    print("restart: " + ", ".join(f"{n} {ms / 1000:.1f} s" for n, ms in after_restart.items()), flush=True)
    warm_up_s = server.wait_idle()
    warm: dict[str, tuple[float, float]] = {}  # 3. warm
    shown: dict[str, str] = {}
    for name, path in plan:
        runs = [_timed(c, path) for _ in range(args.repeat)]
        warm[name] = (statistics.median(ms for ms, _ in runs), max(ms for ms, _ in runs))
        shown[path] = _shown(runs[-1][1])
    warm_peak = server.status("VmHWM")

    with_sessions = build_runtime(Settings(database_url=url), migrate=False)  # 4. a write shows
    with with_sessions.sessions() as s:
        deal = s.scalars(select(Deal).where(Deal.outcome == "open").order_by(Deal.id).limit(1)).one()
        was = {"id": deal.id, "outcome": deal.outcome, "stage": deal.stage, "closed_on": deal.closed_on}
        deal.outcome, deal.stage, deal.closed_on = "won", "won", NOW.date()
        s.commit()
    committed = time.perf_counter()
    while _shown(_timed(c, "/attribution")[1]) == shown["/attribution"]:
        if time.perf_counter() - committed > 900:
            raise SystemExit("the closed deal did not show in 15 minutes")
        time.sleep(0.25)
    visible_s = time.perf_counter() - committed
    with with_sessions.sessions() as s:  # and a lead becomes an MQL (a new stage change): the funnel moves
        lead = s.scalars(select(Contact).where(Contact.stage == "lead").order_by(Contact.id).limit(1)).one()
        change = StageChange(contact_id=lead.id, from_stage="lead", to_stage="mql", changed_at=NOW)
        s.add(change)
        s.commit()
        change_id = change.id
    committed = time.perf_counter()
    while _shown(_timed(c, "/funnel")[1]) == shown["/funnel"]:
        if time.perf_counter() - committed > 900:
            raise SystemExit("the new MQL did not show in 15 minutes")
        time.sleep(0.25)
    funnel_visible_s = time.perf_counter() - committed
    rewarm_s = server.wait_idle()
    after_change = {name: _timed(c, path)[0] for name, path in plan}
    peak, now_rss = server.status("VmHWM"), server.status("VmRSS")
    server.stop()
    with with_sessions.sessions() as s:  # the next run measures the same company (written while no server runs)
        deal = s.get(Deal, was["id"])
        deal.outcome, deal.stage, deal.closed_on = was["outcome"], was["stage"], was["closed_on"]
        s.delete(s.get(StageChange, change_id))
        s.commit()
    with_sessions.engine.dispose()

    server = Server(url, port)  # 6. a restart after writes: the kept snapshot reads the rows, the answers are void
    c = _client(server, token)
    after_writes = {name: _timed(c, path)[0] for name, path in plan}
    server.wait_idle()
    written_peak = server.status("VmHWM")
    server.stop()

    print(f"\nDemo company at scale {args.scale:g} (seed {SEED}), SQLite, {os.cpu_count()} cores, measured "
          f"{date.today()}, load average at the end {os.getloadavg()[0]:.1f}.")
    print(f"Server: listening {server.listening_s:.1f} s after a restart; warm-up done {warm_up_s:.0f} s after the "
          f"restart's first pass; a deal closed won showed on /attribution after {visible_s:.1f} s, a new MQL on "
          f"/funnel {funnel_visible_s:.1f} s after its commit, every page re-warmed {rewarm_s:.0f} s later; peak resident memory {first_start_peak:,} MiB in the first start "
          f"(no kept snapshot{' (deleted)' if args.fresh else ''}), {warm_peak:,} MiB after the restart and warm-up, "
          f"{peak:,} MiB after the change and re-warm ({now_rss:,} MiB resident then), {written_peak:,} MiB in a "
          f"restart after writes made while it was stopped.\n")
    print("| page | first start s | first after a restart s | warm: median ms | warm: max ms | after a change ms "
          "| first after a restart that follows writes s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, path in plan:
        label = path.split("?")[0] if "/deals/" in path or path.startswith("/content/") else path
        print(f"| {name} (`{label}`) | {first_start[name] / 1000:,.1f} | {after_restart[name] / 1000:,.1f} | "
              f"{warm[name][0]:,.0f} | {warm[name][1]:,.0f} | {after_change[name]:,.0f} | "
              f"{after_writes[name] / 1000:,.1f} |")
    slow = [n for n in plan_names(plan) if after_restart[n] >= TARGET_FIRST_S * 1000]
    over = [n for n in plan_names(plan) if max(warm[n][1], after_change[n]) >= TARGET_WARM_MS]
    print(f"\nfirst request after a restart at or over {TARGET_FIRST_S:g} s: {', '.join(slow) or 'none'}")
    slow = [n for n in plan_names(plan) if after_writes[n] >= TARGET_FIRST_S * 1000]
    print(f"first request after a restart that follows writes at or over {TARGET_FIRST_S:g} s: {', '.join(slow) or 'none'}")
    print(f"warm pages at or over {TARGET_WARM_MS:g} ms: {', '.join(over) or 'none'}")
    top = max(first_start_peak, warm_peak, peak, written_peak)
    print(f"server peak {top:,} MiB: {'under' if top < TARGET_RSS_MB else 'OVER'} the {TARGET_RSS_MB:,} MiB target")


def plan_names(plan: list[tuple[str, str]]) -> list[str]:
    return [name for name, _path in plan]
