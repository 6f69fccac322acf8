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


@pytest.mark.parametrize("typed", ["0001-01-01", "1677-09-21", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_a_day_outside_the_reported_years_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_day(typed, "--start")
    assert e.value.code == "bad_date" and "--start" in str(e.value) and "1900-2199" in str(e.value)


def test_the_first_and_last_reported_days_are_read() -> None:
    assert parse_day("1900-01-01", "x") == date(1900, 1, 1) and parse_day("2199-12-31", "x") == date(2199, 12, 31)
