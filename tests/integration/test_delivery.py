"""Notifications reach a real SMTP server and a real HTTP receiver; retries back off; a worker killed
mid-batch loses nothing and sends nothing twice."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from revteam.delivery.channels import AppriseSender, MemorySender
from revteam.delivery.outbox import leave_group, join_group, notify_groups, notify_user, set_preference
from revteam.delivery.worker import deliver_due
from revteam.store.models import NotificationGroup, OutboxMessage, UserChannel
from tests.factories import make_user

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc)
LEASE = timedelta(minutes=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message; it can hold the Nth connection at EHLO."""

    def __init__(self, hold_connection: int | None = None) -> None:
        self.messages: list = []
        self.connections = 0
        self.hold_connection = hold_connection
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        if self.connections == self.hold_connection:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    @property
    def keys(self) -> list[str]:
        return [m["X-Revteam-Key"] for m in self.messages]


@pytest.fixture
def smtp():
    servers = []

    def start(**kw):
        inbox = Inbox(**kw)
        port = free_port()
        c = Controller(inbox, hostname="127.0.0.1", port=port)
        c.start()
        servers.append(c)
        return inbox, f"mailto://127.0.0.1:{port}?from=revteam@revteam.test&secure=no"

    yield start
    for c in servers:
        c.stop()


def queue(session, n: int, user) -> list[str]:
    for i in range(n):
        notify_user(session, user.id, key=f"test:{i}", event="assignment", subject=f"Lead {i}", body="Call them.", now=NOW)
    session.commit()
    return [f"test:{i}:u{user.id}:email" for i in range(n)]


def test_email_is_delivered_to_a_real_smtp_server(sessions, session, smtp):
    inbox, url = smtp()
    ana = make_user(session, role="sdr", email="ana@acme.test")
    keys = queue(session, 3, ana)
    report = deliver_due(sessions, AppriseSender(url), worker="w1", now=NOW, lease=LEASE, max_attempts=3)
    with sessions() as s:
        errors = [m.last_error for m in s.scalars(select(OutboxMessage))]
    assert (report.sent, report.failed) == (3, 0), errors
    assert sorted(inbox.keys) == sorted(keys)
    assert {m["To"] for m in inbox.messages} == {"ana@acme.test"} and inbox.messages[0]["Subject"].startswith("Lead")
    assert deliver_due(sessions, AppriseSender(url), worker="w1", now=NOW, lease=LEASE, max_attempts=3).claimed == 0
    with sessions() as s:
        assert {m.status for m in s.scalars(select(OutboxMessage))} == {"sent"}


def test_chat_goes_to_a_local_http_receiver_and_groups_can_be_left(sessions, session):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"json://127.0.0.1:{server.server_port}/hook"
    try:
        ben = make_user(session, role="admin")  # webhooks are for admins (delivery/targets.py)
        cho = make_user(session, role="ae")
        session.add(UserChannel(user_id=ben.id, channel="webhook", target=url))
        set_preference(session, ben.id, "breach", ["webhook"])
        group = NotificationGroup(name="#revenue", event="breach", channel="webhook", target=url)
        mail_group = NotificationGroup(name="sales leads list", event="breach", channel="email", target="-")
        session.add_all([group, mail_group])
        session.flush()
        join_group(session, ben.id, mail_group.id)
        join_group(session, cho.id, mail_group.id)
        leave_group(session, cho.id, mail_group.id, now=NOW)
        notify_user(session, ben.id, key="handoff:1:breached", event="breach", subject="SLA breached", body="Dana", now=NOW)
        notify_groups(session, key="handoff:1:breached", event="breach", subject="SLA breached", body="Dana", now=NOW)
        notify_user(session, ben.id, key="handoff:1:breached", event="breach", subject="again", body="x", now=NOW)
        session.commit()
        memory = MemorySender()

        class Both:
            def send(self, msg):
                # the receiver is on loopback: allowed by the setting, as an admin would for an internal hook
                (AppriseSender("", allow_hosts="127.0.0.1") if msg.channel != "email" else memory).send(msg)

        report = deliver_due(sessions, Both(), worker="w", now=NOW, lease=LEASE, max_attempts=3)
        assert report.sent == 3  # Ben's webhook, the #revenue post, Ben's e-mail from the list; Cho left the list
        assert len(received) == 2 and all("SLA breached" in (r.get("title") or "") for r in received)
        assert [t for _, t, _ in memory.sent] == [ben.email]
    finally:
        server.shutdown()


