"""A person's data can be exported and erased; an erased person cannot be re-imported."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from revteam.errors import ImportRejected
from revteam.ingest.service import run_import
from revteam.services.people.privacy import erase_person, export_person
from revteam.store.models import AuditEntry, Contact, Touchpoint
from tests.factories import make_contact, make_touch

NOW = datetime(2026, 3, 16, tzinfo=UTC)


def test_export_then_erase_then_refuse_reimport(session, sessions, tmp_path):
    c = make_contact(session, email="ana@acme-rockets.com", title="VP Ops")
    make_touch(session, c, url="https://acme.com/pricing?email=ana@acme-rockets.com", properties={"utm": "x"})
    session.commit()
    data = export_person(session, "ANA@acme-rockets.com")
    person = data["contacts"][0]
    assert person["contact"]["title"] == "VP Ops" and len(person["touchpoints"]) == 1
    erase_person(session, "ana@acme-rockets.com", now=NOW, actor="test")
    session.commit()
    c = session.get(Contact, c.id)
    assert (c.email, c.first_name, c.title) == (None, None, None)
    t = session.scalars(select(Touchpoint)).one()
    assert (t.url, t.properties, t.type) == (None, None, "page_view")  # the touch still counts, anonymously
    assert session.scalars(select(AuditEntry.action)).all()[-1] == "contact.erased"
    f = tmp_path / "c.csv"
    f.write_text("email,first_name\nana@acme-rockets.com,Ana\n")
    with pytest.raises(ImportRejected, match="asked to be erased"):
        run_import(sessions, "contacts", f, now=NOW, actor="test")
