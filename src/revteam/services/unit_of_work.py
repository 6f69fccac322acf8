"""The database as the faces see it: a session they open for a request or a command and hand to the use
cases, which decide when their changes are kept (``transaction``); and ``capture_sql``, the statements the
database ran inside a block (``--show-sql``).

The web and the CLI never import ``revteam.store`` (the import contract in ``pyproject.toml``) and never
call a method on a session (``tests/docs/test_thin_faces.py``); they name the session's type from here,
open one from the runtime's factory with ``with runtime.sessions() as session:`` and pass it on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from revteam.store.db import transaction, unit_of_work

SessionFactory = sessionmaker[Session]

__all__ = ["Session", "SessionFactory", "capture_sql", "transaction", "unit_of_work"]


@contextmanager
def capture_sql(engine: Engine) -> Iterator[list[str]]:
    """Collect the SQL statements an engine runs inside the block (for --show-sql)."""
    statements: list[str] = []

    def listen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)
