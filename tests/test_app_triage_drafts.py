"""Issue 14: the half-filled triage form is kept on the server for the trainer and the client. A reload (a new
browser session: a new AppTest) carries on with the answers and the open step; the draft is written only when
the answers change, goes when the report is saved or discarded, and is never kept for a client who has not
agreed to us storing their data. The browser test (tests/browser/test_reload_signin.py) does the real reload."""

from __future__ import annotations

from datetime import date, timedelta

from backcare import intake, store
from backcare.auth import SYSTEM
from tests.app_helpers import answer_triage, button, make_world, no_exception, set_widget, texts

FIRST = intake.STEPS[0].questions[0].field


def kept_rows(world) -> list[tuple]:
    with world.db.read() as cur:
        return cur.execute("SELECT user_id, client_id, answers_json, saved_at FROM triage_drafts").fetchall()


def audit_actions(world, action: str) -> int:
    with world.db.read() as cur:
        return cur.execute("SELECT count(*) FROM audit_log WHERE action = ?", [action]).fetchone()[0]


def test_a_reload_carries_on_with_the_answers_and_the_open_step(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), stop_at="pain")  # steps 1 and 2 answered
    set_widget(at, "q_pain_score_0", 6)
    at.run()
    no_exception(at)

    reloaded = world.page("pages/triage.py").run()  # a new browser session for the same trainer and client
    no_exception(reloaded)
    assert "3 · The pain" in texts(reloaded)
    assert reloaded.segmented_control(key="q_pain_score_0").value == 6
    assert "Carried on from the unfinished report" in texts(reloaded)
    # the earlier steps hold their answers too
    form_answers = {k: v for k, v in reloaded.session_state["triage_kept_0"].items() if v is not None}
    assert form_answers[f"q_{FIRST}_0"] == intake.NO and form_answers["q_leg_symptoms_0"] == "none"


def test_the_draft_is_written_only_when_an_answer_changes_and_its_start_is_audited_once(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    assert kept_rows(world) == []  # a blank form keeps nothing
    set_widget(at, f"q_{FIRST}_0", intake.NO)
    at.run()
    (first,) = kept_rows(world)
    at.run()  # a rerun with nothing changed
    assert kept_rows(world) == [first]
    set_widget(at, "q_leg_symptoms_0", "none")
    at.run()
    (second,) = kept_rows(world)
    assert second[2] != first[2] and '"q_leg_symptoms"' not in second[2] and '"leg_symptoms": "none"' in second[2]
    assert audit_actions(world, "triage.draft_started") == 1


def test_saving_the_report_removes_the_draft(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), warmup=2)
    assert len(kept_rows(world)) == 1
    button(at, "Save report").click().run()
    no_exception(at)
    assert kept_rows(world) == []
    assert "1 · Emergency signs" in texts(world.page("pages/triage.py").run())  # and a reload starts blank


def test_discard_asks_first_then_removes_the_answers_here_and_on_the_server_with_an_audit_row(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    set_widget(at, f"q_{FIRST}_0", intake.NO)
    at.run()
    button(at, "Discard this report").click().run()
    assert "Discard the answers given so far" in texts(at) and len(kept_rows(world)) == 1
    button(at, "Keep the answers").click().run()
    assert len(kept_rows(world)) == 1 and at.segmented_control(key=f"q_{FIRST}_0").value == intake.NO
    button(at, "Discard this report").click().run()
    button(at, "Yes, discard").click().run()
    no_exception(at)
    assert kept_rows(world) == []
    assert audit_actions(world, "triage.draft_discarded") == 1
    assert "discarded" in texts(at)
    assert all(c.value is None for c in at.segmented_control if c.key.startswith("q_"))


def test_after_a_reload_without_a_client_one_tap_carries_on_with_the_unfinished_report(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/triage.py").run()
    set_widget(at, f"q_{FIRST}_0", intake.NO)
    at.run()

    reloaded = world.page("pages/triage.py", with_client=False).run()  # the reload forgot the current client
    no_exception(reloaded)
    assert "Unfinished reports" in texts(reloaded)
    button(reloaded, "Carry on with the report for Ada Lovelace").click().run()
    no_exception(reloaded)
    assert reloaded.segmented_control(key=f"q_{FIRST}_0").value == intake.NO


def test_no_draft_is_kept_for_a_client_without_consent(tmp_path):
    world = make_world(tmp_path, client_name=None)
    client = store.create_client(
        world.db, actor=world.actor, gym_id=world.actor.gym_id, name="No Consent", trainer_id=world.actor.user_id
    )
    at = world.page("pages/triage.py", with_client=False)
    at.session_state["client_id"] = client.id
    at.run()
    set_widget(at, f"q_{FIRST}_0", intake.NO)
    at.run()
    no_exception(at)
    assert kept_rows(world) == []


def test_a_draft_from_another_trainer_is_not_offered(tmp_path):
    world = make_world(tmp_path)
    store.save_draft(world.db, actor=world.actor, client_id=world.client.id, answers={"answers": {FIRST: "No"}})
    other = store.actor_for(
        store.create_user(
            world.db, actor=SYSTEM, username="theo", display_name="Theo", role="trainer", gym_id=world.actor.gym_id
        )
    )
    at = world.page("pages/triage.py")
    at.session_state["actor"] = other
    at.run()
    no_exception(at)
    assert at.segmented_control(key=f"q_{FIRST}_0").value is None


def test_a_context_prefilled_from_logged_sessions_is_no_draft_until_an_answer_is_given(tmp_path):
    world = make_world(tmp_path)
    store.log_session(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        session={
            "date": date.today() - timedelta(days=1),
            "minutes": 50,
            "rpe": 6,
            "exercises": ["deadlift"],
            "warmup_minutes": 3,
            "cooldown_done": False,
        },
    )
    at = world.page("pages/triage.py").run()
    no_exception(at)
    assert kept_rows(world) == [] and audit_actions(world, "triage.draft_started") == 0
    assert not [b for b in at.button if b.label == "Discard this report"]
    set_widget(at, f"q_{FIRST}_0", intake.NO)
    at.run()
    assert len(kept_rows(world)) == 1
