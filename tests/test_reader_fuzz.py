"""Every reader, fed mutated files: a sentence or a result, never a crash, a hang or a partial write.

A seeded mutator (the same cases on every run) starts from the real fixtures (tests/fixtures/camt053/,
fio/, fio-export.csv, generic-bank.csv and a Toggl export) and flips bytes, cuts the file, repeats,
drops and swaps lines, nests elements or arrays thousands deep, writes huge numbers (1e999999, 10^400,
NaN, Infinity, 1e20 hours), other scripts' digits, ISO week dates and the years 1 and 9999, other
encodings (UTF-16, Windows-1250, unknown XML encodings), long texts and random unicode (terminal
escapes, bidi marks, NUL). A Hypothesis test writes arbitrary text into each camt.053 field.

For every case:

- the reader returns, or refuses with its documented error (``StatementError`` for the statement
  readers, ``SyncError`` for the plugins): anything else fails the test, with the case named;
- it finishes within 5 s (``signal.setitimer``: a per-case alarm, not a speed measurement);
- a subset runs end to end through the real sync engine (the bank-statement plugin, the time CSV
  import and the Fio plugin against the local Fio server): a refused file leaves every table as it
  was (the run's own history row aside) and is a sentence, never the "bug" path with a backtrace.
"""

from __future__ import annotations

import json
import random
import re
import signal
import traceback
from contextlib import contextmanager
from pathlib import Path

import pytest
from fio_server import TOKEN, FioServer
from helpers import db_state
from hypothesis import given
from hypothesis import strategies as st

from core.banking.formats import StatementError, parse_mapping, parse_statement
from core.platform import plugin_config
from core.platform.sync import run_sync
from core.platform.sync_context import SyncContext
from core.platform.sync_masking import Masker
from core.plugins import use_plugins
from core.plugins.base import SyncError
from core.plugins.fio import FioPlugin, _contents, _statement
from core.plugins.statement import BankStatementImport
from core.plugins.testing import PluginTestKit
from core.store.models import Client, Project, SyncHistory

FIXTURES = Path(__file__).parent / "fixtures"
CAMT_FIXTURES = sorted(p for p in (FIXTURES / "camt053").glob("*.xml"))
FIO_JSON = FIXTURES / "fio" / "fiobank-transactions.json"
FIO_CSV = FIXTURES / "fio-export.csv"
GENERIC_CSV = FIXTURES / "generic-bank.csv"
GENERIC_MAPPING = (
    "date=Date,amount=Amount,currency=Currency,vs=VS,counterparty=Name,account=Account,"
    "message=Message,id=ID,date_format=%d.%m.%Y,decimal=,,delimiter=;"
)
TOGGL = (
    "User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags\n"
    "Jana,jana@example.cz,Acme s.r.o.,Web,,Homepage layout,Yes,2025-03-03,09:00:00,2025-03-03,10:30:00,01:30:00,\n"
    "Jana,jana@example.cz,Acme s.r.o.,Web,,Code review,Yes,2025-03-03,13:00:00,2025-03-03,13:45:00,00:45:00,\n"
).encode()
CLOCKIFY = (
    '"Project","Client","Description","Billable","Start Date","Start Time","Duration (h)","Duration (decimal)"\n'
    '"Web","Acme s.r.o.","API design","Yes","03/05/2025","09:00:00 AM","01:15:00","1.25"\n'
).encode()

CASES = 150  # per reader and seed file set, in memory
END_TO_END = 25  # per plugin, through the engine
SECONDS = 5

