"""Every column that could hold personal data has a rule (erased, scrubbed or declared not personal)."""

from sqlalchemy import JSON, Column, LargeBinary, MetaData, String, Text

from revteam.services.people.privacy_columns import (
    COLUMNS,
    OWNED_ROWS,
    tables_with_people,
    unregistered_columns,
)
from revteam.store.models import Base


def test_every_text_json_and_binary_column_of_every_table_is_registered():
    assert unregistered_columns(Base.metadata) == []


def test_the_walk_follows_references_to_contacts_through_handoffs_and_disputes():
    found = tables_with_people(Base.metadata)
    assert {"contacts", "touchpoints", "handoffs", "disputes", "dispute_votes", "deal_contacts",
            "contact_scores", "stage_changes", "outbox", "import_runs", "audit_log"} <= found
    assert "users" not in found and "accounts" not in found


def test_a_new_column_is_caught_until_it_is_registered():
    copy = MetaData()
    for t in Base.metadata.sorted_tables:
        t.to_metadata(copy)
    copy.tables["handoffs"].append_column(Column("call_notes", Text))
    copy.tables["disputes"].append_column(Column("evidence", JSON))
    copy.tables["import_runs"].append_column(Column("sample_row", String(500)))
    copy.tables["teams"].append_column(Column("notes", Text))  # a table with no link to contacts
    copy.tables["idempotent_requests"].append_column(Column("request_body", LargeBinary))
    assert unregistered_columns(copy) == ["disputes.evidence", "handoffs.call_notes", "idempotent_requests.request_body",
                                          "import_runs.sample_row", "teams.notes"]


def test_every_rule_names_a_real_column_and_says_one_thing():
    for table, rules in COLUMNS.items():
        for col, rule in rules.items():
            assert col in Base.metadata.tables[table].c, f"{table}.{col} is registered but does not exist"
            assert rule.blanks or rule.scrub or rule.keep or rule.drop, f"{table}.{col} has an empty rule"
            assert not (rule.keep and (rule.blanks or rule.scrub or rule.drop)), f"{table}.{col} is kept and erased"


def test_every_table_that_references_a_contact_knows_which_rows_are_the_persons():
    referencing = tables_with_people(Base.metadata) - {"import_runs", "deals", "scoring_reviews", "content_usage"}
    assert referencing <= set(OWNED_ROWS)
