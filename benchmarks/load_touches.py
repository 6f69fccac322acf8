"""Touch ingestion under load: ``POST /api/v1/touchpoints`` at a steady rate from several clients, with
repeats, against a real server (uvicorn on a loopback port), on SQLite and on PostgreSQL.

What is sent
    ``--clients`` threads (default 8), each with its own HTTP connection, together send ``--rate``
    events per second (default 200) for ``--seconds`` (default 60), in batches of ``--batch`` events.
    Repeats, as real senders make them:
      * about one event in ten is an event already sent (often by another client, often still in
        flight): it must be stored once and counted ``unchanged``;
      * one batch in ``--retry-every`` (default 10) is sent again at once with the same
        ``Idempotency-Key`` (a client retrying after a timeout): the stored answer comes back.
    Some events are demo requests, so contacts qualify and are handed to a rep while the load runs
    (the reaction queue: rescoring and hand-over exactly once per batch).

What is checked (the table): sent (distinct event ids), stored (rows in the database), created and
unchanged (summed over first answers), replayed answers, 5xx and other errors, p50/p95 latency, and
after the run: reactions still owed when the load ends (a request that drained its share of the queue
leaves the rest to the next request or the worker) and after one worker round (must be 0), and leads
with more than one open handoff (must be 0).
The run holds when sent = stored = created, and there are no 5xx.

Run (loopback only; PostgreSQL: the database's public schema is dropped and rebuilt)::

    python benchmarks/load_touches.py --seconds 60
    python benchmarks/load_touches.py --seconds 60 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench

``tests/concurrency/test_load_touches.py`` runs a 10-second version on both databases.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import func, select, text

from revteam.config import Settings
from revteam.runtime import build_runtime
from revteam.services.people.users import issue_api_token
from revteam.services.qualify.reactions import drain_touch_reactions, pending_reactions
from revteam.store.db import make_engine, upgrade_to_head
from revteam.store.models import (
    Account,
    Contact,
    Handoff,
    RoutingRuleRow,
    Touchpoint,
    User,
)
from revteam.web.app import create_app

SOURCE = "load"
CONTACTS = 300
START = datetime.now(UTC).replace(microsecond=0)


# ---------------------------------------------------------------- the server
class LiveServer:
    """The revteam app served by uvicorn on 127.0.0.1 (a free port) in a thread of this process."""

    def __init__(self, app: Any) -> None:
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def prepare(url: str) -> tuple[Any, str]:
    """A fresh revteam database at ``url`` with contacts, two SDRs and a marketer; (runtime, API token)."""
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as c:
            c.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            c.execute(text("CREATE SCHEMA public"))
    upgrade_to_head(engine)
    engine.dispose()
    runtime = build_runtime(Settings(database_url=url, env="test", warm_analytics=False))
    with runtime.sessions() as s:
        users = [User(email=f"{role}{i}@load.test", name=f"{role} {i}", role=role, password_hash="-", is_active=True,
                      created_at=START) for role, i in (("marketing", 1), ("sdr", 1), ("sdr", 2))]
        s.add_all(users)
        s.flush()
        s.add(RoutingRuleRow(position=1, strategy="round_robin", label="SDR pool", pool=[u.id for u in users[1:]],
                             for_role="sdr"))
        acc = Account(name="Load Corp", industry="software", employees=400, source_system=SOURCE, created_at=START)
        s.add(acc)
        s.flush()
        s.add_all(Contact(email=f"c{i}@load.test", first_name="C", last_name=str(i), title="VP Engineering",
                          stage="lead", stage_changed_at=START, original_source="web", created_at=START,
                          account_id=acc.id) for i in range(CONTACTS))
        s.commit()
        token = issue_api_token(s, users[0], name="load", now=START).token
    return runtime, token


# ---------------------------------------------------------------- the clients
@dataclass
class Tally:
    sent_ids: set[str] = field(default_factory=set)
    created: int = 0
    unchanged: int = 0
    replayed: int = 0
    requests: int = 0
    server_errors: int = 0
    other_errors: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _event(rng: random.Random, n: int) -> dict[str, Any]:
    kind = "demo_request" if rng.random() < 0.01 else rng.choice(["page_view", "page_view", "email_open", "email_click"])
    at = START - timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
    return {"event_id": f"ev-{n}", "email": f"c{rng.randrange(CONTACTS)}@load.test", "type": kind,
            "occurred_at": at.isoformat(), "url": "https://load.test/pricing"}


def run_load(base_url: str, token: str, *, rate: float, seconds: float, clients: int, batch: int,
             retry_every: int = 10, seed: int = 7) -> Tally:
    tally = Tally()
    recent: list[dict[str, Any]] = []  # events already sent, for repeats
    counter = iter(range(10**9))
    pick = threading.Lock()
    interval = batch * clients / rate  # seconds between one client's batches
    stop_at = time.monotonic() + seconds

    def post(client: httpx.Client, body: dict[str, Any], key: str) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = client.post("/api/v1/touchpoints", json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError as e:
            with tally.lock:
                tally.other_errors.append(f"{type(e).__name__}: {e}")
            return None
        with tally.lock:
            tally.latencies.append(time.perf_counter() - t0)
            tally.requests += 1
            if r.status_code >= 500:
                tally.server_errors += 1
            elif r.status_code != 200:
                tally.other_errors.append(f"{r.status_code}: {r.text[:200]}")
        return r

    def client_loop(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            next_at = time.monotonic() + rng.random() * interval
            n_batch = 0
            while True:
                now = time.monotonic()
                if now >= stop_at:
                    return
                if next_at > now:
                    time.sleep(next_at - now)
                next_at += interval
                events = []
                with pick:
                    for _ in range(batch):
                        if recent and rng.random() < 0.1:
                            repeat = rng.choice(recent[-200:])
                            if all(e["event_id"] != repeat["event_id"] for e in events):
                                events.append(repeat)
                                continue
                        events.append(_event(rng, next(counter)))
                    recent.extend(events)
                body = {"source_system": SOURCE, "events": events}
                key = str(uuid.uuid4())
                r = post(client, body, key)
                if r is not None and r.status_code == 200:
                    report = r.json()
                    with tally.lock:
                        tally.sent_ids.update(e["event_id"] for e in events)
                        tally.created += report["created"]
                        tally.unchanged += report["unchanged"]
                n_batch += 1
                if retry_every and n_batch % retry_every == 0:
                    again = post(client, body, key)
                    if again is not None and again.headers.get("idempotent-replayed") == "true":
                        with tally.lock:
                            tally.replayed += 1
                            if r is None or again.json() != r.json():
                                tally.other_errors.append("a replayed answer differs from the first")

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    return tally


@dataclass
class Result:
    database: str
    seconds: float
    tally: Tally
    stored: int
    owed_after_load: int  # reactions a request left to the worker (the next request or round takes them)
    owed: int  # after one worker round
    double_open: int
    handoffs: int

    @property
    def holds(self) -> bool:
        t = self.tally
        return (len(t.sent_ids) == self.stored == t.created and t.server_errors == 0 and not t.other_errors
                and self.owed == 0 and self.double_open == 0)

    def row(self) -> list[str]:
        t = self.tally
        lat = sorted(t.latencies) or [0.0]
        p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))]
        rate = (t.created + t.unchanged) / self.seconds
        return [self.database, f"{len(t.sent_ids):,}", f"{self.stored:,}", f"{t.created:,}", f"{t.unchanged:,}",
                f"{t.replayed:,}", f"{t.requests:,}", str(t.server_errors), str(len(t.other_errors)),
                f"{statistics.median(lat) * 1000:.0f}", f"{p95 * 1000:.0f}", f"{rate:.0f}", str(self.handoffs),
                f"{self.owed_after_load}/{self.owed}", str(self.double_open), "yes" if self.holds else "NO"]


HEADER = ["database", "sent", "stored", "created", "unchanged", "replayed", "requests", "5xx", "other errors",
          "p50 ms", "p95 ms", "events/s", "handoffs", "owed (load/worker)", "2 open", "holds"]


def measure(database: str, url: str, *, rate: float, seconds: float, clients: int, batch: int) -> Result:
    runtime, token = prepare(url)
    try:
        app = create_app(runtime)
        with LiveServer(app) as base_url:
            t0 = time.perf_counter()
            tally = run_load(base_url, token, rate=rate, seconds=seconds, clients=clients, batch=batch)
            elapsed = time.perf_counter() - t0
        with runtime.sessions() as s:
            owed_after_load = pending_reactions(s)
        drain_touch_reactions(runtime.sessions, now=datetime.now(UTC))  # the worker's round
        with runtime.sessions() as s:
            stored = s.scalar(select(func.count()).select_from(Touchpoint).where(Touchpoint.source_system == SOURCE)) or 0
            owed = pending_reactions(s)
            open_per_lead = select(Handoff.contact_id).where(Handoff.status.in_(("pending", "unassigned"))) \
                .group_by(Handoff.contact_id, Handoff.kind).having(func.count() > 1)
            double_open = len(s.scalars(open_per_lead).all())
            handoffs = s.scalar(select(func.count()).select_from(Handoff)) or 0
        return Result(database, elapsed, tally, stored, owed_after_load, owed, double_open, handoffs)
    finally:
        runtime.engine.dispose()


def table(results: list[Result]) -> str:
    rows = [HEADER, *(r.row() for r in results)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=float, default=200, help="events per second, all clients together")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--batch", type=int, default=10, help="events per request")
    ap.add_argument("--postgres", help="a PostgreSQL URL to run on too (its public schema is rebuilt)")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [] if args.no_sqlite else [("SQLite", f"sqlite:///{Path(tmp) / 'load.db'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for name, url in targets:
            results.append(measure(name, url, rate=args.rate, seconds=args.seconds, clients=args.clients,
                                   batch=args.batch))
            print(f"{name}: done", flush=True)
    print(f"\n{args.clients} clients, {args.rate:.0f} events/s for {args.seconds:.0f} s, {args.batch} events per request, "
          f"~10% repeated events, every 10th batch re-sent with its Idempotency-Key\n")
    print(table(results))
    for r in results:
        for e in r.tally.other_errors[:5]:
            print(f"{r.database}: {e}")
    raise SystemExit(0 if all(r.holds for r in results) else 1)


if __name__ == "__main__":
    main()
