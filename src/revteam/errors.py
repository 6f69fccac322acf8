"""The one error tree. Raised anywhere, translated only at the edges (web handler, CLI).

Every error carries a stable ``code`` for machines and a message for people that says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class RevteamError(Exception):
    status = 400
    code = "revteam_error"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details is not None:
            out["details"] = self.details
        return out


class InvalidInput(RevteamError, ValueError):
    status = 422
    code = "invalid_input"


class NotFound(RevteamError):
    status = 404
    code = "not_found"


class Unauthenticated(RevteamError):
    status = 401
    code = "unauthenticated"


class Forbidden(RevteamError):
    status = 403
    code = "forbidden"


class Conflict(RevteamError):
    status = 409
    code = "conflict"


class InvalidStageMove(InvalidInput):
    code = "invalid_stage_move"


@dataclass(frozen=True)
class RowError:
    """One problem in one row of an import: where it is and what to do about it."""

    row: int  # 1-based data row number; the header is row 0 in CSV terms, line numbers for JSONL
    column: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column `{self.column}`" if self.column else "")
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "value": self.value}


@dataclass
class ImportRejected(InvalidInput):
    """The file has invalid rows; nothing was written."""

    errors: list[RowError] = field(default_factory=list)
    kind: str = ""

    def __post_init__(self) -> None:
        n = len(self.errors)
        first = "; ".join(str(e) for e in self.errors[:3])
        more = f" (and {n - 3} more)" if n > 3 else ""
        InvalidInput.__init__(
            self,
            f"{n} invalid row{'s' if n != 1 else ''} in the {self.kind} data, nothing was written: {first}{more}. "
            "Fix these rows and import again.",
            code="import_rejected",
            details=[e.to_dict() for e in self.errors],
        )

    def __hash__(self) -> int:  # dataclass(eq=True) would otherwise make it unhashable
        return id(self)
