"""A person's notification settings (``services/notify/settings.py``, moved from the notifications page):
addresses checked before anything is stored, a chat channel only with an address, groups joined and left."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from revteam.delivery.outbox import channels_for
from revteam.errors import InvalidInput, NotFound
from revteam.services.notify.settings import notification_settings, save_notification_settings, set_group_membership
from revteam.store.models import NotificationGroup
from tests.factories import make_user

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SLACK = "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXX"


@pytest.fixture
def sam(session):
    user = make_user(session, role="sdr", name="Sam SDR")
    session.add(NotificationGroup(name="Sales leadership digest", event="digest", channel="email", target="-"))
    session.commit()
    return user


def test_a_chat_channel_needs_an_address_and_a_refusal_stores_nothing(session, sessions, sam):
    with pytest.raises(InvalidInput) as missing:
        save_notification_settings(session, sam, {"assignment": ["email", "slack"]}, {})
    assert missing.value.code == "channel_address_missing" and "set your Slack address first" in missing.value.message
    with pytest.raises(InvalidInput) as bad:
        save_notification_settings(session, sam, {"assignment": ["slack"]}, {"slack": "not a url"})
    assert bad.value.code == "bad_channel_url"
    with sessions() as s:
        assert channels_for(s, sam.id, "assignment") == ["email"]  # the default, untouched
        assert notification_settings(s, sam.id).addresses == {}


def test_an_address_and_its_channel_in_one_change_then_removed(session, sessions, sam):
    save_notification_settings(session, sam, {"assignment": ["email", "slack"], "digest": []}, {"slack": SLACK})
    with sessions() as s:
        stored = notification_settings(s, sam.id)
        assert stored.preferences["assignment"] == ["email", "slack"] and stored.preferences["digest"] == []
        assert stored.addresses == {"slack": SLACK}
    save_notification_settings(session, sam, {"assignment": ["email"]}, {"slack": "", "teams": None})
    with sessions() as s:
        assert notification_settings(s, sam.id).addresses == {}
    with pytest.raises(InvalidInput, match="Unknown event"):
        save_notification_settings(session, sam, {"gossip": ["email"]}, {})


def test_join_and_leave_a_group(session, sessions, sam):
    with sessions() as s:
        [view] = notification_settings(s, sam.id).groups
        assert not view.member
    set_group_membership(session, sam, view.group.id, member=True, now=NOW)
    with sessions() as s:
        assert notification_settings(s, sam.id).groups[0].member
    set_group_membership(session, sam, view.group.id, member=False, now=NOW)
    with sessions() as s:
        left = notification_settings(s, sam.id).groups[0]
        assert not left.member and left.left_at == NOW
    with pytest.raises(NotFound):
        set_group_membership(session, sam, 999_999, member=True, now=NOW)
