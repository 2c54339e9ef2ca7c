"""The triage form's state across its steps: the answers, kept by widget key; the open step; moving on.

Streamlit forgets a widget's value at the end of a run that does not draw it, and each step draws only
its own questions, so the answers live here, in the session state, under the form's id. A new form (after
a save, or for another client) gets new widget keys, so it starts blank.

An emergency stops the questions (TRIAGE.md): the form then remembers the report saved at the stop and
which answers it held, so answers added afterwards go to that report as answers given after the stop.

`state` is the session state (any mutable mapping: tests pass a dict). Nothing here draws except
`widget()`, which draws the widget function it is given.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, MutableMapping
from datetime import date
from typing import Any

from backcare import intake, questions
from backcare.models import Level
from backcare.store.records import age_from_year_of_birth

STEMS = {"hours_since_workout": "hours"}  # widget key stems that differ from the field name
CONTEXT_STEMS = ("exercises", "warmup", "sleep", "core", "sitting", "rest", "cooldown", "flags")
ALARMING = (Level.URGENT, Level.EMERGENCY)  # in rising order
SCREENING = -1  # the form's client while screening a person who is not a client (no client id is negative)

# TRIAGE.md's "where?" follow-up: a nerve sign answered yes while the legs question says "none". The answer
# sets `leg_symptoms`, so a nerve sign in both legs reaches emergency whatever step it was reported on.
WHERE_TEXT = "Where are the numbness, tingling or weakness?"
WHERE_CHOICES: dict[str, str] = {"back": "The back only", "one_leg": "One leg", "both_legs": "Both legs"}
WHERE_LEGS: dict[str, str] = {"back": "none", "one_leg": "one_leg", "both_legs": "both_legs"}
WHERE_STEP = next(i for i, s in enumerate(intake.STEPS) if any(q.field in questions.NERVE_SIGNS for q in s.questions))
# The client's year of birth, asked on the same step when it is not on record (optional).
AGE_STEP = WHERE_STEP


# What a draft keeps, by widget key stem: every question, the "where?" follow-up, the year of birth given on the
# form and the training context.
DRAFT_QUESTIONS: dict[str, questions.Question] = {
    STEMS.get(q.field, q.field): q for s in intake.STEPS for q in s.questions
}
ANSWER_STEMS: tuple[str, ...] = (*DRAFT_QUESTIONS, "where", "yob")  # given by the trainer, never prefilled
DRAFT_STEMS: tuple[str, ...] = (*ANSWER_STEMS, *CONTEXT_STEMS)


def _step_stems() -> list[tuple[str, ...]]:
    """The widget key stems each step draws (worked out once, not on every rerun)."""
    stems = [[STEMS.get(q.field, q.field) for q in s.questions] for s in intake.STEPS]
    stems[WHERE_STEP].append("where")
    stems[AGE_STEP].append("yob")
    stems[intake.CONTEXT_STEP] = list(CONTEXT_STEMS)
    stems[intake.RESULT_STEP] = ["start", "review"]
    return [tuple(step) for step in stems]


STEP_STEMS: list[tuple[str, ...]] = _step_stems()


def _yes_no(value: Any) -> str | None:
    """A prefilled yes/no as the form's answer; anything but True or False is not known."""
    return intake.YES if value is True else intake.NO if value is False else None


