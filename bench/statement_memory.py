"""Benchmark: peak memory while importing a large bank statement, as a multiple of the file's size.

Run: ``.venv/bin/python bench/statement_memory.py [--mb 200] [--csv] [--no-sync]``

Writes a realistic camt.053.001.02 statement of about ``--mb`` megabytes into a temporary folder
(indented as banks export it; each entry a domestic payment with its references, parties, accounts,
bank code, remittance text and additional information, about 2.4 KB) and, with ``--csv``, a Fio CSV
export of about the same size. Each measurement runs in a fresh Python process and reports that
process's peak resident memory (``resource.getrusage``, ``ru_maxrss``):

- ``reader``: ``core.banking.formats.parse_statement`` on the file (a stream), every movement kept,
  as the plugin keeps them until the run commits;
- ``sync``: the whole ``bank-statement`` plugin run (``core.platform.sync.run_sync``) into a
  throw-away ``FAKTURKA_HOME``: read, collect, write every movement with its audit record in one
  transaction. The engine's collected rows and the database work weigh here, not the reader.

Printed per measurement: the peak RSS, the interpreter's RSS before the import (the baseline,
the same whatever the file), the peak as a ratio to the file size (budget: at most 4x) and the
growth over the baseline as a ratio to the file size. ``--mb 5`` runs in seconds; below 100 MB the
fixed costs (the interpreter's 48 MB, the engine's and SQLite's own) weigh most, so the budget is
judged from 100 MB (measured: 200 MB -> reader 1.5x, whole sync 3.3x).

The budget is the camt.053 one (issue 14: a 200 MB statement of realistic entries); the exit
status is 1 when it is exceeded. The CSV figures are printed without a verdict: a Fio CSV row is
about 280 bytes while its movement (with every column in ``raw_data``) takes about 2 KB in the
reader and more in the engine's collected rows, so its ratio is set by the row size, not by
reading (the reader streams the rows; tests/test_statement_limits.py shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BUDGET = 4.0  # peak memory / file size (issue 14)
BUDGET_FROM_MB = 100  # below this the fixed costs (interpreter, engine, SQLite cache) weigh most
MB = 1024 * 1024
NAMES = ("Novák Stavby s.r.o.", "Jana Dvořáková", "ACME Consulting a.s.", "Žluťoučký kůň, z.s.", "Petr Svoboda")
TOWNS = ("Praha 4", "Brno", "Ostrava", "Plzeň", "České Budějovice")

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>CAMT053-2026-0001</MsgId>
      <CreDtTm>2026-12-31T23:00:00+01:00</CreDtTm>
    </GrpHdr>
    <Stmt>
      <Id>2026-0001</Id>
      <ElctrncSeqNb>1</ElctrncSeqNb>
      <CreDtTm>2026-12-31T23:00:00+01:00</CreDtTm>
      <FrToDt>
        <FrDtTm>2026-01-01T00:00:00+01:00</FrDtTm>
        <ToDtTm>2026-12-31T23:59:59+01:00</ToDtTm>
      </FrToDt>
      <Acct>
        <Id>
          <IBAN>CZ6508000000192000145399</IBAN>
        </Id>
        <Ccy>CZK</Ccy>
        <Ownr>
          <Nm>Fakturka Test s.r.o.</Nm>
        </Ownr>
      </Acct>
"""
FOOTER = """    </Stmt>
  </BkToCstmrStmt>
</Document>
"""
ENTRY = """      <Ntry>
        <NtryRef>{n}</NtryRef>
        <Amt Ccy="CZK">{amount}</Amt>
        <CdtDbtInd>{ind}</CdtDbtInd>
        <RvslInd>false</RvslInd>
        <Sts>BOOK</Sts>
        <BookgDt>
          <Dt>{day}</Dt>
        </BookgDt>
        <ValDt>
          <Dt>{day}</Dt>
        </ValDt>
        <AcctSvcrRef>2026{n:010d}</AcctSvcrRef>
        <BkTxCd>
          <Domn>
            <Cd>PMNT</Cd>
            <Fmly>
              <Cd>{family}</Cd>
              <SubFmlyCd>DMCT</SubFmlyCd>
            </Fmly>
          </Domn>
          <Prtry>
            <Cd>10000101000</Cd>
            <Issr>CBA</Issr>
          </Prtry>
        </BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs>
              <MsgId>M{n:012d}</MsgId>
              <AcctSvcrRef>TX{n:012d}</AcctSvcrRef>
              <InstrId>I{n:012d}</InstrId>
              <EndToEndId>VS{vs}</EndToEndId>
              <TxId>T{n:012d}</TxId>
            </Refs>
            <AmtDtls>
              <TxAmt>
                <Amt Ccy="CZK">{amount}</Amt>
              </TxAmt>
            </AmtDtls>
            <RltdPties>
              <Dbtr>
                <Nm>{debtor}</Nm>
                <PstlAdr>
                  <StrtNm>Na Příkopě {street}</StrtNm>
                  <TwnNm>{town}</TwnNm>
                  <Ctry>CZ</Ctry>
                </PstlAdr>
              </Dbtr>
              <DbtrAcct>
                <Id>
                  <IBAN>CZ{account:022d}</IBAN>
                </Id>
              </DbtrAcct>
              <Cdtr>
                <Nm>{creditor}</Nm>
              </Cdtr>
              <CdtrAcct>
                <Id>
                  <IBAN>CZ6508000000192000145399</IBAN>
                </Id>
              </CdtrAcct>
            </RltdPties>
            <RltdAgts>
              <DbtrAgt>
                <FinInstnId>
                  <BIC>KOMBCZPPXXX</BIC>
                </FinInstnId>
              </DbtrAgt>
            </RltdAgts>
            <RmtInf>
              <Ustrd>Faktura {vs}, objednávka {order}, děkujeme za spolupráci</Ustrd>
            </RmtInf>
            <AddtlTxInf>Příchozí úhrada z účtu {account}/0100</AddtlTxInf>
          </TxDtls>
        </NtryDtls>
        <AddtlNtryInf>Tuzemská platba {n}</AddtlNtryInf>
      </Ntry>
"""
FIO_HEADER = (
    '"accountId";"2001234567"\n"bankId";"2010"\n"currency";"CZK"\n"iban";"CZ6520100000002001234567"\n\n'
    '"ID pohybu";"Datum";"Objem";"Měna";"Protiúčet";"Název protiúčtu";"Kód banky";"Název banky";"KS";"VS";'
    '"SS";"Uživatelská identifikace";"Zpráva pro příjemce";"Typ";"Provedl";"Upřesnění";"Komentář";"BIC";'
    '"ID pokynu"\n'
)
FIO_ROW = (
    '"{n}";"{dotted}";"{signed}";"CZK";"{account}";"{debtor}";"0100";"Komerční banka, a.s.";"0308";"{vs}";"";'
    '"Faktura {vs}";"Faktura {vs}, objednávka {order}";"Bezhotovostní příjem";"";"";"Platba {n}";'
    '"KOMBCZPPXXX";"{order}"\n'
)


