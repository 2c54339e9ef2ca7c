"""The small-group rule and the cell-key perturbation behind every manager figure (backcare.store.privacy;
docs/PRIVACY.md). The attacks themselves are in tests/security/test_privacy_*.py."""

from __future__ import annotations

from collections import Counter

import duckdb
import pytest

from backcare.store import privacy
from backcare.store.privacy import CELL_KEY_TABLE, KEY_SPACE, perturb_count, perturb_hours, perturb_points, share
from tests.test_app_trends import in_range, ok, page

KEYS = range(0, KEY_SPACE, KEY_SPACE // 997)  # about a thousand cell keys spread over the key space


@pytest.mark.parametrize("count", [0, 1, 2, 3, 4])
def test_every_count_under_five_is_hidden_whatever_its_cell_key(count):
    assert {perturb_count(count, key, count) for key in KEYS} == {None}


def test_a_count_of_five_or_more_about_fewer_than_five_clients_is_hidden():
    assert {perturb_count(12, key, 4) for key in KEYS} == {None}


@pytest.mark.parametrize("count", [5, 6, 7, 8, 50, 5000])
def test_a_shown_count_is_never_below_five_and_at_most_two_away(count):
    shown = {perturb_count(count, key, count) for key in KEYS}
    assert min(shown) >= 5 and max(abs(value - count) for value in shown) <= 2


def test_the_same_cell_key_always_gives_the_same_figure():
    assert [perturb_count(9, key, 9) for key in KEYS] == [perturb_count(9, key, 9) for key in KEYS]


def test_adjustments_follow_the_published_table():
    for count, row in CELL_KEY_TABLE.rows.items():
        assert sum(p for _, p in row) == pytest.approx(1.0)
        seen = Counter(perturb_count(count, key, count) - count for key in KEYS)
        for change, probability in row:
            assert seen[change] / len(KEYS) == pytest.approx(probability, abs=0.01), (count, change)
    # symmetric from 7 on: no bias on larger figures
    assert sum(change * p for change, p in CELL_KEY_TABLE.rows[7]) == pytest.approx(0.0)


def test_magnitudes_move_a_little_and_only_for_five_clients_or_more():
    hours = {perturb_hours(10.0, key, 5) for key in KEYS}
    assert min(hours) >= 9.0 and max(hours) <= 11.0 and len(hours) > 10
    points = {perturb_points(-1.0, key, 5) for key in KEYS}
    assert min(points) >= -1.25 and max(points) <= -0.75
    assert perturb_hours(10.0, 123, 4) is None and perturb_points(1.0, 123, 4) is None


def test_shares_come_from_shown_counts_only():
    assert share(5, 10) == 50.0 and share(12, 10) == 100.0
    assert share(None, 10) is None and share(5, None) is None


def _keys(secret: int, ids: list[int]) -> list[int]:
    connection = duckdb.connect()
    sql = privacy.with_record_keys("SELECT unnest(?::BIGINT[]) AS id", [("report", "id", "rk")])
    params = {"pk1": secret & (KEY_SPACE - 1), "pk2": secret >> 32}
    keyed = f"SELECT id, rk FROM ({sql.replace('?', '$ids')}) AS keyed"  # the key's steps are columns too
    rows = connection.execute(keyed, {**params, "ids": ids}).fetchall()
    return [key for _, key in sorted(rows)]


def test_record_keys_are_fixed_per_deployment_and_differ_between_deployments():
    ids = list(range(1, 2001))
    first = _keys(0x1234_5678_9ABC_DEF0, ids)
    assert first == _keys(0x1234_5678_9ABC_DEF0, ids)
    assert first != _keys(0x1234_5678_9ABC_DEF1, ids)
    assert all(0 <= key < KEY_SPACE for key in first)
    assert 0.45 < sum(first) / len(first) / KEY_SPACE < 0.55  # spread over the whole key space
    assert len(set(first)) == len(first)


# --- the CSV downloads are audited ------------------------------------------------------------


def test_a_trends_csv_download_writes_an_export_audit_row(db, history):
    at = in_range(page(db))
    ok(at)

    def exports():
        return (
            db.cursor()
            .execute("SELECT actor, entity, detail FROM audit_log WHERE action = 'export.download'")
            .fetchall()
        )

    assert exports() == []
    next(b for b in at.get("download_button") if b.key == "csv_by_gym").click()
    at.run()
    ok(at)
    assert exports() == [("mia", "trends", '{"what": "trends.reports_by_gym"}')]
