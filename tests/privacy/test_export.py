"""Export covers everything held about a person: record, deals, handoffs, disputes, messages, audit, imports."""

import json

from revteam.cli.common import _default
from revteam.services.people.privacy import export_person
from tests.privacy.people import EMAIL, EXTERNAL_ID, seed_person


def test_export_holds_every_kind_of_data_about_the_person(session):
    ids = seed_person(session)
    data = export_person(session, "Zofia.Quillfeather+whatever@nimbus-orbital.io")
    contacts = {p["contact"]["id"]: p for p in data["contacts"]}
    assert set(contacts) == {ids["zofia"], ids["events"]}
    z = contacts[ids["zofia"]]
    assert z["contact"]["external_id"] == EXTERNAL_ID and z["account"]["name"] == "Nimbus Orbital"
    assert len(z["touchpoints"]) == 1 and z["stage_changes"][0]["reason"] == "Zofia asked for pricing"
    assert z["score"]["reasons"] and z["deals"][0]["id"] == ids["deal"]
    assert z["handoffs"][0]["reject_note"].startswith("Zofia said")
    assert z["disputes"][0]["reason"] and z["disputes"][0]["votes"][0]["reason"] == "Quillfeather signs POs"
    assert {m["event"] for m in data["outbox_messages"]} == {"assignment", "digest"}
    assert len(data["outbox_messages"]) == 3
    assert {a["entity"] for a in data["audit_entries"]} == {"contact", "handoff", "import_run"}
    assert data["owner_changes"][0]["reason"] == "Zofia moved to EMEA"
    run = data["import_runs"][0]
    assert [e["row"] for e in run["errors"]] == [3] and [w["row"] for w in run["warnings"]] == [5]  # not Bo's row 4
    assert {k for k, rows in data["mentions"].items() if rows} == {
        "deals", "scoring_reviews", "content_usage", "touch_reactions", "idempotent_requests", "login_throttles"}
    assert [r["key"] for r in data["mentions"]["idempotent_requests"]] == ["decide-0"]  # not Bo's answer
    assert "zofia.quillfeather@nimbus-orbital.io" in data["mentions"]["idempotent_requests"][0]["body"]
    assert [r["key"] for r in data["mentions"]["login_throttles"]] == ["account:zofia.quillfeather+events@nimbus-orbital.io"]
    text = json.dumps(data, default=_default)
    assert EMAIL in text and "bo.lind@@nimbus" not in text


def test_export_by_contact_id_and_by_external_id(session):
    ids = seed_person(session)
    by_id = export_person(session, contact_id=ids["zofia"])
    by_ext = export_person(session, source_system="hubspot", external_id=EXTERNAL_ID)
    assert [p["contact"]["id"] for p in by_ext["contacts"]] == [ids["zofia"]]
    assert {p["contact"]["id"] for p in by_id["contacts"]} == {ids["zofia"], ids["events"]}


def test_each_area_of_the_export_holds_every_column_of_its_table(session):
    """Tied to the schema: a column added to a person's table is exported without touching the export."""
    from revteam.store.models import Base

    ids = seed_person(session)
    z = next(p for p in export_person(session, EMAIL)["contacts"] if p["contact"]["id"] == ids["zofia"])
    areas = {"contacts": [z["contact"]], "touchpoints": z["touchpoints"], "stage_changes": z["stage_changes"],
             "contact_scores": [z["score"]], "handoffs": z["handoffs"], "disputes": z["disputes"],
             "dispute_votes": z["disputes"][0]["votes"]}
    for table, rows in areas.items():
        assert rows, table
        for row in rows:
            missing = set(Base.metadata.tables[table].c.keys()) - set(row)
            assert not missing, f"{table}: {sorted(missing)} left out of the export"
    deal_columns = set(Base.metadata.tables["deals"].c.keys()) | {"role"}
    assert deal_columns <= set(z["deals"][0])
    h = z["handoffs"][0]
    assert h["rep_id"] == ids["rep"] and h["priority"] == "hot"  # left out before: rep, priority, dates
    assert {"decided_at", "due_at", "recycle_until"} <= set(h) and {"owner_id", "original_campaign_id"} <= set(z["contact"])
