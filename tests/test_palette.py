"""The level palette reads on white: 4.5:1 for text, 3:1 for marks (WCAG), red only for urgent and emergency,
every level with its own shape, and the theme's primary colour neutral and the one in config.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from backcare.models import Level
from backcare.ui import palette

ROOT = Path(__file__).resolve().parents[1]


def test_contrast_ratio_matches_known_values():
    assert palette.contrast_ratio("#000000") == pytest.approx(21.0)
    assert palette.contrast_ratio("#ffffff") == pytest.approx(1.0)
    assert palette.contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)  # the classic AA grey


@pytest.mark.parametrize("level", [level.value for level in Level])
def test_every_level_colour_reads_as_text_and_as_a_mark_on_white(level):
    ratio = palette.contrast_ratio(palette.LEVEL_COLOURS[level])
    assert ratio >= 4.5, f"{level}: {ratio:.2f}:1"


def test_white_text_on_every_level_banner_reads():
    # The result banners put white text on the level colour.
    assert min(palette.contrast_ratio(palette.WHITE, c) for c in palette.LEVEL_COLOURS.values()) >= 4.5


def test_levels_differ_by_shape_not_hue_alone():
    assert set(palette.LEVEL_SHAPES) == {level.value for level in Level}
    assert len(set(palette.LEVEL_SHAPES.values())) == len(Level)
    assert len(set(palette.LEVEL_COLOURS.values())) == len(Level)


def _hue(colour: str) -> float:
    import colorsys

    r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def _reddish(colour: str) -> bool:
    hue = _hue(colour)
    return hue >= 340 or hue <= 15


def test_red_means_urgent_or_emergency_only():
    reds = {level for level, colour in palette.LEVEL_COLOURS.items() if _reddish(colour)}
    assert reds == {Level.URGENT.value, Level.EMERGENCY.value}
    assert not _reddish(palette.PRIMARY) and not _reddish(palette.SPIKE) and not _reddish(palette.LOAD_BAR)


def test_theme_primary_is_the_neutral_palette_colour_and_reads():
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    assert theme["primaryColor"].lower() == palette.PRIMARY
    assert palette.contrast_ratio(palette.WHITE, palette.PRIMARY) >= 4.5  # white text on a primary button


def test_chart_accents_read_as_marks():
    for colour in (palette.LOAD_BAR, palette.SPIKE, palette.LINE):
        assert palette.contrast_ratio(colour) >= 3.0
