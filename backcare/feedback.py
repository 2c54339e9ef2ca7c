"""Feedback on a plan, and the pain rule that turns it into a suggested next step (TRIAGE.md, "Plans are safe
to hand over on their own"). Pure: no I/O, no Streamlit; the store saves the entries, the pages show them.

At a session the trainer records, for each active plan: whether the client did it since last time (all, some,
none), the pain during the exercises and the pain the morning after (0-10, NPRS). From the latest entries:

- progress: the last two entries keep to the pain rule and the plan was done (all or some) both times;
- stay: the entries keep to the pain rule but the plan was not done, or there is only one entry so far;
- step back: the latest entry breaks the pain rule (pain during above 3, or the morning after worse than usual).

The app only suggests: the trainer decides. Separately, a morning-after score that creeps up the way triage
rule R5 describes (2 points or more above the lowest score of the last 7 days) is a reason to triage again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backcare.models import EARLIEST_DATE, Level, PainScore

PAIN_DURING_LIMIT = 3  # pain during an exercise may reach 3/10 (the plans' pain rule)
USUAL_FLOOR = 3  # the morning after, a score up to 3 counts as usual whatever the pre-plan level (see usual_pain)
PROGRESS_ENTRIES = 2  # entries in a row that must keep to the rule before moving on
FIRST_STAGE, LAST_STAGE = 1, 3
R5_RISE = 2  # NPRS: a 2-point change is meaningful; R5 fires on a rise of 2 over the episode's lowest score
R5_EPISODE = timedelta(days=7)  # the episode R5 reads (backcare.store.reports.EPISODE)

EntryId = Annotated[int, Field(strict=True, ge=1)]


class Done(StrEnum):
    """How much of the plan the client did since the last entry."""

    ALL = "all"
    SOME = "some"
    NONE = "none"


DONE_WORDS = {Done.ALL: "All", Done.SOME: "Some", Done.NONE: "None"}


class Step(StrEnum):
    PROGRESS = "progress"
    STAY = "stay"
    STEP_BACK = "step_back"


class FeedbackIn(BaseModel):
    """One plan's feedback, as the session form (or a caller) sends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    assignment_id: EntryId
    entry_date: date
    done: Done
    pain_during: PainScore
    pain_morning_after: PainScore

    @field_validator("entry_date")
    @classmethod
    def _not_in_the_future(cls, value: date) -> date:
        # a day of slack for time zones, as for sessions
        if value > date.today() + timedelta(days=1):
            raise ValueError("feedback cannot be recorded for a day in the future")
        if value < EARLIEST_DATE:
            raise ValueError(f"feedback cannot be dated before {EARLIEST_DATE:%Y}")
        return value


class Entry(Protocol):
    """What the rule reads of a stored entry (backcare.store.feedback.FeedbackRow has it)."""

    @property
    def entry_date(self) -> date: ...
    @property
    def done(self) -> Done: ...
    @property
    def pain_during(self) -> int: ...
    @property
    def pain_morning_after(self) -> int: ...


@dataclass(frozen=True)
class Suggestion:
    """The next step the pain rule suggests; `to_stage` is None when there is nothing to change (already at the
    first or last stage, or the stage is not known)."""

    step: Step
    headline: str
    reason: str
    stage: int | None
    to_stage: int | None


def usual_pain(pre_plan: int | None) -> int:
    """The highest morning-after score that counts as "back to usual".

    Usual is the client's own level before the plan (the pain score of the triage report the plan came from, or
    their last report before it): TRIAGE.md's rule is "back to its usual level by the next morning", and a client
    who started the plan at 5/10 is not worse for waking at 5. It is never below 3: pain up to 3 is what the
    rule itself allows during the exercises, and a client whose pain had gone to 0 is not stepped back for a mild
    1-3 ache the next morning (a 1-point change is within the scale's noise; 2 points is meaningful). With no
    pre-plan level on record, 3 alone applies."""
    return max(USUAL_FLOOR, pre_plan if pre_plan is not None else 0)


