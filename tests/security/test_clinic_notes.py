"""Who reads the clinic's free-text notes (issue 12, Low): the clinic (and whoever may read the handoff) does;
a trainer sees each status change, who made it and when, and the restrictions of a clearance, never the
clinic's notes (README, "Who sees what"). Before the fix a trainer read every note."""

from __future__ import annotations

from backcare import store
from backcare.auth import Actor, Role
from tests.conftest import report_payload

NOTE = "Disc bulge L4/5 on the scan; call the GP about the steroid course."


def test_a_trainer_sees_status_and_restrictions_but_not_the_clinics_notes(db, client, trainer_actor):
    clinic = Actor(username="cleo", role=Role.CLINIC)
    saved = store.save_report(db, actor=trainer_actor, client_id=client.id, report=report_payload(pain_score=8))
    store.update_referral(db, actor=clinic, referral_id=saved.referral_id, status="seen", note=NOTE)
    store.update_referral(
        db,
        actor=clinic,
        referral_id=saved.referral_id,
        status="cleared_with_restrictions",
        restrictions="No loaded spinal flexion for 4 weeks",
        note="Cleared by Dr Park.",
    )

    seen_by_trainer = store.referral_events(db, actor=trainer_actor, referral_id=saved.referral_id)
    assert [(e.status, e.author) for e in seen_by_trainer] == [
        ("new", "tara"),
        ("seen", "cleo"),
        ("cleared_with_restrictions", "cleo"),
    ]
    assert {e.note for e in seen_by_trainer} == {None}
    assert NOTE not in repr(store.client_history(db, actor=trainer_actor, client_id=client.id))
    (referral,) = store.client_referrals(db, actor=trainer_actor, client_id=client.id)
    assert referral.restrictions == "No loaded spinal flexion for 4 weeks"

    seen_by_clinic = store.referral_events(db, actor=clinic, referral_id=saved.referral_id)
    assert [e.note for e in seen_by_clinic][1:] == [NOTE, "Cleared by Dr Park."]
