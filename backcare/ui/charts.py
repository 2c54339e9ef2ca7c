"""Altair charts for the history page. They receive rows the store has already aggregated (per day or
per week), never raw records; they fill the container's width so nothing scrolls sideways.

Building and validating an Altair chart costs tens of milliseconds on every rerun, more than the
queries behind it. The chart's *shape* never changes, so each is built once per process over a named,
empty data source (`functools.cache`: no client data is ever cached) and each rerun only attaches that
client's aggregated rows to a copy of the spec.
"""

from __future__ import annotations

import functools
from typing import Any

import altair as alt
import pandas as pd
import pyarrow as pa
import streamlit as st

from backcare.rules import LOAD_RATIO_SPIKE
from backcare.ui import palette, words
from backcare.ui.views import BAND_HIGH, BAND_LOW

HEIGHT = 160
LEVEL_DOMAIN = list(palette.LEVEL_WORDS.values())
LEVEL_COLOURS = [palette.LEVEL_COLOURS[level] for level in palette.LEVEL_WORDS]
LEVEL_SHAPES = [palette.LEVEL_SHAPES[level] for level in palette.LEVEL_WORDS]
# One time axis for the three panels (load, ratio, pain): the same field name and scale in each, so a week
# lines up with that week's pain. Dates in the one format of the app (e.g. 02 Dec 2026).
DAY_FORMAT = words.DAY_FORMAT
X = alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0, tickCount=6, labelFontSize=13))
Y_EXTENT = 56  # the same room for every panel's y labels, so the plotting areas line up


def _span() -> alt.Chart:
    """An invisible layer over the named dataset "span" (first and last day of all panels): every panel's
    time scale covers the same days, so the three stacked charts read as one time axis."""
    return alt.Chart(alt.NamedData("span")).mark_point(opacity=0).encode(x=X)


# Values on tap: a tap (or click) on a mark picks its day in every panel; the picked values are written
# beside the marks, because a hover tooltip does not appear under a finger on every tablet.
PICK = alt.selection_point(name="picked", fields=["day"], on="click", nearest=True, empty=False, clear="dblclick")


def _load_panel() -> alt.LayerChart | alt.FacetChart:
    weeks = alt.Chart(alt.NamedData("weeks"))
    bars = (
        weeks.mark_bar(size=18)
        .encode(
            x=X,
            y=alt.Y("load:Q", title="Load per week", axis=alt.Axis(format=",.0f", minExtent=Y_EXTENT)),
            color=alt.condition(alt.datum.spike, alt.value(palette.SPIKE), alt.value(palette.LOAD_BAR)),
            tooltip=[
                alt.Tooltip("week_start:T", title="From", format=DAY_FORMAT),
                alt.Tooltip("day:T", title="To", format=DAY_FORMAT),
                alt.Tooltip("load:Q", title="Load (RPE × minutes)", format=",.0f"),
                alt.Tooltip("sessions:Q", title="Sessions"),
            ],
        )
        .add_params(PICK)
    )
    value = (
        weeks.mark_text(dy=-8, fontSize=14, fontWeight="bold", color=palette.LINE)
        .encode(x=X, y="load:Q", text=alt.Text("load:Q", format=",.0f"))
        .transform_filter(PICK)
    )
    return alt.layer(_span(), bars, value).properties(height=HEIGHT, title="Training load per week (orange: a spike)")


