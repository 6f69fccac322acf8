"""Draining the outbox: claim, send, mark — with retries, backoff and crash safety.

A worker claims due messages in a short transaction (``pending`` → ``sending``, with its id and the
time), then sends them one by one and marks each ``sent`` in its own transaction right after the
receiver accepted it. If the worker dies, its claimed messages stay ``sending``; once the lease
(``REVTEAM_OUTBOX_LEASE_SECONDS``) has passed another worker takes them over. A failed send is retried
with exponential backoff (1, 2, 4 … minutes, at most 6 hours) until ``REVTEAM_OUTBOX_MAX_ATTEMPTS``,
then the message is ``failed`` and shown on the admin page. A failure that no retry can cure (the address
is refused by the SSRF rules, ``target_refused``, or is not a valid channel URL) ends the message as
``failed`` at once: retrying would only repeat the refusal.

Delivery is at-least-once at the protocol level, made effectively once by the two rules above: a
message is only re-sent when its previous sender died before the receiver acknowledged it, and every
message carries its key for receivers that deduplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from revteam.delivery.channels import Sender
from revteam.store.models import OutboxMessage

MAX_BACKOFF = timedelta(hours=6)
PERMANENT_FAILURES = frozenset({"target_refused", "bad_channel_url"})  # DeliveryFailed codes not worth a retry


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


def backoff(attempts: int) -> timedelta:
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim(sessions: sessionmaker[Session], *, worker: str, now: datetime, lease: timedelta, limit: int) -> list[int]:
    with sessions() as s:
        due = or_(and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
                  and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at <= now - lease))
        ids = list(s.scalars(select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)))
        if not ids:
            return []
        s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), due)
                  .values(status="sending", claimed_by=worker, claimed_at=now))
        s.commit()
        return list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker,
                                                            OutboxMessage.status == "sending").order_by(OutboxMessage.id)))


def deliver_due(sessions: sessionmaker[Session], sender: Sender, *, worker: str, now: datetime, lease: timedelta,
                max_attempts: int, limit: int = 100) -> DeliveryReport:
    report = DeliveryReport()
    for msg_id in claim(sessions, worker=worker, now=now, lease=lease, limit=limit):
        report.claimed += 1
        with sessions() as s:
            msg = s.get(OutboxMessage, msg_id)
            if msg is None or msg.claimed_by != worker or msg.status != "sending":
                continue
            try:
                sender.send(msg)
            except Exception as e:  # noqa: BLE001 - any channel failure is recorded and retried
                msg.attempts += 1
                msg.last_error = f"{type(e).__name__}: {e}"[:2000]
                if msg.attempts >= max_attempts or getattr(e, "code", None) in PERMANENT_FAILURES:
                    msg.status = "failed"
                    report.failed += 1
                else:
                    msg.status = "pending"
                    msg.next_attempt_at = now + backoff(msg.attempts)
                    report.retried += 1
                msg.claimed_by = None
                s.commit()
                continue
            msg.attempts += 1
            msg.status = "sent"
            msg.sent_at = now
            s.commit()
            report.sent += 1
    return report
