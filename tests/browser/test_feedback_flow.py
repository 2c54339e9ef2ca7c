"""A trainer on a tablet records feedback on a client's plan at the next session and sees the suggested next step
(issue 15). On the landscape tablet, screenshots of every step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from backcare import store
from tests.browser.conftest import (
    add_gym_and_trainer,
    assert_no_sideways_scroll,
    open_page,
    sign_in,
    snap,
    tap,
    wait_idle,
)
from tests.conftest import report_payload

# One orientation: the steps do not depend on the layout, which test_tablet_fit.py measures at both.
pytestmark = [pytest.mark.browser, pytest.mark.orientations("landscape")]

TRAINER, PASSWORD = "tina", "tina-pass-1"


def feedback(db, trainer, client_id: int, assignment_id: int, when, pain_during: int, morning_after: int) -> None:
    """One feedback entry on a plan, done in full, as the trainer would record it with a session."""
    entry = {"assignment_id": assignment_id, "entry_date": when.date(), "done": "all"}
    entry |= {"pain_during": pain_during, "pain_morning_after": morning_after}
    store.record_feedback(db, actor=trainer, client_id=client_id, entries=[entry])


@pytest.fixture(scope="module")
def seed_database():
    def seed(path):
        db = store.open_database(path)
        gym, tina = add_gym_and_trainer(
            db,
            gym="North Gym",
            username=TRAINER,
            display_name="Tina Trainer",
            password=PASSWORD,
            contact="tina@north.example",
        )
        trainer = store.actor_for(tina)
        now = store.utcnow()

        def with_warm_up_plan(name: str, days_ago: int, pain: int) -> tuple[int, int]:
            """A client of Tina's with a report `days_ago` that assigned the warm-up plan: (client, plan)."""
            client = store.create_client(
                db, actor=trainer, gym_id=gym.id, name=name, trainer_id=tina.id, consent_by=TRAINER
            )
            saved = store.save_report(
                db,
                actor=trainer,
                client_id=client.id,
                now=now - timedelta(days=days_ago),
                report=report_payload(pain_score=pain, context={"warmup_minutes": 2}),
                assign_plans=["warm_up"],
            )
            return client.id, saved.assignment_ids[0]

        for orientation in ("Landscape", "Portrait"):
            client_id, plan = with_warm_up_plan(f"Iris Vale {orientation}", days_ago=6, pain=2)
            feedback(db, trainer, client_id, plan, now - timedelta(days=3), 1, 1)  # the rule kept
            client_id, plan = with_warm_up_plan(f"Rowan Hale {orientation}", days_ago=10, pain=1)
            for back, morning in ((4, 1), (2, 3)):  # the next-morning pain creeps up 2 points in a week (R5)
                feedback(db, trainer, client_id, plan, now - timedelta(days=back), 2, morning)
        db.close()

    return seed


def test_feedback_at_the_next_session_shows_the_suggestion(page, app_url, tablet):
    name = f"Iris Vale {tablet[0].title()}"
    sign_in(page, app_url, TRAINER, PASSWORD)
    open_page(page, "Client history")
    page.get_by_label("Find a client").fill(name)
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Use this client").click()
    wait_idle(page)
    expect(page.get_by_text("Suggested: Stay at this stage")).to_be_visible()  # one entry so far
    snap(page, "history-before")

    tap(page, "Minutes", "45 min")
    tap(page, "How hard (RPE 0-10)", "5 hard")
    tap(page, "Done since last time", "All")
    tap(page, "Pain during the exercises", "2")
    tap(page, "Pain the next morning", "1")
    assert_no_sideways_scroll(page)
    snap(page, "feedback-tapped")
    page.get_by_role("button", name="Log session").click()
    wait_idle(page)

    expect(page.get_by_text("Feedback saved for 1 plan.")).to_be_visible()
    expect(page.get_by_text("Suggested: Progress to stage 2")).to_be_visible()  # the plan is at stage 1
    expect(page.get_by_text("Done at 2 of the last 2 entries")).to_be_visible()
    assert_no_sideways_scroll(page)
    snap(page, "suggestion")


def test_a_creeping_pain_opens_the_triage_form_for_that_client(page, app_url, tablet):
    name = f"Rowan Hale {tablet[0].title()}"
    sign_in(page, app_url, TRAINER, PASSWORD)
    open_page(page, "Client history")
    page.get_by_label("Find a client").fill(name)
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Use this client").click()
    wait_idle(page)
    expect(page.get_by_text(f"Triage {name} again.")).to_be_visible()
    snap(page, "prompt")
    page.get_by_role("button", name=f"Open triage for {name}").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Triage a back-pain report")).to_be_visible()
    expect(page.get_by_text(f"Report for {name}")).to_be_visible()
    assert_no_sideways_scroll(page)
    snap(page, "triage-opened")
