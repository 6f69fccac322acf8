"""Tombstones: what an erasure keeps so the person is never created again, and how it survives a restore.

Two kinds of hashed identity are kept, never the clear value:

``email``        ``person_digest(address)``: SHA-256 of the mailbox without its ``+tag`` (rows erased
                 before tags were ignored hold SHA-256 of the lower-cased address, the same value for an
                 untagged address), table ``erased_identities``;
``external_id``  SHA-256 of ``"<source_system>\\x1f<external_id>"`` (source trimmed and lower-cased, so
                 ``--source HubSpot`` is ``hubspot``), table ``erased_external_ids``.

Imports ask ``erased_identity`` before creating a contact and refuse the row with a message when either
matches. An admin may lift a tombstone (``revteam privacy lift``, audited). Because a database backup is
older than the erasures made after it, the tombstones are also written to a ledger *outside* the
database (setting ``REVTEAM_PRIVACY_LEDGER``, one JSON object a line, appended on every erase and lift)
or exported on demand (``revteam privacy tombstones export FILE``); after a restore,
``revteam privacy reapply FILE`` puts them back and erases again whoever the old backup brought back.

Example ledger lines::

    {"event": "erased", "kind": "email", "digest": "5f1c…", "at": "2026-03-16T14:30:00+00:00"}
    {"event": "lifted", "kind": "email", "digest": "5f1c…", "at": "2026-04-01T09:00:00+00:00"}
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from revteam.domain.identity import normalise_email, person_digest
from revteam.errors import InvalidInput
from revteam.store.models import ErasedExternalId, ErasedIdentity

KINDS = ("email", "external_id")
_CACHE = "revteam.privacy.tombstones"


def external_digest(source_system: str, external_id: str) -> str:
    """SHA-256 of the CRM record; source names compare trimmed and lower-cased (``HubSpot`` is ``hubspot``)."""
    return hashlib.sha256(f"{source_system.strip().lower()}\x1f{external_id.strip()}".encode()).hexdigest()


def _external_digests(source_system: str, external_id: str) -> set[str]:
    """The digest, and the one kept before source names were lower-cased (the source as it was written)."""
    older = hashlib.sha256(f"{source_system.strip()}\x1f{external_id.strip()}".encode()).hexdigest()
    return {external_digest(source_system, external_id), older}


def email_tombstone(email: str) -> str:
    """The digest kept for an address; ``ana+crm@acme.com`` and ``ANA@acme.com`` give the same one."""
    try:
        return person_digest(email)
    except ValueError as e:
        raise InvalidInput(str(e), code="bad_email") from None


@dataclass(frozen=True)
class Tombstone:
    kind: str  # email | external_id
    digest: str
    at: datetime

    def line(self, event: str) -> str:
        return json.dumps({"event": event, "kind": self.kind, "digest": self.digest, "at": self.at.isoformat()})


@dataclass(frozen=True)
class ErasedMatch:
    """Why a row may not create a contact, and what to do.

    ``column`` is None on purpose: an import's row error keeps the value of the column it names, and the
    import run is kept; the message names the column instead, so the erased address is not logged again.
    """

    column: None
    message: str


def _known(session: Session) -> tuple[set[str], set[str]]:
    """All tombstone digests, read once per transaction (imports ask for every new contact)."""
    tx = session.get_transaction()
    cached = session.info.get(_CACHE)
    if cached is not None and tx is not None and cached[0] is tx:
        return cached[1], cached[2]
    emails = set(session.scalars(select(ErasedIdentity.email_sha256)))
    externals = set(session.scalars(select(ErasedExternalId.digest)))
    session.info[_CACHE] = (session.get_transaction(), emails, externals)
    return emails, externals


def forget_cache(session: Session) -> None:
    session.info.pop(_CACHE, None)


def erased_identity(session: Session, *, email: str | None, source_system: str | None = None,
                    external_id: str | None = None) -> ErasedMatch | None:
    """The tombstone a contact row would match (by mailbox or by CRM record), or None.

    Asked for every contact row, new or not: a row that finds a live contact by external id must not
    give it an erased address, nor a live contact found by address an erased person's CRM id.
    """
    emails, externals = _known(session)
    if not emails and not externals:
        return None
    if email:
        try:
            digests = {person_digest(email), hashlib.sha256(email.strip().lower().encode()).hexdigest()}  # + old rows
        except ValueError:
            digests = set()
        if digests & emails:
            return ErasedMatch(None, "the e-mail belongs to a person who asked to be erased; remove the row (their "
                               "data is not kept). An admin can lift the erasure with `revteam privacy lift --email ...`")
    if source_system and external_id and _external_digests(source_system, external_id) & externals:
        return ErasedMatch(None, f"the {source_system} external id belongs to a person who asked to "
                           "be erased; remove the row. An admin can lift it with `revteam privacy lift --source "
                           f"{source_system} --external-id ...`")
    return None


def is_erased(session: Session, email: str | None, *, source_system: str | None = None,
              external_id: str | None = None) -> bool:
    return erased_identity(session, email=email, source_system=source_system, external_id=external_id) is not None


def add_tombstones(session: Session, stones: Iterable[Tombstone]) -> list[Tombstone]:
    """Insert the tombstones not yet held; returns the new ones.

    Two erasures of one mailbox at once (``ana@`` and ``ana+crm@`` by two admins) insert the same digest:
    the insert skips a digest another transaction committed meanwhile instead of failing.
    """
    emails, externals = _known(session)
    added: list[Tombstone] = []
    rows: dict[str, list[dict[str, Any]]] = {"email": [], "external_id": []}
    for t in stones:
        held = emails if t.kind == "email" else externals
        if t.digest in held:
            continue
        held.add(t.digest)
        added.append(t)
        key = "email_sha256" if t.kind == "email" else "digest"
        rows[t.kind].append({key: t.digest, "erased_at": t.at})
    for kind, model in (("email", ErasedIdentity), ("external_id", ErasedExternalId)):
        if rows[kind]:
            session.execute(_insert_skipping_duplicates(session, model).values(rows[kind]))
    return added


def _insert_skipping_duplicates(session: Session, model: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(model).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(model).on_conflict_do_nothing()


def remove_tombstones(session: Session, stones: Iterable[Tombstone]) -> list[Tombstone]:
    removed = []
    for t in stones:
        model, col = (ErasedIdentity, ErasedIdentity.email_sha256) if t.kind == "email" else \
            (ErasedExternalId, ErasedExternalId.digest)
        if session.execute(delete(model).where(col == t.digest)).rowcount:
            removed.append(t)
    forget_cache(session)
    return removed


def stones_for(*, email: str | None, source_system: str | None, external_id: str | None, at: datetime) -> list[Tombstone]:
    out = []
    if email:
        out.append(Tombstone("email", email_tombstone(email), at))
    if external_id:
        if not source_system:
            raise InvalidInput("Say which system the external id comes from (--source crm).", code="source_required")
        out += [Tombstone("external_id", d, at) for d in sorted(_external_digests(source_system, external_id))]
    if not out:
        raise InvalidInput("Name the person by e-mail or by source system and external id.", code="person_required")
    return out


def all_tombstones(session: Session) -> list[Tombstone]:
    rows = [Tombstone("email", d, at) for d, at in session.execute(
        select(ErasedIdentity.email_sha256, ErasedIdentity.erased_at).order_by(ErasedIdentity.erased_at))]
    rows += [Tombstone("external_id", d, at) for d, at in session.execute(
        select(ErasedExternalId.digest, ErasedExternalId.erased_at).order_by(ErasedExternalId.erased_at))]
    return rows


# --- the ledger outside the database ---------------------------------------------------------------


def check_ledger(path: Path | None) -> None:
    """Refuse to start an erasure whose tombstones could not be written to the ledger afterwards."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as e:
        raise InvalidInput(f"The privacy ledger {path} cannot be written ({e.strerror}); fix REVTEAM_PRIVACY_LEDGER "
                           "or its folder's permissions. Nothing was erased.", code="ledger_not_writable") from None


