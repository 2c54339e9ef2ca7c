"""Showing a plan on a tablet: stacked text, no wide tables, so nothing scrolls sideways."""

from __future__ import annotations

import streamlit as st

from backcare.plans import Plan, SafetyNet


def plan_body(plan: Plan) -> None:
    """Goal, each exercise with its dose and cues, any per-client notes, cautions and review."""
    st.markdown(f"**Goal:** {plan.goal}")
    for exercise in plan.exercises:
        cues = "\n".join(f"  - {cue}" for cue in exercise.cues)
        st.markdown(f"- **{exercise.name}** · {exercise.dose} · {exercise.times_per_week}× a week\n{cues}")
    if plan.notes:
        st.markdown("**Changes for this client**\n" + "\n".join(f"- {note}" for note in plan.notes))
    st.markdown("**Take care**\n" + "\n".join(f"- {caution}" for caution in plan.cautions))
    st.caption(f"Review: {plan.review}")


def safety_net(net: SafetyNet) -> None:
    """The signs that mean stop and get help, most serious first (printed on every handout too)."""
    with st.expander(net.title, expanded=False, icon=":material/warning:"):
        st.caption(net.intro)
        for tier, show in zip(net.tiers, (st.error, st.warning, st.info), strict=False):
            show(f"**{tier.heading}**  \n{tier.action}\n" + "\n".join(f"- {sign}" for sign in tier.signs))