HUGE_NUMBERS = ("1" + "0" * 400, "1e999999", "1e20", "NaN", "Infinity", "-Infinity", "99999999999999999999.99")
ODD_DIGITS = (str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"), str.maketrans("0123456789", "０１２３４５６７８９"))
ODD_DATES = ("2026-W05-1", "2026W051", "20260131", "0001-01-01", "9999-12-31", "2026-02-30", "31.12.9999")
ODD_TEXT = (
    "\x1b]0;owned\x07\x1b[2J\x1b[8m",
    "\u202eevil\u202c",
    "\x00",
    "\ufeff",
    "\ud800",  # a lone surrogate (written with surrogatepass: invalid UTF-8)
    "😀",
    "e\u0301\u0301\u0301",
    "\u2028",
    '"',
    ";",
    "<",
    "&amp;",
    "&#0;",
)
XML_ENCODINGS = ("foo", "utf-32", "UTF-16", "windows-1250", "ebcdic-cp-us", "shift_jis", "rot13", "x" * 300)


class Hang(BaseException):
    """A case ran past its time (BaseException: no reader catches it as its own error)."""


@contextmanager
def deadline(seconds: float = SECONDS):
    def ring(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- the mutator -----------------------------------------------------------------------------------


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [data]


def duplicate_line(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    index = rng.randrange(len(lines))
    lines[index:index] = [lines[index]] * rng.choice((1, 2, 50))
    return b"".join(lines)


def delete_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    start = rng.randrange(len(lines))
    del lines[start : start + rng.randint(1, 3)]
    return b"".join(lines)


def swap_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[a], lines[b] = lines[b], lines[a]
    return b"".join(lines)


def _replace_random(pattern: str, data: bytes, rng: random.Random, make) -> bytes:
    text = _text(data)
    matches = list(re.finditer(pattern, text))
    if not matches:
        return data
    match = rng.choice(matches)
    return _encode(text[: match.start()] + make(match.group(0)) + text[match.end() :])


def huge_number(data: bytes, rng: random.Random) -> bytes:
    return _replace_random(r"[0-9]+(?:[.,][0-9]+)?", data, rng, lambda _: rng.choice(HUGE_NUMBERS))


def odd_digits(data: bytes, rng: random.Random) -> bytes:
    return _replace_random(r"[0-9]+", data, rng, lambda found: found.translate(rng.choice(ODD_DIGITS)))


def odd_date(data: bytes, rng: random.Random) -> bytes:
    pattern = r"[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}\.[0-9]{2}\.[0-9]{4}|[0-9]{2}/[0-9]{2}/[0-9]{4}"
    return _replace_random(pattern, data, rng, lambda _: rng.choice(ODD_DATES))


def odd_text(data: bytes, rng: random.Random) -> bytes:
    text = _text(data)
    at = rng.randrange(len(text) + 1)
    return _encode(text[:at] + rng.choice(ODD_TEXT) * rng.choice((1, 3)) + text[at:])


def long_text(data: bytes, rng: random.Random) -> bytes:
    text = _text(data)
    at = rng.randrange(len(text) + 1)
    return _encode(text[:at] + rng.choice("AŽ ") * rng.choice((3_000, 200_000)) + text[at:])


def odd_encoding(data: bytes, rng: random.Random) -> bytes:
    text = _text(data)
    if text.lstrip("\ufeff").startswith("<?xml") and rng.random() < 0.5:
        declared = rng.choice(XML_ENCODINGS)
        return _encode(re.sub(r'encoding="[^"]*"', f'encoding="{declared}"', text, count=1))
    codec = rng.choice(("utf-16", "utf-16-le", "cp1250", "latin-1", "utf-32"))
    return text.encode(codec, errors="replace")


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice((100, 5_000, 50_000))
    text = _text(data)
    if "<" in text:
        tags = [m.end() for m in re.finditer(r"<[A-Za-z][^<>]*>", text)]
        at = rng.choice(tags) if tags else 0
        return _encode(text[:at] + "<x>" * depth + "</x>" * depth + text[at:])
    if text.lstrip().startswith(("{", "[")):
        values = [m.end() for m in re.finditer(r'":\s*', text)]
        at = rng.choice(values) if values else 0
        return _encode(text[:at] + "[" * depth + "]" * depth + text[at:])
    return _encode(text + '"' * depth)


MUTATIONS = (
    flip_bytes,
    truncate,
    duplicate_line,
    delete_lines,
    swap_lines,
    huge_number,
    odd_digits,
    odd_date,
    odd_text,
    long_text,
    odd_encoding,
    deep_nesting,
)


def mutated(seeds: list[bytes], label: str, count: int) -> list[tuple[str, bytes]]:
    """``count`` mutants of the seed files, one to three mutations each, the same on every run."""
    rng = random.Random(f"fakturka-fuzz-{label}")
    cases = []
    for number in range(count):
        data = rng.choice(seeds)
        names = []
        for _ in range(rng.choice((1, 1, 2, 3))):
            mutation = rng.choice(MUTATIONS)
            data = mutation(data, rng)
            names.append(mutation.__name__)
        cases.append((f"{label} #{number} ({' + '.join(names)})", data))
    return cases


def check_all(cases: list[tuple[str, bytes]], read, allowed: type[BaseException]) -> int:
    """Run ``read`` on every case within the deadline; fail listing every case that crashed or hung.
    Returns how many were refused (so a test can show the mutations were not all harmless)."""
    problems, refused = [], 0
    for name, data in cases:
        try:
            with deadline():
                read(data)
        except allowed:
            refused += 1
        except BaseException as exc:  # noqa: BLE001 - every other outcome is the finding
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            problems.append(f"{name}: {detail[:300]}")
    assert not problems, f"{len(problems)} of {len(cases)} cases crashed or hung:\n" + "\n".join(problems[:20])
    return refused


# -- the readers alone, in memory ------------------------------------------------------------------


def read_statement(data: bytes, **options) -> None:
    parse_statement(data, "fuzz", **options)


def test_the_camt053_reader_refuses_every_mutant_with_a_sentence():
    cases = mutated([p.read_bytes() for p in CAMT_FIXTURES], "camt053", CASES)
    refused = check_all(cases, read_statement, StatementError)
    assert refused > len(cases) // 4  # the mutations do break files


def test_the_fio_csv_reader_refuses_every_mutant_with_a_sentence():
    cases = mutated([FIO_CSV.read_bytes()], "fio-csv", CASES)
    assert check_all(cases, read_statement, StatementError) > len(cases) // 4


def test_the_generic_csv_reader_refuses_every_mutant_with_a_sentence():
    mapping = parse_mapping(GENERIC_MAPPING)
    cases = mutated([GENERIC_CSV.read_bytes()], "generic-csv", CASES)
    assert check_all(cases, lambda data: read_statement(data, mapping=mapping), StatementError) > len(cases) // 4


def read_fio_json(data: bytes) -> None:
    """Fio's answer as the plugin reads it: the statement, its parts, every movement into a sync context."""
    ctx = SyncContext("fio", 0, {}, {}, {}, Masker([]))
    info, movements = _contents(_statement(data))
    plugin = FioPlugin()
    for movement in movements:
        plugin._import(ctx, movement, info)


def test_the_fio_json_reader_refuses_every_mutant_with_a_sentence():
    cases = mutated([FIO_JSON.read_bytes()], "fio-json", CASES)
    cases += [
        ("info is a list", b'{"accountStatement": {"info": [1], "transactionList": {"transaction": []}}}'),
        ("movements are a dict", b'{"accountStatement": {"info": {}, "transactionList": {"transaction": {}}}}'),
        ("a movement is a number", b'{"accountStatement": {"transactionList": {"transaction": [7]}}}'),
        ("columnX", b'{"accountStatement": {"transactionList": {"transaction": [{"columnX": {"value": 1}}]}}}'),
        ("deep", b'{"accountStatement": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("NaN amount", b'{"accountStatement": {"transactionList": {"transaction": [{"column1": {"value": NaN}}]}}}'),
    ]
    assert check_all(cases, read_fio_json, SyncError) > len(cases) // 4


@given(
    field=st.sampled_from(["Amt", "Ccy", "CdtDbtInd", "Dt", "Nm", "Ustrd", "AcctSvcrRef", "EndToEndId"]),
    value=st.text(max_size=40) | st.sampled_from([*HUGE_NUMBERS, *ODD_DATES, *ODD_TEXT, "١٢٣.٤٥", "XXX", "ABC"]),
)
def test_any_text_in_any_camt053_field_is_read_or_refused_with_a_sentence(field, value):
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    values = {name: "" for name in ("Amt", "Ccy", "CdtDbtInd", "Dt", "Nm", "Ustrd", "AcctSvcrRef", "EndToEndId")}
    values.update(Amt="12.50", Ccy="CZK", CdtDbtInd="CRDT", Dt="2026-03-02", Nm="Acme", Ustrd="VS 42")
    values.update(AcctSvcrRef="R-1", EndToEndId="E-1")
    values[field] = escaped
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>S</Id>'
        "<Acct><Id><IBAN>CZ6508000000192000145399</IBAN></Id></Acct>"
        f'<Ntry><Amt Ccy="{values["Ccy"]}">{values["Amt"]}</Amt><CdtDbtInd>{values["CdtDbtInd"]}</CdtDbtInd>'
        f"<Sts>BOOK</Sts><BookgDt><Dt>{values['Dt']}</Dt></BookgDt><AcctSvcrRef>{values['AcctSvcrRef']}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><Refs><EndToEndId>{values['EndToEndId']}</EndToEndId></Refs>"
        f"<RltdPties><Dbtr><Nm>{values['Nm']}</Nm></Dbtr></RltdPties>"
        f"<RmtInf><Ustrd>{values['Ustrd']}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
        "</Stmt></BkToCstmrStmt></Document>"
    )
    try:
        with deadline():
            result = parse_statement(_encode(document), "h.xml")
    except StatementError as refused:
        assert str(refused).startswith("h.xml")  # the sentence names the file
        return
    for movement in result.movements:  # what is read is what Fakturka keeps
        assert movement.currency.isascii() and 1990 <= movement.transacted_on.year <= 2099
        assert str(movement.amount).replace(".", "").isascii()


# -- end to end: the plugins through the engine, nothing written by a refused file ------------------


def _tables_but_history() -> dict:
    state = db_state()
    state.pop(SyncHistory._meta.table_name)
    return state


def check_runs(cases: list[tuple[str, bytes]], write, run) -> int:
    """Each case written by ``write`` and synced by ``run`` (returning (status, error, backtrace)): a failed
    run changed no table and is a sentence. Returns how many failed."""
    problems, failed = [], 0
    for name, data in cases:
        write(data)
        before = _tables_but_history()
        try:
            with deadline():
                status, error, backtrace = run()
        except BaseException as exc:  # noqa: BLE001 - the engine must never let one through
            problems.append(f"{name}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        if status == "failed":
            failed += 1
            if backtrace is not None:
                problems.append(f"{name}: the bug path: {error[:200]}")
            elif _tables_but_history() != before:
                problems.append(f"{name}: refused ({error[:120]}) but the database changed")
    assert not problems, f"{len(problems)} of {len(cases)} runs went wrong:\n" + "\n".join(problems[:20])
    return failed


@pytest.mark.parametrize(
    "label,seeds,settings",
    [
        ("camt053", CAMT_FIXTURES, {}),
        ("fio-csv", [FIO_CSV], {}),
        ("generic-csv", [GENERIC_CSV], {"csv_mapping": GENERIC_MAPPING}),
    ],
)
def test_the_statement_plugin_writes_nothing_for_a_refused_mutant(tmp_path, label, seeds, settings):
    suffix = ".xml" if label == "camt053" else ".csv"
    path = tmp_path / f"statement{suffix}"
    cases = mutated([p.read_bytes() for p in seeds], f"e2e-{label}", END_TO_END)
    with PluginTestKit(BankStatementImport, settings={"path": str(path), **settings}) as kit:

        def run():
            result = kit.run()
            return result.status, result.error, result.backtrace

        assert check_runs(cases, path.write_bytes, run) > 0


@pytest.fixture
def time_books(database):
    use_plugins(None)
    acme = Client.create(name="Acme s.r.o.")
    Project.create(client=acme, name="Web")
    yield
    use_plugins(None)


def _engine_run(name: str):
    def run():
        outcome = run_sync(name)
        return outcome.status, outcome.error, SyncHistory.get_by_id(outcome.run_id).error_backtrace

    return run


def test_the_time_csv_import_writes_nothing_for_a_refused_mutant(time_books, tmp_path):
    path = tmp_path / "export.csv"
    plugin_config.configure("time-csv", {"path": str(path)})
    plugin_config.set_enabled("time-csv", True)
    cases = mutated([TOGGL, CLOCKIFY], "time-csv", CASES // 2)
    cases += [
        (f"duration {value}", TOGGL.replace(b"01:30:00", value.encode()))
        for value in ("99999999:00:00", "1e20:00:00", "-01:00:00", "١:٣٠:٠٠", "NaN")
    ]
    cases += [
        (f"decimal hours {value}", CLOCKIFY.replace(b'"1.25"', f'"{value}"'.encode()))
        for value in ("Infinity", "1e999999", "1e20", "NaN", "-1", "99999999", "٣", "24.01")
    ]
    cases += [(f"date {value}", TOGGL.replace(b"2025-03-03", value.encode())) for value in ODD_DATES]
    assert check_runs(cases, path.write_bytes, _engine_run("time-csv")) > len(cases) // 4


def test_the_fio_plugin_writes_nothing_for_a_refused_mutant(database):
    cases = mutated([FIO_JSON.read_bytes()], "e2e-fio", END_TO_END)
    use_plugins(None)
    with FioServer() as server:
        plugin_config.configure(
            "fio", {"base_url": server.base_url, "timeout": 2, "start_date": "2016-08-01"}, {"token": TOKEN}
        )
        plugin_config.set_enabled("fio", True)

        def answer(data: bytes) -> None:
            server.respond_raw(data)

        failed = check_runs(cases, answer, _engine_run("fio"))
    use_plugins(None)
    assert failed > 0


def test_the_mutator_is_the_same_on_every_run():
    """Seeded: a failure found once is found again (and the report names its case number)."""
    first = mutated([FIO_CSV.read_bytes()], "fio-csv", 5)
    assert first == mutated([FIO_CSV.read_bytes()], "fio-csv", 5)
    assert len({data for _, data in first}) == 5
    assert json.loads(FIO_JSON.read_bytes())  # the seed itself is valid
