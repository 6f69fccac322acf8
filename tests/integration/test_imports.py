"""Imports lose nothing: every importer refuses bad files with row-level messages and writes nothing,
writes good files all-or-nothing, and re-importing changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from revteam.errors import ImportRejected, InvalidInput
from revteam.ingest.mapping import load_mapping, parse_mapping
from revteam.ingest.schemas import KINDS
from revteam.ingest.service import run_import
from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    DealStageChange,
    ImportRun,
    StageChange,
    Touchpoint,
)
from tests.factories import (
    make_import_world,
)

NOW = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)

# One valid row per kind, referring to the records made by `world` below.
GOOD = {
    "accounts": {"external_id": "acc-9", "name": "Initech", "domain": "initech.com", "employees": "800",
                 "owner_email": "owner@revteam.test"},
    "contacts": {"email": "Peter@Initech.com", "first_name": "Peter", "account_domain": "acme-rockets.com",
                 "stage": "mql", "created_at": "2026-02-01T10:00:00Z", "original_campaign": "cmp-webinar"},
    "touchpoints": {"external_id": "ev-1", "contact_email": "ana@acme-rockets.com", "type": "webinar_attended",
                    "occurred_at": "2026-02-03 15:00", "campaign": "cmp-webinar", "content": "cnt-pricing"},
    "campaigns": {"external_id": "cmp-9", "name": "Q2 LinkedIn", "channel": "linkedin", "start_date": "2026-04-01",
                  "end_date": "2026-06-30", "cost": "12,500.00"},
    "content": {"external_id": "cnt-9", "title": "CRM cost calculator", "type": "tool", "status": "in_production",
                "due_date": "2026-04-15"},
    "deals": {"external_id": "d-9", "name": "Acme platform", "account_domain": "acme-rockets.com", "amount": "48000",
              "stage": "proposal", "created_on": "2026-02-10", "contacts": "ana@acme-rockets.com:champion"},
    "stage_changes": {"contact_email": "ana@acme-rockets.com", "to_stage": "sql", "changed_at": "2026-03-01T09:00:00Z",
                      "actor_email": "owner@revteam.test"},
    "deal_stage_changes": {"deal_external_id": "d-1", "from_stage": "discovery", "to_stage": "proposal",
                           "changed_on": "2026-02-01"},
}
# One wrong-typed value per kind: (field, value, words the message must contain)
WRONG_TYPE = {
    "accounts": ("employees", "lots", "not a whole number"),
    "contacts": ("created_at", "2024-13-01", "not a date and time"),
    "touchpoints": ("occurred_at", "yesterday", "not a date and time"),
    "campaigns": ("cost", "twelve", "not a number"),
    "content": ("due_date", "15/04/2026", "not a date; use YYYY-MM-DD"),
    "deals": ("amount", "48k", "not a number"),
    "stage_changes": ("changed_at", "soon", "not a date and time"),
    "deal_stage_changes": ("changed_on", "1 Feb", "not a date"),
}
# One unknown reference per kind
UNKNOWN_REF = {
    "accounts": ("owner_email", "ghost@revteam.test", "no revteam user"),
    "contacts": ("account_domain", "nowhere.example", "unknown account"),
    "touchpoints": ("contact_email", "nobody@acme-rockets.com", "unknown contact"),
    "campaigns": ("owner_email", "ghost@revteam.test", "no revteam user"),
    "content": None,  # content refers to nothing
    "deals": ("contacts", "nobody@acme-rockets.com", "unknown contact"),
    "stage_changes": ("contact_email", "nobody@acme-rockets.com", "unknown contact"),
    "deal_stage_changes": ("deal_external_id", "d-404", "unknown deal"),
}
REQUIRED = {  # a column whose absence makes the file unusable
    "accounts": "name", "contacts": "email", "touchpoints": "occurred_at", "campaigns": "channel",
    "content": "title", "deals": "stage", "stage_changes": "to_stage", "deal_stage_changes": "to_stage",
}
TABLES = [Account, Contact, Touchpoint, Campaign, ContentAsset, Deal, StageChange, DealStageChange]


@pytest.fixture
def world(session):
    return make_import_world(session)


def counts(sessions):
    with sessions() as s:
        return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in TABLES}


def write_csv(path: Path, rows: list[dict], header: list[str] | None = None) -> Path:
    import csv

    header = header or list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def do_import(sessions, kind, path, **kw):
    return run_import(sessions, kind, path, now=NOW, actor="test", **kw)


@pytest.mark.parametrize("kind", KINDS)
def test_a_good_file_is_written_and_a_second_import_changes_nothing(kind, world, sessions, tmp_path):
    path = write_csv(tmp_path / f"{kind}.csv", [GOOD[kind]])
    report = do_import(sessions, kind, path)
    assert (report.status, report.created, report.rejected) == ("written", 1, 0)
    before = counts(sessions)
    again = do_import(sessions, kind, path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert counts(sessions) == before


@pytest.mark.parametrize("kind", KINDS)
def test_wrong_type_is_reported_by_row_and_column_and_nothing_is_written(kind, world, sessions, tmp_path):
    field, value, words = WRONG_TYPE[kind]
    rows = [GOOD[kind], {**GOOD[kind], field: value}]
    rows[1] = _distinct(kind, rows[1])
    before = counts(sessions)
    with pytest.raises(ImportRejected) as e:
        do_import(sessions, kind, write_csv(tmp_path / "bad.csv", rows))
    [err] = e.value.errors
    assert (err.row, err.column) == (2, field)
    assert words in err.message
    assert counts(sessions) == before  # the good first row was not written either
    with sessions() as s:
        run = s.scalars(select(ImportRun).order_by(ImportRun.id.desc())).first()
        assert run.status == "rejected" and run.errors[0]["row"] == 2


@pytest.mark.parametrize("kind", [k for k in KINDS if UNKNOWN_REF[k]])
def test_unknown_reference_is_reported_and_nothing_is_written(kind, world, sessions, tmp_path):
    field, value, words = UNKNOWN_REF[kind]
    rows = [GOOD[kind], _distinct(kind, {**GOOD[kind], field: value})]
    before = counts(sessions)
    with pytest.raises(ImportRejected) as e:
        do_import(sessions, kind, write_csv(tmp_path / "bad.csv", rows))
    [err] = e.value.errors
    assert (err.row, err.column) == (2, field) and words in err.message
    assert counts(sessions) == before


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_required_column_rejects_the_file(kind, world, sessions, tmp_path):
    header = [c for c in GOOD[kind] if c != REQUIRED[kind]]
    path = write_csv(tmp_path / "bad.csv", [GOOD[kind]], header=header)
    with pytest.raises(InvalidInput) as e:
        do_import(sessions, kind, path)
    assert e.value.code == "missing_columns" and REQUIRED[kind] in e.value.message


@pytest.mark.parametrize("kind", KINDS)
def test_a_duplicate_in_the_file_is_reported_against_the_second_row(kind, world, sessions, tmp_path):
    before = counts(sessions)
    with pytest.raises(ImportRejected) as e:
        do_import(sessions, kind, write_csv(tmp_path / "dup.csv", [GOOD[kind], GOOD[kind]]))
    [err] = e.value.errors
    assert err.row == 2 and "duplicate of row 1" in err.message
    assert counts(sessions) == before


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("content", [b"", b"\n\n", b"email,name\n"], ids=["empty", "blank-lines", "header-only"])
def test_an_empty_file_is_refused_with_a_clear_message(kind, content, world, sessions, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match="empty|no data rows|no header"):
        do_import(sessions, kind, path)


@pytest.fixture(scope="module")
def huge_line_files(tmp_path_factory):
    """A CSV and a JSON-lines file whose second/first line is 100 MB long with no newline."""
    d = tmp_path_factory.mktemp("huge")
    csv_path, jsonl_path = d / "huge.csv", d / "huge.jsonl"
    blob = b"a" * (100 * 1024 * 1024)
    csv_path.write_bytes(b"external_id,name\n" + blob)
    jsonl_path.write_bytes(b'{"name": "' + blob)
    return csv_path, jsonl_path


@pytest.mark.parametrize("kind", KINDS)
def test_a_100_mb_single_line_is_refused_without_reading_it(kind, world, sessions, huge_line_files):
    for path in huge_line_files:
        with pytest.raises(InvalidInput) as e:
            do_import(sessions, kind, path)
        assert e.value.code == "line_too_long" and "longer than" in e.value.message


@pytest.mark.parametrize("kind", KINDS)
def test_a_non_utf8_file_is_refused_with_the_line_and_what_to_do(kind, world, sessions, tmp_path):
    path = tmp_path / "latin1.csv"
    header = ",".join(GOOD[kind]).encode()
    values = [v + "\xe9" if i == 1 else v for i, v in enumerate(GOOD[kind].values())]  # an é saved as Latin-1
    path.write_bytes(header + b"\n" + ",".join(values).encode("latin-1") + b"\n")
    before = counts(sessions)
    with pytest.raises(InvalidInput) as e:
        do_import(sessions, kind, path)
    assert e.value.code == "not_utf8" and "Line 2" in e.value.message and "UTF-8" in e.value.message
    assert counts(sessions) == before


def test_jsonl_files_import_like_csv_and_bad_lines_are_numbered(world, sessions, tmp_path):
    path = tmp_path / "touches.jsonl"
    good = {**GOOD["touchpoints"], "properties": {"utm_source": "linkedin"}}
    path.write_text(json.dumps(good) + "\n" + "{not json\n" + "[1, 2]\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as e:
        do_import(sessions, "touchpoints", path)
    assert [(x.row, "JSON" in x.message) for x in e.value.errors] == [(2, True), (3, True)]
    path.write_text(json.dumps(good) + "\n", encoding="utf-8")
    assert do_import(sessions, "touchpoints", path).created == 1
    with sessions() as s:
        assert s.scalar(select(Touchpoint.properties)) == {"utm_source": "linkedin"}


def test_skip_invalid_writes_good_rows_and_a_rejects_file(world, sessions, tmp_path):
    rows = [GOOD["campaigns"], {**GOOD["campaigns"], "external_id": "cmp-10", "cost": "twelve"},
            {**GOOD["campaigns"], "external_id": "cmp-11", "start_date": "2026-05-01", "end_date": "2026-04-01"}]
    rejects = tmp_path / "rejects.csv"
    report = do_import(sessions, "campaigns", write_csv(tmp_path / "c.csv", rows), skip_invalid=True, rejects_path=rejects)
    assert (report.status, report.created, report.rejected) == ("partial", 1, 2)
    text = rejects.read_text()
    assert "_row,_errors" in text and "cmp-10" in text and "ends (2026-04-01) before it starts" in text
    assert "cmp-9" not in text


def test_dry_run_counts_exactly_and_writes_nothing(world, sessions, tmp_path):
    before = counts(sessions)
    report = do_import(sessions, "contacts", write_csv(tmp_path / "c.csv", [GOOD["contacts"]]), dry_run=True)
    assert (report.status, report.created) == ("dry_run", 1)
    assert counts(sessions) == before


def test_contacts_are_matched_by_normalised_email_and_enter_the_lifecycle(world, sessions, tmp_path):
    do_import(sessions, "contacts", write_csv(tmp_path / "c.csv", [GOOD["contacts"]]))
    upper = {**GOOD["contacts"], "email": "  PETER@initech.COM ", "title": "CTO"}
    report = do_import(sessions, "contacts", write_csv(tmp_path / "c2.csv", [upper]))
    assert (report.created, report.updated) == (0, 1)
    with sessions() as s:
        c = s.scalar(select(Contact).where(Contact.email == "peter@initech.com"))
        assert (c.title, c.stage) == ("CTO", "mql")
        [entry] = s.scalars(select(StageChange).where(StageChange.contact_id == c.id)).all()
        assert (entry.from_stage, entry.to_stage, entry.actor_rule) == (None, "mql", "import:import")


def test_a_contact_import_moves_stages_forward_but_never_back_without_a_reason(world, sessions, tmp_path):
    forward = do_import(sessions, "contacts", write_csv(tmp_path / "f.csv", [{"email": "ana@acme-rockets.com", "stage": "sql"}]))
    assert (forward.updated, forward.warnings) == (1, [])
    back = do_import(sessions, "contacts", write_csv(tmp_path / "b.csv", [{"email": "ana@acme-rockets.com", "stage": "lead"}]))
    assert back.unchanged == 1 and "moving back needs a reason" in back.warnings[0].message
    stale = do_import(sessions, "contacts", write_csv(tmp_path / "s.csv", [{"email": "ana@acme-rockets.com", "stage": "sql"}]))
    assert stale.unchanged == 1 and stale.warnings == []
    history = {"contact_email": "ana@acme-rockets.com", "to_stage": "recycled", "changed_at": "2026-03-20",
               "reason": "no budget until Q3"}
    assert do_import(sessions, "stage_changes", write_csv(tmp_path / "h.csv", [history])).created == 1
    with sessions() as s:
        assert s.scalar(select(Contact.stage).where(Contact.email == "ana@acme-rockets.com")) == "recycled"


def test_a_stage_change_without_a_reason_for_a_move_back_is_rejected(world, sessions, tmp_path):
    row = {"contact_email": "ana@acme-rockets.com", "to_stage": "lead", "changed_at": "2026-03-20"}
    with pytest.raises(ImportRejected, match="needs a reason"):
        do_import(sessions, "stage_changes", write_csv(tmp_path / "h.csv", [row]))


def test_a_won_deal_makes_its_contacts_customers_and_warns_on_impossible_dates(world, sessions, tmp_path):
    row = {**GOOD["deals"], "outcome": "won", "closed_on": "2026-01-20", "created_on": "2026-01-02",
           "contacts": "ana@acme-rockets.com"}
    report = do_import(sessions, "deals", write_csv(tmp_path / "d.csv", [row]))
    assert report.created == 1
    with sessions() as s:
        assert s.scalar(select(Contact.stage).where(Contact.email == "ana@acme-rockets.com")) == "customer"
    # the factory contact first showed up on 2026-03-02, after this deal was won: a warning, not a drop
    assert len(report.warnings) == 1 and "before its contact" in report.warnings[0].message


def test_mapping_renames_converts_and_recodes(world, sessions, tmp_path):
    path = write_csv(tmp_path / "hub.csv", [{"Record ID": "501", "Email": "kim@initech.com", "First Name": "Kim",
                                             "Lifecycle Stage": "Marketing Qualified Lead",
                                             "Original Source": "Paid Search", "Create Date": "2026-01-15 08:30"}])
    report = do_import(sessions, "contacts", path, mapping=load_mapping("hubspot-contacts"))
    assert report.created == 1
    with sessions() as s:
        c = s.scalar(select(Contact).where(Contact.email == "kim@initech.com"))
        assert (c.source_system, c.external_id, c.stage, c.original_source) == ("hubspot", "501", "mql", "paid_search")


def test_salesforce_preset_derives_outcome_and_close_date(world, sessions, tmp_path):
    path = write_csv(tmp_path / "sf.csv", [
        {"Opportunity ID": "006A", "Opportunity Name": "Initech expansion", "Account Name": "Initech", "Amount": "75,000",
         "Stage": "Closed Won", "Close Date": "3/1/2026", "Created Date": "1/10/2026"},
        {"Opportunity ID": "006B", "Opportunity Name": "Acme renewal", "Account Name": "Acme Rockets", "Amount": "12000",
         "Stage": "Negotiation", "Close Date": "4/30/2026", "Created Date": "2/1/2026"},
    ])
    report = do_import(sessions, "deals", path, mapping=load_mapping("salesforce-opportunities"))
    assert report.created == 2
    with sessions() as s:
        won = s.scalar(select(Deal).where(Deal.external_id == "006A"))
        assert (won.outcome, str(won.closed_on), float(won.amount)) == ("won", "2026-03-01", 75000.0)
        assert s.scalar(select(Account.name).where(Account.id == won.account_id)) == "Initech"  # created
        open_ = s.scalar(select(Deal).where(Deal.external_id == "006B"))
        assert (open_.outcome, open_.closed_on) == ("open", None)
        assert s.scalar(select(Account.domain).where(Account.id == open_.account_id)) == "acme-rockets.com"  # existing


def test_bad_mappings_are_refused_with_what_to_fix(tmp_path):
    with pytest.raises(InvalidInput, match="unknown section"):
        parse_mapping({"colums": {}}, "m.toml")
    bad = tmp_path / "m.toml"
    bad.write_text("[columns\n")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_mapping(bad)
    with pytest.raises(InvalidInput, match="no preset of that name"):
        load_mapping("hubspot-companies")


def test_mapping_for_another_kind_or_unknown_field_is_refused(world, sessions, tmp_path):
    path = write_csv(tmp_path / "c.csv", [GOOD["contacts"]])
    with pytest.raises(InvalidInput, match="is for deals files"):
        do_import(sessions, "contacts", path, mapping=load_mapping("salesforce-opportunities"))
    with pytest.raises(InvalidInput, match="unknown field"):
        do_import(sessions, "contacts", path, mapping=parse_mapping({"columns": {"x": "favourite_colour"}}, "m"))


def test_too_many_fields_in_a_row_is_an_error(world, sessions, tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("external_id,name,channel\ncmp-1,Spring webinar, Europe,webinar,extra\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="quote values that contain commas"):
        do_import(sessions, "campaigns", path)


def _distinct(kind: str, row: dict) -> dict:
    """Give a row its own identity so only the deliberate fault makes it invalid."""
    row = dict(row)
    if kind == "accounts":
        row.update(external_id="acc-10", domain="initech2.com")
    elif kind == "contacts":
        row["email"] = "paul@initech.com" if row["email"] == GOOD["contacts"]["email"] else row["email"]
    elif kind in ("touchpoints", "campaigns", "content", "deals"):
        row["external_id"] = row["external_id"] + "b"
    elif kind == "stage_changes":
        row["changed_at"] = "2026-03-02T09:00:00Z" if row["changed_at"] == GOOD[kind]["changed_at"] else row["changed_at"]
    elif kind == "deal_stage_changes":
        row["changed_on"] = "2026-02-02" if row["changed_on"] == GOOD[kind]["changed_on"] else row["changed_on"]
    return row
