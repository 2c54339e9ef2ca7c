"""The deployment's emergency number: the environment, then the settings file, then 999; a bad value is one
clear error naming where it came from."""

from __future__ import annotations

import pytest

from backcare import settings
from backcare.errors import InvalidInput


@pytest.fixture(autouse=True)
def clean(monkeypatch, tmp_path):
    monkeypatch.delenv(settings.ENV_NUMBER, raising=False)
    monkeypatch.setenv(settings.ENV_FILE, str(tmp_path / "settings.toml"))


@pytest.mark.parametrize(
    "value, shown, tel",
    [
        ("999", "999", "tel:999"),
        ("112", "112", "tel:112"),
        (" 911 ", "911", "tel:911"),
        ("+44 20 7946 000", "+44 20 7946 000", "tel:+44207946000"),
        ("00", "00", "tel:00"),
        ("123456789012345", "123456789012345", "tel:123456789012345"),
    ],
)
def test_a_valid_number_from_the_environment_is_used_as_given(monkeypatch, value, shown, tel):
    monkeypatch.setenv(settings.ENV_NUMBER, value)
    number = settings.emergency_number()
    assert (number.shown, number.tel) == (shown, tel)
    assert settings.ENV_NUMBER in number.source


@pytest.mark.parametrize(
    "value", ["9", "1234567890123456", "999a", "call 999", "99-9", "9+99", "+", "+ 1", "112;", "١١٢"]
)
def test_a_bad_number_in_the_environment_is_one_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(settings.ENV_NUMBER, value)
    with pytest.raises(InvalidInput) as error:
        settings.emergency_number()
    assert error.value.field == settings.ENV_NUMBER
    assert repr(value) in str(error.value) and "digits" in str(error.value)


def test_without_a_setting_the_number_is_999(tmp_path):
    assert settings.emergency_number() == settings.EmergencyNumber("999", "default")


def test_the_settings_file_gives_the_number_and_an_edit_is_read_again(tmp_path):
    path = tmp_path / "settings.toml"
    path.write_text('emergency_number = "112"\n')
    assert settings.emergency_number().shown == "112"
    path.write_text('# changed\nemergency_number = "911"\n')
    import os

    os.utime(path, ns=(1, 1))  # a new modification time, however fast the test runs
    assert settings.emergency_number().shown == "911"


def test_the_environment_wins_over_the_file_and_an_empty_variable_counts_as_unset(tmp_path, monkeypatch):
    (tmp_path / "settings.toml").write_text('emergency_number = "112"\n')
    monkeypatch.setenv(settings.ENV_NUMBER, "911")
    assert settings.emergency_number().shown == "911"
    monkeypatch.setenv(settings.ENV_NUMBER, "  ")
    assert settings.emergency_number().shown == "112"


@pytest.mark.parametrize(
    "text, field, words",
    [
        ('emergency_number = "9x9"\n', "emergency_number", "digits"),
        ("emergency_number = 999\n", "emergency_number", "in quotes"),
        ('emergency_numbr = "112"\n', "emergency_numbr", "is not a setting"),
        ('emergency_number = "112\n', "settings.toml", "cannot be read"),
    ],
)
def test_a_bad_settings_file_is_one_error_naming_the_file_and_the_setting(tmp_path, text, field, words):
    (tmp_path / "settings.toml").write_text(text)
    with pytest.raises(InvalidInput) as error:
        settings.emergency_number()
    assert str(tmp_path / "settings.toml") in str(error.value)
    assert field in error.value.field and words in str(error.value)


def test_the_shipped_settings_file_keeps_the_default(monkeypatch):
    monkeypatch.delenv(settings.ENV_FILE)
    assert settings.settings_path() == settings.DEFAULT_PATH and settings.DEFAULT_PATH.exists()
    assert settings.emergency_number().shown == "999"
