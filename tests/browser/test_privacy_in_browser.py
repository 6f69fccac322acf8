"""An admin erases a person through the privacy desk in a real browser, at 1280 px and at 390 px.

The site is this module's own (a small seeded SQLite database under uvicorn), so erasing changes nothing
that the other browser tests count. Each width erases its own person: find by a ``+tag`` address, read
what is held, try a wrong confirmation (refused, the person still there), type ERASE, see the tombstones,
and find nobody on the contacts page. Screenshots go to ``test-artifacts/screenshots/privacy-*.png``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from revteam.config import Settings
from revteam.runtime import build_runtime
from tests.browser.conftest import PASSWORD, _free_port
from tests.factories import make_account, make_contact, make_touch, make_user

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
PEOPLE = {"desktop": ("Ines", "Vantongeren"), "phone": ("Oskar", "Brandvold")}


@pytest.fixture(scope="module")
def privacy_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import uvicorn

    from revteam.web.app import create_app

    db = tmp_path_factory.mktemp("privacy-browser") / "revteam.db"
    runtime = build_runtime(Settings(database_url=f"sqlite:///{db}", env="test"))
    with runtime.sessions() as s:
        make_user(s, role="admin", email="admin@revteam.test", name="Ada Admin", password=PASSWORD)
        acct = make_account(s, name="Fjord Freight", domain="fjord-freight.no")
        make_contact(s, email="kari.nordmann@fjord-freight.no", first_name="Kari", last_name="Nordmann",
                     account_id=acct.id)
        for first, last in PEOPLE.values():
            c = make_contact(s, email=f"{first.lower()}.{last.lower()}@fjord-freight.no", first_name=first,
                             last_name=last, account_id=acct.id, source_system="hubspot", external_id=f"HS-{last}")
            make_touch(s, c, url="https://fjord-freight.no/pricing")
        s.commit()
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=_free_port(),
                                           log_level="warning", lifespan="off", ws="none", access_log=False))
    thread = threading.Thread(target=server.run, name="revteam-privacy-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start for the privacy browser test")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{server.config.port}"
    server.should_exit = True
    thread.join(timeout=10)
    runtime.engine.dispose()


def no_horizontal_scroll(page: Any, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at {width}px"


def shot(page: Any, screenshots: Path, name: str, width: int) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / f"privacy-{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_an_admin_erases_a_person_through_the_page(browser: Any, privacy_site: str, screenshots: Path,
                                                   viewport: str) -> None:
    width, height = VIEWPORTS[viewport]
    first, last = PEOPLE[viewport]
    email = f"{first.lower()}.{last.lower()}@fjord-freight.no"
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=privacy_site)
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 422" not in m.text else None)

    page.goto("/login")
    page.fill('input[name="email"]', "admin@revteam.test")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/")
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():  # phone: the menu is behind a button
        toggle.click()
    page.click('.navlinks a[href="/privacy"]')
    page.wait_for_url("**/privacy")
    assert page.locator("h1").inner_text() == "Personal data requests"

    tagged = f"{first.lower()}.{last.lower()}+newsletter@fjord-freight.no"
    page.fill('input[name="email"]', tagged)
    page.click('form[role="search"] button[type="submit"]')
    page.wait_for_selector("#held")
    held = page.locator("#held").inner_text()
    assert f"{first} {last}" in held and email in held
    assert page.locator('#held form.privacy-export button:has-text("Download export (JSON)")').count() == 1
    assert "email=" not in page.url  # the find form is a POST: the address stays out of the URL
    no_horizontal_scroll(page, width)
    shot(page, screenshots, "found", width)

    page.fill('input[name="confirmation"]', "yes please")
    page.click('.privacy-erase button[type="submit"]')
    page.wait_for_selector("#privacy-error")
    assert "The confirmation did not match" in page.locator("#privacy-error").inner_text()
    assert f"{first} {last}" in page.locator("#held").inner_text()  # still there, nothing erased
    shot(page, screenshots, "refused", width)

    page.fill('input[name="confirmation"]', "ERASE")
    page.click('.privacy-erase button[type="submit"]')
    page.wait_for_url("**/privacy?notice=erased")
    assert "Erased. Only hashes" in page.locator('[role="status"]').inner_text()
    stones = page.locator("section[aria-labelledby='stones-h'] tbody tr")
    assert stones.count() >= 2  # the mailbox and the HubSpot record
    body = page.locator("body").inner_text().lower()
    assert last.lower() not in body and first.lower() not in body
    no_horizontal_scroll(page, width)
    shot(page, screenshots, "erased", width)

    page.goto(f"/contacts?owner=any&q={last}")
    assert last not in page.locator("main").inner_text()
    page.goto("/contacts?owner=any&q=Nordmann")
    assert "Nordmann" in page.locator("main").inner_text()  # everyone else is kept
    context.close()
    assert not errors, "browser console errors:\n" + "\n".join(errors)
