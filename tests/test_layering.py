"""The layout is the architecture (DESIGN.md): SQL only in backcare/store/, Streamlit only in backcare/ui/,
pages/ and app.py, and no module reaches into another object's private attributes. Read from the source's
syntax tree, so a new file is checked the day it is added."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQL_CALLS = {"execute", "executemany", "sql", "fetch_df", "fetchall", "fetchone"}


def _modules(*tops: str) -> list[Path]:
    found: list[Path] = []
    for top in tops:
        path = ROOT / top
        found.extend([path] if path.suffix == ".py" else sorted(path.rglob("*.py")))
    return found


def _relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


def _sql_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{_relative(path)}:{node.lineno} .{node.func.attr}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS
    ]


def _private_reach_ins(path: Path) -> list[str]:
    return [
        f"{_relative(path)}:{node.lineno} .{node.attr}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})
    ]


def _imports_streamlit(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "streamlit" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "streamlit":
            return True
    return False


def test_sql_runs_only_in_the_store():
    outside = [p for p in _modules("backcare", "pages", "app.py") if "backcare/store/" not in _relative(p)]
    assert outside, "the walk found no modules"
    assert [call for path in outside for call in _sql_calls(path)] == []


def test_streamlit_is_used_only_by_the_screens():
    screens = ("backcare/ui/", "pages/", "app.py")
    others = [p for p in _modules("backcare", "pages", "app.py") if not _relative(p).startswith(screens)]
    assert [_relative(p) for p in others if _imports_streamlit(p)] == []


def test_no_module_reaches_into_another_objects_private_attributes():
    assert [hit for path in _modules("backcare", "pages", "app.py") for hit in _private_reach_ins(path)] == []


def test_the_checks_see_a_violation_when_there_is_one(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text("import streamlit as st\ncur.execute('SELECT 1')\ndb._lock.acquire()\nself._own = 1\n")
    assert _imports_streamlit(sample)
    assert [hit.rsplit(":", 1)[1] for hit in _sql_calls(sample)] == ["2 .execute()"]
    assert [hit.rsplit(":", 1)[1] for hit in _private_reach_ins(sample)] == ["3 ._lock"]
