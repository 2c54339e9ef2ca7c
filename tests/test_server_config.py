"""The server's settings that measurements decided (issue 13): see the comments in .streamlit/config.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


def test_the_server_does_not_collect_garbage_after_every_script_run():
    assert tomllib.loads(CONFIG.read_text())["runner"]["postScriptGC"] is False


def test_the_server_does_not_watch_its_source_files():
    assert tomllib.loads(CONFIG.read_text())["server"]["fileWatcherType"] == "none"
