"""Benchmark: ``fakturka audit verify`` on 100,000 synced bank movements, against reading the same data.

Run: ``.venv/bin/python bench/audit_verify.py [--rows N] [--rounds R]``

A plugin imports ``--rows`` movements (each with its "create" audit record) and then changes every
tenth (an "update" record each). The baseline is what any replay must do at least: read every audit
record and every stored row once with raw ``sqlite3`` (``fetchall`` of both tables, no decoding).
Printed: both times, best of ``--rounds``, and the ratio. No budget was set for it (issue 14 asked
for the command); the figure is in docs/performance.md.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sync_engine  # noqa: E402 - the bench's own rows and plugin


def time_reading(db_path: Path) -> float:
    conn = sqlite3.connect(db_path)
    started = time.perf_counter()
    conn.execute("SELECT * FROM audit_records ORDER BY table_name, row_id, id").fetchall()
    conn.execute("SELECT * FROM money_transactions ORDER BY id").fetchall()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from core.store.audit_verify import verify_audit

    rows = sync_engine.make_rows(args.rows)
    db_path = sync_engine.open_fresh_home()
    sync_engine.register(rows)
    sync_engine.time_sync()
    for row in rows[::10]:
        row["description"] += " (corrected)"
    sync_engine.time_sync()
    reading, verifying = [], []
    for _ in range(args.rounds):
        reading.append(time_reading(db_path))
        started = time.perf_counter()
        report = verify_audit()
        verifying.append(time.perf_counter() - started)
        if not report.clean:
            raise SystemExit(f"the audit did not verify: {report.findings[:3]}")
    read, verify = min(reading), min(verifying)
    print(f"rows: {args.rows:,} movements, {report.records:,} audit records (best of {args.rounds})")
    print(f"reading both tables (raw sqlite3)   {read:.2f} s")
    print(f"fakturka audit verify               {verify:.2f} s = {verify / read:.1f}x reading")


if __name__ == "__main__":
    main()
