"""Referral queue: the clinic's list of reports that need a professional, in the clinic's work order; one tap
opens a referral, its next step and its handoff."""

from __future__ import annotations

import streamlit as st

from backcare import store
from backcare.errors import BackCareError
from backcare.ui import context, style
from backcare.ui import referral_views as views

style.apply_tablet_style()
views.apply_style()
db = context.get_db()
actor = context.require_actor()

st.title("Referral queue")
st.caption(
    "First contact to make comes first (emergency, then urgent, then refer; the longest waiting first), "
    "then the referrals waiting on a professional or a clearance. "
    f"First contact is due within: {views.contact_targets()}."
)

try:
    gyms = store.list_gyms(db, actor=actor)
    gym_names = {g.id: g.name for g in gyms}
    gym_id, statuses = views.filters(gyms, actor)
    queue = store.list_referral_queue(db, actor=actor, gym_id=gym_id, statuses=statuses) if statuses else []
except BackCareError as error:
    context.show_error(error)
    st.stop()

if queue:
    st.caption("Tap a referral to open it: its next step and handoff open below the list.")
    views.queue_list(db, actor, queue, gym_names)
else:
    st.info("No referrals match these filters. Nothing is waiting for the clinic.")

# The open referral is held by its id: it stays open when a save changes its row or moves it out of the list.
open_id = views.open_referral_id()
if open_id is not None:
    views.referral_panel(db, actor, open_id, gym_names)
