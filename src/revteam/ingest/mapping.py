"""Column mappings: how a source file's columns become revteam fields.

A mapping is a small TOML file (``--mapping M.toml``) or a named preset (``--mapping hubspot-contacts``)::

    kind = "contacts"            # optional; refuses to be used for another kind
    source_system = "hubspot"    # whose ids these are (external ids are unique per source system)

    [columns]                    # file column = revteam field, or a list of fields
    "Email" = "email"
    "Create Date" = ["created_at"]

    [formats]                    # extra strptime formats for date and datetime fields
    created_at = "%m/%d/%Y %H:%M"

    [values.stage]               # recode values before validation; "*" catches every other value
    "Marketing Qualified Lead" = "mql"

    [defaults]                   # used when the file has no value
    stage = "lead"

    [templates]                  # build a field from columns: {column name}
    url = "https://example.com/lp/{landing_page_id}"

    [warn_if_empty]              # keep the row, but report a warning when this field is empty
    original_source = "the lead has no origin; imported without one"

    [options]
    create_missing_accounts = true   # deals/contacts: create accounts named in the file if unknown
    optional_columns = ["Persona"]   # mapped columns a file (or a JSON line) may lack (else a missing one is refused)
    required_fields = ["created_at"] # fields a row must fill (else an empty created_at means the import time)
    pad_short_rows = true            # a CSV row with fewer values than the header: pad it, with a warning
    multiline_values = true          # quoted values may span lines (else one that swallows rows is refused)
    allow_far_future_dates = true    # dates more than 5 years after the import are refused unless this is set

Columns the mapping does not name pass through when their name is already a revteam field.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from revteam.errors import InvalidInput

PRESET_DIR = Path(__file__).parent / "presets"
_SECTIONS = {"kind", "source_system", "description", "columns", "formats", "values", "defaults", "templates",
             "warn_if_empty", "options"}
OPTIONS = {"create_missing_accounts", "optional_columns", "pad_short_rows", "multiline_values",
           "allow_far_future_dates", "required_fields"}


@dataclass
class Mapping:
    name: str = "identity"
    kind: str | None = None
    source_system: str | None = None
    description: str = ""
    columns: dict[str, list[str]] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)
    warn_if_empty: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def check_kind(self, kind: str) -> None:
        if self.kind and self.kind != kind:
            raise InvalidInput(
                f"The mapping {self.name!r} is for {self.kind} files, not {kind}; pick the matching mapping.",
                code="mapping_wrong_kind",
            )

    def check_fields(self, known: set[str]) -> None:
        targets = {t for ts in self.columns.values() for t in ts}
        targets |= set(self.defaults) | set(self.templates) | set(self.values) | set(self.formats)
        targets |= set(self.required_fields)
        unknown = sorted(targets - known)
        if unknown:
            raise InvalidInput(
                f"The mapping {self.name!r} names unknown field(s) {', '.join(unknown)}; "
                f"known fields: {', '.join(sorted(known))}.",
                code="mapping_unknown_field",
            )

    def missing_source_columns(self, header: list[str]) -> list[str]:
        """Columns the mapping reads that the file lacks, as ``"Create Date" (created_at)``.

        A field mapped from several alternative columns (``"Record ID"`` or ``"Contact ID"``) needs one
        of them. A template needs all the columns it names. Columns listed in ``options.optional_columns``
        and fields with a ``[defaults]`` value may be missing. Linear in the header's length."""
        have = set(header)
        optional = set(self.optional_columns)
        by_target: dict[str, list[str]] = {}
        for col, targets in self.columns.items():
            for t in targets:
                by_target.setdefault(t, []).append(col)
        missing: list[str] = []
        for target, cols in by_target.items():
            if target in self.defaults or target in self.templates or target in have:
                continue
            if not any(c in have for c in cols) and not any(c in optional for c in cols):
                missing.append(" or ".join(f"{c!r}" for c in cols) + f" (for {target})")
        for target, tpl in self.templates.items():
            for col in dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(tpl) if f):
                if col not in have and col not in optional:
                    missing.append(f"{col!r} (in the template of {target})")
        return missing

    def read_columns(self) -> set[str]:
        """Every column the mapping reads (``[columns]`` and the columns its templates name)."""
        cols = set(self.columns)
        for tpl in self.templates.values():
            cols.update(f for _, f, _, _ in string.Formatter().parse(tpl) if f)
        return cols

    @property
    def required_fields(self) -> list[str]:
        v = self.options.get("required_fields", [])
        return [v] if isinstance(v, str) else [str(x) for x in v]

    @property
    def optional_columns(self) -> list[str]:
        v = self.options.get("optional_columns", [])
        return [v] if isinstance(v, str) else [str(x) for x in v]

    def flag(self, name: str) -> bool:
        return bool(self.options.get(name))

    def apply(self, raw: dict[str, Any], known: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for col, value in raw.items():
            if col in self.columns:
                for target in self.columns[col]:
                    out[target] = value
            elif col in known and col not in out:
                out[col] = value
        for target, tpl in self.templates.items():
            try:
                out[target] = tpl.format_map({k: ("" if v is None else v) for k, v in raw.items()})
            except KeyError:
                out[target] = None
        for target, table in self.values.items():
            v = out.get(target)
            if v is None or (isinstance(v, str) and not v.strip()):
                continue
            key = str(v).strip()
            if key in table:
                out[target] = table[key]
            elif key.lower() in table:
                out[target] = table[key.lower()]
            elif "*" in table:
                out[target] = table["*"]
        for target, default in self.defaults.items():
            v = out.get(target)
            if v is None or (isinstance(v, str) and not v.strip()):
                out[target] = default
        return out


def _as_list(v: Any) -> list[str]:
    return [v] if isinstance(v, str) else [str(x) for x in v]


def parse_mapping(data: dict[str, Any], name: str) -> Mapping:
    unknown = sorted(set(data) - _SECTIONS)
    if unknown:
        raise InvalidInput(
            f"The mapping {name!r} has unknown section(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_SECTIONS))}.",
            code="mapping_invalid",
        )
    unknown_opts = sorted(set(data.get("options", {}) or {}) - OPTIONS) if isinstance(data.get("options"), dict) else []
    if unknown_opts:
        raise InvalidInput(
            f"The mapping {name!r} has unknown option(s) {', '.join(unknown_opts)}; "
            f"allowed: {', '.join(sorted(OPTIONS))}.",
            code="mapping_invalid",
        )
    source = data.get("source_system")
    if source is not None and (not isinstance(source, str) or not 0 < len(source) <= 40):
        raise InvalidInput(f"The mapping {name!r} has a source_system that is not 1-40 characters of text.",
                           code="mapping_invalid")
    try:
        return Mapping(
            name=name,
            kind=data.get("kind"),
            source_system=data.get("source_system"),
            description=data.get("description", ""),
            # header names are read trimmed (readers.check_header), so the mapping's are too: "Email " = "email"
            columns={str(k).strip(): _as_list(v) for k, v in data.get("columns", {}).items()},
            formats={str(k): str(v) for k, v in data.get("formats", {}).items()},
            values={str(k): dict(v) for k, v in data.get("values", {}).items()},
            defaults=dict(data.get("defaults", {})),
            templates={str(k): str(v) for k, v in data.get("templates", {}).items()},
            warn_if_empty={str(k): str(v) for k, v in data.get("warn_if_empty", {}).items()},
            options=dict(data.get("options", {})),
        )
    except (TypeError, ValueError, AttributeError) as e:
        raise InvalidInput(f"The mapping {name!r} is malformed: {e}.", code="mapping_invalid") from None


def load_mapping(path_or_preset: str | Path) -> Mapping:
    """A mapping from a TOML file path, or a preset by name (see ``PRESETS``)."""
    text_name = str(path_or_preset)
    if text_name in presets():
        path = PRESET_DIR / f"{text_name.replace('-', '_')}.toml"
    else:
        path = Path(path_or_preset)
        if not path.exists():
            raise InvalidInput(
                f"No mapping file {text_name!r} and no preset of that name; presets: {', '.join(presets())}.",
                code="mapping_missing",
            )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise InvalidInput(f"The mapping {path.name!r} is not valid TOML: {e}.", code="mapping_invalid") from None
    return parse_mapping(data, text_name if text_name in presets() else path.name)


def presets() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in PRESET_DIR.glob("*.toml"))
