"""Printable client handouts: the assigned plans and the safety net, as an A4 PDF (fpdf2).

The handout goes home with the client, so it repeats when to stop and get help, most serious signs
first. Text is set in DejaVu Sans when the font is installed (any character prints); otherwise in the
built-in Helvetica, which only knows latin-1, so every text is made latin-1 safe first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import MethodReturnValue, XPos, YPos

from backcare.errors import InvalidInput
from backcare.plans import Plan, SafetyNet, SignGroup

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
COMPRESS = True  # tests turn it off to read the text of a Helvetica handout without a PDF tool
_DEJAVU_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}

SCOPE_STATEMENT = (
    "This handout supports the advice of your trainer. It is not a diagnosis and does not replace "
    "a doctor or physiotherapist."
)

# Typographic characters people paste into names and notes, mapped to what Helvetica can print.
_LATIN1_SAFE = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2212": "-",
        "\u00d7": "x",
        "\u2026": "...",
        "\u2022": "-",
        "\u00b7": "-",
        "\u2265": ">=",
        "\u2264": "<=",
        "\u2192": "->",
        "\u00a0": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
    }
)

# (border and heading colour, fill colour) per safety-net tier, most serious first.
_TIER_COLOURS = (
    ((176, 0, 32), (253, 236, 238)),  # emergency: red
    ((158, 90, 0), (255, 244, 222)),  # urgent: amber
    ((20, 70, 130), (232, 240, 250)),  # see a professional: blue
)
_INK = (33, 37, 41)
_MUTED = (100, 104, 110)
_ACCENT = (20, 90, 100)


def latin1_safe(text: str) -> str:
    """`text` with typographic characters replaced and anything else outside latin-1 shown as '?'."""
    return text.translate(_LATIN1_SAFE).encode("latin-1", "replace").decode("latin-1")


def render_handout(
    *,
    client_name: str,
    plans: Sequence[Plan],
    safety_net: SafetyNet,
    trainer: str,
    start_date: date,
    review_date: date,
    notes: str | None = None,
) -> bytes:
    """An A4 PDF: header, each plan (goal, exercise table, cautions, review), then the safety net."""
    client_name = _required("client_name", client_name)
    trainer = _required("trainer", trainer)
    if review_date < start_date:
        raise InvalidInput("review_date", "must be on or after the start date")
    notes = notes.strip() if notes else None

    pdf = _Handout(client_name=client_name)
    pdf.add_page()
    pdf.title_block(client_name=client_name, trainer=trainer, start_date=start_date, review_date=review_date)
    if notes:
        pdf.labelled_paragraph("Notes from your trainer", notes)
    if plans:
        for plan in plans:
            pdf.plan_section(plan)
    else:
        pdf.paragraph(
            "No exercise plan for now. Follow the advice of your trainer or clinician, and the guidance below."
        )
    pdf.safety_net_section(safety_net)
    return bytes(pdf.output())


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


class _Handout(FPDF):
    def __init__(self, *, client_name: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.client_name = client_name
        self.set_margins(left=16, top=16, right=16)
        self.set_auto_page_break(auto=True, margin=22)
        self.family, self.unicode = self._choose_font()
        self.set_title("BackCare handout")
        self.set_author("BackCare")
        self.set_creator("BackCare")
        self.set_compression(COMPRESS)

    # fonts and text --------------------------------------------------------------------------

    def _choose_font(self) -> tuple[str, bool]:
        paths = {style: DEJAVU_DIR / name for style, name in _DEJAVU_FILES.items()}
        if all(path.is_file() for path in paths.values()):
            for style, path in paths.items():
                self.add_font("DejaVu", style, str(path))
            return "DejaVu", True
        return "Helvetica", False

    def t(self, text: str) -> str:
        """Text ready for the current font."""
        return text if self.unicode else latin1_safe(text)

    @property
    def bullet(self) -> str:
        return "\u2022" if self.unicode else "-"

    def font(self, size: float, style: str = "", colour: tuple[int, int, int] = _INK) -> None:
        self.set_font(self.family, style, size)
        self.set_text_color(*colour)

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

    def title_block(self, *, client_name: str, trainer: str, start_date: date, review_date: date) -> None:
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
            self.cell(80, 6, self.t(_fit(value_a, 48)))
            self.font(10, "B", _MUTED)
            self.cell(18, 6, self.t(label_b))
            self.font(10.5, "", _INK)
            self.cell(0, 6, self.t(value_b), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.set_draw_color(*_ACCENT)
        self.set_line_width(0.6)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.set_line_width(0.2)
        self.ln(3)
        self.font(10, "B", _TIER_COLOURS[0][0])
        self.multi_cell(
            0,
            5,
            self.t(
                'If you notice any of the warning signs under "When to stop and get help" '
                "at the end of this handout, stop these exercises and follow that advice."
            ),
            align="L",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.ln(3)

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
        # Keep a plan's heading with at least the start of its table.
        if self.get_y() > self.page_break_trigger - 60:
            self.add_page()
        self.ln(2)
        self.font(14, "B", _ACCENT)
        self.multi_cell(0, 7, self.t(plan.title), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(10, "B")
        self.cell(12, 5.5, self.t("Goal:"))
        self.font(10)
        self.multi_cell(0, 5.5, self.t(plan.goal), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)
        self.exercise_table(plan)
        self.ln(2)
        if plan.notes:
            self.font(10, "B", _ACCENT)
            self.cell(0, 5.5, self.t("Changes for you"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.bullets(plan.notes)
        self.font(10, "B")
        self.cell(0, 5.5, self.t("Take care"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.bullets(plan.cautions)
        self.font(9.5, "B")
        self.cell(16, 5.5, self.t("Review:"))
        self.font(9.5)
        self.multi_cell(0, 5.5, self.t(plan.review), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(4)

    def exercise_table(self, plan: Plan) -> None:
        self.font(9)
        self.set_draw_color(190, 196, 202)
        headings = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=_ACCENT)
        with self.table(
            col_widths=(44, 34, 17, 83),
            width=self.epw,
            text_align=("LEFT", "LEFT", "CENTER", "LEFT"),
            line_height=4.6,
            padding=(1.4, 1.6),
            headings_style=headings,
            v_align="TOP",
            cell_fill_color=(244, 247, 248),
            cell_fill_mode="ROWS",
        ) as table:
            head = table.row()
            for title in ("Exercise", "Dose", "Weekly", "How to do it"):
                head.cell(self.t(title))
            for exercise in plan.exercises:
                row = table.row()
                row.cell(self.t(exercise.name), style=FontFace(emphasis="BOLD"))
                row.cell(self.t(exercise.dose))
                row.cell(f"{exercise.times_per_week}x")
                row.cell(self.t("\n".join(f"{self.bullet} {cue}" for cue in exercise.cues)))

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
        """The height `text` would take in 5 mm lines, without drawing it. multi_cell() is annotated with
        every shape its `output` can ask for; HEIGHT alone gives a number."""
        height = self.multi_cell(width, 5, self.t(text), dry_run=True, output=MethodReturnValue.HEIGHT)
        if not isinstance(height, (int, float)):
            raise TypeError(f"multi_cell(output=HEIGHT) gave {type(height).__name__}, not a height")
        return float(height)

    def tier_box(
        self, tier: SignGroup, colours: tuple[tuple[int, int, int], tuple[int, int, int]], width: float
    ) -> None:
        """A filled, bordered box: heading, action, then the signs as bullets. Never split over a page."""
        border, fill = colours
        height = self._tier_height(tier, width)
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
