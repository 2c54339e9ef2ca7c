"""The test-only clock hook of the sign-in sessions (issue 14): the browser test moves a running server's clock
on through a file, and only when the test flag is set; a deployment's clock is never moved."""

from __future__ import annotations

from datetime import timedelta

from backcare.ui import signin


def test_the_clock_file_moves_the_sessions_clock_only_with_the_test_flag(tmp_path, monkeypatch):
    clock = tmp_path / "clock"
    clock.write_text("1860")
    monkeypatch.setattr(signin.store, "utcnow", lambda: signin.datetime(2026, 12, 7, 12, 0))
    monkeypatch.setenv(signin.CLOCK_FILE_ENV, str(clock))
    monkeypatch.delenv(signin.TESTING_ENV, raising=False)
    assert signin.server_now() == signin.datetime(2026, 12, 7, 12, 0)  # no flag: the file is ignored
    monkeypatch.setenv(signin.TESTING_ENV, "1")
    assert signin.server_now() == signin.datetime(2026, 12, 7, 12, 0) + timedelta(minutes=31)
    clock.write_text("not a number")
    assert signin.server_now() == signin.datetime(2026, 12, 7, 12, 0)
