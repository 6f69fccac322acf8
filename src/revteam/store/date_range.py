"""The dates revteam's reports can hold: 1900-01-01 up to (not including) 2200-01-01.

The database may hold others (PostgreSQL keeps years 4713 BC to 294276 AD and ``infinity``; SQLite keeps any
text), written by an old import, a SQL client or a bug. Python's ``datetime`` stops at 9999 and pandas'
nanoseconds at 2262, so a query that hands such a value to Python or Arrow fails for everyone. Queries that
read dates for reports compare in SQL first: ``in_range(col)`` is true for a sane, non-null date, and
``sane(col)`` is the date, or NULL when it is out of range.

    select(func.max(sane(Touchpoint.occurred_at)))      # the last touch, ignoring a touch "in 3000"
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, literal_column

# one definition (domain/days.py): the day parser refuses days outside them
from revteam.domain.days import EARLIEST, LATEST, YEARS

__all__ = ["EARLIEST", "LATEST", "YEARS", "in_range", "sane"]


def in_range(col: Any) -> Any:
    """True when ``col`` is a date in 1900-2199 (inline literals: compared as text on SQLite, as dates on
    PostgreSQL, never bound as Python values)."""
    return and_(col >= literal_column(f"'{EARLIEST}'"), col < literal_column(f"'{LATEST}'"))


def sane(col: Any) -> Any:
    """``col`` when it is in range, else NULL."""
    return case((in_range(col), col), else_=None)
