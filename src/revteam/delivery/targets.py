"""Where a notification may be sent: the chat and webhook addresses people save, checked against
server-side request forgery (SSRF) when saved and again when sent.

Model
    * **Schemes per channel and role.** Slack takes ``slack://`` or ``https://hooks.slack.com/...``; Teams
      takes ``msteams://`` or ``https://<tenant>.webhook.office.com/...``; both are open to everyone,
      because their host is fixed (the vendor's). A **webhook** (``json://``, ``jsons://``, ``form://``,
      ``forms://``, ``xml://``, ``xmls://``) names any host, so only admins may set one.
    * **Hosts resolved, every address checked.** A webhook host is resolved (all its A and AAAA records)
      and refused when any address is not public: private, loopback, link-local, multicast, reserved,
      unspecified, shared (100.64/10), or an IPv4 address mapped into IPv6. Odd spellings such as
      ``2130706433`` or ``0x7f.1`` resolve to 127.0.0.1 and are refused the same way.
    * **Unless an admin allows it**: ``REVTEAM_WEBHOOK_ALLOW_HOSTS`` lists host names, IPs or networks
      (``hooks.internal, 10.1.0.0/16``) that may be private.
    * **Checked twice.** Once when the address is saved (a clear field error), and again right before
      each send (``delivery/channels.py``), so a name that resolved to a public address when saved and to
      an internal one later (DNS rebinding) is not posted to. A refused send is not retried.
    * **The host Apprise will use.** The host checked is the one Apprise's own parser reads; an address
      that two parsers read differently (``json://a@127.0.0.1:80@example.com/``: more than one ``@``) is
      refused. Webhook redirects are never followed (a public host answering 302 to an internal one), and
      an address asking for them (``?redirect=yes``) is refused.

Worked example: an SDR saving ``json://10.0.0.5/hook`` is told webhooks are for admins; an admin saving
it is told 10.0.0.5 is a private address; with ``REVTEAM_WEBHOOK_ALLOW_HOSTS=10.0.0.0/8`` it is saved.
The residual window between the send-time check and Apprise's own lookup is milliseconds; an internal
resolver that answers differently within it is out of reach of an application check (use egress rules).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from revteam.errors import InvalidInput

Resolver = Callable[[str], list[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

WEBHOOK_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
SCHEMES: dict[str, frozenset[str]] = {
    "slack": frozenset({"slack", "https"}),
    "teams": frozenset({"msteams", "https"}),
    "webhook": WEBHOOK_SCHEMES,
}
# https addresses are accepted only on the vendor's hosts (exact, or a subdomain of a ".name")
VENDOR_HOSTS: dict[str, tuple[str, ...]] = {
    "slack": ("hooks.slack.com",),
    "teams": (".webhook.office.com", "outlook.office.com", ".logic.azure.com"),
}
CHANNEL_ROLES: dict[str, frozenset[str] | None] = {"slack": None, "teams": None, "webhook": frozenset({"admin"})}
SCHEME_HINTS = {
    "slack": "slack://… or https://hooks.slack.com/services/…",
    "teams": "msteams://… or https://<tenant>.webhook.office.com/…",
    "webhook": "json://host/path, jsons://host/path, form://… or xml://…",
}


class TargetRefused(InvalidInput):
    """An address revteam will not send to (the message says why and what would do)."""

    code = "target_refused"


def channel_allowed_for(channel: str, role: str | None) -> bool:
    """May a person of ``role`` get notifications on ``channel``? (Webhooks saved by a rep before they became
    admin-only are not sent to.)"""
    roles = CHANNEL_ROLES.get(channel)
    return roles is None or role in roles


def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to (IP literals and numeric spellings included)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]).split("%", 1)[0] for info in infos})


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_private or address.is_loopback or address.is_link_local
                                       or address.is_multicast or address.is_reserved or address.is_unspecified)


@dataclass(frozen=True)
class AllowedHosts:
    """``REVTEAM_WEBHOOK_ALLOW_HOSTS`` parsed: names and networks that may resolve to private addresses."""

    names: frozenset[str] = frozenset()
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    @classmethod
    def parse(cls, text: str | Iterable[str]) -> AllowedHosts:
        items = text.split(",") if isinstance(text, str) else list(text)
        names, networks = set(), []
        for item in (i.strip().lower() for i in items):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                names.add(item.rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def covers(self, address: Address) -> bool:
        return any(address in net for net in self.networks if net.version == address.version)


def _host_of(url: str) -> str:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return (host or "").rstrip(".").lower()


def _apprise_host_of(url: str, label: str) -> str:
    """The host Apprise itself will post to, refused when another reading of the address disagrees.

    ``json://a@127.0.0.1:80@example.com/hook`` reads as example.com to ``urlsplit`` but as 127.0.0.1 to
    Apprise; such addresses (more than one ``@`` before the path, or any disagreement) are refused outright.
    """
    from apprise.utils.parse import parse_url

    authority = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if authority.count("@") > 1 or "\\" in authority:
        raise TargetRefused(f"The {label} has more than one '@' (or a backslash) in its host part; write it as "
                            "scheme://user:password@host/path with the password URL-encoded.")
    parsed = parse_url(url, verify_host=False) or {}
    apprise_host = str(parsed.get("host") or "").strip("[]").rstrip(".").lower()
    plain_host = _host_of(url)
    if not plain_host:
        return ""  # check_host says the host name is missing
    if apprise_host != plain_host:
        raise TargetRefused(f"The {label} is ambiguous (its host reads as {plain_host!r} and as {apprise_host!r}); "
                            "write it as scheme://host/path.")
    redirect = next((v for k, v in (parsed.get("qsd") or {}).items() if k.lower() == "redirect"), None)
    if redirect is not None and str(redirect).strip().lower() not in ("no", "false", "0", "off", "n"):
        raise TargetRefused(f"The {label} asks to follow redirects (redirect=...); revteam never follows a "
                            "webhook's redirects (one could lead to an internal host). Remove the parameter.")
    return apprise_host


def check_host(host: str, *, allowed: AllowedHosts, resolve: Resolver = system_resolver, label: str = "address") -> None:
    """Refuse ``host`` unless every address it resolves to is public (or the admins allowed it)."""
    if not host:
        raise TargetRefused(f"The {label} has no host name; use {SCHEME_HINTS['webhook']}.")
    if host in allowed.names:
        return
    try:
        found = resolve(host)
    except (OSError, UnicodeError) as e:
        raise TargetRefused(f"The host {host!r} of the {label} could not be resolved ({e}); check the spelling.") from None
    if not found:
        raise TargetRefused(f"The host {host!r} of the {label} has no address; check the spelling.")
    for text in found:
        address = ipaddress.ip_address(text)
        if not is_public(address) and not allowed.covers(address):
            raise TargetRefused(
                f"The host {host!r} of the {label} resolves to {address}, a private, loopback, link-local or "
                "otherwise non-public address; revteam does not send there. An admin can allow it with "
                "REVTEAM_WEBHOOK_ALLOW_HOSTS.")


def check_target(channel: str, url: str, *, role: str | None, allowed: AllowedHosts,
                 resolve: Resolver = system_resolver, label: str | None = None) -> None:
    """Refuse a chat or webhook address: wrong scheme for the channel, a channel the role may not use
    (``role=None``: not checked, as at send time), a vendor https address on another host, or a host
    that is not public."""
    label = label or f"{channel} address"
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if channel not in SCHEMES or scheme not in SCHEMES[channel]:
        raise TargetRefused(f"The {label} must look like {SCHEME_HINTS.get(channel, 'an Apprise URL')}.")
    roles = CHANNEL_ROLES.get(channel)
    if role is not None and roles is not None and role not in roles:
        raise TargetRefused(f"Only an admin can set a {channel} address (it can point anywhere); use Slack, Teams or "
                            "e-mail, or ask an admin to add the webhook.")
    host = _host_of(url)
    if scheme == "https":
        vendors = VENDOR_HOSTS.get(channel, ())
        if not any(host == v or (v.startswith(".") and host.endswith(v)) for v in vendors):
            raise TargetRefused(f"The {label} must be on {' or '.join(v.lstrip('.') for v in vendors)}; "
                                f"use {SCHEME_HINTS[channel]}.")
        return
    if scheme in WEBHOOK_SCHEMES:
        check_host(_apprise_host_of(url, label), allowed=allowed, resolve=resolve, label=label)
