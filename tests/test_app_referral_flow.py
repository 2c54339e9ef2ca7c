"""Every change lands on the referral it was typed for, even when the save changes the referral's row and
moves it to another group of the queue; a second change in a row is never lost and no note is carried into
another referral's form (issue 11). Checked in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backcare import store
from backcare.store.records import ReferralStatus
from tests.test_app_referrals import World, ok, open_ref, queue_ids, row, submit_status

S = ReferralStatus


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.db.close()


def events(world, referral_id: int) -> list[tuple[str, str | None]]:
    """(status, note) of each change after the referral opened, from the database."""
    return [
        (e.status.value, e.note) for e in store.referral_events(world.db, actor=world.clinic, referral_id=referral_id)
    ][1:]


def open_form(at) -> tuple:
    """The status form on the page: whose it is, its choice and its note."""
    radios = [r for r in at.radio if r.key.endswith("-next")]
    notes = [t for t in at.text_area if t.key.endswith("-note")]
    assert len(radios) == len(notes) == 1
    return radios[0].key, radios[0].value, notes[0].key, notes[0].value


def test_two_changes_in_a_row_then_another_referral_each_land_where_typed(world):
    _, emma = world.referral("Emma Emergency", "emergency", timedelta(minutes=20))
    _, una = world.referral("Una Urgent", "urgent", timedelta(hours=2))
    _, sam = world.referral("Sam Seen", "emergency", timedelta(days=40))
    store.update_referral(world.db, actor=world.clinic, referral_id=sam, status="seen")
    at = world.page()
    assert queue_ids(at) == [emma, una, sam]

    at = open_ref(at, una)
    before = row(at, una).label
    at = submit_status(at, una, S.CONTACTED, "Una: phoned, GP tomorrow")
    ok(at)
    assert queue_ids(at) == [emma, sam, una]  # Una left the first-contact group: her row moved and changed
    assert row(at, una).label != before and "Contacted" in row(at, una).label
    assert open_form(at) == (f"referral-{una}-next", None, f"referral-{una}-note", "")  # same one, empty
    assert any(s.value.startswith("Recorded for Una Urgent: Contacted") for s in at.success)

    at = submit_status(at, una, S.SEEN, "Una: seen by her GP")  # the second change in a row
    ok(at)
    assert events(world, una) == [("contacted", "Una: phoned, GP tomorrow"), ("seen", "Una: seen by her GP")]
    assert open_form(at)[:2] == (f"referral-{una}-next", None)
    assert "Seen by a professional" in row(at, una).label

    at = open_ref(at, emma)
    assert open_form(at) == (f"referral-{emma}-next", None, f"referral-{emma}-note", "")  # nothing carried over
    at = submit_status(at, emma, S.CONTACTED, "Emma: ambulance called")
    ok(at)
    assert events(world, emma) == [("contacted", "Emma: ambulance called")]
    assert events(world, una) == [("contacted", "Una: phoned, GP tomorrow"), ("seen", "Una: seen by her GP")]
    assert events(world, sam) == [("seen", None)]
