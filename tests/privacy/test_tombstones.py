"""An erased person stays erased: imports by +tag address or by CRM id are refused until an admin lifts it."""

import json

import pytest
from sqlalchemy import select

from revteam.errors import ImportRejected, InvalidInput, NotFound
from revteam.ingest.mapping import load_mapping
from revteam.ingest.service import run_import
from revteam.services.people.privacy import (
    erase_person,
    export_tombstones,
    find_people,
    lift_erasure,
    reapply_tombstones,
)
from revteam.services.people.tombstones import email_tombstone, read_ledger
from revteam.store.models import AuditEntry, Contact, ErasedExternalId, ErasedIdentity
from tests.privacy.people import EMAIL, EXTERNAL_ID, dump, later, leftovers, seed_person


def _import(sessions, tmp_path, text, **kw):
    f = tmp_path / "contacts.csv"
    f.write_text(text)
    return run_import(sessions, "contacts", f, now=later(2), actor="test", **kw)


def _rejections(sessions, tmp_path, text, **kw):
    with pytest.raises(ImportRejected) as e:
        _import(sessions, tmp_path, text, **kw)
    return [(d["column"], d["message"]) for d in e.value.details]


@pytest.fixture
def erased(session):
    ids = seed_person(session)
    erase_person(session, EMAIL, now=later(), actor="test")
    return ids


def test_a_tagged_or_differently_written_address_is_refused(erased, engine, sessions, tmp_path):
    for address in ("zofia.quillfeather+crm@nimbus-orbital.io", "ZOFIA.QUILLFEATHER@nimbus-orbital.io",
                    "zofia.quillfeather\u200b@nimbus-orbital.io", "zofia.quillfeather@nimbus-orbital.io."):
        problems = _rejections(sessions, tmp_path, f"email,first_name\n{address},Zofia\n")
        assert problems and problems[0][1].startswith("the e-mail belongs to a person who asked to be erased"), address
    assert leftovers(dump(engine)) == []  # the refusals did not log the address again (import runs keep row errors)
    # a quoted local part reaches the same mailbox: refused as an address revteam does not take
    problems = _rejections(sessions, tmp_path, 'email,first_name\n"""zofia.quillfeather""@nimbus-orbital.io",Z\n')
    assert "quoted name before the @" in problems[0][1]


def test_a_crm_reimport_by_external_id_is_refused_even_with_a_new_address(erased, sessions, tmp_path):
    text = f"Record ID,Email,First Name\n{EXTERNAL_ID},zq@new-employer.example,Zofia\n"
    problems = _rejections(sessions, tmp_path, text, mapping=load_mapping("hubspot-contacts"))
    assert problems[0][1].startswith("the hubspot external id belongs to a person who asked to be erased")
    for written in ("HubSpot", " HUBSPOT "):  # source names are not case-sensitive
        problems = _rejections(sessions, tmp_path, f"external_id,first_name\n{EXTERNAL_ID},Zed\n",
                               source_system=written)
        assert problems[0][1].startswith(f"the {written} external id belongs to a person who asked"), written
    # the same id from another system is another record: allowed
    report = _import(sessions, tmp_path, f"external_id,first_name\n{EXTERNAL_ID},Zed\n", source_system="zendesk")
    assert report.created == 1


def test_other_rows_of_the_file_are_written_with_skip_invalid(erased, sessions, tmp_path):
    report = _import(sessions, tmp_path, "email,first_name\nzofia.quillfeather+x@nimbus-orbital.io,Z\nnew@x.io,N\n",
                     skip_invalid=True, rejects_path=tmp_path / "rejects.csv")
    assert (report.created, report.rejected) == (1, 1)


def test_an_admin_lifts_the_erasure_and_it_is_audited(erased, session, sessions, tmp_path):
    with pytest.raises(InvalidInput, match="Say why"):
        lift_erasure(session, email=EMAIL, reason=" ", now=later(2), actor="cli")
    n = lift_erasure(session, email="Zofia.Quillfeather+any@nimbus-orbital.io", source_system="hubspot",
                     external_id=EXTERNAL_ID, reason="she signed up again on 2026-03-18", now=later(2), actor="cli")
    assert n == 2
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "privacy.erasure_lifted")).one()
    assert entry.detail == {"kinds": ["email", "external_id"], "reason": "she signed up again on 2026-03-18"}
    assert _import(sessions, tmp_path, f"email,first_name\n{EMAIL},Zofia\n").created == 1
    with pytest.raises(NotFound, match="No erasure"):
        lift_erasure(session, email="nobody@x.io", reason="typo", now=later(2), actor="cli")