def keeps_to_rule(entry: Entry, pre_plan: int | None) -> bool:
    """Pain during at most 3 and the morning after back to usual."""
    return entry.pain_during <= PAIN_DURING_LIMIT and entry.pain_morning_after <= usual_pain(pre_plan)


def _newest_first(entries: Sequence[Entry]) -> list[Entry]:
    """Callers pass entries oldest first; entries of one day keep their order (the later recorded first)."""
    return sorted(entries, key=lambda e: e.entry_date)[::-1]


def highest_stage(latest_level: str | None) -> int:
    """The highest stage a client may be moved to, from the level of their latest triage: at `monitor` only
    stage 1 is offered (TRIAGE.md) until a new triage says otherwise."""
    return FIRST_STAGE if latest_level is not None and str(latest_level) == Level.MONITOR.value else LAST_STAGE


def suggest_next_step(
    entries: Sequence[Entry], *, pre_plan: int | None, stage: int | None, top: int = LAST_STAGE
) -> Suggestion | None:
    """The pain rule's suggestion from a plan's entries (oldest first); None with no entry yet. `stage` is the
    plan's current stage (1-3; None when not known); `top` the highest stage the client may have now
    (highest_stage())."""
    if not entries:
        return None
    latest = _newest_first(entries)
    newest = latest[0]
    usual = usual_pain(pre_plan)
    if not keeps_to_rule(newest, pre_plan):
        why = []
        if newest.pain_during > PAIN_DURING_LIMIT:
            why.append(f"pain during was {newest.pain_during}/10 (the limit is {PAIN_DURING_LIMIT})")
        if newest.pain_morning_after > usual:
            why.append(f"the morning after was {newest.pain_morning_after}/10, above the usual {usual}")
        to = None if stage is None or stage <= FIRST_STAGE else stage - 1
        headline = (
            f"Step back to stage {to}"
            if to is not None
            else "Stay at stage 1 and ease the dose"
            if stage == FIRST_STAGE
            else "Step back a stage"
        )
        return Suggestion(Step.STEP_BACK, headline, "At the last entry " + " and ".join(why) + ".", stage, to)
    recent = latest[:PROGRESS_ENTRIES]
    if len(recent) < PROGRESS_ENTRIES:
        return Suggestion(
            Step.STAY,
            "Stay at this stage",
            "The last entry kept to the pain rule; one more entry like it before moving on.",
            stage,
            None,
        )
    if not all(keeps_to_rule(e, pre_plan) for e in recent):
        return Suggestion(
            Step.STAY,
            "Stay at this stage",
            "The entry before the last one broke the pain rule: two entries in a row must keep to it.",
            stage,
            None,
        )
    if any(e.done == Done.NONE for e in recent):
        return Suggestion(
            Step.STAY,
            "Stay at this stage",
            "The pain rule was kept, but the plan was not done at one of the last two entries.",
            stage,
            None,
        )
    if top < LAST_STAGE and (stage is None or stage >= top):
        return Suggestion(
            Step.STAY,
            f"Stay at stage {top}",
            "The pain rule was kept and the plan was done, but the latest triage said monitor (train with changes), "
            f"where only stage {top} is offered: move on once a new triage no longer says monitor.",
            stage,
            None,
        )
    to = None if stage is None or stage >= LAST_STAGE else stage + 1
    headline = (
        f"Progress to stage {to}"
        if to is not None
        else "Keep to stage 3, the last stage"
        if stage == LAST_STAGE
        else "Progress to the next stage"
    )
    return Suggestion(
        Step.PROGRESS,
        headline,
        f"The last two entries kept to the pain rule (during at most {PAIN_DURING_LIMIT}, "
        f"the morning after at most {usual}) and the plan was done.",
        stage,
        to,
    )


