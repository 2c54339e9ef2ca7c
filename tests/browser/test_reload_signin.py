"""Issue 14: a reload (tablets reload background tabs) keeps the trainer signed in, with nothing secret in the
URL; after Sign out a reload shows the sign-in again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backcare import store
from backcare.auth import SYSTEM
from tests.browser.conftest import sign_in, snap, tap_sign_out, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seed_database():
    def seed(path):
        db = store.open_database(path)
        gym = store.create_gym(db, actor=SYSTEM, name="North Gym")
        store.create_user(
            db,
            actor=SYSTEM,
            username="tina",
            display_name="Tina",
            role="trainer",
            gym_id=gym.id,
            contact="tina@x.example",
            password="tina-pass-1",
        )
        db.close()

    return seed


def test_a_reload_keeps_the_sign_in_and_sign_out_ends_it(page, app_url):
    sign_in(page, app_url, "tina", "tina-pass-1")
    expect(page.get_by_role("heading", name="Triage a back-pain report")).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "backcare_session")
    assert cookie["sameSite"] == "Strict"
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Triage a back-pain report")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_be_attached()
    assert cookie["value"].split(".")[0] not in page.url
    snap(page, "after-reload")

    tap_sign_out(page)
    wait_idle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "backcare_session" and c["value"]]
    snap(page, "after-sign-out-and-reload")
