"""The clinic's referral page, driven with AppTest on a fresh database file per test."""

from __future__ import annotations

import os
import re
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
        self.trainer = store.actor_for(
            store.create_user(
                self.db,
                actor=SYSTEM,
                username="tara",
                display_name="Tara Trainer",
                role=Role.TRAINER,
                gym_id=gym.id,
                contact="tara@example.test",
            )
        )
        self.clinic = store.actor_for(
            store.create_user(self.db, actor=SYSTEM, username="cleo", display_name="Cleo Clinic", role=Role.CLINIC)
        )
        self.gym = gym

    def referral(self, name: str, level: str, age: timedelta):
        client = store.create_client(
            self.db,
            actor=self.trainer,
            gym_id=self.gym.id,
            name=name,
            trainer_id=self.trainer.user_id,
            consent_by="tara",
        )
        saved = store.save_report(
            self.db,
            actor=self.trainer,
            client_id=client.id,
            report=report_payload(**ANSWERS[level]),
            now=store.utcnow() - age,
        )
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


def queue_ids(at: AppTest) -> list[int]:
    """The referrals listed, in the order shown (each row is a button keyed by its referral's id)."""
    return [int(m.group(1)) for b in at.button if (m := re.fullmatch(r"referral-(\d+)-open", b.key or ""))]


def queue_names(world, at: AppTest) -> list[str]:
    return [store.get_referral(world.db, actor=world.clinic, referral_id=i).client_name for i in queue_ids(at)]


def row(at: AppTest, referral_id: int):
    return at.button(key=f"referral-{referral_id}-open")


def open_ref(at: AppTest, referral_id: int) -> AppTest:
    return row(at, referral_id).click().run()


def submit_status(
    at: AppTest, referral_id: int, status: ReferralStatus | None, note: str = "", restrictions: str = ""
) -> AppTest:
    if status is not None:
        at.radio(key=f"referral-{referral_id}-next").set_value(status)
    at.text_area(key=f"referral-{referral_id}-note").input(note)
    if restrictions:
        at.text_input(key=f"referral-{referral_id}-restrictions").input(restrictions)
    next(b for b in at.button if b.label == "Record the change").click()
    return at.run()


def confirm(at: AppTest, referral_id: int) -> AppTest:
    return at.button(key=f"referral-{referral_id}-confirm").click().run()


def test_an_empty_queue_says_nothing_is_waiting(world):
    at = world.page()
    ok(at)
    assert any("Nothing is waiting" in i.value for i in at.info)


def test_queue_is_the_clinics_work_order(world):
    """First contact to make (most serious, then longest waiting, first), then those waiting on a professional
    or a clearance; nothing is open until a row is tapped."""
    world.referral("Rae Refer-New", "refer", timedelta(hours=2))
    world.referral("Una Urgent", "urgent", timedelta(minutes=30))
    world.referral("Ron Refer-Old", "refer", timedelta(days=2))
    world.referral("Emma Emergency", "emergency", timedelta(minutes=20))
    _, seen = world.referral("Sam Seen-Long-Ago", "emergency", timedelta(days=30))
    store.update_referral(world.db, actor=world.clinic, referral_id=seen, status="seen")
    at = world.page()
    ok(at)
    assert queue_names(world, at) == [
        "Emma Emergency",
        "Una Urgent",
        "Ron Refer-Old",
        "Rae Refer-New",
        "Sam Seen-Long-Ago",
    ]
    headings = [m.value for m in at.markdown if m.value.startswith("**")]
    assert headings[:2] == ["**First contact to make** (4)", "**Waiting on a professional or a clearance** (1)"]
    assert not any(r.key.startswith("referral-") for r in at.radio)  # no referral open yet


