"""Altair charts of the trend aggregates, and the table-with-download block the trends page repeats.

Charts take a TrendTable (already aggregated and published: perturbed, small groups hidden) and plot only the
cells that carry a number: a group of fewer than 5 clients is left out, never drawn. Each chart ships only the columns
it draws, so its Vega-Lite payload stays small.
"""

from __future__ import annotations

from typing import cast

import altair as alt
import streamlit as st

from backcare.models import Level
from backcare.store.analytics import ALL_PLANS, MIN_GROUP_CLIENTS, SUPPRESSED_TEXT, TrendTable
from backcare.ui import context, palette

LEVEL_COLOURS: dict[str, str] = {level.value: palette.LEVEL_COLOURS[level.value] for level in Level}  # issue 14
_LEVEL_SCALE = alt.Scale(domain=list(LEVEL_COLOURS), range=list(LEVEL_COLOURS.values()))
HEIGHT = 260


def _data(table: TrendTable, *columns: str, needed: tuple[str, ...] = ()):
    frame = table.chartable(*(needed or columns))[list(columns)]
    return None if frame.empty else frame


def _with_data(template: alt.Chart, data, height: int | None = None) -> alt.Chart:
    """The template (built once: Altair's encode() is slow) with this rerun's aggregated frame."""
    chart = template.copy(deep=False)
    chart.data = data
    if height is not None:
        chart.height = height
    return chart


# --- templates, built once per process -------------------------------------------------------

_WEEKLY_LEVELS = (
    alt.Chart()
    .mark_bar()
    .encode(
        x=alt.X("week:T", title="Week starting", timeUnit="yearmonthdate"),
        y=alt.Y("reports:Q", title="Reports", stack=True),
        color=alt.Color("level:N", scale=_LEVEL_SCALE, title="Level", sort=list(LEVEL_COLOURS)),
        order=alt.Order("level_rank:Q"),
        tooltip=["week:T", "level:N", "reports:Q"],
    )
    .transform_calculate(
        level_rank=" + ".join(f"(datum.level == '{lv}' ? {i} : 0)" for i, lv in enumerate(LEVEL_COLOURS)),
    )
    .properties(height=HEIGHT)
)

_RED_FLAGS = (
    alt.Chart()
    .mark_line(point=True, color=LEVEL_COLOURS["refer"])
    .encode(
        x=alt.X("week:T", title="Week starting"),
        y=alt.Y("red_flag_pct:Q", title="Red flags (% of reports)", scale=alt.Scale(domainMin=0)),
        tooltip=["week:T", alt.Tooltip("red_flag_pct:Q", title="% red flags")],
    )
    .properties(height=HEIGHT)
)

_CAUSES = (
    alt.Chart()
    .mark_bar(color="#145a64")
    .encode(
        x=alt.X("reports:Q", title="Reports with this cause"),
        y=alt.Y("cause:N", sort="-x", title=None),
        tooltip=["cause:N", "reports:Q", alt.Tooltip("pct_of_reports:Q", title="% of reports")],
    )
    .properties(height=HEIGHT)
)

_CAUSES_OVER_TIME = (
    alt.Chart()
    .mark_line(point=True)
    .encode(
        x=alt.X("month:T", title="Month", timeUnit="yearmonth"),
        y=alt.Y(
            "rank:Q",
            title="Rank (1 = most reports)",
            scale=alt.Scale(reverse=True, domainMin=1),
            axis=alt.Axis(tickMinStep=1),
        ),
        color=alt.Color("cause:N", title="Cause"),
        tooltip=["month:T", "cause:N", "rank:Q"],
    )
    .properties(height=HEIGHT)
)

_BY_GYM = (
    alt.Chart()
    .mark_bar(color=LEVEL_COLOURS["refer"])
    .encode(
        x=alt.X("red_flag_pct:Q", title="Red flags (% of reports)"),
        y=alt.Y("gym:N", sort="-x", title=None),
        tooltip=["gym:N", alt.Tooltip("red_flag_pct:Q", title="% red flags")],
    )
)

_FIRST_CONTACT = (
    alt.Chart()
    .mark_line(point=True)
    .encode(
        x=alt.X("week:T", title="Week the referral opened"),
        y=alt.Y("median_hours:Q", title="Median hours to first contact"),
        color=alt.Color("level:N", scale=_LEVEL_SCALE, title="Level"),
        tooltip=["week:T", "level:N", alt.Tooltip("median_hours:Q", title="median hours")],
    )
    .properties(height=HEIGHT)
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


def causes_over_time_chart(table: TrendTable) -> alt.Chart | None:
    data = _data(table, "month", "cause", "rank")
    return None if data is None else _with_data(_CAUSES_OVER_TIME, data)


def by_gym_chart(table: TrendTable) -> alt.Chart | None:
    data = _data(table, "gym", "red_flag_pct")
    return None if data is None else _with_data(_BY_GYM, data, height=max(120, 22 * len(data)))


def first_contact_chart(table: TrendTable) -> alt.Chart | None:
    data = _data(table, "week", "level", "median_hours")
    return None if data is None else _with_data(_FIRST_CONTACT, data)


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


def show_table(db, actor, table: TrendTable, key: str) -> None:
    """The table as the manager sees it ('fewer than 5' where suppressed) and its CSV download, whose
    click writes an export.download audit row like every other download."""
    st.dataframe(table.display(text=True), hide_index=True, width="stretch")
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
