"""How records are recognised across sources: normalised e-mail addresses and web domains.

A contact is the same person when the normalised e-mail matches; where a source has no e-mail, its
``(source_system, external_id)`` pair identifies the contact. Normalising: trim, lower-case, and
reject anything that is not ``local@domain.tld``. A trailing dot of the domain (``ana@acme.com.``, the
fully-qualified form) is dropped, and a quoted local part (``"ana"@acme.com``) is refused: both would
otherwise reach the same mailbox as a different string. Before that the text is put in Unicode NFKC form
(full-width ``ａｎａ＠ａｃｍｅ．ｃｏｍ`` becomes ``ana@acme.com``) and invisible characters (zero-width
spaces and joiners, the byte-order mark, soft hyphens) are removed, so that a pasted or exported
address cannot create a second person. Plus-addressing is kept (``ana+news@x.com`` is a distinct
mailbox for many mail systems, and merging two people is worse than keeping a duplicate).

Erasure is different: a person who asked to be forgotten must not come back as ``ana+crm@x.com``, so
``person_digest`` hashes the address without its ``+tag``. Worked example::

    normalise_email(" Ana\u200b@ACME.com ")  == "ana@acme.com"
    person_key("Ana+News@acme.com")          == "ana@acme.com"
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"))


def clean_text(raw: str) -> str:
    """NFKC form without invisible characters: what a person sees is what is compared."""
    return unicodedata.normalize("NFKC", raw).translate(_INVISIBLE)


def normalise_email(raw: str | None) -> str | None:
    """``' Ana@ACME.com '`` → ``'ana@acme.com'``; empty → None; malformed → ValueError."""
    if raw is None:
        return None
    email = clean_text(raw).strip().lower()
    if not email:
        return None
    if email.startswith('"') or '"@' in email:
        raise ValueError(f"{raw!r} has a quoted name before the @; revteam takes plain addresses only, "
                         "e.g. ana@acme.com (write it without the quotes)")
    email = email.rstrip(".") if email.count("@") == 1 else email  # ``ana@acme.com.``: the same mail domain
    if not _EMAIL.match(email) or len(email) > 254 or any(unicodedata.category(ch)[0] == "C" for ch in email):
        raise ValueError(f"{raw!r} is not an e-mail address; expected name@company.com")
    return email


def person_key(email: str) -> str:
    """The mailbox an address reaches whatever its ``+tag``: ``ana+news@acme.com`` → ``ana@acme.com``."""
    norm = normalise_email(email) or ""
    local, _, domain = norm.partition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def person_digest(email: str) -> str:
    """SHA-256 of ``person_key``: what an erasure keeps so the person is not created again."""
    return hashlib.sha256(person_key(email).encode()).hexdigest()


def normalise_domain(raw: str | None) -> str | None:
    """``'https://www.Acme.com/about'`` → ``'acme.com'``; empty → None; malformed → ValueError."""
    if raw is None:
        return None
    d = clean_text(raw).strip().lower()
    if not d:
        return None
    d = re.sub(r"^[a-z]+://", "", d).split("/", 1)[0].split(":", 1)[0]
    if d.startswith("www."):
        d = d[4:]
    if not _DOMAIN.match(d):
        raise ValueError(f"{raw!r} is not a web domain; expected something like acme.com")
    return d


_SENIORITY = (
    ("c_level", re.compile(r"\b(chief|c[etfoimr]o|founder|owner|president)\b", re.I)),
    ("vp", re.compile(r"\b(vp|vice[- ]president|svp|evp)\b", re.I)),
    ("director", re.compile(r"\b(director|head of)\b", re.I)),
    ("manager", re.compile(r"\b(manager|lead|supervisor)\b", re.I)),
)


def seniority_from_title(title: str | None) -> str | None:
    """'VP Operations' → 'vp'; 'Head of Sales' → 'director'; 'Analyst' → 'individual'; None → None."""
    if not title or not title.strip():
        return None
    for level, rx in _SENIORITY:
        if rx.search(title):
            return level
    return "individual"


def email_domain(email: str | None) -> str | None:
    return email.rsplit("@", 1)[1] if email and "@" in email else None
