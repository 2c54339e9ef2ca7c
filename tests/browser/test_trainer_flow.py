"""A trainer on a tablet: a new client from the first tap to a saved report with a plan, the handout,
and the report in the client's history. The main flow at both tablet orientations, screenshots of every step."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backcare import store
from tests.browser.conftest import (
    add_gym_and_trainer,
    answer,
    answer_form,
    assert_no_sideways_scroll,
    next_step,
    open_page,
    sign_in,
    snap,
    wait_idle,
)

pytestmark = pytest.mark.browser

TRAINER, PASSWORD = "tina", "tina-pass-1"


@pytest.fixture(scope="module")
def seed_database():
    def seed(path):
        db = store.open_database(path)
        add_gym_and_trainer(
            db,
            gym="North Gym",
            username=TRAINER,
            display_name="Tina Trainer",
            password=PASSWORD,
            contact="tina@north.example",
            clients=("Emery Stone Landscape", "Emery Stone Portrait"),
        )
        db.close()

    return seed


def test_trainer_triages_a_new_client_assigns_a_plan_and_finds_the_report(page, app_url, tablet):
    name = f"Nora Quinn {tablet[0].title()}"
    sign_in(page, app_url, TRAINER, PASSWORD)
    expect(page.get_by_role("heading", name="Triage a back-pain report")).to_be_visible()
    expect(page.get_by_text("It does not diagnose")).to_be_visible()
    assert_no_sideways_scroll(page)
    snap(page, "signed-in")

    page.get_by_label("Find a client").fill(name)
    page.keyboard.press("Enter")
    wait_idle(page)
    expect(page.get_by_label("Full name")).to_have_value(name)
    page.get_by_text("The client agrees").click()
    page.get_by_role("button", name="Add client").click()
    wait_idle(page)
    expect(page.get_by_text(f"Report for {name}")).to_be_visible()
    snap(page, "client-added")

    answer_form(page, pain="2", hours="20", quality="Dull ache", trend="Easing", snap_steps=True)
    answer(page, "Cool-down done?", "No")
    assert_no_sideways_scroll(page)
    snap(page, "step-4-context")
    next_step(page)
    banner = page.locator('[data-testid="bc-banner"]')
    expect(banner).to_have_attribute("data-level", "normal")
    expect(page.get_by_role("strong").filter(has_text="Skipped recovery")).to_be_visible()
    assert_no_sideways_scroll(page)
    snap(page, "answered")

    page.get_by_role("button", name=re.compile(r"^Save report and assign 1 plan")).click()
    wait_idle(page)
    expect(page.get_by_text("Report saved")).to_be_visible()
    expect(page.get_by_text("1 plan assigned")).to_be_visible()
    snap(page, "saved")

    open_page(page, "Plans")
    expect(page.get_by_role("heading", name="Corrective plans")).to_be_visible()
    assert_no_sideways_scroll(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the printable handout (PDF)").click()
    download = download_info.value
    pdf = page.artifacts / download.suggested_filename
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.suffix == ".pdf"
    snap(page, "handout")

    open_page(page, "Client history")
    expect(page.get_by_role("heading", name="Client history")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Normal soreness|normal", re.I)).first).to_be_visible()
    assert_no_sideways_scroll(page)
    snap(page, "history")


@pytest.mark.orientations("landscape")  # test_emergency_stop.py walks the stop on the portrait tablet
def test_an_emergency_answer_stops_the_form_at_once_and_a_mis_tap_can_be_corrected(page, app_url, tablet):
    name = f"Emery Stone {tablet[0].title()}"
    sign_in(page, app_url, TRAINER, PASSWORD)
    page.get_by_label("Find a client").fill(name)
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Use this client").click()
    wait_idle(page)
    strip = page.locator('[data-testid="bc-watch"]')
    expect(strip).to_be_visible()
    strip_top = strip.bounding_box()["y"]
    snap(page, "no-red-flag-yet")
    answer(page, "Any chest pain?", "Yes")
    expect(strip).to_have_count(0)
    banner = page.locator('[data-testid="bc-banner"]').first
    expect(banner).to_have_attribute("data-level", "emergency")
    expect(banner).to_contain_text("EMERGENCY")
    assert abs(banner.bounding_box()["y"] - strip_top) < 40  # it took the strip's place at the top
    expect(page.get_by_role("radiogroup", name="Any chest pain?")).to_have_count(0)  # the questions stop
    expect(page.get_by_role("button", name="Save now")).to_be_in_viewport()
    toast = page.get_by_test_id("stToast")  # floats in view, wherever the page is scrolled
    expect(toast).to_contain_text("EMERGENCY: stop the session")
    expect(toast).to_be_in_viewport()
    assert_no_sideways_scroll(page)
    snap(page, "emergency-stop")
    toast.get_by_role("button", name="Close").click()  # the trainer acknowledges it
    expect(toast).to_have_count(0)

    page.get_by_role("button", name=re.compile("tapped by mistake")).click()  # it was a mis-tap
    wait_idle(page)
    answer(page, "Any chest pain?", "No")
    expect(page.locator('[data-testid="bc-banner"]')).to_have_count(0)
    expect(strip).to_be_visible()
    for question in (
        "Numbness or pins and needles between the legs or around the bottom?",
        "Any new trouble passing or holding urine, leaking, or bowel control?",
        "Any new loss of feeling in the genitals or of sexual function?",
        "Leg weakness that is getting worse (for example the foot dragging)?",
        "Did the pain start with a serious fall, accident or blow?",
        "Have they fainted or collapsed, or is there a sudden, severe tearing pain in the back and belly?",
        "Pain, numbness, tingling or weakness going down the legs?",
    ):
        answer(page, question, "No")
    next_step(page)
    expect(page.get_by_role("heading", name="2 · Urgent signs")).to_be_visible()
    snap(page, "corrected-step-2")
