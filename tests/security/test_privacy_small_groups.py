"""Zero and 1-4 look the same (issue 12, M1): a gym, a trainer or a cause with no report at all and one with
three reports are shown alike in every table and CSV of the trends page, and no table says which trainer's
clients a small group was. Before the fix, an empty group had no row and a small one had a row reading
"fewer than 5", and the hidden rows were ordered by their true size."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from backcare.store import analytics
from backcare.store.analytics import SUPPRESSED_TEXT
from tests.security.privacy_world import (
    MANAGER,
    RARE,
    SECRETS,
    TUE,
    WED,
    clients,
    day,
    gym_with_trainers,
    report_each,
    set_secret,
)

WEEK = {"start": day(TUE) - timedelta(days=1), "end": day(WED) + timedelta(days=4)}


@pytest.fixture
def world(db):
    _, (ben,) = gym_with_trainers(db, "Big Gym", "Ben Big")
    quiet, _ = gym_with_trainers(db, "Quiet Gym", "Quinn One", "Quinn Two")
    small, (sam, sue) = gym_with_trainers(db, "Small Gym", "Sam One", "Sam Two")
    report_each(db, ben, clients(db, ben, 6, "Big"), WED, **RARE)
    clients(db, sue, 2, "Sue's")  # Sam Two has clients, none of whom reported
    # three of Sam One's clients report a red flag with the rare cause
    report_each(db, sam, clients(db, sam, 3, "Sam's"), TUE, pain_quality="sharp", **RARE)
    return {"db": db, "quiet": quiet, "small": small}


def anonymous(frame: pd.DataFrame) -> list[list]:
    """A table's rows without the names of gyms and trainers."""
    return frame.drop(columns=[c for c in ("gym", "trainer") if c in frame.columns]).values.tolist()


def test_a_gym_with_three_reports_looks_like_a_gym_with_none(world):
    db = world["db"]
    for secret in SECRETS[:3]:
        set_secret(db, secret)
        by_gym = analytics.reports_by_gym(db, actor=MANAGER, **WEEK).display().set_index("gym")
        hidden = [SUPPRESSED_TEXT] * len(by_gym.columns)  # every figure of the row
        assert by_gym.loc["Quiet Gym"].tolist() == by_gym.loc["Small Gym"].tolist() == hidden
        quiet = analytics.trends(db, actor=MANAGER, **WEEK, gym_id=world["quiet"].id, now=WED + timedelta(days=5))
        small = analytics.trends(db, actor=MANAGER, **WEEK, gym_id=world["small"].id, now=WED + timedelta(days=5))
        for empty, three in zip(quiet.tables(), small.tables(), strict=True):
            assert anonymous(empty.display()) == anonymous(three.display()), empty.name
            assert empty.csv().replace(b"Quiet Gym", b"").replace(b"Quinn", b"") == three.csv().replace(
                b"Small Gym", b""
            ).replace(b"Sam", b""), empty.name


def test_no_table_says_which_trainers_clients_the_small_group_was(world):
    db = world["db"]
    for secret in SECRETS[:3]:
        set_secret(db, secret)
        for gym_id in (None, world["small"].id):
            trainers = analytics.reports_by_trainer(db, actor=MANAGER, **WEEK, gym_id=gym_id).display()
            small = trainers[trainers["gym"] == "Small Gym"].set_index("trainer")
            assert list(small.index) == ["Sam One", "Sam Two"]
            assert small.loc["Sam One"].tolist() == small.loc["Sam Two"].tolist()


def test_hidden_causes_are_listed_by_name_whatever_their_size(world):
    db = world["db"]
    table = analytics.causes_ranked(db, actor=MANAGER, **WEEK, gym_id=world["small"].id).display()
    # every cause is listed; the one three clients had sits among the others in alphabetical order
    assert len(table) == 7
    assert table["cause"].tolist() == sorted(table["cause"])
    assert list(table.columns) == ["rank", "cause", "reports", "pct_of_reports"]
    assert set(table[["rank", "reports", "pct_of_reports"]].stack()) == {SUPPRESSED_TEXT}