def test_one_tap_on_a_row_opens_that_referral(world):
    world.referral("Emma Emergency", "emergency", timedelta(minutes=20))
    _, una = world.referral("Una Urgent", "urgent", timedelta(minutes=30))
    at = open_ref(world.page(), una)
    ok(at)
    assert [r.key for r in at.radio] == [f"referral-{una}-next"]
    assert any(h.value == "Una Urgent · C-00002" for h in at.subheader)


@pytest.mark.parametrize(
    "level, age, overdue",
    [
        ("emergency", timedelta(minutes=90), True),
        ("emergency", timedelta(minutes=30), False),
        ("urgent", timedelta(hours=25), True),
        ("refer", timedelta(days=8), True),
        ("refer", timedelta(days=6), False),
    ],
)
def test_overdue_referrals_are_highlighted(world, level, age, overdue):
    _, referral_id = world.referral("Olive Overdue", level, age)
    at = world.page()
    ok(at)
    assert ("OVERDUE" in row(at, referral_id).label) is overdue
    assert any("not contacted in time" in e.value for e in at.error) is overdue
    at = open_ref(at, referral_id)
    assert any("first contact was due" in e.value for e in at.error) is overdue


def test_a_status_change_is_recorded_with_author_time_and_note(world):
    _, referral_id = world.referral("Casey Contact", "urgent", timedelta(hours=3))
    at = open_ref(world.page(), referral_id)
    at = submit_status(at, referral_id, ReferralStatus.CONTACTED, "Phoned, GP booked tomorrow")
    ok(at)
    assert any("Recorded for Casey Contact: Contacted" in s.value for s in at.success)
    events = store.referral_events(world.db, actor=world.clinic, referral_id=referral_id)
    assert [(e.status, e.author, e.note) for e in events][-1] == ("contacted", "cleo", "Phoned, GP booked tomorrow")
    assert store.get_referral(world.db, actor=world.clinic, referral_id=referral_id).first_contact_at is not None
    assert "Contacted" in row(at, referral_id).label


def test_the_next_status_starts_unselected_and_nothing_is_recorded_without_one(world):
    _, referral_id = world.referral("Una Undecided", "refer", timedelta(days=1))
    store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status="seen")
    at = open_ref(world.page(), referral_id)
    assert at.radio(key=f"referral-{referral_id}-next").value is None
    at = submit_status(at, referral_id, None, "Just reading")
    ok(at)
    assert any("Choose where the referral moves to" in e.value for e in at.error)
    assert [e.status for e in store.referral_events(world.db, actor=world.clinic, referral_id=referral_id)] == [
        "new",
        "seen",
    ]


@pytest.mark.parametrize(
    "status, restrictions",
    [(ReferralStatus.CLEARED, ""), (ReferralStatus.CLEARED_WITH_RESTRICTIONS, "Light work only")],
)
def test_a_clearance_needs_a_note(world, status, restrictions):
    client, referral_id = world.referral("Nora Nonote", "refer", timedelta(days=1))
    store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status="seen")
    at = submit_status(open_ref(world.page(), referral_id), referral_id, status, "  ", restrictions)
    ok(at)
    assert any("a clearance needs a note" in e.value for e in at.error)
    assert not any("to load again" in w.value for w in at.warning)  # not even asked to confirm
    assert store.client_status(world.db, actor=world.trainer, client_id=client.id) == ClientStatus.PAUSED_REFERRAL_OPEN


