"""Existing reports keep their meaning after migration 0004_triage_v2.

tests/fixtures/release-2ec2bb5.duckdb.gz is a database written by the release before triage v2 (commit
2ec2bb5; tests/fixtures/make_release_2ec2bb5_db.py made it with that release's code): seven reports from
normal to emergency, one with R5 from the history, referrals and a session. Opening it migrates it; every
old report must keep its answers (as answered: never turned into "not asked"), its level and its result.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from backcare import handoff, questions, store
from backcare.auth import SYSTEM
from backcare.models import TriageResult
from backcare.ui import views
from tests.conftest import report_payload

FIXTURE = Path(__file__).parent / "fixtures" / "release-2ec2bb5.duckdb.gz"
OLD_ANSWERS = (
    "hours_since_workout",
    "pain_score",
    "pain_quality",
    "trend",
    "eases_with_movement",
    "leg_symptoms",
    "numbness",
    "tingling",
    "weakness",
    "weakness_worsening",
    "limits_daily_activities",
    "saddle_numbness",
    "bladder_or_bowel_change",
    "sexual_dysfunction",
    "major_trauma",
    "chest_pain",
    "fever_or_unwell",
    "unexplained_weight_loss",
    "history_of_cancer",
    "night_or_rest_pain",
    "worse_on_cough_or_sneeze",
    "osteoporosis_or_steroids",
    "persistent_fatigue",
)
NEW_QUESTIONS = tuple(f for f in questions.FIELDS if f not in OLD_ANSWERS)
UNCHANGED_TABLES = (
    "report_findings",
    "report_causes",
    "referrals",
    "referral_events",
    "sessions",
    "report_submissions",
)


@pytest.fixture
def release_path(tmp_path) -> Path:
    path = tmp_path / "release.duckdb"
    with gzip.open(FIXTURE) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return path


def table(connection, name: str) -> list[dict]:
    cur = connection.execute(f"SELECT * FROM {name} ORDER BY ALL")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def snapshot(path: Path) -> dict[str, list[dict]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {name: table(connection, name) for name in ("reports", "clients", *UNCHANGED_TABLES)}


def test_the_fixture_is_a_database_of_the_release_before_triage_v2(release_path):
    with duckdb.connect(str(release_path), read_only=True) as connection:
        names = [n for (n,) in connection.execute("SELECT name FROM schema_migrations ORDER BY name").fetchall()]
        levels = [lv for (lv,) in connection.execute("SELECT level FROM reports ORDER BY id").fetchall()]
    assert names == ["0001_core_tables", "0002_drop_unused_sessions_index", "0003_report_submissions"]
    assert set(levels) == {"normal", "monitor", "refer", "urgent", "emergency"} and len(levels) == 7


def test_every_old_report_keeps_its_answers_level_and_result_after_0004(release_path):
    before = snapshot(release_path)
    with store.open_database(release_path) as db:
        assert "0004_triage_v2" in db.applied_migrations()  # and every later one
    after = snapshot(release_path)

    assert len(after["reports"]) == len(before["reports"])
    for old, new in zip(before["reports"], after["reports"], strict=True):
        assert {k: new[k] for k in old} == old  # every stored value, answers included, exactly as it was
        assert all(new[f] is None for f in NEW_QUESTIONS)  # the new questions were not asked then
        assert new["age"] is None and new["answered_after_stop"] is None
        assert all(old[f] is not None for f in OLD_ANSWERS)  # nothing old became "not asked"
    for name in UNCHANGED_TABLES:
        assert after[name] == before[name], name
    assert [{k: c[k] for k in before["clients"][0]} for c in after["clients"]] == before["clients"]
    assert all(c["year_of_birth"] is None for c in after["clients"])


def test_old_reports_read_back_with_the_same_result_and_history_through_the_store(release_path):
    before = snapshot(release_path)["reports"]
    with store.open_database(release_path) as db:
        actor = store.actor_for(store.get_user_by_username(db, username="tara"))
        for old in before:
            row = store.get_report(db, actor=actor, report_id=old["id"], audit=False)
            assert row.level.value == old["level"] and row.rules_version == old["rules_version"]
            assert row.result == TriageResult.model_validate_json(old["result_json"])
            assert row.result.level.value == old["level"] and row.result.not_asked == ()
            assert {f: row.answers[f] for f in OLD_ANSWERS} == {f: old[f] for f in OLD_ANSWERS}
            previous = json.loads(old["history_json"])["previous_pain_score"]
            assert row.history.previous_pain_score == previous
            assert row.history.episode_pain_scores == (() if previous is None else (previous,))
            assert row.pain_score == old["pain_score"]
            views.report_item(row)  # the timeline reads it
        for referral in store.list_referral_queue(db, actor=SYSTEM):
            summary = store.handoff_summary(db, actor=SYSTEM, referral_id=referral.id)
            text = handoff.handoff_markdown(summary)
            assert f"Pain now: {summary.pain_score}/10" in text
            # the questions added since were not asked when the report was made, and the handoff says so
            assert "Pain in the upper back" not in text and "Is the pain high up" in text.split("## Not asked")[1]


def test_a_new_report_after_the_migration_reads_the_old_episode(release_path):
    with store.open_database(release_path) as db:
        actor = store.actor_for(store.get_user_by_username(db, username="tara"))
        (ada,) = [c for c in store.list_clients(db, actor=actor) if c.name == "Ada Lovelace"]
        now = datetime(2025, 3, 11, 9, 0)
        saved = store.save_report(
            db, actor=actor, client_id=ada.id, now=now, report=report_payload(pain_score=4, hours_since_workout=30)
        )
        assert saved.history.episode_pain_scores == (2, 2, 4, 2)  # the old reports of the last 7 days, oldest first
        assert "R5" in [f.rule_id for f in saved.result.findings]
