"""Altair charts of the trend aggregates, and the table-with-download block the trends page repeats.

Charts take a TrendTable (already aggregated and published: perturbed, small groups hidden) and plot only the
cells that carry a number: a group of fewer than 5 clients is left out, never drawn. Each chart ships only the columns
it draws, so its Vega-Lite payload stays small.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal, cast

import altair as alt
import pandas as pd
import streamlit as st

from backcare.models import Level
from backcare.store.analytics import ALL_PLANS, MIN_GROUP_CLIENTS, SUPPRESSED_TEXT, TrendTable
from backcare.ui import context, palette, words

LEVEL_COLOURS: dict[str, str] = {level.value: palette.LEVEL_COLOURS[level.value] for level in Level}  # issue 14
_LEVEL_SCALE = alt.Scale(domain=list(LEVEL_COLOURS), range=list(LEVEL_COLOURS.values()))
HEIGHT = 260
TRAINERS_SHOWN = 25  # the by-trainer table: the trainers with the most reports (the CSV download has them all)


def _data(table: TrendTable, *columns: str, needed: tuple[str, ...] = ()):
    frame = table.chartable(*(needed or columns))[list(columns)]
    return None if frame.empty else frame


def _with_data(template, data, height: int | None = None):
    """The template (built once: Altair's encode() is slow) with this rerun's aggregated frame."""
    chart = template.copy(deep=False)
    chart.data = data
    if height is not None:
        chart.height = height
    return chart


# --- templates, built once per process -------------------------------------------------------
# Issue 14, read at a glance on a tablet: weeks and months are bands the bars fill (not 1-px bars on a time
# axis), every bar or line carries its value or its name where it ends (direct labels, no legend hunt), every
# mark shows its figures on tap (tooltip), dates in the house format, labels 13 px.

_FONT = 13
DAY = words.DAY_FORMAT
_LEVEL_NAME_EXPR = "{" + ", ".join(f"'{lv}': '{palette.LEVEL_WORDS[lv]}'" for lv in LEVEL_COLOURS) + "}[datum.level]"
_LEVEL_NAMES = [palette.LEVEL_WORDS[lv] for lv in LEVEL_COLOURS]
_LEVEL_NAME_SCALE = alt.Scale(domain=_LEVEL_NAMES, range=list(LEVEL_COLOURS.values()))
_LEVEL_SHAPE_SCALE = alt.Scale(domain=_LEVEL_NAMES, range=[palette.LEVEL_SHAPES[lv] for lv in LEVEL_COLOURS])


def _band_x(
    field: str, title: str, unit: Literal["yearmonthdate", "yearmonth"] = "yearmonthdate", fmt: str = "%d %b"
) -> alt.X:
    """Weeks (or months) as bands: a bar fills its band, whatever the range."""
    return alt.X(
        f"{field}:O",
        timeUnit=unit,
        title=title,
        axis=alt.Axis(format=fmt, labelAngle=0, labelFontSize=_FONT, titleFontSize=_FONT, labelOverlap=True),
        scale=alt.Scale(paddingInner=0.15),
    )


def _time_x(field: str, title: str, fmt: str = "%d %b") -> alt.X:
    """Lines on a true time axis: a week without a figure leaves a gap in time, not a closer point."""
    return alt.X(
        f"{field}:T",
        title=title,
        axis=alt.Axis(format=fmt, labelAngle=0, labelFontSize=_FONT, titleFontSize=_FONT, tickCount=6),
    )


# Lines of the causes: dark enough to read as text on white (4.5:1), no red (red means urgent), no legend.
CAUSE_LINE_COLOURS = ["#0b6e99", "#7a6200", "#b34700", "#5c3d99", "#1f6f43", "#374151", "#8a2c5e"]
_END_LABEL_ROOM = {"left": 5, "top": 5, "bottom": 5, "right": 230}  # the names where the lines end
_VALUE_ROOM = {"left": 5, "top": 5, "bottom": 5, "right": 40}  # the values at the bar ends


def _readable(chart):
    return chart.configure_axis(labelFontSize=_FONT, titleFontSize=_FONT).configure_legend(
        labelFontSize=_FONT, titleFontSize=_FONT
    )


_weekly_base = alt.Chart().transform_calculate(
    level_name=_LEVEL_NAME_EXPR,
    level_rank=" + ".join(f"(datum.level == '{lv}' ? {i} : 0)" for i, lv in enumerate(LEVEL_COLOURS)),
)
_WEEKLY_LEVELS = _readable(
    alt.layer(
        _weekly_base.mark_bar().encode(
            x=_band_x("week", "Week starting"),
            y=alt.Y("reports:Q", title="Reports", stack=True),
            color=alt.Color(
                "level_name:N",
                scale=_LEVEL_NAME_SCALE,
                title=None,
                sort=_LEVEL_NAMES,
                legend=alt.Legend(orient="top", direction="horizontal"),
            ),
            order=alt.Order("level_rank:Q"),
            tooltip=[
                alt.Tooltip("week:T", title="Week starting", format=DAY),
                alt.Tooltip("level_name:N", title="Level"),
                alt.Tooltip("reports:Q", title="Reports"),
            ],
        ),
        # the week's total on top of its bar
        _weekly_base.mark_text(dy=-8, fontSize=_FONT, fontWeight="bold", color=palette.LINE).encode(
            x=_band_x("week", "Week starting"), y=alt.Y("sum(reports):Q"), text=alt.Text("sum(reports):Q")
        ),
    ).properties(height=HEIGHT)
)

_red_base = alt.Chart().encode(
    x=_time_x("week", "Week starting"),
    y=alt.Y("red_flag_pct:Q", title="Red flags (% of reports)", scale=alt.Scale(domainMin=0)),
    tooltip=[
        alt.Tooltip("week:T", title="Week starting", format=DAY),
        alt.Tooltip("red_flag_pct:Q", title="Red flags (% of reports)", format=".0f"),
    ],
)
_RED_FLAGS = _readable(
    alt.layer(
        _red_base.mark_line(
            point=alt.OverlayMarkDef(size=80, color=LEVEL_COLOURS["refer"]), color=LEVEL_COLOURS["refer"]
        ),
        _red_base.mark_text(dy=-12, fontSize=_FONT, color=LEVEL_COLOURS["refer"])
        .encode(text="pct_label:N")
        .transform_calculate(pct_label="format(datum.red_flag_pct, '.0f') + '%'"),
    ).properties(height=HEIGHT)
)

_causes_base = alt.Chart().encode(
    y=alt.Y("cause:N", sort="-x", title=None, axis=alt.Axis(labelLimit=320)),
    x=alt.X("reports:Q", title="Reports with this cause"),
    tooltip=[
        alt.Tooltip("cause:N", title="Cause"),
        alt.Tooltip("reports:Q", title="Reports"),
        alt.Tooltip("pct_of_reports:Q", title="% of reports", format=".0f"),
    ],
)
_CAUSES = _readable(
    alt.layer(
        _causes_base.mark_bar(color=palette.LOAD_BAR),
        _causes_base.mark_text(align="left", dx=4, fontSize=_FONT, color=palette.LINE).encode(text="reports:Q"),
    ).properties(height=HEIGHT, padding=_VALUE_ROOM)
)

_over_time_base = alt.Chart().encode(
    x=_time_x("month", "Month", fmt="%b %Y"),
    y=alt.Y(
        "rank:Q",
        title="Rank (1 = most reports)",
        scale=alt.Scale(reverse=True, domainMin=1),
        axis=alt.Axis(tickMinStep=1),
    ),
    color=alt.Color("cause:N", title="Cause", legend=None, scale=alt.Scale(range=CAUSE_LINE_COLOURS)),
    tooltip=[
        alt.Tooltip("month:T", title="Month", format="%b %Y"),
        alt.Tooltip("cause:N", title="Cause"),
        alt.Tooltip("rank:Q", title="Rank"),
    ],
)
_CAUSES_OVER_TIME = _readable(
    alt.layer(
        _over_time_base.mark_line(point=alt.OverlayMarkDef(size=80)),
        # each line named where it ends (direct labels instead of a legend)
        _over_time_base.mark_text(align="left", dx=8, fontSize=_FONT)
        .encode(text="end_text:N")
        .transform_filter("datum.end_label"),
    ).properties(height=HEIGHT, padding=_END_LABEL_ROOM)
)

_gym_base = alt.Chart().encode(
    x=alt.X("red_flag_pct:Q", title="Red flags (% of reports)"),
    y=alt.Y("gym:N", sort="-x", title=None, axis=alt.Axis(labelLimit=240)),
    tooltip=[alt.Tooltip("gym:N", title="Gym"), alt.Tooltip("red_flag_pct:Q", title="% red flags", format=".0f")],
)
_BY_GYM = _readable(
    alt.layer(
        _gym_base.mark_bar(color=LEVEL_COLOURS["refer"]),
        _gym_base.mark_text(align="left", dx=4, fontSize=_FONT, color=palette.LINE).encode(
            text=alt.Text("red_flag_pct:Q", format=".0f")
        ),
    ).properties(padding=_VALUE_ROOM)
)

_contact_base = (
    alt.Chart()
    .transform_calculate(level_name=_LEVEL_NAME_EXPR)
    .encode(
        x=_time_x("week", "Week the referral opened"),
        y=alt.Y("median_hours:Q", title="Median hours to first contact"),
        color=alt.Color("level_name:N", scale=_LEVEL_NAME_SCALE, title=None, legend=None),
        tooltip=[
            alt.Tooltip("week:T", title="Week the referral opened", format=DAY),
            alt.Tooltip("level_name:N", title="Level"),
            alt.Tooltip("median_hours:Q", title="Median hours", format=".1f"),
        ],
    )
)
_FIRST_CONTACT = _readable(
    alt.layer(
        _contact_base.mark_line(point=alt.OverlayMarkDef(size=80)).encode(
            shape=alt.Shape("level_name:N", scale=_LEVEL_SHAPE_SCALE, legend=None)
        ),
        _contact_base.mark_text(align="left", dx=8, fontSize=_FONT)
        .encode(text="end_text:N")
        .transform_filter("datum.end_label"),
    ).properties(height=HEIGHT, padding=_END_LABEL_ROOM)
)

_OUTCOME_BARS = (
    alt.Chart()
    .mark_bar(size=18)
    .encode(
        x=alt.X(
            "mean_change:Q",
            title="Mean change in pain, points on the 0-10 scale (below 0: less pain than before the plan)",
            scale=alt.Scale(domain=[-10, 10]),  # the whole scale: a small change never looks like a big one
        ),
        y=alt.Y("label:N", title=None, sort=None),
        color=alt.condition(alt.datum.total, alt.value(palette.LINE), alt.value(palette.LOAD_BAR)),
        tooltip=[
            alt.Tooltip("label:N", title="Plan"),
            alt.Tooltip("mean_change:Q", title="Mean change (points)"),
            alt.Tooltip("median_change:Q", title="Median change (points)"),
            alt.Tooltip("plans:Q", title="Plans with feedback"),
            alt.Tooltip("clients:Q", title="Clients"),
        ],
    )
)
_OUTCOME_ZERO = alt.Chart().mark_rule(color=palette.LINE, strokeDash=[4, 3]).encode(x=alt.datum(0))
_OUTCOME = alt.layer(_OUTCOME_BARS, _OUTCOME_ZERO)
_OUTCOME.title = (
    "Pain change after a plan: the next-morning pain in the latest feedback minus the pain at the report "
    "before the plan"
)


# --- the charts ------------------------------------------------------------------------------


def weekly_levels_chart(table: TrendTable) -> alt.Chart | None:
    data = _data(table, "week", "level", "reports", needed=("reports",))
    return None if data is None else _with_data(_WEEKLY_LEVELS, data)


def red_flag_chart(table: TrendTable) -> alt.Chart | None:
    data = _data(table, "week", "red_flag_pct")
    return None if data is None else _with_data(_RED_FLAGS, data)


def causes_chart(table: TrendTable) -> alt.Chart | None:
    data = _data(table, "cause", "reports", "pct_of_reports")
    return None if data is None else _with_data(_CAUSES, data)


def _end_labels(data, time: str, group: str, value: str):
    """Where each line's direct label goes: `end_label` marks each group's last point, and `end_text` names
    every line ending on that very point (two lines ending together share one label, never overprint)."""
    last = data.groupby(group)[time].transform("max")
    data = data.assign(end_label=data[time] == last, end_text="")
    ends = data[data["end_label"]]
    for _, same in ends.groupby([time, value]):
        data.loc[same.index[0], "end_text"] = " · ".join(str(name) for name in same[group])
        data.loc[same.index[1:], "end_label"] = False
    return data


def causes_over_time_chart(table: TrendTable) -> alt.Chart | None:
    data = _data(table, "month", "cause", "rank")
    return None if data is None else _with_data(_CAUSES_OVER_TIME, _end_labels(data, "month", "cause", "rank"))


def by_gym_chart(table: TrendTable) -> alt.Chart | None:
    data = _data(table, "gym", "red_flag_pct")
    # the chart's box holds its axis too: 60 px for it, and a finger's height for each gym's bar and name
    return None if data is None else _with_data(_BY_GYM, data, height=60 + 44 * len(data))


def first_contact_chart(table: TrendTable) -> alt.Chart | None:
    data = _data(table, "week", "level", "median_hours")
    if data is None:
        return None
    data = data.assign(level_name=data["level"].map(palette.LEVEL_WORDS))
    return _with_data(_FIRST_CONTACT, _end_labels(data, "week", "level_name", "median_hours"))


def outcome_chart(table: TrendTable) -> alt.LayerChart | None:
    """Mean pain change per plan, each bar labelled with how many clients it describes (groups of fewer than 5
    clients are left out); 'all plans' first, darker, as a cell of its own."""
    frame = table.chartable("mean_change", "clients")
    if frame.empty:
        return None
    labels = [f"{plan} ({clients} clients)" for plan, clients in zip(frame["plan"], frame["clients"], strict=True)]
    frame = frame.assign(label=labels, total=frame["plan"] == ALL_PLANS)[
        ["label", "total", "mean_change", "median_change", "plans", "clients"]
    ]
    chart = cast(alt.LayerChart, _OUTCOME.copy(deep=False))  # a layer's copy is a layer
    chart.data = frame
    chart.height = max(120, 28 * len(frame))
    return chart


def show_chart(chart: alt.Chart | alt.LayerChart | None) -> None:
    if chart is None:
        st.caption(f"Nothing to chart: no group here has {MIN_GROUP_CLIENTS} clients or more.")
    else:
        st.altair_chart(chart, width="stretch")


def leading_rows(table: TrendTable, column: str, count: int) -> pd.DataFrame:
    """The `count` rows with the highest published `column`, highest first (rows showing 'fewer than 5' after
    every number, in the table's own order: never ordered by a hidden size; ties keep the table's order)."""
    ordered = table.frame.sort_values(column, ascending=False, na_position="last", kind="stable")
    return ordered.head(count).reset_index(drop=True)


def show_table(db, actor, table: TrendTable, key: str, *, first: tuple[int, str, str] | None = None) -> None:
    """The table as the manager sees it ('fewer than 5' where suppressed) and its CSV download, whose
    click writes an export.download audit row like every other download. `first`: (how many rows, the column
    that ranks them, what a row is, e.g. "trainers"): a long table shows only its leading rows, with a line
    saying so; the download keeps every row (a rerun drawing thousands of rows cost the page its time)."""
    shown = table
    if first is not None and len(table.frame) > first[0]:
        count, column, noun = first
        shown = replace(table, frame=leading_rows(table, column, count))
        st.caption(
            f"Showing the {count:,} {noun} with the most {column.replace('_', ' ')}, of {len(table.frame):,}. "
            f"The download (CSV) below lists all {len(table.frame):,}."
        )
    st.dataframe(shown.display(text=True), hide_index=True, width="stretch")
    # the CSV is made only when the button is pressed (the same suppressed frame as the table)
    context.audited_download(
        db,
        actor,
        f"Download “{table.title}” (CSV)",
        table.csv,
        what=f"trends.{table.name}",
        entity="trends",
        file_name=f"{table.name}.csv",
        mime="text/csv",
        key=f"csv_{key}",
    )
    if table.suppressed_cells:
        st.caption(
            f"Cells showing “{SUPPRESSED_TEXT}” describe fewer than {MIN_GROUP_CLIENTS} clients (or none) "
            "and are hidden to protect them."
        )


CHARTS = {
    "weekly_levels": weekly_levels_chart,
    "weekly_red_flags": red_flag_chart,
    "causes": causes_chart,
    "causes_monthly": causes_over_time_chart,
    "by_gym": by_gym_chart,
    "first_contact_weekly": first_contact_chart,
    "plan_outcome": outcome_chart,
}


def all_charts(trends) -> dict[str, alt.Chart | alt.LayerChart | None]:
    """Every chart of the page, by the name of its aggregate (the benchmark measures them)."""
    return {name: build(getattr(trends, name)) for name, build in CHARTS.items()}
