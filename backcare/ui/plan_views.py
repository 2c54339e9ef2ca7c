"""Showing and choosing plans on a tablet: stacked text, no wide tables, so nothing scrolls sideways.

Imported by app.py before anything that loads the data files (backcare.rules loads the catalogue on import),
so that `data_files_or_stop()` can say which file is broken instead of a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import streamlit as st

from backcare import figures
from backcare.catalogue import STAGE_NAMES, load_catalogue
from backcare.errors import BackCareError
from backcare.models import CauseId, Level, TriageResult
from backcare.plans import Plan, SafetyNet, check_data_files, combined_exercises, offered_stages, preselected_plans
from backcare.ui import words

log = logging.getLogger(__name__)

REVIEW_AFTER = timedelta(days=14)


def data_files_or_stop() -> None:
    """The app does not start on a broken exercise catalogue or plan library: one clear error naming the file,
    the entry and the field, and nothing else runs."""
    try:
        check_data_files()
    except BackCareError as error:
        st.error(
            f"BackCare cannot start: a data file is broken. {error}. Fix the file (or restore it from the "
            "release) and reload the page.",
            icon=":material/error:",
        )
        st.stop()


def exercise_picture(exercise_id: str | None, *, width: int = 240) -> None:
    """The exercise's start and end positions as a line figure (SVG drawn by backcare.figures)."""
    if exercise_id is None:
        return
    catalogue = load_catalogue()
    entry = next((e for e in catalogue.exercises if e.id == exercise_id), None)
    if entry is None or entry.pose is None:
        return
    st.image(figures.svg(entry, width=width), width=width)


def plan_body(plan: Plan, *, pictures: bool = True) -> None:
    """Stage, goal, each exercise with its picture, dose, cues and mistakes, then the pain rule, the plan's
    stop rules, when to move on, per-client notes, cautions and review."""
    st.markdown(f"**{plan.stage_name}** · **Goal:** {plan.goal}")
    for exercise in plan.exercises:
        with st.container(border=True):
            if pictures:
                exercise_picture(exercise.exercise_id)
            dose = ", ".join(part for part in (exercise.dose, exercise.rest, exercise.effort) if part)
            cues = "\n".join(f"- {cue}" for cue in exercise.cues)
            st.markdown(f"**{exercise.name}** · {dose} · {exercise.times_per_week}× a week\n\n{cues}")
            if exercise.mistakes:
                st.caption("Avoid: " + " ".join(exercise.mistakes))
    if plan.pain_rule:
        st.info(f"**The pain rule:** {plan.pain_rule}", icon=":material/monitor_heart:")
    if plan.stop_rules:
        st.warning(
            "**Stop and tell your trainer if**\n" + "\n".join(f"- {rule}" for rule in plan.stop_rules),
            icon=":material/front_hand:",
        )
    if plan.move_on:
        st.markdown(f"**Move on to the next stage when:** {plan.move_on}")
    if plan.habits:
        st.markdown("**Also**\n" + "\n".join(f"- {habit}" for habit in plan.habits))
    if plan.notes:
        st.markdown("**Changes for this client**\n" + "\n".join(f"- {note}" for note in plan.notes))
    st.markdown("**Take care**\n" + "\n".join(f"- {caution}" for caution in plan.cautions))
    st.caption(f"Review: {plan.review}")


def safety_net(net: SafetyNet) -> None:
    """The signs that mean stop and get help, most serious first (printed on every handout too)."""
    with st.expander(net.title, expanded=False, icon=":material/warning:"):
        st.caption(net.intro)
        for tier, show in zip(net.tiers, (st.error, st.warning, st.info), strict=False):
            show(f"**{tier.heading}**  \n{tier.action}\n" + "\n".join(f"- {sign}" for sign in tier.signs))


def stage_label(stage: int) -> str:
    return STAGE_NAMES[stage]


