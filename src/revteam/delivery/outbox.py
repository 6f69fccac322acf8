"""Putting notifications in the outbox: who gets what, on which channel, exactly once.

Every notification has a *key* that names the event (``handoff:12:breached``). Enqueueing the same key
again does nothing, so SLA ticks can run as often as they like. A person's preferences say which
channels each event goes to (default: e-mail); an empty list mutes the event. Groups carry events to a
shared chat channel and to their members' e-mail; a member who leaves a group gets nothing more from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from revteam.delivery.targets import channel_allowed_for
from revteam.store.models import (
    GroupMembership,
    NotificationGroup,
    NotificationPreference,
    OutboxMessage,
    User,
    UserChannel,
)

EVENTS = ("assignment", "at_risk", "breach", "dispute", "digest", "review")
CHANNELS = ("email", "slack", "teams", "webhook")
DEFAULT_CHANNELS = ("email",)


def channels_for(session: Session, user_id: int, event: str) -> list[str]:
    pref = session.get(NotificationPreference, (user_id, event))
    return list(pref.channels) if pref is not None else list(DEFAULT_CHANNELS)


def set_preference(session: Session, user_id: int, event: str, channels: Iterable[str]) -> None:
    from revteam.errors import InvalidInput

    chosen = sorted(set(channels))
    if event not in EVENTS or not set(chosen) <= set(CHANNELS):
        raise InvalidInput(f"Events are {', '.join(EVENTS)}; channels are {', '.join(CHANNELS)}.", code="bad_preference")
    pref = session.get(NotificationPreference, (user_id, event))
    if pref is None:
        session.add(NotificationPreference(user_id=user_id, event=event, channels=chosen))
    else:
        pref.channels = chosen


def _add(session: Session, **values: object) -> bool:
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == values["key"])) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(OutboxMessage(**values))
    except IntegrityError:  # another worker enqueued the same key a moment ago
        return False
    return True


def notify_user(session: Session, user_id: int, *, key: str, event: str, subject: str, body: str, now: datetime) -> int:
    """Queue one notification for one person on each of their channels for ``event``; returns how many."""
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return 0
    n = 0
    for channel in channels_for(session, user_id, event):
        if channel == "email":
            target = user.email
        else:
            uc = session.get(UserChannel, (user_id, channel))
            if uc is None or not channel_allowed_for(channel, user.role):
                continue  # no address, or one the role may no longer use (webhooks: admins only)
            target = uc.target
        n += _add(session, key=f"{key}:u{user_id}:{channel}", event=event, user_id=user_id, channel=channel,
                  target=target, subject=subject, body=body, created_at=now, next_attempt_at=now)
    return n


def notify_groups(session: Session, *, key: str, event: str, subject: str, body: str, now: datetime) -> int:
    """Queue the event for every group that follows it: one chat post, and e-mail to members still in it."""
    n = 0
    for g in session.scalars(select(NotificationGroup).where(NotificationGroup.event == event)):
        if g.channel == "email":
            members = session.scalars(select(GroupMembership.user_id).where(
                GroupMembership.group_id == g.id, GroupMembership.left_at.is_(None))).all()
            for uid in members:
                user = session.get(User, uid)
                if user is not None and user.is_active:
                    n += _add(session, key=f"{key}:g{g.id}:u{uid}", event=event, user_id=uid, channel="email",
                              target=user.email, subject=subject, body=body, created_at=now, next_attempt_at=now)
        else:
            n += _add(session, key=f"{key}:g{g.id}", event=event, user_id=None, channel=g.channel, target=g.target,
                      subject=subject, body=body, created_at=now, next_attempt_at=now)
    return n


def leave_group(session: Session, user_id: int, group_id: int, *, now: datetime) -> None:
    m = session.get(GroupMembership, (group_id, user_id))
    if m is not None and m.left_at is None:
        m.left_at = now


def join_group(session: Session, user_id: int, group_id: int) -> None:
    m = session.get(GroupMembership, (group_id, user_id))
    if m is None:
        session.add(GroupMembership(group_id=group_id, user_id=user_id))
    else:
        m.left_at = None
