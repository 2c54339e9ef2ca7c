"""Issue 14: after a save that assigns plans, the confirmation offers the client's printable handout at once
(backcare.handout builds it); a save without plans offers none, and the offer goes once the next report is
started."""

from __future__ import annotations

from backcare import handout, intake
from tests.app_helpers import answer_triage, button, make_world, no_exception, set_widget


def handout_buttons(at) -> list:
    return [b for b in at.get("download_button") if str(getattr(b, "key", "") or "").startswith("triage_handout_")]


def test_a_save_with_plans_offers_the_handout_on_the_confirmation(tmp_path, monkeypatch):
    made = []
    real = handout.render_handout

    def spy(**kwargs):
        made.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(handout, "render_handout", spy)
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), warmup=2)
    assert handout_buttons(at) == []
    button(at, "Save report and assign 1 plan").click().run()
    no_exception(at)
    (offer,) = handout_buttons(at)
    assert offer.proto.label == "Download the handout for Ada Lovelace (PDF)"
    assert made == []  # issue 13: made when the button is tapped, not when it is offered
    assert at.session_state["triage_handout"]["make"]().startswith(b"%PDF")  # the button's callable
    (call,) = made
    assert call["client_name"] == "Ada Lovelace" and len(call["plans"]) == 1  # the plan just assigned

    set_widget(at, f"q_{intake.STEPS[0].questions[0].field}_1", intake.NO)  # the next report starts
    at.run()
    assert handout_buttons(at) == []


def test_a_save_without_plans_offers_no_handout(tmp_path):
    world = make_world(tmp_path)
    at = answer_triage(world.page("pages/triage.py").run(), warmup=2)
    at.pills(key="q_plans_0").set_value([]).run()
    button(at, "Save report").click().run()
    no_exception(at)
    assert handout_buttons(at) == []
