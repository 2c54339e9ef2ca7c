"""`python -m backcare`: one argparse tree; each command group lives in its own module.

No traceback reaches the user: domain errors become one sentence on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from backcare.errors import BackCareError

# Each module defines register(subparsers); a command sets `func(args) -> int` on its parser.
COMMAND_MODULES = (
    "backcare.cli.triage",
    "backcare.cli.data",
    "backcare.cli.users",
    "backcare.cli.maintenance",
    "backcare.cli.setup",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m backcare", description="BackCare command line")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name == name:
                continue  # command group not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BackCareError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