def entry_values(n: int, rng: random.Random) -> dict:
    month, day = 1 + n % 12, 1 + n % 28
    income = rng.random() < 0.7
    return {
        "n": n,
        "amount": f"{rng.randrange(100, 5_000_000) / 100:.2f}",
        "ind": "CRDT" if income else "DBIT",
        "family": "RCDT" if income else "ICDT",
        "day": f"2026-{month:02d}-{day:02d}",
        "dotted": f"{day:02d}.{month:02d}.2026",
        "vs": 2026000000 + n % 1_000_000,
        "order": f"OBJ-{n:08d}",
        "debtor": rng.choice(NAMES),
        "creditor": "Fakturka Test s.r.o.",
        "street": rng.randrange(1, 200),
        "town": rng.choice(TOWNS),
        "account": rng.randrange(10**15, 10**16),
    }


def write_camt(path: Path, megabytes: float) -> int:
    """A camt.053 file of about ``megabytes``; the number of entries."""
    rng = random.Random(14)
    target = int(megabytes * MB)
    n = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        written = len(HEADER.encode())
        while written < target:
            n += 1
            text = ENTRY.format(**entry_values(n, rng))
            out.write(text)
            written += len(text.encode())
        out.write(FOOTER)
    return n


def write_fio_csv(path: Path, megabytes: float) -> int:
    """A Fio CSV export of about ``megabytes``; the number of rows."""
    rng = random.Random(14)
    target = int(megabytes * MB)
    n = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(FIO_HEADER)
        written = len(FIO_HEADER.encode())
        while written < target:
            n += 1
            values = entry_values(n, rng)
            values["signed"] = ("" if values["ind"] == "CRDT" else "-") + values["amount"].replace(".", ",")
            text = FIO_ROW.format(**values)
            out.write(text)
            written += len(text.encode())
    return n


