"""Reading a typed day: one rule for every CLI option and page field."""

from datetime import date

import pytest

from revteam.domain.days import parse_day
from revteam.errors import InvalidInput


def test_a_day_empty_or_not_a_day():
    assert parse_day("2026-03-16", "--start") == date(2026, 3, 16)
    assert parse_day("", "Start") is None and parse_day(None, "--end") is None
    with pytest.raises(InvalidInput, match=r"--start '2026-13-01' is not a date; use YYYY-MM-DD\.") as e:
        parse_day("2026-13-01", "--start")
    assert e.value.code == "bad_date"
