"""Printable client handouts: the assigned plans and the safety net, as an A4 PDF (fpdf2).

The first page holds what a client alone at home needs first: who the plan is for, the trainer's name and
how to reach them, the review date, each plan's stage, the pain rule, the plans' stop rules, and the
exercises with their pictures (line figures drawn by backcare.figures, as vector lines). An exercise that two
plans share prints once, at the higher stage's dose. Then each plan's goal and criteria for moving on, and
at the end the safety net, most serious signs first. The page set-up is backcare.pdf.BackCarePDF, shared
with the referral handoff.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date

from fpdf.enums import XPos, YPos

from backcare import figures
from backcare.catalogue import Catalogue, load_catalogue
from backcare.errors import InvalidInput
from backcare.pdf import ACCENT as _ACCENT
from backcare.pdf import INK as _INK
from backcare.pdf import MUTED as _MUTED
from backcare.pdf import BackCarePDF, latin1_safe
from backcare.plans import CombinedExercise, Plan, SafetyNet, SignGroup, combined_exercises

__all__ = ["SCOPE_STATEMENT", "handout_filename", "latin1_safe", "render_handout"]

SCOPE_STATEMENT = (
    "This handout supports the advice of your trainer. It is not a diagnosis and does not replace "
    "a doctor or physiotherapist."
)

# (border and heading colour, fill colour) per safety-net tier, most serious first.
_TIER_COLOURS = (
    ((176, 0, 32), (253, 236, 238)),  # emergency: red
    ((158, 90, 0), (255, 244, 222)),  # urgent: amber
    ((20, 70, 130), (232, 240, 250)),  # see a professional: blue
)
FIGURE_WIDTH = 56.0  # mm: start and end side by side, each 28 mm square
BODY = 9.5  # pt: the smallest text a client reads (60 dpi test render)


def render_handout(
    *,
    client_name: str,
    plans: Sequence[Plan],
    safety_net: SafetyNet,
    trainer: str,
    start_date: date,
    review_date: date,
    notes: str | None = None,
    trainer_contact: str | None = None,
    layout: list[tuple[int, float, float, float, float]] | None = None,
    catalogue: Catalogue | None = None,
) -> bytes:
    """An A4 PDF. `trainer` is the trainer's display name; `layout`, when given, receives (page, x, y, width,
    height) in mm of every picture drawn (tests check those spots are not blank)."""
    client_name, trainer = check_inputs(
        client_name=client_name, trainer=trainer, start_date=start_date, review_date=review_date
    )
    notes = notes.strip() if notes else None
    contact = (trainer_contact or "").strip() or None
    catalogue = catalogue or load_catalogue()

    pdf = _Handout(client_name=client_name)
    pdf.add_page()
    pdf.title_block(
        client_name=client_name, trainer=trainer, contact=contact, start_date=start_date, review_date=review_date
    )
    if plans:
        pdf.stages_line(plans)
        pdf.pain_rule_box(next((p.pain_rule for p in plans if p.pain_rule), None))
        pdf.stop_rules_box(plans)
    if notes:
        pdf.labelled_paragraph("Notes from your trainer", notes)
    if plans:
        pdf.exercises(combined_exercises(plans), catalogue, layout)
        for plan in plans:
            pdf.plan_section(plan)
    else:
        pdf.paragraph(
            "No exercise plan for now. Follow the advice of your trainer or clinician, and the guidance below."
        )
    pdf.safety_net_section(safety_net)
    return pdf.render()


def check_inputs(*, client_name: str, trainer: str, start_date: date, review_date: date) -> tuple[str, str]:
    """What render_handout() refuses, checked without making the PDF (a page that makes the PDF only when the
    download is tapped checks these first, so a handout that cannot be made says so on the screen); returns
    the client's and the trainer's names as printed."""
    client_name = _required("client_name", client_name)
    trainer = _required("trainer", trainer)
    if review_date < start_date:
        raise InvalidInput("review_date", "must be on or after the start date")
    return client_name, trainer


def handout_filename(client_name: str, start_date: date) -> str:
    """A download name that is safe on any system: `backcare-plan-zoe-oneill-2025-03-03.pdf`."""
    ascii_name = unicodedata.normalize("NFKD", client_name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower().replace("'", "")).strip("-")[:40].strip("-")
    return f"backcare-plan-{slug or 'client'}-{start_date.isoformat()}.pdf"


def _required(field: str, value: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InvalidInput(field, "must not be empty")
    return value


class _Handout(BackCarePDF):
    def __init__(self, *, client_name: str):
        super().__init__(title="BackCare handout", bottom=22, author="BackCare")
        self.client_name = client_name

    # page furniture --------------------------------------------------------------------------

    def header(self) -> None:
        if self.page_no() > 1:
            self.font(8, "", _MUTED)
            self.cell(0, 5, self.t(f"BackCare plan for {self.client_name}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.ln(2)

    def footer(self) -> None:
        self.set_y(-17)
        self.set_draw_color(200, 200, 200)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1)
        self.font(7.5, "I", _MUTED)
        self.multi_cell(0, 3.6, self.t(SCOPE_STATEMENT), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(7.5, "", _MUTED)
        self.cell(0, 3.6, f"Page {self.page_no()} of {{nb}}", align="R")

    # blocks ----------------------------------------------------------------------------------

    def title_block(
        self, *, client_name: str, trainer: str, contact: str | None, start_date: date, review_date: date
    ) -> None:
        self.font(20, "B", _ACCENT)
        self.cell(0, 10, self.t("Your back-care plan"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)
        rows = (
            ("Client", client_name, "Start", _long_date(start_date)),
            ("Trainer", trainer, "Review", _long_date(review_date)),
        )
        for label_a, value_a, label_b, value_b in rows:
            self.font(10, "B", _MUTED)
            self.cell(20, 6, self.t(label_a))
            self.font(10.5, "", _INK)
            self.cell(92, 6, self.t(_fit(value_a, 48)))
            self.font(10, "B", _MUTED)
            self.cell(18, 6, self.t(label_b))
            self.font(10.5, "B" if label_b == "Review" else "", _INK)
            self.cell(0, 6, self.t(value_b), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(10, "B", _MUTED)
        self.cell(20, 6, self.t("Contact"))
        self.font(10.5, "", _INK)
        self.cell(
            0,
            6,
            self.t(_fit(contact, 80) if contact else "ask at the front desk for your trainer"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(1)
        self.set_draw_color(*_ACCENT)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_line_width(0.2)
        self.ln(2)

    def stages_line(self, plans: Sequence[Plan]) -> None:
        """Each plan with its stage, so the client knows where they are."""
        self.font(10, "B", _ACCENT)
        self.cell(0, 5.5, self.t("Your plans and stages"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.bullets([f"{plan.title}: {plan.stage_name.lower()}" for plan in plans], size=BODY + 0.5)
        self.ln(1)

    def _panel(self, width: float, height: float, border: tuple[int, int, int], fill: tuple[int, int, int]):
        """A filled, bordered box with a thick bar on its left, on a new page if it would not fit whole on this
        one (a box is never split over a page); returns its top left corner."""
        if self.get_y() + height > self.page_break_trigger:
            self.add_page()
        x, y = self.l_margin, self.get_y()
        self.set_fill_color(*fill)
        self.set_draw_color(*border)
        self.set_line_width(0.5)
        self.rect(x, y, width, height, style="DF")
        self.set_fill_color(*border)
        self.rect(x, y, 2.2, height, style="F")
        self.set_line_width(0.2)
        return x, y

    def _box(self, heading: str, lines: Sequence[str], colours: tuple[tuple[int, int, int], tuple[int, int, int]]):
        border, fill = colours
        width = self.epw
        self.font(BODY)
        height = 5 + 6 + sum(self.text_height(width - 12, line, 4.6) for line in lines) + 2
        x, y = self._panel(width, height, border, fill)
        self.set_xy(x + 5, y + 2.5)
        self.font(11, "B", border)
        self.cell(0, 6, self.t(heading), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(BODY)
        for line in lines:
            if len(lines) > 1:
                self.set_x(x + 5)
                self.cell(4, 4.6, self.bullet)
            else:
                self.set_x(x + 5)
            self.multi_cell(width - 12, 4.6, self.t(line), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(y + height + 2.5)

    def pain_rule_box(self, rule: str | None) -> None:
        if rule:
            self._box("The pain rule", [rule], (_ACCENT, (232, 244, 245)))

    def stop_rules_box(self, plans: Sequence[Plan]) -> None:
        rules = list(dict.fromkeys(rule for plan in plans for rule in plan.stop_rules))
        rules.append('Any sign under "When to stop and get help" at the end of this handout: follow that advice.')
        self._box("Stop and tell your trainer if", rules, _TIER_COLOURS[0])

    def exercises(
        self,
        combined: Sequence[CombinedExercise],
        catalogue: Catalogue,
        layout: list[tuple[int, float, float, float, float]] | None,
    ) -> None:
        """Each exercise once: its picture (start and end) beside its dose, how often, cues and mistakes."""
        self.font(14, "B", _ACCENT)
        self.cell(0, 8, self.t("Your exercises"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        text_x = self.l_margin + FIGURE_WIDTH + 4
        text_w = self.epw - FIGURE_WIDTH - 4
        for item in combined:
            exercise = item.exercise
            entry = _catalogue_entry(catalogue, exercise.exercise_id)
            lines = self._exercise_lines(item)
            height = 2 + self._lines_height(lines, text_w)
            if entry is not None:
                height = max(height, FIGURE_WIDTH / 2 + 2)
            if self.get_y() + height > self.page_break_trigger:
                self.add_page()
            top = self.get_y()
            if entry is not None:
                figures.draw_pdf(self, entry, self.l_margin, top, FIGURE_WIDTH)
                if layout is not None:
                    layout.append((self.page_no(), self.l_margin, top, FIGURE_WIDTH, FIGURE_WIDTH / 2))
            self.set_y(top)
            for size, style, text in lines:
                self.font(size, style, _ACCENT if size > 10 else _INK)
                self.set_x(text_x)
                self.multi_cell(text_w, 4.6, self.t(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_y(top + height)
            self.set_draw_color(220, 224, 228)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
            self.ln(2)

    def _lines_height(self, lines: Sequence[tuple[float, str, str]], width: float) -> float:
        total = 0.0
        for size, style, text in lines:
            self.font(size, style)
            total += self.text_height(width, text, 4.6)
        return total

    def _exercise_lines(self, item: CombinedExercise) -> list[tuple[float, str, str]]:
        e = item.exercise
        dose = ", ".join(part for part in (e.dose, e.rest, e.effort) if part)
        lines: list[tuple[float, str, str]] = [
            (11, "B", e.name),
            (BODY, "B", f"{dose}; {e.times_per_week}× a week"),
        ]
        if len(item.plan_titles) > 1:
            lines.append((BODY, "I", "In your plans: " + " and ".join(item.plan_titles)))
        lines += [(BODY, "", f"{self.bullet} {cue}") for cue in e.cues[:3]]
        if e.mistakes:
            lines.append((BODY, "", "Avoid: " + " ".join(e.mistakes[:2])))
        return lines

    def paragraph(self, text: str, size: float = 10) -> None:
        self.font(size)
        self.multi_cell(0, 5, self.t(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1.5)

    def labelled_paragraph(self, label: str, text: str) -> None:
        self.font(10, "B", _ACCENT)
        self.cell(0, 6, self.t(label), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.paragraph(text)

    def bullets(self, items: Sequence[str], size: float = 9.5, indent: float = 4) -> None:
        self.font(size)
        for item in items:
            self.set_x(self.l_margin + indent)
            self.cell(4, 4.8, self.bullet)
            self.multi_cell(self.epw - indent - 4, 4.8, self.t(item), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def plan_section(self, plan: Plan) -> None:
        """The plan's goal, stage and when to move on, habits, the client's changes, cautions and review."""
        if self.get_y() > self.page_break_trigger - 45:
            self.add_page()
        self.ln(2)
        self.font(14, "B", _ACCENT)
        self.multi_cell(0, 7, self.t(plan.title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(10, "B", _MUTED)
        self.cell(0, 5.5, self.t(plan.stage_name), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(10, "B")
        self.cell(12, 5.5, self.t("Goal:"))
        self.font(10)
        self.multi_cell(0, 5.5, self.t(plan.goal), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(BODY, "", _INK)
        self.multi_cell(
            0,
            5,
            self.t("Exercises: " + ", ".join(e.name for e in plan.exercises) + "."),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        if plan.move_on:
            self.labelled_paragraph("Move on to the next stage when", plan.move_on)
        if plan.habits:
            self.font(10, "B", _ACCENT)
            self.cell(0, 5.5, self.t("Also"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.bullets(plan.habits)
        if plan.notes:
            self.font(10, "B", _ACCENT)
            self.cell(0, 5.5, self.t("Changes for you"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.bullets(plan.notes)
        self.font(10, "B")
        self.cell(0, 5.5, self.t("Take care"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.bullets(plan.cautions)
        self.font(BODY, "B")
        self.cell(16, 5.5, self.t("Review:"))
        self.font(BODY)
        self.multi_cell(0, 5.5, self.t(plan.review), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def safety_net_section(self, net: SafetyNet) -> None:
        # The whole safety net stays on one page, so the client can keep that page to hand.
        width = self.epw
        self.font(10)
        intro = self._text_height(0, net.intro)
        needed = 10 + intro + 1.5 + sum(self._tier_height(tier, width) + 3 for tier in net.tiers)
        if self.get_y() + needed > self.page_break_trigger:
            self.add_page()
        else:
            self.ln(2)
        self.font(15, "B", _TIER_COLOURS[0][0])
        self.cell(0, 8, self.t(net.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.paragraph(net.intro)
        for tier, colours in zip(net.tiers, _TIER_COLOURS, strict=False):
            self.tier_box(tier, colours, width)

    def _tier_lines(self, tier: SignGroup) -> list[tuple[float, str, str, float]]:
        """(size, style, text, indent) of each line of a tier box, in order."""
        return [(11.5, "B", tier.heading, 0.0), (10.0, "B", tier.action, 0.0)] + [
            (9.5, "", sign, 5.0) for sign in tier.signs
        ]

    def _tier_height(self, tier: SignGroup, width: float) -> float:
        height = 0.0
        for size, style, text, indent in self._tier_lines(tier):
            self.font(size, style)
            height += self._text_height(width - 8 - indent, text)
        return height + 5

    def _text_height(self, width: float, text: str) -> float:
        return self.text_height(width, text, 5)

    def tier_box(
        self, tier: SignGroup, colours: tuple[tuple[int, int, int], tuple[int, int, int]], width: float
    ) -> None:
        """A filled, bordered box: heading, action, then the signs as bullets. Never split over a page."""
        border, fill = colours
        height = self._tier_height(tier, width)
        x, y = self._panel(width, height, border, fill)
        self.set_y(y + 3)
        for size, style, text, indent in self._tier_lines(tier):
            colour = border if style == "B" and size > 11 else _INK
            self.font(size, style, colour)
            self.set_x(x + 5 + indent)
            if indent:
                self.set_x(x + 5 + indent - 4)
                self.cell(4, 5, self.bullet)
            self.multi_cell(width - 8 - indent, 5, self.t(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(y + height + 3)


def _long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _catalogue_entry(catalogue: Catalogue, exercise_id: str | None):
    """The catalogue exercise with a pose to draw, or None (a picture is drawn only when there is one)."""
    if exercise_id is None:
        return None
    entry = next((e for e in catalogue.exercises if e.id == exercise_id), None)
    return entry if entry is not None and entry.pose is not None else None
