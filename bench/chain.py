"""The chain-scale history every benchmark measures: built with backcare.store.demo (which triages through the
rule module and computes load through backcare.store.load, as the store does) and cached in bench/out/.

The cache file's name carries a digest of the code that writes the data (demo, load definitions, rules,
migrations), so a change there builds a new file instead of measuring a stale one.

    python -m bench.chain [--clients 20000] [--weeks 44] [--seed 1]   # build (or find) the file, print its path
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import time
from pathlib import Path

from bench.common import OUT, ROOT

CHAIN_CLIENTS, CHAIN_WEEKS, CHAIN_SEED = 20_000, 44, 1  # about 2.9 M sessions and 0.3 M reports
SOURCES = (
    "backcare/store/demo.py",
    "backcare/store/load.py",
    "backcare/rules.py",
    "backcare/models.py",
    "backcare/store/migrations.py",
)


def code_digest() -> str:
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()[:10]


def chain_path(clients: int = CHAIN_CLIENTS, weeks: int = CHAIN_WEEKS, seed: int = CHAIN_SEED) -> Path:
    return OUT / f"chain-{clients}-w{weeks}-s{seed}-{code_digest()}.duckdb"


def chain_database(
    clients: int = CHAIN_CLIENTS, weeks: int = CHAIN_WEEKS, seed: int = CHAIN_SEED, *, quiet: bool = False
) -> Path:
    """The cached demo file for these settings, built on first use (about a minute at chain scale)."""
    path = chain_path(clients, weeks, seed)
    if path.exists():
        return path
    from backcare import store
    from backcare.store.demo import build_demo

    OUT.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.duckdb")
    partial.unlink(missing_ok=True)
    if not quiet:
        print(
            f"building the demo history ({clients:,} clients, {weeks} weeks, seed {seed}) in {path} (once)...",
            file=sys.stderr,
        )
    started = time.perf_counter()
    db = store.open_database(partial)
    try:
        build_demo(db, clients=clients, weeks=weeks, seed=seed)
    finally:
        db.close()
    partial.rename(path)
    if not quiet:
        print(f"built in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return path


def working_copy(source: Path, directory: Path) -> Path:
    """A copy to write to (the load benchmark saves reports): the cache stays as built."""
    target = directory / source.name
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=CHAIN_CLIENTS)
    parser.add_argument("--weeks", type=int, default=CHAIN_WEEKS)
    parser.add_argument("--seed", type=int, default=CHAIN_SEED)
    args = parser.parse_args(argv)
    print(chain_database(args.clients, args.weeks, args.seed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
