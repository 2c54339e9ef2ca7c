"""The printable referral handoff: what the clinic needs to pick a referral up, as Markdown text and A4 PDF.

Both renderings come from the same sections (handoff_sections), so the text and the PDF never
disagree. The PDF is a backcare.pdf.BackCarePDF, the base the client handout shares (A4, margins, font choice).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from fpdf.enums import XPos, YPos

from backcare import questions
from backcare.models import CauseId, Level
from backcare.pdf import BackCarePDF
from backcare.questions import Kind
from backcare.rules import CAUSE_LABELS
from backcare.store.records import HandoffSummary, ReferralEventRow

SCOPE_NOTE = (
    "Prepared by BackCare from the trainer's triage report. The trainer's answers are screening "
    "answers, not a clinical examination."
)
LEVEL_HEADINGS: dict[Level, str] = {
    Level.REFER: "Refer: needs a physiotherapist or doctor",
    Level.URGENT: "Urgent: to be seen by a doctor within 24 hours",
    Level.EMERGENCY: "Emergency: needs emergency care now",
}
STATUS_LABELS: dict[str, str] = {
    "new": "New",
    "contacted": "Contacted",
    "seen": "Seen by a professional",
    "cleared": "Cleared",
    "cleared_with_restrictions": "Cleared with restrictions",
    "not_cleared": "Not cleared",
}
# The yes/no questions listed as answered yes, no or not asked; the others have their own lines under "Pain".
_YES_NO = tuple(q for q in questions.QUESTIONS if q.kind is Kind.YES_NO and q.field != "eases_with_movement")
_BY = questions.BY_FIELD


@dataclass(frozen=True, slots=True)
class Section:
    heading: str
    lines: tuple[str, ...]


def _yes_no(value) -> str:
    return "yes" if value is True else "no" if value is False else questions.NOT_ASKED


def _answer(field: str, value) -> str:
    """A stored answer in words ("not asked" for NULL); a choice by its label."""
    question = _BY[field]
    if value is None:
        return questions.NOT_ASKED
    if question.kind is Kind.CHOICE:
        return question.choice_label(value)
    return question.describe(value)


def _when(value: datetime) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def _client_contact(summary: HandoffSummary) -> tuple[str, ...]:
    """How the clinic reaches the client: what the client agreed to give, else the trainer is the way."""
    lines = tuple(
        f"{label}: {value}"
        for label, value in (("Phone", summary.client_phone), ("E-mail", summary.client_email))
        if value
    )
    return lines or ("Phone or e-mail: not recorded; ask the trainer",)


def handoff_sections(summary: HandoffSummary, events: Sequence[ReferralEventRow] = ()) -> list[Section]:
    """The handoff, section by section, most important first."""
    a = summary.answers
    earlier = summary.episode_pain_scores or (
        () if summary.previous_pain_score is None else (summary.previous_pain_score,)
    )
    pain = [
        f"Pain now: {_answer('pain_score', summary.pain_score)}"
        + ("" if not earlier else f" (earlier in this episode: {', '.join(f'{s}/10' for s in earlier)})"),
        f"Feels like: {_answer('pain_quality', a.get('pain_quality'))}",
        f"Since it started: {_answer('trend', summary.pain_trend)}",
        f"Time since the workout: {_answer('hours_since_workout', summary.hours_since_workout)}",
        f"Eases with movement: {_yes_no(a.get('eases_with_movement'))}",
        f"Legs: {_answer('leg_symptoms', a.get('leg_symptoms'))}",
    ]
    shown = [q for q in _YES_NO if q.applies(a)]
    said_yes = [q.text for q in shown if a.get(q.field) is True]
    said_no = [q.text for q in shown if a.get(q.field) is False]
    not_asked = [q.text for q in questions.QUESTIONS if q.applies(a) and a.get(q.field) is None]
    after_stop = [_BY[f].text for f in summary.answered_after_stop if f in _BY]
    findings = [f"{f.rule_id} ({f.level.value}): {f.summary} [source: {f.source}]" for f in summary.findings]
    causes = [f"{CAUSE_LABELS.get(CauseId(cause), cause)}: {'; '.join(evidence)}" for cause, evidence in summary.causes]
    s = summary.session_before
    if s is None:
        session = ["No session logged on or before the day of the report."]
    else:
        session = [
            f"Date: {s.date.isoformat()}",
            f"{s.minutes:g} min at RPE {s.rpe:g} (load {s.load:g})",
            f"Exercises: {', '.join(s.exercises) or 'not recorded'}",
            f"Warm-up: {'not recorded' if s.warmup_minutes is None else f'{s.warmup_minutes:g} min'}",
            f"Cool-down: {_yes_no(s.cooldown_done)}",
        ]
    history = [
        f"{_when(e.event_at)} - {STATUS_LABELS.get(e.status.value, e.status.value)} by {e.author}"
        + (f": {e.note}" if e.note else "")
        for e in events
    ]
    return [
        Section(
            "Client",
            (
                f"{summary.client_name} ({summary.client_external_id}), {summary.gym_name}",
                *_client_contact(summary),
                f"Age: {'not known' if summary.age is None else summary.age}",
                f"Referral {summary.referral_id}, opened {_when(summary.opened_at)}",
                f"Status: {STATUS_LABELS.get(summary.status.value, summary.status.value)}",
            ),
        ),
        Section("Trainer", (summary.trainer_name, f"Contact: {summary.trainer_contact or 'not recorded'}")),
        Section("Findings (why the report was referred)", tuple(findings) or ("No findings recorded.",)),
        Section("Pain", tuple(pain)),
        Section("Answered yes", tuple(said_yes) or ("None of the screening questions.",)),
        Section("Answered no", tuple(said_no)),
        Section("Not asked", tuple(not_asked) or ("Every question was asked.",)),
        *([Section("Answered after the emergency stop", tuple(after_stop))] if after_stop else []),
        Section("Session before the report", tuple(session)),
        Section("Likely contributing causes", tuple(causes) or ("None detected from the training context.",)),
        Section("Referral history", tuple(history) or ("No status changes yet.",)),
    ]


def handoff_title(summary: HandoffSummary) -> str:
    return f"Referral handoff - {LEVEL_HEADINGS.get(summary.level, summary.level.value)}"


def handoff_markdown(summary: HandoffSummary, events: Sequence[ReferralEventRow] = ()) -> str:
    """The handoff as Markdown (reads as plain text too)."""
    out = [f"# {handoff_title(summary)}", ""]
    for section in handoff_sections(summary, events):
        out += [f"## {section.heading}", *[f"- {line}" for line in section.lines], ""]
    out.append(f"_{SCOPE_NOTE}_")
    return "\n".join(out) + "\n"


def handoff_filename(summary: HandoffSummary, extension: str) -> str:
    """`backcare-handoff-12-c-0042.pdf`: the referral and the client's reference, never the name."""
    ref = re.sub(r"[^a-z0-9]+", "-", summary.client_external_id.lower()).strip("-") or "client"
    return f"backcare-handoff-{summary.referral_id}-{ref}.{extension.lstrip('.')}"


