"""The clinic's referral page, driven with AppTest on a fresh database file per test."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from backcare import store
from backcare.auth import SYSTEM, Role
from backcare.errors import Conflict
from backcare.store.records import ClientStatus, ReferralStatus
from tests.conftest import report_payload

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "referrals.py")

ANSWERS = {
    "refer": {"pain_quality": "sharp"},
    "urgent": {"fever_or_unwell": True},
    "emergency": {"saddle_numbness": True},
}


class World:
    def __init__(self, tmp_path: Path):
        self.path = tmp_path / "clinic.duckdb"
        self.db = store.open_database(self.path)
        gym = store.create_gym(self.db, actor=SYSTEM, name="Riverside Strength")
        self.trainer = store.actor_for(store.create_user(
            self.db, actor=SYSTEM, username="tara", display_name="Tara Trainer", role=Role.TRAINER, gym_id=gym.id,
            contact="tara@example.test"))
        self.clinic = store.actor_for(store.create_user(
            self.db, actor=SYSTEM, username="cleo", display_name="Cleo Clinic", role=Role.CLINIC))
        self.gym = gym

    def referral(self, name: str, level: str, age: timedelta):
        client = store.create_client(self.db, actor=self.trainer, gym_id=self.gym.id, name=name,
                                     trainer_id=self.trainer.user_id, consent_by="tara")
        saved = store.save_report(self.db, actor=self.trainer, client_id=client.id,
                                  report=report_payload(**ANSWERS[level]), now=store.utcnow() - age)
        assert saved.result.level == level
        return client, saved.referral_id

    def page(self) -> AppTest:
        os.environ["BACKCARE_DB"] = str(self.path)
        at = AppTest.from_file(PAGE, default_timeout=30)
        at.session_state["actor"] = self.clinic
        return at.run()


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.db.close()


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def queue(at: AppTest):
    return next(df.value for df in at.dataframe if "Overdue" in df.value.columns)


def submit_status(at: AppTest, status: ReferralStatus, note: str, restrictions: str = "") -> AppTest:
    at.radio(key="ref_target").set_value(status)
    at.text_area(key="ref_note").input(note)
    if restrictions:
        at.text_input(key="ref_restrictions").input(restrictions)
    next(b for b in at.button if b.label == "Record the change").click()
    return at.run()


def test_an_empty_queue_says_nothing_is_waiting(world):
    at = world.page()
    ok(at)
    assert any("Nothing is waiting" in i.value for i in at.info)


def test_queue_is_ordered_by_level_then_age(world):
    world.referral("Rae Refer-New", "refer", timedelta(hours=2))
    world.referral("Una Urgent", "urgent", timedelta(minutes=30))
    world.referral("Ron Refer-Old", "refer", timedelta(days=2))
    world.referral("Emma Emergency", "emergency", timedelta(minutes=20))
    at = world.page()
    ok(at)
    assert list(queue(at)["Client"]) == ["Emma Emergency", "Una Urgent", "Ron Refer-Old", "Rae Refer-New"]
    assert at.selectbox(key="ref_chosen").value == queue(at)["Referral"].iloc[0]


@pytest.mark.parametrize("level, age, overdue", [
    ("emergency", timedelta(minutes=90), True),
    ("emergency", timedelta(minutes=30), False),
    ("urgent", timedelta(hours=25), True),
    ("refer", timedelta(days=8), True),
    ("refer", timedelta(days=6), False),
])
def test_overdue_referrals_are_highlighted(world, level, age, overdue):
    world.referral("Olive Overdue", level, age)
    at = world.page()
    ok(at)
    assert (queue(at)["Overdue"].iloc[0] == "OVERDUE") is overdue
    assert any("not contacted in time" in e.value for e in at.error) is overdue


def test_a_status_change_is_recorded_with_author_time_and_note(world):
    _, referral_id = world.referral("Casey Contact", "urgent", timedelta(hours=3))
    at = world.page()
    at = submit_status(at, ReferralStatus.CONTACTED, "Phoned, GP booked tomorrow")
    ok(at)
    assert any("Recorded: Contacted" in s.value for s in at.success)
    events = store.referral_events(world.db, actor=world.clinic, referral_id=referral_id)
    assert [(e.status, e.author, e.note) for e in events][-1] == ("contacted", "cleo", "Phoned, GP booked tomorrow")
    assert store.get_referral(world.db, actor=world.clinic, referral_id=referral_id).first_contact_at is not None
    assert list(queue(at)["Status"]) == ["Contacted"]


def test_clearance_changes_the_clients_status_and_plans_become_assignable(world):
    client, referral_id = world.referral("Clara Clear", "refer", timedelta(days=1))
    store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status="seen")
    with pytest.raises(Conflict):  # paused while the referral is open
        store.assign_plan(world.db, actor=world.trainer, client_id=client.id, plan_id="core",
                          start_date=store.utcnow().date(), review_date=store.utcnow().date() + timedelta(days=14))
    at = world.page()
    at = submit_status(at, ReferralStatus.CLEARED, "Fit to train")
    ok(at)
    assert any("Cleared" in s.value for s in at.success)
    assert store.client_status(world.db, actor=world.trainer, client_id=client.id) == ClientStatus.CLEARED
    store.assign_plan(world.db, actor=world.trainer, client_id=client.id, plan_id="core",
                      start_date=store.utcnow().date(), review_date=store.utcnow().date() + timedelta(days=14))
    assert any("Nothing is waiting" in i.value for i in at.info)  # cleared referrals leave the open queue


def test_not_cleared_keeps_the_client_paused(world):
    client, referral_id = world.referral("Nina Notyet", "refer", timedelta(days=1))
    store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status="seen")
    at = submit_status(world.page(), ReferralStatus.NOT_CLEARED, "Needs imaging first")
    ok(at)
    assert store.client_status(world.db, actor=world.trainer, client_id=client.id) \
        == ClientStatus.PAUSED_REFERRAL_OPEN


def test_clearance_with_restrictions_needs_the_restrictions(world):
    _, referral_id = world.referral("Rita Restrict", "refer", timedelta(days=1))
    store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status="seen")
    at = submit_status(world.page(), ReferralStatus.CLEARED_WITH_RESTRICTIONS, "Assessed")
    ok(at)
    assert any("restrictions" in e.value for e in at.error)
    at = submit_status(at, ReferralStatus.CLEARED_WITH_RESTRICTIONS, "Assessed", "No heavy deadlifts for 4 weeks")
    ok(at)
    assert store.get_referral(world.db, actor=world.clinic, referral_id=referral_id).restrictions \
        == "No heavy deadlifts for 4 weeks"


def test_the_handoff_is_shown_with_print_downloads(world):
    world.referral("Hal Handoff", "refer", timedelta(hours=5))
    at = world.page()
    ok(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "Referral handoff" in text and "Contact: tara@example.test" in text and "R1 (refer)" in text
    labels = [el.proto.label for el in at.get("download_button")]
    assert {"Print: download the handoff (PDF)", "Download the handoff (text)",
            "Download the queue (CSV)", "Download the status history (CSV)"} <= set(labels)


def test_status_filter_shows_closed_referrals_on_request(world):
    _, referral_id = world.referral("Cleo Closed", "refer", timedelta(days=1))
    for status in ("seen", "cleared"):
        store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status=status,
                              note="Fit to train")
    at = world.page()
    assert any("Nothing is waiting" in i.value for i in at.info)
    at.multiselect(key="ref_statuses").select(ReferralStatus.CLEARED).run()
    ok(at)
    assert list(queue(at)["Client"]) == ["Cleo Closed"]
    assert any("closed" in i.value for i in at.info)


def test_gym_filter_limits_the_queue(world):
    world.referral("Ann Riverside", "refer", timedelta(hours=1))
    other = store.create_gym(world.db, actor=SYSTEM, name="Harbour Fitness")
    ben = store.actor_for(store.create_user(world.db, actor=SYSTEM, username="ben", display_name="Ben Trainer",
                                            role=Role.TRAINER, gym_id=other.id))
    client = store.create_client(world.db, actor=ben, gym_id=other.id, name="Hugo Harbour", consent_by="ben")
    store.save_report(world.db, actor=ben, client_id=client.id, report=report_payload(**ANSWERS["urgent"]))
    at = world.page()
    assert list(queue(at)["Client"]) == ["Hugo Harbour", "Ann Riverside"]
    at.selectbox(key="ref_gym").set_value(other.id).run()
    ok(at)
    assert list(queue(at)["Client"]) == ["Hugo Harbour"] and list(queue(at)["Gym"]) == ["Harbour Fitness"]



def test_downloading_the_queue_or_a_handoff_is_audited_as_an_export(world):
    _, referral_id = world.referral("Dora Download", "refer", timedelta(hours=2))
    at = world.page()
    ok(at)

    def exports():
        return world.db.cursor().execute(
            "SELECT actor, entity, entity_id, detail FROM audit_log WHERE action = 'export.download' ORDER BY id"
        ).fetchall()

    assert exports() == []  # shown is not taken
    for key in ("ref_queue_csv", "handoff_pdf"):
        next(b for b in at.get("download_button") if b.key == key).click()
        at.run()
        ok(at)
    assert exports() == [("cleo", "referrals", None, '{"what": "referral queue CSV"}'),
                         ("cleo", "referrals", str(referral_id), '{"what": "handoff PDF"}')]
