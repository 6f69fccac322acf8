"""A person's notification settings (R16): which channels each event reaches them on, their own chat
addresses, and the notification groups they are in.

Rules
    * Every address is checked before anything is stored: a chat address must be one the delivery worker
      can send to (it hands chat URLs to Apprise), at most 500 characters, and one it may send to
      (``delivery/targets.py``: Slack and Teams on their vendors' hosts for everyone, webhooks for admins
      only and only to public hosts unless ``REVTEAM_WEBHOOK_ALLOW_HOSTS`` allows one). An address saved
      before and sent again unchanged is not re-checked here (the worker checks it at every send).
    * An event can be sent on a chat channel only once the person has an address on that channel (the one
      stored, or one given in the same change).
    * In a change, an address of ``None`` leaves the stored one as it is and ``""`` removes it; events not
      named keep their channels, an event named with no channel is muted.

Worked example: ``save_notification_settings(s, me, {"assignment": ["email", "slack"]},
{"slack": "https://hooks.slack.com/services/T/B/x"})`` stores the Slack address and sends new
assignments by e-mail and Slack; the same change without the address is refused
(``channel_address_missing``) and nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.delivery.outbox import (
    CHANNELS,
    EVENTS,
    channels_for,
    join_group,
    leave_group,
    set_preference,
)
from revteam.delivery.targets import (
    AllowedHosts,
    Resolver,
    channel_allowed_for,
    check_target,
    system_resolver,
)
from revteam.errors import InvalidInput, NotFound
from revteam.store.db import transaction
from revteam.store.models import GroupMembership, NotificationGroup, User, UserChannel

EVENT_HELP = {
    "assignment": ("A lead is handed to you", "the moment it is routed to you, with its due time"),
    "at_risk": ("Your lead is at risk", "three quarters of its response time are gone"),
    "breach": ("A lead is overdue", "yours, or your reps' if you manage them"),
    "dispute": ("Disputes", "one to vote on, or the decision on one you opened or on your lead"),
    "digest": ("Daily digest", "unworked leads, once a day"),
    "review": ("Scoring reviews", "when one source keeps being rejected for the same reason"),
}
CHANNEL_LABELS = {"email": "E-mail", "slack": "Slack", "teams": "Teams", "webhook": "Webhook"}
CHAT_CHANNELS = tuple(c for c in CHANNELS if c != "email")
ADDRESS_HINTS = {
    "slack": "https://hooks.slack.com/services/… or slack://…",
    "teams": "https://….webhook.office.com/… or msteams://…",
    "webhook": "json://your-server/path or form://… (admins only; the host must be public)",
}
MAX_ADDRESS = 500


@dataclass
class GroupView:
    group: NotificationGroup
    member: bool
    left_at: datetime | None


@dataclass
class NotificationSettings:
    preferences: dict[str, list[str]]  # event -> channels
    addresses: dict[str, str]  # chat channel -> the person's address on it
    groups: list[GroupView]


# ---------------------------------------------------------------- reads
def channels_open_to(role: str | None) -> tuple[str, ...]:
    """The channels a person of ``role`` may use (webhooks only for admins)."""
    return tuple(c for c in CHANNELS if channel_allowed_for(c, role))


def chat_addresses(session: Session, user_id: int) -> dict[str, str]:
    return {uc.channel: uc.target for uc in session.scalars(select(UserChannel).where(UserChannel.user_id == user_id))}


def groups_of(session: Session, user_id: int) -> list[GroupView]:
    """Every notification group, by name, with whether the person is in it (and when they left)."""
    members = {m.group_id: m for m in session.scalars(select(GroupMembership).where(GroupMembership.user_id == user_id))}
    out = []
    for g in session.scalars(select(NotificationGroup).order_by(NotificationGroup.name)):
        m = members.get(g.id)
        out.append(GroupView(g, m is not None and m.left_at is None, m.left_at if m else None))
    return out


def notification_settings(session: Session, user_id: int) -> NotificationSettings:
    return NotificationSettings({e: channels_for(session, user_id, e) for e in EVENTS}, chat_addresses(session, user_id),
                                groups_of(session, user_id))


# ---------------------------------------------------------------- rules
def check_address(channel: str, url: str, *, role: str | None = None, allowed: AllowedHosts | None = None,
                  resolve: Resolver = system_resolver) -> None:
    """Refuse an address the delivery worker could not send to (it hands chat URLs to Apprise), or one it
    must not send to (``delivery/targets.py``: schemes per channel and role, hosts that are not public)."""
    import apprise

    label = f"{CHANNEL_LABELS.get(channel, channel)} address"
    if len(url) > MAX_ADDRESS or not apprise.Apprise().add(url):
        example = ADDRESS_HINTS.get(channel, "an Apprise URL")
        raise InvalidInput(f"The {label} {url[:80]!r} is not one revteam can send to; use {example}.",
                           code="bad_channel_url")
    check_target(channel, url, role=role, allowed=allowed or AllowedHosts(), resolve=resolve, label=label)


def _check(known: dict[str, str], prefs: dict[str, list[str]], addresses: dict[str, str | None], *, role: str,
           allowed: AllowedHosts | None, resolve: Resolver) -> None:
    for channel, url in addresses.items():
        if channel not in CHAT_CHANNELS:
            raise InvalidInput(f"Chat channels are {', '.join(CHAT_CHANNELS)}.", code="bad_preference")
        if url and url != known.get(channel):
            check_address(channel, url, role=role, allowed=allowed, resolve=resolve)
    after = {**known, **{c: u for c, u in addresses.items() if u is not None}}
    for event, channels in prefs.items():
        if event not in EVENTS:
            raise InvalidInput(f"Unknown event {event!r}; events are {', '.join(EVENTS)}.", code="bad_preference")
        for c in channels:
            if c not in CHANNELS:
                raise InvalidInput(f"Unknown channel {c!r}; channels are {', '.join(CHANNELS)}.", code="bad_preference")
            if not channel_allowed_for(c, role):
                raise InvalidInput(f"Only an admin can get notifications by {CHANNEL_LABELS[c].lower()}; use e-mail, "
                                   "Slack or Teams.", code="target_refused")
            if c in CHAT_CHANNELS and not after.get(c):
                raise InvalidInput(f"To get “{EVENT_HELP[event][0]}” on {CHANNEL_LABELS[c]}, set your "
                                   f"{CHANNEL_LABELS[c]} address first.", code="channel_address_missing")


# ---------------------------------------------------------------- use cases
def save_notification_settings(session: Session, user: User, prefs: dict[str, list[str]],
                               addresses: dict[str, str | None], *, allow_hosts: str = "",
                               resolve: Resolver = system_resolver) -> None:
    """Store chat addresses (None: leave as is, "": remove) and per-event channels, after checking them all.
    ``allow_hosts`` is ``REVTEAM_WEBHOOK_ALLOW_HOSTS``; ``resolve`` looks host names up (tests pass a fake)."""
    with transaction(session):
        _check(chat_addresses(session, user.id), prefs, addresses, role=user.role,
               allowed=AllowedHosts.parse(allow_hosts), resolve=resolve)
        for channel, url in addresses.items():
            if url is None:
                continue
            row = session.get(UserChannel, (user.id, channel))
            if not url:
                if row is not None:
                    session.delete(row)
            elif row is None:
                session.add(UserChannel(user_id=user.id, channel=channel, target=url))
            else:
                row.target = url
        for event, channels in prefs.items():
            set_preference(session, user.id, event, channels)


def set_group_membership(session: Session, user: User, group_id: int, *, member: bool, now: datetime) -> None:
    """Join a notification group (again), or leave it (it sends nothing more from ``now``)."""
    with transaction(session):
        if session.get(NotificationGroup, group_id) is None:
            raise NotFound(f"No notification group with id {group_id}.", code="group_not_found")
        if member:
            join_group(session, user.id, group_id)
        else:
            leave_group(session, user.id, group_id, now=now)
