"""The triage result: a full-width level banner with the action, then why (findings), then causes; and the
emergency stop (the rule's action, a tap-to-call link and, on the page, Save now)."""

from __future__ import annotations

import html

import streamlit as st

from backcare.models import CauseId, Level, TriageResult
from backcare.rules import CAUSE_LABELS, RULES_BY_ID, emergency_actions, emergency_advice
from backcare.settings import DEFAULT_EMERGENCY_NUMBER, EmergencyNumber

LEVEL_TITLES: dict[Level, str] = {
    Level.NORMAL: "Normal soreness",
    Level.MONITOR: "Monitor",
    Level.REFER: "Refer to a professional",
    Level.URGENT: "Urgent: see a doctor within 24 hours",
    Level.EMERGENCY: "EMERGENCY: stop the session",
}
# Under these the screen shows no likely causes or plans: they stay in the record for the clinic.
CAUSES_HIDDEN = frozenset({Level.URGENT, Level.EMERGENCY})
DEFAULT_NUMBER = EmergencyNumber(DEFAULT_EMERGENCY_NUMBER, "default")

# The call link is the largest thing on the stop: a thumb finds it at once (red: it is an emergency).
_STOP_CSS = """<style>
.bc-call { display: flex; align-items: center; justify-content: center; gap: .5rem; min-height: 64px;
  margin: .6rem 0 .7rem 0; padding: .5rem 1rem; border-radius: 12px; background: #dc2626; color: #fff !important;
  border: 3px solid #fff; font-size: 1.7rem; font-weight: 700; text-decoration: none !important; }
.bc-call:active { background: #991b1b; }
.bc-actions { margin: 0; padding-left: 1.2rem; } .bc-actions li { margin: .2rem 0; }
.bc-why { font-size: .95rem; opacity: .9; margin-top: .5rem; }
</style>"""


def advice(result: TriageResult, number: EmergencyNumber = DEFAULT_NUMBER) -> str:
    """The result's advice with this deployment's emergency number."""
    return emergency_advice(result, number.shown) if result.level is Level.EMERGENCY else result.advice


def level_banner(result: TriageResult, number: EmergencyNumber = DEFAULT_NUMBER) -> None:
    level = result.level
    st.html(
        f'<div class="bc-banner bc-{level.value}" role="alert" data-testid="bc-banner" data-level="{level.value}">'
        f"<h2>{html.escape(LEVEL_TITLES[level])}</h2>{html.escape(advice(result, number))}</div>"
    )


# The answer that stops the form may have been tapped far down a scrolled page; the questions then vanish
# and the page would stay scrolled past the stop. Scrolled back to the top once, when the stop appears.
_TO_TOP = """<script>
const main = window.parent.document.querySelector('[data-testid="stMain"]')
    || document.querySelector('[data-testid="stMain"]');
if (main) main.scrollTo({top: 0}); window.scrollTo({top: 0});
</script>"""


def emergency_stop(result: TriageResult, number: EmergencyNumber = DEFAULT_NUMBER, *, to_top: bool = False) -> None:
    """The emergency stop, at the top of the screen: the level, the number as a tap-to-call link, what to
    do while help comes (each emergency rule's own action) and, in small, which answers made it so.
    `to_top`: scroll the page back to the top (the run on which the stop appears)."""
    actions = "".join(f"<li>{html.escape(action)}</li>" for action in emergency_actions(result))
    signs = "; ".join(html.escape(f.summary) for f in result.findings if f.level is Level.EMERGENCY)
    st.html(
        f'{_STOP_CSS}<div class="bc-banner bc-emergency" role="alert" data-testid="bc-banner" '
        f'data-level="emergency" data-stop="true"><h2>{html.escape(LEVEL_TITLES[Level.EMERGENCY])}</h2>'
        f'<a class="bc-call" data-testid="bc-call" href="{html.escape(number.tel)}">'
        f"Call {html.escape(number.shown)} now</a>"
        f'<ul class="bc-actions">{actions}</ul><div class="bc-why">Because: {signs}</div></div>'
        + (_TO_TOP if to_top else ""),
        unsafe_allow_javascript=to_top,
    )


def alert_toast(result: TriageResult, number: EmergencyNumber = DEFAULT_NUMBER) -> None:
    """The level and its action in a notice that floats over the page until the trainer closes it."""
    icon = ":material/emergency:" if result.level is Level.EMERGENCY else ":material/priority_high:"
    st.toast(f"**:red[{LEVEL_TITLES[result.level]}]**  \n{advice(result, number)}", icon=icon, duration="infinite")


def watch_strip() -> None:
    """Where an emergency or urgent banner would stand, about its size: when one appears, nothing on the
    screen moves under the trainer's finger."""
    st.html(
        '<div class="bc-banner bc-watch" data-testid="bc-watch"><h2>No emergency or urgent sign so far</h2>'
        "If an answer needs emergency or urgent care, this turns red at once.</div>"
    )


LEVEL_WORDS: dict[Level, str] = {
    Level.NORMAL: "normal soreness",
    Level.MONITOR: "monitor",
    Level.REFER: "refer",
    Level.URGENT: "urgent",
    Level.EMERGENCY: "emergency",
}


def findings(result: TriageResult) -> None:
    """Why, in plain words: each finding's sentence and what it means. The rule ids, the sources and the
    rules version are for a clinician or an audit: behind the *Details* toggle (details())."""
    if not result.findings:
        st.markdown("**Why:** no warning signs in the answers: this looks like ordinary post-workout soreness.")
        return
    lines = ["**Why**", ""]
    for finding in result.findings:
        rule = RULES_BY_ID[finding.rule_id]
        lines.append(f"- **{finding.summary}** ({LEVEL_WORDS[finding.level]})  \n  {rule.detail}")
    st.markdown("\n".join(lines))  # one element: each costs the same to send, whatever its length


def details(result: TriageResult) -> None:
    """The rule behind each finding, its source and the rules version, folded away."""
    with st.expander("Details (rules and sources, for the clinic)", expanded=False):
        lines = [f"- Rule {f.rule_id}: {f.summary}. Source: {f.source}" for f in result.findings]
        lines.append(f"- Rules version {result.rules_version}")
        st.markdown("\n".join(lines))


def causes(result: TriageResult) -> None:
    if result.level in CAUSES_HIDDEN:  # the care needed now is the only thing on the screen
        st.caption("Likely causes are not shown at this level: they are kept in the record for the clinic.")
        return
    if not result.causes:
        st.markdown("**Likely causes:** none detected from the training context given.")
        return
    lines = ["**Likely causes** (most evidence first)", ""]
    for cause in result.causes:
        lines.append(f"- **{CAUSE_LABELS[CauseId(cause.cause)]}** — {'; '.join(cause.evidence)}")
    st.markdown("\n".join(lines))


def show_result(result: TriageResult, number: EmergencyNumber = DEFAULT_NUMBER, *, banner: bool = True) -> None:
    if banner:
        level_banner(result, number)
    findings(result)
    causes(result)
    details(result)
