"""One worker round: do the touch reactions still owed (rescoring and hand-over of committed touch
batches, ``services/qualify/reactions.py``), tick the SLA clocks, then drain the outbox. Used by
`revteam worker` and `serve`."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from revteam.config import Settings
from revteam.delivery.channels import AppriseSender, Sender
from revteam.delivery.worker import DeliveryReport, deliver_due
from revteam.services.handoff.sla_clock import TickReport, tick
from revteam.services.idempotency import forget_old
from revteam.services.qualify.reactions import drain_touch_reactions

log = logging.getLogger("revteam.worker")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_round(sessions: sessionmaker[Session], settings: Settings, *, now: datetime, sender: Sender | None = None,
              worker: str | None = None) -> tuple[TickReport, DeliveryReport]:
    try:
        reacted = drain_touch_reactions(sessions, now=now)
        if reacted:
            log.info("touch reactions done: %d", reacted)
    except Exception:  # noqa: BLE001 - the clocks and the outbox must still run; the reactions stay owed
        log.exception("touch reactions failed this round")
    with sessions() as s:
        forget_old(s, now=now)  # Idempotency-Key answers older than a day
    with sessions() as s:
        t = tick(s, now=now, digest_hour=settings.digest_hour)
        s.commit()
    d = deliver_due(sessions, sender or AppriseSender(settings.smtp_url, allow_hosts=settings.webhook_allow_hosts), worker=worker or worker_id(), now=now,
                    lease=timedelta(seconds=settings.outbox_lease_seconds), max_attempts=settings.outbox_max_attempts)
    return t, d


def run_forever(sessions: sessionmaker[Session], settings: Settings, *, stop: threading.Event,
                clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc), sender: Sender | None = None) -> None:
    me = worker_id()
    while not stop.is_set():
        try:
            t, d = run_round(sessions, settings, now=clock(), sender=sender, worker=me)
            if t.escalations or t.digests or t.reviews or d.claimed:
                log.info("tick %s; delivery %s", t, d)
        except Exception:  # noqa: BLE001 - the loop must survive one bad round; the error is logged
            log.exception("worker round failed")
        stop.wait(settings.worker_interval_seconds)
