"""The web app in a real browser at desktop (1280x800) and phone (390x844) widths.

Logs in as an SDR and as marketing, opens every main page, checks what each role sees, uploads a bad
CSV and reads the error table, opens the 404 page, and saves full-page screenshots of all of it to
``test-artifacts/screenshots/`` (``<role>-<page>-<width>.png``). Any browser console error (a script
error, a blocked resource, a Content-Security-Policy violation) fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, Site, user_email

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}

BAD_CONTACTS_CSV = (
    "email,first_name,last_name,stage,created_at\n"
    "zoe@initech.com,Zoe,Adams,lead,2026-02-01\n"
    "not-an-email,Yuri,Bell,lead,2026-02-02\n"
    "xena@initech.com,Xena,Cole,lead,2026-13-45\n"
)


class Tab:
    """A browser tab that remembers console errors."""

    def __init__(self, page: Any, width: int) -> None:
        self.page = page
        self.width = width
        self.errors: list[str] = []
        self.expected_status_paths: set[str] = set()  # pages opened on purpose that answer 403/404
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        if message.text.startswith("Failed to load resource") and any(url.endswith(p) for p in self.expected_status_paths):
            return
        self.errors.append(f"console {message.type}: {message.text} ({url})")

    def goto_expecting_error(self, path: str) -> Any:
        self.expected_status_paths.add(path)
        return self.page.goto(path)

    def shot(self, screenshots: Path, name: str) -> Path:
        path = screenshots / f"{name}-{self.width}.png"
        self.page.evaluate("window.scrollTo(0, 0)")  # the sticky top bar belongs at the top of a full-page shot
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture(params=list(VIEWPORTS))
def tab(request: pytest.FixtureRequest, browser: Any, live_site: Site) -> Iterator[Tab]:
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_site.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    t = Tab(page, width)
    yield t
    context.close()
    assert not t.errors, "browser console errors:\n" + "\n".join(t.errors)


def log_in(tab: Tab, role: str) -> None:
    page = tab.page
    page.goto("/login")
    page.fill('input[name="email"]', user_email(role))
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url("**/")
    assert page.locator("h1").inner_text() == "Revenue record"


def nav_labels(tab: Tab) -> list[str]:
    page = tab.page
    toggle = page.locator(".menu-toggle")
    if toggle.is_visible():  # phone: the menu is collapsed behind a button
        assert not page.locator("#mainnav").is_visible()
        toggle.click()
        assert page.locator("#mainnav").is_visible()
        labels = page.locator(".navlinks a").all_inner_texts()
        toggle.click()
        return labels
    return page.locator(".navlinks a").all_inner_texts()


def no_horizontal_scroll(tab: Tab) -> None:
    overflow = tab.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at {tab.width}px"


@pytest.mark.parametrize("role", ["sdr", "marketing"])
def test_main_pages(tab: Tab, live_site: Site, screenshots: Path, role: str) -> None:
    page = tab.page
    log_in(tab, role)
    labels = nav_labels(tab)
    assert labels[:4] == ["Home", "Accounts", "Contacts", "Deals"]
    assert ("Import" in labels) == (role == "marketing")
    assert "Users" not in labels
    assert page.locator(".bars .bar-row").count() >= 8
    no_horizontal_scroll(tab)
    tab.shot(screenshots, f"{role}-home")

    page.goto("/accounts")
    assert page.locator("h1").inner_text() == "Accounts"
    owner = page.locator('select[name="owner"]').input_value()
    assert owner == ("me" if role == "sdr" else "any")
    page.select_option('select[name="owner"]', "any")
    page.wait_for_url("**owner=any**")
    page.wait_for_selector("text=Acme Rockets")
    no_horizontal_scroll(tab)
    tab.shot(screenshots, f"{role}-accounts")

    page.goto("/contacts?owner=any")
    assert page.locator(".pager-info").inner_text().endswith(f"of {live_site.contacts} contacts")
    page.fill('input[name="q"]', "Ortega")  # htmx swaps the results in place and updates the address
    page.wait_for_url("**q=Ortega**")
    page.wait_for_function("document.querySelector('.pager-info').innerText.includes('contacts') && "
                           f"!document.querySelector('.pager-info').innerText.includes('of {live_site.contacts}')")
    assert all("Ortega" in n for n in page.locator("td.primary-cell a").all_inner_texts())
    page.goto("/contacts?owner=any")
    no_horizontal_scroll(tab)
    tab.shot(screenshots, f"{role}-contacts")

    page.goto("/deals?owner=any")
    assert page.locator("h1").inner_text() == "Deals"
    assert "$" in page.locator("td.money").first.inner_text()
    no_horizontal_scroll(tab)
    tab.shot(screenshots, f"{role}-deals")

    page.goto(f"/contacts/{live_site.contact_id}")
    assert page.locator(".event").count() >= 10
    assert page.locator(".ev-label", has_text="Stage change").count() == 3
    no_horizontal_scroll(tab)
    tab.shot(screenshots, f"{role}-contact-timeline")

    page.goto(f"/accounts/{live_site.account_id}")
    assert page.locator("h1").inner_text() == "Acme Rockets"
    assert page.locator(".people li").count() >= 1
    no_horizontal_scroll(tab)
    tab.shot(screenshots, f"{role}-account-timeline")

    response = tab.goto_expecting_error("/imports") if role == "sdr" else page.goto("/imports")
    assert response is not None
    if role == "sdr":
        assert response.status == 403
        assert "cannot open Import" in page.locator(".error-message").inner_text()
        tab.shot(screenshots, f"{role}-import-forbidden")
    else:
        assert response.status == 200
        tab.shot(screenshots, f"{role}-import")

    response = tab.goto_expecting_error("/no-such-page")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Not found"
    no_horizontal_scroll(tab)
    tab.shot(screenshots, f"{role}-404")

    if tab.page.locator(".menu-toggle").is_visible():
        page.click(".menu-toggle")
    page.click("text=Log out")
    page.wait_for_url("**/login")


def test_import_shows_row_errors(tab: Tab, screenshots: Path) -> None:
    page = tab.page
    page.goto("/login")
    no_horizontal_scroll(tab)
    tab.shot(screenshots, "login")
    log_in(tab, "marketing")
    page.goto("/imports")
    tab.expected_status_paths.add("/imports")  # the rejected upload answers 422, on purpose
    page.select_option('select[name="kind"]', "contacts")
    page.set_input_files('input[name="file"]', {"name": "new-leads.csv", "mimeType": "text/csv",
                                                  "buffer": BAD_CONTACTS_CSV.encode()})
    page.click('form[action="/imports"] button[type="submit"]')
    page.wait_for_selector("text=Nothing was written")
    rows = page.locator(".report-bad .errors-table tbody tr")
    assert rows.count() == 2
    table = page.locator(".report-bad .errors-table").inner_text()
    assert "not-an-email" in table and "2026-13-45" in table
    assert "email" in table and "created_at" in table
    assert page.locator(".report-bad").get_by_text("Rows to fix").is_visible()
    assert "new-leads.csv" in page.locator("td.file").first.inner_text()  # the rejected run is listed
    no_horizontal_scroll(tab)
    tab.shot(screenshots, "marketing-import-errors")


def test_admin_users_and_api_docs(tab: Tab, screenshots: Path) -> None:
    """Admins manage people and tokens; the vendored Swagger UI renders under the strict CSP."""
    page = tab.page
    log_in(tab, "admin")
    assert "Users" in nav_labels(tab)
    page.goto("/users")
    assert page.locator("h1").inner_text() == "Users and access"
    add = page.locator('form[action="/users"]')  # tokens an admin issues are for service accounts
    add.locator('input[name="email"]').fill(f"crm-sync-{tab.width}@revteam.test")
    add.locator('input[name="name"]').fill(f"CRM sync {tab.width}")
    add.locator('select[name="role"]').select_option("marketing")
    add.locator('input[name="service"]').check()
    add.get_by_role("button", name="Add user").click()
    page.wait_for_selector("text=Service account added")
    row = page.locator("tr", has_text=f"crm-sync-{tab.width}@revteam.test")
    row.locator('input[name="name"]').fill(f"crm sync {tab.width}")
    row.get_by_role("button", name="Issue token").click()
    page.wait_for_selector("#new-token")
    assert page.locator("#new-token").inner_text().startswith("rvt_")
    no_horizontal_scroll(tab)
    tab.shot(screenshots, "admin-users")

    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=15_000)
    assert page.locator(".opblock-summary-path", has_text="/api/v1/touchpoints").count() == 1
    tab.shot(screenshots, "admin-api-docs")
