"""Cheap argon2 parameters for tests that hash many passwords (the real ones cost ~0.1 s per hash on
purpose). Use: `from tests.fast_hashing import fast_hashing  # noqa: F401` makes the fixture autouse."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from backcare import auth


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(auth, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
