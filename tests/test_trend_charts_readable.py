"""Issue 14, trends read at a glance: weeks and months are bands the bars fill (not 1-px bars on a time axis),
each chart carries direct labels (values at the bar ends, names where lines end), every mark shows its figures
on tap (a tooltip), levels are named in words. The outcome chart is another change's and is not tested here."""

from __future__ import annotations

import json

import pytest

from backcare.store import analytics
from backcare.ui import trend_charts
from tests.conftest import LATER, MANAGER, RANGE

pytestmark = pytest.mark.usefixtures("exact")

MINE = ("weekly_levels", "weekly_red_flags", "causes", "causes_monthly", "by_gym", "first_contact_weekly")


@pytest.fixture
def specs(db, history):
    everything = analytics.trends(db, actor=MANAGER, **RANGE, now=LATER)
    charts = trend_charts.all_charts(everything)
    return {name: charts[name].to_dict() for name in MINE if charts[name] is not None}


def marks(spec) -> list[dict]:
    return [layer["mark"] if isinstance(layer["mark"], dict) else {"type": layer["mark"]} for layer in spec["layer"]]


def test_weekly_bars_fill_their_band(specs):
    bars = specs["weekly_levels"]["layer"][0]
    assert bars["encoding"]["x"]["type"] == "ordinal"  # a band per week, not a point on a time axis
    assert bars["encoding"]["x"]["scale"]["paddingInner"] <= 0.2


def test_every_chart_labels_its_marks_directly_and_shows_values_on_tap(specs):
    assert set(specs) >= {"weekly_levels", "causes", "by_gym"}
    for name, spec in specs.items():
        kinds = [m["type"] for m in marks(spec)]
        assert "text" in kinds, name  # values or names written on the chart
        for layer in spec["layer"]:
            if (layer["mark"] if isinstance(layer["mark"], str) else layer["mark"]["type"]) != "text":
                assert layer["encoding"].get("tooltip") or spec.get("encoding", {}).get("tooltip"), name


def test_levels_are_named_in_words_and_axes_read_at_13_px(specs):
    text = json.dumps(specs["weekly_levels"])
    assert "Normal soreness" in text and "level_name" in text
    assert specs["weekly_levels"]["config"]["axis"]["labelFontSize"] >= 13


def test_lines_are_named_where_they_end_not_in_a_legend(db, history):
    table = analytics.trends(db, actor=MANAGER, **RANGE, now=LATER).causes_monthly
    chart = trend_charts.causes_over_time_chart(table)
    if chart is None:
        pytest.skip("no month with 5 clients in the hand-counted history")
    data = chart.data
    ends = data[data["end_label"]]
    named = [name for text in ends["end_text"] for name in text.split(" · ")]
    assert sorted(named) == sorted(data["cause"].unique())  # every line named once, where it ends
    assert chart.to_dict()["layer"][0]["encoding"]["color"]["legend"] is None


def test_the_cause_line_colours_read_as_text_on_white_and_none_is_red():
    from backcare.ui import palette

    for colour in trend_charts.CAUSE_LINE_COLOURS:
        assert palette.contrast_ratio(colour) >= 4.5, colour
    assert palette.LEVEL_COLOURS["urgent"] not in trend_charts.CAUSE_LINE_COLOURS


def test_lines_keep_a_time_axis_so_a_missing_week_is_a_gap_in_time(specs):
    assert specs["weekly_red_flags"]["layer"][0]["encoding"]["x"]["type"] == "temporal"


def test_two_lines_ending_on_the_same_point_share_one_label():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-10-01", "2026-11-01", "2026-10-01", "2026-11-01"]),
            "cause": ["Posture", "Posture", "Weak core", "Weak core"],
            "rank": [1, 1, 2, 1],
        }
    )
    table = type("T", (), {"chartable": lambda self, *c: frame})()
    data = trend_charts.causes_over_time_chart(table).data
    assert data.loc[data["end_label"], "end_text"].tolist() == ["Posture · Weak core"]
