"""Read CSV and JSON-lines files row by row, with row numbers, without trusting the file.

The model: ``open_rows(path, fmt)`` checks the header at once and returns a ``RowSource`` whose
iteration streams ``RawRow``s; memory is one line (bounded by ``max_line_bytes``), whatever the file's
size. Example::

    src = open_rows(Path("contacts.csv"), "csv", max_line_bytes=1_000_000)
    src.columns            # ['email', 'first_name']
    for raw in src:        # RawRow(number=1, values={'email': 'ana@acme.com', ...}, line=2)
        ...

Guards, each reported with the row (and physical line) it is on, before anything is written:
    * UTF-8 only (a BOM is fine); no physical line longer than the byte limit (a 100 MB single line
      is refused after reading at most limit+1 bytes of it); no NUL characters.
    * a header naming each column once (checked in linear time, 40,000 columns are fine);
    * CSV quoting is parsed strictly: a quote that is never closed, text after a closing quote, and a
      quoted value that runs over line breaks and swallows what look like whole rows (one stray ``"``
      would otherwise turn 98 rows into one value) are refused. Real multi-line values (notes) are
      accepted when the mapping sets ``options.multiline_values = true``;
    * a row with fewer values than the header is refused (``short_row``) unless the mapping sets
      ``options.pad_short_rows = true`` (then it is padded with empty cells and a warning is given);
      a row with more non-empty values than the header is always refused;
    * a carriage return that ends no line (old Mac or mixed line endings) is refused with what to do
      (save with Windows or Unix line endings), not Python's "universal-newline mode" wording;
    * JSON lines: one object per line, nesting at most ``MAX_JSON_DEPTH`` deep.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from revteam.errors import InvalidInput, RowError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl"}
MAX_JSON_DEPTH = 32
TOO_MANY = "__too_many_fields__"
TOO_FEW = "__too_few_fields__"


class FileUnreadable(InvalidInput):
    code = "file_unreadable"


@dataclass
class RawRow:
    number: int  # 1-based data row (CSV: the header is row 0; JSONL: line number)
    values: dict[str, Any]
    line: int = 0  # physical line the row starts on (1-based; the CSV header is line 1)


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


def _unreadable(message: str, code: str, row: int, detail: str) -> FileUnreadable:
    return FileUnreadable(message, code=code, details=[RowError(row, None, detail).to_dict()])


def _bare_carriage_return(error: csv.Error, row: int, line: int) -> FileUnreadable | None:
    """Python's "new-line character seen in unquoted field" (a ``\r`` that ends no line), said for people."""
    if "new-line character" not in str(error):
        return None
    where = "The header row" if row == 0 else f"Row {row} (line {line})"
    return _unreadable(
        f"{where} holds a carriage return (\\r) that does not end a line: the file has old Mac or mixed line "
        "endings. Save it with Windows (CRLF) or Unix (LF) line endings (in Excel: 'CSV UTF-8') and import "
        "again. Nothing was imported.", "bare_carriage_return", row, f"a bare carriage return on line {line}")


class _Lines:
    """Physical lines decoded as UTF-8, numbered from 1, refusing over-long, NUL or non-UTF-8 lines."""

    def __init__(self, fh: IO[bytes], max_line_bytes: int) -> None:
        self.fh, self.max = fh, max_line_bytes
        self.number = 0
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        while True:
            raw = self.fh.readline(self.max + 1)
            if not raw:
                return
            self.number += 1
            self.bytes_read += len(raw)
            n = self.number
            if len(raw) > self.max and not raw.endswith(b"\n"):
                raise _unreadable(
                    f"Line {n} is longer than {self.max:,} bytes; this is not a CSV or JSON-lines "
                    "export (check the file, or split the record).",
                    "line_too_long", n, f"line longer than {self.max:,} bytes")
            if n == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if b"\x00" in raw:
                at = raw.index(b"\x00") + 1
                raise _unreadable(
                    f"Line {n} contains a NUL character (byte 0x00 at position {at}); "
                    "this is a binary or UTF-16 file, not UTF-8 text: save it as 'CSV UTF-8' and import again.",
                    "nul_character", n, "NUL character")
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise _unreadable(
                    f"Line {n} is not UTF-8 text (byte 0x{raw[e.start]:02x} at position {e.start + 1}); "
                    "save the file as UTF-8 (in Excel: 'CSV UTF-8') and import again.",
                    "not_utf8", n, "not UTF-8 text") from None


