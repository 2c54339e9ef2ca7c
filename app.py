import streamlit as st

st.set_page_config(page_title="BackCare", page_icon="🩺", layout="wide")
st.title("BackCare")
st.write("Back pain after workouts: triage, history and corrective plans.")
