"""Sending one outbox message: e-mail through the configured SMTP server, chat through its Apprise URL.

Chat and webhook addresses are checked again right before each send (``delivery/targets.py``): no
request goes to a private, loopback or link-local host, whatever the address resolved to when saved,
and no HTTP redirect is followed.

Every message carries its outbox key (e-mail header ``X-Revteam-Key``; chat text footer) so that a
receiver can recognise a retry of the same notification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

from revteam.delivery.targets import (
    AllowedHosts,
    Resolver,
    TargetRefused,
    check_target,
    system_resolver,
)
from revteam.errors import RevteamError
from revteam.store.models import OutboxMessage


class DeliveryFailed(RevteamError):
    code = "delivery_failed"


class Sender(Protocol):
    def send(self, msg: OutboxMessage) -> None: ...


@dataclass
class AppriseSender:
    """Sends through Apprise; a chat or webhook address is checked again right before each send
    (``delivery/targets.py``: its host resolved now, so a DNS answer changed since it was saved is caught)."""

    smtp_url: str
    allow_hosts: str = ""  # REVTEAM_WEBHOOK_ALLOW_HOSTS
    resolve: Resolver = system_resolver

    def _url(self, msg: OutboxMessage) -> str:
        if msg.channel == "email":
            if not self.smtp_url:
                raise DeliveryFailed("No mail server configured; set REVTEAM_SMTP_URL.", code="smtp_not_configured")
            sep = "&" if "?" in self.smtp_url else "?"
            return f"{self.smtp_url}{sep}to={quote(msg.target)}&+X-Revteam-Key={quote(msg.key)}"
        try:
            check_target(msg.channel, msg.target, role=None, allowed=AllowedHosts.parse(self.allow_hosts),
                         resolve=self.resolve)
        except TargetRefused as e:
            raise DeliveryFailed(f"Not sent to the {msg.channel} address of {msg.key}: {e.message}",
                                 code="target_refused") from None
        return msg.target

    def send(self, msg: OutboxMessage) -> None:
        import apprise

        a = apprise.Apprise(asset=apprise.AppriseAsset(http_redirects=False))
        if not a.add(self._url(msg)):
            raise DeliveryFailed(f"The {msg.channel} address of message {msg.key} is not a valid Apprise URL.",
                                 code="bad_channel_url")
        for server in a:  # never follow a redirect (a public host could answer 302 to an internal one)
            server.redirects = False
        body = msg.body if msg.channel == "email" else f"{msg.body}\n\n[{msg.key}]"
        if not a.notify(title=msg.subject, body=body):
            raise DeliveryFailed(f"{msg.channel} delivery of {msg.key} was refused by the receiver.")


@dataclass
class MemorySender:
    """Records what would have been sent (for tests and dry runs); can be told to fail."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)
    fail_targets: set[str] = field(default_factory=set)

    def send(self, msg: OutboxMessage) -> None:
        if msg.target in self.fail_targets:
            raise DeliveryFailed(f"refused: {msg.target}")
        self.sent.append((msg.key, msg.target, msg.subject))
