"""Every change lands on the referral it was typed for, even when the save changes the referral's label and
moves it in the queue: AppTest, driven as a browser drives the page (a chosen option is remembered by the
text it showed)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from backcare import store
from backcare.store.records import ReferralStatus
from tests.test_app_referrals import World, ok

S = ReferralStatus


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.db.close()


def events(world, referral_id: int) -> list[tuple[str, str | None]]:
    """(status, note) of each change after the referral opened, from the database."""
    return [(e.status.value, e.note) for e in store.referral_events(world.db, actor=world.clinic,
                                                                    referral_id=referral_id)][1:]


class Browser:
    """Sends what a browser sends: a select box keeps the text of the option it showed when it was chosen,
    even after a rerun changed that option's text."""

    def __init__(self, at):
        self.at = at
        self.shown: dict[str, str] = {}

    def choose(self, widget, value) -> None:
        widget.set_value(value)
        self.shown[widget.id] = widget.options[widget.index]

    def run(self):
        for widget in self.at.selectbox:
            if widget.id in self.shown:
                _send_text(widget, self.shown[widget.id])
        self.at.run()
        ok(self.at)
        return self.at


def _send_text(widget, text: str) -> None:
    class Shown(type(widget)):
        @property
        def _widget_state(self):
            state = WidgetState()
            state.id = self.id
            state.string_value = text
            return state
    widget.__class__ = Shown


def open_referral(browser: Browser, referral_id: int) -> None:
    browser.choose(browser.at.selectbox(key="ref_chosen"), referral_id)
    browser.run()


def record(browser: Browser, status: ReferralStatus, note: str) -> None:
    at = browser.at
    at.radio(key="ref_target").set_value(status)
    at.text_area(key="ref_note").input(note)
    next(b for b in at.button if b.label == "Record the change").click()
    browser.run()


def test_two_changes_in_a_row_then_another_referral_each_land_where_typed(world):
    _, emma = world.referral("Emma Emergency", "emergency", timedelta(minutes=20))
    _, una = world.referral("Una Urgent", "urgent", timedelta(hours=2))
    browser = Browser(world.page())
    open_referral(browser, una)
    record(browser, S.CONTACTED, "Una: phoned, GP tomorrow")  # Una's label changes and she leaves the top group
    record(browser, S.SEEN, "Una: seen by her GP")
    assert events(world, una) == [("contacted", "Una: phoned, GP tomorrow"), ("seen", "Una: seen by her GP")]
    assert events(world, emma) == []
    open_referral(browser, emma)
    record(browser, S.CONTACTED, "Emma: ambulance called")
    assert events(world, emma) == [("contacted", "Emma: ambulance called")]
    assert events(world, una) == [("contacted", "Una: phoned, GP tomorrow"), ("seen", "Una: seen by her GP")]
