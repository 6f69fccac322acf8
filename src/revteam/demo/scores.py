"""Scoring the demo with the app's own scorer, from the generated rows (no round trip to the database).

``revteam.services.scoring.score_contacts`` reads contacts and a year of touches from the database
(``load_inputs``) and hands them to ``revteam.domain.scoring.score_batch``. Reading half a million
touches back costs the build about 8 s, so the demo builds the same ``ContactTable`` and
``TouchTable`` straight from the rows it is about to write, in the same order and with the same
columns as ``load_inputs``, and calls the same ``score_batch`` with the model in force. The scores are
stored by ``services.scoring.store_scores``. A test re-scores the built database with
``score_and_hand_over(hand_over=False)`` and finds the stored numbers unchanged.

The score a lead had *when it was handed over* (its handoff's ``score_total``, priority and context
packet) comes from the same ``score_batch`` too: one row per handoff, with that contact's touches of
the year before the handover, each moved forward by (reference time − handover time) so that every
touch's age is its age at the handover. Touches after the handover are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from revteam.domain.identity import email_domain, seniority_from_title
from revteam.domain.scoring import ContactTable, ScoreBatch, ScoringModel, TouchTable, score_batch
from revteam.services.qualify.scoring import DEFAULT_MODEL_PATH, LOOKBACK_DAYS
from revteam.domain.scoring import model_from_toml

SECOND = np.timedelta64(1, "s")
YEAR = np.timedelta64(LOOKBACK_DAYS * 86_400, "s")


def default_model() -> ScoringModel:
    """The model a new installation starts with (``services/qualify/default_scoring.toml``), version 1."""
    return model_from_toml(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))


def naive64(at: datetime) -> np.datetime64:
    return np.datetime64(at.replace(tzinfo=None), "s")


@dataclass
class TouchColumns:
    """Every generated touch as columns, in touch-id order (the order the database returns them)."""

    contact: np.ndarray  # contact id
    at: np.ndarray  # datetime64[s], naive UTC
    type: np.ndarray  # object arrays from here on
    channel: np.ndarray
    campaign: np.ndarray  # campaign external id, as load_inputs reads it
    campaign_name: np.ndarray
    campaign_id: np.ndarray  # int, 0 for none
    content_category: np.ndarray
    content_title: np.ndarray
    url: np.ndarray
    sales: np.ndarray  # bool: a call, e-mail or meeting by a rep

    @classmethod
    def from_rows(cls, plain: list[tuple], with_props: list[tuple], campaigns: list[dict[str, Any]],
                  content: list[dict[str, Any]]) -> TouchColumns:
        import pandas as pd

        rows = plain + with_props  # ids are contiguous: plain first, then those with properties
        n = len(rows)
        if not n:
            empty = np.array([], dtype=object)
            return cls(np.array([], dtype=np.int64), np.array([], dtype="datetime64[s]"), *([empty] * 4), empty,
                       np.array([], dtype=np.int64), empty, empty, empty, np.array([], dtype=bool))
        cols = list(zip(*rows))  # rows with properties are one longer: zip stops at the shorter

        def lut(items: list[dict[str, Any]], key: str) -> np.ndarray:
            out = np.empty(max((c["id"] for c in items), default=0) + 1, dtype=object)
            for c in items:
                out[c["id"]] = c[key]
            return out  # index 0: none

        camp = np.fromiter((c or 0 for c in cols[4]), dtype=np.int64, count=n)
        cont = np.fromiter((c or 0 for c in cols[5]), dtype=np.int64, count=n)
        return cls(
            contact=np.array(cols[1], dtype=np.int64),
            at=pd.to_datetime(list(cols[7])).values.astype("datetime64[s]"),
            type=np.array(cols[2], dtype=object), channel=np.array(cols[3], dtype=object),
            campaign=lut(campaigns, "external_id")[camp], campaign_name=lut(campaigns, "name")[camp], campaign_id=camp,
            content_category=lut(content, "category")[cont], content_title=lut(content, "title")[cont],
            url=np.array(cols[6], dtype=object), sales=np.array([a is not None for a in cols[8]], dtype=bool),
        )

    def table(self, idx: np.ndarray, contact_pos: np.ndarray, at: np.ndarray) -> TouchTable:
        detail = np.where(pd_notna(self.content_title[idx]), self.content_title[idx], self.campaign_name[idx])
        return TouchTable(contact=contact_pos, occurred_at=at, type=self.type[idx], channel=self.channel[idx],
                          campaign=self.campaign[idx], content_category=self.content_category[idx], url=self.url[idx],
                          detail=detail)


def pd_notna(values: np.ndarray) -> np.ndarray:
    """Truthy, as ``t[7] or t[5]`` in load_inputs (an empty title falls back to the campaign name)."""
    return np.fromiter((bool(v) for v in values), dtype=bool, count=len(values))


def contact_fields(contacts: list[tuple], accounts: dict[int, dict[str, Any]]) -> dict[str, list[Any]]:
    """The fit fields of each contact row (``rows.COLUMNS['contacts']`` order), as load_inputs builds them."""
    acc = [accounts.get(r[7]) or {} for r in contacts]
    return {
        "title": [r[6] for r in contacts],
        "seniority": [seniority_from_title(r[6]) for r in contacts],
        "email_domain": [email_domain(r[1]) for r in contacts],
        "persona": [r[8] for r in contacts],
        "consent": [r[14] for r in contacts],
        "source": [r[9] for r in contacts],
        "industry": [a.get("industry") for a in acc],
        "employees": [a.get("employees") for a in acc],
        "region": [a.get("region") for a in acc],
        "segment": [a.get("segment") for a in acc],
    }


def score_now(model: ScoringModel, contacts: list[tuple], fields: dict[str, list[Any]], touches: TouchColumns,
              now: datetime) -> ScoreBatch:
    """Every contact scored at ``now``: what ``score_contacts(session, now=now)`` computes on the database."""
    ids = np.array([r[0] for r in contacts], dtype=np.int64)
    position = np.full(int(ids.max()) + 1 if len(ids) else 1, -1, dtype=np.int64)
    position[ids] = np.arange(len(ids))
    idx = np.nonzero(touches.at >= naive64(now - timedelta(days=LOOKBACK_DAYS)))[0]
    table = touches.table(idx, position[touches.contact[idx]], touches.at[idx])
    return score_batch(model, ContactTable(ids, fields), table, now=now)


class ContactTouches:
    """Each contact's touches in time order (ties in id order), to cut them at any moment."""

    def __init__(self, touches: TouchColumns) -> None:
        self.t = touches
        self.order = np.lexsort((touches.at, touches.contact)) if len(touches.contact) else np.array([], dtype=np.int64)
        sorted_contacts = touches.contact[self.order]
        self._contacts = sorted_contacts
        self._at = touches.at[self.order]

    def block(self, contact_id: int) -> tuple[int, int]:
        lo = int(np.searchsorted(self._contacts, contact_id, "left"))
        hi = int(np.searchsorted(self._contacts, contact_id, "right"))
        return lo, hi

    def upto(self, contact_id: int, at: np.datetime64, since: np.datetime64 | None = None) -> np.ndarray:
        """Indexes (into the touch columns) of the contact's touches at or before ``at``, oldest first."""
        lo, hi = self.block(contact_id)
        times = self._at[lo:hi]
        end = lo + int(np.searchsorted(times, at, "right"))
        start = lo if since is None else lo + int(np.searchsorted(times, since, "left"))
        return self.order[start:end]


