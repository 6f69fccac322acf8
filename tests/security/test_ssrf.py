"""No SSRF (issue #10, item 6): notification addresses are an allow-list of schemes per channel and role;
webhook hosts are resolved (every address) and refused when not public unless an admin allows them;
checked when saved and again when sent (DNS rebinding). Resolvers are fakes: no network is used."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from revteam.delivery.channels import AppriseSender, DeliveryFailed
from revteam.delivery.outbox import notify_user, set_preference
from revteam.delivery.targets import (
    AllowedHosts,
    TargetRefused,
    check_target,
    system_resolver,
)
from revteam.delivery.worker import deliver_due
from revteam.errors import InvalidInput
from revteam.services.notify.settings import save_notification_settings
from revteam.store.models import OutboxMessage, User, UserChannel
from tests.factories import make_user
from tests.web.conftest import api_token_for, bearer, csrf_of, logged_in_client

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOBODY = AllowedHosts()


class FakeDns:
    """A resolver with a fixed table; ``answers`` can change between calls (DNS rebinding)."""

    def __init__(self, **table: list[str]) -> None:
        self.table = {k.replace("_", "."): v for k, v in table.items()}
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        if host not in self.table:
            raise OSError("Name or service not known")
        return self.table[host]


PUBLIC = FakeDns(hooks_example_com=["93.184.216.34", "2606:2800:220:1::1"])


@pytest.mark.parametrize("address", [
    "10.0.0.5", "172.16.3.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
    "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "ff02::1",
])
def test_webhook_hosts_resolving_to_non_public_addresses_are_refused(address: str) -> None:
    dns = FakeDns(inside_example_com=["93.184.216.34", address])  # one bad answer among good ones is enough
    with pytest.raises(TargetRefused, match=f"resolves to {address.replace('.', '[.]')}|resolves to"):
        check_target("webhook", "json://inside.example.com/hook", role="admin", allowed=NOBODY, resolve=dns)


def test_public_hosts_pass_and_unknown_ones_are_refused() -> None:
    check_target("webhook", "jsons://hooks.example.com/path?x=1", role="admin", allowed=NOBODY, resolve=PUBLIC)
    with pytest.raises(TargetRefused, match="could not be resolved"):
        check_target("webhook", "json://nowhere.example/x", role="admin", allowed=NOBODY, resolve=PUBLIC)
    with pytest.raises(TargetRefused, match="no host name"):
        check_target("webhook", "json:///x", role="admin", allowed=NOBODY, resolve=PUBLIC)


def test_numeric_spellings_of_loopback_are_refused_with_the_system_resolver() -> None:
    for url in ("json://2130706433/x", "json://0x7f.1/x", "json://127.1/x", "json://[::1]/x", "form://localhost/x"):
        with pytest.raises(TargetRefused, match="non-public"):
            check_target("webhook", url, role="admin", allowed=NOBODY, resolve=system_resolver)


def test_an_admin_can_allow_internal_hosts_by_name_or_network() -> None:
    dns = FakeDns(hooks_internal=["10.1.2.3"], other_internal=["10.9.9.9"])
    allowed = AllowedHosts.parse("hooks.internal, 10.1.0.0/16, , bad/net/x")
    check_target("webhook", "json://hooks.internal/x", role="admin", allowed=allowed, resolve=dns)
    assert dns.asked == []  # a name the admins allowed is not looked up
    check_target("webhook", "json://10.1.7.7/x", role="admin", allowed=allowed, resolve=system_resolver)
    with pytest.raises(TargetRefused, match="10.9.9.9"):
        check_target("webhook", "json://other.internal/x", role="admin", allowed=allowed, resolve=dns)


@pytest.mark.parametrize(("channel", "url", "role", "message"), [
    ("webhook", "json://hooks.example.com/x", "sdr", "Only an admin can set a webhook"),
    ("webhook", "json://hooks.example.com/x", "marketing", "Only an admin can set a webhook"),
    ("slack", "json://hooks.example.com/x", "admin", "must look like slack://"),
    ("slack", "https://hooks.slack.com.evil.example/services/T/B/x", "sdr", "must be on hooks.slack.com"),
    ("slack", "https://10.0.0.1/services/T/B/x", "admin", "must be on hooks.slack.com"),
    ("teams", "https://webhook.office.com.evil.example/x", "ae", "must be on webhook.office.com"),
    ("teams", "http://acme.webhook.office.com/x", "ae", "must look like msteams://"),
    ("webhook", "file:///etc/passwd", "admin", "must look like json://"),
])
def test_schemes_are_an_allow_list_per_channel_and_role(channel: str, url: str, role: str, message: str) -> None:
    with pytest.raises(TargetRefused, match=message):
        check_target(channel, url, role=role, allowed=NOBODY, resolve=PUBLIC)


def test_vendor_chat_addresses_are_open_to_everyone() -> None:
    for channel, url in (("slack", "https://hooks.slack.com/services/T000/B000/XXXX"), ("slack", "slack://T000/B000/XXXX"),
                         ("teams", "https://acme.webhook.office.com/webhookb2/abc"), ("teams", "msteams://a/b/c/d")):
        check_target(channel, url, role="sdr", allowed=NOBODY, resolve=PUBLIC)


# ---------------------------------------------------------------- saved: a clear field error, nothing stored
def test_saving_a_refused_address_stores_nothing(session, sessions) -> None:
    rep = make_user(session, role="sdr")
    admin = make_user(session, role="admin")
    session.commit()
    with pytest.raises(InvalidInput, match="Only an admin") as refused:
        save_notification_settings(session, rep, {"breach": ["webhook"]}, {"webhook": "json://hooks.example.com/x"},
                                   resolve=PUBLIC)
    assert refused.value.code == "target_refused"
    with pytest.raises(InvalidInput, match="169.254.169.254"):
        save_notification_settings(session, admin, {}, {"webhook": "json://metadata.example/latest"},
                                   resolve=FakeDns(metadata_example=["169.254.169.254"]))
    save_notification_settings(session, admin, {"breach": ["webhook"]}, {"webhook": "json://hooks.example.com/x"},
                               resolve=PUBLIC)
    with sessions() as s:
        assert [(c.user_id, c.target) for c in s.scalars(select(UserChannel))] == [(admin.id, "json://hooks.example.com/x")]


def test_the_page_and_the_api_refuse_a_reps_webhook(app: FastAPI, runtime: Any, people: dict[str, User]) -> None:
    rep = logged_in_client(app, people["sdr"])
    page = rep.post("/settings/notifications", data={"csrf_token": csrf_of(rep, "/settings/notifications"),
                                                     "events": "breach", "pref": "breach:webhook",
                                                     "url_webhook": "json://127.0.0.1:8000/admin"})
    assert page.status_code == 422 and "Only an admin can set a webhook" in page.text
    admin_token = api_token_for(runtime, people["admin"])
    api = rep.put("/api/v1/me/notifications", headers=bearer(admin_token),
                  json={"preferences": {}, "addresses": {"webhook": "json://127.0.0.1:8000/admin"}})
    assert api.status_code == 422 and api.json()["code"] == "target_refused" and "127.0.0.1" in api.json()["message"]
    with runtime.sessions() as s:
        assert s.scalars(select(UserChannel)).all() == []


# ---------------------------------------------------------------- sent: checked again, nothing posted
def test_a_host_that_rebinds_to_loopback_after_saving_gets_no_request(session, sessions) -> None:
    hits: list[str] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        dns = FakeDns(rebind_example=["93.184.216.34"])
        admin = make_user(session, role="admin")
        session.commit()
        url = f"json://rebind.example:{server.server_port}/hook"
        save_notification_settings(session, admin, {"breach": ["webhook"]}, {"webhook": url}, resolve=dns)
        dns.table["rebind.example"] = ["127.0.0.1"]  # the attacker's DNS now answers loopback
        set_preference(session, admin.id, "breach", ["webhook"])
        notify_user(session, admin.id, key="handoff:7:breached", event="breach", subject="SLA breached", body="x", now=NOW)
        session.commit()
        sender = AppriseSender("", resolve=dns)
        report = deliver_due(sessions, sender, worker="w", now=NOW, lease=timedelta(minutes=5), max_attempts=2)
        assert (report.sent, report.retried, report.failed) == (0, 0, 1)  # a refusal is final: no retries
        with sessions() as s:
            msg = s.scalar(select(OutboxMessage).where(OutboxMessage.channel == "webhook"))
            assert "127.0.0.1" in msg.last_error and "non-public" in msg.last_error
        assert hits == []
        with pytest.raises(DeliveryFailed) as refused:
            sender.send(msg)
        assert refused.value.code == "target_refused"
        later = deliver_due(sessions, sender, worker="w", now=NOW + timedelta(hours=1), lease=timedelta(minutes=5),
                            max_attempts=2)
        assert later.claimed == 0 and hits == []  # not retried: nothing is ever posted
        # (a loopback receiver the admins allowed is delivered to: tests/integration/test_delivery.py)
    finally:
        server.shutdown()


def test_a_webhook_a_rep_saved_before_the_upgrade_is_not_sent_to(session) -> None:
    rep = make_user(session, role="sdr")
    admin = make_user(session, role="admin")
    for person in (rep, admin):
        session.add(UserChannel(user_id=person.id, channel="webhook", target="json://hooks.example.com/x"))
        set_preference(session, person.id, "breach", ["email", "webhook"])
    session.flush()
    assert notify_user(session, rep.id, key="k", event="breach", subject="s", body="b", now=NOW) == 1  # e-mail only
    assert notify_user(session, admin.id, key="k", event="breach", subject="s", body="b", now=NOW) == 2
    channels = sorted((m.user_id == admin.id, m.channel) for m in session.scalars(select(OutboxMessage)))
    assert channels == [(False, "email"), (True, "email"), (True, "webhook")]


def test_a_rep_is_not_offered_the_webhook_channel(app: FastAPI, people: dict[str, User]) -> None:
    rep = logged_in_client(app, people["sdr"]).get("/settings/notifications").text
    admin = logged_in_client(app, people["admin"]).get("/settings/notifications").text
    assert 'name="url_webhook"' not in rep and ":webhook" not in rep and 'name="url_slack"' in rep
    assert 'name="url_webhook"' in admin and "breach:webhook" in admin


def test_a_rep_cannot_choose_the_webhook_channel_either(session) -> None:
    rep = make_user(session, role="ae")
    session.add(UserChannel(user_id=rep.id, channel="webhook", target="json://hooks.example.com/x"))  # from before
    session.commit()
    with pytest.raises(InvalidInput, match="Only an admin can get notifications by webhook"):
        save_notification_settings(session, rep, {"breach": ["webhook"]}, {}, resolve=PUBLIC)


@pytest.mark.parametrize("url", [
    "json://a@127.0.0.1:80@hooks.example.com/hook",  # Apprise reads 127.0.0.1:80, urlsplit reads hooks.example.com
    "json://a:b@10.0.0.5@hooks.example.com/hook",
    "jsons://x@y@hooks.example.com/hook",
    "json://127.0.0.1\\@hooks.example.com/hook",
])
def test_addresses_two_parsers_read_differently_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="more than one '@'|ambiguous"):
        check_target("webhook", url, role="admin", allowed=NOBODY, resolve=PUBLIC)
    check_target("webhook", "json://user:p%40ss@hooks.example.com/hook", role="admin", allowed=NOBODY, resolve=PUBLIC)


@pytest.mark.parametrize("query", ["redirect=yes", "REDIRECT=1", "x=1&redirect=true"])
def test_an_address_asking_to_follow_redirects_is_refused(query: str) -> None:
    with pytest.raises(TargetRefused, match="redirect"):
        check_target("webhook", f"json://hooks.example.com/hook?{query}", role="admin", allowed=NOBODY, resolve=PUBLIC)
    check_target("webhook", "json://hooks.example.com/hook?redirect=no", role="admin", allowed=NOBODY, resolve=PUBLIC)


def test_a_webhook_answering_302_to_an_internal_host_is_not_followed() -> None:
    internal_hits: list[str] = []

    class Internal(BaseHTTPRequestHandler):
        def do_POST(self):
            internal_hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    internal = ThreadingHTTPServer(("127.0.0.1", 0), Internal)

    class Public(BaseHTTPRequestHandler):
        def do_POST(self):
            self.send_response(307)  # 307 keeps the POST and its body on the next hop
            self.send_header("Location", f"http://127.0.0.1:{internal.server_port}/admin")
            self.end_headers()

        def log_message(self, *a):
            pass

    public = ThreadingHTTPServer(("127.0.0.1", 0), Public)
    for server in (internal, public):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        # the "public" receiver is on loopback only for the test: the admins allow exactly that address
        sender = AppriseSender("", allow_hosts="127.0.0.1/32", resolve=system_resolver)
        msg = OutboxMessage(channel="webhook", target=f"json://127.0.0.1:{public.server_port}/hook",
                            key="handoff:9:breached", subject="SLA breached", body="x")
        with pytest.raises(DeliveryFailed, match="refused by the receiver"):
            sender.send(msg)
        assert internal_hits == []
    finally:
        internal.shutdown()
        public.shutdown()
