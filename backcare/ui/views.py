"""What the trainer's history and plans pages show, computed without Streamlit.

The pages read inputs, call one of these (or a store function) and render. Thresholds, wording of
next steps, timeline merging, chart-ready shaping and form-to-model conversion live here, so tests
cover them without a browser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from pydantic import ValidationError

from backcare import questions
from backcare.errors import InvalidInput, invalid_input
from backcare.models import Level, SessionIn
from backcare.plans import Plan, PlanLibrary, customise
from backcare.rules import LOAD_RATIO_SPIKE
from backcare.store.records import (
    CLEARED_STATUSES,
    PAUSED_STATUSES,
    AssignmentRow,
    AssignmentStatus,
    ClientStatus,
    ReferralRow,
    ReportRow,
    ReportSummary,
    SessionRow,
)
from backcare.ui import words

# The acute:chronic "usual" band shaded on the chart (GABBETT); LOAD_RATIO_SPIKE marks a spike.
BAND_LOW = 0.8
BAND_HIGH = 1.3
RATIO_CAPTION = (
    "Acute:chronic ratio = the last 7 days' load ÷ the average week of the last 28 days. "
    "It is a load-spike indicator, not an injury prediction."
)

LEVEL_NAMES = {level.value: level.label for level in Level}
# Material icons ship with Streamlit: they render on tablets without an emoji font.
LEVEL_ICONS = {
    "normal": ":green[:material/check_circle:]",
    "monitor": ":orange[:material/visibility:]",
    "refer": ":orange[:material/medical_services:]",
    "urgent": ":red[:material/priority_high:]",
    "emergency": ":red[:material/emergency:]",
}

STATUS_NEXT_STEP: dict[ClientStatus, str] = {
    ClientStatus.CLEARED: "Train as planned; ask about soreness at the start of each session.",
    ClientStatus.MODIFIED: (
        "Train with changes: keep load off the sore area, follow the active plans, and recheck within 24–48 hours."
    ),
    ClientStatus.PAUSED_REFERRAL_OPEN: (
        "Pause exercises that load the back. A referral is open: loading plans "
        "wait until a clinician records clearance."
    ),
    ClientStatus.URGENT_REFERRAL_OPEN: (
        "No training that loads the back. An urgent referral is open: the client "
        "should see a doctor within 24 hours, so check that they have an "
        "appointment. Loading plans wait for the clinic's clearance."
    ),
    ClientStatus.EMERGENCY_REFERRAL_OPEN: (
        "No training. An emergency referral is open: make sure the client "
        "has had emergency care, and wait for the clinic's clearance."
    ),
}


def is_paused(status: ClientStatus | str) -> bool:
    """An open referral pauses loading plans."""
    return ClientStatus(status) in PAUSED_STATUSES


def next_step(status: ClientStatus | str) -> str:
    """What the trainer does next for a client in this status, in plain words."""
    return STATUS_NEXT_STEP[ClientStatus(status)]


# --- timeline --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimelineItem:
    kind: str  # "session" | "report"
    at: datetime  # for ordering; a session counts at its logging time when logged that day
    day: date
    title: str
    detail: str
    level: str | None = None


def _session_moment(session: SessionRow) -> datetime:
    if session.created_at.date() == session.date:
        return session.created_at
    return datetime.combine(session.date, time(12, 0))


def _fmt(number: float) -> str:
    return f"{number:.0f}" if float(number).is_integer() else f"{number:.1f}"


def session_item(session: SessionRow) -> TimelineItem:
    parts = [", ".join(session.exercises) or "no exercises named"]
    if session.warmup_minutes is not None:
        parts.append(f"warm-up {_fmt(session.warmup_minutes)} min")
    if session.cooldown_done is not None:
        parts.append("cool-down done" if session.cooldown_done else "no cool-down")
    return TimelineItem(
        kind="session",
        at=_session_moment(session),
        day=session.date,
        title=f"Training: {_fmt(session.minutes)} min at RPE {_fmt(session.rpe)} (load {_fmt(session.load)} AU)",
        detail=" · ".join(parts),
    )


def report_item(report: ReportSummary) -> TimelineItem:
    """A report in the timeline: its level, why, and what was not asked (or answered after an emergency stop)."""
    level = report.level.value
    from backcare.rules import CAUSE_LABELS  # the cause names in words (issue 14): no internal codes on screen

    why = "; ".join(f.summary for f in report.result.findings) or "no warning signs"
    causes = ", ".join(CAUSE_LABELS.get(c.cause, str(c.cause)).lower() for c in report.result.causes)
    detail = f"Why: {why}" + (f" · likely causes: {causes}" if causes else "")
    not_asked = report.not_asked
    if not_asked:
        detail += f" · {questions.NOT_ASKED} ({len(not_asked)}): {questions.labels(not_asked)}"
    if report.answered_after_stop:
        detail += f" · answered after the emergency stop: {questions.labels(report.answered_after_stop)}"
    pain = "pain not asked" if report.pain_score is None else f"pain {report.pain_score}/10"
    return TimelineItem(
        kind="report",
        at=report.created_at,
        day=report.created_at.date(),
        title=f"{LEVEL_ICONS[level]} Report: {pain} · {LEVEL_NAMES[level]}",
        detail=detail,
        level=level,
    )


def report_answer_lines(report: ReportRow) -> list[str]:
    """Every answer of a stored report in plain words, "not asked" where none was recorded."""
    lines = questions.answer_lines(report.answers)
    lines.append(f"Age: {'not known' if report.age is None else report.age}")
    return lines


def merge_timeline(
    sessions: Iterable[SessionRow], reports: Iterable[ReportSummary], limit: int = 20
) -> list[TimelineItem]:
    """Sessions and reports in one list, newest first, at most `limit` items."""
    items = [session_item(s) for s in sessions] + [report_item(r) for r in reports]
    items.sort(key=lambda item: (item.at, item.kind == "report"), reverse=True)
    return items[:limit]


# --- charts ----------------------------------------------------------------------------------


def ratio_band(ratio: float | None) -> str:
    """Where a ratio sits, in plain words (no prediction, only the load compared with usual)."""
    if ratio is None:
        return "not enough history yet"
    if ratio >= LOAD_RATIO_SPIKE:
        return "a load spike: well above the usual week"
    if ratio > BAND_HIGH:
        return "above the usual range"
    if ratio >= BAND_LOW:
        return "within the usual range"
    return "below the usual range"


@dataclass(frozen=True, slots=True)
class LoadSummary:
    this_week: float
    last_week: float | None
    change: float | None
    sessions: int
    ratio: float | None
    band: str
    spike: bool


def load_summary(weeks: Sequence[Any]) -> LoadSummary:
    """The figures shown above the load chart, from the store's weekly rows (oldest first)."""
    if not weeks:
        return LoadSummary(0.0, None, None, 0, None, ratio_band(None), False)
    current = weeks[-1]
    previous = weeks[-2] if len(weeks) > 1 else None
    return LoadSummary(
        this_week=float(current.load),
        last_week=None if previous is None else float(previous.load),
        change=None if previous is None else float(current.load) - float(previous.load),
        sessions=int(current.sessions),
        ratio=None if current.ratio is None else round(float(current.ratio), 2),
        band=ratio_band(current.ratio),
        spike=bool(current.spike),
    )


