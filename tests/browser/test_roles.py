"""Each role signs in and reaches only its own pages; a page outside the role is not reachable."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from backcare import store
from backcare.auth import SYSTEM
from tests.browser.conftest import assert_no_sideways_scroll, sign_in, snap, wait_idle

# One orientation: the steps do not depend on the layout, which test_tablet_fit.py measures at both.
pytestmark = [pytest.mark.browser, pytest.mark.orientations("portrait")]

ACCOUNTS = {
    "trainer": ("tina", "tina-pass-1", ["Triage", "Client history", "Plans"], "Triage a back-pain report"),
    "clinic": ("cleo", "cleo-pass-1", ["Referral queue"], "Referral queue"),
    "manager": ("max", "max-pass-11", ["Trends"], "Trends"),
    "admin": ("ada", "ada-pass-111", ["People and gyms", "Audit log", "Trends"], "People and gyms"),
}


@pytest.fixture(scope="module")
def seed_database():
    def seed(path):
        db = store.open_database(path)
        gym = store.create_gym(db, actor=SYSTEM, name="North Gym")
        for role, (username, password, _, _) in ACCOUNTS.items():
            store.create_user(
                db,
                actor=SYSTEM,
                username=username,
                display_name=username.title(),
                role=role,
                gym_id=gym.id if role == "trainer" else None,
                contact=f"{username}@x.example",
                password=password,
            )
        db.close()

    return seed


def nav_titles(page) -> list[str]:
    links = page.get_by_test_id("stTopNavLink")
    return [links.nth(i).inner_text().strip() for i in range(links.count())]


@pytest.mark.parametrize("role", list(ACCOUNTS))
def test_each_role_reaches_only_its_pages(page, app_url, role):
    username, password, titles, heading = ACCOUNTS[role]
    page.goto(app_url)
    # The module's first test meets the app's first run (imports, the database opened), which on a busy
    # two-core machine (browser tests in parallel) can outlast the default 20 s: wait for the form itself.
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=60_000)
    wait_idle(page)
    assert nav_titles(page) == []  # signed out: the sign-in form only
    sign_in(page, app_url, username, password)
    expect(page.get_by_text(f"Signed in as {username}")).to_be_attached()
    # Streamlit shows no navigation for a role with a single page; the page itself is the proof.
    assert [t.split("\n")[-1] for t in nav_titles(page)] == (titles if len(titles) > 1 else [])
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    assert_no_sideways_scroll(page)
    snap(page, f"{role}-home")

    # A page of another role, asked for by address, is not served. The address opens a new browser session,
    # which the sign-in cookie resumes (issue 14): the visitor is on their own role's page, still signed in.
    other = {"trainer": "referrals", "clinic": "triage", "manager": "history", "admin": "triage"}[role]
    page.goto(f"{app_url}/{other}")
    wait_idle(page)
    expect(page.get_by_role("heading", name=heading)).to_be_visible()
    other_heading = {"referrals": "Referral queue", "triage": "Triage a back-pain report", "history": "Client history"}[
        other
    ]
    assert page.get_by_role("heading", name=other_heading).count() == 0
    snap(page, f"{role}-other-page-refused")