def test_people_are_named_one_way_and_found_by_any_way(erased, session):
    with pytest.raises(InvalidInput, match="one way"):
        find_people(session)
    with pytest.raises(InvalidInput, match="one way"):
        find_people(session, email="bo.lind@nimbus-orbital.io", contact_id=1)
    with pytest.raises(InvalidInput, match="not an e-mail"):
        find_people(session, email="bo.lind@@nimbus")
    with pytest.raises(NotFound):
        find_people(session, email=EMAIL)  # erased: no longer findable
    with pytest.raises(NotFound):
        find_people(session, contact_id=10**9)
    with pytest.raises(NotFound):
        find_people(session, source_system="hubspot", external_id=EXTERNAL_ID)
    assert [c.first_name for c in find_people(session, email="Bo.Lind+news@nimbus-orbital.io")] == ["Bo"]
    assert [c.first_name for c in find_people(session, contact_id=erased["bo"])] == ["Bo"]
    with pytest.raises(InvalidInput, match="which system"):
        lift_erasure(session, external_id="x", reason="r", now=later(), actor="cli")


def test_tombstones_go_to_the_ledger_and_come_back_after_a_restore(session, tmp_path):
    ids = seed_person(session)
    ledger = tmp_path / "ledger.jsonl"
    erase_person(session, EMAIL, now=later(), actor="test", ledger=ledger)
    lines = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert {(x["event"], x["kind"]) for x in lines} == {("erased", "email"), ("erased", "external_id")}
    assert len(lines) == 3  # one mailbox, two CRM records (hubspot, events)
    assert EMAIL not in ledger.read_text()
    exported = tmp_path / "tombstones.jsonl"
    assert export_tombstones(session, exported) == 3
    assert {t.digest for t in read_ledger(exported)} == {t.digest for t in read_ledger(ledger)}

    # a restore rolls the database back: the tombstones and the erasure are gone
    session.query(ErasedIdentity).delete()
    session.query(ErasedExternalId).delete()
    session.add(Contact(email="zofia.quillfeather+back@nimbus-orbital.io", first_name="Zofia",
                        created_at=later(-3)))
    session.commit()
    done = reapply_tombstones(session, ledger, now=later(3), actor="test")
    assert done.tombstones_added == 3 and len(done.contacts_erased) == 1
    assert session.get(ErasedIdentity, email_tombstone(EMAIL)) is not None
    assert session.scalar(select(Contact.id).where(Contact.first_name == "Zofia")) is None
    assert reapply_tombstones(session, ledger, now=later(3), actor="test").tombstones_added == 0
    assert ids["bo"] in [c.id for c in find_people(session, email="bo.lind@nimbus-orbital.io")]


def test_a_lift_in_the_ledger_cancels_the_erasure(session, tmp_path):
    seed_person(session)
    ledger = tmp_path / "ledger.jsonl"
    erase_person(session, EMAIL, now=later(), actor="test", ledger=ledger)
    lift_erasure(session, email=EMAIL, reason="came back", now=later(2), actor="cli", ledger=ledger)
    assert {t.kind for t in read_ledger(ledger)} == {"external_id"}


@pytest.mark.parametrize("line, message", [
    ("not json", "line 1: not a tombstone line"),
    ('{"event": "erased", "kind": "email", "digest": "abc", "at": "2026-03-16T00:00:00+00:00"}', "64 hex"),
    ('{"event": "deleted", "kind": "email", "digest": "' + "a" * 64 + '", "at": "2026-03-16T00:00:00"}', "event"),
    ('{"event": "erased", "kind": "phone", "digest": "' + "a" * 64 + '", "at": "2026-03-16T00:00:00"}', "kind"),
    ('{"event": "erased", "kind": "email", "digest": "' + "a" * 64 + '", "at": "yesterday"}', "not a tombstone"),
    ('["erased"]', "not a tombstone line"),
])
def test_a_bad_ledger_is_refused_with_the_line(session, tmp_path, line, message):
    f = tmp_path / "bad.jsonl"
    f.write_text(line + "\n")
    with pytest.raises(InvalidInput, match=message):
        reapply_tombstones(session, f, now=later(), actor="test")


def test_a_missing_ledger_is_refused(session, tmp_path):
    with pytest.raises(InvalidInput, match="No tombstone file"):
        reapply_tombstones(session, tmp_path / "nope.jsonl", now=later(), actor="test")


def test_a_live_contact_cannot_take_an_erased_address_or_crm_id(erased, sessions, tmp_path):
    bo = "bo.lind@nimbus-orbital.io"
    problems = _rejections(sessions, tmp_path, f"email,external_id\n{bo},{EXTERNAL_ID}\n", source_system="hubspot")
    assert problems[0][1].startswith("the hubspot external id belongs to a person who asked to be erased")
    _import(sessions, tmp_path, "email,external_id,first_name\n,BO-1,Bo\n", source_system="crm")
    problems = _rejections(sessions, tmp_path, f"email,external_id\n{EMAIL},BO-1\n", source_system="crm")
    assert problems[0][1].startswith("the e-mail belongs to a person who asked to be erased")


def test_an_unwritable_ledger_stops_the_erasure_before_anything_changes(session, tmp_path):
    seed_person(session)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the ledger's folder should be")
    with pytest.raises(InvalidInput, match="cannot be written"):
        erase_person(session, EMAIL, now=later(), actor="test", ledger=blocker / "ledger.jsonl")
    assert [c.first_name for c in find_people(session, email=EMAIL)] == ["Zofia", "Zofia"]
