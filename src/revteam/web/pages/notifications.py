"""Notification settings (R16), for every logged-in person: which channels each event reaches them on,
their own chat addresses, and the notification groups they are in (leave, or join another).

The form names the events it shows (hidden field ``events``), so an event left with no channel ticked is
muted on purpose, never by a form that forgot it. A chat channel needs the person's address on that
channel (an Apprise URL, e.g. ``https://hooks.slack.com/services/...`` or ``msteams://...``); ticking one
without a usable address is refused with the reason and the form kept.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from revteam.delivery.outbox import CHANNELS, EVENTS, channels_for, join_group, leave_group, set_preference
from revteam.errors import InvalidInput, NotFound
from revteam.store.models import GroupMembership, NotificationGroup, UserChannel
from revteam.store.models import User
from revteam.web.deps import CurrentUser, NowDep, SessionDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

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
    "webhook": "json://your-server/path or form://…",
}
NOTICES = {
    "saved": "Saved. New notifications follow these settings.",
    "joined": "You joined the group.",
    "left": "You left the group; it sends you nothing more.",
}


def chat_addresses(db: Session, user_id: int) -> dict[str, str]:
    return {uc.channel: uc.target for uc in db.scalars(select(UserChannel).where(UserChannel.user_id == user_id))}


def check_address(channel: str, url: str) -> None:
    """Refuse an address the delivery worker could not send to (it hands chat URLs to Apprise)."""
    import apprise

    if len(url) > 500 or not apprise.Apprise().add(url):
        example = ADDRESS_HINTS.get(channel, "an Apprise URL")
        raise InvalidInput(f"The {CHANNEL_LABELS.get(channel, channel)} address {url[:80]!r} is not one revteam can send "
                           f"to; use {example}.", code="bad_channel_url")


def apply_settings(db: Session, me: User, prefs: dict[str, list[str]], addresses: dict[str, str | None]) -> None:
    """Store chat addresses (None: leave as is, "": remove) and per-event channels, after checking them all."""
    known = chat_addresses(db, me.id)
    for channel, url in addresses.items():
        if channel not in CHAT_CHANNELS:
            raise InvalidInput(f"Chat channels are {', '.join(CHAT_CHANNELS)}.", code="bad_preference")
        if url:
            check_address(channel, url)
    after = {**known, **{c: u for c, u in addresses.items() if u is not None}}
    for event, channels in prefs.items():
        if event not in EVENTS:
            raise InvalidInput(f"Unknown event {event!r}; events are {', '.join(EVENTS)}.", code="bad_preference")
        for c in channels:
            if c not in CHANNELS:
                raise InvalidInput(f"Unknown channel {c!r}; channels are {', '.join(CHANNELS)}.", code="bad_preference")
            if c in CHAT_CHANNELS and not after.get(c):
                raise InvalidInput(f"To get “{EVENT_HELP[event][0]}” on {CHANNEL_LABELS[c]}, set your "
                                   f"{CHANNEL_LABELS[c]} address first.", code="channel_address_missing")
    for channel, url in addresses.items():
        row = db.get(UserChannel, (me.id, channel))
        if url is None:
            continue
        if not url:
            if row is not None:
                db.delete(row)
        elif row is None:
            db.add(UserChannel(user_id=me.id, channel=channel, target=url))
        else:
            row.target = url
    for event, channels in prefs.items():
        set_preference(db, me.id, event, channels)


def groups_of(db: Session, user_id: int) -> list[dict[str, Any]]:
    members = {m.group_id: m for m in db.scalars(select(GroupMembership).where(GroupMembership.user_id == user_id))}
    out = []
    for g in db.scalars(select(NotificationGroup).order_by(NotificationGroup.name)):
        m = members.get(g.id)
        out.append({"group": g, "member": m is not None and m.left_at is None, "left_at": m.left_at if m else None})
    return out


def _page(request: Request, db: Session, me: User, *, status: int = 200, notice: str | None = None,
          error: str | None = None, prefs: dict[str, list[str]] | None = None,
          addresses: dict[str, str] | None = None) -> HTMLResponse:
    context = {
        "events": EVENTS,
        "event_help": EVENT_HELP,
        "channels": CHANNELS,
        "chat_channels": CHAT_CHANNELS,
        "channel_labels": CHANNEL_LABELS,
        "hints": ADDRESS_HINTS,
        "prefs": prefs if prefs is not None else {e: channels_for(db, me.id, e) for e in EVENTS},
        "addresses": addresses if addresses is not None else chat_addresses(db, me.id),
        "groups": groups_of(db, me.id),
        "notice": notice,
        "error": error,
    }
    return render(request, "notifications.html", context, status=status)


@router.get("/settings/notifications", name="notifications.page", response_class=HTMLResponse)
def notifications_page(request: Request, db: SessionDep, me: CurrentUser,
                       done: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:
    return _page(request, db, me, notice=NOTICES.get(done))


Address = Annotated[str | None, Form(max_length=600)]


@router.post("/settings/notifications", name="notifications.save")
def notifications_save(
    request: Request, db: SessionDep, me: CurrentUser,
    events: Annotated[str, Form(min_length=1, max_length=400)],
    pref: Annotated[list[str], Form(max_length=100)] = [],  # noqa: B006 - "event:channel" for each ticked box
    url_slack: Address = None, url_teams: Address = None, url_webhook: Address = None,
) -> Response:
    shown = [e.strip() for e in events.split(",") if e.strip()]
    prefs: dict[str, list[str]] = {e: [] for e in shown}
    for item in pref:
        event, _, channel = item.partition(":")
        if event not in prefs:
            raise InvalidInput(f"{item!r} names an event the form did not show.", code="bad_preference")
        prefs[event].append(channel)
    addresses = {"slack": url_slack, "teams": url_teams, "webhook": url_webhook}
    addresses = {c: (u.strip() if u is not None else None) for c, u in addresses.items()}
    try:
        apply_settings(db, me, prefs, addresses)
        db.commit()
    except InvalidInput as e:
        db.rollback()
        typed = {**chat_addresses(db, me.id), **{c: u for c, u in addresses.items() if u is not None}}
        return _page(request, db, me, status=e.status, error=e.message, prefs=prefs, addresses=typed)
    return RedirectResponse("/settings/notifications?done=saved", status_code=303)


@router.post("/settings/notifications/groups/{group_id}", name="notifications.group")
def notifications_group(db: SessionDep, me: CurrentUser, now: NowDep, group_id: int,
                        action: Annotated[str, Form(pattern="^(join|leave)$")]) -> Response:
    if db.get(NotificationGroup, group_id) is None:
        raise NotFound(f"No notification group with id {group_id}.", code="group_not_found")
    if action == "join":
        join_group(db, me.id, group_id)
    else:
        leave_group(db, me.id, group_id, now=now)
    db.commit()
    return RedirectResponse(f"/settings/notifications?done={'joined' if action == 'join' else 'left'}#groups-h",
                            status_code=303)
