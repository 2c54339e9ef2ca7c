"""Deployment settings: what differs between one installation and another, not between users.

Today that is the emergency number the triage screen offers as a tap-to-call link (TRIAGE.md: a setting,
default 999; 112 and 911 are the other common ones). It comes from, in order:

1. the environment variable BACKCARE_EMERGENCY_NUMBER (what a container or a service unit sets);
2. `emergency_number` in the settings file, data/settings.toml (BACKCARE_SETTINGS names another file);
3. the default, 999.

The settings file lives in data/ with the plan library and the exercise catalogue rather than in
.streamlit/secrets.toml: the number is not a secret, and the command line (handoffs, handouts) reads it
too, without Streamlit. A value that is not a phone number is refused with one sentence naming where it
came from, never replaced by the default: a wrong number on an emergency screen must be fixed, not guessed.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from backcare.errors import InvalidInput

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "settings.toml"
ENV_NUMBER = "BACKCARE_EMERGENCY_NUMBER"
ENV_FILE = "BACKCARE_SETTINGS"
DEFAULT_EMERGENCY_NUMBER = "999"

# Digits and spaces, a "+" only in front (an international prefix); 2 to 15 characters in all.
_NUMBER = re.compile(r"^\+?[0-9 ]+$")
_KNOWN_KEYS = frozenset({"emergency_number"})


@dataclass(frozen=True, slots=True)
class EmergencyNumber:
    """The number as shown ("+44 20 7946 0000") and where it came from (for the admin page)."""

    shown: str
    source: str

    @property
    def tel(self) -> str:
        """The tel: link (no spaces: some phones refuse them)."""
        return "tel:" + self.shown.replace(" ", "")


def parse_emergency_number(value: object, source: str) -> str:
    """The number, trimmed, or InvalidInput naming `source` and what a valid number looks like."""
    if not isinstance(value, str):  # a TOML number would lose a leading 0 or +
        raise InvalidInput(source, f'{value!r} must be written as text, in quotes: emergency_number = "999"')
    text = value.strip()
    if not (2 <= len(text) <= 15 and _NUMBER.match(text) and sum(c.isdigit() for c in text) >= 2):
        raise InvalidInput(
            source,
            f"{value!r} is not an emergency number: use 2 to 15 characters, digits and "
            "spaces with an optional + in front (for example 999, 112 or 911); the "
            f"default is {DEFAULT_EMERGENCY_NUMBER}",
        )
    return text


def settings_path() -> Path:
    return Path(os.environ.get(ENV_FILE) or DEFAULT_PATH)


def _file_settings(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InvalidInput(str(path), f"the settings file cannot be read ({error})") from None
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise InvalidInput(f"{path}: {unknown[0]}", f"is not a setting (known: {', '.join(sorted(_KNOWN_KEYS))})")
    return data


# Read on every rerun of the triage page: cached by the inputs that can change it (the environment value,
# the file and its modification time), so an edited file is picked up without a restart.
_cache: dict[tuple, EmergencyNumber] = {}


def emergency_number() -> EmergencyNumber:
    """The deployment's emergency number; InvalidInput when a configured value is not a phone number."""
    env_value = os.environ.get(ENV_NUMBER)
    if env_value is not None and env_value.strip():
        key: tuple = ("env", env_value)
    else:
        path = settings_path()
        try:
            key = ("file", str(path), path.stat().st_mtime_ns)
        except OSError:
            key = ("file", str(path), None)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    if key[0] == "env":
        number = EmergencyNumber(parse_emergency_number(env_value, ENV_NUMBER), f"environment ({ENV_NUMBER})")
    else:
        path = Path(key[1])
        value = _file_settings(path).get("emergency_number") if key[2] is not None else None
        if value is None:
            number = EmergencyNumber(DEFAULT_EMERGENCY_NUMBER, "default")
        else:
            number = EmergencyNumber(
                parse_emergency_number(value, f"{path}: emergency_number"), f"settings file {path}"
            )
    _cache.clear()  # one entry: the current configuration
    _cache[key] = number
    return number