def test_clearing_asks_for_a_confirmation_naming_the_client_then_records_who_when_why(world):
    client, referral_id = world.referral("Maya Petrov", "refer", timedelta(days=1))
    store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status="seen")
    at = submit_status(open_ref(world.page(), referral_id), referral_id, ReferralStatus.CLEARED, "Fit to train")
    ok(at)
    assert any("Clear Maya Petrov to load again?" in w.value for w in at.warning)
    assert (
        store.client_status(world.db, actor=world.trainer, client_id=client.id) == ClientStatus.PAUSED_REFERRAL_OPEN
    )  # asked, not done
    at = at.button(key=f"referral-{referral_id}-cancel").click().run()
    ok(at)
    assert not any("to load again" in w.value for w in at.warning)
    assert store.get_referral(world.db, actor=world.clinic, referral_id=referral_id).status == "seen"
    at = confirm(submit_status(at, referral_id, ReferralStatus.CLEARED, "Fit to train"), referral_id)
    ok(at)
    assert any("Recorded for Maya Petrov: Cleared" in s.value for s in at.success)
    assert store.client_status(world.db, actor=world.trainer, client_id=client.id) == ClientStatus.CLEARED
    last = store.referral_events(world.db, actor=world.clinic, referral_id=referral_id)[-1]
    assert (last.status, last.author, last.note) == ("cleared", "cleo", "Fit to train")
    audit = (
        world.db.cursor()
        .execute(
            "SELECT actor, entity_id, detail FROM audit_log WHERE action = 'referral.status' ORDER BY id DESC LIMIT 1"
        )
        .fetchone()
    )
    assert audit == ("cleo", str(referral_id), '{"from": "seen", "to": "cleared"}')


def test_clearance_changes_the_clients_status_and_plans_become_assignable(world):
    client, referral_id = world.referral("Clara Clear", "refer", timedelta(days=1))
    store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status="seen")
    with pytest.raises(Conflict):  # paused while the referral is open
        store.assign_plan(
            world.db,
            actor=world.trainer,
            client_id=client.id,
            plan_id="core",
            start_date=store.utcnow().date(),
            review_date=store.utcnow().date() + timedelta(days=14),
        )
    at = open_ref(world.page(), referral_id)
    at = confirm(submit_status(at, referral_id, ReferralStatus.CLEARED, "Fit to train"), referral_id)
    ok(at)
    assert any("Cleared" in s.value for s in at.success)
    assert store.client_status(world.db, actor=world.trainer, client_id=client.id) == ClientStatus.CLEARED
    store.assign_plan(
        world.db,
        actor=world.trainer,
        client_id=client.id,
        plan_id="core",
        start_date=store.utcnow().date(),
        review_date=store.utcnow().date() + timedelta(days=14),
    )
    assert any("Nothing is waiting" in i.value for i in at.info)  # cleared referrals leave the open queue
    assert any("This referral is closed" in i.value for i in at.info)  # ...and it stays open, closed


def test_not_cleared_keeps_the_client_paused(world):
    client, referral_id = world.referral("Nina Notyet", "refer", timedelta(days=1))
    store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status="seen")
    at = submit_status(
        open_ref(world.page(), referral_id), referral_id, ReferralStatus.NOT_CLEARED, "Needs imaging first"
    )
    ok(at)
    assert not any("to load again" in w.value for w in at.warning)  # only a clearance asks
    assert store.client_status(world.db, actor=world.trainer, client_id=client.id) == ClientStatus.PAUSED_REFERRAL_OPEN


def test_clearance_with_restrictions_needs_the_restrictions(world):
    _, referral_id = world.referral("Rita Restrict", "refer", timedelta(days=1))
    store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status="seen")
    at = open_ref(world.page(), referral_id)
    at = submit_status(at, referral_id, ReferralStatus.CLEARED_WITH_RESTRICTIONS, "Assessed")
    ok(at)
    assert any("restrictions" in e.value for e in at.error)
    at = submit_status(
        at, referral_id, ReferralStatus.CLEARED_WITH_RESTRICTIONS, "Assessed", "No heavy deadlifts for 4 weeks"
    )
    assert any("Clear Rita Restrict to load again, with the restrictions below?" in w.value for w in at.warning)
    at = confirm(at, referral_id)
    ok(at)
    assert (
        store.get_referral(world.db, actor=world.clinic, referral_id=referral_id).restrictions
        == "No heavy deadlifts for 4 weeks"
    )


