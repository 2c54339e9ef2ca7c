"""The one place for colour meaning: the triage levels, the theme's neutral primary and the chart accents.

Colour-blind safe: hues from the Okabe-Ito set, darkened so that every colour reads as text on white
(4.5:1, WCAG AA) and therefore also as a mark (3:1); each level also has its own shape, so a chart never
relies on hue alone. Red is for urgent and emergency only. tests/test_palette.py computes the ratios.
"""

from __future__ import annotations

from backcare.models import Level

WHITE = "#ffffff"
# Kept equal to .streamlit/config.toml [theme] primaryColor (a test compares them): a calm slate blue, so a
# selected answer or a primary button never looks like an alarm.
PRIMARY = "#2f5b85"

LEVEL_COLOURS: dict[str, str] = {
    Level.NORMAL.value: "#0b6e99",  # blue
    Level.MONITOR.value: "#7a6200",  # dark yellow
    Level.REFER.value: "#b34700",  # orange
    Level.URGENT.value: "#c0132d",  # red
    Level.EMERGENCY.value: "#5c0a1e",  # near-black red
}
LEVEL_SHAPES: dict[str, str] = {
    Level.NORMAL.value: "circle",
    Level.MONITOR.value: "square",
    Level.REFER.value: "diamond",
    Level.URGENT.value: "triangle-up",
    Level.EMERGENCY.value: "cross",
}
LEVEL_WORDS: dict[str, str] = {level.value: level.label for level in Level}
# Chart accents that carry no level meaning.
LOAD_BAR = "#4a6278"  # a week's load: neutral slate
SPIKE = "#b34700"  # a load spike: the orange of "refer", never red
BAND_FILL = "#0b6e99"  # the usual acute:chronic range, light tint of the "normal" blue
LINE = "#374151"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a #rrggbb colour."""
    r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(foreground: str, background: str = WHITE) -> float:
    """WCAG contrast ratio, 1 to 21."""
    light, dark = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
