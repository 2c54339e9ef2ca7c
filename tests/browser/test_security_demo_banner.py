"""In Chromium: every page of a demo database, for every demo account, says it is a demo."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backcare import store
from backcare.store import deployment
from backcare.store.demo import DEMO_PASSWORD, build_demo
from tests.browser.conftest import open_page, sign_in, tap_sign_out, wait_idle

pytestmark = pytest.mark.browser
ACCOUNTS: list[deployment.ListedAccount] = []


@pytest.fixture(scope="module")
def app_env():
    return {"BACKCARE_DEMO": "1"}


@pytest.fixture(scope="module")
def seed_database():
    def seed(path):
        with store.open_database(path) as db:
            build_demo(db, clients=6, weeks=2)
            ACCOUNTS[:] = deployment.demo_info(db).accounts

    return seed


def test_every_page_of_every_demo_account_shows_the_demo_banner(browser, app_url):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        page.goto(app_url)
        expect(page.get_by_test_id("bc-demo")).to_be_visible()  # the sign-in page
        visited = set()
        for account in ACCOUNTS:
            sign_in(page, app_url, account.username, DEMO_PASSWORD)
            links = page.get_by_test_id("stTopNavLink")  # issue 14: a top bar
            titles = [links.nth(i).inner_text().strip().splitlines()[-1] for i in range(links.count())]  # no icon
            if not titles:  # a role with one page has no page list: its page is the one shown
                expect(page.get_by_test_id("bc-demo")).to_contain_text("Demo database")
                visited.add(page.locator("h1").first.inner_text().strip())
            for title in titles:
                open_page(page, title)
                expect(page.get_by_test_id("bc-demo")).to_be_visible()
                expect(page.get_by_test_id("bc-demo")).to_contain_text("Demo database")
                visited.add(title)
            tap_sign_out(page)
            wait_idle(page)
        assert len(visited) >= 7, visited  # every page (one-page roles by their heading)
    finally:
        context.close()
