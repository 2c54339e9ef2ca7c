"""Referral queue: the clinic's list of reports that need a professional, most serious and oldest first."""

from __future__ import annotations

import streamlit as st

from backcare import store
from backcare.errors import BackCareError
from backcare.ui import context, style
from backcare.ui import referral_views as views

style.apply_tablet_style()
db = context.get_db()
actor = context.require_actor()

st.title("Referral queue")
st.caption("Emergency first, then urgent, then refer; the longest waiting first within each. "
           f"First contact is due within: {views.contact_targets()}.")

saved = st.session_state.pop("ref_saved", None)
if saved:
    st.success(saved)

try:
    gyms = store.list_gyms(db, actor=actor)
    gym_id, statuses = views.filters(gyms, actor)
    queue = store.list_referral_queue(db, actor=actor, gym_id=gym_id, statuses=statuses) if statuses else []
except BackCareError as error:
    context.show_error(error)
    st.stop()

if not queue:
    st.info("No referrals match these filters. Nothing is waiting for the clinic.")
    st.stop()

views.queue_table(db, actor, queue, {g.id: g.name for g in gyms})

st.subheader("Work on a referral")
by_id = {r.id: r for r in queue}
chosen_id = st.selectbox("Referral", list(by_id), format_func=lambda i: views.referral_label(by_id[i]),
                         key="ref_chosen")
referral = by_id[chosen_id]
if referral.overdue:
    st.error(f"{views.OVERDUE_TEXT}: first contact was due and has not been recorded. Contact the client now.")

st.markdown("#### Next step")
views.status_form(db, actor, referral)
st.markdown("#### Handoff summary")
views.handoff_panel(db, actor, referral)
