"""Issue 14: a reload (tablets reload background tabs) keeps the trainer signed in, with nothing secret in the
URL; after Sign out a reload shows the sign-in again. A reload in the middle of a triage form keeps the answers
(a draft on the server, carried on with one tap), and 30 idle minutes on the server's clock (moved on through
the test-only clock file, not waited for) end the session."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from backcare import questions, store
from tests.browser.conftest import add_gym_and_trainer, answer, next_step, sign_in, snap, tap_sign_out, wait_idle

# One orientation: the steps do not depend on the layout, which test_tablet_fit.py measures at both.
pytestmark = [pytest.mark.browser, pytest.mark.orientations("landscape")]


@pytest.fixture(scope="module")
def clock_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("clock") / "offset-seconds"
    path.write_text("0")
    return path


@pytest.fixture(scope="module")
def app_env(clock_file):
    """The test-only clock hook: honoured because BACKCARE_TESTING is set (backcare/ui/signin.py)."""
    return {"BACKCARE_DEMO": "0", "BACKCARE_TESTING": "1", "BACKCARE_TEST_CLOCK_FILE": str(clock_file)}


@pytest.fixture(scope="module")
def seed_database():
    def seed(path):
        db = store.open_database(path)
        add_gym_and_trainer(  # a client per viewport: each leaves a draft behind
            db,
            gym="North Gym",
            username="tina",
            display_name="Tina",
            password="tina-pass-1",
            contact="tina@x.example",
            clients=("Ada Reload Landscape", "Ada Reload Portrait"),
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


def chosen(page, question: str) -> list[str]:
    """The selected option(s) of a segmented question, as the page shows them."""
    group = page.get_by_role("radiogroup", name=question)
    return group.locator('[aria-checked="true"], [aria-pressed="true"]').all_inner_texts()


def test_a_reload_mid_form_keeps_the_sign_in_and_the_answers_and_30_idle_minutes_end_the_session(
    page, app_url, clock_file, tablet
):
    name = f"Ada Reload {tablet[0].title()}"
    clock_file.write_text("0")
    sign_in(page, app_url, "tina", "tina-pass-1")
    page.get_by_test_id("stSelectbox").filter(has_text="clients").first.click()
    page.get_by_role("option", name=re.compile(name)).click()
    wait_idle(page)
    page.get_by_role("button", name="Use this client").click()
    wait_idle(page)
    first = questions.on_step("emergency")
    legs = questions.BY_FIELD["leg_symptoms"]
    answer(page, legs.text, legs.choice_label("none"))
    for question in first:
        if question.kind is questions.Kind.YES_NO and question.asked_when is None:
            answer(page, question.text, "No")
    next_step(page)
    urgent = [q for q in questions.on_step("urgent") if q.kind is questions.Kind.YES_NO and q.asked_when is None]
    answer(page, urgent[0].text, "No")
    expect(page.get_by_role("heading", name=re.compile("^2 · "))).to_be_visible()
    snap(page, "mid-form-before-reload")

    page.reload()
    wait_idle(page)
    expect(page.get_by_text("Signed in as")).to_be_attached()  # no sign-in form: the cookie resumed it
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    page.get_by_role("button", name=re.compile(f"Carry on with the report for {name}")).click()
    wait_idle(page)
    expect(page.get_by_role("heading", name=re.compile("^2 · "))).to_be_visible()  # the open step
    assert chosen(page, urgent[0].text) == ["No"]
    expect(page.get_by_text("Carried on from the unfinished report")).to_be_visible()
    assert "?" not in page.url and "#" not in page.url  # the draft is found on the server, nothing in the URL
    page.get_by_role("button", name="Back").click()
    wait_idle(page)
    assert chosen(page, legs.text) == [legs.choice_label("none")]  # the earlier step's answers too
    snap(page, "mid-form-after-reload")

    clock_file.write_text(str(31 * 60))  # 31 minutes pass on the server's clock without a tap
    try:
        # the page's own timer check signs out (every 15 s at a 30-minute limit): wait for its notice
        expect(page.get_by_text("You were signed out after 30 minutes without activity.")).to_be_visible(timeout=40_000)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        snap(page, "idle-signed-out")
        page.reload()  # and the cookie resumes nothing now
        wait_idle(page)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    finally:
        clock_file.write_text("0")
