"""Build a large database for benchmarks: 1,000,000 work entries, 50,000 invoices, 200,000 transactions.

Rows go in with plain sqlite3 executemany (a database of this size would have
been built up over years through the audited app; the audit trail of the
data is not what the benchmarks measure). Usage: make_big_db.py PATH [--scale F]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.store.db import close_database, open_database  # noqa: E402

NOW = "2026-01-01 00:00:00"


def build(path: Path, scale: float = 1.0) -> None:
    if path.exists():
        path.unlink()
    open_database(path)
    close_database()
    rng = random.Random(1)
    entries, invoices, transactions = int(1_000_000 * scale), int(50_000 * scale), int(200_000 * scale)
    clients, projects_per_client = 200, 5
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    today = date.today()
    with con:
        con.execute(
            "INSERT INTO business_profile (id, created_at, updated_at, name, default_hourly_rate) "
            "VALUES (1, ?, ?, 'Bench Person', 150000)",
            (NOW, NOW),
        )
        con.executemany(
            "INSERT INTO clients (id, created_at, updated_at, name, currency, language, hourly_rate) "
            "VALUES (?, ?, ?, ?, ?, 'en', ?)",
            [
                (i, NOW, NOW, f"Client {i:03d}", rng.choice(["CZK", "EUR"]), rng.choice([None, 120000, 8000]))
                for i in range(1, clients + 1)
            ],
        )
        con.executemany(
            "INSERT INTO projects (id, created_at, updated_at, client_id, name) VALUES (?, ?, ?, ?, ?)",
            [
                ((c - 1) * projects_per_client + p, NOW, NOW, c, f"Project {p}")
                for c in range(1, clients + 1)
                for p in range(1, projects_per_client + 1)
            ],
        )
        con.executemany(
            "INSERT INTO invoices (id, created_at, updated_at, number, year, seq, client_id, status, currency, "
            "language, issued_on, due_on, variable_symbol, total) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'CZK', 'en', ?, ?, ?, ?)",
            (
                (
                    i,
                    NOW,
                    NOW,
                    f"B{i:08d}",
                    2000 + i // 10000,
                    i % 10000 + 1,
                    rng.randint(1, clients),
                    rng.choice(["paid", "paid", "paid", "sent", "cancelled", "draft"]),
                    (today - timedelta(days=(invoices - i) // 20)).isoformat(),
                    (today - timedelta(days=(invoices - i) // 20 - 14)).isoformat(),
                    str(i),
                    rng.randint(10000, 5000000),
                )
                for i in range(1, invoices + 1)
            ),
        )
        con.executemany(
            "INSERT INTO invoice_lines (id, created_at, updated_at, invoice_id, description, unit_price, amount) "
            "VALUES (?, ?, ?, ?, 'Work', 150000, 150000)",
            ((i, NOW, NOW, i) for i in range(1, invoices + 1)),
        )
        # Most entries are billed (old), the newest tenth is unbilled.
        con.executemany(
            "INSERT INTO work_entries (created_at, updated_at, project_id, date, kind, minutes, description, "
            "billable, invoice_line_id) VALUES (?, ?, ?, ?, 'time', ?, 'Work', 1, ?)",
            (
                (
                    NOW,
                    NOW,
                    rng.randint(1, clients * projects_per_client),
                    (today - timedelta(days=(entries - i) * 3650 // entries)).isoformat(),
                    rng.choice([15, 30, 60, 90, 120]),
                    (i % invoices) + 1 if i < entries * 0.9 else None,
                )
                for i in range(entries)
            ),
        )
        con.executemany(
            "INSERT INTO money_transactions (created_at, updated_at, external_id, source, transaction_type, amount, "
            "currency, transacted_on, invoice_id) VALUES (?, ?, ?, 'bench', ?, ?, 'CZK', ?, ?)",
            (
                (
                    NOW,
                    NOW,
                    str(i),
                    rng.choice(["income", "expense"]),
                    rng.randint(100, 500000),
                    (today - timedelta(days=(transactions - i) * 3650 // transactions)).isoformat(),
                    rng.randint(1, invoices) if i % 4 == 0 else None,
                )
                for i in range(transactions)
            ),
        )
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    os.chmod(path, 0o600)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    started = time.perf_counter()
    build(args.path, args.scale)
    print(f"built {args.path} ({args.path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
