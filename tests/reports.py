"""Test helpers: a baseline report that triggers nothing, and ways to vary it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backcare import questions
from backcare.models import NO_HISTORY, TriageHistory, TriageReport, TriageResult
from backcare.rules import evaluate

REPO = Path(__file__).resolve().parents[1]

# Every question asked and answered with its mildest answer (those that apply: not pregnant, so no
# pregnancy warning signs); then expected soreness: a dull ache at 2/10 the day after training, easing
# with movement. No rule fires.
MILDEST: dict = {
    q.field: (q.mildest.value if hasattr(q.mildest, "value") else q.mildest)
    for q in questions.QUESTIONS
    if q.asked_when is None
}
NORMAL_REPORT: dict = {
    "client_id": "C-0001",
    **MILDEST,
    "hours_since_workout": 20,
    "pain_score": 2,
    "pain_quality": "dull_ache",
    "trend": "easing",
    "eases_with_movement": True,
    "leg_symptoms": "none",
}


def report_input(**overrides) -> dict:
    """The JSON-contract object of the baseline report with some answers changed."""
    data = dict(NORMAL_REPORT)
    context = overrides.pop("context", None)
    data.update(overrides)
    if context is not None:
        data["context"] = context
    return data


def make_report(**overrides) -> TriageReport:
    return TriageReport.model_validate(report_input(**overrides))


def make_history(**fields) -> TriageHistory:
    return TriageHistory(**fields) if fields else NO_HISTORY


def triage(history: TriageHistory | None = None, **overrides) -> TriageResult:
    return evaluate(make_report(**overrides), history)


def rule_ids(result: TriageResult) -> list[str]:
    return [finding.rule_id for finding in result.findings]


def run_cli(
    *args: str, stdin: str | bytes | None = None, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m backcare ARGS` in a subprocess, the way a user runs it (`env` adds variables)."""
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "backcare", *args],
        input=stdin.encode() if isinstance(stdin, str) else stdin,
        capture_output=True,
        cwd=cwd or REPO,
        env=env,
        timeout=120,
    )
