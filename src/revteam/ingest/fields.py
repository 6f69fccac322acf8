"""Field types of import files: each turns a raw cell into a typed value or says what is wrong.

A converter returns the typed value, or raises ``ValueError`` whose text tells the person what to
write instead. Empty cells (``""``, whitespace, JSON null) are ``None`` before conversion.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

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


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def to_str(value: Any, spec: FieldSpec) -> str:
    text = _text(value).strip()
    if spec.max_length and len(text) > spec.max_length:
        raise ValueError(f"is {len(text)} characters long; at most {spec.max_length} fit")
    return text


def to_int(value: Any, spec: FieldSpec) -> int:
    if isinstance(value, bool):
        raise ValueError("is true/false; expected a whole number")
    if isinstance(value, int):
        n = value
    else:
        text = _text(value).strip().replace(",", "").replace("_", "")
        try:
            f = float(text)
        except ValueError:
            raise ValueError(f"{_text(value)!r} is not a whole number; write digits only, e.g. 250") from None
        if f != int(f):
            raise ValueError(f"{_text(value)!r} is not a whole number")
        n = int(f)
    if spec.minimum is not None and n < spec.minimum:
        raise ValueError(f"{n} is below the minimum {spec.minimum:g}")
    return n


def to_decimal(value: Any, spec: FieldSpec) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("is true/false; expected an amount")
    text = _text(value).strip().replace(",", "").replace("$", "").replace("€", "").replace("£", "")
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{_text(value)!r} is not a number; write an amount like 24000 or 24000.50") from None
    if not d.is_finite():
        raise ValueError(f"{_text(value)!r} is not a finite number")
    if spec.minimum is not None and d < Decimal(str(spec.minimum)):
        raise ValueError(f"{d} is below the minimum {spec.minimum:g}")
    return d.quantize(Decimal("0.01"))


_DATE_FORMATS = ("%Y-%m-%d",)
_DT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")


def to_date(value: Any, spec: FieldSpec) -> date:
    text = _text(value).strip()
    for fmt in spec.formats + _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:  # a timestamp where a date is expected: keep its date
        return to_datetime(value, spec).date()
    except ValueError:
        pass
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
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(
                f"{text!r} is not a date and time; use ISO 8601 like 2024-03-01T14:30:00Z or 2024-03-01 14:30"
            ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


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
        return value
    try:
        obj = json.loads(_text(value))
    except json.JSONDecodeError:
        raise ValueError('is not a JSON object; write it like {"utm_source": "linkedin"}') from None
    if not isinstance(obj, dict):
        raise ValueError('must be a JSON object like {"utm_source": "linkedin"}')
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
    if is_empty(value):
        return None
    return CONVERTERS[spec.type](value, spec)
