"""Fio import throughput: 50,000 movements from the local Fio test server, end to end.

The movements are generated (half incomes, half expenses over the last 80
days, Fio's column format; a few pay the demo's open invoices exactly) and
served by tests/fio_server.py on 127.0.0.1. One ``fio`` sync then downloads
them over HTTP, parses them (Decimal amounts), maps them and lands them in
one transaction with an audit record per row; payment matching runs after
it (inside the sync once the engine calls it, else explicitly here), all in
a temporary FAKTURKA_HOME. Reports movements per second and the split,
taken from the moments the sync's log lines and progress reports arrive.

Usage: .venv/bin/python bench/fio_import.py [--movements N] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the Fio test server lives with the tests


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", type=int, default=50_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary home (prints its path)")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="fakturka-bench-fio-"))
    os.environ["FAKTURKA_HOME"] = str(home)

    from fio_server import TOKEN, FioServer, movement

    from core.banking.matching import match_transactions
    from core.demo import load_demo
    from core.platform import plugin_config
    from core.platform import sync as sync_engine
    from core.store.audit import AuditRecord
    from core.store.db import close_database, open_database
    from core.store.models import Invoice, MoneyTransaction
    from core.values.money import from_minor

    today = date.today()
    rng = random.Random(6)
    try:
        open_database(home / "fakturka.db")
        load_demo()
        open_invoices = list(Invoice.select().where(Invoice.status == "sent"))

        with FioServer(fixture=False) as server:
            t = time.perf_counter()
            payments = [
                movement(
                    30_000_000_000 + n,
                    today - timedelta(days=1 + n),
                    from_minor(inv.total, inv.currency),
                    currency=inv.currency,
                    vs=inv.variable_symbol,
                    counterparty_account="2501234567",
                    bank_code="0300",
                    counterparty_name=inv.client.name,
                    message=f"Faktura {inv.number}",
                )
                for n, inv in enumerate(open_invoices)
            ]
            generated = list(payments)
            for n in range(len(payments), args.movements):
                income = n % 2 == 0
                cents = rng.randrange(100, 20_000_000)
                amount = Decimal(cents if income else -cents).scaleb(-2)
                generated.append(
                    movement(
                        30_000_000_000 + n,
                        today - timedelta(days=n % 80),
                        amount,
                        vs=str(rng.randrange(10**9, 10**10)) if income else None,
                        counterparty_account=f"{rng.randrange(10**8, 10**10)}",
                        bank_code=rng.choice(["0100", "0300", "0800", "2010"]),
                        counterparty_name=f"Protistrana {n % 997}",
                        bank_name="Banka a.s.",
                        message=f"Platba {n}" if income else None,
                        comment=None if income else f"Nákup: obchod {n % 131}, Praha, CZ",
                        kind="Bezhotovostní příjem" if income else "Platba kartou",
                        instruction_id=40_000_000_000 + n,
                    )
                )
            server.add(*generated)
            generate_s = time.perf_counter() - t

            plugin_config.configure("fio", {"base_url": server.base_url, "timeout": 120}, {"token": TOKEN})
            plugin_config.set_enabled("fio", True)

            marks: dict[str, float] = {}

            def on_log(line: str) -> None:
                now = time.perf_counter()
                if "Downloading movements" in line:
                    marks["request"] = now
                elif "movement(s) for account" in line:
                    marks["parsed"] = now
                elif "Done:" in line:
                    marks["applied"] = now

            def on_progress(done: int, total: int) -> None:
                if done == total:
                    marks["mapped"] = time.perf_counter()

            start = time.perf_counter()
            outcome = sync_engine.run_sync("fio", on_log=on_log, on_progress=on_progress)
            synced = time.perf_counter()
            if outcome.status != "completed":
                print(f"sync failed: {outcome.error}")
                return 1
            matched_in_sync = bool(sync_engine.AFTER_APPLY)
            report = match_transactions()  # nothing left to do if the engine already matched
            matched = time.perf_counter()
            body_mb = server.requests[0].size / 1e6
            count = outcome.metadata.get("movements")

            # A re-run with the saved state wiped: the whole range again, every movement deduplicated.
            row = plugin_config.get_config("fio")
            row.state = {}
            row.save()
            server.clock.advance(30)
            rerun_start = time.perf_counter()
            rerun = sync_engine.run_sync("fio")
            rerun_s = time.perf_counter() - rerun_start

        created = MoneyTransaction.select().where(MoneyTransaction.source == "fio").count()
        # One "create" record per movement; matching adds "update" records for the payments it links.
        audited = (
            AuditRecord.select()
            .where(
                (AuditRecord.sync_run == outcome.run_id)
                & (AuditRecord.table_name == "money_transactions")
                & (AuditRecord.action == "create")
            )
            .count()
        )
        paid = (
            Invoice.select().where((Invoice.status == "paid") & Invoice.id.in_([i.id for i in open_invoices])).count()
        )
        total_s = matched - start
        n = outcome.counts.processed

        def span(a: float | None, b: float | None) -> str:
            return f"{b - a:7.3f} s" if a is not None and b is not None else "      ? s"

        rows = [
            ("generate and encode test data (not timed)", 0.0, generate_s),
            ("engine start -> request", start, marks.get("request")),
            ("download + parse JSON (Decimal)", marks.get("request"), marks.get("parsed")),
            ("map movements into the run", marks.get("parsed"), marks.get("mapped")),
            (
                "apply: insert + audit" + (" + matching" if matched_in_sync else ""),
                marks.get("mapped"),
                marks.get("applied"),
            ),
            ("commit (state, history, COMMIT)", marks.get("applied"), synced),
            ("matching, explicit call" + (" (engine had done it)" if matched_in_sync else ""), synced, matched),
            ("total (sync + matching)", start, matched),
        ]
        print(
            f"Fio import benchmark: {args.movements:,} movements ({count:,} sent by the server, {body_mb:.1f} MB JSON) "
            f"over HTTP from 127.0.0.1"
        )
        for label, a, b in rows:
            print(f"  {label:<44}{span(a, b)}")
        print(f"  => {n / total_s:,.0f} movements/s end to end ({n / (synced - start):,.0f}/s for the sync alone)")
        print(
            f"  created {outcome.counts.created:,}, rows {created:,}, audit create records {audited:,}; "
            f"invoices paid by the import {paid}/{len(open_invoices)} "
            f"({len(report.matched)} matched, {len(report.review)} for review in the explicit call)"
        )
        print(
            f"  re-run of the whole range: {rerun.counts.processed:,} processed, {rerun.counts.created} created, "
            f"{rerun.counts.skipped:,} skipped in {rerun_s:.3f} s ({rerun.counts.processed / rerun_s:,.0f}/s)"
        )
        ok = (
            created == args.movements
            and audited == args.movements
            and paid == len(open_invoices)
            and rerun.status == "completed"
            and rerun.counts.created == 0
        )
        if not ok:
            print("  UNEXPECTED: counts above do not add up")
        return 0 if ok else 1
    finally:
        close_database()
        if args.keep:
            print(f"  home kept at {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
