"""In Chromium: a client's record on screen disappears when the session idles out, with nobody tapping
(the page's own timer asks the server). Its world is shared with test_security_signout.py."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backcare import store
from backcare.auth import SYSTEM
from tests.browser.conftest import sign_in, wait_idle

pytestmark = pytest.mark.browser

TRAINER, PASSWORD = "tina", "tablet passw0rd"
CLIENT = "Philippa Onscreen"
IDLE_SECONDS = 8


@pytest.fixture(scope="module")
def app_env():
    return {"BACKCARE_DEMO": "0", "BACKCARE_IDLE_MINUTES": str(IDLE_SECONDS / 60)}


def seed_one_trainer_and_client(path):
    """One gym, the trainer with a password, and one client (for the session tests in two modules)."""
    with store.open_database(path) as db:
        gym = store.create_gym(db, actor=SYSTEM, name="North Gym")
        tina = store.create_user(
            db,
            actor=SYSTEM,
            username=TRAINER,
            display_name="Tina Trainer",
            role="trainer",
            gym_id=gym.id,
            password=PASSWORD,
        )
        store.create_client(db, actor=SYSTEM, gym_id=gym.id, name=CLIENT, trainer_id=tina.id, consent_by=TRAINER)


@pytest.fixture(scope="module")
def seed_database():
    return seed_one_trainer_and_client


def open_client(page) -> None:
    page.get_by_label("Find a client").fill(CLIENT)
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Use this client").click()
    wait_idle(page)
    expect(page.get_by_text(CLIENT).first).to_be_visible()


def test_an_idle_session_ends_and_the_client_leaves_the_screen_without_a_tap(tab, app_url):
    page = tab.new_page()
    sign_in(page, app_url, TRAINER, PASSWORD)
    open_client(page)

    # no tap from here on: the app's own timer signs out and redraws the page as the sign-in
    expect(page.get_by_label("Username")).to_be_visible(timeout=(IDLE_SECONDS + 20) * 1000)
    expect(page.get_by_text("without activity")).to_be_visible()
    assert CLIENT not in page.inner_text("body")
