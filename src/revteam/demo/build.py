"""Build the demo company: generate (pure, seeded) then write (one transaction) then measure.

``generate_company(seed=, now=, scale=)`` is a pure function of its arguments: it reads no clock and
no global random state (every phase draws from its own ``random.Random(f"{seed}:{phase}")``), so the
same seed and ``now`` give the same company, row for row. ``build_demo_company`` writes it with Core
inserts inside ``engine.begin()`` (all or nothing), refusing a database that already holds data
unless ``reset=True``, and returns a ``DemoSummary`` measured back from the tables.

Password hashing (argon2, deliberately slow) runs on worker threads while the company is generated;
the hashes are kept for the life of the process, so repeated builds (tests) pay for them once.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from revteam.demo import shape, writer
from revteam.demo.accounts import AccountDraft, account_rows, build_accounts
from revteam.demo.catalogue import build_catalogue, campaign_rows, content_rows
from revteam.demo.deals import DealDraft, DealMaker
from revteam.demo.journeys import ContactDraft, JourneyMaker
from revteam.demo.measure import measure_demo
from revteam.demo.people import DEMO_PASSWORD, People, build_people, rep_profile_rows
from revteam.demo.rows import COLUMNS, RowSet, account_owner_rows, contact_history_rows, deal_rows
from revteam.demo.targets import target_rows
from revteam.demo.timebase import DemoCalendar
from revteam.domain.lifecycle import DEFAULT_STAGES, STAGE_LABELS
from revteam.errors import Conflict, InvalidInput
from revteam.security import hash_password

Progress = Callable[[str, int, int], None]
GEN_TICK = 500  # contacts between progress updates while generating
HASH_THREADS = 2  # one argon2 hash per user, two at a time


@dataclass
class DemoCompany:
    """Everything generated, as rows ready for the writer."""

    seed: int
    now: datetime
    scale: float
    people: People
    tables: dict[str, list[Any]] = field(default_factory=dict)  # name -> dict rows or tuples (see rows.COLUMNS)


@dataclass
class DemoSummary:
    seed: int
    now: str
    scale: float
    seconds: float
    rows_written: dict[str, int]
    logins: list[dict[str, str]]
    password: str
    measured: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _tick(progress: Progress | None, phase: str, done: int, total: int) -> None:
    if progress is not None:
        progress(phase, done, total)


def generate_company(*, seed: int, now: datetime, scale: float = 1.0, progress: Progress | None = None) -> DemoCompany:
    """The whole demo company as rows; pure: same arguments, same rows."""
    if not scale > 0:
        raise InvalidInput(f"--scale must be above 0 (got {scale}); 1.0 is the full company, 0.02 a tiny one.",
                           code="demo_bad_scale")
    cal = DemoCalendar(now)
    rng = {p: random.Random(f"{seed}:{p}") for p in ("catalogue", "accounts", "journeys", "deals", "targets")}
    people = build_people(cal.start - timedelta(days=200))
    cat = build_catalogue(rng["catalogue"], cal, people.marketing)
    n_accounts = max(5, round(shape.BASE_ACCOUNTS * scale))
    n_contacts = max(n_accounts, round(shape.BASE_CONTACTS * scale))
    accounts = build_accounts(rng["accounts"], people, n_accounts, n_contacts)
    jm = JourneyMaker(rng["journeys"], cal, cat, people)
    contacts = jm.draft_contacts(accounts)
    phase = "Generating contact journeys"
    for i, c in enumerate(contacts, start=1):
        jm.run(c)
        if i % GEN_TICK == 0 or i == len(contacts):
            _tick(progress, phase, i, len(contacts))
    deals = _make_deals(DealMaker(rng["deals"], cal, people), accounts, contacts, progress)
    jm.scrub_unfollowed(contacts)
    out = RowSet()
    contact_history_rows(contacts, cal, out)
    account_owner_rows(accounts, cal, out)
    deal_rows(deals, cal, out)
    company = DemoCompany(seed, now, scale, people)
    company.tables = {
        "teams": [{"id": i, "name": n, "function": f} for i, n, f in people.teams],
        "users": [dict(u) for u in people.users],
        "rep_profiles": rep_profile_rows(people),
        "campaigns": campaign_rows(cat, cal),
        "content_assets": content_rows(cat, cal),
        "accounts": account_rows(accounts, cal),
        **out.rows,
        "targets": target_rows(out, cal, rng["targets"]),
    }
    return company


def _make_deals(dm: DealMaker, accounts: list[AccountDraft], contacts: list[ContactDraft],
                progress: Progress | None) -> list[DealDraft]:
    by_account: dict[int, list[ContactDraft]] = {}
    for c in contacts:
        by_account.setdefault(c.account.id, []).append(c)
    deals: list[DealDraft] = []
    for i, a in enumerate(accounts, start=1):
        deals.extend(dm.run(a, by_account.get(a.id, [])))
        if i % 200 == 0 or i == len(accounts):
            _tick(progress, "Generating deals", i, len(accounts))
    deals.sort(key=lambda d: (d.created, d.account.id))
    for i, d in enumerate(deals, start=1):
        d.id = i
    return deals


PHASE_LABELS = {"touchpoints": "Writing touchpoints", "touchpoints+properties": "Writing sales touches with notes"}
# the order rows are written in: parents before children
WRITE_ORDER = ("teams", "users", "rep_profiles", "campaigns", "content_assets", "accounts", "contacts", "touchpoints",
               "touchpoints+properties", "stage_changes", "owner_changes", "deals", "deal_contacts", "targets")


def _engine_of(target: Engine | sessionmaker[Session]) -> Engine:
    if isinstance(target, Engine):
        return target
    bind = target.kw.get("bind")
    if not isinstance(bind, Engine):
        raise InvalidInput("build_demo_company needs an Engine or a sessionmaker bound to one.", code="demo_no_engine")
    return bind


def build_demo_company(target: Engine | sessionmaker[Session], *, seed: int, now: datetime, scale: float = 1.0,
                       progress: Progress | None = None, reset: bool = False) -> DemoSummary:
    """Generate the demo company and write it in one transaction; refuse a non-empty database unless ``reset``."""
    started = time.perf_counter()
    engine = _engine_of(target)
    with engine.connect() as conn:
        in_use = writer.non_empty_tables(conn)
    if in_use and not reset:
        what = ", ".join(f"{n:,} {t}" for t, n in in_use.items())
        raise Conflict(
            f"The database already holds data ({what}); the demo only builds into an empty one. Run "
            "`revteam demo --reset` to delete everything in it first, or point REVTEAM_DATABASE_URL at a new file.",
            code="demo_database_not_empty",
        )
    with ThreadPoolExecutor(max_workers=1) as pool:  # argon2 releases the GIL: hash while generating
        hashes = pool.submit(_password_hashes, len(build_people(now).users))
        company = generate_company(seed=seed, now=now, scale=scale, progress=progress)
        for user, h in zip(company.tables["users"], hashes.result()):
            user["password_hash"] = h
    written: dict[str, int] = {}
    with engine.begin() as conn:
        if reset:
            _tick(progress, "Emptying the database", 0, 1)
            writer.clear_all(conn)
            _tick(progress, "Emptying the database", 1, 1)
        writer.reseed_stages(conn, _default_stage_rows())
        for name in WRITE_ORDER:
            rows = company.tables[name]
            table = "touchpoints" if name.startswith("touchpoints") else name
            cols = COLUMNS.get(name, ())
            written[table] = written.get(table, 0) + writer.write_rows(
                conn, table, cols, rows, phase=PHASE_LABELS.get(name, f"Writing {name}"), progress=progress)
        audit = _audit_rows(company, written)
        written["audit_log"] = writer.write_rows(conn, "audit_log", (), audit)
        writer.advance_sequences(conn)
        measured = measure_demo(conn)
    return DemoSummary(seed=seed, now=now.isoformat(), scale=scale, seconds=round(time.perf_counter() - started, 2),
                       rows_written=written, logins=company.people.logins, password=DEMO_PASSWORD, measured=measured)


@functools.lru_cache(maxsize=2)
def _password_hashes(n: int) -> tuple[str, ...]:
    """One argon2 hash of the demo password per user (each with its own salt), computed once per process."""
    with ThreadPoolExecutor(max_workers=HASH_THREADS) as pool:
        return tuple(pool.map(hash_password, [DEMO_PASSWORD] * n))


def _default_stage_rows() -> list[tuple[str, str, int, str]]:
    main = [(k, STAGE_LABELS[k], i, "main") for i, k in enumerate(DEFAULT_STAGES.main)]
    return main + [(k, STAGE_LABELS[k], 100 + i, "side") for i, k in enumerate(DEFAULT_STAGES.side)]


def _audit_rows(company: DemoCompany, written: dict[str, int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for u in company.tables["users"]:
        rows.append({"at": u["created_at"], "actor_user_id": None, "actor": "demo", "action": "user.added",
                     "entity": "user", "entity_id": str(u["id"]), "detail": {"role": u["role"]}})
    rows.append({"at": company.now, "actor_user_id": None, "actor": "demo", "action": "targets.set", "entity": "target",
                 "entity_id": None, "detail": {"rows": len(company.tables["targets"])}})
    rows.append({"at": company.now, "actor_user_id": None, "actor": "demo", "action": "demo.built", "entity": "demo",
                 "entity_id": str(company.seed),
                 "detail": {"seed": company.seed, "scale": company.scale, "now": company.now.isoformat(),
                            "rows": dict(written), "territories": company.people.territories}})
    for i, r in enumerate(rows, start=1):
        r["id"] = i
    return rows