class TriageForm:
    def __init__(self, state: MutableMapping[Any, Any], client_id: int):
        self.state = state
        form_id = state.setdefault("triage_form_id", 0)
        if state.setdefault("triage_form_client", client_id) != client_id:
            # Another client: a blank form, so no answer given for one client is ever saved for another.
            old = state.get(f"triage_kept_{form_id}") or {}
            started = any(
                old.get(f"q_{STEMS.get(q.field, q.field)}_{form_id}") is not None
                for s in intake.STEPS
                for q in s.questions
            )  # a question answered, not just drawn
            form_id = self._forget(form_id)
            state["triage_form_client"] = client_id
            if started:
                state[f"triage_flash_{form_id}"] = (
                    "The unfinished report for the previous client was not saved (a client who agreed to us "
                    "storing their data keeps it as a draft: open them again to carry on). "
                    "This is a new report for this client."
                )
        self.id: int = form_id
        self.kept: dict[str, Any] = state.setdefault(f"triage_kept_{form_id}", {})
        self.step_key, self.nav_key = f"triage_step_{form_id}", f"triage_nav_{form_id}"
        self.opened_key, self.drawn_key = f"triage_opened_{form_id}", f"triage_drawn_{form_id}"
        self.flash_key = f"triage_flash_{form_id}"
        self.reach = 0  # the furthest step the form may show, as open_step() last found it
        # Saved with the report: the store keeps one report per token, whatever reaches Save twice.
        token = state.get(f"triage_token_{form_id}")
        if token is None:  # drawn once per form, not on every rerun
            token = state[f"triage_token_{form_id}"] = uuid.uuid4().hex
        self.token: str = token
        # A value tapped in the same rerun as a step button is in the session state now, but its widget may
        # not be drawn on this run (the button moved to another step): keep it before Streamlit forgets it.
        # Such values can only belong to the step last drawn in full, or to the one last opened (a run
        # interrupted by the next tap draws it only in part).
        last_steps = {state.get(self.drawn_key, 0), state.get(self.opened_key, 0)}
        for step in last_steps:
            for stem in STEP_STEMS[step]:
                widget_key = self.key(stem)
                if widget_key in state:
                    self.kept[widget_key] = state[widget_key]
        if intake.RESULT_STEP in last_steps and self.key("plans") in state:  # plans taken off, likewise
            self._note_plans(self.kept.get(self.key("offered_plans"), []), state[self.key("plans")] or [])

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
        seeds = {
            "exercises": prefill.get("exercises"),
            "warmup": prefill.get("warmup_minutes"),
            "rest": prefill.get("rest_days_last_7"),
            "cooldown": _yes_no(prefill.get("cooldown_done")),
        }
        for stem, seed in seeds.items():
            if seed is not None:
                self.default(stem, seed)

    def context(self) -> dict[str, Any]:
        """The training context as the report takes it (None where not known)."""
        read = lambda stem: self.kept.get(self.key(stem))  # noqa: E731
        cooldown = read("cooldown")
        ctx = {
            "exercises": read("exercises") or [],
            "warmup_minutes": read("warmup"),
            "sleep_hours": read("sleep"),
            "core_sessions_per_week": read("core"),
            "sitting_hours_per_day": read("sitting"),
            "rest_days_last_7": read("rest"),
            "cooldown_done": None if cooldown is None else cooldown == intake.YES,
        }
        applies = read("flags") or []
        ctx.update({field: field in applies for field in intake.CONTEXT_FLAGS})
        return ctx

    def default(self, stem: str, value: Any) -> None:
        """A starting value for a widget the trainer has not set yet."""
        self.kept.setdefault(self.key(stem), value)

    def value(self, stem: str) -> Any:
        """The kept answer of one widget, by key stem."""
        return self.kept.get(self.key(stem))

    def widget(self, widget: Callable[..., Any], label: str, stem: str, *args: Any, **kwargs: Any) -> Any:
        """Draw a widget with no starting value of its own: it shows the kept answer (or nothing)."""
        widget_key = self.key(stem)
        if widget_key not in self.state and self.kept.get(widget_key) is not None:
            self.state[widget_key] = self.kept[widget_key]
        value = widget(label, *args, key=widget_key, **kwargs)
        self.kept[widget_key] = value
        return value

    def plans(self, widget: Callable[..., Any], label: str, offered: list, **kwargs: Any) -> list:
        """The plans to assign: every plan offered, less those the trainer took off (remembered across
        steps, also when going back changes what is offered)."""
        plans_key = self.key("plans")
        # Drawn afresh, or the plans offered changed under the open result (a session logged meanwhile):
        # Streamlit would drop a choice no longer offered and leave a new plan unchosen.
        if plans_key not in self.state or list(offered) != self.kept.get(self.key("offered_plans")):
            declined = set(self.kept.get(self.key("declined_plans"), ()))
            self.state[plans_key] = [plan for plan in offered if plan not in declined]
        chosen = widget(label, offered, key=plans_key, **kwargs) or []
        self._note_plans(offered, chosen)
        return chosen

    def _note_plans(self, offered: list, chosen: list) -> None:
        declined = set(self.kept.get(self.key("declined_plans"), ()))
        self.kept[self.key("declined_plans")] = sorted((declined - set(offered)) | (set(offered) - set(chosen)))
        self.kept[self.key("offered_plans")] = list(offered)

    # --- the draft kept on the server (a reload or a dropped connection keeps the answers) ----------

    def draft(self) -> dict[str, Any]:
        """The answers given so far and the open step, as the server keeps them (empty: nothing answered).
        Plan choices and dates are not kept: they are chosen again on the result."""
        kept = {stem: self.kept.get(self.key(stem)) for stem in DRAFT_STEMS}
        answers = {stem: value for stem, value in kept.items() if value not in (None, [], "")}
        if not any(stem in answers for stem in ANSWER_STEMS):  # a context prefilled from the history is no answer
            return {}
        return {"answers": answers, "step": int(self.state.get(self.step_key, 0))}

    def draft_changed(self, draft: dict[str, Any]) -> bool:
        """Whether this draft differs from the one last sent to the server (a write only when it does)."""
        return draft != self.state.get(f"triage_draft_sent_{self.id}", {})

    def draft_sent(self, draft: dict[str, Any]) -> None:
        self.state[f"triage_draft_sent_{self.id}"] = draft

    @property
    def started(self) -> bool:
        """Any question answered (or context given) on this form."""
        return bool(self.draft())

    def needs_draft_check(self) -> bool:
        """Once per form, and only on a blank one: is there a draft to carry on with?"""
        checked_key = f"triage_draft_checked_{self.id}"
        if self.state.get(checked_key):
            return False
        self.state[checked_key] = True
        return not self.started

    def restore(self, draft: dict[str, Any]) -> bool:
        """Fill a blank form from a kept draft: only answers this form still asks with values it still offers
        (the questions may have changed since). Returns whether anything was restored."""
        answers = draft.get("answers") if isinstance(draft, dict) else None
        if not isinstance(answers, dict):
            return False
        restored: dict[str, Any] = {}
        for stem, value in answers.items():
            if stem not in DRAFT_STEMS or value is None:
                continue
            question = DRAFT_QUESTIONS.get(stem)
            if question is not None and question.kind is not questions.Kind.HOURS:
                if value not in intake.choices(question):
                    continue
            elif stem == "where" and value not in WHERE_CHOICES:
                continue
            restored[stem] = value
        if not restored:
            return False
        for stem, value in restored.items():
            self.kept[self.key(stem)] = value
            self.state.pop(self.key(stem), None)  # the widget shows the restored answer when drawn
        step = draft.get("step")
        if isinstance(step, int) and 0 <= step < len(intake.STEPS):
            self.state[self.step_key] = step
        self.state[f"triage_restored_{self.id}"] = True
        self.draft_sent(self.draft())  # the server holds this already
        return True

    @property
    def restored(self) -> bool:
        """This form was filled from a draft kept on the server."""
        return bool(self.state.get(f"triage_restored_{self.id}"))

    # --- the "where?" follow-up and the year of birth -----------------------------------------------

    def where_missing(self, *, in_callback: bool = False, answers: dict[str, Any] | None = None) -> bool:
        """The "where?" follow-up applies and has no answer yet."""
        read = self._current if in_callback else self.kept.get
        answers = self.answers(in_callback=in_callback) if answers is None else answers
        return (
            intake.needs_where(answers)
            and read(self.key("where")) is None
            and "leg_symptoms" not in self.answered_at_save
        )

    def shows_where(self, answers: dict[str, Any] | None = None) -> bool:
        """Whether the page asks "where?": while it applies, and, once answered, for as long as a nerve sign
        is yes (so the trainer sees the answer they gave and can change it)."""
        if "leg_symptoms" in self.answered_at_save:  # saved at the stop: the legs answer stays as it was
            return False
        answers = self.answers() if answers is None else answers
        if not any(answers.get(f) == intake.YES for f in questions.NERVE_SIGNS):
            return False
        return self.kept.get(self.key("where")) is not None or intake.needs_where(answers)

    def on_where(self) -> None:
        """Callback of the "where?" question: it sets the legs answer (step 1) from the answer given."""
        where = self.state.get(self.key("where"))
        self.kept[self.key("where")] = where
        if where in WHERE_LEGS:
            legs_key = self.key("leg_symptoms")
            self.kept[legs_key] = WHERE_LEGS[where]
            self.state.pop(legs_key, None)  # step 1's widget shows the new answer when drawn again

    def year_of_birth(self) -> int | None:
        """The year of birth given on this form (a person screened without saving, or not yet stored)."""
        value = self.kept.get(self.key("yob"))
        return None if value is None else int(value)

    def age(self, today: date) -> int | None:
        year = self.year_of_birth()
        return None if year is None else age_from_year_of_birth(year, today)

    # --- steps ------------------------------------------------------------------------------------

    def furthest(self, *, in_callback: bool = False) -> int:
        """The furthest step the form may show: intake's rule (the first step with a question left), and
        never past the "where?" follow-up while it is unanswered."""
        answers = self.answers(in_callback=in_callback)
        reach = intake.furthest_step(answers)
        if reach > WHERE_STEP and self.where_missing(in_callback=in_callback, answers=answers):
            return WHERE_STEP
        return reach

    def open_step(self, reach: int | None = None) -> int:
        """The step to draw on this run: the one chosen, but never past the first with a question left
        (nor past `reach`, when the page knows of another reason to stop, such as a context error)."""
        furthest = self.reach = self.furthest()
        step = min(self.state.get(self.step_key, 0), furthest if reach is None else min(furthest, reach))
        self.state[self.step_key] = self.state[self.nav_key] = self.state[self.opened_key] = step
        return step

    def mark_drawn(self, step: int) -> None:
        """Called once the step's widgets are all drawn."""
        self.state[self.drawn_key] = step

    def go(self, target: int) -> None:
        """Move to a step (a callback of the step buttons and the step bar); refused past the first step
        with a question left, with a message naming what is left."""
        answers = self.answers(in_callback=True)
        reach = self.furthest(in_callback=True)
        if target > reach:
            left = [q.text for q in intake.step_unanswered(reach, answers)]
            if reach == WHERE_STEP and self.where_missing(in_callback=True):
                left.append(WHERE_TEXT)
            self.state[self.flash_key] = (
                f"Answer every question of step {reach + 1} first. Still to answer: " + "; ".join(left)
            )
            target = reach
        self.state[self.step_key] = target

    def on_step_bar(self) -> None:
        chosen = self.state.get(self.nav_key)
        if chosen is not None:  # tapping the open step again deselects it: stay
            self.go(chosen)

    def needs_alert(self, level: Level) -> bool:
        """True when this form's result has risen to urgent or to emergency since the last alert: the
        moment to raise an alert the trainer cannot scroll past. A result back below urgent re-arms it."""
        alerted_key = f"triage_alerted_{self.id}"
        if level not in ALARMING:
            self.state.pop(alerted_key, None)
            return False
        before = self.state.get(alerted_key)
        return before is None or ALARMING.index(level) > ALARMING.index(Level(before))

    def alerted(self, level: Level) -> None:
        """Record the alert once it is on its way (a run cut short before that raises it again)."""
        self.state[f"triage_alerted_{self.id}"] = level.value

    # --- the emergency stop ------------------------------------------------------------------------

    @property
    def saved_report(self) -> int | None:
        """The report saved at the emergency stop (answers added afterwards go to it), or None."""
        return self.state.get(f"triage_report_{self.id}")

    @property
    def answered_at_save(self) -> frozenset[str]:
        """The questions the saved report holds an answer to (the others were recorded as not asked)."""
        return frozenset(self.state.get(f"triage_answered_{self.id}", ()))

    def mark_saved(self, report_id: int, answered: Iterable[str]) -> None:
        """The report is stored: the stop is over, the questions it left open may still be answered."""
        self.state[f"triage_report_{self.id}"] = report_id
        self.state[f"triage_answered_{self.id}"] = sorted(set(answered) | self.answered_at_save)
        self.correcting = False

    def added_answers(self) -> dict[str, Any]:
        """Answers given since the save, to questions the saved report records as not asked (typed)."""
        typed = intake.typed_answers(self.answers())
        done = self.answered_at_save
        return {field: value for field, value in typed.items() if value is not None and field not in done}

    def remaining(self, asked: Iterable[questions.Question]) -> list[questions.Question]:
        """The questions still to show: after a save at the stop, only those the report left not asked."""
        if self.saved_report is None:
            return list(asked)
        return [q for q in asked if q.field not in self.answered_at_save]

    @property
    def correcting(self) -> bool:
        """The trainer reopened the questions at the stop to correct a mis-tap (nothing saved yet)."""
        return bool(self.state.get(f"triage_correcting_{self.id}"))

    @correcting.setter
    def correcting(self, value: bool) -> None:
        if value:
            self.state[f"triage_correcting_{self.id}"] = True
        else:
            self.state.pop(f"triage_correcting_{self.id}", None)

    def pop_flash(self) -> str | None:
        return self.state.pop(self.flash_key, None)

    def finish(self) -> None:
        """After a save: the next report starts blank, on step 1."""
        self.id = self._forget(self.id)

    @staticmethod
    def adopt(state: MutableMapping[Any, Any], client_id: int) -> None:
        """A person screened without saving was just added as a client (with consent): the open form
        becomes theirs, answers kept, so it can be saved for them. The only way a form changes client."""
        state["triage_form_client"] = client_id

    def _forget(self, form_id: int) -> int:
        for part in (
            "kept",
            "draft_sent",
            "draft_checked",
            "restored",
            "step",
            "opened",
            "drawn",
            "alerted",
            "flash",
            "token",
            "report",
            "answered",
            "correcting",
        ):
            self.state.pop(f"triage_{part}_{form_id}", None)
        self.state["triage_form_id"] = form_id + 1
        return form_id + 1
