"""Tablet-first look: large touch targets, readable banners, nothing wider than the screen."""

from __future__ import annotations

import re

import streamlit as st

from backcare.ui.palette import LEVEL_COLOURS

SCOPE_STATEMENT = (
    "BackCare supports your judgement as a trainer. It does not diagnose: when in doubt, refer, "
    "and in an emergency call 999."
)

_CSS = """
<style>
/* Touch targets of at least 44x44 CSS px (48 for buttons). Streamlit 1.67 renders segmented controls and
   pills as stButtonGroup, so the rules name the rendered test ids, checked in Chromium by
   tests/browser/test_tablet_fit.py. */
.stApp button, .stApp [role="button"], .stApp summary, .stApp a[href]:not([data-testid="stSkipToContent"] a) {
  min-height: 44px; min-width: 44px; }
.stButton button, .stDownloadButton button, .stFormSubmitButton button, .stLinkButton a,
div[data-testid="stButtonGroup"] button {
  min-height: 48px; font-size: 1.05rem; }
div[data-testid="stButtonGroup"] button { min-width: 48px; }
div[data-baseweb="select"] > div, .react-aria-ComboBox [role="group"], .stTextInput input,
.stNumberInput input, .stDateInput input,
div[data-baseweb="input"], div[data-baseweb="base-input"] {
  min-height: 46px; font-size: 1.05rem; }
[data-testid="stTextInputRootElement"], [data-testid="stDateInputField"], [data-testid="stNumberInputContainer"] {
  height: auto; min-height: 46px; }
/* number input steppers */
div[data-testid="stNumberInputContainer"] button { min-width: 44px; min-height: 44px; }
/* help icons: a 44 px tap area around the 16 px glyph */
[data-testid="stTooltipIcon"], [data-testid="stTooltipHoverTarget"] {
  min-width: 44px; min-height: 44px; display: inline-flex; align-items: center; justify-content: center; }
/* a chosen tag's "x" in a multiselect */
span[data-baseweb="tag"] { min-height: 44px; }
span[data-baseweb="tag"] [role="presentation"], span[data-baseweb="tag"] svg {
  min-width: 44px; min-height: 44px; padding: 12px; box-sizing: border-box; }
/* chosen tags wrap onto more lines instead of running out of their box */
[data-testid="stMultiSelectTagsContainer"] { flex-wrap: wrap; overflow: visible; height: auto; }
/* tabs */
[data-testid="stTab"] { min-height: 44px; min-width: 44px; }
/* checkboxes, radios and toggles: the whole label is the target */
.stCheckbox label, .stRadio label, .stToggle label { min-height: 44px; min-width: 44px; align-items: center; }
/* calendar days of the date picker */
div[data-baseweb="calendar"] [role="gridcell"], div[data-baseweb="calendar"] button {
  min-width: 44px; min-height: 44px; }
/* sidebar open/close and the top bar's links and menu */
[data-testid="stExpandSidebarButton"], [data-testid="stSidebarCollapseButton"] button,
[data-testid="stTopNavLink"], [data-testid="stMainMenu"] button, [data-testid="stSidebarNavLink"] {
  min-width: 44px; min-height: 44px; }
[data-testid="stSidebarCollapseButton"] { visibility: visible; }
/* Wide content scrolls inside its own box; nothing is hidden (no overflow-x: hidden on the page). */
.main .block-container, section.main > div { max-width: 100%; }
div[data-testid="stMarkdownContainer"] table { display: block; overflow-x: auto; max-width: 100%; }
[data-testid="stMain"] div[data-testid="stMarkdownContainer"]:not(.stMarkdownEllipsis) p,
[data-testid="stMain"] div[data-testid="stMarkdownContainer"]:not(.stMarkdownEllipsis) li,
div[data-testid="stMetricValue"] > div {
  overflow-wrap: anywhere; white-space: normal; overflow: visible; text-overflow: clip; }
div[data-testid="stMetricValue"] { overflow: visible; }
div[data-testid="stMetricLabel"] > div { overflow: visible; }
.bc-banner { border-radius: 12px; padding: 1.1rem 1.3rem; margin: .4rem 0 1rem 0; color: #fff;
  font-size: 1.15rem; line-height: 1.45; word-wrap: break-word; }
.bc-banner h2 { color: #fff; margin: 0 0 .3rem 0; font-size: 1.6rem; padding: 0; }
.bc-normal { background: NORMAL; } .bc-monitor { background: MONITOR; }
.bc-refer { background: REFER; } .bc-urgent { background: URGENT; }
.bc-emergency { background: EMERGENCY; border: 4px solid #fecaca; }
.bc-watch { background: #eef2f6; color: #1f2937; border: 1px solid #cbd5e1; }
.bc-watch h2 { color: #1f2937; }
.bc-status { display: inline-block; border-radius: 999px; padding: .15rem .7rem; font-weight: 600; }
</style>
"""
for _level, _colour in LEVEL_COLOURS.items():
    _CSS = _CSS.replace(_level.upper() + ";", _colour + ";")


def _minified(css: str) -> str:
    """The style sheet as the browser needs it: no comments and no indentation."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    return re.sub(r"\s*\n\s*", " ", css).strip()


class _StyleSheet:
    """The tablet style, ready to send. `st.html` takes an object's `_repr_html_()` as it is: this skips the
    work it does on a plain string on every call (dedenting some 4 kB and checking whether it names a file),
    and the sheet is minified once, at import (a fifth fewer bytes on every run)."""

    def __init__(self, css: str):
        self.html = _minified(css)

    def _repr_html_(self) -> str:
        return self.html


TABLET_STYLE = _StyleSheet(_CSS)


def apply_tablet_style() -> None:
    """Sent on every run (Streamlit removes what a run does not draw again); it goes to the event container,
    so it takes no room on the page."""
    st.html(TABLET_STYLE)


def scope_statement(number: str = "999") -> None:
    """The scope statement, with the deployment's emergency number (backcare.settings)."""
    st.caption(f":material/info: {SCOPE_STATEMENT.replace('call 999', f'call {number}')}")
