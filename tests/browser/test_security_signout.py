"""In Chromium: signing out in one tab empties another tab of the same account without a tap there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backcare.ui.signin import SIGNED_OUT_ELSEWHERE
from tests.browser.conftest import sign_in, tap_sign_out, wait_idle
from tests.browser.test_security_idle import CLIENT, PASSWORD, TRAINER, open_client, seed_one_trainer_and_client

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seed_database():
    return seed_one_trainer_and_client


@pytest.fixture(scope="module")
def app_env():
    # An idle limit of 30 s: the page's timer then asks every 7.5 s (a quarter of it) instead of every 15 s, and
    # the sign-out below comes long before either tab is idle (the notice checked below says which ended it).
    return {"BACKCARE_DEMO": "0", "BACKCARE_IDLE_MINUTES": "0.5"}


def test_signing_out_in_one_tab_empties_the_other_tab(tab, app_url):
    # Two tabs of one window: the one in use is brought to the front, as a person switching tabs does (a hidden
    # tab draws no frames, so waiting on it for the app's signals took some 10 s a step).
    first, second = tab.new_page(), tab.new_page()
    first.bring_to_front()
    sign_in(first, app_url, TRAINER, PASSWORD)
    second.bring_to_front()
    sign_in(second, app_url, TRAINER, PASSWORD)
    open_client(second)

    first.bring_to_front()
    tap_sign_out(first)
    wait_idle(first)
    second.bring_to_front()  # looked at again, with no tap

    expect(second.get_by_label("Username")).to_be_visible(timeout=30_000)  # its timer noticed, no tap
    expect(second.get_by_text(SIGNED_OUT_ELSEWHERE)).to_be_visible()  # the sign-out ended it, not the idle limit
    assert CLIENT not in second.inner_text("body")