def _ratio_panel() -> alt.LayerChart | alt.FacetChart:
    band = (
        alt.Chart(pd.DataFrame({"low": [BAND_LOW], "high": [BAND_HIGH]}))
        .mark_rect(color=palette.BAND_FILL, opacity=0.15)
        .encode(y=alt.Y("low:Q"), y2="high:Q")
    )
    spike_rule = (
        alt.Chart(pd.DataFrame({"spike": [LOAD_RATIO_SPIKE]}))
        .mark_rule(color=palette.SPIKE, strokeDash=[6, 4], size=2)
        .encode(y="spike:Q")
    )
    spike_label = (
        alt.Chart(pd.DataFrame({"spike": [LOAD_RATIO_SPIKE], "text": ["1.5: spike"]}))
        .mark_text(align="left", dx=4, dy=-7, fontSize=12, color=palette.SPIKE)
        .encode(y="spike:Q", text="text:N", x=alt.value(0))
    )
    weeks = alt.Chart(alt.NamedData("weeks")).transform_filter("isValid(datum.ratio)")
    line = (
        weeks.mark_line(point=alt.OverlayMarkDef(size=70, filled=True), color=palette.LINE)
        .encode(
            x=X,
            y=alt.Y(
                "ratio:Q", title="Spike indicator", scale=alt.Scale(domainMin=0), axis=alt.Axis(minExtent=Y_EXTENT)
            ),
            tooltip=[
                alt.Tooltip("day:T", title="Week ending", format=DAY_FORMAT),
                alt.Tooltip("ratio:Q", title="Ratio", format=".2f"),
            ],
        )
        .add_params(PICK)
    )
    spikes = (
        weeks.transform_filter(alt.datum.spike)
        .mark_point(shape="triangle-up", size=160, filled=True, color=palette.SPIKE)
        .encode(x=X, y="ratio:Q")
    )
    value = (
        weeks.mark_text(dy=-12, fontSize=14, fontWeight="bold", color=palette.LINE)
        .encode(x=X, y="ratio:Q", text=alt.Text("ratio:Q", format=".2f"))
        .transform_filter(PICK)
    )
    return alt.layer(_span(), band, spike_rule, spike_label, line, spikes, value).properties(
        height=HEIGHT, title="Load-spike indicator (shaded: the usual range)"
    )


def _pain_panel() -> alt.LayerChart | alt.FacetChart:
    base = alt.Chart(alt.NamedData("pain")).encode(
        x=X,
        y=alt.Y(
            "pain:Q", title="Worst pain (0-10)", scale=alt.Scale(domain=[0, 10]), axis=alt.Axis(minExtent=Y_EXTENT)
        ),
        tooltip=[
            alt.Tooltip("day:T", title="Day", format=DAY_FORMAT),
            alt.Tooltip("pain:Q", title="Worst pain"),
            alt.Tooltip("level:N", title="Result"),
            alt.Tooltip("reports:Q", title="Reports"),
        ],
    )
    dots = (
        base.mark_point(size=110, filled=True, opacity=1)
        .encode(
            color=alt.Color(
                "level:N",
                title="Result",
                legend=alt.Legend(orient="bottom", labelFontSize=13),
                scale=alt.Scale(domain=LEVEL_DOMAIN, range=LEVEL_COLOURS),
            ),
            shape=alt.Shape("level:N", title="Result", scale=alt.Scale(domain=LEVEL_DOMAIN, range=LEVEL_SHAPES)),
        )
        .add_params(PICK)
    )
    value = (
        base.mark_text(dy=-14, fontSize=14, fontWeight="bold", color=palette.LINE)
        .encode(text="pain:Q")
        .transform_filter(PICK)
    )
    return alt.layer(_span(), base.mark_line(color="#6b7280"), dots, value).properties(
        height=HEIGHT, title="Worst pain reported"
    )


def _panel_spec(panel: alt.LayerChart | alt.FacetChart) -> dict[str, Any]:
    return _constant_datasets_as_arrow(
        panel.configure_axis(labelFontSize=13, titleFontSize=13).configure_title(fontSize=15, anchor="start").to_dict()
    )


@functools.cache
def history_specs() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Load, the acute:chronic ratio and pain: three charts over one time span (see _span). Separate charts
    rather than a vconcat, because only a single chart stretches to the screen's width."""
    return _panel_spec(_load_panel()), _panel_spec(_ratio_panel()), _panel_spec(_pain_panel())