def check_header(header: list[str]) -> list[str]:
    """The column names, stripped, without a trailing empty column; refuses empty or repeated names."""
    header = [h.strip() for h in header]
    while header and header[-1] == "" and len(header) > 1:
        header.pop()  # trailing comma on every line (seen in real exports): an empty last column
    if not any(header):
        raise FileUnreadable("The file has no header row; the first line must name the columns.", code="no_header")
    dupes = sorted(h for h, n in Counter(header).items() if n > 1)
    if dupes:
        raise FileUnreadable(
            f"The header names column(s) {', '.join(dupes[:20])}{' ...' if len(dupes) > 20 else ''} more than "
            "once; rename them so each is unique.",
            code="duplicate_columns",
        )
    return header


@dataclass
class RowSource:
    """A file's column names and a fresh stream of its rows each time it is iterated."""

    path: Path
    fmt: str
    max_line_bytes: int
    columns: list[str] = field(default_factory=list)
    multiline_values: bool = False
    size: int = 0
    bytes_read: int = 0

    def __iter__(self) -> Iterator[RawRow]:
        with self.path.open("rb") as fh:
            lines = _Lines(fh, self.max_line_bytes)
            rows = self._csv(lines) if self.fmt == "csv" else self._jsonl(lines)
            count = 0
            for row in rows:
                count += 1
                self.bytes_read = lines.bytes_read
                yield row
        if count == 0:
            what = "a header but no data rows" if self.fmt == "csv" else "no JSON objects"
            raise FileUnreadable(f"The file has {what}; nothing to import.", code="empty_file")

    def _csv(self, lines: _Lines) -> Iterator[RawRow]:
        reader = csv.reader(iter(lines), strict=True)
        width = len(self.columns)
        try:
            next(reader)  # the header, checked by open_rows
        except (StopIteration, csv.Error):
            return
        number, end = 0, lines.number
        while True:
            start = end + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                cr = _bare_carriage_return(e, number + 1, lines.number)
                if cr is not None:
                    raise cr from None
                why = str(e)
                if "unexpected end of data" in why:
                    why = (f"a quoted value starting on line {start} is never closed, so lines {start}-{lines.number} "
                           "(the rest of the file) would become one value")
                raise self._bad_quoting(number + 1, start, lines.number, why) from None
            end = lines.number
            if not fields or all(not f.strip() for f in fields):
                continue  # blank line
            number += 1
            if end > start and not self.multiline_values:
                self._check_multiline(fields, number, start, end, width)
            values: dict[str, Any] = {}
            if len(fields) > width and any(x.strip() for x in fields[width:]):
                values[TOO_MANY] = len(fields)
            elif len(fields) < width:
                values[TOO_FEW] = len(fields)
            values.update(zip(self.columns, fields))
            for h in self.columns[len(fields):]:
                values[h] = None
            yield RawRow(number, values, start)

    def _check_multiline(self, fields: list[str], number: int, start: int, end: int, width: int) -> None:
        for i, f in enumerate(fields):
            if "\n" not in f and "\r" not in f:
                continue
            swallowed = [ln for ln in f.splitlines()[1:] if width > 1 and len(ln.split(",")) >= width]
            if swallowed:
                col = self.columns[i] if i < len(self.columns) else f"value {i + 1}"
                raise self._bad_quoting(
                    number, start, end,
                    f"the quoted value of `{col}` runs from line {start} to line {end} and swallows "
                    f"{len(swallowed)} line(s) that look like rows, e.g. {swallowed[0][:80]!r}")

    def _bad_quoting(self, row: int, start: int, end: int, why: str) -> FileUnreadable:
        return FileUnreadable(
            f"Row {row} (line {start}) has malformed quoting: {why}. A stray double quote? Close the quote, "
            'or write a quote inside a value as two quotes (""). Nothing was imported'
            + ("" if self.multiline_values else "; if values really span lines, set options.multiline_values "
               "= true in the mapping") + ".",
            code="bad_quoting",
            details=[RowError(row, None, f"malformed quoting starting on line {start}: {why}").to_dict()],
        )

    def _jsonl(self, lines: _Lines) -> Iterator[RawRow]:
        bad: list[RowError] = []
        for text in lines:
            number = lines.number
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                bad.append(RowError(number, None, f"not valid JSON ({e.msg} at column {e.colno}); one object per line"))
                continue
            except RecursionError:
                bad.append(RowError(number, None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"))
                continue
            if not isinstance(obj, dict):
                bad.append(RowError(number, None, "each line must be a JSON object like {\"email\": ...}"))
                continue
            if _depth(obj) > MAX_JSON_DEPTH:
                bad.append(RowError(number, None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"))
                continue
            if not bad:
                yield RawRow(number, obj, number)
        if bad:
            from revteam.errors import ImportRejected

            raise ImportRejected(errors=bad, kind="JSON-lines")


def _depth(obj: Any, level: int = 1) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(obj, dict):
        return max((_depth(v, level + 1) for v in obj.values()), default=level)
    if isinstance(obj, list):
        return max((_depth(v, level + 1) for v in obj), default=level)
    return level


def open_rows(path: Path, fmt: str, *, max_line_bytes: int, multiline_values: bool = False) -> RowSource:
    """Check that the file exists and has a valid header; its rows stream when the source is iterated.

    For JSON lines the columns are the keys of the first object (others may add more)."""
    if not path.exists():
        raise FileUnreadable(f"File {str(path)!r} does not exist.", code="file_missing")
    src = RowSource(path, fmt, max_line_bytes, multiline_values=multiline_values, size=path.stat().st_size)
    with path.open("rb") as fh:
        lines = _Lines(fh, max_line_bytes)
        if fmt == "csv":
            try:
                header = next(csv.reader(iter(lines), strict=True))
            except StopIteration:
                raise FileUnreadable("The file is empty; expected a header row and at least one data row.",
                                     code="empty_file") from None
            except csv.Error as e:
                raise _bare_carriage_return(e, 0, lines.number) or FileUnreadable(
                    f"The header row is not valid CSV: {e}.", code="bad_csv") from None
            src.columns = check_header(header)
            if not any(text.strip() for text in lines):
                raise FileUnreadable("The file has a header but no data rows; nothing to import.", code="empty_file")
        else:
            for text in lines:
                if text.strip():
                    try:
                        obj = json.loads(text)
                    except (json.JSONDecodeError, RecursionError):
                        break  # reported with its line when the rows are read
                    if isinstance(obj, dict):
                        src.columns = list(obj)
                    break
            else:
                raise FileUnreadable("The file is empty; expected one JSON object per line.", code="empty_file")
    return src


def read_rows(path: Path, fmt: str, *, max_line_bytes: int) -> tuple[list[str], list[RawRow]]:
    """All rows in memory (small files and tests); imports stream through ``open_rows`` instead."""
    src = open_rows(path, fmt, max_line_bytes=max_line_bytes)
    rows = list(src)
    if fmt == "jsonl":
        cols: dict[str, None] = {}
        for r in rows:
            cols.update(dict.fromkeys(r.values))
        return list(cols), rows
    return src.columns, rows
