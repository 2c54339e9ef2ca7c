"""The store: `from backcare import store; store.save_report(db, actor=..., ...)`."""

from backcare.store.db import (  # noqa: F401
    Database,
    Transaction,
    apply_migrations,
    default_db_path,
    open_database,
    resolve_path,
    utcnow,
)
