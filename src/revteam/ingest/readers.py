"""Read CSV and JSON-lines files row by row, with row numbers, without trusting the file.

Guards: the file must be UTF-8 (a BOM is fine), no physical line may exceed the configured byte
limit (a 100 MB single line is refused after reading at most limit+1 bytes of it), the file must
have a header (CSV) and at least one data row. Every problem is reported with the row it is on.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from revteam.errors import InvalidInput, RowError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}


class FileUnreadable(InvalidInput):
    code = "file_unreadable"


@dataclass
class RawRow:
    number: int  # 1-based data row (CSV: the header is row 0; JSONL: line number)
    values: dict[str, Any]


def detect_format(path: Path, explicit: str | None = None) -> str:
    if explicit:
        if explicit not in ("csv", "jsonl"):
            raise InvalidInput(f"Unknown file format {explicit!r}; use csv or jsonl.", code="bad_format")
        return explicit
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"Cannot tell the format of {path.name!r} from its extension; name it .csv or .jsonl "
            "(or pass --format).",
            code="bad_format",
        )
    return fmt


def _text_lines(fh: IO[bytes], max_line_bytes: int) -> Iterator[tuple[int, str]]:
    """Physical lines decoded as UTF-8, numbered from 1, refusing over-long or non-UTF-8 lines."""
    number = 0
    while True:
        raw = fh.readline(max_line_bytes + 1)
        if not raw:
            return
        number += 1
        if len(raw) > max_line_bytes and not raw.endswith(b"\n"):
            raise FileUnreadable(
                f"Line {number} is longer than {max_line_bytes:,} bytes; this is not a CSV or JSON-lines "
                "export (check the file, or split the record).",
                code="line_too_long",
                details=[RowError(number, None, f"line longer than {max_line_bytes:,} bytes").to_dict()],
            )
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FileUnreadable(
                f"Line {number} is not UTF-8 text (byte 0x{raw[e.start]:02x} at position {e.start + 1}); "
                "save the file as UTF-8 (in Excel: 'CSV UTF-8') and import again.",
                code="not_utf8",
                details=[RowError(number, None, "not UTF-8 text").to_dict()],
            ) from None


def read_rows(path: Path, fmt: str, *, max_line_bytes: int) -> tuple[list[str], list[RawRow]]:
    """All rows of the file and the column names seen (CSV header, or union of JSON keys)."""
    if not path.exists():
        raise FileUnreadable(f"File {str(path)!r} does not exist.", code="file_missing")
    with path.open("rb") as fh:
        if fmt == "csv":
            return _read_csv(fh, max_line_bytes)
        return _read_jsonl(fh, max_line_bytes)


def _read_csv(fh: IO[bytes], max_line_bytes: int) -> tuple[list[str], list[RawRow]]:
    lines = _text_lines(fh, max_line_bytes)
    line_numbers: list[int] = []

    def tracked() -> Iterator[str]:
        for n, text in lines:
            line_numbers.append(n)
            yield text

    reader = csv.reader(tracked())
    try:
        header = next(reader)
    except StopIteration:
        raise FileUnreadable("The file is empty; expected a header row and at least one data row.", code="empty_file") from None
    except csv.Error as e:
        raise FileUnreadable(f"The header row is not valid CSV: {e}.", code="bad_csv") from None
    header = [h.strip() for h in header]
    while header and header[-1] == "" and len(header) > 1:
        header.pop()  # trailing comma on every line (seen in real exports): an empty last column
    if not any(header):
        raise FileUnreadable("The file has no header row; the first line must name the columns.", code="no_header")
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise FileUnreadable(
            f"The header names column(s) {', '.join(dupes)} more than once; rename them so each is unique.",
            code="duplicate_columns",
        )
    rows: list[RawRow] = []
    number = 0
    try:
        for fields in reader:
            if not fields or all(not f.strip() for f in fields):
                continue  # blank line
            number += 1
            extra = fields[len(header):]
            if any(x.strip() for x in extra):
                values: dict[str, Any] = {"__too_many_fields__": len(fields)}
            else:
                values = {}
            values.update({h: (fields[i] if i < len(fields) else None) for i, h in enumerate(header)})
            rows.append(RawRow(number, values))
    except csv.Error as e:
        raise FileUnreadable(
            f"Line {line_numbers[-1] if line_numbers else '?'} is not valid CSV ({e}); check quoting.",
            code="bad_csv",
        ) from None
    if not rows:
        raise FileUnreadable("The file has a header but no data rows; nothing to import.", code="empty_file")
    return header, rows


def _read_jsonl(fh: IO[bytes], max_line_bytes: int) -> tuple[list[str], list[RawRow]]:
    rows: list[RawRow] = []
    columns: dict[str, None] = {}
    bad: list[RowError] = []
    for number, text in _text_lines(fh, max_line_bytes):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            bad.append(RowError(number, None, f"not valid JSON ({e.msg} at column {e.colno}); one object per line"))
            continue
        if not isinstance(obj, dict):
            bad.append(RowError(number, None, "each line must be a JSON object like {\"email\": ...}"))
            continue
        for k in obj:
            columns.setdefault(k, None)
        rows.append(RawRow(number, obj))
    if bad:
        from revteam.errors import ImportRejected

        raise ImportRejected(errors=bad, kind="JSON-lines")
    if not rows:
        raise FileUnreadable("The file is empty; expected one JSON object per line.", code="empty_file")
    return list(columns), rows
