"""`python -m backcare compact` (backcare.cli.maintenance) finishes a rebuild left pending."""

from __future__ import annotations

import argparse

from backcare import store
from backcare.auth import SYSTEM
from backcare.cli import maintenance


def test_compact_command_rebuilds_the_file(tmp_path, capsys):
    path = tmp_path / "c.duckdb"
    db = store.open_database(path)
    gym = store.create_gym(db, actor=SYSTEM, name="North")
    client = store.create_client(db, actor=SYSTEM, gym_id=gym.id, name="Quentin Zyxwvut", consent_by="x")
    with db.write(SYSTEM, "test.delete") as cur:
        cur.execute("DELETE FROM clients WHERE id = ?", [client.id])
    db.close()

    parser = argparse.ArgumentParser()
    maintenance.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["compact", "--db", str(path)])
    assert args.func(args) == 0
    assert "Rebuilt" in capsys.readouterr().out
    assert b"Quentin Zyxwvut" not in path.read_bytes()
    assert not list(tmp_path.glob("c.duckdb.compact-*"))
