"""Issue 11 in a real browser, on a fresh demo database: the clinic records two changes in a row on one
referral ("Contacted", then "Seen"), then opens a second referral and records a change there. Every change
lands on the referral it was typed for, no note appears in another referral's form, and the second change is
never lost: checked in the database once the app has stopped.

Each test runs its own app on its own fresh demo file (the app holds the file while it runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from backcare import store
from backcare.auth import SYSTEM
from backcare.store.demo import DEMO_PASSWORD, ensure_demo_database
from tests.browser.conftest import (
    assert_no_sideways_scroll,
    running_app,
    sign_in,
    snap,
    wait_idle,
)

# One orientation: the steps do not depend on the layout, which test_tablet_fit.py measures at both.
pytestmark = [pytest.mark.browser, pytest.mark.orientations("portrait")]

NOTE_LABEL = "Note (what was done or agreed; a clearance needs one)"


def pick_referrals(db_path: Path) -> tuple[store.ReferralRow, store.ReferralRow]:
    """From the fresh demo: a referral with no contact yet, and another one that was contacted."""
    db = store.open_database(db_path)
    try:
        queue = store.list_referral_queue(db, actor=SYSTEM)
    finally:
        db.close()
    first = next(r for r in queue if r.status == "new")
    second = next(r for r in queue if r.status == "contacted")
    return first, second


def events_by_note(db_path: Path, notes: list[str]) -> dict[str, tuple[int, str, str]]:
    db = store.open_database(db_path)
    try:
        rows = (
            db.cursor()
            .execute(
                "SELECT note, referral_id, status, author FROM referral_events WHERE list_contains(?, note)", [notes]
            )
            .fetchall()
        )
    finally:
        db.close()
    return {note: (referral_id, status, author) for note, referral_id, status, author in rows}


def open_row(page, referral: store.ReferralRow) -> None:
    """Tap the queue row drawn for this referral (a client can have more than one referral in the queue, so
    the client's reference alone names more than one row)."""
    row = page.locator(f".st-key-ref_queue_rows .st-key-referral-{referral.id}-open").get_by_role("button")
    expect(row).to_contain_text(referral.client_external_id)
    scrolls = page.evaluate("() => window.backcareScrolls || 0")
    row.click()
    wait_idle(page)
    # the app brings the opened panel into view a moment after its run; a tap made before that scroll can land
    # on whatever the scroll moves under it (a CI run's tap on a status choice took no effect)
    page.wait_for_function(f"() => (window.backcareScrolls || 0) > {scrolls}", timeout=10_000)


def panel(page, referral: store.ReferralRow):
    return page.locator(f".st-key-referral-{referral.id}-panel")


def record(page, referral: store.ReferralRow, status: str, note: str) -> None:
    wait_idle(page)  # the panel's own run has finished: a tap during it can be drawn over
    box = panel(page, referral)
    choices = box.get_by_role("radiogroup", name="Move to")
    choices.get_by_text(status, exact=True).click()
    # the choice must have taken before the note and the tap (a CI run tapped Record with nothing chosen)
    expect(choices.get_by_role("radio", name=status, exact=True)).to_be_checked()
    box.get_by_label(NOTE_LABEL).fill(note)
    box.get_by_role("button", name="Record the change").click()
    wait_idle(page)
    expect(box.get_by_text(f"Recorded for {referral.client_name}: {status}.")).to_be_visible()


def test_two_changes_in_a_row_then_a_second_referral_land_where_typed(browser, tablet, page, tmp_path):
    db_path = tmp_path / "demo.duckdb"
    ensure_demo_database(db_path)  # what the app builds on its first start
    first, second = pick_referrals(db_path)
    notes = [
        f"{tablet[0]}: phoned {first.client_name}",
        f"{tablet[0]}: {first.client_name} seen by the physio",
        f"{tablet[0]}: {second.client_name} seen by the GP",
    ]
    with running_app(db_path, BACKCARE_DEMO="1") as url:
        sign_in(page, url, "demo.clinic", DEMO_PASSWORD)
        expect(page.get_by_role("heading", name="Referral queue")).to_be_visible()
        assert_no_sideways_scroll(page)
        snap(page, "queue")

        heights = page.locator(".st-key-ref_queue_rows button").evaluate_all(
            "rows => rows.map(r => r.getBoundingClientRect().height)"
        )
        assert heights and min(heights) >= 44, heights  # each row is a tablet-sized target
        open_row(page, first)
        expect(panel(page, first)).to_be_in_viewport()  # the opened referral is brought into view
        expect(
            panel(page, first).get_by_role("heading", name=f"{first.client_name} · {first.client_external_id}")
        ).to_be_visible()
        choices = (
            panel(page, first)
            .get_by_role("radiogroup", name="Move to")
            .locator("label")
            .evaluate_all("labels => labels.map(l => l.getBoundingClientRect().height)")
        )
        assert choices and min(choices) >= 44, choices
        record(page, first, "Contacted", notes[0])
        expect(panel(page, first).get_by_label(NOTE_LABEL)).to_have_value("")  # same referral, empty form
        snap(page, "first-contacted")
        record(page, first, "Seen by a professional", notes[1])  # the second change in a row
        assert_no_sideways_scroll(page)
        snap(page, "first-seen")

        open_row(page, second)
        expect(panel(page, first)).to_have_count(0)
        expect(panel(page, second).get_by_label(NOTE_LABEL)).to_have_value("")  # nothing carried over
        record(page, second, "Seen by a professional", notes[2])
        snap(page, "second-seen")
        for text in notes:  # no typed note left in any form on the page
            expect(page.locator("textarea").filter(has_text=text)).to_have_count(0)
    assert events_by_note(db_path, notes) == {
        notes[0]: (first.id, "contacted", "demo.clinic"),
        notes[1]: (first.id, "seen", "demo.clinic"),
        notes[2]: (second.id, "seen", "demo.clinic"),
    }
