"""Property-based fuzzing of the readers and the field validators (hypothesis).

Whatever the input, the outcome is a value or a refusal with a message (``ValueError`` from a field,
``InvalidInput`` from a reader), never another exception; and every accepted value fits the column
on SQLite and PostgreSQL alike (length, no NUL or lone surrogate, 32-bit integers, two decimals, years
1900-2199). Files written by a proper CSV writer read back exactly."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revteam.errors import InvalidInput
from revteam.ingest.fields import FIRST_YEAR, INT_MAX, LAST_YEAR, FieldSpec, convert
from revteam.ingest.readers import open_rows
from revteam.ingest.schemas import KIND_SPECS

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALL_SPECS = {(f.type, f.max_length, f.minimum, f.choices): f for k in KIND_SPECS.values() for f in k.fields}
SPECS = list(ALL_SPECS.values())
ANY_TEXT = st.text(alphabet=st.characters(codec=None, categories=None), max_size=60)  # surrogates, NUL, all
NUMBERISH = st.one_of(
    st.from_regex(r"\A[-+]?\d{0,40}(\.\d{0,6})?([eE][-+]?\d{1,5})?\Z"),
    st.sampled_from(["1e400", "-1e400", "nan", "inf", "0.005", "1,000.50", "$12", "2147483648", "１２"]),
)
DATEISH = st.one_of(
    st.from_regex(r"\A\d{1,5}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2})?)?(Z|[+-]\d{2}:\d{2})?\Z"),
    st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2200-12-31T23:30:00-05:00"]),
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=20)


def _fits(value: object, spec: FieldSpec) -> None:
    if isinstance(value, str):
        assert "\x00" not in value
        value.encode("utf-8")  # no lone surrogate
        if spec.max_length:
            assert len(value) <= spec.max_length
    if isinstance(value, bool):
        return
    if isinstance(value, int):
        assert -INT_MAX - 1 <= value <= INT_MAX
    if isinstance(value, Decimal):
        assert value == value.quantize(Decimal("0.01")) and abs(value) < 10**12
    if isinstance(value, (date, datetime)):
        assert FIRST_YEAR <= value.year <= LAST_YEAR + 1  # a 2199-12-31 time with an offset may end in 2200 UTC
    if isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
        assert "\\u0000" not in text


@FUZZ
@given(spec=st.sampled_from(SPECS), raw=st.one_of(ANY_TEXT, NUMBERISH, DATEISH, JSONISH))
def test_a_field_gives_a_fitting_value_or_a_message(spec, raw):
    try:
        value = convert(raw, spec)
    except ValueError as e:
        assert str(e)  # says what is wrong
        return
    _fits(value, spec)


def _read(data: bytes, suffix: str, **kw: object) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"f{suffix}"
        path.write_bytes(data)
        src = open_rows(path, "csv" if suffix == ".csv" else "jsonl", max_line_bytes=4096, **kw)
        return [r.values for r in src]


@FUZZ
@given(data=st.binary(max_size=400) | ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
       suffix=st.sampled_from([".csv", ".jsonl"]))
def test_a_reader_gives_rows_or_says_what_is_wrong_with_the_file(data, suffix):
    try:
        rows = _read(data, suffix)
    except InvalidInput as e:
        assert e.message
        return
    assert rows and all(isinstance(r, dict) for r in rows)


CELL = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00\r"), max_size=12)


@FUZZ
@given(table=st.integers(1, 4).flatmap(lambda n: st.lists(st.lists(CELL, min_size=n, max_size=n), min_size=1,
                                                         max_size=6)))
def test_a_file_written_by_a_csv_writer_reads_back_exactly(table):
    header = [f"col{i}" for i in range(len(table[0]))]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(table)
    expected = [dict(zip(header, row)) for row in table if any(c.strip() for c in row)]
    try:
        got = _read(buf.getvalue().encode("utf-8"), ".csv", multiline_values=True)
    except InvalidInput as e:
        assert not expected and "no data rows" in e.message
        return
    assert got == expected


@FUZZ
@given(objs=st.lists(st.dictionaries(ANY_TEXT, JSONISH, max_size=4), min_size=1, max_size=5))
def test_json_lines_read_back_or_are_refused_by_line(objs):
    text = "".join(json.dumps(o) + "\n" for o in objs)
    try:
        got = _read(text.encode("utf-8"), ".jsonl")
    except InvalidInput as e:
        assert e.message
        return
    assert json.dumps(got) == json.dumps(objs)  # NaN is not equal to itself
