"""What the security walk found, each as a test through the importer (SQLite and PostgreSQL): no silent
loss, no silent change, the same rules on both databases, and streaming in chunks that keeps the import
all-or-nothing. Small chunks (``import_batch_size=3``) make every file here span several chunks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from revteam.config import get_settings
from revteam.errors import ImportRejected, InvalidInput
from revteam.ingest.api import API_MAPPING
from revteam.ingest.mapping import parse_mapping
from revteam.ingest.readers import FileUnreadable, open_rows
from revteam.store.models import Contact, Deal, StageChange, Touchpoint
from tests.ingest.conftest import counts, do_import, write

SMALL = get_settings().model_copy(update={"import_batch_size": 3})
H = "email,first_name,stage,created_at\n"
NOW_TOUCH = datetime(2026, 2, 1, 10, 0, tzinfo=UTC)


def people(n: int, start: int = 1) -> str:
    return "".join(f"p{i}@initech.com,P{i},lead,2026-01-{1 + i % 28:02d}\n" for i in range(start, start + n))


def contact_count(sessions) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(Contact))


def test_a_stray_quote_does_not_swallow_the_rows_after_it(world, sessions, tmp_path):
    lines = people(101).splitlines(True)
    broken = lines[:2] + ['p3@initech.com,"P3,lead,2026-01-04\n'] + lines[3:]
    before = counts(sessions)
    with pytest.raises(FileUnreadable, match=r"Row 3 \(line 4\) has malformed quoting") as e:
        do_import(sessions, "contacts", write(tmp_path / "c.csv", H + "".join(broken)), settings=SMALL)
    assert e.value.code == "bad_quoting" and e.value.details[0]["row"] == 3
    assert counts(sessions) == before
    report = do_import(sessions, "contacts", write(tmp_path / "fixed.csv", H + "".join(lines)), settings=SMALL)
    assert (report.rows, report.created) == (101, 101)


def test_a_quoted_value_over_two_lines_is_kept_when_it_swallows_no_rows(world, sessions, tmp_path):
    path = write(tmp_path / "c.csv", 'email,title\nzoe@initech.com,"VP\nSales"\nkim@initech.com,CFO\n')
    report = do_import(sessions, "contacts", path)
    assert (report.rows, report.created) == (2, 2)
    with sessions() as s:
        assert s.scalar(select(Contact.title).where(Contact.email == "zoe@initech.com")) == "VP\nSales"


def test_multiline_values_option_accepts_values_that_look_like_rows(world, sessions, tmp_path):
    text = 'email,title\nzoe@initech.com,"notes, part one\nstill notes, part two"\n'
    with pytest.raises(FileUnreadable, match="malformed quoting"):
        do_import(sessions, "contacts", write(tmp_path / "c.csv", text))
    m = parse_mapping({"options": {"multiline_values": True}}, "notes")
    assert do_import(sessions, "contacts", write(tmp_path / "c2.csv", text), mapping=m).created == 1


def test_bad_quoting_late_in_the_file_rolls_back_the_chunks_already_written(world, sessions, tmp_path):
    text = H + people(10) + 'late@initech.com,"Late,lead,2026-01-04\n'
    before = counts(sessions)
    with pytest.raises(FileUnreadable, match="Row 11"):
        do_import(sessions, "contacts", write(tmp_path / "c.csv", text), settings=SMALL)
    assert counts(sessions) == before


def test_a_mapped_column_missing_from_the_file_is_refused_before_any_row(world, sessions, tmp_path):
    m = parse_mapping({"columns": {"mql_id": "external_id", "first_contact_date": "created_at"},
                       "defaults": {"stage": "mql"}}, "mqls")
    path = write(tmp_path / "c.csv", "mql_id,origin\nm-1,social\n")
    with pytest.raises(InvalidInput, match="no column 'first_contact_date' \\(for created_at\\)") as e:
        do_import(sessions, "contacts", path, mapping=m)
    assert e.value.code == "mapped_column_missing"
    assert contact_count(sessions) == 1
    optional = parse_mapping({"columns": {"mql_id": "external_id", "first_contact_date": "created_at"},
                              "options": {"optional_columns": ["first_contact_date"]}}, "mqls")
    assert do_import(sessions, "contacts", path, mapping=optional).created == 1


OLIST_MQLS = Path(__file__).resolve().parents[2] / "examples" / "olist" / "mqls_as_contacts.toml"


def test_a_json_line_without_a_key_the_mapping_reads_is_a_row_error(world, sessions, tmp_path):
    """The first line has every key (the file-level check passes); a later one lacks first_contact_date: it
    used to become an MQL dated at the import time, exit 0. Now a row error, unless the key is optional."""
    from revteam.ingest.mapping import load_mapping

    m = load_mapping(OLIST_MQLS)
    text = ('{"mql_id": "m-1", "first_contact_date": "2026-01-03", "origin": "social"}\n'
            '{"mql_id": "m-2", "origin": "social"}\n')
    path = write(tmp_path / "m.jsonl", text)
    with pytest.raises(ImportRejected, match="row 2, column `first_contact_date`: has no key 'first_contact_date' \\(for created_at\\)") as e:
        do_import(sessions, "contacts", path, mapping=m, settings=SMALL)
    assert e.value.errors[0].column == "first_contact_date" and "optional_columns" in e.value.errors[0].message
    assert contact_count(sessions) == 1
    m.options["optional_columns"] = ["first_contact_date"]
    report = do_import(sessions, "contacts", path, mapping=m)
    assert report.created == 2
    assert [w.row for w in report.warnings if "import time" in w.message] == []  # no cell: nothing to warn about


def test_an_empty_mapped_date_cell_warns_that_the_import_time_was_used(world, sessions, tmp_path):
    from revteam.ingest.mapping import load_mapping

    path = write(tmp_path / "m.csv", "mql_id,first_contact_date,origin\nm-1,2026-01-03,social\nm-2,,social\n")
    report = do_import(sessions, "contacts", path, mapping=load_mapping(OLIST_MQLS))
    assert report.created == 2
    [w] = [w for w in report.warnings if w.column == "created_at"]
    assert w.row == 2 and "`first_contact_date` is empty, so `created_at` is the import time" in w.message
    assert "required_fields" in w.message
    strict = load_mapping(OLIST_MQLS)
    strict.options["required_fields"] = ["created_at"]
    path2 = write(tmp_path / "m2.csv", "mql_id,first_contact_date,origin\nm-3,2026-01-03,social\nm-4,,social\n")
    with pytest.raises(ImportRejected, match="row 2, column `created_at`: `created_at` is required \\(options.required_fields"):
        do_import(sessions, "contacts", path2, mapping=strict)
    assert contact_count(sessions) == 3


def test_required_fields_must_name_fields():
    from revteam.ingest.mapping import load_mapping
    from revteam.ingest.service import KIND_SPECS

    m = load_mapping(OLIST_MQLS)
    m.options["required_fields"] = ["first_contact"]
    with pytest.raises(InvalidInput, match="unknown field\\(s\\) first_contact"):
        m.check_fields(KIND_SPECS["contacts"].names)


def test_a_template_column_missing_from_the_file_is_refused(world, sessions, tmp_path):
    m = parse_mapping({"columns": {"mql_id": "contact_external_id", "at": "occurred_at"},
                       "templates": {"url": "olist:lp/{landing_page_id}"}, "defaults": {"type": "form_submit"}}, "t")
    with pytest.raises(InvalidInput, match="'landing_page_id' \\(in the template of url\\)"):
        do_import(sessions, "touchpoints", write(tmp_path / "t.csv", "mql_id,at\nm-1,2026-01-01\n"), mapping=m)


def test_short_rows_are_padded_only_when_the_mapping_says_so_with_a_warning(world, sessions, tmp_path):
    path = write(tmp_path / "c.csv", H + "zoe@initech.com,Zoe,lead,2026-01-05\nkim@initech.com,Kim\n")
    with pytest.raises(ImportRejected, match="row 2: has 2 values but the header names 4"):
        do_import(sessions, "contacts", path)
    assert contact_count(sessions) == 1
    m = parse_mapping({"options": {"pad_short_rows": True}}, "pad")
    report = do_import(sessions, "contacts", path, mapping=m)
    assert report.created == 2
    assert [(w.row, "pad_short_rows" in w.message) for w in report.warnings] == [(2, True), (2, False)]
    assert "`created_at` is the import time" in report.warnings[1].message  # the padded cell was a date


def test_long_rows_are_refused_but_trailing_empty_cells_are_not(world, sessions, tmp_path):
    ok = write(tmp_path / "ok.csv", "email,first_name\nzoe@initech.com,Zoe,,\n")
    assert do_import(sessions, "contacts", ok).created == 1
    with pytest.raises(ImportRejected, match="row 1: has 3 values but the header names 2"):
        do_import(sessions, "contacts", write(tmp_path / "long.csv", "email,first_name\nkim@initech.com,Kim,x\n"))


@pytest.mark.parametrize("variant", ["ana\u200b@acme-rockets.com", "ＡＮＡ＠ＡＣＭＥ-ＲＯＣＫＥＴＳ．ＣＯＭ",
                                     "\ufeffana@acme-rockets.com", "an\u00ada@acme-rockets.com"],
                         ids=["zero-width", "full-width", "bom", "soft-hyphen"])
def test_invisible_or_full_width_variants_of_an_email_are_the_same_person(variant, world, sessions, tmp_path):
    report = do_import(sessions, "contacts", write(tmp_path / "c.csv", f"email,title\n{variant},CFO\n"))
    assert (report.created, report.updated) == (0, 1)
    assert contact_count(sessions) == 1
    with sessions() as s:
        assert s.scalar(select(Contact.title).where(Contact.email == "ana@acme-rockets.com")) == "CFO"


def test_dates_far_in_the_future_need_the_flag(world, sessions, tmp_path):
    text = "external_id,name,stage,outcome,expected_close_on,created_on\nd-20,Big one,proposal,open,2034-01-01,2026-01-05\n"
    with pytest.raises(ImportRejected, match="more than 5 years after the import"):
        do_import(sessions, "deals", write(tmp_path / "d.csv", text))
    m = parse_mapping({"options": {"allow_far_future_dates": True}}, "far")
    assert do_import(sessions, "deals", write(tmp_path / "d2.csv", text), mapping=m).created == 1
    with sessions() as s:
        assert str(s.scalar(select(Deal.expected_close_on).where(Deal.external_id == "d-20"))) == "2034-01-01"


def test_amounts_are_kept_exactly_or_refused(world, sessions, tmp_path):
    text = "external_id,name,stage,amount,created_on\nd-20,A,proposal,1234.5,2026-01-05\nd-21,B,proposal,0.10,2026-01-05\n"
    do_import(sessions, "deals", write(tmp_path / "d.csv", text))
    with sessions() as s:
        got = dict(s.execute(select(Deal.external_id, Deal.amount).where(Deal.external_id.in_(["d-20", "d-21"]))).all())
    assert {k: str(v) for k, v in got.items()} == {"d-20": "1234.50", "d-21": "0.10"}


@pytest.mark.parametrize("kind,header,row,dup_col", [
    ("contacts", "email,external_id\n", "p{i}@initech.com,crm-{i}\n", "email"),
    ("touchpoints", "external_id,contact_email,type,occurred_at\n",
     "ev-{i},ana@acme-rockets.com,page_view,2026-02-01T10:00:00Z\n", "external_id"),
])
def test_a_key_repeated_chunks_apart_is_a_duplicate_of_its_first_row(kind, header, row, dup_col, world, sessions,
                                                                     tmp_path):
    rows = [row.format(i=i) for i in range(1, 9)] + [row.format(i=1)]
    before = counts(sessions)
    with pytest.raises(ImportRejected) as e:
        do_import(sessions, kind, write(tmp_path / "f.csv", header + "".join(rows)), settings=SMALL)
    [err] = e.value.errors
    assert (err.row, err.column) == (9, dup_col) and "duplicate of row 1" in err.message
    assert counts(sessions) == before


def test_the_same_external_id_for_two_emails_is_a_row_error_not_a_crash(world, sessions, tmp_path):
    text = "email,external_id\nzoe@initech.com,crm-1\n" + "".join(f"k{i}@initech.com,k-{i}\n" for i in range(5)) + \
        "kim@initech.com,crm-1\n"
    with pytest.raises(ImportRejected, match="row 7, column `external_id`: duplicate of row 1"):
        do_import(sessions, "contacts", write(tmp_path / "c.csv", text), settings=SMALL)
    do_import(sessions, "contacts", write(tmp_path / "a.csv", "email,external_id\nzoe@initech.com,crm-1\n"))
    with pytest.raises(ImportRejected, match="external id crm-1 already belongs to another contact"):
        do_import(sessions, "contacts", write(tmp_path / "b.csv", "email,external_id\nana@acme-rockets.com,crm-1\n"))


def test_skip_invalid_writes_the_valid_rows_of_every_chunk_and_rejects_the_rest(world, sessions, tmp_path):
    rows = people(10).splitlines(True)
    rows[4] = "broken-email,X,lead,2026-01-05\n"
    rows[8] = "p9@initech.com,P9,lead,2999-01-01\n"
    rejects = tmp_path / "rejects.csv"
    report = do_import(sessions, "contacts", write(tmp_path / "c.csv", H + "".join(rows)), skip_invalid=True,
                       rejects_path=rejects, settings=SMALL)
    assert (report.status, report.rows, report.created, report.rejected) == ("partial", 10, 8, 2)
    text = rejects.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("_row,_errors,email")
    assert "broken-email" in text and "outside the years" in text and text.count("\n") == 3


def test_dry_run_counts_exactly_and_writes_nothing(world, sessions, tmp_path):
    before = counts(sessions)
    report = do_import(sessions, "contacts", write(tmp_path / "c.csv", H + people(10)), dry_run=True, settings=SMALL)
    assert (report.status, report.created) == ("dry_run", 10)
    assert counts(sessions) == before


def test_reimport_in_chunks_changes_nothing_and_progress_reaches_the_end(world, sessions, tmp_path):
    path = write(tmp_path / "c.csv", H + people(10))
    seen: list[tuple[int, int]] = []
    first = do_import(sessions, "contacts", path, settings=SMALL, progress=lambda d, t: seen.append((d, t)))
    assert first.created == 10
    assert seen[-1] == (10, 10) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(StageChange)) == 10 + 0  # one lifecycle entry each
    again = do_import(sessions, "contacts", path, settings=SMALL)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10)


def test_new_contacts_enter_the_lifecycle_at_their_first_contact(world, sessions, tmp_path):
    do_import(sessions, "contacts", write(tmp_path / "c.csv", "email,stage,created_at\nzoe@initech.com,mql,2026-01-05\n"))
    with sessions() as s:
        c = s.scalar(select(Contact).where(Contact.email == "zoe@initech.com"))
        change = s.scalar(select(StageChange).where(StageChange.contact_id == c.id))
        assert (c.stage, str(c.stage_changed_at.date())) == ("mql", "2026-01-05")
        assert (change.from_stage, change.to_stage, change.changed_at, change.actor_rule) == (
            None, "mql", c.stage_changed_at, "import:import")


def test_touchpoints_in_chunks_are_written_once_and_repeats_are_unchanged(world, sessions, tmp_path):
    events = "".join(f'{{"event_id": "ev-{i}", "email": "ana@acme-rockets.com", "type": "page_view", '
                     f'"occurred_at": "2026-02-0{1 + i % 9}T10:00:00Z", "properties": {{"n": {i}}}}}\n'
                     for i in range(10))
    path = write(tmp_path / "t.jsonl", events)
    assert do_import(sessions, "touchpoints", path, mapping=API_MAPPING, settings=SMALL).created == 10
    assert do_import(sessions, "touchpoints", path, mapping=API_MAPPING, settings=SMALL).unchanged == 10
    with sessions() as s:
        props = s.scalars(select(Touchpoint.properties).order_by(Touchpoint.id)).all()
    assert props == [{"n": i} for i in range(10)]


def test_a_header_of_40000_columns_is_checked_and_a_repeated_one_named(tmp_path):
    cols = [f"c{i}" for i in range(40_000)]
    path = write(tmp_path / "wide.csv", ",".join(["email", *cols]) + "\n" + "zoe@initech.com" + "," * 40_000 + "\n")
    assert len(open_rows(path, "csv", max_line_bytes=10**6).columns) == 40_001
    dup = write(tmp_path / "dup.csv", ",".join(["email", *cols, "c7"]) + "\nx\n")
    with pytest.raises(FileUnreadable, match="c7 more than once"):
        open_rows(dup, "csv", max_line_bytes=10**6)


def test_rows_stream_one_at_a_time(tmp_path):
    """The first row comes out before the reader has seen the broken end of the file."""
    path = write(tmp_path / "c.csv", "email\n" + "a@x.com\n" * 5 + '"broken\n')
    rows = iter(open_rows(Path(path), "csv", max_line_bytes=10**6))
    assert next(rows).values == {"email": "a@x.com"}
    with pytest.raises(FileUnreadable, match="Row 6"):
        list(rows)


def test_an_import_moves_the_data_versions_the_analytics_caches_watch(world, sessions, tmp_path):
    from revteam.store.data_versions import changes_since, read_versions

    with sessions() as s:
        before = read_versions(s.connection())
    do_import(sessions, "contacts", write(tmp_path / "c.csv", H + people(4)), settings=SMALL)
    events = '{"event_id": "ev-1", "email": "p1@initech.com", "type": "page_view", "occurred_at": "2026-02-01T10:00:00Z"}\n'
    do_import(sessions, "touchpoints", write(tmp_path / "t.jsonl", events), mapping=API_MAPPING)
    with sessions() as s:
        after = read_versions(s.connection())
        new_ids = {"contacts": s.scalars(select(Contact.id).where(Contact.email.like("p%@initech.com"))).all(),
                   "stage_changes": s.scalars(select(StageChange.id).join(Contact, Contact.id == StageChange.contact_id)
                                              .where(Contact.email.like("p%@initech.com"))).all(),
                   "touchpoints": s.scalars(select(Touchpoint.id)).all()}
        for name, ids in new_ids.items():
            assert after[name] > before.get(name, 0), name
            logged = changes_since(s.connection(), name, before.get(name, 0), after[name])
            assert logged.complete and logged.inserted_from is not None and logged.inserted_from <= min(ids), name


def test_touch_and_contact_lookups_probe_keys_instead_of_loading_a_source(world, sessions, engine, tmp_path):
    """Every query the import makes of the contacts and touchpoints tables names the keys it wants."""
    from sqlalchemy import event

    stored = "".join(f'{{"event_id": "old-{i}", "email": "ana@acme-rockets.com", "type": "page_view", '
                     f'"occurred_at": "2026-01-0{1 + i % 9}T10:00:00Z"}}\n' for i in range(20))
    do_import(sessions, "touchpoints", write(tmp_path / "old.jsonl", stored), mapping=API_MAPPING)
    seen: list[str] = []

    def heard(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", heard)
    try:
        new = stored.replace("old-", "new-", 3)
        report = do_import(sessions, "touchpoints", write(tmp_path / "new.jsonl", new), mapping=API_MAPPING)
    finally:
        event.remove(engine, "before_cursor_execute", heard)
    assert (report.created, report.unchanged) == (3, 17)
    reads = [s for s in seen if s.upper().startswith("SELECT") and ("FROM touchpoints" in s or "FROM contacts" in s)]
    assert reads
    for s in reads:
        assert ("external_id IN" in s or "email IN" in s or "unnest" in s or "max(" in s), s


def test_the_rejects_file_keeps_whole_values_and_survives_what_the_database_refuses(world, sessions, tmp_path):
    title = "T" * 300
    events = ('{"event_id": "ev-1", "email": "ana@acme-rockets.com", "type": "page_view", '
              '"occurred_at": "2026-02-01T10:00:00Z", "channel": "web\\ud800"}\n'
              '{"event_id": "ev-2", "email": "ana@acme-rockets.com", "type": "page_view", '
              f'"occurred_at": "2026-02-01T10:00:00Z", "url": "{title}"}}\n'
              '{"event_id": "ev-3", "email": "ana@acme-rockets.com", "type": "page_view", '
              '"occurred_at": "2026-02-01T10:00:00Z"}\n')
    rejects = tmp_path / "rejects.csv"
    report = do_import(sessions, "touchpoints", write(tmp_path / "t.jsonl", events), mapping=API_MAPPING,
                       skip_invalid=True, rejects_path=rejects)
    assert (report.created, report.rejected) == (2, 1)  # a 300-character URL fits (2,000)
    text = rejects.read_text(encoding="utf-8")
    assert "lone surrogate" in text and "web\\ud800" in text
    contacts = H + f"zoe@initech.com,{'Z' * 300},lead,2026-01-05\n"
    do_import(sessions, "contacts", write(tmp_path / "c.csv", contacts), skip_invalid=True, rejects_path=rejects)
    assert "Z" * 300 in rejects.read_text(encoding="utf-8")


def test_seen_ids_remember_rows_by_id_whatever_the_ids_size():
    from revteam.ingest.lookups import SeenIds

    seen = SeenIds()
    for id_, row in ((1, 7), (4095, 8), (4096, 9), (2**31 - 1, 10), (40_000_123, 11)):
        seen.add(id_, row)
    assert [seen.get(i) for i in (1, 4095, 4096, 2**31 - 1, 40_000_123, 2, 40_000_124)] == [7, 8, 9, 10, 11, None, None]
    assert len(seen._blocks) == 4  # 1 and 4095 share a block


def test_a_key_stored_meanwhile_by_someone_else_fails_the_copy_like_an_insert(world, sessions, engine, tmp_path):
    """A concurrent writer's row with the same key makes the batch insert fail as SQLAlchemy's IntegrityError
    on both databases (the whole import is rolled back; run again, it finds the row: unchanged)."""
    from sqlalchemy.exc import IntegrityError

    from revteam.ingest.handlers import insert_many

    with sessions() as s:
        cid = s.scalar(select(Contact.id))
        row = {"contact_id": cid, "type": "page_view", "occurred_at": NOW_TOUCH, "source_system": "web",
               "external_id": "ev-1"}
        insert_many(s, Touchpoint, [dict(row)])
        with pytest.raises(IntegrityError):
            insert_many(s, Touchpoint, [dict(row)])
        s.rollback()


def test_touch_properties_in_a_file_are_bounded_to_16_kb(world, sessions, tmp_path):
    blob = "x" * 20_000
    path = write(tmp_path / "t.jsonl",
                 '{"contact_email": "ana@acme-rockets.com", "type": "page_view", "occurred_at": "2026-01-02T10:00:00Z",'
                 f' "properties": {{"blob": "{blob}"}}}}\n')
    before = counts(sessions)
    with pytest.raises(ImportRejected, match=r"row 1, column `properties`: `properties` is 20,\d{3} bytes of JSON; "
                                             r"at most 16,384 bytes \(16 KB\) fit") as e:
        do_import(sessions, "touchpoints", path)
    assert e.value.errors[0].column == "properties" and counts(sessions) == before


def test_a_mapping_column_with_a_trailing_space_matches_the_trimmed_header(world, sessions, tmp_path):
    """Headers are read trimmed (``Email `` is ``Email``); so are the mapping's column names."""
    m = parse_mapping({"columns": {"E-mail ": "email"}}, "spaced")
    report = do_import(sessions, "contacts", write(tmp_path / "c.csv", "E-mail ,first_name\nzoe@initech.com,Zoe\n"),
                       mapping=m)
    assert report.created == 1
