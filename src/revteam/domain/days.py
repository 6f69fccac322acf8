"""Reading a day someone typed (a CLI option, a page's form field)."""

from __future__ import annotations

from datetime import date

from revteam.errors import InvalidInput


def parse_day(value: str | None, label: str) -> date | None:
    """``YYYY-MM-DD`` → the date; empty → None; anything else → ``InvalidInput`` naming ``label`` (the
    option or field, e.g. ``--start`` or ``Start``)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{label} {value!r} is not a date; use YYYY-MM-DD.", code="bad_date") from None