def test_the_handoff_is_shown_with_print_downloads(world):
    _, referral_id = world.referral("Hal Handoff", "refer", timedelta(hours=5))
    at = open_ref(world.page(), referral_id)
    ok(at)
    text = "\n".join(m.value for m in at.markdown)
    assert "Referral handoff" in text and "Tara Trainer" in text and "Contact: tara@example.test" in text
    assert "R1 (refer)" in text
    labels = [el.proto.label for el in at.get("download_button")]
    assert {
        "Print: download the handoff (PDF)",
        "Download the handoff (text)",
        "Download the queue (CSV)",
        "Download the status history (CSV)",
    } <= set(labels)


def test_status_filter_shows_closed_referrals_on_request(world):
    _, referral_id = world.referral("Cleo Closed", "refer", timedelta(days=1))
    for status in ("seen", "cleared"):
        store.update_referral(world.db, actor=world.clinic, referral_id=referral_id, status=status, note="Fit to train")
    at = world.page()
    assert any("Nothing is waiting" in i.value for i in at.info)
    at.multiselect(key="ref_statuses").select(ReferralStatus.CLEARED).run()
    ok(at)
    assert queue_names(world, at) == ["Cleo Closed"]
    at = open_ref(at, referral_id)
    assert any("closed" in i.value for i in at.info)


def test_gym_filter_limits_the_queue(world):
    world.referral("Ann Riverside", "refer", timedelta(hours=1))
    other = store.create_gym(world.db, actor=SYSTEM, name="Harbour Fitness")
    ben = store.actor_for(
        store.create_user(
            world.db, actor=SYSTEM, username="ben", display_name="Ben Trainer", role=Role.TRAINER, gym_id=other.id
        )
    )
    client = store.create_client(world.db, actor=ben, gym_id=other.id, name="Hugo Harbour", consent_by="ben")
    store.save_report(world.db, actor=ben, client_id=client.id, report=report_payload(**ANSWERS["urgent"]))
    at = world.page()
    assert queue_names(world, at) == ["Hugo Harbour", "Ann Riverside"]
    at.selectbox(key="ref_gym").set_value(other.id).run()
    ok(at)
    assert queue_names(world, at) == ["Hugo Harbour"] and "Harbour Fitness" in at.button[0].label


def test_downloading_the_queue_or_a_handoff_is_audited_as_an_export(world):
    _, referral_id = world.referral("Dora Download", "refer", timedelta(hours=2))
    at = open_ref(world.page(), referral_id)
    ok(at)

    def exports():
        return (
            world.db.cursor()
            .execute(
                "SELECT actor, entity, entity_id, detail FROM audit_log WHERE action = 'export.download' ORDER BY id"
            )
            .fetchall()
        )

    assert exports() == []  # shown is not taken
    for key in ("ref_queue_csv", f"referral-{referral_id}-handoff_pdf"):
        next(b for b in at.get("download_button") if b.key == key).click()
        at.run()
        ok(at)
    assert exports() == [
        ("cleo", "referrals", None, '{"what": "referral queue CSV"}'),
        ("cleo", "referrals", str(referral_id), '{"what": "handoff PDF"}'),
    ]


def test_an_unconfirmed_clearance_is_dropped_when_another_referral_is_opened(world):
    client, maya = world.referral("Maya Petrov", "refer", timedelta(days=1))
    _, other = world.referral("Otto Other", "refer", timedelta(days=2))
    store.update_referral(world.db, actor=world.clinic, referral_id=maya, status="seen")
    at = submit_status(open_ref(world.page(), maya), maya, ReferralStatus.CLEARED, "Fit to train")
    assert any("Clear Maya Petrov to load again?" in w.value for w in at.warning)
    at = open_ref(open_ref(at, other), maya)
    ok(at)
    assert not any("to load again" in w.value for w in at.warning)
    assert store.client_status(world.db, actor=world.trainer, client_id=client.id) == ClientStatus.PAUSED_REFERRAL_OPEN
