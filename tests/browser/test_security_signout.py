"""In Chromium: signing out in one tab empties another tab of the same account without a tap there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in, tap_sign_out, wait_idle
from tests.browser.test_security_idle import CLIENT, PASSWORD, TRAINER, open_client, seed_one_trainer_and_client

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seed_database():
    return seed_one_trainer_and_client


@pytest.fixture(scope="module")
def app_env():
    return {"BACKCARE_DEMO": "0"}  # the default idle limit: only the sign-out ends the other tab


def test_signing_out_in_one_tab_empties_the_other_tab(tab, app_url):
    first, second = tab.new_page(), tab.new_page()
    sign_in(first, app_url, TRAINER, PASSWORD)
    sign_in(second, app_url, TRAINER, PASSWORD)
    open_client(second)

    tap_sign_out(first)
    wait_idle(first)

    expect(second.get_by_label("Username")).to_be_visible(timeout=30_000)  # its timer noticed, no tap
    assert CLIENT not in second.inner_text("body")
