"""Issue 15 on a tablet: a report with two causes assigns two plans (the two preselected), the Plans page shows
each exercise's picture, the stage and the pain rule, and the handout that downloads carries the trainer's
name and contact, the stages, the pain rule and the stop rules on its first page. At the next
session the trainer records feedback on one of the plans with the session and sees the suggested next step."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from backcare import store
from backcare.plans import load_library
from tests.browser.conftest import (
    add_gym_and_trainer,
    answer,
    answer_form,
    assert_no_sideways_scroll,
    next_step,
    open_page,
    sign_in,
    snap,
    tap,
    wait_idle,
)

# One orientation: the steps do not depend on the layout, which test_tablet_fit.py measures at both.
pytestmark = [pytest.mark.browser, pytest.mark.orientations("portrait")]

TRAINER, PASSWORD = "tomas", "tomas-pass-1"
PDFTOTEXT = shutil.which("pdftotext")


@pytest.fixture(scope="module")
def seed_database():
    def seed(path):
        db = store.open_database(path)
        add_gym_and_trainer(
            db,
            gym="East Gym",
            username=TRAINER,
            display_name="Tomas Reyes",
            password=PASSWORD,
            contact="tomas@east.example",
            clients=("Iris Vale Landscape", "Iris Vale Portrait"),
        )
        db.close()

    return seed


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_two_plans_assigned_with_pictures_and_a_handout_a_client_can_follow(page, app_url, tablet):
    name = f"Iris Vale {tablet[0].title()}"
    sign_in(page, app_url, TRAINER, PASSWORD)
    page.get_by_label("Find a client").fill(name)
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Use this client").click()
    wait_idle(page)

    answer_form(page, pain="2", hours="20", quality="Dull ache", trend="Easing")
    answer(page, "Cool-down done?", "No")  # recovery
    answer(page, "Core sessions a week", "1")  # core
    next_step(page)
    expect(page.get_by_text(re.compile(r"exercises in all, each listed once"))).to_be_visible()
    snap(page, "two-plans-chosen")
    page.get_by_role("button", name="Save report and assign 2 plans").click()
    wait_idle(page)
    expect(page.get_by_text("2 plans assigned", exact=False)).to_be_visible()

    open_page(page, "Plans")
    expect(page.get_by_role("heading", name="Corrective plans")).to_be_visible()
    page.get_by_text("Show the client's version").first.click()
    wait_idle(page)
    expect(page.get_by_text("The pain rule").first).to_be_visible()
    picture = page.get_by_test_id("stImage").first  # the exercise's start and end positions (SVG)
    expect(picture).to_be_visible()
    assert picture.bounding_box()["width"] > 100
    assert_no_sideways_scroll(page)
    snap(page, "plan-with-pictures")

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the printable handout (PDF)").click()
    download = download_info.value
    pdf = page.artifacts / download.suggested_filename
    download.save_as(pdf)
    first_page = " ".join(
        subprocess.run(
            [PDFTOTEXT, "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    library = load_library()
    for expected in (
        name,
        "Tomas Reyes",
        "tomas@east.example",
        "stage 1: unloaded",
        library.pain_rule.text,
        "Stop and tell your trainer if",
        library.plan("core").stop_rules[0],
        "Your exercises",
    ):
        assert expected in first_page, expected
    assert "Trainer Tomas Reyes" in first_page and f"Trainer {TRAINER}" not in first_page  # not the username

    # the next session: logged with feedback on one plan (the other left empty is skipped), then the suggestion
    open_page(page, "Client history")
    tap(page, "Minutes", "45 min")
    tap(page, "How hard (RPE 0-10)", "5 hard")
    tap(page, "Done since last time", "All")
    tap(page, "Pain during the exercises", "2")
    tap(page, "Pain the next morning", "1")
    snap(page, "feedback-tapped")
    page.get_by_role("button", name="Log session").click()
    wait_idle(page)
    expect(page.get_by_text("Feedback saved for 1 plan.")).to_be_visible()
    expect(page.get_by_text("Suggested: Stay at this stage")).to_be_visible()  # one entry so far: not yet
    assert_no_sideways_scroll(page)
    snap(page, "suggestion-after-feedback")
