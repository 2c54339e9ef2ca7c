"""Driving pages with Streamlit's AppTest: a fresh database file per test, a signed-in trainer, a client.

`st.cache_resource` keeps one Database per path for the whole process, so every test uses its own path
(under tmp_path). The test's own handle and the page's are two connections to one DuckDB instance in
this process, so each sees the other's committed writes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from streamlit.testing.v1 import AppTest

from backcare import store
from backcare.auth import SYSTEM, Actor, Role
from tests.fresh_db import fresh_database

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 30


@dataclass
class AppWorld:
    path: Path
    db: store.Database
    actor: Actor
    client: store.ClientRow | None

    def page(self, script: str, *, with_client: bool = True) -> AppTest:
        """The page, signed in as the trainer, with the client as current client; not run yet."""
        os.environ["BACKCARE_DB"] = str(self.path)
        at = AppTest.from_file(str(ROOT / script), default_timeout=TIMEOUT)
        at.session_state["actor"] = self.actor
        if with_client and self.client is not None:
            at.session_state["client_id"] = self.client.id
        return at


def make_world(tmp_path: Path, *, client_name: str | None = "Ada Lovelace") -> AppWorld:
    path = tmp_path / "app.duckdb"
    db = fresh_database(path)
    gym = store.create_gym(db, actor=SYSTEM, name="Riverside Strength")
    user = store.create_user(
        db,
        actor=SYSTEM,
        username="tara",
        display_name="Tara Trainer",
        role=Role.TRAINER,
        gym_id=gym.id,
        contact="tara@example.test",
    )
    actor = store.actor_for(user)
    client = None
    if client_name:
        client = store.create_client(
            db, actor=actor, gym_id=gym.id, name=client_name, trainer_id=actor.user_id, consent_by=actor.username
        )
    return AppWorld(path=path, db=db, actor=actor, client=client)


def texts(at: AppTest) -> str:
    """Every markdown, caption, alert, title and subheader text of the page, joined (for `in` checks)."""
    parts: list[str] = []
    for group in (
        at.title,
        at.header,
        at.subheader,
        at.markdown,
        at.caption,
        at.info,
        at.success,
        at.warning,
        at.error,
    ):
        parts.extend(str(el.value) for el in group)
    return "\n".join(parts)


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def banner_levels(at: AppTest) -> list[str]:
    """The data-level of every result banner on the page, in order (the first is the topmost)."""
    import re

    return [m for el in at.html for m in re.findall(r'data-testid="bc-banner" data-level="(\w+)"', str(el.value))]


def watching(at: AppTest) -> bool:
    """Whether the neutral strip that holds the place of an emergency or urgent banner is shown."""
    return any('data-testid="bc-watch"' in str(el.value) for el in at.html)


def button(at: AppTest, starts_with: str):
    matches = [b for b in at.button if b.label.startswith(starts_with)]
    assert matches, f"no button starting with {starts_with!r}: {[b.label for b in at.button]}"
    return matches[0]


def set_widget(at: AppTest, key: str, value) -> None:
    """Set the value of the widget with this key, whatever its kind."""
    for group in (at.segmented_control, at.number_input, at.multiselect, at.pills, at.selectbox):
        for widget in group:
            if widget.key == key:
                widget.set_value(value)
                return
    raise AssertionError(f"no widget with key {key!r} on this step")


def tap_next(at: AppTest) -> AppTest:
    return button(at, "Next:").click().run()


def answer_triage(
    at: AppTest,
    *,
    skip: tuple[str, ...] = (),
    yes: tuple[str, ...] = (),
    legs: str = "none",
    quality: str = "dull_ache",
    trend: str = "easing",
    eases: str = "Yes",
    form_id: int = 0,
    pain_score: int = 2,
    hours: float = 20,
    stop_at: str = "result",
    **context,
) -> AppTest:
    """Walk the triage steps of a run page from step 1, answering each step and tapping Next: every yes/no
    question "No" except those in `yes`; those in `skip` (field names) left unanswered, so the walk ends
    on their step, where Next refuses. Context answers by widget key stem (e.g. warmup=2, flags=[...])
    are given on the context step. Ends on the step named `stop_at` (the result, by default)."""
    from backcare import intake

    choices = {
        "leg_symptoms": legs,
        "pain_quality": quality,
        "trend": trend,
        "eases_with_movement": eases,
        "pain_score": pain_score,
        "hours_since_workout": hours,
    }
    stems = {"hours_since_workout": "hours"}
    for step in intake.STEPS:
        if step.name == stop_at:
            return at
        for question in step.questions:
            if question.field in skip:
                continue
            if question.asked_when is not None and question.asked_when[0] not in yes:
                continue  # a follow-up the page does not show for these answers
            value = choices.get(question.field, intake.YES if question.field in yes else intake.NO)
            set_widget(at, f"q_{stems.get(question.field, question.field)}_{form_id}", value)
        if step.name == "context":
            for stem, value in context.items():
                set_widget(at, f"q_{stem}_{form_id}", value)
        at = tap_next(at)
        if any(q.field in skip for q in step.questions):
            return at  # Next refused: still on this step
    return at


def assign_core(world: AppWorld):
    """The core plan assigned to the world's client (from 1 to 15 March 2025), as the Plans page tests start."""
    return store.assign_plan(
        world.db,
        actor=world.actor,
        client_id=world.client.id,
        plan_id="core",
        start_date=date(2025, 3, 1),
        review_date=date(2025, 3, 15),
    )