def choose_plans(form: Any, result: TriageResult, today: date) -> tuple[list[CauseId], Any, Any]:
    """The triage result's plan chooser: the two causes with the most evidence preselected, the rest one tap
    away; plans start at stage 1 (at `monitor` only stage 1 is offered); the start and review dates.
    Returns (chosen plans, start, review); a date left empty is None."""
    from backcare.plans import load_library  # noqa: PLC0415  (checked at start-up by data_files_or_stop)
    from backcare.rules import CAUSE_LABELS  # noqa: PLC0415  (the rules load the catalogue on import)

    offered = list(result.plans)
    declined_key = form.key("declined_plans")
    if declined_key not in form.kept:  # first draw of this result: tick only the strongest two
        top = preselected_plans(result.causes, offered)
        form.kept[declined_key] = sorted(p for p in offered if p not in top)
    chosen = form.plans(
        st.pills,
        "**Corrective plans to assign**",
        offered,
        format_func=lambda c: CAUSE_LABELS[CauseId(c)],
        selection_mode="multi",
    )
    if len(offered) > len(chosen):
        st.caption("The plans with the most evidence are chosen; tap another to add it.")
    library = load_library()
    plans = [library.plan(p, 1) for p in chosen]
    if plans:
        count = len(combined_exercises(plans))
        monitor = " At this level only stage 1 is offered." if result.level is Level.MONITOR else ""
        st.caption(
            f"{words.count(count, 'exercise')} in all, each listed once. Plans start at {STAGE_NAMES[1].lower()}; "
            f"move a plan on from the Plans page when its criteria are met.{monitor}"
        )
    start_col, review_col = st.columns(2)
    form.default("start", today)
    form.default("review", today + REVIEW_AFTER)
    with start_col:
        start = form.widget(st.date_input, "Plan start", "start", value=None)
    with review_col:
        review = form.widget(st.date_input, "Review on", "review", value=None)
    return [CauseId(p) for p in chosen], start, review


def stages_for(level: Level | None) -> tuple[int, ...]:
    """The stages a trainer may pick for a client whose latest report is at `level`."""
    return offered_stages(level)


# Where a handout whose PDF failed (on the download's own thread) leaves its one sentence for the page.
HANDOUT_PROBLEMS = "handout_problems"


def client_handout(db, actor, client, assignments, library, today: date, *, paused: bool) -> tuple[bytes, str]:
    """The client's printable handout of their active plans, naming the signed-in trainer with their contact,
    and its file name (made now: see handout_maker for the download button)."""
    make, file_name = handout_maker(db, actor, client, assignments, library, today, paused=paused, problems={})
    return make(), file_name


def handout_maker(
    db, actor, client, assignments, library, today: date, *, paused: bool, problems: dict | None = None
) -> tuple[Callable[[], bytes], str]:
    """The client's handout as a callable for st.download_button (issue 13: the PDF is made when the button is
    tapped, on Streamlit's own thread, not on every visit), and its file name: one place for the Plans page
    and the triage confirmation. Everything that can refuse is read and checked now (BackCareError here,
    for the page to say in one sentence); should the PDF itself still fail, the callable leaves one sentence
    in `problems` (default: the session's, shown by handout_problem() on the next run) and raises, so the
    browser gets no file."""
    from backcare import handout, store  # noqa: PLC0415  (fpdf2 loads only when a handout is made)
    from backcare.ui import views  # noqa: PLC0415

    sheet = views.handout_input(assignments, library, today, paused=paused)
    trainer_name, trainer_contact = store.trainer_card(db, actor)
    handout.check_inputs(
        client_name=client.name, trainer=trainer_name, start_date=sheet.start_date, review_date=sheet.review_date
    )
    inputs: dict[str, Any] = {
        "client_name": client.name,
        "plans": sheet.plans,
        "safety_net": library.safety_net,
        "trainer": trainer_name,
        "trainer_contact": trainer_contact,
        "start_date": sheet.start_date,
        "review_date": sheet.review_date,
    }
    if problems is None:
        problems = st.session_state.setdefault(HANDOUT_PROBLEMS, {})
    client_id = client.id

    def make() -> bytes:
        try:
            return handout.render_handout(**inputs)
        except Exception as error:
            log.exception("making the handout of client %s", client_id)
            problems[client_id] = (
                f"The handout could not be made ({error}); nothing was downloaded. Try again; if this keeps "
                "happening, tell your administrator."
            )
            raise

    return make, handout.handout_filename(client.name, sheet.start_date)


def handout_problem(client_id: int) -> None:
    """The sentence a handout of this client left when its PDF failed on the download's thread, once."""
    message = st.session_state.get(HANDOUT_PROBLEMS, {}).pop(client_id, None)
    if message:
        st.warning(message)