def meets_r5(entries: Sequence[Entry], *, pre_plan: int | None = None, pre_plan_day: date | None = None) -> bool:
    """Whether the latest morning-after score is a rise that triage rule R5 describes: at least 2 points above
    the lowest score of the 7 days before it (earlier entries of this plan, and the pre-plan report's score when
    it lies in those 7 days). The morning after is read as the day-after score R5 asks about (24 h or later)."""
    if not entries:
        return False
    newest_first = _newest_first(entries)
    newest, earlier = newest_first[0], newest_first[1:]
    since = newest.entry_date - R5_EPISODE
    scores = [e.pain_morning_after for e in earlier if e.entry_date >= since]
    if pre_plan is not None and pre_plan_day is not None and pre_plan_day >= since:
        scores.append(pre_plan)
    return bool(scores) and newest.pain_morning_after - min(scores) >= R5_RISE


def needs_triage(
    entries: Sequence[Entry],
    *,
    pre_plan: int | None = None,
    pre_plan_day: date | None = None,
    last_report_day: date | None = None,
) -> bool:
    """meets_r5(), unless the client was triaged again on or after the day of the latest entry (the prompt has
    been answered)."""
    if not meets_r5(entries, pre_plan=pre_plan, pre_plan_day=pre_plan_day):
        return False
    latest = _newest_first(entries)[0].entry_date
    return last_report_day is None or last_report_day < latest


# --- the session form's taps, and plain words for the history page -------------------------------------------

FORM_LABELS = {
    "done": "Done since last time",
    "pain_during": "Pain during the exercises",
    "pain_morning_after": "Pain the next morning",
}


@dataclass(frozen=True)
class PlanTaps:
    """What the session form holds for one active plan (None: not tapped)."""

    assignment_id: int
    plan_title: str
    done: Done | str | None
    pain_during: int | None
    pain_morning_after: int | None


def feedback_from_form(taps: Sequence[PlanTaps], day: date) -> list[dict]:
    """The entries to store: a plan with nothing tapped gives none (the client may not have had it yet); a plan
    with some but not all three tapped is an error naming the field and the plan, so nothing half-given is
    stored."""
    from backcare.errors import InvalidInput  # noqa: PLC0415  (the domain stays free of the store's imports)

    entries = []
    for plan in taps:
        values = {"done": plan.done, "pain_during": plan.pain_during, "pain_morning_after": plan.pain_morning_after}
        if all(v is None for v in values.values()):
            continue
        for field, value in values.items():
            if value is None:
                raise InvalidInput(
                    FORM_LABELS[field], f"tap a value for {plan.plan_title}, or leave all three of that plan empty"
                )
        entries.append({"assignment_id": plan.assignment_id, "entry_date": day, **values})
    return entries


def adherence_words(entries: Sequence[Entry], last: int = 8) -> str:
    """`Done at 5 of the last 6 entries (all 4, some 1, none 1).`"""
    recent = _newest_first(entries)[:last]
    if not recent:
        return "No feedback yet: record it with the next session."
    counts = {d: sum(e.done == d for e in recent) for d in Done}
    done = counts[Done.ALL] + counts[Done.SOME]
    which = "entry" if len(recent) == 1 else f"{len(recent)} entries"
    return (
        f"Done at {done} of the last {which} "
        f"(all {counts[Done.ALL]}, some {counts[Done.SOME]}, none {counts[Done.NONE]})."
    )


def pain_words(entries: Sequence[Entry], pre_plan: int | None) -> str:
    """The pain over the plan in one sentence: the first and the latest entry, and the level before the plan."""
    if not entries:
        return ""
    ordered = _newest_first(entries)[::-1]
    first, latest = ordered[0], ordered[-1]
    before = "" if pre_plan is None else f"Before the plan: {pre_plan}/10. "
    if len(ordered) == 1:
        return f"{before}Pain during {latest.pain_during}/10, the next morning {latest.pain_morning_after}/10."
    return (
        f"{before}Pain during {first.pain_during} → {latest.pain_during}/10, "
        f"the next morning {first.pain_morning_after} → {latest.pain_morning_after}/10 "
        f"(first entry → latest)."
    )
