"""Audit log for administrators: who did what and when, filtered by person, action, outcome and days;
the filtered rows as CSV (preparing the file is itself audited)."""

from __future__ import annotations

from datetime import timedelta

import streamlit as st

from backcare import store
from backcare.errors import BackCareError
from backcare.store.db import utcnow
from backcare.ui import context, style

style.apply_tablet_style()
db = context.get_db()
actor = context.require_actor()

SHOWN = 500
ANYONE, ANY_ACTION, ANY_OUTCOME = "Anyone", "Any action", "Any outcome"

st.title("Audit log")
st.caption("Every change, every view of a client's record or a handoff, every export and every sign-in. Times are UTC.")

try:
    actors, actions = store.audit_choices(db, actor=actor)
except BackCareError as error:
    st.error(str(error))
    st.stop()

today = utcnow().date()
left, middle, right = st.columns(3)
who = left.selectbox("Person", [ANYONE, *actors], key="audit_actor")
what = middle.selectbox("Action", [ANY_ACTION, *actions], key="audit_action")
outcome = right.selectbox("Outcome", [ANY_OUTCOME, "ok", "denied", "failed"], key="audit_outcome")
days = st.date_input("Days", value=(today - timedelta(days=30), today), max_value=today, key="audit_days")
start, end = (days[0], days[-1]) if isinstance(days, (tuple, list)) and days else (None, None)

try:
    filters = store.AuditFilter(
        actor=None if who == ANYONE else who,
        action=None if what == ANY_ACTION else what,
        outcome=None if outcome == ANY_OUTCOME else outcome,
        start=start,
        end=end,
    )
    rows, total = store.list_audit(db, actor=actor, filters=filters, limit=SHOWN)
except BackCareError as error:
    st.error(str(error))
    st.stop()

if not rows:
    st.info("Nothing matches these filters: widen the days or choose anyone / any action.")
else:
    st.markdown(f"**{total:,}** entries match" + (f"; the newest {SHOWN:,} are shown." if total > SHOWN else "."))
    st.dataframe(
        [
            {
                "When (UTC)": r.event_at.strftime("%Y-%m-%d %H:%M:%S"),
                "Who": r.actor,
                "Role": r.role,
                "Action": r.action,
                "What": f"{r.entity or ''} {r.entity_id or ''}".strip(),
                "Outcome": r.outcome,
                "Detail": r.detail or "",
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )

    if st.button("Prepare CSV of these entries", key="audit_prepare_csv"):
        try:
            st.session_state["audit_csv"] = store.export_audit_csv(db, actor=actor, filters=filters)
        except BackCareError as error:
            st.error(str(error))
    prepared = st.session_state.get("audit_csv")
    if prepared:
        st.download_button(
            "Download CSV",
            prepared,
            file_name=f"backcare-audit-{today.isoformat()}.csv",
            mime="text/csv",
            key="audit_download",
            type="primary",
        )
