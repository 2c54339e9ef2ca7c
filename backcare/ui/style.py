"""Tablet-first look: large touch targets, readable banners, nothing wider than the screen."""

from __future__ import annotations

import streamlit as st

SCOPE_STATEMENT = (
    "BackCare supports your judgement as a trainer. It does not diagnose: when in doubt, refer, "
    "and in an emergency call 999."
)

_CSS = """
<style>
/* touch targets of at least 48 px */
.stButton button, .stDownloadButton button, .stFormSubmitButton button,
div[data-testid="stSegmentedControl"] button, div[data-testid="stPills"] button {
  min-height: 48px; font-size: 1.05rem; }
div[data-baseweb="select"] > div, .stTextInput input, .stNumberInput input, .stDateInput input {
  min-height: 46px; font-size: 1.05rem; }
/* never scroll sideways on a tablet */
.main .block-container, section.main > div { max-width: 100%; overflow-x: hidden; }
div[data-testid="stAppViewContainer"] { overflow-x: hidden; }
.bc-banner { border-radius: 12px; padding: 1.1rem 1.3rem; margin: .4rem 0 1rem 0; color: #fff;
  font-size: 1.15rem; line-height: 1.45; word-wrap: break-word; }
.bc-banner h2 { color: #fff; margin: 0 0 .3rem 0; font-size: 1.6rem; padding: 0; }
.bc-normal { background: #1e7b46; } .bc-monitor { background: #8a6d00; }
.bc-refer { background: #b45309; } .bc-urgent { background: #b91c1c; }
.bc-emergency { background: #7f1d1d; border: 4px solid #fecaca; }
.bc-watch { background: #eef2f6; color: #1f2937; border: 1px solid #cbd5e1; }
.bc-watch h2 { color: #1f2937; }
.bc-status { display: inline-block; border-radius: 999px; padding: .15rem .7rem; font-weight: 600; }
</style>
"""


def apply_tablet_style() -> None:
    st.html(_CSS)


def scope_statement(number: str = "999") -> None:
    """The scope statement, with the deployment's emergency number (backcare.settings)."""
    st.caption(f":material/info: {SCOPE_STATEMENT.replace('call 999', f'call {number}')}")
