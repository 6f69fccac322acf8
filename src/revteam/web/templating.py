"""Jinja2 templates: the environment, the filters every page uses, and ``render``.

``render`` adds what the base layout needs (the person, their menu, the CSRF token) so routes pass
only their own data. Autoescaping is on for every template.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import re

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from revteam import __version__
from revteam.domain.lifecycle import STAGE_LABELS
from revteam.services.handoff.inbox import duration_text, minutes_text
from revteam.web import policy

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CNY": "¥", "AUD": "A$", "CAD": "C$"}


def money(amount: Decimal | float | int | None, currency: str | None = "USD", *, short: bool = False) -> str:
    """``money(24000, "USD")`` → ``$24,000``; ``short=True`` → ``$24K``; unknown currency → ``SEK 24,000``."""
    if amount is None:
        return "–"
    value = float(amount)
    code = (currency or "USD").upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    if short and abs(value) >= 1000:
        for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(value) >= div:
                text = f"{value / div:,.1f}".rstrip("0").rstrip(".") + suffix
                break
    else:
        text = f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"
    return f"{symbol}{text}" if symbol else f"{code} {text}"


def number(value: int | float | None) -> str:
    return "–" if value is None else f"{value:,}"


def when(value: datetime | date | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime(fmt)
    return value.strftime("%Y-%m-%d")


def day(value: datetime | date | str | None) -> str:
    return when(value, "%Y-%m-%d")


ACRONYMS = {"smb", "emea", "apac", "latam", "na", "mql", "sql", "sal", "crm", "b2b", "api", "url", "it", "seo", "ppc",
            "usd", "eur", "gbp", "csv", "jsonl"}


def humanize(value: str | None) -> str:
    """``"mid_market"`` → ``"Mid market"``; known acronyms stay upper case (``"smb"`` → ``"SMB"``)."""
    if not value:
        return "–"
    words = str(value).replace("_", " ").split(" ")
    words = [w.upper() if w.lower() in ACRONYMS else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def sentence(value: str | None) -> str:
    """Upper-case the first letter only: ``"page view (campaign 'X')"`` → ``"Page view (campaign 'X')"``."""
    text = str(value or "")
    return text[:1].upper() + text[1:]


def stage_label(key: str | None, labels: dict[str, str] | None = None) -> str:
    if not key:
        return "–"
    return (labels or {}).get(key) or STAGE_LABELS.get(key) or humanize(key)


def pct(value: float | None, digits: int = 0) -> str:
    """``0.916`` → ``92%``; None (nothing to measure) → ``–``."""
    if value is None:
        return "–"
    return f"{value * 100:.{digits}f}%"


def local(value: datetime | str | None, tz: Any = None, fmt: str = "%a %d %b %H:%M") -> str:
    """A UTC time shown in ``tz`` (a ZoneInfo; the SLA's time zone on the handoff pages)."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):  # context packets store times as ISO text
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    shown = value.astimezone(tz) if tz is not None else value
    return shown.strftime(fmt)


def duration(minutes: float | None) -> str:
    return minutes_text(minutes)


_LEADING_POINTS = re.compile(r"^[+-]\d+(\.\d+)?\s+")


def reason_text(value: str | None) -> str:
    """A score reason without the points it starts with (they are shown beside it)."""
    return _LEADING_POINTS.sub("", str(value or ""))


def day_after(value: datetime, days: int = 1) -> str:
    """The ISO date ``days`` after ``value`` (the earliest a recycled lead may come back)."""
    from datetime import timedelta

    return (value + timedelta(days=days)).date().isoformat()


def between(start: datetime | None, end: datetime | None) -> str:
    """Wall-clock time from ``start`` to ``end`` in words (``2 h 5 min``)."""
    if start is None or end is None:
        return "–"
    return duration_text(end - start)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``plural(1, "lead")`` → ``1 lead``; ``plural(3, "lead")`` → ``3 leads``."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


_TICKED = re.compile(r"`([^`]{1,200})`")


def ticks(value: str | None) -> Markup:
    """Escape a message, then show its `backticked` names as code: error messages name columns that way."""
    return Markup(_TICKED.sub(lambda m: f"<code>{m.group(1)}</code>", str(escape(value or ""))))


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATE_DIR), autoescape=select_autoescape(default=True))
    env.filters.update(money=money, number=number, when=when, day=day, humanize=humanize, sentence=sentence, ticks=ticks,
                       stage_label=stage_label, pct=pct, local=local, duration=duration,
                       reason_text=reason_text)
    env.globals.update(plural=plural, day_after=day_after, between=between)
    env.globals["version"] = __version__
    return env


def _base_context(request: Request) -> dict[str, Any]:
    principal = getattr(request.state, "principal", None)
    user = principal.user if principal is not None else None
    route = request.scope.get("route")
    current = getattr(route, "name", "") or ""
    nav = [
        {"name": name, "label": label, "path": request.app.url_path_for(name), "active": policy.nav_active(name, current)}
        for name, label in policy.nav_for(user.role if user else None)
    ]
    tabs = [
        {"name": name, "label": label, "path": request.app.url_path_for(name), "active": current.split(".")[0] == name.split(".")[0]}
        for name, label in policy.tabs_for(user.role if user else None)
    ]

    def path_for(name: str, /, **params: Any) -> str:
        return str(request.app.url_path_for(name, **{k: str(v) for k, v in params.items()}))

    def static(path: str) -> str:
        return f"/static/{path}?v={__version__}"

    def with_query(**changes: Any) -> str:
        """The current URL's query string with some parameters changed (None removes one)."""
        params = dict(request.query_params)
        for k, v in changes.items():
            if v is None or v == "":
                params.pop(k, None)
            else:
                params[k] = str(v)
        return "?" + urlencode(params) if params else "?"

    def data_left_out() -> list[dict[str, Any]]:
        """What the analytics left out of the data (dates outside 1900-2199), for the pages' warning."""
        runtime = getattr(request.app.state, "runtime", None)
        try:
            return runtime.desk.out_of_range() if runtime is not None else []
        except Exception:  # noqa: BLE001 - a warning must never break the page it warns on
            return []

    return {
        "me": user,
        "nav": nav,
        "data_left_out": data_left_out,
        "handoff_tabs": tabs,
        "csrf_token": principal.csrf_token if principal is not None else None,
        "current_route": current,
        "path_for": path_for,
        "static": static,
        "with_query": with_query,
        "can": lambda name: user is not None and policy.allows(user.role, name),
    }


templates = Jinja2Templates(env=_environment(), context_processors=[_base_context])


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context or {}, status_code=status, headers=headers)