def load_sentence(summary) -> str:
    """What the load says this week, in one plain sentence (views.LoadSummary in, words out)."""
    if not summary.sessions and not summary.this_week:
        return "No session logged in the last 7 days."
    sessions = f"{summary.sessions} session{'s' if summary.sessions != 1 else ''}"
    parts = [f"This week: {summary.this_week:,.0f} load units over {sessions}"]
    if summary.last_week:
        change = (summary.this_week - summary.last_week) / summary.last_week
        parts.append(f"{abs(change):.0%} {'more' if change >= 0 else 'less'} than the week before")
    sentence = ", ".join(parts) + "."
    if summary.ratio is None:
        return sentence + " The spike indicator needs about 4 weeks of logged sessions."
    if summary.ratio >= LOAD_RATIO_SPIKE:
        return (
            sentence + f" The spike indicator is {summary.ratio:.2f}, at or above {LOAD_RATIO_SPIKE}: this "
            "week is much harder than the usual week of the last month. Keep the next sessions lighter and "
            "ask about pain."
        )
    if summary.ratio > BAND_HIGH:
        return (
            sentence + f" The spike indicator is {summary.ratio:.2f}: a little above the usual range; build up slowly."
        )
    if summary.ratio >= BAND_LOW:
        return sentence + f" The spike indicator is {summary.ratio:.2f}: within the usual range."
    return sentence + f" The spike indicator is {summary.ratio:.2f}: lighter than the usual week."


def _arrow_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Rows as the Arrow IPC stream Streamlit sends for a chart's dataset (no pandas round trip)."""
    table = pa.Table.from_pylist(rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _constant_datasets_as_arrow(spec: dict[str, Any]) -> dict[str, Any]:
    """The template's own constant datasets (band edges, threshold), converted once."""
    return {**spec, "datasets": {name: _arrow_bytes(values) for name, values in spec.get("datasets", {}).items()}}


def _with_rows(spec: dict[str, Any], name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    # A new top-level dict: the cached template keeps no client data.
    return {**spec, "datasets": {**spec.get("datasets", {}), name: _arrow_bytes(rows)}}


CHARTS_KEY = "_history_charts"  # the last charts drawn in this session: (load rows, pain rows, charts)


def _history_chart_specs(load_rows: list[dict[str, Any]], pain_rows: list[dict[str, Any]]):
    """The charts to draw, each (spec with its rows as Arrow, height), and whether the ratio is charted."""
    has_load = any(row["load"] for row in load_rows)
    with_ratio = any(row["ratio"] is not None for row in load_rows)
    weeks = [{**row, "day": row["week"]} for row in load_rows]
    days = (
        [row["week_start"] for row in load_rows]
        + [row["week"] for row in load_rows]
        + [row["day"] for row in pain_rows]
    )
    span = [{"day": min(days)}, {"day": max(days)}]
    load_spec, ratio_spec, pain_spec = history_specs()
    charts = [
        # the height given is the whole chart's (title, axes and legend included)
        (_with_rows(_with_rows(spec, name, rows), "span", span), HEIGHT + (150 if name == "pain" else 90))
        for spec, name, rows, shown in (
            (load_spec, "weeks", weeks, has_load),
            (ratio_spec, "weeks", weeks, with_ratio),
            (pain_spec, "pain", pain_rows, bool(pain_rows)),
        )
        if shown
    ]
    return charts, with_ratio


def history_charts(load_rows: list[dict[str, Any]], pain_rows: list[dict[str, Any]]) -> None:
    """Weekly load, the spike indicator and pain, stacked over one shared time span. The specs (the rows as
    Arrow) are made again only when the rows differ from the ones this session last drew: most taps on the
    history page change neither (issue 17: a rerun's own work; st.vega_lite_chart copies the spec it is given)."""
    has_load = any(row["load"] for row in load_rows)
    if not has_load and not pain_rows:
        st.caption("Nothing to chart yet: the charts start with the first logged session or report.")
        return
    kept = st.session_state.get(CHARTS_KEY)
    if kept is not None and kept[0] == load_rows and kept[1] == pain_rows:
        charts, with_ratio = kept[2]
    else:
        charts, with_ratio = _history_chart_specs(load_rows, pain_rows)
        st.session_state[CHARTS_KEY] = (load_rows, pain_rows, (charts, with_ratio))
    for spec, height in charts:
        st.vega_lite_chart(spec=spec, width="stretch", height=height)
    st.caption(
        "Tap a bar or a point to see its value; double-tap to clear."
        + ("" if with_ratio else " The spike indicator needs about 4 weeks of logged sessions.")
        + ("" if pain_rows else " No reports yet: pain is charted from the first report.")
    )
