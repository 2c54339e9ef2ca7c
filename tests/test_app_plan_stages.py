"""Staged plans on screen (issue 15), driven by AppTest: moving a plan on a stage, only stage 1 at monitor,
pictures and the pain rule on the Plans page, the handout with the trainer's name and contact, and the app
refusing to start on a broken data file."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from backcare import catalogue, plans, store
from backcare.plans import load_library
from tests.app_helpers import ROOT, TIMEOUT, assign_core, button, make_world, no_exception, texts
from tests.conftest import report_payload


def _report(world, **answers):
    return store.save_report(world.db, actor=world.actor, client_id=world.client.id, report=report_payload(**answers))


def test_a_plan_moves_on_a_stage_from_the_plans_page(tmp_path):
    world = make_world(tmp_path)
    _report(world)  # normal: every stage offered
    assignment = assign_core(world)
    at = world.page("pages/plans.py").run()
    no_exception(at)
    control = at.segmented_control(key=f"assignment-{assignment.id}-stage1")
    assert control.options == ["Stage 1: unloaded", "Stage 2: light load", "Stage 3: back to full training"]
    control.set_value(2).run()
    button(at, "Move Core stability to stage 2").click().run()
    no_exception(at)
    (stored,) = store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    assert stored.stage == 2
    assert "Core stability: now at stage 2: light load." in texts(at)


def test_at_monitor_only_stage_1_is_offered_on_the_plans_page(tmp_path):
    world = make_world(tmp_path)
    _report(world, pain_score=5, hours_since_workout=30)
    assignment = assign_core(world)
    at = world.page("pages/plans.py").run()
    no_exception(at)
    assert at.segmented_control(key=f"assignment-{assignment.id}-stage1").options == ["Stage 1: unloaded"]
    at.selectbox(key="library_plan").set_value("posterior_chain").run()
    at.segmented_control(key="library_stage").set_value(2).run()
    assign = button(at, "Assign Glutes and hamstrings at stage 2")
    assert assign.disabled
    assert "only stage 1 may be given" in texts(at)


def test_the_library_shows_pictures_the_pain_rule_stop_rules_and_move_on_criteria(tmp_path):
    world = make_world(tmp_path)
    at = world.page("pages/plans.py").run()
    at.selectbox(key="library_plan").set_value("posterior_chain").run()
    no_exception(at)
    plan = load_library().plan("posterior_chain")
    page = texts(at)
    assert plan.pain_rule in page and plan.stop_rules[0] in page and plan.move_on in page
    assert "Lying hamstring stretch" in page and "Half-kneeling hip flexor stretch" in page
    assert len(at.get("image")) == len(plan.exercises)  # one start/end picture per exercise


def test_the_handout_names_the_trainer_with_contact_not_the_username(tmp_path, monkeypatch):
    from backcare import handout

    seen: dict = {}
    real = handout.render_handout

    def spy(**kwargs):
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(handout, "render_handout", spy)
    world = make_world(tmp_path)
    assign_core(world)
    at = world.page("pages/plans.py").run()
    no_exception(at)
    at.session_state["handout_maker"]()  # the download button's tap makes the PDF (issue 13)
    assert seen["trainer"] == "Tara Trainer" and seen["trainer_contact"] == "tara@example.test"
    assert [p.stage for p in seen["plans"]] == [1]


def test_triage_preselects_at_most_two_plans_and_saves_them_at_stage_1(tmp_path):
    from tests.app_helpers import answer_triage

    world = make_world(tmp_path)
    at = answer_triage(
        world.page("pages/triage.py").run(),
        hours=20,
        pain_score=2,
        exercises=["deadlift"],
        flags=["load_increased", "posture_concern"],
        core=1,
        rest=0,
    )
    no_exception(at)
    pills = at.pills(key="q_plans_0")
    assert len(pills.options) == 4 and len(pills.value) == 2
    assert "exercises in all, each listed once" in texts(at)
    button(at, "Save report and assign 2 plans").click().run()
    no_exception(at)
    stored = store.list_assignments(world.db, actor=world.actor, client_id=world.client.id)
    assert len(stored) == 2 and {a.stage for a in stored} == {1}


@pytest.mark.parametrize(
    "module, name, old, new, where",
    [
        (
            plans,
            "plans.toml",
            'exercises = ["dead_bug", "bird_dog", "glute_bridge", "side_plank"]',
            'exercises = ["dead_bug", "bird_dgo", "glute_bridge", "side_plank"]',
            "plans.toml: plan 'core', stages[1].exercises[2]",
        ),
        (
            catalogue,
            "exercises.toml",
            'spellings = ["sumo dead lift", "sumo dl"]\npattern = "hinge"',
            'spellings = ["sumo dead lift", "sumo dl"]\npattern = "twist"',
            "exercises.toml: exercise 'sumo_deadlift' (entry 2), pattern",
        ),
    ],
)
def test_the_app_does_not_start_on_a_broken_data_file(tmp_path, monkeypatch, module, name, old, new, where):
    text = module.DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    broken = tmp_path / name
    broken.write_text(text.replace(old, new, 1), encoding="utf-8")
    monkeypatch.setattr(module, "DEFAULT_PATH", broken)
    world = make_world(tmp_path, client_name=None)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    at.session_state["actor"] = world.actor
    monkeypatch.setenv("BACKCARE_DB", str(world.path))
    at.run()
    assert not at.exception
    (error,) = at.error
    assert "BackCare cannot start" in error.value and where in error.value
    assert not at.text_input and not at.button  # no sign-in form, no page


def test_the_app_starts_on_the_shipped_data_files(tmp_path, monkeypatch):
    world = make_world(tmp_path, client_name=None)
    monkeypatch.setenv("BACKCARE_DB", str(world.path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not [e for e in at.error if "cannot start" in e.value]
