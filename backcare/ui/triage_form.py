"""The triage form's state across its steps: the answers, kept by widget key; the open step; moving on.

Streamlit forgets a widget's value at the end of a run that does not draw it, and each step draws only
its own questions, so the answers live here, in the session state, under the form's id. A new form (after
a save, or for another client) gets new widget keys, so it starts blank.

`state` is the session state (any mutable mapping: tests pass a dict). Nothing here draws except
`widget()`, which draws the widget function it is given.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from backcare import intake
from backcare.models import Level

STEMS = {"hours_since_workout": "hours"}  # widget key stems that differ from the field name
CONTEXT_STEMS = ("exercises", "warmup", "sleep", "core", "sitting", "rest", "cooldown", "flags")
FLASH_KEY = "triage_flash"
ALARMING = (Level.URGENT, Level.EMERGENCY)  # in rising order


class TriageForm:
    def __init__(self, state: MutableMapping[str, Any], client_id: int):
        self.state = state
        form_id = state.setdefault("triage_form_id", 0)
        if state.setdefault("triage_form_client", client_id) != client_id:
            # Another client: a blank form, so no answer given for one client is ever saved for another.
            form_id = self._forget(form_id)
            state["triage_form_client"] = client_id
        self.id: int = form_id
        self.kept: dict[str, Any] = state.setdefault(f"triage_kept_{form_id}", {})
        self.step_key, self.nav_key = f"triage_step_{form_id}", f"triage_nav_{form_id}"
        self.drawn_key = f"triage_drawn_{form_id}"
        self.step_keys = [[self.key(STEMS.get(q.field, q.field)) for q in s.questions] for s in intake.STEPS]
        self.step_keys[intake.CONTEXT_STEP] = [self.key(stem) for stem in CONTEXT_STEMS]
        # A value tapped in the same rerun as a step button is in the session state now, but its widget may
        # not be drawn on this run (the button moved to another step): keep it before Streamlit forgets it.
        # Only the step drawn last time can have such values.
        for widget_key in self.step_keys[state.get(self.drawn_key, 0)]:
            if widget_key in state:
                self.kept[widget_key] = state[widget_key]

    def key(self, stem: str) -> str:
        return f"q_{stem}_{self.id}"

    # --- answers ----------------------------------------------------------------------------------

    def _current(self, widget_key: str) -> Any:
        """A widget's value in a callback: as just tapped (before the page draws it again), or as kept."""
        return self.state[widget_key] if widget_key in self.state else self.kept.get(widget_key)

    def answers(self, *, in_callback: bool = False) -> dict[str, Any]:
        """The answers to every question (None where unanswered), by field."""
        read = self._current if in_callback else self.kept.get
        return {q.field: read(self.key(STEMS.get(q.field, q.field))) for s in intake.STEPS for q in s.questions}

    def seed_context(self, prefill: dict[str, Any]) -> None:
        """Context answers the history holds count until the trainer changes them on the context step."""
        seeds = {"exercises": prefill.get("exercises"), "warmup": prefill.get("warmup_minutes"),
                 "rest": prefill.get("rest_days_last_7"),
                 "cooldown": {True: intake.YES, False: intake.NO}.get(prefill.get("cooldown_done"))}
        for stem, seed in seeds.items():
            if seed is not None:
                self.kept.setdefault(self.key(stem), seed)

    def context(self) -> dict[str, Any]:
        """The training context as the report takes it (None where not known)."""
        read = lambda stem: self.kept.get(self.key(stem))  # noqa: E731
        cooldown = read("cooldown")
        ctx = {"exercises": read("exercises") or [], "warmup_minutes": read("warmup"), "sleep_hours": read("sleep"),
               "core_sessions_per_week": read("core"), "sitting_hours_per_day": read("sitting"),
               "rest_days_last_7": read("rest"), "cooldown_done": None if cooldown is None else cooldown == intake.YES}
        applies = read("flags") or []
        ctx.update({field: field in applies for field in intake.CONTEXT_FLAGS})
        return ctx

    def widget(self, widget: Callable[..., Any], label: str, stem: str, *args: Any, **kwargs: Any) -> Any:
        """Draw a widget with no starting value of its own: it shows the kept answer (or nothing)."""
        widget_key = self.key(stem)
        if widget_key not in self.state and self.kept.get(widget_key) is not None:
            self.state[widget_key] = self.kept[widget_key]
        value = widget(label, *args, key=widget_key, **kwargs)
        self.kept[widget_key] = value
        return value

    # --- steps ------------------------------------------------------------------------------------

    def open_step(self) -> int:
        """The step to draw on this run: the one chosen, but never past the first with a question left."""
        step = min(self.state.get(self.step_key, 0), intake.furthest_step(self.answers()))
        self.state[self.step_key] = self.state[self.nav_key] = self.state[self.drawn_key] = step
        return step

    def go(self, target: int) -> None:
        """Move to a step (a callback of the step buttons and the step bar); refused past the first step
        with a question left, with a message naming what is left."""
        answers = self.answers(in_callback=True)
        reach = intake.furthest_step(answers)
        if target > reach:
            left = intake.step_unanswered(reach, answers)
            self.state[FLASH_KEY] = (f"Answer every question of step {reach + 1} first. Still to answer: "
                                     + "; ".join(q.text for q in left))
            target = reach
        self.state[self.step_key] = target

    def on_step_bar(self) -> None:
        chosen = self.state.get(self.nav_key)
        if chosen is not None:  # tapping the open step again deselects it: stay
            self.go(chosen)

    def newly_alarming(self, level: Level) -> bool:
        """True once each time this form's result rises to urgent or to emergency: the moment to raise an
        alert the trainer cannot scroll past."""
        if level not in ALARMING:
            return False
        alerted_key = f"triage_alerted_{self.id}"
        before = self.state.get(alerted_key)
        if before is not None and ALARMING.index(level) <= ALARMING.index(Level(before)):
            return False
        self.state[alerted_key] = level.value
        return True

    def pop_flash(self) -> str | None:
        return self.state.pop(FLASH_KEY, None)

    def finish(self) -> None:
        """After a save: the next report starts blank, on step 1."""
        self.id = self._forget(self.id)

    def _forget(self, form_id: int) -> int:
        for part in ("kept", "step", "drawn", "alerted"):
            self.state.pop(f"triage_{part}_{form_id}", None)
        self.state["triage_form_id"] = form_id + 1
        return form_id + 1
