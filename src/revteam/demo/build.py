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

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from revteam.demo import shape, writer
from revteam.demo.accounts import AccountDraft, account_rows, build_accounts
from revteam.demo.catalogue import build_catalogue, campaign_rows, content_rows
from revteam.demo.deals import DealDraft, DealMaker, plan_stages
from revteam.demo.estimate import QuickScore
from revteam.demo.handoffs import (
    HandoffWriter,
    SlaVersion,
    notification_rows,
    outbox_rows,
    plan_disputes,
    review_rows,
    routing_rule_rows,
    sla_plan,
)
from revteam.demo.journeys import ContactDraft, JourneyMaker
from revteam.demo.measure import measure_demo
from revteam.demo.people import DEMO_PASSWORD, People, build_people, rep_profile_rows
from revteam.demo.rows import COLUMNS, RowSet, account_owner_rows, contact_history_rows, deal_rows
from revteam.demo.scores import TouchColumns, contact_fields, default_model, score_at_handoffs, score_now
from revteam.demo.targets import target_rows
from revteam.demo.timebase import DemoCalendar
from revteam.domain.lifecycle import DEFAULT_STAGES, STAGE_LABELS
from revteam.domain.scoring import ScoreBatch, model_to_toml
from revteam.errors import Conflict, InvalidInput
from revteam.security import hash_password
from revteam.store import data_versions
from revteam.store.models import User

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
    scores: ScoreBatch | None = None  # every contact scored at "now" (stored through services.scoring.store_scores)
    sla: list[SlaVersion] = field(default_factory=list)  # proposed and signed through services.agreement
    disputes: list[dict[str, Any]] = field(default_factory=list)  # opened and voted through services.decisions
    first_tick: Any = None  # what the worker's tick at "now" found to do during the build


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
    rng = {p: random.Random(f"{seed}:{p}")
           for p in ("catalogue", "accounts", "journeys", "deals", "stages", "targets", "sla", "disputes")}
    people = build_people(cal.start - timedelta(days=200))
    cat = build_catalogue(rng["catalogue"], cal, people.marketing)
    n_accounts = max(5, round(shape.BASE_ACCOUNTS * scale))
    n_contacts = max(n_accounts, round(shape.BASE_CONTACTS * scale))
    n_surge = shape.SURGE_CONTACTS if scale >= shape.SURGE_MIN_SCALE and n_contacts > 4 * shape.SURGE_CONTACTS else 0
    accounts = build_accounts(rng["accounts"], people, n_accounts, n_contacts - n_surge)
    model = default_model()
    quick = QuickScore(model, {c.id: f"demo-cmp-{c.id:03d}" for c in cat.campaigns},
                       {c.id: c.category for c in cat.content})
    jm = JourneyMaker(rng["journeys"], cal, cat, people, quick)
    contacts = jm.draft_contacts(accounts, surge=n_surge)
    phase = "Generating contact journeys"
    for i, c in enumerate(contacts, start=1):
        jm.run(c)
        if i % GEN_TICK == 0 or i == len(contacts):
            _tick(progress, phase, i, len(contacts))
    deals = _make_deals(DealMaker(rng["deals"], cal, people), accounts, contacts, progress)
    for d in deals:
        plan_stages(d, rng["stages"])
    jm.scrub_unfollowed(contacts)
    jm.thin_unqualified(contacts)
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
    _tick(progress, "Scoring and handoffs", 0, 1)
    _handoff_history(company, cal, contacts, deals, rng)
    _tick(progress, "Scoring and handoffs", 1, 1)
    return company


def _handoff_history(company: DemoCompany, cal: DemoCalendar, drafts: list[ContactDraft], deals: list[DealDraft],
                     rng: dict[str, random.Random]) -> None:
    """Scores (the app's scorer), the SLA plan, routing and notification settings, every handoff with its
    clock and context, the notifications the worker sent, scoring reviews, and the disputes to stage."""
    t = company.tables
    model = default_model()
    accounts = {a["id"]: a for a in t["accounts"]}
    touches = TouchColumns.from_rows(t["touchpoints"], t["touchpoints+properties"], t["campaigns"], t["content_assets"])
    fields = contact_fields(t["contacts"], accounts)
    company.scores = score_now(model, t["contacts"], fields, touches, cal.now)
    company.sla = sla_plan(cal, company.scale, rng["sla"])
    hw = HandoffWriter(cal, model, company.sla, touches, accounts, {c["id"]: c["name"] for c in t["campaigns"]}, deals)
    items, handed = hw.build(drafts, t["contacts"], fields)
    at_handover = score_at_handoffs(model, fields, [c.id for c, _h in items], handed, hw.touches, cal.now)
    t["handoffs"] = hw.rows(items, handed, at_handover, t["contacts"])
    names = {r[0]: " ".join(p for p in (r[4], r[5]) if p) or r[1] for r in t["contacts"]}
    titles = {r[0]: r[6] for r in t["contacts"]}
    t["scoring_reviews"], review_notes = review_rows(t["handoffs"], cal.now)
    t["outbox"] = outbox_rows(t["handoffs"], names, titles, cal.now) + review_notes
    for i, m in enumerate(t["outbox"], start=1):
        m["id"] = i
    t["scoring_models"] = [{"id": 1, "version": model.version, "name": model.name, "body_toml": model_to_toml(model),
                            "created_at": company.sla[0].proposed_at - timedelta(days=3), "created_by": company.people.admin,
                            "note": "The default model, agreed with sales before the first SLA"}]
    t["routing_rules"] = routing_rule_rows()
    t.update(notification_rows(cal))
    company.disputes = plan_disputes(t["handoffs"], t["contacts"], accounts, cal, company.sla, rng["disputes"])


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
# the big tables, written past SQLAlchemy's parameter handling: (datetime columns, JSON columns)
BULK = {"touchpoints": (("occurred_at",), ()), "touchpoints+properties": (("occurred_at",), ("properties",)),
        "stage_changes": (("changed_at",), ())}
