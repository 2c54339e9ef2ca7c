"""Altair charts for the history page. They receive rows the store has already aggregated (per day or
per week), never raw records; they fill the container's width so nothing scrolls sideways."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from backcare.rules import LOAD_RATIO_SPIKE
from backcare.views import BAND_HIGH, BAND_LOW

HEIGHT = 220


def pain_chart(rows: list[dict[str, Any]]) -> None:
    if not rows:
        st.caption("No reports yet: the pain chart starts with the first report.")
        return
    data = pd.DataFrame(rows)
    base = alt.Chart(data).encode(
        x=alt.X("day:T", title=None, axis=alt.Axis(format="%d %b", labelAngle=0, tickCount=6)),
        y=alt.Y("pain:Q", title="Worst pain (0-10)", scale=alt.Scale(domain=[0, 10])),
        tooltip=[alt.Tooltip("day:T", title="Day", format="%d %b %Y"), alt.Tooltip("pain:Q", title="Worst pain"),
                 alt.Tooltip("level:N", title="Result"), alt.Tooltip("reports:Q", title="Reports")],
    )
    chart = base.mark_line(color="#6b7280") + base.mark_circle(size=90).encode(
        color=alt.Color("level:N", title="Result", legend=alt.Legend(orient="bottom"),
                        scale=alt.Scale(domain=["Normal soreness", "Monitor", "Refer", "Urgent", "Emergency"],
                                        range=["#1e7b46", "#c49a00", "#d97706", "#dc2626", "#7f1d1d"])))
    st.altair_chart(chart.properties(height=HEIGHT), width="stretch")


def load_chart(rows: list[dict[str, Any]]) -> None:
    """Weekly load bars, and below them the acute:chronic ratio with the usual band shaded and spikes
    marked: labelled as a load-spike indicator, not an injury prediction."""
    if not any(row["load"] for row in rows):
        st.caption("No sessions logged in these weeks: the load chart starts with the first session.")
        return
    data = pd.DataFrame(rows)
    x = alt.X("week:T", title="Week ending", axis=alt.Axis(format="%d %b", labelAngle=0, tickCount=6))
    bars = alt.Chart(data).mark_bar(size=16).encode(
        x=x, y=alt.Y("load:Q", title="Weekly load (RPE × min)"),
        color=alt.condition(alt.datum.spike, alt.value("#b45309"), alt.value("#2563eb")),
        tooltip=[alt.Tooltip("week_start:N", title="From"), alt.Tooltip("week:N", title="To"),
                 alt.Tooltip("load:Q", title="Load (AU)"), alt.Tooltip("sessions:Q", title="Sessions")],
    )
    st.altair_chart(bars.properties(height=HEIGHT), width="stretch")

    ratios = data.dropna(subset=["ratio"])
    if ratios.empty:
        st.caption("The load-spike indicator needs some weeks of history.")
        return
    top = max(2.0, float(ratios["ratio"].max()) + 0.2)
    band = alt.Chart(pd.DataFrame({"low": [BAND_LOW], "high": [BAND_HIGH]})).mark_rect(
        color="#16a34a", opacity=0.15).encode(y=alt.Y("low:Q"), y2="high:Q")
    spike_rule = alt.Chart(pd.DataFrame({"spike": [LOAD_RATIO_SPIKE]})).mark_rule(
        color="#b45309", strokeDash=[6, 4]).encode(y="spike:Q")
    line = alt.Chart(ratios).mark_line(point=True, color="#374151").encode(
        x=x, y=alt.Y("ratio:Q", title="Load-spike indicator", scale=alt.Scale(domain=[0, top])),
        tooltip=[alt.Tooltip("week:N", title="Week ending"), alt.Tooltip("ratio:Q", title="Ratio")],
    )
    spikes = alt.Chart(ratios[ratios["spike"]]).mark_point(shape="triangle-up", size=160, filled=True,
                                                           color="#b45309").encode(x=x, y="ratio:Q")
    st.altair_chart((band + spike_rule + line + spikes).properties(height=HEIGHT), width="stretch")
