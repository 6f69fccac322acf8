"""Notification settings (R16), for every logged-in person: which channels each event reaches them on,
their own chat addresses, and the notification groups they are in (leave, or join another).

The form names the events it shows (hidden field ``events``), so an event left with no channel ticked is
muted on purpose, never by a form that forgot it. A chat channel needs the person's address on that
channel (an Apprise URL, e.g. ``https://hooks.slack.com/services/...`` or ``msteams://...``); ticking one
without a usable address is refused with the reason and the form kept. Webhook addresses are for admins
only and must point to a public host (``delivery/targets.py``; ``REVTEAM_WEBHOOK_ALLOW_HOSTS``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revteam.delivery.outbox import EVENTS
from revteam.errors import InvalidInput
from revteam.services.notify.settings import (
    ADDRESS_HINTS,
    CHANNEL_LABELS,
    CHAT_CHANNELS,
    EVENT_HELP,
    channels_open_to,
    chat_addresses,
    notification_settings,
    save_notification_settings,
    set_group_membership,
)
from revteam.services.people import User
from revteam.services.unit_of_work import Session
from revteam.web.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from revteam.web.templating import render

router = APIRouter(include_in_schema=False)

NOTICES = {
    "saved": "Saved. New notifications follow these settings.",
    "joined": "You joined the group.",
    "left": "You left the group; it sends you nothing more.",
}


def _page(request: Request, db: Session, me: User, *, status: int = 200, notice: str | None = None,
          error: str | None = None, prefs: dict[str, list[str]] | None = None,
          addresses: dict[str, str] | None = None) -> HTMLResponse:
    stored = notification_settings(db, me.id)
    context = {
        "events": EVENTS,
        "event_help": EVENT_HELP,
        "channels": channels_open_to(me.role),
        "chat_channels": tuple(c for c in CHAT_CHANNELS if c in channels_open_to(me.role)),
        "channel_labels": CHANNEL_LABELS,
        "hints": ADDRESS_HINTS,
        "prefs": prefs if prefs is not None else stored.preferences,
        "addresses": addresses if addresses is not None else stored.addresses,
        "groups": stored.groups,
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
    request: Request, db: SessionDep, me: CurrentUser, settings: SettingsDep,
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
        save_notification_settings(db, me, prefs, addresses, allow_hosts=settings.webhook_allow_hosts)
    except InvalidInput as e:
        typed = {**chat_addresses(db, me.id), **{c: u for c, u in addresses.items() if u is not None}}
        return _page(request, db, me, status=e.status, error=e.message, prefs=prefs, addresses=typed)
    return RedirectResponse("/settings/notifications?done=saved", status_code=303)


@router.post("/settings/notifications/groups/{group_id}", name="notifications.group")
def notifications_group(db: SessionDep, me: CurrentUser, now: NowDep, group_id: int,
                        action: Annotated[str, Form(pattern="^(join|leave)$")]) -> Response:
    set_group_membership(db, me, group_id, member=action == "join", now=now)
    return RedirectResponse(f"/settings/notifications?done={'joined' if action == 'join' else 'left'}#groups-h",
                            status_code=303)