class _HandoffPDF(BackCarePDF):
    def __init__(self, title: str):
        super().__init__(title="BackCare referral handoff", bottom=20)
        self.doc_title = title

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font(self.family, "I", 7.5)
        self.set_text_color(100, 104, 110)
        self.multi_cell(0, 3.6, self.t(SCOPE_NOTE), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.cell(0, 3.6, f"Page {self.page_no()} of {{nb}}", align="R")


_LEVEL_COLOURS = {Level.EMERGENCY: (127, 29, 29), Level.URGENT: (185, 28, 28), Level.REFER: (180, 83, 9)}


def handoff_pdf(summary: HandoffSummary, events: Sequence[ReferralEventRow] = ()) -> bytes:
    """The handoff as an A4 PDF."""
    pdf = _HandoffPDF(handoff_title(summary))
    pdf.add_page()
    pdf.set_text_color(*_LEVEL_COLOURS.get(summary.level, (33, 37, 41)))
    pdf.line_text(handoff_title(summary), size=15, style="B")
    pdf.ln(2)
    for section in handoff_sections(summary, events):
        if pdf.get_y() > pdf.page_break_trigger - 20:
            pdf.add_page()
        pdf.set_text_color(20, 90, 100)
        pdf.line_text(section.heading, size=11.5, style="B")
        pdf.set_text_color(33, 37, 41)
        for line in section.lines:
            pdf.line_text(f"- {line}", size=9.5, indent=3)
        pdf.ln(2)
    return pdf.render()