def load_chart_rows(weeks: Sequence[Any]) -> list[dict[str, Any]]:
    """One dict per week for the load chart: already aggregated by the store."""
    return [
        {
            "week": w.week_end.isoformat(),
            "week_start": w.week_start.isoformat(),
            "load": round(float(w.load), 1),
            "sessions": int(w.sessions),
            "ratio": None if w.ratio is None else round(float(w.ratio), 2),
            "spike": bool(w.spike),
        }
        for w in weeks
    ]


def pain_chart_rows(days: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "day": d.day.isoformat(),
            "pain": int(d.worst_pain),
            "reports": int(d.reports),
            "level": LEVEL_NAMES.get(d.worst_level, d.worst_level),
        }
        for d in days
        if d.worst_pain is not None
    ]  # a day whose only reports stopped before the pain questions


# --- plans and referrals ---------------------------------------------------------------------


def split_assignments(assignments: Iterable[AssignmentRow]) -> tuple[list[AssignmentRow], list[AssignmentRow]]:
    """(active, past), each newest first as given."""
    active: list[AssignmentRow] = []
    past: list[AssignmentRow] = []
    for a in assignments:
        (active if a.status == AssignmentStatus.ACTIVE else past).append(a)
    return active, past


def assignment_line(a: AssignmentRow, library: PlanLibrary) -> str:
    title = library.plan(a.plan_id).title
    when = f"stage {a.stage} · {words.day(a.start_date)} → review {words.day(a.review_date)}"
    changed = " · changed for this client" if a.customisation else ""
    ended = f" · {a.status.value} {words.day(a.ended_at)}" if a.ended_at else ""
    return f"**{title}** · {when}{changed}{ended}"


def client_plan(a: AssignmentRow, library: PlanLibrary) -> Plan:
    """The client's copy of an assigned plan: the library plan at the assignment's stage with the stored changes
    applied (a change naming an exercise the stage no longer has is left out)."""
    return library.client_copy(a.plan_id, a.stage, a.customisation or None)


@dataclass(frozen=True, slots=True)
class HandoutInput:
    plans: tuple[Plan, ...]
    start_date: date
    review_date: date


