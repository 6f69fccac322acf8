"""Drafts → table rows: cut everything at "today", order each contact's history, number the rows.

Rows are plain tuples in the column order of ``COLUMNS`` (the writer zips them into parameter dicts
batch by batch, so half a million touches never exist as dicts at once). Primary keys are explicit and
dense: ids follow first-seen time for contacts and time order within each contact for stage changes,
so the same seed always yields the same ids.

Touches without properties are kept apart from those with properties so that their ``properties``
column is SQL NULL (not the JSON ``null`` a ``None`` parameter would store). Each group gets its own
contiguous id range (plain touches first, then the ones with properties), both in contact and time
order, so that every insert appends to the table instead of filling gaps (several times faster on
SQLite).
"""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter

from revteam.demo.accounts import AccountDraft
from revteam.demo.deals import DealDraft
from revteam.demo.journeys import ContactDraft
from revteam.demo.timebase import DemoCalendar

SRC = "revteam"
COLUMNS: dict[str, tuple[str, ...]] = {
    "touchpoints": ("id", "contact_id", "type", "channel", "campaign_id", "content_id", "url", "occurred_at",
                    "actor_user_id", "source_system", "external_id"),
    "touchpoints+properties": ("id", "contact_id", "type", "channel", "campaign_id", "content_id", "url",
                               "occurred_at", "actor_user_id", "source_system", "external_id", "properties"),
    "stage_changes": ("id", "contact_id", "from_stage", "to_stage", "changed_at", "actor_user_id", "actor_rule",
                      "reason", "source_system", "external_id"),
    "owner_changes": ("id", "entity", "entity_id", "from_user_id", "to_user_id", "changed_at", "reason"),
    "contacts": ("id", "email", "source_system", "external_id", "first_name", "last_name", "title", "account_id",
                 "persona", "original_source", "original_campaign_id", "owner_id", "stage", "stage_changed_at",
                 "consent", "created_at"),
    "deals": ("id", "source_system", "external_id", "name", "account_id", "amount", "currency", "stage", "outcome",
              "lost_reason", "created_on", "expected_close_on", "closed_on", "owner_id", "source", "campaign_id"),
    "deal_contacts": ("deal_id", "contact_id", "role"),
    "deal_stage_changes": ("id", "deal_id", "from_stage", "to_stage", "changed_on", "source"),
}


class RowSet:
    """All generated rows of the people-and-history tables, by table."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple]] = {k: [] for k in COLUMNS}


def contact_history_rows(drafts: list[ContactDraft], cal: DemoCalendar, out: RowSet) -> None:
    H = cal.horizon
    to_dt = cal.to_datetime
    naive = cal.to_naive_utc  # the two big tables skip the per-row timezone conversion
    touches, touches_p = out.rows["touchpoints"], out.rows["touchpoints+properties"]
    changes, owners, contacts = out.rows["stage_changes"], out.rows["owner_changes"], out.rows["contacts"]
    later: list[tuple] = []  # touches with properties, numbered after all the others
    tid = len(touches)
    sid = len(changes)
    oid = len(owners)
    for c in drafts:
        moves = [m for m in c.moves if m[0] <= H]
        if not moves:
            raise AssertionError(f"demo contact {c.id} has no lifecycle entry before today")
        prev = None
        for day, to, user, rule, reason in moves:
            sid += 1
            changes.append((sid, c.id, prev, to, naive(day), user, rule, reason, SRC, None))
            prev = to
        first = moves[0][0]
        kept = sorted((t for t in c.touches if t[0] <= H), key=itemgetter(0))
        for day, type_, channel, campaign, content, url, actor, props in kept:
            if props is None:
                tid += 1
                touches.append((tid, c.id, type_, channel, campaign, content, url, naive(day), actor, SRC, None))
            else:
                later.append((c.id, type_, channel, campaign, content, url, naive(day), actor, SRC, None, props))
        if kept:
            first = min(first, kept[0][0])
        owner = None
        for day, frm, to, reason in sorted(c.owners, key=itemgetter(0)):
            if day <= H:
                oid += 1
                owners.append((oid, "contact", c.id, frm, to, to_dt(day), reason))
                owner = to
        last = moves[-1]
        contacts.append((c.id, c.email, SRC, None, c.first, c.last, c.title, c.account.id, c.persona, c.source,
                         c.campaign_id, owner, last[1], to_dt(last[0]), c.consent, to_dt(first)))
    touches_p.extend((tid + i, *row) for i, row in enumerate(later, start=1))


def account_owner_rows(accounts: list[AccountDraft], cal: DemoCalendar, out: RowSet) -> None:
    owners = out.rows["owner_changes"]
    oid = len(owners)
    for a in accounts:
        oid += 1
        owners.append((oid, "account", a.id, None, a.owner_id, cal.to_datetime(a.created), "territory assignment"))


def deal_rows(deals: list[DealDraft], cal: DemoCalendar, out: RowSet) -> None:
    H = cal.horizon
    to_date = cal.to_date
    rows, links, moves = out.rows["deals"], out.rows["deal_contacts"], out.rows["deal_stage_changes"]
    for d in deals:
        prev = None
        for day, stage in d.stages:
            if day > H:
                break
            moves.append((len(moves) + 1, d.id, prev, stage, to_date(day), "demo"))
            prev = stage
        outcome = d.outcome(H)
        closed = None if outcome == "open" else to_date(d.close)
        rows.append((d.id, SRC, None, d.name, d.account.id, Decimal(d.amount), "USD", d.pipeline_stage(H), outcome,
                     d.lost_reason if outcome == "lost" else None, to_date(d.created), to_date(d.close), closed,
                     d.owner, d.source, d.campaign_id))
        seen: set[int] = set()
        for c, role in d.contacts:
            if c.id not in seen:
                seen.add(c.id)
                links.append((d.id, c.id, role))
