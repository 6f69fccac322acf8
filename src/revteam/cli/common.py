"""What every CLI command shares: the runtime, JSON output and error translation."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console

from revteam.errors import RevteamError
from revteam.runtime import Runtime, build_runtime
from revteam.services.unit_of_work import capture_sql  # noqa: F401 - the analytics commands' --show-sql

console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON instead of a table.")


def _default(o: object) -> object:
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    if isinstance(o, Decimal):
        return float(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, indent=2, ensure_ascii=False) + "\n")


def translate_errors(fn: F) -> F:
    """The CLI edge of the error tree: print the message (and row errors), exit non-zero."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RevteamError as e:
            err_console.print(f"[bold red]error[/] [dim]({e.code})[/]: {e.message}", highlight=False)
            details = e.details if isinstance(e.details, list) else []
            for d in details[:50]:
                if isinstance(d, dict) and "row" in d:
                    col = f", column `{d['column']}`" if d.get("column") else ""
                    err_console.print(f"  row {d['row']}{col}: {d['message']}", highlight=False, markup=False)
            if len(details) > 50:
                err_console.print(f"  ... and {len(details) - 50} more")
            if e.code == "import_rejected":
                err_console.print("To write the valid rows now and get the invalid ones in a rejects file, add --skip-invalid.")
            raise typer.Exit(code=2) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def runtime() -> Iterator[Runtime]:
    rt = build_runtime()
    try:
        yield rt
    finally:
        rt.engine.dispose()
