"""The analytics pages (issue #4) in a real browser at 1280 and 390 px: funnel (overall and by source),
attribution (won revenue and conversions to MQL) and one deal's credit, content ROI (with its model picker) and one piece, revenue and the
forecast fan chart. Each is photographed (``leader-<page>-<width>.png``); nothing may scroll sideways and
the console stays clean.

The module adds two years of closed deals and a target to the shared site so the forecast has history
to learn from; it sorts after the other browser modules, so their counts are not disturbed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from revteam.store.models import Account, Deal, Target
from tests.browser.conftest import Site
from tests.browser.test_pages_in_browser import VIEWPORTS, Tab, log_in, no_horizontal_scroll
from tests.factories import make_deal

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def history(live_site: Site) -> None:
    with live_site.runtime.sessions() as s:
        if s.scalar(select(Deal.id).where(Deal.name == "History 0")) is None:
            acct = s.get(Account, live_site.account_id)
            for i in range(24):
                closed = date(2024, 3, 5) + timedelta(days=30 * i)
                make_deal(s, acct, amount=str(30000 + 4000 * (i % 5)), outcome="won" if i % 3 else "lost",
                          name=f"History {i}", created_on=closed - timedelta(days=40), closed_on=closed)
            for month in range(1, 4):
                s.add(Target(metric="won_revenue", period_start=date(2026, month, 1),
                             period_end=date(2026, month + 1, 1) - timedelta(days=1), value=Decimal("90000")))
            s.commit()


@pytest.fixture(params=list(VIEWPORTS))
def leader(request: pytest.FixtureRequest, browser: Any, live_site: Site, history: None) -> Iterator[Tab]:
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=live_site.url)
    page = context.new_page()
    page.set_default_timeout(20_000)
    tab = Tab(page, width)
    log_in(tab, "leader")
    yield tab
    context.close()
    assert not tab.errors, "browser console errors:\n" + "\n".join(tab.errors)


def test_every_analytics_page_at_both_widths(leader: Tab, screenshots: Path) -> None:
    page = leader.page
    page.goto("/")
    assert page.locator("a[href='/funnel']", has_text="Analytics").count() == 1  # in the menu (folded on a phone)
    page.goto("/funnel")
    assert page.locator("h1").inner_text() == "Funnel"
    assert page.locator(".funnel-bars .hbar").count() >= 5
    no_horizontal_scroll(leader)
    leader.shot(screenshots, "leader-funnel")

    page.goto("/funnel?by=source")
    assert page.locator("table.funnel-groups tbody tr").count() >= 2
    no_horizontal_scroll(leader)
    leader.shot(screenshots, "leader-funnel-by-source")

    page.goto("/funnel?by=shoe_size")
    assert "Unknown breakdown" in page.locator("[role=alert]").inner_text()
    leader.errors = [e for e in leader.errors if "status of 422" not in e]  # the answer to bad input, on purpose

    page.goto("/attribution?grain=channel&model=w_shaped")
    assert page.locator("h1").inner_text() == "Attribution"
    assert page.locator("table.attribution-table tbody tr").count() >= 1
    no_horizontal_scroll(leader)
    leader.shot(screenshots, "leader-attribution")
    page.locator(".deal-links a").first.click()
    page.wait_for_url("**/attribution/deals/*")
    assert page.locator("table tbody tr").count() >= 1
    no_horizontal_scroll(leader)
    leader.shot(screenshots, "leader-attribution-deal")

    page.goto("/attribution?grain=channel&model=w_shaped")
    page.locator("select[name=stage]").select_option("mql")  # What to credit: conversions to MQL
    page.locator("form.analytics-form button[type=submit]").click()
    page.wait_for_url("**/attribution?*stage=mql*")
    assert "Credited: conversions to Marketing-qualified (MQL)" in page.locator("#credited-what").inner_text()
    assert page.locator("table.attribution-table thead th", has_text="Sourced").count() == 0
    assert page.locator("table.attribution-table tbody tr").count() >= 1
    no_horizontal_scroll(leader)
    leader.shot(screenshots, "leader-attribution-mql")

    page.goto("/content")
    assert page.locator("table.content-table tbody tr").count() >= 1
    assert page.locator("table.content-table thead th", has_text="Credited (W-shaped)").count() == 1
    assert page.locator("#month-h").inner_text().startswith("Top 5 by revenue, ")  # beside the weekly top five
    assert page.locator(".top-fives .hbars").count() == 2
    no_horizontal_scroll(leader)
    leader.shot(screenshots, "leader-content")
    page.locator("select[name=model]").select_option("linear")  # the model picker
    page.locator("select[name=sort]").select_option("credited")
    page.locator("form.analytics-form button[type=submit]").click()
    page.wait_for_url("**/content?*model=linear*")
    assert page.locator("table.content-table thead th", has_text="Credited (Linear)").count() == 1
    no_horizontal_scroll(leader)
    leader.shot(screenshots, "leader-content-linear")
    page.locator("table.content-table tbody tr a").first.click()
    page.wait_for_url("**/content/*")
    assert page.locator(".hbars .hbar").count() >= 10  # one bar per model
    leader.shot(screenshots, "leader-content-piece")

    page.goto("/forecast")
    assert page.locator("h1").inner_text() == "Revenue and forecast"
    assert page.locator("svg.fan").count() == 2
    box = page.locator("svg.fan").first.bounding_box()
    assert box is not None and box["width"] >= 300  # readable on a phone too
    no_horizontal_scroll(leader)
    leader.shot(screenshots, "leader-forecast")
    page.locator("svg.fan").first.screenshot(path=str(screenshots / f"leader-forecast-fan-{leader.width}.png"))
