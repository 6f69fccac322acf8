"""The demo company: deterministic, consistent with the lifecycle rules, shaped like a real funnel.

Ranges in the funnel-shape tests are PRODUCT.md's field figures widened by a few points, because a
scale-0.2 company has a few hundred MQLs and the rates carry sampling noise.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from revteam.cli.main import app
from revteam.demo import DEMO_PASSWORD, build_demo_company, generate_company, measure_demo
from revteam.domain.identity import normalise_domain, normalise_email
from revteam.domain.lifecycle import DEFAULT_STAGES, plan_stage_move
from revteam.errors import Conflict
from revteam.security import verify_password
from revteam.services.lifecycle import seed_default_stages
from revteam.store.db import make_engine
from revteam.store.models import (
    Account,
    AuditEntry,
    Base,
    Contact,
    Deal,
    DealContact,
    OwnerChange,
    StageChange,
    Target,
    Team,
    Touchpoint,
    User,
)
from tests.conftest import NOW

TINY = 0.02
MODERATE = 0.2
SALES = ("sales_call", "sales_email", "meeting")


def _sqlite(path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(eng)
    with Session(eng) as s:
        seed_default_stages(s)
        s.commit()
    return eng


@pytest.fixture(scope="module")
def moderate(tmp_path_factory: pytest.TempPathFactory):
    """One scale-0.2 company (4,000 contacts) on SQLite, shared by the shape tests."""
    eng = _sqlite(tmp_path_factory.mktemp("demo") / "moderate.db")
    summary = build_demo_company(eng, seed=20261125, now=NOW, scale=MODERATE)
    yield eng, summary
    eng.dispose()


# --- determinism ---------------------------------------------------------------------------------

def test_the_generator_is_a_pure_function_of_seed_and_now():
    a = generate_company(seed=11, now=NOW, scale=TINY)
    b = generate_company(seed=11, now=NOW, scale=TINY)
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        assert a.tables[name] == b.tables[name], name
    c = generate_company(seed=12, now=NOW, scale=TINY)
    assert c.tables["contacts"] != a.tables["contacts"]
    assert c.tables["touchpoints"] != a.tables["touchpoints"]


def test_same_seed_and_now_write_identical_databases(tmp_path):
    def sample(eng: Engine) -> dict[str, object]:
        with eng.connect() as c:
            return {
                "counts": measure_demo(c)["counts"],
                "contacts": c.execute(select(Contact.__table__).where(Contact.id.in_([1, 17, 300]))).all(),
                "touches": c.execute(select(Touchpoint.__table__).order_by(Touchpoint.id).limit(40)).all(),
                "changes": c.execute(select(StageChange.__table__).order_by(StageChange.id.desc()).limit(40)).all(),
                "deals": c.execute(select(Deal.__table__).order_by(Deal.id).limit(10)).all(),
            }

    one, two = _sqlite(tmp_path / "one.db"), _sqlite(tmp_path / "two.db")
    build_demo_company(one, seed=5, now=NOW, scale=TINY)
    build_demo_company(two, seed=5, now=NOW, scale=TINY)
    assert sample(one) == sample(two)
    one.dispose()
    two.dispose()


# --- builds on every engine ----------------------------------------------------------------------

def test_a_small_company_builds_on_each_engine(engine):
    summary = build_demo_company(engine, seed=3, now=NOW, scale=TINY)
    with Session(engine) as s:
        n_contacts = s.scalar(select(func.count()).select_from(Contact))
        assert n_contacts == summary.rows_written["contacts"] == round(20_000 * TINY)
        assert s.scalar(select(func.count()).select_from(Account)) == round(2_000 * TINY)
        assert summary.rows_written["touchpoints"] == s.scalar(select(func.count()).select_from(Touchpoint)) > 5_000
        assert s.scalar(select(func.count()).select_from(Deal)) > 5
        # every role can log in with the printed password
        users = {u.email: u for u in s.scalars(select(User))}
        for login in summary.logins:
            assert verify_password(users[login["email"]].password_hash, DEMO_PASSWORD)
        assert {login["role"] for login in summary.logins} == {"admin", "leader", "marketing", "sdr", "ae"}
        # e-mails and domains are normalised and unique
        emails = s.scalars(select(Contact.email)).all()
        assert len(set(emails)) == len(emails) and all(normalise_email(e) == e for e in emails)
        domains = s.scalars(select(Account.domain)).all()
        assert len(set(domains)) == len(domains) and all(normalise_domain(d) == d for d in domains)
        # every contact has a lifecycle history that ends where the contact stands
        last = {}
        for cid, to, at in s.execute(select(StageChange.contact_id, StageChange.to_stage, StageChange.changed_at)
                                     .order_by(StageChange.contact_id, StageChange.changed_at, StageChange.id)):
            last[cid] = (to, at)
        for c in s.scalars(select(Contact)):
            assert last[c.id] == (c.stage, c.stage_changed_at), c.id
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "demo.built")) == 1
        # the app can go on inserting after explicit ids (PostgreSQL sequences were advanced)
        s.add(Team(name="Partners", function="sales"))
        s.flush()
        s.rollback()
    assert summary.measured["counts"]["contacts"] == n_contacts


def test_refuses_a_database_with_data_unless_reset(engine):
    build_demo_company(engine, seed=3, now=NOW, scale=TINY)
    with pytest.raises(Conflict) as e:
        build_demo_company(engine, seed=3, now=NOW, scale=TINY)
    assert e.value.code == "demo_database_not_empty" and "--reset" in e.value.message
    summary = build_demo_company(engine, seed=4, now=NOW, scale=TINY, reset=True)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == summary.rows_written["contacts"]
        assert s.scalar(select(func.count()).select_from(User)) == 20


def test_a_failed_build_writes_nothing(sqlite_engine, monkeypatch):
    from revteam.demo import writer

    def boom(conn):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "advance_sequences", boom)
    with pytest.raises(RuntimeError):
        build_demo_company(sqlite_engine, seed=3, now=NOW, scale=TINY)
    with Session(sqlite_engine) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 0
        assert s.scalar(select(func.count()).select_from(User)) == 0


# --- consistency ---------------------------------------------------------------------------------

def test_every_stage_chain_is_valid_under_the_lifecycle_rules(moderate):
    eng, _ = moderate
    chains: dict[int, list] = defaultdict(list)
    with eng.connect() as c:
        for row in c.execute(select(StageChange.__table__).order_by(StageChange.contact_id, StageChange.changed_at,
                                                                    StageChange.id)):
            chains[row.contact_id].append(row)
    assert len(chains) == round(20_000 * MODERATE)
    for cid, moves in chains.items():
        current = None
        assert moves[0].from_stage is None
        for m in moves:
            assert m.from_stage == current, cid
            move = plan_stage_move(DEFAULT_STAGES, current, m.to_stage, at=m.changed_at,
                                   actor_user_id=m.actor_user_id, actor_rule=m.actor_rule, reason=m.reason)
            assert move.kind == "entry" if current is None else move.kind != "entry"
            current = m.to_stage
        times = [m.changed_at for m in moves]
        assert times == sorted(times) and len(set(times)) == len(times), cid
        assert times[-1] <= NOW


def test_touches_and_moves_tell_one_story(moderate):
    eng, _ = moderate
    with Session(eng) as s:
        assert s.scalar(select(func.max(Touchpoint.occurred_at))) <= NOW
        assert s.scalar(select(func.count()).select_from(Touchpoint).where(
            Touchpoint.type.in_(SALES), Touchpoint.actor_user_id.is_(None))) == 0
        assert s.scalar(select(func.count()).select_from(Touchpoint).where(
            Touchpoint.type.not_in(SALES), Touchpoint.actor_user_id.is_not(None))) == 0
        assert set(s.scalars(select(Touchpoint.type).distinct())) >= {
            "page_view", "form_submit", "email_open", "email_click", "webinar_registered", "webinar_attended",
            "content_download", "ad_click", "event_attended", "demo_request", "pricing_request", "sales_call",
            "sales_email", "meeting"}
        reps = dict(s.execute(select(User.id, User.role)).all())
        # rep moves are made by SDRs and AEs; rule moves name their rule
        for uid, rule in s.execute(select(StageChange.actor_user_id, StageChange.actor_rule).distinct()):
            assert (uid is None) != (rule is None)
            assert rule in (None, "scoring", "web_form", "newsletter_signup", "linkedin_lead_form",
                            "webinar_registration", "event_list_import", "syndication_list_import")
            assert uid is None or reps[uid] in ("sdr", "ae", "marketing")
        # SDR → AE handovers exist and go from an SDR to an AE
        handovers = s.execute(select(OwnerChange.from_user_id, OwnerChange.to_user_id)
                              .where(OwnerChange.reason.like("SDR handover%"))).all()
        assert handovers and all(reps[a] == "sdr" and reps[b] == "ae" for a, b in handovers)
        # every deal has contacts with roles, on the deal's account
        bad = s.scalar(select(func.count()).select_from(DealContact).join(Deal).join(
            Contact, Contact.id == DealContact.contact_id).where(Contact.account_id != Deal.account_id))
        assert bad == 0
        assert s.scalar(select(func.count()).select_from(Deal).where(~Deal.contacts.any())) == 0
        # nobody is touched before they are known, and accounts are known before their contacts
        first_touch = select(func.min(Touchpoint.occurred_at)).where(
            Touchpoint.contact_id == Contact.id).scalar_subquery()
        assert s.scalar(select(func.count()).select_from(Contact).where(first_touch < Contact.created_at)) == 0
        assert s.scalar(select(func.count()).select_from(Contact).join(Account, Account.id == Contact.account_id)
                        .where(Account.created_at > Contact.created_at)) == 0
        months = s.scalars(select(Target.period_start).where(Target.metric == "won_revenue")).all()
        assert len(months) >= 13  # every month of the year plus the current quarter


# --- funnel shape --------------------------------------------------------------------------------

def test_stage_conversions_look_like_a_real_b2b_funnel(moderate):
    _, summary = moderate
    conv = summary.measured["funnel"]["conversion"]
    assert 0.10 <= conv["lead->mql"] <= 0.25
    assert 0.40 <= conv["mql->sal"] <= 0.62
    assert 0.48 <= conv["sal->sql"] <= 0.72
    assert 0.17 <= conv["sql->customer"] <= 0.32
    assert 0.20 <= summary.measured["funnel"]["rejection_rate"] <= 0.40


def test_cycles_and_deal_sizes_grow_up_market(moderate):
    _, summary = moderate
    seg = summary.measured["deals"]["by_segment"]
    cycle = [seg[s]["closed_cycle_days_median"] for s in ("smb", "mid_market", "enterprise")]
    size = [seg[s]["won_amount_median"] for s in ("smb", "mid_market", "enterprise")]
    assert cycle == sorted(cycle) and cycle[0] < 35 < 60 < cycle[2]
    assert size == sorted(size) and size[2] > 5 * size[0]
    assert 0.20 <= summary.measured["deals"]["win_rate"] <= 0.45


def test_some_balls_are_dropped(moderate):
    eng, summary = moderate
    ft = summary.measured["fell_through"]
    assert ft["unworked_leads"] > 0
    assert len(ft["unfollowed_webinars"]) >= 1 and ft["unfollowed_attendees"] > 0
    followed = [w for w in ft["webinars"] if w["name"] not in ft["unfollowed_webinars"] and w["attendees"] >= 20]
    assert followed and all(w["follow_up_share"] > 0.3 for w in followed)
    # the quarter-end push: more wins in a quarter's last month than the third a flat calendar gives
    assert summary.measured["deals"]["won_in_last_month_of_quarter"] > 0.4


def test_recycled_and_disqualified_leads_carry_a_reason(moderate):
    eng, _ = moderate
    with Session(eng) as s:
        missing = s.scalar(select(func.count()).select_from(StageChange).where(
            StageChange.to_stage.in_(("recycled", "disqualified")), StageChange.reason.is_(None)))
        assert missing == 0


# --- the command ---------------------------------------------------------------------------------

def test_cli_builds_prints_logins_and_refuses_a_second_build(db_env):
    runner = CliRunner()
    result = runner.invoke(app, ["demo", "--no-serve", "--scale", str(TINY)])
    assert result.exit_code == 0, result.output
    for login in ("admin@demo.revteam.test", "cro@demo.revteam.test", "sdr@demo.revteam.test",
                  "ae@demo.revteam.test", DEMO_PASSWORD):
        assert login in result.stdout
    again = runner.invoke(app, ["demo", "--no-serve", "--scale", str(TINY)])
    assert again.exit_code == 2 and "--reset" in again.output
    reset = runner.invoke(app, ["demo", "--no-serve", "--scale", str(TINY), "--reset", "--seed", "9", "--json"])
    assert reset.exit_code == 0, reset.output
    data = json.loads(reset.stdout)
    assert data["seed"] == 9 and data["password"] == DEMO_PASSWORD
    assert data["measured"]["counts"]["contacts"] == round(20_000 * TINY)
    assert {"funnel", "deals", "fell_through"} <= data["measured"].keys()


def test_cli_rejects_a_bad_scale(db_env):
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--scale", "0"])
    assert result.exit_code == 2 and "--scale" in result.output
