"""Resolving the references an import file makes (accounts, contacts, campaigns, content, users).

The model: every reference is looked up by an indexed key, never by loading a table or all the ids of
a source. Single references (``account(domain="acme.com")``) are one query each, remembered for the
rest of the import (a file names the same account or campaign many times); rows of a batch are looked
up together with one ``IN`` query per key (``contacts_by_email(["ana@acme.com", ...])``). Records the
import creates are remembered as they are made, so a file may refer to rows created earlier in it::

    lookups = Lookups(session, "hubspot")
    lookups.campaign("cmp-webinar")           # id, or None
    lookups.contacts_by_email(emails)         # {email: id} for the ones that exist

``SeenIds`` remembers which stored rows this import already wrote (a row number per id, 4 bytes per
id in an array), which is how a key repeated far apart in one file is found: "duplicate of row N".
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from revteam.store.models import (
    Account,
    Campaign,
    Contact,
    ContentAsset,
    Deal,
    Touchpoint,
    User,
)

IN_CHUNK = 1000  # values per IN (...) query: well under SQLite's and PostgreSQL's parameter limits
CACHE_LIMIT = 100_000  # remembered single lookups per kind before the memo is cleared
_BY_EXT = {"campaign": Campaign, "content": ContentAsset, "deal": Deal}


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), IN_CHUNK):
        yield values[i:i + IN_CHUNK]


class SeenIds:
    """Ids of stored rows written by this import, each with the file row that wrote it.

    Kept in blocks of 4,096 consecutive ids (16 KiB each, made when first needed): an import writes runs
    of neighbouring ids (new rows are numbered in order; a re-import touches what an earlier import made),
    so this is about 4 bytes per id, whatever the ids' size."""

    BLOCK = 4096

    def __init__(self) -> None:
        self._blocks: dict[int, array[int]] = {}

    def add(self, id_: int, row: int) -> None:
        block = self._blocks.get(id_ // self.BLOCK)
        if block is None:
            block = self._blocks[id_ // self.BLOCK] = array("i", bytes(4 * self.BLOCK))
        block[id_ % self.BLOCK] = row

    def get(self, id_: int) -> int | None:
        block = self._blocks.get(id_ // self.BLOCK)
        return (block[id_ % self.BLOCK] or None) if block is not None else None


class Lookups:
    def __init__(self, session: Session, source_system: str) -> None:
        self.session = session
        self.source = source_system
        self._memo: dict[str, dict[Any, int | None]] = {}
        self._any_erased: bool | None = None

    def _cached(self, name: str, key: Any, query: Any) -> int | None:
        memo = self._memo.setdefault(name, {})
        if key in memo:
            return memo[key]
        if len(memo) >= CACHE_LIMIT:
            memo.clear()
        found = query()
        memo[key] = found
        return found

    def _set(self, name: str, key: Any, id_: int) -> None:
        self._memo.setdefault(name, {})[key] = id_

    # --- single lookups ------------------------------------------------------------------------
    def account(self, *, external_id: str | None, domain: str | None, name: str | None) -> int | None:
        s = self.session
        if external_id:
            return self._cached("account_ext", external_id, lambda: s.scalar(select(Account.id).where(
                Account.source_system == self.source, Account.external_id == external_id)))
        if domain:
            return self._cached("account_domain", domain, lambda: s.scalar(select(Account.id).where(
                Account.domain == domain)))
        if name:
            key = name.strip().lower()
            return self._cached("account_name", key, lambda: s.scalar(select(Account.id).where(
                func.lower(Account.name) == key).order_by(Account.id).limit(1)))
        return None

    def contact(self, *, email: str | None, external_id: str | None) -> int | None:
        s = self.session
        if email:
            found = s.scalar(select(Contact.id).where(Contact.email == email))
            if found is not None or not external_id:
                return found
        if external_id:
            return s.scalar(select(Contact.id).where(Contact.source_system == self.source,
                                                     Contact.external_id == external_id))
        return None

    def own(self, name: str, external_id: str) -> int | None:
        """The id of a campaign, content piece or deal with this external id in the import's own source."""
        model = _BY_EXT[name]
        return self._cached(name + "_own", external_id, lambda: self.session.scalar(select(model.id).where(
            model.source_system == self.source, model.external_id == external_id)))

    def _by_ext(self, name: str, external_id: str) -> int | None:
        """The import's own source system first, then any source if exactly one has this external id."""
        found = self.own(name, external_id)
        if found is not None:
            return found
        model = _BY_EXT[name]

        def anywhere() -> int | None:
            ids = self.session.scalars(select(model.id).where(model.external_id == external_id).limit(2)).all()
            return ids[0] if len(ids) == 1 else None

        return self._cached(name + "_any", external_id, anywhere)

    def campaign(self, external_id: str) -> int | None:
        return self._by_ext("campaign", external_id)

    def content(self, external_id: str) -> int | None:
        return self._by_ext("content", external_id)

    def deal(self, external_id: str) -> int | None:
        return self._by_ext("deal", external_id)

    def user(self, email: str) -> int | None:
        return self._cached("user", email, lambda: self.session.scalar(select(User.id).where(User.email == email)))

    # --- batch lookups (one query per key and chunk of values, on the key's unique index) ---------
    def _batch(self, model: Any, column: str, values: Iterable[str], *, own_source: bool) -> dict[str, int]:
        """``{value: id}`` of the stored rows whose ``column`` is one of ``values``.

        SQLite: ``column IN (...)``. PostgreSQL: one index probe per value (a correlated subquery over
        ``unnest``), because with ``IN`` of 1,000 values and the statistics of a table being filled in
        the same transaction the planner picks a scan of the whole source, which makes a large import
        quadratic."""
        wanted = sorted(set(values))
        out: dict[str, int] = {}
        if not wanted:
            return out
        col = getattr(model, column)
        if self.session.get_bind().dialect.name == "postgresql":
            table = model.__table__.name
            same = "t.source_system = :src AND " if own_source else ""
            probe = text(f"SELECT v.x, (SELECT t.id FROM {table} t WHERE {same}t.{column} = v.x) "
                         "FROM unnest(CAST(:v AS VARCHAR[])) AS v(x)")
            for part in _chunks(wanted):
                out.update((x, i) for x, i in self.session.execute(probe, {"v": list(part), "src": self.source})
                           if i is not None)
            return out
        for part in _chunks(wanted):
            q = select(model.id, col).where(col.in_(part))
            if own_source:
                q = q.where(model.source_system == self.source)
            out.update((x, i) for i, x in self.session.execute(q))
        return out

    def rows_by_id(self, model: Any, ids: Iterable[int]) -> dict[int, Any]:
        """Stored rows (Core mappings, no ORM objects) by primary key, one probe per id on PostgreSQL."""
        wanted = sorted(set(ids))
        table = model.__table__
        out: dict[int, Any] = {}
        pg = self.session.get_bind().dialect.name == "postgresql"
        for part in _chunks(wanted):
            if pg:
                q = text(f"SELECT t.* FROM unnest(CAST(:v AS BIGINT[])) AS v(x) CROSS JOIN LATERAL "
                         f"(SELECT * FROM {table.name} WHERE id = v.x OFFSET 0) AS t").columns(*table.c)
                result = self.session.execute(q, {"v": list(part)})
            else:
                result = self.session.execute(select(table).where(table.c.id.in_(part)))
            out.update((r["id"], r) for r in result.mappings())
        return out

    def contacts_by_email(self, emails: Iterable[str]) -> dict[str, int]:
        return self._batch(Contact, "email", emails, own_source=False)

    def contacts_by_ext(self, external_ids: Iterable[str]) -> dict[str, int]:
        return self._batch(Contact, "external_id", external_ids, own_source=True)

    def touchpoints_by_ext(self, external_ids: Iterable[str]) -> dict[str, int]:
        return self._batch(Touchpoint, "external_id", external_ids, own_source=True)

    def erased(self, emails: Iterable[str]) -> set[str]:
        """The e-mails of people who asked to be erased (none to check when nobody has been)."""
        from revteam.services.people.privacy import is_erased
        from revteam.store.models import ErasedIdentity

        if self._any_erased is None:
            self._any_erased = self.session.scalar(select(ErasedIdentity).limit(1)) is not None
        if not self._any_erased:
            return set()
        return {e for e in emails if is_erased(self.session, e)}

    # --- keep lookups current as the import creates records -------------------------------------
    def remember_account(self, acc: Account) -> None:
        if acc.external_id and acc.source_system == self.source:
            self._set("account_ext", acc.external_id, acc.id)
        if acc.domain:
            self._set("account_domain", acc.domain, acc.id)
        memo = self._memo.setdefault("account_name", {})
        if memo.get(acc.name.strip().lower()) is None:
            memo[acc.name.strip().lower()] = acc.id

    def remember_contact(self, c: Contact) -> None:
        """Contacts are looked up in the database each time; nothing to remember."""

    def remember(self, name: str, source: str, external_id: str, id_: int) -> None:
        if source == self.source:
            self._set(name + "_own", external_id, id_)
        self._memo.setdefault(name + "_any", {}).pop(external_id, None)
