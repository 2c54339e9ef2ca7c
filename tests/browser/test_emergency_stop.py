"""The emergency stop on a portrait tablet (768x1024), as issue 10 accepts it: sign in, choose a client,
answer "yes" to saddle numbness; the rule's action, the call link and Save now are on screen without
scrolling; one tap saves; the client's history shows the emergency report with the other answers "not
asked", an open emergency referral and the client paused. At most 3 taps from choosing the client."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backcare import rules, store
from backcare.auth import SYSTEM
from tests.browser.conftest import answer, assert_no_sideways_scroll, open_page, sign_in, snap, wait_idle

# The acceptance (issue 10) names the portrait tablet.
pytestmark = [pytest.mark.browser, pytest.mark.orientations("portrait")]

TRAINER, PASSWORD = "tess", "tess-pass-1"
CLIENT = "Saddle Stopper"
SADDLE = "Numbness or pins and needles between the legs or around the bottom?"


@pytest.fixture(scope="module")
def seed_database():
    def seed(path):
        db = store.open_database(path)
        gym = store.create_gym(db, actor=SYSTEM, name="North Gym")
        tess = store.create_user(
            db,
            actor=SYSTEM,
            username=TRAINER,
            display_name="Tess Trainer",
            role="trainer",
            gym_id=gym.id,
            contact="tess@north.example",
            password=PASSWORD,
        )
        store.create_client(db, actor=SYSTEM, gym_id=gym.id, name=CLIENT, trainer_id=tess.id, consent_by=TRAINER)
        db.close()

    return seed


def fully_on_screen(page, locator) -> dict:
    """The element's box, asserted to lie wholly inside the viewport of an unscrolled page."""
    box = locator.bounding_box()
    viewport = page.viewport_size
    assert box is not None
    assert (
        page.evaluate("() => window.scrollY") == 0
        and page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTop || 0") == 0
    )
    assert 0 <= box["y"] and box["y"] + box["height"] <= viewport["height"], (box, viewport)
    assert 0 <= box["x"] and box["x"] + box["width"] <= viewport["width"], (box, viewport)
    return box


def uncovered(page, locator) -> bool:
    """Nothing (such as the floating notice) lies over the middle of the element: a tap reaches it."""
    return locator.evaluate("""el => { const r = el.getBoundingClientRect();
        const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
        return el === hit || el.contains(hit); }""")


def test_saddle_numbness_stops_the_form_and_one_tap_saves_the_emergency(page, app_url):
    taps = 0
    sign_in(page, app_url, TRAINER, PASSWORD)
    expect(page.get_by_role("heading", name="Triage a back-pain report")).to_be_visible()
    # Their own clients, first; nobody is preselected (issue 14): the trainer taps the name.
    picker = page.get_by_label("Your clients")
    picker.tap()
    page.get_by_role("option", name=re.compile(CLIENT)).tap()
    wait_idle(page)
    expect(picker).to_have_value(re.compile(CLIENT))

    page.get_by_role("button", name="Use this client").tap()  # choosing the client
    taps += 1
    wait_idle(page)
    expect(page.get_by_text(f"Report for {CLIENT}")).to_be_visible()
    snap(page, "client-chosen")

    answer(page, SADDLE, "Yes")
    taps += 1
    stop = page.locator('[data-testid="bc-banner"][data-stop="true"]')
    expect(stop).to_have_attribute("data-level", "emergency")
    expect(page.get_by_role("radiogroup", name=SADDLE)).to_have_count(0)  # the questions stopped
    call = page.locator('a[data-testid="bc-call"]')
    expect(call).to_have_attribute("href", "tel:999")
    expect(call).to_have_text("Call 999 now")
    expect(stop).to_contain_text(rules.NERVE_EMERGENCY)  # E1's own action
    save_now = page.get_by_role("button", name="Save now")
    expect(page.get_by_test_id("stToast")).to_contain_text("EMERGENCY")  # the floating notice, too
    assert fully_on_screen(page, call)["height"] >= 44
    assert fully_on_screen(page, save_now)["height"] >= 44
    fully_on_screen(page, stop.get_by_text(rules.NERVE_EMERGENCY))
    assert uncovered(page, call) and uncovered(page, save_now)
    assert_no_sideways_scroll(page)
    snap(page, "emergency-stop")

    save_now.tap()
    taps += 1
    wait_idle(page)
    expect(page.get_by_text("Emergency report saved")).to_be_visible()
    expect(page.get_by_role("button", name="Save now")).to_have_count(0)
    expect(call).to_be_visible()  # the number stays on screen after the save
    snap(page, "saved")
    assert taps <= 3

    open_page(page, "Client history")
    expect(page.get_by_role("heading", name="Client history")).to_be_visible()
    expect(page.get_by_text("Emergency referral open").first).to_be_visible()  # the client is paused
    expect(page.get_by_text(re.compile(r"Emergency referral · status: new"))).to_be_visible()
    report = page.get_by_text(re.compile(r"Report: pain not asked · Emergency"))
    expect(report).to_be_visible()
    expect(page.get_by_text(re.compile(r"not asked \(26\): "))).to_be_visible()
    assert_no_sideways_scroll(page)
    snap(page, "history")
