"""Per-process database handle, the signed-in actor and the current client, for every page."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from backcare.auth import Actor
from backcare.errors import BackCareError, DatabaseLocked

ACTOR_KEY = "actor"
CLIENT_KEY = "client_id"


def database_path() -> Path:
    from backcare.store.db import default_db_path

    return Path(os.environ.get("BACKCARE_DB") or default_db_path())


@st.cache_resource(show_spinner=False)
def _open_database(path: str):
    # One connection per process (DESIGN.md); every store call takes its own cursor. On DuckDB this process holds
    # the file and sees every write, so reads of one client are kept between writes (issue 13: store.db.ReadCache;
    # a no-op on PostgreSQL, where other processes write too).
    from backcare import store

    db = store.open_database(path)
    db.enable_read_cache()
    return db


_HANDLES: dict[str, object] = {}


def _database(target: str):
    """The process's Database for `target`: st.cache_resource opens it once; every later run takes it from
    this dict (the same object), without the cache's key hashing and bookkeeping on each of the two calls a
    server rerun makes (app.py, then the page)."""
    handle = _HANDLES.get(target)
    if handle is None:
        handle = _HANDLES[target] = _open_database(target)
    return handle


def database_target() -> str:
    """What the process opens: BACKCARE_DATABASE_URL (a PostgreSQL server) when set, else the file."""
    from backcare.store.engine import database_url

    return database_url() or str(database_path())


def open_db():
    """The process's Database for BACKCARE_DATABASE_URL or BACKCARE_DB (or the default file); raises the domain
    error. Creates the file if missing: callers check first (signin.open_database_or_stop)."""
    st.session_state["_run_token"] = st.session_state.get("_run_token", 0) + 1
    return _database(database_target())


def get_db():
    """The process's Database for BACKCARE_DB (or the default file); stops the page with one sentence
    when the file cannot be opened."""
    # Each page calls this first on every run: a new token lets per-run reads (the current client) be reused
    # within the run but never across runs, when the data may have changed.
    st.session_state["_run_token"] = st.session_state.get("_run_token", 0) + 1
    try:
        return _database(database_target())
    except DatabaseLocked as locked:
        st.error(str(locked))
        st.stop()
    except BackCareError as error:
        st.error(f"The database could not be opened: {error}")
        st.stop()


def current_actor() -> Actor | None:
    return st.session_state.get(ACTOR_KEY)


def require_actor() -> Actor:
    actor = current_actor()
    if actor is None:
        st.warning("Please sign in first.")
        st.stop()
    return actor


def current_client_id() -> int | None:
    return st.session_state.get(CLIENT_KEY)


def set_current_client(client_id: int | None) -> None:
    st.session_state[CLIENT_KEY] = client_id


def show_error(error: BackCareError) -> None:
    """Domain errors as one sentence; never a traceback."""
    st.error(str(error))


def audited_download(
    db, actor: Actor, label: str, data, *, what: str, entity: str | None = None, entity_id=None, **kwargs
) -> None:
    """st.download_button whose click writes an export audit row (what was taken, by whom, when)."""
    from backcare import store

    def record() -> None:
        try:
            store.record_download(db, actor=actor, what=what, entity=entity, entity_id=entity_id)
        except BackCareError as error:  # the file was already handed over; say the trail failed
            st.session_state["download_audit_error"] = str(error)

    st.download_button(label, data, on_click=record, **kwargs)
