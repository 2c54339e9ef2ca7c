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
from backcare.views import BAND_HIGH, BAND_LOW

HEIGHT = 220
LEVEL_DOMAIN = ["Normal soreness", "Monitor", "Refer", "Urgent", "Emergency"]
LEVEL_COLOURS = ["#1e7b46", "#c49a00", "#d97706", "#dc2626", "#7f1d1d"]


@functools.cache
def pain_spec() -> dict[str, Any]:
    base = alt.Chart(alt.NamedData("pain")).encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0, tickCount=6)),
        y=alt.Y("pain:Q", title="Worst pain (0-10)", scale=alt.Scale(domain=[0, 10])),
        tooltip=[alt.Tooltip("day:T", title="Day", format="%d %b %Y"), alt.Tooltip("pain:Q", title="Worst pain"),
                 alt.Tooltip("level:N", title="Result"), alt.Tooltip("reports:Q", title="Reports")],
    )
    chart = base.mark_line(color="#6b7280") + base.mark_circle(size=90).encode(
        color=alt.Color("level:N", title="Result", legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=LEVEL_DOMAIN, range=LEVEL_COLOURS)))
    return chart.properties(height=HEIGHT).to_dict()


WEEK_X = alt.X("week:T", title="Week ending", axis=alt.Axis(format="%d %b", labelAngle=0, tickCount=6))


@functools.cache
def load_spec() -> dict[str, Any]:
    bars = alt.Chart(alt.NamedData("weeks")).mark_bar(size=16).encode(
        x=WEEK_X, y=alt.Y("load:Q", title="Weekly load (RPE × min)"),
        color=alt.condition(alt.datum.spike, alt.value("#b45309"), alt.value("#2563eb")),
        tooltip=[alt.Tooltip("week_start:N", title="From"), alt.Tooltip("week:N", title="To"),
                 alt.Tooltip("load:Q", title="Load (AU)"), alt.Tooltip("sessions:Q", title="Sessions")],
    )
    return bars.properties(height=HEIGHT).to_dict()


@functools.cache
def ratio_spec() -> dict[str, Any]:
    """The acute:chronic ratio: the usual band shaded, the spike threshold dashed, spikes as triangles."""
    band = alt.Chart(pd.DataFrame({"low": [BAND_LOW], "high": [BAND_HIGH]})).mark_rect(
        color="#16a34a", opacity=0.15).encode(y=alt.Y("low:Q"), y2="high:Q")
    spike_rule = alt.Chart(pd.DataFrame({"spike": [LOAD_RATIO_SPIKE]})).mark_rule(
        color="#b45309", strokeDash=[6, 4]).encode(y="spike:Q")
    weeks = alt.Chart(alt.NamedData("weeks")).transform_filter("isValid(datum.ratio)")
    line = weeks.mark_line(point=True, color="#374151").encode(
        x=WEEK_X, y=alt.Y("ratio:Q", title="Load-spike indicator", scale=alt.Scale(domainMin=0)),
        tooltip=[alt.Tooltip("week:N", title="Week ending"), alt.Tooltip("ratio:Q", title="Ratio")],
    )
    spikes = weeks.transform_filter(alt.datum.spike).mark_point(
        shape="triangle-up", size=160, filled=True, color="#b45309").encode(x=WEEK_X, y="ratio:Q")
    return _constant_datasets_as_arrow((band + spike_rule + line + spikes).properties(height=HEIGHT).to_dict())


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


def pain_chart(rows: list[dict[str, Any]]) -> None:
    if not rows:
        st.caption("No reports yet: the pain chart starts with the first report.")
        return
    st.vega_lite_chart(spec=_with_rows(pain_spec(), "pain", rows), width="stretch")


def load_chart(rows: list[dict[str, Any]]) -> None:
    """Weekly load bars, and below them the acute:chronic ratio with the usual band shaded and spikes
    marked: labelled as a load-spike indicator, not an injury prediction."""
    if not any(row["load"] for row in rows):
        st.caption("No sessions logged in these weeks: the load chart starts with the first session.")
        return
    st.vega_lite_chart(spec=_with_rows(load_spec(), "weeks", rows), width="stretch")
    if all(row["ratio"] is None for row in rows):
        st.caption("The load-spike indicator needs some weeks of history.")
        return
    st.vega_lite_chart(spec=_with_rows(ratio_spec(), "weeks", rows), width="stretch")
