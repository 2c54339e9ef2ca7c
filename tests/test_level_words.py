"""A level's words live in one place (Level.label); tables, charts and badges take them from there."""

from backcare.models import Level
from backcare.ui import palette, referral_views, views


def test_every_level_has_its_words_once():
    labels = [level.label for level in Level]
    assert labels == ["Normal soreness", "Monitor", "Refer", "Urgent", "Emergency"]


def test_charts_tables_and_badges_use_the_same_words():
    assert palette.LEVEL_WORDS == views.LEVEL_NAMES == {level.value: level.label for level in Level}
    assert referral_views.LEVEL_BADGES[Level.URGENT] == Level.URGENT.label
    assert referral_views.LEVEL_BADGES[Level.EMERGENCY] == "EMERGENCY"