def score_at_handoffs(model: ScoringModel, fields: dict[str, list[Any]], contact_ids: list[int],
                      handed: list[datetime], touches: ContactTouches, reference: datetime) -> ScoreBatch:
    """One row per handoff: the contact's score at the moment it was handed over (see module docstring)."""
    ref = naive64(reference)
    idx_parts, pos_parts, at_parts = [], [], []
    rows = []
    for i, (cid, at) in enumerate(zip(contact_ids, handed)):
        at64 = naive64(at)
        idx = touches.upto(cid, at64, at64 - YEAR)
        rows.append(cid - 1)
        idx_parts.append(idx)
        pos_parts.append(np.full(len(idx), i, dtype=np.int64))
        at_parts.append(touches.t.at[idx] + (ref - at64))
    idx = np.concatenate(idx_parts) if idx_parts else np.array([], dtype=np.int64)
    pos = np.concatenate(pos_parts) if pos_parts else np.array([], dtype=np.int64)
    at_all = np.concatenate(at_parts) if at_parts else np.array([], dtype="datetime64[s]")
    sub = {k: [v[r] for r in rows] for k, v in fields.items()}
    table = touches.t.table(idx, pos, at_all.astype("datetime64[s]"))
    return score_batch(model, ContactTable(np.array(contact_ids, dtype=np.int64), sub), table, now=reference)
