"""Field types of import files: each turns a raw cell into a typed value or says what is wrong.

A converter returns the typed value, or raises ``ValueError`` whose text tells the person what to
write instead. Empty cells (``""``, whitespace, JSON null) are ``None`` before conversion. Nothing
else may come out: no ``OverflowError`` for ``1e400``, no value the database would refuse.

The same rules hold on SQLite and PostgreSQL, so what one accepts the other accepts too:
    * text: no NUL character, no lone surrogate (``"\\ud800"`` in JSON), at most ``max_length``
      characters (the column's length);
    * whole numbers within the 32-bit range of an INTEGER column (``maximum``, ``minimum``);
    * amounts with at most ``places`` decimals (``0.005`` is refused, not rounded to 0) and at most
      ``digits`` digits in all, like ``NUMERIC(14, 2)``;
    * dates and times in the years the reports hold, 1900-2199 (``domain.days.YEARS``: what an import
      accepts, the analytics can count); far-future dates are checked per import against the import time
      in ``service``.

Example::

    convert("12,500.00", FieldSpec("cost", "decimal"))   == Decimal("12500.00")
    convert("0.005", FieldSpec("cost", "decimal"))       # ValueError: has 3 decimals; at most 2 fit
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from revteam.domain.days import FIRST_YEAR, LAST_YEAR
from revteam.domain.identity import normalise_domain, normalise_email

Converter = Callable[[Any, "FieldSpec"], Any]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str = "str"  # str | int | decimal | date | datetime | enum | email | domain | json | bool | list
    required: bool = False
    max_length: int | None = None
    choices: Sequence[str] = ()
    help: str = ""
    minimum: float | None = None
    formats: tuple[str, ...] = field(default=())  # extra strptime formats, from a mapping
    maximum: float | None = None  # int: default INT_MAX (a 32-bit INTEGER column)
    places: int = 2  # decimal: digits after the point the column keeps
    digits: int = 14  # decimal: digits in all the column keeps


INT_MAX = 2_147_483_647
MAX_PROPERTIES_BYTES = 16_384  # a touch's properties: 16 KB of JSON (UTF-8), from the API or a file


def check_text(value: str) -> str:
    """Refuse what PostgreSQL refuses and SQLite would keep: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000); remove it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("contains a lone surrogate (an invalid \\ud800-\\udfff escape); fix the text") from None
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def to_str(value: Any, spec: FieldSpec) -> str:
    text = _text(value).strip()
    if spec.max_length and len(text) > spec.max_length:
        raise ValueError(f"is {len(text)} characters long; at most {spec.max_length} fit")
    return text


def _number(value: Any, what: str) -> Decimal:
    text = _text(value).strip().replace(",", "").replace("_", "")
    if len(text) > 100:
        raise ValueError(f"is {len(text)} characters long; not {what}")
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValueError(f"{_text(value)[:80]!r} is not {what}") from None
    if not d.is_finite():
        raise ValueError(f"{_text(value)[:80]!r} is not a finite number")
    return d


def to_int(value: Any, spec: FieldSpec) -> int:
    if isinstance(value, bool):
        raise ValueError("is true/false; expected a whole number")  # noqa: TRY004 - converters say ValueError
    top = INT_MAX if spec.maximum is None else spec.maximum
    if isinstance(value, int):
        n = value
    else:
        d = _number(value, "a whole number; write digits only, e.g. 250")
        if abs(d.adjusted()) > 30:
            raise ValueError(f"{_text(value)[:80]!r} is too large; at most {top:,.0f}")
        if d != d.to_integral_value():
            raise ValueError(f"{_text(value)[:80]!r} is not a whole number")
        n = int(d)
    if spec.minimum is not None and n < spec.minimum:
        raise ValueError(f"{n} is below the minimum {spec.minimum:g}")
    if n > top or n < -INT_MAX - 1:
        raise ValueError(f"{n} is too large; at most {top:,.0f}")
    return n


def to_decimal(value: Any, spec: FieldSpec) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("is true/false; expected an amount")  # noqa: TRY004 - converters say ValueError
    text = _text(value).strip().replace("$", "").replace("€", "").replace("£", "")
    d = _number(text, "a number; write an amount like 24000 or 24000.50")
    limit = Decimal(10) ** (spec.digits - spec.places)
    if abs(d.adjusted()) > 40 or abs(d) >= limit:
        raise ValueError(f"{_text(value)[:80]!r} is too large; amounts must be below {limit:,}")
    step = Decimal(1).scaleb(-spec.places)
    kept = d.quantize(step)
    if kept != d:
        decimals = -d.normalize().as_tuple().exponent  # type: ignore[operator]
        raise ValueError(f"{_text(value)[:80]!r} has {decimals} decimals; at most {spec.places} fit "
                         "(round it in the source, nothing is rounded silently)")
    if spec.minimum is not None and kept < Decimal(str(spec.minimum)):
        raise ValueError(f"{kept} is below the minimum {spec.minimum:g}")
    return kept