def handout_input(
    assignments: Iterable[AssignmentRow], library: PlanLibrary, today: date, paused: bool = False
) -> HandoutInput:
    """The active plans (the client's copies), from the earliest start to the earliest review. While a
    referral pauses the client, no plan goes on the handout: it carries the safety net only."""
    active = [] if paused else [a for a in assignments if a.status == AssignmentStatus.ACTIVE]
    if not active:
        return HandoutInput((), today, today)
    start = min(a.start_date for a in active)
    review = max(start, min(a.review_date for a in active))
    return HandoutInput(tuple(client_plan(a, library) for a in active), start, review)


def split_referrals(referrals: Iterable[ReferralRow]) -> tuple[list[ReferralRow], list[ReferralRow]]:
    """(open, closed): a referral is open until a clinician records clearance."""
    open_: list[ReferralRow] = []
    closed: list[ReferralRow] = []
    for r in referrals:
        (closed if r.status in CLEARED_STATUSES else open_).append(r)
    return open_, closed


def referral_line(referral: ReferralRow) -> str:
    status = referral.status.value.replace("_", " ")
    age = referral.age_hours
    opened = f"{age:.0f} hours ago" if age < 48 else f"{age / 24:.0f} days ago"
    late = " · :red[:material/schedule: not contacted in time]" if referral.overdue else ""
    return f"**{LEVEL_NAMES[referral.level.value]}** referral · status: {status} · opened {opened}{late}"


# --- forms -----------------------------------------------------------------------------------

SESSION_LABELS = {
    "date": "Date",
    "minutes": "Minutes",
    "rpe": "RPE (0-10)",
    "exercises": "Exercises",
    "warmup_minutes": "Warm-up minutes",
    "cooldown_done": "Cool-down",
}


def parse_exercises(text: str | None) -> tuple[str, ...]:
    """Exercise names typed as a comma, semicolon or line separated list."""
    if not text:
        return ()
    parts = text.replace(";", ",").replace("\n", ",").split(",")
    return tuple(dict.fromkeys(p.strip().lower() for p in parts if p.strip()))


def session_from_form(
    *,
    day: date | None,
    minutes: float | None,
    rpe: float | None,
    exercises: str | None,
    warmup_minutes: float | None,
    cooldown: str | None,
) -> SessionIn:
    """A validated session from the log form; InvalidInput names the form's field."""
    for field, value in (("date", day), ("minutes", minutes), ("rpe", rpe)):
        if value is None:
            raise InvalidInput(SESSION_LABELS[field], "please fill this in")
    payload = {
        "date": day,
        "minutes": minutes,
        "rpe": rpe,
        "exercises": parse_exercises(exercises),
        "warmup_minutes": warmup_minutes,
        "cooldown_done": None if cooldown is None else cooldown == "Yes",
    }
    try:
        return SessionIn.model_validate(payload)
    except ValidationError as error:
        raise invalid_input(error, "session", SESSION_LABELS) from None


def customisation_from_form(
    plan: Plan, *, doses: Mapping[str, str] | None = None, drop: Iterable[str] = (), note: str | None = None
) -> dict | None:
    """The per-client changes a form gives, checked against the plan (None when nothing changes).

    A dose left blank or equal to the library's is not a change. The library plan is not modified.
    """
    library_doses = {e.name: e.dose for e in plan.exercises}
    dropped = [name for name in drop if name]
    changed = {
        name: dose.strip()
        for name, dose in (doses or {}).items()
        if name not in dropped and dose and dose.strip() and dose.strip() != library_doses.get(name)
    }
    changes: dict[str, Any] = {}
    if changed:
        changes["doses"] = changed
    if dropped:
        changes["drop"] = dropped
    if note and note.strip():
        changes["note"] = note.strip()
    if not changes:
        return None
    customise(plan, changes)  # raises InvalidInput naming the field
    return changes


def triage_history_line(sessions: Sequence[SessionRow], history, today: date) -> str:
    """What the history says before the questions, in one line: the latest logged session (to ask
    about hours since the workout), the last pain score of this episode, recent reports and a load spike."""
    parts: list[str] = []
    if sessions:
        latest = max(sessions, key=lambda s: (s.date, s.id))
        days = (today - latest.date).days
        when = {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")
        exercises = ", ".join(latest.exercises) or "no exercises logged"
        parts.append(
            f"Last logged session {words.day(latest.date)} ({when}), {latest.minutes:g} min, "
            f"RPE {latest.rpe:g}: {exercises}"
        )
    else:
        parts.append("No sessions logged yet")
    if history.episode_pain_scores:
        scores = history.episode_pain_scores
        parts.append(
            f"pain at the last report of this episode {scores[-1]}/10"
            + (f" (lowest {min(scores)}/10)" if min(scores) != scores[-1] else "")
        )
    if history.prior_reports_28d:
        n = history.prior_reports_28d
        parts.append(f"{n} earlier report{'' if n == 1 else 's'} in 28 days")
    ratio = history.acute_chronic_ratio
    if ratio is not None and ratio >= LOAD_RATIO_SPIKE:
        parts.append(f"load spike: acute:chronic {ratio:.2f}")
    return " · ".join(parts) + "."
