"""Who is asking, and when: what the access check (``web/deps.py``) finds out and the error pages
(``web/errors.py``) show.

Both depend on this module and not on each other: the check decides who is asking and raises
``LoginRequired`` for an anonymous page request; the error handler turns that into the redirect to the
log-in page and, for any other error page, shows the person's name and menu from the ``Principal``.

* ``Principal``: the user, the web session that proved it (cookie) or ``token`` (bearer) or ``public``.
* ``get_now``: the app's clock; tests override it (``app.dependency_overrides[get_now]``), and
  ``app_now`` reads the same clock outside a route (an error page), so a session is live or not for both.
* ``is_api_path``, ``safe_next``, ``login_next``, ``login_url``: where a request is and where to go back
  to after logging in (a local path only, never another site).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

from starlette.requests import Request

from revteam.errors import Unauthenticated
from revteam.services.people import User, WebSession


@dataclass
class Principal:
    """Who is asking, and how they proved it: ``session`` (cookie), ``token`` (bearer) or ``public``."""

    user: User | None
    web_session: WebSession | None
    via: str
    route_name: str
    token_scope: str | None = None  # the API token's scope (``read``, ``ingest``, ``full``) when via == "token"
    token_id: int | None = None

    @property
    def csrf_token(self) -> str | None:
        return self.web_session.csrf_token if self.web_session else None


class LoginRequired(Unauthenticated):
    code = "login_required"

    def __init__(self, next_path: str = "/") -> None:
        super().__init__("Log in to open this page.")
        self.next_path = next_path


def get_now() -> datetime:
    """The clock. Tests override it with ``app.dependency_overrides[get_now]``."""
    return datetime.now(timezone.utc)


def app_now(app: object) -> datetime:
    """The app's clock outside a route's dependencies (the error page): the override when there is one."""
    overrides = getattr(app, "dependency_overrides", {}) or {}
    return overrides.get(get_now, get_now)()


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def safe_next(value: str | None) -> str:
    """A local path to go to after logging in; anything else (another site, a scheme) becomes ``/``."""
    if not value or len(value) > 2000:
        return "/"
    if any(ord(c) < 33 or c == "\\" for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/"
    return value


def login_next(request: Request) -> str:
    if request.method not in ("GET", "HEAD"):
        return "/"
    path = request.url.path
    return safe_next(path + (f"?{request.url.query}" if request.url.query else ""))


def login_url(next_path: str) -> str:
    return "/login" if next_path == "/" else f"/login?next={quote(next_path, safe='/')}"