_DATE_FORMATS = ("%Y-%m-%d",)
_DT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")


def _in_range(d: date, text: str) -> None:
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise ValueError(f"{text[:80]!r} is outside the years {FIRST_YEAR}-{LAST_YEAR}; check the year")


def to_date(value: Any, spec: FieldSpec) -> date:
    text = _text(value).strip()
    for fmt in spec.formats + _DATE_FORMATS:
        try:
            d = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        _in_range(d, text)
        return d
    try:  # a timestamp where a date is expected: keep its date
        dt = to_datetime(value, spec)
    except ValueError as e:
        if "outside the years" in str(e):
            raise
    else:
        return dt.date()
    hint = f" or {', '.join(spec.formats)}" if spec.formats else ""
    raise ValueError(f"{text!r} is not a date; use YYYY-MM-DD{hint}")


def to_datetime(value: Any, spec: FieldSpec) -> datetime:
    """ISO 8601 timestamps; without an offset they are taken as UTC. A bare date is midnight UTC."""
    text = _text(value).strip()
    dt: datetime | None = None
    for fmt in spec.formats:
        try:
            dt = datetime.strptime(text, fmt)
            break
        except ValueError:
            continue
    if dt is None:
        try:
            dt = datetime.fromisoformat(text)  # Python 3.11+: "Z" and offsets included
        except ValueError:
            raise ValueError(
                f"{text[:80]!r} is not a date and time; use ISO 8601 like 2024-03-01T14:30:00Z or 2024-03-01 14:30"
            ) from None
    _in_range(dt.date(), text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def to_enum(value: Any, spec: FieldSpec) -> str:
    text = _text(value).strip().lower().replace(" ", "_").replace("-", "_")
    if text not in spec.choices:
        raise ValueError(f"{_text(value)!r} is not one of: {', '.join(spec.choices)}")
    return text


def to_email(value: Any, spec: FieldSpec) -> str | None:
    return normalise_email(_text(value))


def to_domain(value: Any, spec: FieldSpec) -> str | None:
    return normalise_domain(_text(value))


def to_json(value: Any, spec: FieldSpec) -> dict[str, Any]:
    if isinstance(value, dict):
        obj = value
    else:
        try:
            obj = json.loads(_text(value))
        except json.JSONDecodeError:
            raise ValueError('is not a JSON object; write it like {"utm_source": "linkedin"}') from None
        except RecursionError:
            raise ValueError("is JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise ValueError('must be a JSON object like {"utm_source": "linkedin"}')  # noqa: TRY004
    try:
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False)
    except RecursionError:
        raise ValueError("is JSON nested too deeply") from None
    except ValueError:
        raise ValueError("holds NaN or Infinity, which JSON does not allow") from None
    check_text(text.replace("\\u0000", "\x00"))
    if spec.max_length and len(text) > spec.max_length // 4 and len(size := text.encode("utf-8")) > spec.max_length:
        raise ValueError(f"is {len(size):,} bytes of JSON; at most {spec.max_length:,} bytes ({spec.max_length // 1024} KB) "
                         "fit: keep the properties reports use, store bulky data elsewhere and link it")
    return obj


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def to_bool(value: Any, spec: FieldSpec) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{_text(value)!r} is not yes/no; write true or false")


def to_list(value: Any, spec: FieldSpec) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [p.strip() for p in _text(value).replace(",", ";").split(";") if p.strip()]


CONVERTERS: dict[str, Converter] = {
    "str": to_str,
    "int": to_int,
    "decimal": to_decimal,
    "date": to_date,
    "datetime": to_datetime,
    "enum": to_enum,
    "email": to_email,
    "domain": to_domain,
    "json": to_json,
    "bool": to_bool,
    "list": to_list,
}


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def convert(value: Any, spec: FieldSpec) -> Any:
    """The typed value of a non-empty cell, None for an empty one; ValueError says what is wrong."""
    if is_empty(value):
        return None
    return convert_filled(value, spec)


def convert_filled(value: Any, spec: FieldSpec) -> Any:
    """``convert`` of a cell known not to be empty."""
    if value.__class__ is str:
        if "\x00" in value or not value.isascii():
            check_text(value)
    elif isinstance(value, str):
        check_text(value)
    elif isinstance(value, float) and spec.type in ("int", "decimal"):
        value = repr(value)  # JSON numbers: 1e400 arrives as inf, refused as not finite
    elif isinstance(value, (list, dict)) and spec.type not in ("json", "list"):
        raise ValueError(f"is a JSON {'list' if isinstance(value, list) else 'object'}; expected a single value")
    return CONVERTERS[spec.type](value, spec)
