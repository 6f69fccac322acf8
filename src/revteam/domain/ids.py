"""Record ids: whole numbers from 1 to ``MAX_ID`` (2,147,483,647), the range of the integer keys on PostgreSQL.

An id outside that range cannot name a record, so it is refused where it is read (the API's path and query
parameters, the owner and rep filters) instead of reaching the database, where SQLite overflows above 2^63 and
PostgreSQL above 2^31.

    id_from_text("42") == 42;  id_from_text("99999999999") is None;  id_from_text("²") is None
"""

from __future__ import annotations

MAX_ID = 2**31 - 1


def id_from_text(text: str) -> int | None:
    """The id written in ``text`` (ASCII digits only), or None when it is not one or out of range."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
