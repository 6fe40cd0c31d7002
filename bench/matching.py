"""Payment matching at scale: 100,000 bank transactions against 20,000 open invoices.

Reports the time of core.banking.matching.match_transactions at full size and at
half size in the same run, best and median of --repeat runs, each on a fresh
database (budget: <= 1 s at full size, and full/half <= 2.3, i.e. no worse
than linear). To tell a slow spell of the machine from a slow change, it also
times a floor in the same run: raw sqlite3 reading every unmatched
transaction and doing the same writes, with no logic and no audit. Rows are set up with plain sqlite3 (the set-up
is not what is measured); matching itself writes through its audited bulk
update. One in five transactions pays an invoice (exact, partial, or by the
number in the message); the rest are unrelated.

Usage: .venv/bin/python bench/matching.py [--scale F] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

NOW = "2026-01-01 00:00:00"


def build(home: Path, transactions: int, invoices: int) -> Path:
    os.environ["FAKTURKA_HOME"] = str(home)
    from core.store.db import close_database, open_database

    path = open_database(home / "bench.db")
    close_database()
    rng = random.Random(3)
    con = sqlite3.connect(path)
    today = date.today()
    with con:
        con.execute(
            "INSERT INTO clients (id, created_at, updated_at, name, currency) VALUES (1, ?, ?, 'C', 'CZK')", (NOW, NOW)
        )
        con.executemany(
            "INSERT INTO invoices (id, created_at, updated_at, number, year, seq, client_id, status, currency, "
            "issued_on, due_on, variable_symbol, total) VALUES (?, ?, ?, ?, 2026, ?, 1, 'sent', 'CZK', ?, ?, ?, ?)",
            (
                (
                    i,
                    NOW,
                    NOW,
                    f"2026{i:06d}",
                    i,
                    today.isoformat(),
                    (today + timedelta(days=14)).isoformat(),
                    f"2026{i:06d}",
                    100000 + i,
                )
                for i in range(1, invoices + 1)
            ),
        )
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
            "currency, transacted_on, reference, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    con.close()
    return path


def time_floor(path: Path, report) -> float:
    """A reference point in the same run: raw sqlite3 with no logic and no audit reading every unmatched
    incoming transaction and writing the same links and paid invoices, one transaction. (Matching itself
    reads fewer rows: SQLite leaves out those that cannot match.)"""
    paid = {m.invoice_number for m in report.matched if m.kind != "partial"}
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=FULL")
    con.execute("PRAGMA foreign_keys=1")
    numbers = dict(con.execute("SELECT number, id FROM invoices"))
    links = [
        (numbers[m.invoice_number], '{"by":"variable symbol","result":"paid"}', NOW, m.transaction_id)
        for m in report.matched
    ]
    started = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.execute(
        "SELECT id, reference, description, amount, currency, transacted_on FROM money_transactions "
        "WHERE match_status = 'unmatched' AND transaction_type = 'income' AND invoice_id IS NULL"
    ).fetchall()
    con.executemany(
        "UPDATE money_transactions SET invoice_id = ?, match_status = 'matched', match_note = ?, "
        "updated_at = ? WHERE id = ?",
        links,
    )
    con.executemany(
        "UPDATE invoices SET status = 'paid', paid_on = ?, updated_at = ? WHERE id = ?",
        [(date.today().isoformat(), NOW, numbers[n]) for n in paid],
    )
    con.execute("COMMIT")
    elapsed = time.perf_counter() - started
    con.close()
    return elapsed


def measure(transactions: int, invoices: int) -> tuple[float, float, int, int]:
    """(matching time, floor time, matched, for review), each on its own copy of the same database."""
    home = Path(tempfile.mkdtemp(prefix="fk-bench-match-"))
    path = build(home, transactions, invoices)
    copy = home / "floor.db"
    shutil.copyfile(path, copy)
    from core.banking.matching import match_transactions
    from core.store.db import close_database, open_database

    open_database(path)
    started = time.perf_counter()
    report = match_transactions()
    elapsed = time.perf_counter() - started
    close_database()
    floor = time_floor(copy, report)
    shutil.rmtree(home, ignore_errors=True)
    return elapsed, floor, len(report.matched), len(report.review)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="measure each size this many times (fresh database each) and report the best and "
        "the median; the machines are shared and a single run can be 30%% off",
    )
    args = parser.parse_args()
    full_tx, full_inv = int(100_000 * args.scale), int(20_000 * args.scale)
    halves, fulls, floors = [], [], []
    for _ in range(args.repeat):  # interleaved, so a slow spell of the machine hits both sizes
        half, _, half_matched, _ = measure(full_tx // 2, full_inv // 2)
        full, floor, matched, review = measure(full_tx, full_inv)
        halves.append(half)
        fulls.append(full)
        floors.append(floor)
        print(f"  half {half * 1000:6.0f} ms   full {full * 1000:6.0f} ms   floor {floor * 1000:5.0f} ms", flush=True)
    half, full, floor = min(halves), min(fulls), min(floors)
    print(
        f"half size ({full_tx // 2:,} tx / {full_inv // 2:,} invoices): best {half * 1000:5.0f} ms, "
        f"median {statistics.median(halves) * 1000:5.0f} ms, {half_matched:,} matched"
    )
    print(
        f"full size ({full_tx:,} tx / {full_inv:,} invoices): best {full * 1000:5.0f} ms, "
        f"median {statistics.median(fulls) * 1000:5.0f} ms, {matched:,} matched, {review:,} for review   "
        f"budget 1000 ms  {'OK' if full <= 1.0 else 'OVER BUDGET'}"
    )
    print(
        f"floor at full size (raw sqlite3: read all unmatched, the same writes, no audit, no logic): "
        f"{floor * 1000:.0f} ms; matching = {full / floor:.1f}x the floor (how fast the machine is right now)"
    )
    print(
        f"full / half (best of each): {full / half:.2f}   budget 2.30 (linear is 2.0)  "
        f"{'OK' if full / half <= 2.3 else 'OVER BUDGET'}"
    )


if __name__ == "__main__":
    main()
