"""Benchmark: an encrypted database (a passphrase set) against a plain one, in the same run.

Run: ``.venv/bin/python bench/encrypted.py [--rows 100000] [--rounds 3] [--db big.db] [--runs 5]``

Two budgets from issue 18, each at most 1.5x the plain figure:

- **sync engine, first run**: ``run_sync`` of ``--rows`` new movements (bench/sync_engine.py's plugin
  and rows), on a fresh plain database and on a fresh database with a passphrase, rounds alternating,
  best of each;
- **start-up to the dashboard's figures**: the real ``fakturka`` command started headless
  (bench/tui_start.py's harness) on the 1M-entry database (``--db``, or built by bench/make_big_db.py)
  and on an encrypted copy of it, the passphrase read from ``FAKTURKA_PASSPHRASE_FILE``: this counts
  stretching it with scrypt, which a person typing at the lock screen pays once too. Runs alternate;
  medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PASSPHRASE = "bench passphrase 1"
BUDGET = 1.5


def sync_round(rows: list[dict], encrypted: bool) -> float:
    import sync_engine

    from core.store import rekey
    from core.store.db import close_database

    db_path = sync_engine.open_fresh_home()
    if encrypted:
        rekey.set_passphrase(db_path, PASSPHRASE)
    sync_engine.register(rows)
    seconds, outcome = sync_engine.time_sync()
    assert outcome.counts.created == len(rows), outcome.counts
    close_database()
    rekey.activate(None)
    shutil.rmtree(db_path.parent, ignore_errors=True)
    return seconds


def encrypted_copy(plain: Path) -> tuple[Path, Path]:
    """An encrypted copy of ``plain`` in a folder of its own, and a 0600 file holding its passphrase."""
    from core.store import rekey
    from core.store.db import close_database, open_database

    folder = Path(tempfile.mkdtemp(prefix="fk-bench-enc-"))
    copy = folder / "big.db"
    shutil.copyfile(plain, copy)
    os.environ["FAKTURKA_HOME"] = str(folder)
    open_database(copy)
    started = time.perf_counter()
    rekey.set_passphrase(copy, PASSPHRASE)
    print(f"encrypted a copy of {plain} in {time.perf_counter() - started:.1f} s")
    close_database()
    rekey.activate(None)
    secret = folder / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o600)
    return copy, secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", type=Path, help="an existing 1M-entry database (default: build one)")
    parser.add_argument("--runs", type=int, default=5, help="start-ups of each kind")
    parser.add_argument("--skip-sync", action="store_true")
    parser.add_argument("--skip-start", action="store_true")
    args = parser.parse_args()

    if not args.skip_sync:
        import sync_engine

        rows = sync_engine.make_rows(args.rows)
        plain, encrypted = [], []
        for _ in range(args.rounds):
            plain.append(sync_round(rows, False))
            encrypted.append(sync_round(rows, True))
        p, e = min(plain), min(encrypted)
        print(f"sync engine, first run of {args.rows:,} rows, best of {args.rounds}")
        print(f"  plain      : {p:7.2f} s")
        print(f"  encrypted  : {e:7.2f} s")
        print(f"  ratio      : {e / p:7.2f}   budget {BUDGET:.2f}")

    if not args.skip_start:
        import tui_start
        from make_big_db import build

        db_path = args.db
        if db_path is None:
            db_path = Path(tempfile.mkdtemp(prefix="fk-bench-db-")) / "big.db"
            build(db_path, 1.0)
        copy, secret = encrypted_copy(db_path)
        plain, encrypted = [], []
        for _ in range(args.runs):
            plain.append(tui_start.run(tui_start.REAL_APP, str(db_path))[0])
            os.environ["FAKTURKA_PASSPHRASE_FILE"] = str(secret)
            try:
                encrypted.append(tui_start.run(tui_start.REAL_APP, str(copy))[0])
            finally:
                del os.environ["FAKTURKA_PASSPHRASE_FILE"]
        p, e = statistics.median(plain), statistics.median(encrypted)
        print(f"start-up to the dashboard's figures at {db_path.name}, median of {args.runs}")
        print(f"  plain      : {p * 1000:7.0f} ms")
        print(f"  encrypted  : {e * 1000:7.0f} ms")
        print(f"  ratio      : {e / p:7.2f}   budget {BUDGET:.2f}")
        shutil.rmtree(copy.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