# -- the measured child processes ---------------------------------------------------------------------


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux


def current_rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def child_reader(path: Path) -> dict:
    from core.banking.formats import Limits, Source, parse_statement

    baseline = current_rss()
    started = time.perf_counter()
    result = parse_statement(Source(path=path), path.name, limits=Limits(max_file_bytes=path.stat().st_size + 1))
    seconds = time.perf_counter() - started
    return {"baseline": baseline, "peak": peak_rss(), "movements": len(result.movements), "seconds": seconds}


def child_sync(path: Path) -> dict:
    from core.platform import plugin_config
    from core.platform.sync import run_sync
    from core.plugins import use_plugins
    from core.store.db import open_database

    open_database()
    use_plugins(None)
    size_mb = path.stat().st_size / MB
    plugin_config.configure("bank-statement", {"path": str(path), "max_file_mb": str(int(size_mb) + 1)})
    plugin_config.set_enabled("bank-statement", True)
    baseline = current_rss()
    started = time.perf_counter()
    outcome = run_sync("bank-statement")
    seconds = time.perf_counter() - started
    if outcome.status != "completed":
        raise SystemExit(f"the sync failed: {outcome.error}")
    return {"baseline": baseline, "peak": peak_rss(), "movements": outcome.counts.created, "seconds": seconds}


def measure(kind: str, path: Path, home: Path) -> dict:
    env = {**os.environ, "FAKTURKA_HOME": str(home)}
    shutil.rmtree(home, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} on {path.name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(label: str, size: int, figures: dict, *, budgeted: bool) -> bool:
    peak, baseline = figures["peak"], figures["baseline"]
    ratio, growth = peak / size, (peak - baseline) / size
    within = ratio <= BUDGET
    if not budgeted:
        verdict, within = "[no budget]", True
    elif size < BUDGET_FROM_MB * MB:  # the interpreter and the engine's fixed costs are most of the peak
        verdict, within = f"[budget judged from {BUDGET_FROM_MB} MB]", True
    else:
        verdict = f"[budget {BUDGET:g}x: {'ok' if within else 'OVER'}]"
    print(
        f"{label:<12} {figures['movements']:>8,} movements  {figures['seconds']:6.1f} s  "
        f"peak {peak / MB:7.1f} MB (baseline {baseline / MB:5.1f} MB)  "
        f"peak/file {ratio:5.2f}x  growth/file {growth:5.2f}x  {verdict}"
    )
    return within


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=200, help="size of the generated statement (default 200)")
    parser.add_argument("--csv", action="store_true", help="also a Fio CSV export of the same size")
    parser.add_argument("--no-sync", action="store_true", help="the reader only, not the whole plugin run")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        figures = child_reader(Path(path)) if kind == "reader" else child_sync(Path(path))
        print(json.dumps(figures))
        return 0
    ok = True
    with tempfile.TemporaryDirectory(prefix="fakturka-statement-memory-") as tmp:
        folder = Path(tmp)
        files = [folder / "statement.xml"]
        count = write_camt(files[0], args.mb)
        print(f"camt.053: {files[0].stat().st_size / MB:.1f} MB, {count:,} entries")
        if args.csv:
            files.append(folder / "fio-export.csv")
            rows = write_fio_csv(files[1], args.mb)
            print(f"Fio CSV:  {files[1].stat().st_size / MB:.1f} MB, {rows:,} rows")
        for path in files:
            size = path.stat().st_size
            kinds = ["reader"] if args.no_sync else ["reader", "sync"]
            for kind in kinds:
                figures = measure(kind, path, folder / "home")
                ok &= report(f"{path.suffix[1:]} {kind}", size, figures, budgeted=path.suffix == ".xml")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
