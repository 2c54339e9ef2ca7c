"""The triage result: a full-width level banner with the action, then why (findings), then causes."""

from __future__ import annotations

import html

import streamlit as st

from backcare.models import CauseId, Level, TriageResult
from backcare.rules import CAUSE_LABELS, RULES_BY_ID

LEVEL_TITLES: dict[Level, str] = {
    Level.NORMAL: "Normal soreness",
    Level.MONITOR: "Monitor",
    Level.REFER: "Refer to a professional",
    Level.URGENT: "Urgent: see a doctor within 24 hours",
    Level.EMERGENCY: "EMERGENCY: stop the session",
}


def level_banner(result: TriageResult) -> None:
    level = result.level
    st.html(
        f'<div class="bc-banner bc-{level.value}" role="alert" data-testid="bc-banner" data-level="{level.value}">'
        f"<h2>{html.escape(LEVEL_TITLES[level])}</h2>{html.escape(result.advice)}</div>"
    )


def alert_toast(result: TriageResult) -> None:
    """The level and its action in a notice that floats over the page until the trainer closes it."""
    icon = ":material/emergency:" if result.level is Level.EMERGENCY else ":material/priority_high:"
    st.toast(f"**:red[{LEVEL_TITLES[result.level]}]**  \n{result.advice}", icon=icon, duration="infinite")


def watch_strip() -> None:
    """Where an emergency or urgent banner would stand, about its size: when one appears, nothing on the
    screen moves under the trainer's finger."""
    st.html('<div class="bc-banner bc-watch" data-testid="bc-watch"><h2>No emergency or urgent sign so far</h2>'
            "If an answer needs emergency or urgent care, this turns red at once.</div>")


def findings(result: TriageResult) -> None:
    if not result.findings:
        st.markdown("**Why:** no warning signs in the answers: this looks like ordinary post-workout soreness.")
        return
    lines = ["**Why**", ""]
    for finding in result.findings:
        rule = RULES_BY_ID[finding.rule_id]
        lines.append(f"- **{finding.rule_id}** · {finding.summary} — *{finding.level.value}*  \n"
                     f"  {rule.detail} _Source: {finding.source}_")
    st.markdown("\n".join(lines))  # one element: each costs the same to send, whatever its length


def causes(result: TriageResult) -> None:
    if not result.causes:
        st.markdown("**Likely causes:** none detected from the training context given.")
        return
    lines = ["**Likely causes** (most evidence first)", ""]
    for cause in result.causes:
        lines.append(f"- **{CAUSE_LABELS[CauseId(cause.cause)]}** — {'; '.join(cause.evidence)}")
    st.markdown("\n".join(lines))


def show_result(result: TriageResult) -> None:
    level_banner(result)
    findings(result)
    causes(result)
    st.caption(f"Rules version {result.rules_version}")
