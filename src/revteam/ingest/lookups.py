"""Resolving the references an import file makes (accounts, contacts, campaigns, content, users).

Each map is loaded once per import, the first time a row needs it, and kept current as the import
creates records, so a file may refer to rows created earlier in the same file.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.store.models import Account, Campaign, Contact, ContentAsset, Deal, User


class Lookups:
    def __init__(self, session: Session, source_system: str) -> None:
        self.session = session
        self.source = source_system
        self._maps: dict[str, dict[Any, int]] = {}

    def _load(self, name: str) -> dict[Any, int]:
        if name in self._maps:
            return self._maps[name]
        s = self.session
        m: dict[Any, int] = {}
        if name == "account_ext":
            m = {(src, ext): i for i, src, ext in s.execute(select(Account.id, Account.source_system, Account.external_id)) if ext}
        elif name == "account_domain":
            m = {d: i for i, d in s.execute(select(Account.id, Account.domain)) if d}
        elif name == "account_name":
            for i, n in s.execute(select(Account.id, Account.name).order_by(Account.id)):
                m.setdefault(n.strip().lower(), i)
        elif name == "contact_email":
            m = {e: i for i, e in s.execute(select(Contact.id, Contact.email)) if e}
        elif name == "contact_ext":
            m = {(src, ext): i for i, src, ext in s.execute(select(Contact.id, Contact.source_system, Contact.external_id)) if ext}
        elif name == "campaign":
            m = self._by_ext(Campaign)
        elif name == "content":
            m = self._by_ext(ContentAsset)
        elif name == "deal":
            m = self._by_ext(Deal)
        elif name == "user":
            m = {e: i for i, e in s.execute(select(User.id, User.email))}
        self._maps[name] = m
        return m

    def _by_ext(self, model: Any) -> dict[Any, int]:
        """External id → id: the import's own source system first, then any source if unambiguous."""
        rows = self.session.execute(select(model.id, model.source_system, model.external_id)).all()
        m: dict[Any, int] = {}
        seen: dict[str, int] = {}
        for i, src, ext in rows:
            if not ext:
                continue
            m[(src, ext)] = i
            seen[ext] = -1 if ext in seen else i
        for ext, i in seen.items():
            if i != -1:
                m.setdefault(("*", ext), i)
        return m

    # --- lookups -------------------------------------------------------------------------------
    def account(self, *, external_id: str | None, domain: str | None, name: str | None) -> int | None:
        if external_id:
            return self._load("account_ext").get((self.source, external_id))
        if domain:
            return self._load("account_domain").get(domain)
        if name:
            return self._load("account_name").get(name.strip().lower())
        return None

    def contact(self, *, email: str | None, external_id: str | None) -> int | None:
        if email:
            found = self._load("contact_email").get(email)
            if found is not None or not external_id:
                return found
        if external_id:
            return self._load("contact_ext").get((self.source, external_id))
        return None

    def campaign(self, external_id: str) -> int | None:
        m = self._load("campaign")
        return m.get((self.source, external_id), m.get(("*", external_id)))

    def content(self, external_id: str) -> int | None:
        m = self._load("content")
        return m.get((self.source, external_id), m.get(("*", external_id)))

    def deal(self, external_id: str) -> int | None:
        m = self._load("deal")
        return m.get((self.source, external_id), m.get(("*", external_id)))

    def user(self, email: str) -> int | None:
        return self._load("user").get(email)

    # --- keep maps current as the import creates records ----------------------------------------
    def remember_account(self, acc: Account) -> None:
        if acc.external_id:
            self._load("account_ext")[(acc.source_system, acc.external_id)] = acc.id
        if acc.domain:
            self._load("account_domain")[acc.domain] = acc.id
        self._load("account_name").setdefault(acc.name.strip().lower(), acc.id)

    def remember_contact(self, c: Contact) -> None:
        if c.email:
            self._load("contact_email")[c.email] = c.id
        if c.external_id:
            self._load("contact_ext")[(c.source_system, c.external_id)] = c.id

    def remember(self, name: str, source: str, external_id: str, id_: int) -> None:
        m = self._load(name)
        m[(source, external_id)] = id_
        m.setdefault(("*", external_id), id_)
