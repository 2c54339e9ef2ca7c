"""The one PDF base of BackCare's printouts (the client handout and the referral handoff): A4 portrait in mm,
the same margins, DejaVu Sans when installed (any character prints) or else the built-in Helvetica with
latin-1 safe text, the document's metadata and compression in one place."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
COMPRESS = True  # tests turn it off to read the text of a Helvetica PDF without a PDF tool
DEJAVU_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
INK = (33, 37, 41)
MUTED = (100, 104, 110)
ACCENT = (20, 90, 100)

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


def latin1_safe(text: str) -> str:
    """`text` with typographic characters replaced and anything else outside latin-1 shown as '?'."""
    return text.translate(_LATIN1_SAFE).encode("latin-1", "replace").decode("latin-1")


class BackCarePDF(FPDF):
    """An A4 BackCare document: margins 16 mm, a page break `bottom` mm from the foot, the font chosen once."""

    def __init__(self, *, title: str, bottom: float = 20, author: str | None = None):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_margins(left=16, top=16, right=16)
        self.set_auto_page_break(auto=True, margin=bottom)
        self.family, self.unicode = self._choose_font()
        self.set_title(title)
        if author:
            self.set_author(author)
        self.set_creator("BackCare")
        self.set_compression(COMPRESS)

    def _choose_font(self) -> tuple[str, bool]:
        paths = {style: DEJAVU_DIR / name for style, name in DEJAVU_FILES.items()}
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

    def font(self, size: float, style: str = "", colour: tuple[int, int, int] = INK) -> None:
        self.set_font(self.family, style, size)
        self.set_text_color(*colour)

    def line_text(self, text: str, size: float = 10, style: str = "", indent: float = 0, height: float = 5) -> None:
        """A paragraph from the left margin (plus `indent`), wrapped to the page width."""
        self.set_font(self.family, style, size)
        self.set_x(self.l_margin + indent)
        self.multi_cell(self.epw - indent, height, self.t(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def text_height(self, width: float, text: str, line_height: float = 5) -> float:
        """The height `text` would take in the current font, without drawing it. multi_cell() is annotated with
        every shape its `output` can ask for; HEIGHT alone gives a number."""
        height = self.multi_cell(width, line_height, self.t(text), dry_run=True, output=MethodReturnValue.HEIGHT)
        if not isinstance(height, (int, float)):
            raise TypeError(f"multi_cell(output=HEIGHT) gave {type(height).__name__}, not a height")
        return float(height)

    def render(self) -> bytes:
        return bytes(self.output())
