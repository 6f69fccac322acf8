"""Reading a day someone typed (a CLI option, a page's form field, an API query parameter).

revteam's reports hold dates from 1900-01-01 up to (not including) 2200-01-01 (``YEARS``); a day typed outside
them is refused here, the one day parser, with ``bad_date`` (422 on the API and the pages, exit 2 on the CLI),
because Python stops at 9999, pandas at 2262 and DuckDB's timestamps would fail for the whole answer.

    parse_day("2024-03-01", "--start")   # date(2024, 3, 1)
    parse_day("0001-01-01", "start")     # InvalidInput: start '0001-01-01' is outside 1900-2199 ...
"""

from __future__ import annotations

from datetime import date

from revteam.errors import InvalidInput

FIRST_YEAR, LAST_YEAR = 1900, 2199  # inclusive
EARLIEST = f"{FIRST_YEAR}-01-01"
LATEST = f"{LAST_YEAR + 1}-01-01"  # exclusive
YEARS = f"{FIRST_YEAR}-{LAST_YEAR}"


def check_year(value: date, label: str, typed: str | None = None) -> date:
    """``value`` when its year is in ``YEARS``, else ``InvalidInput`` (``bad_date``) naming ``label``."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidInput(f"{label} {typed or value.isoformat()!r} is outside the years {YEARS} revteam "
                           f"reports on; use a date from {EARLIEST} to {LAST_YEAR}-12-31.", code="bad_date")
    return value


def parse_day(value: str | None, label: str) -> date | None:
    """``YYYY-MM-DD`` → the date; empty → None; anything else, or a year outside ``YEARS`` → ``InvalidInput``
    naming ``label`` (the option or field, e.g. ``--start`` or ``Start``)."""
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{label} {value!r} is not a date; use YYYY-MM-DD.", code="bad_date") from None
    return check_year(parsed, label, value)