def append_to_ledger(path: Path | None, event: str, stones: Iterable[Tombstone]) -> None:
    """Append ``erased``/``lifted`` lines (called after the database transaction committed)."""
    if path is None:
        return
    lines = [t.line(event) for t in stones]
    if not lines:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()


def write_ledger(path: Path, stones: Iterable[Tombstone]) -> int:
    """Write every tombstone as ``erased`` lines (``revteam privacy tombstones export``); returns how many."""
    lines = [t.line("erased") for t in stones]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def read_ledger(path: Path) -> list[Tombstone]:
    """The tombstones a ledger holds now: for each digest its last event wins (a lift cancels an erase)."""
    if not path.is_file():
        raise InvalidInput(f"No tombstone file at {path}; give the file written by `revteam privacy tombstones "
                           "export` or the REVTEAM_PRIVACY_LEDGER file.", code="ledger_missing")
    state: dict[tuple[str, str], Tombstone | None] = {}
    for n, raw in enumerate(_lines(path), start=1):
        try:
            obj: Any = json.loads(raw)
            kind, digest, event = obj["kind"], obj["digest"], obj["event"]
            at = datetime.fromisoformat(obj["at"])
        except (ValueError, KeyError, TypeError):
            raise InvalidInput(f"{path}, line {n}: not a tombstone line; expected "
                               '{"event": "erased", "kind": "email", "digest": "<64 hex>", "at": "<ISO time>"}',
                               code="bad_ledger") from None
        if kind not in KINDS or event not in ("erased", "lifted") or not _is_digest(digest):
            raise InvalidInput(f"{path}, line {n}: kind must be email or external_id, event erased or lifted, digest "
                               "64 hex characters", code="bad_ledger")
        state[(kind, digest)] = Tombstone(kind, digest, at) if event == "erased" else None
    return [t for t in state.values() if t is not None]


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield line


def _is_digest(d: object) -> bool:
    return isinstance(d, str) and len(d) == 64 and all(c in "0123456789abcdef" for c in d)


def contact_digests(email: str | None, source_system: str | None, external_id: str | None) -> list[tuple[str, str]]:
    """The (kind, digest) pairs a stored contact would match, for re-applying tombstones."""
    out = []
    if email:
        try:
            normalise_email(email)
            out.append(("email", person_digest(email)))
        except ValueError:
            pass
        out.append(("email", hashlib.sha256(email.strip().lower().encode()).hexdigest()))  # erased before +tags
    if source_system and external_id:
        out += [("external_id", d) for d in sorted(_external_digests(source_system, external_id))]
    return out
