"""BackCare: page config, start gate (demo mode, missing or locked file), sign-in, and the pages of the
signed-in role."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from backcare.ui import plan_views  # loads no data file: the check below names a broken one

st.set_page_config(
    page_title="BackCare", page_icon=":material/medical_services:", layout="wide", initial_sidebar_state="collapsed"
)
plan_views.data_files_or_stop()  # issue 15: the app does not start on a broken catalogue or plan library

from backcare.auth import Role  # noqa: E402  (after the data check: backcare.rules loads the catalogue)
from backcare.ui import signin, style  # noqa: E402

style.apply_tablet_style()

db = signin.open_database_or_stop()
actor = signin.current_or_expired_actor()
signin.demo_banner(db)
signin.write_resume_cookie()

HERE = Path(__file__).parent
# name: (script, title, icon). Registered explicitly; no reliance on auto-discovery.
PAGE_SPECS: dict[str, tuple[str, str, str]] = {
    "triage": ("pages/triage.py", "Triage", ":material/medical_services:"),
    "history": ("pages/history.py", "Client history", ":material/timeline:"),
    "plans": ("pages/plans.py", "Plans", ":material/assignment:"),
    "referrals": ("pages/referrals.py", "Referral queue", ":material/local_hospital:"),
    "trends": ("pages/trends.py", "Trends", ":material/bar_chart:"),
    "admin": ("pages/admin.py", "People and gyms", ":material/manage_accounts:"),
    "audit": ("pages/audit.py", "Audit log", ":material/receipt_long:"),
}
ROLE_PAGES: dict[Role, tuple[str, ...]] = {
    Role.TRAINER: ("triage", "history", "plans"),
    Role.CLINIC: ("referrals",),
    Role.MANAGER: ("trends",),
    Role.ADMIN: ("admin", "audit", "trends"),
}

if actor is None:
    navigation = st.navigation(
        [st.Page(signin.signin_page, title="Sign in", icon=":material/lock:", url_path="signin")]
    )
else:
    pages = [
        st.Page(PAGE_SPECS[name][0], title=PAGE_SPECS[name][1], icon=PAGE_SPECS[name][2], url_path=name)
        for name in ROLE_PAGES.get(actor.role, ())
        if (HERE / PAGE_SPECS[name][0]).exists()
    ]
    # A top bar: one tap on a tablet in either orientation, and the page keeps its full width (the sidebar
    # took 300 of 1024 px, or hid the pages behind a small button in portrait).
    navigation = st.navigation(pages, position="top")
    signin.sidebar_account(actor)
navigation.run()