# the order rows are written in: parents before children
WRITE_ORDER = ("teams", "users", "rep_profiles", "campaigns", "content_assets", "accounts", "contacts", "touchpoints",
               "touchpoints+properties", "stage_changes", "owner_changes", "deals", "deal_contacts",
               "deal_stage_changes", "targets", "scoring_models", "routing_rules", "notification_prefs",
               "notification_groups", "group_memberships", "handoffs", "scoring_reviews", "outbox")


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
            phase = PHASE_LABELS.get(name, f"Writing {name}")
            if name in BULK:
                n = writer.write_bulk(conn, table, cols, rows, datetimes=BULK[name][0], json=BULK[name][1], phase=phase,
                                      progress=progress)
            else:
                n = writer.write_rows(conn, table, cols, rows, phase=phase, progress=progress)
            written[table] = written.get(table, 0) + n
        audit = _audit_rows(company, written)
        written["audit_log"] = writer.write_rows(conn, "audit_log", (), audit)
        writer.advance_sequences(conn)  # the services below insert with the database's own ids
        _tick(progress, "Signing the SLA, scores, disputes", 0, 1)
        written.update(_through_the_services(conn, company))
        _tick(progress, "Signing the SLA, scores, disputes", 1, 1)
        writer.advance_sequences(conn)
        data_versions.bump(conn, data_versions.WATCHED)  # the bulk writes above bypass the Session events
        measured = measure_demo(conn, now=company.now)
    return DemoSummary(seed=seed, now=now.isoformat(), scale=scale, seconds=round(time.perf_counter() - started, 2),
                       rows_written=written, logins=company.people.logins, password=DEMO_PASSWORD, measured=measured)


def _through_the_services(conn: Connection, company: DemoCompany) -> dict[str, int]:
    """The parts of the story the app's own services write: reject reasons, the SLA's proposals and
    signatures, stored scores, disputes and votes (and the accept after a returned dispute), then one
    worker tick at "now". Everything the worker would have delivered is marked sent."""
    from revteam.services.handoff.agreement import propose_agreement, sign_agreement
    from revteam.services.handoff.decide import accept_lead, cast_vote, open_dispute, seed_reject_reasons
    from revteam.services.qualify.scoring import store_scores
    from revteam.services.handoff.sla_clock import tick
    from revteam.store.models import Dispute, DisputeVote, OutboxMessage, SlaSignoff

    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        seed_reject_reasons(session)
        users = {u.id: u for u in session.scalars(select(User))}
        for v in company.sla:
            row = propose_agreement(session, text=v.text, terms=v.terms, committee=v.committee, by=v.proposed_by,
                                    now=v.proposed_at)
            for side, uid, at in v.signatures:
                sign_agreement(session, row.version, users[uid], side, now=at)
            if row.version != v.version or row.in_force_at != v.in_force_at:
                raise AssertionError(f"SLA version {v.version} did not come into force as planned")
        scored = store_scores(session, company.scores, now=company.now) if company.scores is not None else 0
        for d in company.disputes:
            dispute = open_dispute(session, d["handoff_id"], users[d["opened_by"]], reason=d["reason"], now=d["opened_at"])
            for v in d["votes"]:
                cast_vote(session, dispute.id, users[v["member"]], choice=v["choice"], reason=v["reason"], now=v["at"])
            if d["accept_at"] is not None:
                accept_lead(session, d["handoff_id"], users[d["accept_by"]], now=d["accept_at"])
        company.first_tick = tick(session, now=company.now)
        session.flush()
        counts = {"contact_scores": scored, "sla_agreements": len(company.sla),
                  "sla_signoffs": session.scalar(select(func.count()).select_from(SlaSignoff)) or 0,
                  "disputes": session.scalar(select(func.count()).select_from(Dispute)) or 0,
                  "dispute_votes": session.scalar(select(func.count()).select_from(DisputeVote)) or 0}
        session.commit()
    outbox = OutboxMessage.__table__
    conn.execute(update(outbox).where(outbox.c.status == "pending")
                 .values(status="sent", attempts=1, sent_at=outbox.c.created_at))
    counts["outbox"] = conn.scalar(select(func.count()).select_from(outbox)) or 0
    return counts


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
