"""The analytics snapshot brought up to date from the change log, and kept between starts: it always equals a
fresh full read, a restart reads only what was written since, an unusable kept copy falls back to a full read
with a log line, and an erased person's data leaves the kept files."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from revteam.analytics import snapshot as S
from revteam.analytics.snapshot_read import read_rows
from revteam.analytics.snapshot_store import SnapshotStore
from revteam.services.people.privacy import erase_person
from revteam.services.revenue.content_usage import log_content_use
from revteam.store import data_versions
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    ContentUsage,
    Deal,
    DealContact,
    DealStageChange,
    Handoff,
    LifecycleStage,
    StageChange,
    Team,
    Touchpoint,
    User,
)
from tests.factories import T0, make_account, make_campaign, make_contact, make_content, make_deal, make_touch, make_user

PRICING = "https://acme.example/pricing?email="  # a touch URL that names the person (what erasure blanks)


def company(engine) -> dict[str, int]:
    """Two accounts, three contacts with touches and stage changes, two deals, a handoff, content used."""
    with Session(engine) as s:
        team = Team(name="West")
        s.add(team)
        s.flush()
        rep = make_user(s, role="ae", team_id=team.id)
        acme, zen = make_account(s), make_account(s, name="Zen Analytics", region="NA")
        webinar = make_campaign(s)
        piece = make_content(s)
        ana = make_contact(s, account_id=acme.id, email="ana.secret@acme-rockets.com")
        bo = make_contact(s, account_id=acme.id)
        cy = make_contact(s, account_id=zen.id)
        for i, c in enumerate((ana, bo, cy)):
            make_touch(s, c, at=T0 + timedelta(days=i), channel="webinar", campaign_id=webinar.id, url=PRICING + c.email)
            make_touch(s, c, at=T0 + timedelta(days=i, hours=3), channel="organic_search", content_id=piece.id)
            s.add(StageChange(contact_id=c.id, from_stage="subscriber", to_stage="lead", changed_at=T0 + timedelta(days=i)))
        won = make_deal(s, acme, outcome="won", closed_on=date(2026, 3, 10), contacts=[ana, bo])
        make_deal(s, zen, contacts=[cy])
        s.add(DealStageChange(deal_id=won.id, changed_on=date(2026, 3, 1), to_stage="proposal"))
        s.add(Handoff(contact_id=bo.id, rep_id=rep.id, status="pending", priority="high", handed_at=T0, source="webinar"))
        log_content_use(s, deal_id=won.id, content_id=piece.id, user=rep, helped=True, now=T0)
        s.commit()
        return {"ana": ana.id, "bo": bo.id, "cy": cy.id, "acme": acme.id, "zen": zen.id, "won": won.id, "rep": rep.id,
                "webinar": webinar.id, "piece": piece.id, "team": team.id}


def assert_equals_a_full_read(engine, snap: S.Snapshot) -> None:
    for name, (model, cols) in S.TABLES.items():
        fresh = read_rows(engine, model, cols)
        assert snap.tables[name].equals(fresh), f"{name}:\n{snap.tables[name].to_pylist()}\n!=\n{fresh.to_pylist()}"


def every_kind_of_write(engine, ids: dict[str, int]) -> None:
    """Inserts, updates and deletes on every table the snapshot holds, through the ORM and Core statements."""
    with Session(engine) as s:  # inserts through the ORM
        dee = make_contact(s, account_id=ids["zen"])
        make_touch(s, dee, at=T0 + timedelta(days=9), channel="email")
        s.add(StageChange(contact_id=dee.id, from_stage="lead", to_stage="mql", changed_at=T0 + timedelta(days=9)))
        s.add(DealContact(deal_id=ids["won"], contact_id=dee.id, role="champion"))
        s.add(Team(name="East"))
        make_campaign(s, name="Spring launch")
        make_content(s, title="A pricing calculator")
        s.commit()
    with Session(engine) as s:  # updates through the ORM: a deal closing, a contact moving on, a rename...
        deal = s.query(Deal).filter(Deal.outcome == "open").one()
        deal.outcome, deal.stage, deal.closed_on = "won", "won", date(2026, 3, 20)
        s.get(Contact, ids["cy"]).stage = "mql"
        s.get(Account, ids["zen"]).segment = "enterprise"
        s.get(User, ids["rep"]).name = "Grace Kim"
        s.get(Campaign, ids["webinar"]).cost = 1500
        s.get(ContentAsset, ids["piece"]).status = "archived"
        s.query(Handoff).one().status = "accepted"
        s.query(DealStageChange).one().to_stage = "negotiation"
        s.get(LifecycleStage, "mql").label = "Marketing qualified"
        s.get(Team, ids["team"]).name = "West coast"
        s.query(ContentUsage).one().helped = False
        s.query(StageChange).filter(StageChange.contact_id == ids["bo"]).one().to_stage = "mql"
        s.query(Touchpoint).filter(Touchpoint.contact_id == ids["bo"]).first().channel = "paid_social"
        s.commit()
    with Session(engine) as s:  # Core statements through the session (the import and privacy paths)
        s.execute(insert(Touchpoint), [{"contact_id": ids["cy"], "type": "page_view", "channel": "direct",
                                        "occurred_at": T0 + timedelta(days=12), "source_system": "test",
                                        "external_id": "t-core"}])
        s.execute(update(Touchpoint).where(Touchpoint.contact_id == ids["cy"]).values(channel="referral"))
        s.execute(delete(DealContact).where(DealContact.deal_id == ids["won"], DealContact.contact_id == ids["bo"]))
        s.commit()
    with Session(engine) as s:  # deletes: a contact (the database deletes its touches, changes, roles, handoffs)
        s.delete(s.get(Contact, ids["bo"]))
        s.delete(s.query(ContentUsage).one())
        s.commit()


def test_a_refresh_from_the_change_log_equals_a_full_read_after_every_kind_of_write(engine):
    ids = company(engine)
    cache = S.SnapshotCache(store=None)
    first = cache.get(engine)
    assert_equals_a_full_read(engine, first)
    every_kind_of_write(engine, ids)
    snap = cache.get(engine)
    assert_equals_a_full_read(engine, snap)
    # every table with a key came from the change log, not a full read (lifecycle_stages has none)
    assert {n for n, how in snap.how.items() if how == "whole"} == {"lifecycle_stages"}
    assert snap.read["touchpoints"] < first.read["touchpoints"]


def test_each_write_on_its_own_is_followed_exactly(engine):
    """One refresh per transaction, so no write hides behind another."""
    ids = company(engine)
    cache = S.SnapshotCache(store=None)
    cache.get(engine)
    writes = [
        lambda s: s.get(Contact, ids["ana"]).__setattr__("owner_id", ids["rep"]),
        lambda s: s.execute(update(Touchpoint).where(Touchpoint.contact_id == ids["ana"]).values(url=None)),
        lambda s: s.execute(delete(Touchpoint).where(Touchpoint.channel == "webinar")),  # no key in the criteria
        lambda s: s.execute(update(Deal).values(currency="EUR")),  # no criteria at all
        lambda s: s.delete(s.get(Deal, ids["won"])),  # cascades: its contacts' roles, stage history, content use
        lambda s: s.delete(s.get(Contact, ids["cy"])),
    ]
    for write in writes:
        with Session(engine) as s:
            write(s)
            s.commit()
        assert_equals_a_full_read(engine, cache.get(engine))


def kept_cache(tmp_path: Path) -> S.SnapshotCache:
    return S.SnapshotCache(store=SnapshotStore(tmp_path / "kept"))


def test_a_restart_reads_only_the_rows_written_since_the_kept_snapshot(engine, tmp_path):
    ids = company(engine)
    kept_cache(tmp_path).get(engine)  # a server ran, and stopped
    with Session(engine) as s:  # written while no server ran
        make_touch(s, s.get(Contact, ids["ana"]), at=T0 + timedelta(days=20), channel="email")
        s.get(Deal, ids["won"]).amount = 30000
        s.commit()
    snap = kept_cache(tmp_path).get(engine)  # the next start
    assert snap.read == {"touchpoints": 1, "deals": 1}
    assert snap.how == {"touchpoints": "changes", "deals": "changes"}
    assert_equals_a_full_read(engine, snap)
    again = kept_cache(tmp_path).get(engine)  # and a start with nothing new reads nothing
    assert again.read == {}
    assert_equals_a_full_read(engine, again)


def test_the_kept_files_grow_by_appending_new_rows_and_are_rewritten_when_rows_change(engine, tmp_path):
    ids = company(engine)
    cache = kept_cache(tmp_path)
    cache.get(engine)
    folder = cache.store.folder(engine)
    files = lambda: json.loads((folder / "meta.json").read_text())["tables"]["touchpoints"]["files"]  # noqa: E731
    before = files()
    with Session(engine) as s:
        make_touch(s, s.get(Contact, ids["cy"]), at=T0 + timedelta(days=30))
        s.commit()
    cache.get(engine)
    assert files()[:-1] == before and len(files()) == 2  # one small file more
    with Session(engine) as s:
        s.query(Touchpoint).filter(Touchpoint.contact_id == ids["cy"]).first().channel = "direct"
        s.commit()
    assert_equals_a_full_read(engine, cache.get(engine))
    assert len(files()) == 1 and files()[0] not in before  # written again as one file
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith("touchpoints.")) == files()


@pytest.mark.parametrize("spoil, reason", [
    (lambda folder: (folder / "meta.json").unlink(), "no kept analytics snapshot"),
    (lambda folder: (folder / "meta.json").write_text("{not json"), "unreadable"),
    (lambda folder: _edit_meta(folder, schema="0000"), "another snapshot shape"),
    (lambda folder: _edit_meta(folder, format=0), "another file format"),
    (lambda folder: _edit_meta(folder, epoch=1), "another database at this URL"),
])
def test_an_unusable_kept_snapshot_is_read_whole_with_a_log_line(engine, tmp_path, caplog, spoil, reason):
    company(engine)
    kept_cache(tmp_path).get(engine)
    spoil(kept_cache(tmp_path).store.folder(engine))
    with caplog.at_level(logging.INFO, logger="revteam.snapshot"):
        snap = kept_cache(tmp_path).get(engine)
    assert reason in caplog.text
    assert set(snap.how.values()) == {"whole"} and len(snap.how) == len(S.TABLES)
    assert_equals_a_full_read(engine, snap)


def _edit_meta(folder: Path, **changes) -> None:
    meta = json.loads((folder / "meta.json").read_text())
    meta.update(changes)
    (folder / "meta.json").write_text(json.dumps(meta))


def test_a_corrupt_kept_table_is_read_whole_and_the_others_are_used(engine, tmp_path, caplog):
    company(engine)
    cache = kept_cache(tmp_path)
    cache.get(engine)
    folder = cache.store.folder(engine)
    (file,) = json.loads((folder / "meta.json").read_text())["tables"]["touchpoints"]["files"]
    (folder / file).write_bytes((folder / file).read_bytes()[:100])
    with caplog.at_level(logging.INFO, logger="revteam.snapshot"):
        snap = kept_cache(tmp_path).get(engine)
    assert "kept analytics table touchpoints" in caplog.text and "reading it whole" in caplog.text
    assert snap.how == {"touchpoints": "whole"}
    assert_equals_a_full_read(engine, snap)


def test_writes_the_change_log_cannot_vouch_for_are_read_whole(engine, tmp_path, monkeypatch):
    ids = company(engine)
    kept_cache(tmp_path).get(engine)
    with engine.begin() as conn:  # a bare connection that only bumps (the demo writer's bulk path)
        conn.execute(update(Touchpoint.__table__).values(channel="direct"))
        data_versions.bump(conn, ["touchpoints"])
    snap = kept_cache(tmp_path).get(engine)
    assert snap.how == {"touchpoints": "whole"}
    assert_equals_a_full_read(engine, snap)

    monkeypatch.setattr(data_versions, "KEEP_VERSIONS", 2)  # the log is pruned past what the kept copy needs
    for day in range(3):
        with Session(engine) as s:
            s.get(Deal, ids["won"]).amount = 1000 + day
            s.commit()
    (kept_deals,) = [part for part in snap.fingerprint if part[0] == "deals"]
    with engine.connect() as conn:
        assert not data_versions.changes_since(conn, "deals", kept_deals[1], kept_deals[1] + 3).complete
    later = kept_cache(tmp_path).get(engine)
    assert later.how == {"deals": "whole"}
    assert_equals_a_full_read(engine, later)


def _kept_bytes(cache: S.SnapshotCache, engine) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(cache.store.folder(engine).iterdir()) if p.is_file())


def test_an_erased_person_leaves_the_kept_files_while_a_server_runs(engine, tmp_path):
    company(engine)
    cache = kept_cache(tmp_path)
    cache.get(engine)
    assert b"ana.secret" in _kept_bytes(cache, engine)
    with Session(engine) as s:
        erase_person(s, "ana.secret@acme-rockets.com", now=T0, actor="privacy officer")
    snap = cache.get(engine)  # the next request (or warm-up check) refreshes, and rewrites the kept files
    assert_equals_a_full_read(engine, snap)
    assert b"ana.secret" not in _kept_bytes(cache, engine)
    assert _kept_bytes(cache, engine).count(PRICING.encode()) == 2  # the other two people's touches stay
    assert snap.read["touchpoints"] == 2 and snap.how["touchpoints"] == "changes"


def test_an_erased_person_leaves_the_kept_files_at_the_next_start(engine, tmp_path):
    company(engine)
    kept_cache(tmp_path).get(engine)
    with Session(engine) as s:  # erased while no server ran (``revteam privacy erase``)
        erase_person(s, "ana.secret@acme-rockets.com", now=T0, actor="privacy officer")
    cache = kept_cache(tmp_path)
    assert_equals_a_full_read(engine, cache.get(engine))
    assert b"ana.secret" not in _kept_bytes(cache, engine)
    assert _kept_bytes(cache, engine).count(PRICING.encode()) == 2


def test_the_engine_sees_each_refresh(engine, tmp_path):
    """The runner hands DuckDB the refreshed tables: a new touch shows in the next funnel."""
    from revteam.analytics.funnel import FunnelSpec
    from revteam.analytics.runner import Analytics

    ids = company(engine)
    a = Analytics(engine, cache=kept_cache(tmp_path))
    before = a.funnel(FunnelSpec()).rows("entered")
    with Session(engine) as s:
        s.add(StageChange(contact_id=ids["ana"], from_stage="lead", to_stage="mql", changed_at=T0 + timedelta(days=5)))
        s.commit()
    after = a.funnel(FunnelSpec()).rows("entered")
    assert before != after
    tables, snap = a.tables()
    assert tables["stage_changes"].count().execute() == snap.tables["stage_changes"].num_rows == 4
    a.close()


def test_a_restart_on_unchanged_data_answers_from_the_last_runs_answers(engine, tmp_path, monkeypatch):
    from sqlalchemy.orm import sessionmaker

    from revteam.analytics import kept_answers
    from revteam.analytics.desk import Desk
    from revteam.analytics.questions import Funnel
    from revteam.config import Settings

    monkeypatch.setattr("revteam.config.get_settings", lambda: Settings(snapshot_dir=str(tmp_path / "kept")))
    ids = company(engine)
    first = Desk(engine, sessionmaker(bind=engine, expire_on_commit=False))
    answer = first.ask(Funnel(by="source"))
    first.answers.kept.save(first.fingerprint(), dict(first.answers._answers), force=True)
    first.close()

    again = Desk(engine, sessionmaker(bind=engine, expire_on_commit=False))  # the restart
    monkeypatch.setattr(again.runner, "funnel", lambda *a, **k: pytest.fail("computed again"))
    assert again.ask(Funnel(by="source")).to_dict() == answer.to_dict()
    again.close()

    with Session(engine) as s:  # a write while the server was down: the kept answers no longer hold
        s.add(StageChange(contact_id=ids["ana"], from_stage="lead", to_stage="mql", changed_at=T0 + timedelta(days=5)))
        s.commit()
    later = Desk(engine, sessionmaker(bind=engine, expire_on_commit=False))
    assert later.ask(Funnel(by="source")).to_dict() != answer.to_dict()
    later.close()

    (tmp_path / "kept").joinpath(later.answers.kept.folder.name, "answers.pickle").write_bytes(b"\0" * 64 + b"junk")
    assert later.answers.kept.load(later.fingerprint()) == {}  # not signed with the secret key: never unpickled
    assert kept_answers.code_digest()


def test_core_statements_with_other_criteria_name_their_rows_and_only_a_whole_table_write_is_read_whole(engine):
    company(engine)
    cache = S.SnapshotCache(store=None)
    cache.get(engine)
    with Session(engine) as s:  # the rows it matches are asked for before it runs: three touches
        s.execute(delete(Touchpoint).where(Touchpoint.channel == "webinar"))
        s.commit()
    snap = cache.get(engine)
    assert snap.how == {"touchpoints": "changes"} and snap.read == {"touchpoints": 0}
    assert_equals_a_full_read(engine, snap)
    with Session(engine) as s:  # matching nothing changes nothing kept
        s.execute(update(Deal).where(Deal.currency == "JPY").values(amount=1))
        s.commit()
    assert cache.get(engine).how == {"deals": "changes"}
    with Session(engine) as s:  # no criteria at all: every row
        s.execute(update(Deal).values(currency="EUR"))
        s.commit()
    snap = cache.get(engine)
    assert snap.how == {"deals": "whole"}
    assert_equals_a_full_read(engine, snap)