def test_failures_back_off_and_end_as_failed(sessions, session):
    ana = make_user(session, role="sdr", email="bounce@acme.test")
    queue(session, 1, ana)
    sender = MemorySender(fail_targets={"bounce@acme.test"})
    t = NOW
    for attempt in range(1, 4):
        r = deliver_due(sessions, sender, worker="w", now=t, lease=LEASE, max_attempts=3)
        with sessions() as s:
            msg = s.scalars(select(OutboxMessage)).one()
        assert msg.attempts == attempt
        if attempt < 3:
            assert r.retried == 1 and msg.status == "pending"
            assert msg.next_attempt_at == t + timedelta(minutes=2 ** (attempt - 1))
            assert deliver_due(sessions, sender, worker="w", now=t, lease=LEASE, max_attempts=3).claimed == 0  # not yet due
            t = msg.next_attempt_at
        else:
            assert r.failed == 1 and msg.status == "failed" and "refused" in msg.last_error


class RefusingSender:
    """A sender whose every address is refused by the SSRF rules (what AppriseSender raises at send time)."""

    def __init__(self) -> None:
        self.calls = 0

    def send(self, msg) -> None:
        from revteam.delivery.channels import DeliveryFailed

        self.calls += 1
        raise DeliveryFailed("Not sent: the webhook host resolves to 127.0.0.1, a loopback address.", code="target_refused")


def test_a_refused_address_fails_at_once_instead_of_being_retried(sessions, session):
    ana = make_user(session, role="sdr", email="ana@acme.test")
    queue(session, 1, ana)
    sender = RefusingSender()
    r = deliver_due(sessions, sender, worker="w", now=NOW, lease=LEASE, max_attempts=8)
    with sessions() as s:
        msg = s.scalars(select(OutboxMessage)).one()
    assert (r.failed, r.retried, sender.calls) == (1, 0, 1)
    assert msg.status == "failed" and msg.attempts == 1 and "loopback" in msg.last_error
    later = deliver_due(sessions, sender, worker="w", now=NOW + timedelta(days=1), lease=LEASE, max_attempts=8)
    assert later.claimed == 0 and sender.calls == 1


WORKER = """
import sys
from datetime import datetime, timedelta, timezone
from revteam.store.db import make_engine, make_session_factory
from revteam.delivery.channels import AppriseSender
from revteam.delivery.worker import deliver_due
sessions = make_session_factory(make_engine(sys.argv[1]))
deliver_due(sessions, AppriseSender(sys.argv[2]), worker="doomed", now=datetime.fromisoformat(sys.argv[3]),
            lease=timedelta(minutes=5), max_attempts=5)
"""


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_nothing(sqlite_engine, smtp):
    from revteam.store.db import make_session_factory

    sessions = make_session_factory(sqlite_engine)
    inbox, url = smtp(hold_connection=4)  # the 4th message's connection hangs at EHLO
    with sessions() as s:
        ana = make_user(s, role="sdr", email="ana@acme.test")
        keys = queue(s, 10, ana)
    proc = subprocess.Popen([sys.executable, "-c", WORKER, str(sqlite_engine.url), url, NOW.isoformat()],
                            env={**os.environ}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert inbox.holding.wait(60), proc.stderr.read() if proc.poll() is not None else "worker never reached message 4"
        proc.send_signal(signal.SIGKILL)  # killed in the middle of its batch of 10
        proc.wait(10)
    finally:
        inbox.release.set()
    time.sleep(0.2)
    assert len(inbox.keys) == 3
    with sessions() as s:
        statuses = [m.status for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert statuses == ["sent"] * 3 + ["sending"] * 7  # claimed by the dead worker
    # before the lease runs out nobody touches them; after it, another worker finishes the batch
    assert deliver_due(sessions, AppriseSender(url), worker="w2", now=NOW + timedelta(minutes=1), lease=LEASE,
                       max_attempts=5).claimed == 0
    r = deliver_due(sessions, AppriseSender(url), worker="w2", now=NOW + LEASE + timedelta(seconds=1), lease=LEASE,
                    max_attempts=5)
    assert r.sent == 7
    assert sorted(inbox.keys) == sorted(keys)  # nothing lost
    assert len(inbox.keys) == len(set(inbox.keys)) == 10  # nothing twice
