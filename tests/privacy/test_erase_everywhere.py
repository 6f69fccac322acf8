"""Erase a person seeded into every table; then search the whole database for them: nothing is found."""

from sqlalchemy import select

from revteam.services.people.privacy import erase_person
from revteam.store.models import Contact, Dispute, Handoff, OutboxMessage, Touchpoint
from tests.privacy.people import (
    EMAIL,
    deal_contacts,
    dump,
    later,
    leftovers,
    seed_person,
)


def test_erase_leaves_no_name_email_or_external_id_anywhere(engine, session):
    ids = seed_person(session)
    before = leftovers(dump(engine))
    tables = {line.split(":", 1)[0] for line in before}
    assert {"contacts", "touchpoints", "stage_changes", "contact_scores", "deals", "handoffs", "disputes",
            "dispute_votes", "outbox", "import_runs", "audit_log", "owner_changes", "scoring_reviews",
            "content_usage", "idempotent_requests", "login_throttles", "touch_reactions"} <= tables
    # (the search can fail: she is everywhere before)

    erased = erase_person(session, EMAIL, now=later(), actor="test")

    assert sorted(erased) == sorted([ids["zofia"], ids["events"]])  # the +events address is the same person
    assert leftovers(dump(engine)) == []
    after = dump(engine)
    assert "decide-1" in after and "account:bo.lind@nimbus-orbital.io" in after  # Bo's answer and limit stay


def test_the_record_keeps_counting_and_others_keep_their_data(engine, session):
    ids = seed_person(session)
    erase_person(session, EMAIL, now=later(), actor="test")
    session.expire_all()
    z = session.get(Contact, ids["zofia"])
    assert (z.email, z.first_name, z.source_system, z.external_id, z.consent) == (
        None, None, "erased", f"erased-{z.id}", "opted_out")
    assert session.scalar(select(Touchpoint.type).where(Touchpoint.contact_id == z.id)) == "page_view"
    assert deal_contacts(session, ids["deal"]) == sorted([ids["zofia"], ids["bo"]])
    assert session.get(Handoff, ids["handoff"]).status == "rejected"
    assert session.get(Dispute, ids["dispute"]).reason == "(erased)"
    bo = session.get(Contact, ids["bo"])
    assert (bo.email, bo.first_name) == ("bo.lind@nimbus-orbital.io", "Bo")
    digest = session.scalar(select(OutboxMessage.body).where(OutboxMessage.event == "digest"))
    assert digest == "Unworked leads: Bo Lind, (erased)"
    assert "bo lind" in dump(engine)


def test_a_person_without_email_is_erased_by_external_id(engine, session):
    c = Contact(source_system="crm", external_id="C-99", first_name="Xavera", last_name="Nobleheart",
                created_at=later(-5))
    session.add(c)
    session.commit()
    erase_person(session, source_system="crm", external_id="C-99", now=later(), actor="test")
    text = dump(engine)
    assert "xavera" not in text and "nobleheart" not in text and "c-99" not in text


def test_two_erasures_of_one_mailbox_at_once_leave_it_erased_once(engine, sessions):
    from concurrent.futures import ThreadPoolExecutor

    from revteam.errors import NotFound
    from revteam.store.models import ErasedIdentity
    from tests.privacy.people import TAGGED

    with sessions() as s:
        seed_person(s)

    def erase(address):
        with sessions() as s:
            try:
                return erase_person(s, address, now=later(), actor="test")
            except NotFound:
                return []

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(erase, [EMAIL, TAGGED, EMAIL, TAGGED]))
    assert any(results)
    with sessions() as s:
        assert len(s.scalars(select(ErasedIdentity)).all()) == 1
    assert leftovers(dump(engine)) == []


def test_erasure_moves_the_data_versions_so_kept_analytics_copies_drop_the_values(engine, session):
    from revteam.store.data_versions import read_versions

    seed_person(session)
    with engine.connect() as conn:
        before = read_versions(conn)
    erase_person(session, EMAIL, now=later(), actor="test")
    with engine.connect() as conn:
        after = read_versions(conn)
    moved = {t for t in after if after[t] != before.get(t)}
    assert {"contacts", "touchpoints", "handoffs", "deals", "stage_changes", "content_usage"} <= moved


def test_common_first_names_and_short_ids_are_cut_only_where_the_text_is_about_the_person(engine, session):
    from revteam.store.models import AuditEntry, ImportRun

    may = Contact(email="may.okafor@kestrel.example", first_name="May", last_name="Okafor", source_system="crm",
                  external_id="17", created_at=later(-9))
    session.add(may)
    session.add(OutboxMessage(key="digest:1:x", event="digest", channel="email", target="rep@revteam.test",
                              subject="Handed over Fri 15 May", body="Due 17 May, 3 leads", created_at=later(-2),
                              next_attempt_at=later(-2)))
    session.add(OutboxMessage(key="digest:1:y", event="digest", channel="email", target="rep@revteam.test",
                              subject="Okafor lead (May)", body="May Okafor, due 15 May", created_at=later(-2),
                              next_attempt_at=later(-2)))
    session.add(ImportRun(kind="contacts", filename="crm.csv", sha256="1" * 64, started_at=later(-3), status="rejected",
                          errors=[{"row": 17, "column": "external_id", "value": "17", "message": "May is short"}]))
    session.add(AuditEntry(at=later(-3), actor="cli", action="x", entity="deal", entity_id="17",
                           detail={"note": "moved 17 deals in May"}))
    session.commit()
    erase_person(session, "may.okafor@kestrel.example", now=later(), actor="test")
    bodies = {k: (subj, body) for k, subj, body in session.execute(
        select(OutboxMessage.key, OutboxMessage.subject, OutboxMessage.body))}
    assert bodies["digest:1:x"] == ("Handed over Fri 15 May", "Due 17 May, 3 leads")  # not about her
    assert bodies["digest:1:y"] == ("(erased) lead ((erased))", "(erased), due 15 (erased)")  # about her
    run = session.scalars(select(ImportRun)).one()
    assert run.errors == [{"row": 17, "column": "external_id", "value": "(erased)", "message": "(erased) is short"}]
    assert session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "x")).one() == {
        "note": "moved 17 deals in May"}


def test_a_person_known_by_one_name_is_found_by_it(engine, session):
    c = Contact(email="q@orbit.example", first_name="Quorra", created_at=later(-9))
    session.add(c)
    session.add(OutboxMessage(key="digest:2:z", event="digest", channel="email", target="rep@revteam.test",
                              subject="1 lead", body="Unworked leads: Quorra", created_at=later(-2),
                              next_attempt_at=later(-2)))
    session.commit()
    erase_person(session, "q@orbit.example", now=later(), actor="test")
    assert "quorra" not in dump(engine)
