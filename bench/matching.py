"""Payment matching at scale: 100,000 bank transactions against 20,000 open invoices.

Reports the time of core.matching.match_transactions at full size and at
half size in the same run (budget: <= 1 s at full size, and full/half <= 2.3,
i.e. no worse than linear). Rows are set up with plain sqlite3 (the set-up
is not what is measured); matching itself writes through its audited bulk
update. One in five transactions pays an invoice (exact, partial, or by the
number in the message); the rest are unrelated.

Usage: .venv/bin/python bench/matching.py [--scale F]
"""
from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOW = "2026-01-01 00:00:00"


def build(home: Path, transactions: int, invoices: int) -> Path:
    os.environ["FAKTURKA_HOME"] = str(home)
    from core.db import close_database, open_database

    path = open_database(home / "bench.db")
    close_database()
    rng = random.Random(3)
    con = sqlite3.connect(path)
    today = date.today()
    with con:
        con.execute("INSERT INTO clients (id, created_at, updated_at, name, currency) VALUES (1, ?, ?, 'C', 'CZK')",
                    (NOW, NOW))
        con.executemany(
            "INSERT INTO invoices (id, created_at, updated_at, number, year, seq, client_id, status, currency, "
            "issued_on, due_on, variable_symbol, total) VALUES (?, ?, ?, ?, 2026, ?, 1, 'sent', 'CZK', ?, ?, ?, ?)",
            ((i, NOW, NOW, f"2026{i:06d}", i, today.isoformat(), (today + timedelta(days=14)).isoformat(),
              f"2026{i:06d}", 100000 + i) for i in range(1, invoices + 1)))
        rows = []
        for n in range(transactions):
            kind = n % 5
            inv = rng.randint(1, invoices)
            if kind == 0:  # pays an invoice: by VS exactly, partly, or by the number in the message
                how = rng.choice(["exact", "partial", "message"])
                amount = 100000 + inv if how != "partial" else 50000
                reference = f"2026{inv:06d}" if how != "message" else ""
                text = f"Invoice 2026{inv:06d}" if how == "message" else "Payment"
            else:  # unrelated income with a VS nobody uses
                amount, reference, text = rng.randint(100, 900000), str(rng.randint(10**8, 10**9)), "Refund"
            rows.append((NOW, NOW, str(n), "bench", "income", amount, "CZK", today.isoformat(), reference, text))
        con.executemany(
            "INSERT INTO money_transactions (created_at, updated_at, external_id, source, transaction_type, amount, "
            "currency, transacted_on, reference, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return path


def measure(transactions: int, invoices: int) -> tuple[float, int, int]:
    home = Path(tempfile.mkdtemp(prefix="fk-bench-match-"))
    path = build(home, transactions, invoices)
    from core.db import close_database, open_database
    from core.matching import match_transactions

    open_database(path)
    started = time.perf_counter()
    report = match_transactions()
    elapsed = time.perf_counter() - started
    close_database()
    return elapsed, len(report.matched), len(report.review)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    full_tx, full_inv = int(100_000 * args.scale), int(20_000 * args.scale)
    half, half_matched, _ = measure(full_tx // 2, full_inv // 2)
    full, matched, review = measure(full_tx, full_inv)
    print(f"half size ({full_tx // 2:,} tx / {full_inv // 2:,} invoices): {half * 1000:7.0f} ms, {half_matched:,} matched")
    print(f"full size ({full_tx:,} tx / {full_inv:,} invoices): {full * 1000:7.0f} ms, {matched:,} matched, "
          f"{review:,} for review   budget 1000 ms")
    print(f"full / half: {full / half:.2f}   budget 2.30 (linear is 2.0)")


if __name__ == "__main__":
    main()
