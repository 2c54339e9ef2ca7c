"""Streamlit-only helpers shared by the pages. The only part of backcare that imports streamlit."""
