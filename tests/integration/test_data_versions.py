"""Data versions: every write to a table the analytics read moves its counter, on every engine, so the
snapshot fingerprint changes on an UPDATE or DELETE as well as an INSERT."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from revteam.analytics.snapshot import TABLES, changed_tables, fingerprint
from revteam.services.revenue.content_usage import log_content_use
from revteam.store.data_versions import WATCHED, bump, read_versions, with_cascades
from revteam.store.models import Contact, Deal, Touchpoint, User
from tests.factories import T0, make_account, make_contact, make_content, make_deal, make_touch, make_user


def versions(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return read_versions(conn)


def test_the_snapshot_reads_only_watched_columns():
    for model, cols in TABLES.values():
        watched = WATCHED[model.__tablename__]
        assert watched is None or set(cols) <= set(watched), model.__tablename__


def test_inserts_updates_and_deletes_through_the_orm_bump_their_tables(engine):
    with Session(engine) as s:
        acme = make_account(s)
        ana = make_contact(s, account_id=acme.id)
        deal = make_deal(s, acme, amount="24000", outcome="open", contacts=[ana])
        s.commit()
        ids = {"deal": deal.id, "ana": ana.id}
    v0 = versions(engine)
    assert {"accounts", "contacts", "deals", "deal_contacts"} <= set(v0)

    fp0 = fingerprint(engine)
    with Session(engine) as s:  # a deal closing won: no new row, same highest id
        d = s.get(Deal, ids["deal"])
        d.outcome, d.stage, d.closed_on = "won", "won", date(2026, 3, 10)
        s.commit()
    v1 = versions(engine)
    assert v1["deals"] == v0["deals"] + 1 and v1["contacts"] == v0["contacts"]
    fp1 = fingerprint(engine)
    assert fp1 != fp0 and changed_tables(fp0, fp1) == ("deals",)

    with Session(engine) as s:  # a contact changing owner
        owner = make_user(s, role="ae")
        s.get(Contact, ids["ana"]).owner_id = owner.id
        s.commit()
    v2 = versions(engine)
    assert v2["contacts"] == v1["contacts"] + 1

    with Session(engine) as s:  # deleting a contact: the database deletes its touches and deal roles too
        s.delete(s.get(Contact, ids["ana"]))
        s.commit()
    v3 = versions(engine)
    for name in ("contacts", "deal_contacts", "touchpoints", "stage_changes", "handoffs"):
        assert v3[name] == v2.get(name, 0) + 1, name
    assert v3["deals"] == v2["deals"]


def test_columns_the_analytics_do_not_read_and_rolled_back_writes_leave_versions_alone(engine):
    with Session(engine) as s:
        user = make_user(s, role="sdr")
        acme = make_account(s)
        s.commit()
        uid, aid = user.id, acme.id
    v0 = versions(engine)
    with Session(engine) as s:
        s.get(User, uid).email = "renamed@revteam.test"  # not read by the analytics
        s.commit()
    with Session(engine) as s:
        make_contact(s, account_id=aid)
        s.rollback()
    assert versions(engine) == v0


def test_core_statements_through_a_session_bump_too(engine):
    with Session(engine) as s:
        ana = make_contact(s)
        make_touch(s, ana, type="page_view", at=T0, channel="organic_search")
        s.commit()
        cid = ana.id
    v0 = versions(engine)
    with Session(engine) as s:  # the ingest path: insert(Touchpoint) with a list of rows
        s.execute(insert(Touchpoint), [{"contact_id": cid, "type": "page_view", "channel": "email", "occurred_at": T0,
                                        "source_system": "test", "external_id": "t-9"}])
        s.commit()
    v1 = versions(engine)
    assert v1["touchpoints"] == v0["touchpoints"] + 1
    with Session(engine) as s:  # the privacy path: update(Touchpoint) blanks the URLs
        s.execute(update(Touchpoint).where(Touchpoint.contact_id == cid).values(url=None))
        s.execute(delete(Touchpoint).where(Touchpoint.external_id == "t-9"))
        s.commit()
    assert versions(engine)["touchpoints"] == v1["touchpoints"] + 1  # one bump per transaction


def test_a_bare_connection_bumps_explicitly_and_unknown_names_are_ignored(engine):
    v0 = versions(engine)
    with engine.begin() as conn:
        bump(conn, ["deals", "touchpoints", "web_sessions", "deals"])
    v1 = versions(engine)
    assert v1["deals"] == v0.get("deals", 0) + 1 and v1["touchpoints"] == v0.get("touchpoints", 0) + 1
    assert "web_sessions" not in v1


def test_cascades_follow_on_delete_foreign_keys():
    assert {"touchpoints", "stage_changes", "deal_contacts", "handoffs"} <= with_cascades("contacts")
    assert {"deal_contacts", "content_usage"} <= with_cascades("deals")
    assert with_cascades("accounts") == {"accounts"}


def test_the_snapshot_reads_the_same_arrow_on_every_engine(engine):
    """The driver's raw rows (text timestamps on SQLite, Decimal money on PostgreSQL) become the same Arrow
    tables as SQLAlchemy's typed rows would."""
    from revteam.analytics.snapshot import _frame, _read
    from revteam.analytics.snapshot_read import key_columns

    with Session(engine) as s:
        rep = make_user(s, role="ae")
        acme = make_account(s)
        ana = make_contact(s, account_id=acme.id)
        make_touch(s, ana, type="page_view", at=T0, channel="email", url="https://acme.example/pricing")
        deal = make_deal(s, acme, amount="24000.50", outcome="won", contacts=[ana], closed_on=date(2026, 3, 10))
        piece = make_content(s)
        log_content_use(s, deal_id=deal.id, content_id=piece.id, user=rep, helped=True, now=T0)
        s.commit()
        for name, (model, cols) in TABLES.items():
            typed = s.execute(select(*(getattr(model, c) for c in cols))
                              .order_by(*(getattr(model, c) for c in key_columns(model)))).all()  # the snapshot's order
            assert _read(engine, model, cols).equals(_frame(typed, cols)), name


def test_a_demo_reset_keeps_the_counters_so_a_same_size_rebuild_is_told_apart(engine):
    from revteam.demo.writer import clear_all

    with Session(engine) as s:
        make_contact(s)
        s.commit()
    before = versions(engine)
    with engine.begin() as conn:
        clear_all(conn)
        bump(conn, WATCHED)  # what the demo build does after its bulk writes
    after = versions(engine)
    assert after["contacts"] > before["contacts"]  # a restarted counter could repeat an old fingerprint


def test_a_change_outside_the_snapshot_reads_no_snapshot_table_again(engine, monkeypatch):
    import revteam.analytics.snapshot as snapshot

    first = snapshot.take_snapshot(engine)
    read: list[str] = []
    monkeypatch.setattr(snapshot, "_read", lambda eng, model, cols: read.append(model.__tablename__))
    again = snapshot.take_snapshot(engine, (), previous=first)
    assert read == [] and again.tables.keys() == first.tables.keys()
