"""Browser tier: the real app under uvicorn (background thread, free 127.0.0.1 port, small seeded
SQLite database) driven by Debian's chromium through Playwright. Never downloads a browser.

The seed is a small record plus the handoff (``tests/web/handoff_world.py`` with four weeks of
history); the app's clock is fixed at ``NOW`` so due times and reports are the same on every run.

Screenshots go to ``test-artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from revteam.config import Settings
from revteam.runtime import Runtime, build_runtime
from revteam.store.models import Contact, OwnerChange, StageChange, User
from tests.conftest import skip_or_fail
from tests.web.handoff_world import World, build_world
from tests.factories import make_account, make_campaign, make_contact, make_content, make_deal, make_touch, make_user

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "correct horse battery"
T0 = datetime(2026, 1, 12, 9, 0, tzinfo=timezone.utc)
NOW = datetime(2026, 3, 16, 14, 30, tzinfo=timezone.utc)  # Monday 10:30 in New York, the SLA's time zone

COMPANIES = [
    ("Acme Rockets", "acme-rockets.com", "aerospace", "enterprise", "EMEA", 4200),
    ("Globex Analytics", "globex.io", "software", "mid_market", "North America", 640),
    ("Initech Payroll", "initech.com", "fintech", "mid_market", "North America", 310),
    ("Umbrella Health", "umbrella-health.org", "healthcare", "enterprise", "EMEA", 12000),
    ("Soylent Foods", "soylent.co", "food_and_beverage", "smb", "APAC", 85),
    ("Stark Logistics", "stark-logistics.com", "logistics", "enterprise", "North America", 5100),
    ("Wayne Hospitality", "wayne-hospitality.com", "hospitality", "mid_market", "LATAM", 900),
    ("Tyrell Robotics", "tyrell.ai", "manufacturing", "smb", "APAC", 140),
]
FIRST = ["Ana", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kira", "Luis", "Mona",
         "Nils", "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tara"]
LAST = ["Ortega", "Okafor", "Nakamura", "Petrov", "Haddad", "Lindqvist", "Moreau", "Silva", "Kowalski", "Brennan"]
TITLES = ["VP Operations", "Head of Finance", "IT Director", "Procurement Lead", "COO", "Marketing Manager"]
STAGES = ["lead", "lead", "mql", "mql", "sal", "sql", "opportunity", "customer", "subscriber", "recycled"]
SOURCES = ["webinar", "paid_search", "organic_search", "event", "referral", "content_download"]


@dataclass
class Site:
    url: str
    runtime: Runtime
    contact_id: int
    account_id: int
    contacts: int  # how many contacts the seed made
    world: World


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(runtime: Runtime) -> tuple[int, int, World]:
    """Users for every role, a record big enough to page through and the handoff.

    Returns (contact id, account id, the handoff world)."""
    with runtime.sessions() as s:
        users = {
            "admin": make_user(s, role="admin", email="admin@revteam.test", name="Ada Admin"),
            "marketing": make_user(s, role="marketing", email="marketing@revteam.test", name="Maya Marketer"),
            "sdr": make_user(s, role="sdr", email="sdr@revteam.test", name="Sam Rivera"),
            "ae": make_user(s, role="ae", email="ae@revteam.test", name="Alex Chen"),
            "leader": make_user(s, role="leader", email="leader@revteam.test", name="Lee Morgan"),
        }
        campaign = make_campaign(s, name="Pricing 101 webinar", external_id="cmp-pricing-101")
        content = make_content(s, title="What does a CRM really cost?", external_id="cnt-crm-cost")
        accounts = [
            make_account(s, name=n, domain=d, industry=i, segment=seg, region=r, employees=e,
                         owner_id=users["ae"].id if k % 2 == 0 else None)
            for k, (n, d, i, seg, r, e) in enumerate(COMPANIES)
        ]
        contacts = []
        for k in range(64):
            first, last = FIRST[k % len(FIRST)], LAST[(k * 3) % len(LAST)]
            acct = accounts[k % len(accounts)]
            c = make_contact(
                s, email=f"{first.lower()}.{last.lower()}{k}@{acct.domain}", first_name=first, last_name=last,
                title=TITLES[k % len(TITLES)], account_id=acct.id, stage=STAGES[k % len(STAGES)],
                original_source=SOURCES[k % len(SOURCES)], stage_changed_at=T0 + timedelta(days=k),
                owner_id=users["sdr"].id if k % 3 == 0 else (users["ae"].id if k % 3 == 1 else None),
            )
            contacts.append(c)
        hero = contacts[0]
        hero.stage = "sql"
        touches = [("webinar_registered", 0), ("webinar_attended", 2), ("content_download", 5), ("page_view", 6),
                   ("pricing_request", 9), ("sales_call", 10), ("meeting", 14)]
        for t, d in touches:
            make_touch(s, hero, type=t, at=T0 + timedelta(days=d, hours=3), channel="webinar" if "webinar" in t else "web",
                       campaign_id=campaign.id if "webinar" in t else None,
                       content_id=content.id if t == "content_download" else None,
                       url="https://acme-rockets.com/pricing" if t == "page_view" else None,
                       actor_user_id=users["sdr"].id if t in ("sales_call", "meeting") else None)
        for frm, to, d, rule, who in (("lead", "mql", 5, "scoring", None), ("mql", "sal", 9, None, "sdr"),
                                      ("sal", "sql", 14, None, "sdr")):
            s.add(StageChange(contact_id=hero.id, from_stage=frm, to_stage=to, changed_at=T0 + timedelta(days=d, hours=4),
                              actor_rule=rule, actor_user_id=users[who].id if who else None,
                              reason="score 74 ≥ 60" if rule else None))
        s.add(OwnerChange(entity="contact", entity_id=hero.id, from_user_id=None, to_user_id=users["sdr"].id,
                          changed_at=T0 + timedelta(days=5, hours=5), reason="round robin (EMEA)"))
        for k, acct in enumerate(accounts):
            outcome = ("open", "won", "lost")[k % 3]
            make_deal(s, acct, amount=str(12000 + 9500 * k), outcome=outcome, name=f"{acct.name} platform",
                      owner_id=users["ae"].id, contacts=[contacts[k]] if k < 3 else [],
                      created_on=date(2026, 1, 5) + timedelta(days=4 * k),
                      expected_close_on=date(2026, 4, 30) if outcome == "open" else None,
                      closed_on=date(2026, 3, 1) + timedelta(days=k) if outcome != "open" else None,
                      lost_reason="chose a competitor" if outcome == "lost" else None, source="webinar")
        world = build_world(s, users, now=NOW, history=True)
        s.commit()
        return hero.id, accounts[0].id, world


@pytest.fixture(scope="session")
def live_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from revteam.web.app import create_app
    from revteam.web.deps import get_now

    db = tmp_path_factory.mktemp("browser") / "revteam.db"
    settings = Settings(database_url=f"sqlite:///{db}", env="test", page_size=20)
    runtime = build_runtime(settings)
    contact_id, account_id, world = seed(runtime)
    with runtime.sessions() as s:
        contacts = s.query(Contact).count()
    app = create_app(runtime)
    app.dependency_overrides[get_now] = lambda: NOW
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                            ws="none", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="revteam-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start for the browser tests")
        time.sleep(0.05)
    yield Site(f"http://127.0.0.1:{port}", runtime, contact_id, account_id, contacts, world)
    server.should_exit = True
    thread.join(timeout=10)
    runtime.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        skip_or_fail("browser", f"{CHROMIUM} is missing; install Debian's chromium (apt-get install chromium)")
    if shutil.which("chromium") is None and not os.access(CHROMIUM, os.X_OK):
        skip_or_fail("browser", f"{CHROMIUM} is not executable")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def user_email(role: str) -> str:
    return f"{role}@revteam.test"


__all__ = ["NOW", "PASSWORD", "Site", "User", "user_email"]
