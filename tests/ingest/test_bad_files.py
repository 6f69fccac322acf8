"""The bad-file corpus: every file in ``bad_files/`` is refused with its expected message, on SQLite and
PostgreSQL alike, and nothing of it is written (not even its good rows); the refusal is logged as a
rejected import run. A file added to the folder without a line in ``CASES`` fails the completeness test."""

from __future__ import annotations

import pytest

from revteam.errors import InvalidInput
from revteam.ingest.api import API_MAPPING
from revteam.ingest.mapping import load_mapping
from tests.ingest.conftest import BAD_FILES, counts, do_import, last_run

API = "api"  # touchpoints sent the way the events API sends them (event_id, email)
MQLS = "mapping_mqls.toml"

# file, kind, mapping, words the message must contain
CASES = [
    ("stray_quote.csv", "contacts", None, ("Row 3 (line 4) has malformed quoting: a quoted value starting on "
                                           "line 4 is never closed")),
    ("unclosed_quote_at_end.csv", "contacts", None, "Row 2 (line 3) has malformed quoting"),
    ("text_after_closing_quote.csv", "contacts", None, "Row 2 (line 3) has malformed quoting"),
    ("short_row.csv", "contacts", None, "row 2: has 2 values but the header names 4"),
    ("long_row.csv", "contacts", None, "row 2: has 5 values but the header names 4"),
    ("not_utf8.csv", "contacts", None, "Line 2 is not UTF-8 text"),
    ("utf16.csv", "contacts", None, "Line 1 contains a NUL character"),
    ("nul_in_cell.csv", "contacts", None, "Line 3 contains a NUL character"),
    ("duplicate_header.csv", "contacts", None, "names column(s) email more than once"),
    ("no_header.csv", "contacts", None, "has no header row"),
    ("header_only.csv", "contacts", None, "no data rows"),
    ("empty.csv", "contacts", None, "The file is empty"),
    ("bad_email.csv", "contacts", None, "row 2, column `email`: `email` 'zoe-at-initech.com' is not an e-mail"),
    ("duplicate_email_zero_width.csv", "contacts", None, "row 2, column `email`: duplicate of row 1"),
    ("duplicate_email_fullwidth.csv", "contacts", None, "row 2, column `email`: duplicate of row 1"),
    ("duplicate_external_id.csv", "contacts", None, "row 2, column `external_id`: duplicate of row 1"),
    ("created_far_future.csv", "contacts", None, "`created_at` 2099-01-05 is more than 5 years after the import"),
    ("created_year_9999.csv", "contacts", None, "is outside the years 1900-2199"),
    ("created_year_1_with_offset.csv", "contacts", None, "is outside the years 1900-2199"),
    ("first_name_too_long.csv", "contacts", None, "`first_name` is 121 characters long; at most 120 fit"),
    ("email_too_long.csv", "contacts", None, "is not an e-mail address"),
    ("unknown_stage.csv", "contacts", None, "'hot_prospect' is not a lifecycle stage"),
    ("bad_consent.csv", "contacts", None, "'maybe' is not one of"),
    ("no_identity_column.csv", "contacts", None, "has no column for: email or external_id"),
    ("mapped_column_missing.csv", "contacts", MQLS, "has no column 'first_contact_date' (for created_at)"),
    ("deal_amount_half_cent.csv", "deals", None, "'0.005' has 3 decimals; at most 2 fit"),
    ("deal_amount_1e400.csv", "deals", None, "'1e400' is too large"),
    ("deal_amount_negative.csv", "deals", None, "`amount` -5.00 is below the minimum 0"),
    ("deal_won_in_2099.csv", "deals", None, "`closed_on` 2099-02-01 is more than 5 years after the import"),
    ("deal_won_next_month.csv", "deals", None, "a deal cannot be won on 2026-04-16, after today"),
    ("deal_duplicate_external_id.csv", "deals", None, "row 2, column `external_id`: duplicate of row 1"),
    ("account_employees_overflow.csv", "accounts", None, "3000000000 is too large; at most 2,147,483,647"),
    ("account_employees_1e400.csv", "accounts", None, "'1e400' is too large"),
    ("account_employees_fraction.csv", "accounts", None, "'12.5' is not a whole number"),
    ("campaign_cost_half_cent.csv", "campaigns", None, "'0.005' has 3 decimals"),
    ("campaign_ends_before_start.csv", "campaigns", None, "ends (2026-07-01) before it starts (2026-09-30)"),
    ("bare_carriage_return.csv", "contacts", None, ("Row 2 (line 3) holds a carriage return (\\r) that does not end "
                                                    "a line: the file has old Mac or mixed line endings. Save it with "
                                                    "Windows (CRLF) or Unix (LF) line endings")),
    ("old_mac_line_endings.csv", "contacts", None, "The header row holds a carriage return (\\r) that does not end"),
    ("semicolon_separated.csv", "contacts", None, ("The file looks separated by ';', not commas: save it as "
                                                   "comma-separated CSV")),
    ("header_capitalised_with_space.csv", "contacts", None, ("The column 'Email' looks like 'email': names must "
                                                             "match exactly (case, spaces), so rename it to 'email'")),
    ("json_key_with_trailing_space.jsonl", "contacts", None, "The column 'email ' looks like 'email'"),
    ("touch_lone_surrogate.jsonl", "touchpoints", API, "`channel` contains a lone surrogate"),
    ("touch_nul_in_properties.jsonl", "touchpoints", API, "`properties` contains a NUL character"),
    ("touch_deep_json.jsonl", "touchpoints", API, "row 2: JSON nested deeper than 32 levels"),
    ("touch_infinity_in_properties.jsonl", "touchpoints", API, "`properties` holds NaN or Infinity"),
    ("touch_not_an_object.jsonl", "touchpoints", API, "row 2: each line must be a JSON object"),
    ("touch_bad_json_line.jsonl", "touchpoints", API, "row 2: not valid JSON"),
    ("touch_duplicate_event.jsonl", "touchpoints", API, "row 2, column `external_id`: duplicate of row 1"),
    ("touch_occurred_year_3000.jsonl", "touchpoints", API, "is outside the years 1900-2199"),
    ("touch_number_as_email.jsonl", "touchpoints", API, "is a JSON object; expected a single value"),
]


def test_every_bad_file_has_its_expected_message():
    data_files = sorted(p.name for p in BAD_FILES.iterdir() if p.suffix in (".csv", ".jsonl"))
    assert sorted(c[0] for c in CASES) == data_files
    assert len(data_files) >= 30


def _message(e: InvalidInput) -> str:
    return " ".join([e.message, *(f"row {d['row']}" + (f", column `{d['column']}`" if d.get("column") else "")
                                  + f": {d['message']}" for d in (e.details or []) if isinstance(d, dict))])


@pytest.mark.parametrize(("name", "kind", "mapping", "words"), CASES, ids=[c[0] for c in CASES])
def test_a_bad_file_is_refused_with_its_message_and_nothing_is_written(name, kind, mapping, words, world, sessions):
    loaded = API_MAPPING if mapping == API else load_mapping(BAD_FILES / mapping) if mapping else None
    before = counts(sessions)
    with pytest.raises(InvalidInput) as e:
        do_import(sessions, kind, BAD_FILES / name, mapping=loaded)
    assert words in _message(e.value), _message(e.value)
    assert counts(sessions) == before
    assert last_run(sessions).status == "rejected"
