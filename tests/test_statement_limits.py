"""The bank-statement plugin's limits, its folder skip and its streaming readers.

- A file over ``max_file_mb`` or a field over ``max_field_length`` is refused with a sentence that
  names the limit and the setting that raises it; raising the setting imports the file.
- A watched folder skips a file that is no statement (an unrelated XML or CSV, an empty file) with a
  warning and imports the others; a broken statement still fails the run (tests/test_statement.py).
- The readers stream: memory while reading follows the movements kept, not the file (tracemalloc's
  peak, compared with the file's size: a behaviour check, not a timing one).
"""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

import pytest
from helpers import db_state

from core.banking.formats import Limits, NotAStatement, Source, StatementError, camt053, fio_csv, parse_statement
from core.plugins.statement import BankStatementImport
from core.plugins.testing import PluginTestKit, run_plugin

FIXTURES = Path(__file__).parent / "fixtures"
CAMT = FIXTURES / "camt053"
FIO_CSV = FIXTURES / "fio-export.csv"
ACCOUNT = "CZ6508000000192000145399"


def camt(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<Stmt><Id>S-1</Id><Acct><Id><IBAN>{ACCOUNT}</IBAN></Id><Ccy>CZK</Ccy></Acct>"
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode("utf-8")


def ntry(number: int, *, text: str = "Invoice", extra: str = "") -> str:
    return (
        f"<Ntry><Amt>{number}.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>"
        f"<BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>R-{number}</AcctSvcrRef>"
        f"<NtryDtls><TxDtls><RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls>{extra}</Ntry>\n"
    )


def run(path: Path, **settings):
    return run_plugin(BankStatementImport, settings={"path": str(path), **settings})


def refused_without_writes(result) -> str:
    assert result.status == "failed" and result.backtrace is None, result.error
    assert result.transactions == [] and result.created == 0 and result.state == {}
    return result.error


# -- the size of a file -----------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_naming_the_setting_and_imports_once_it_is_raised(tmp_path):
    path = tmp_path / "big.xml"
    path.write_bytes(camt(*(ntry(n) for n in range(1, 400))))  # about 80 KB
    error = refused_without_writes(run(path, max_file_mb="0.05"))
    assert error.startswith("big.xml is 0.1 MB, more than the largest statement file this plugin reads (0.05 MB)")
    assert "raise the setting Largest statement file (max_file_mb)" in error and "Nothing was imported" in error
    raised = run(path, max_file_mb="1")
    assert raised.status == "completed" and raised.created == 399


def test_the_default_limits_are_the_plugins_settings():
    assert Limits().max_file_bytes == 50 * 1024 * 1024 and Limits().max_field_length == 2048
    fields = {field.key: field for field in BankStatementImport.fields}
    assert fields["max_file_mb"].default == 50 and fields["max_field_length"].default == 2048


@pytest.mark.parametrize(
    "key,value,says",
    [
        ("max_file_mb", "0", "The setting Largest statement file (max_file_mb) must be a number of megabytes above 0"),
        ("max_file_mb", "-5", "The setting Largest statement file (max_file_mb) must be a number of megabytes above 0"),
        ("max_field_length", "0.5", "The setting Longest field (max_field_length) must be a number of characters"),
    ],
)
def test_a_limit_setting_that_is_not_a_positive_number_is_a_sentence(key, value, says):
    error = refused_without_writes(run(CAMT / "camt053.v8.xml", **{key: value}))
    assert error.startswith(says)


# -- the length of a field ----------------------------------------------------------------------------


def test_a_camt_text_over_the_field_limit_is_refused_with_its_line_and_the_setting(tmp_path):
    path = tmp_path / "long.xml"
    path.write_bytes(camt(ntry(1), ntry(2, text="x" * 3000)))
    error = refused_without_writes(run(path))
    assert error.startswith("long.xml, line 3: a text is longer than 2,048 characters, the longest field")
    assert "raise the setting Longest field (max_field_length)" in error
    raised = run(path, max_field_length="3000")
    assert raised.status == "completed" and len(raised.transactions[1].description) == 3000


def test_a_csv_cell_over_the_field_limit_is_refused_with_its_row(tmp_path):
    path = tmp_path / "fio.csv"
    path.write_text(FIO_CSV.read_text(encoding="utf-8").replace("Faktura 2026001", "F" * 2100), encoding="utf-8")
    error = refused_without_writes(run(path))
    assert error.startswith("fio.csv, row 14: a cell is longer than 2,048 characters")
    assert "(max_field_length)" in error


def test_a_csv_line_far_over_the_limit_is_refused_without_being_read_whole(tmp_path):
    path = tmp_path / "fio.csv"
    path.write_text(FIO_CSV.read_text(encoding="utf-8") + "x" * 300_000 + "\n", encoding="utf-8")
    error = refused_without_writes(run(path))
    assert error.startswith("fio.csv, line 19: the line is longer than 131,072 characters")


def test_a_batch_description_is_cut_to_what_fakturka_stores_with_a_warning(tmp_path):
    details = "".join(
        f"<TxDtls><RmtInf><Ustrd>payment {n:03d} {'z' * 120}</Ustrd></RmtInf></TxDtls>" for n in range(60)
    )
    entry = (
        "<Ntry><Amt>60.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-02</Dt>"
        f"</BookgDt><AcctSvcrRef>BATCH</AcctSvcrRef><NtryDtls>{details}</NtryDtls></Ntry>"
    )
    path = tmp_path / "batch.xml"
    path.write_bytes(camt(entry))
    result = run(path)
    assert result.status == "completed", result.error
    (movement,) = result.transactions
    assert len(movement.description) == 4096 and movement.description.endswith("…")
    assert len(movement.raw_data["transactions"]) == 60  # every text kept whole there
    assert any("the description is" in line and "stored cut to 4,096" in line for line in result.log)


# -- a watched folder ---------------------------------------------------------------------------------


def test_a_folder_skips_what_is_no_statement_with_a_warning_and_imports_the_rest(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(CAMT / "camt053.v8.xml", folder / "a-statement.xml")
    shutil.copy(FIO_CSV, folder / "b-fio.csv")
    (folder / "c-invoice.xml").write_bytes(b'<?xml version="1.0"?><invoice><total>12</total></invoice>')
    (folder / "d-report.xml").write_bytes(camt(ntry(1)).replace(b"camt.053", b"camt.052"))
    (folder / "e-contacts.csv").write_text("Name;Phone\nJana;123\n", encoding="utf-8")
    (folder / "f-empty.csv").write_bytes(b"")
    result = run(folder)
    assert result.status == "completed", result.error
    assert result.created == 6 and sorted(result.metadata["files"]) == ["a-statement.xml", "b-fio.csv"]
    skipped = ["c-invoice.xml", "d-report.xml", "e-contacts.csv", "f-empty.csv"]
    assert result.metadata["skipped_files"] == skipped
    warnings = [line for line in result.log if "WARNING" in line and "Skipped, not a statement" in line]
    assert len(warnings) == 4
    assert any("c-invoice.xml is XML but not an ISO 20022 camt.053 statement" in line for line in warnings)
    assert any("d-report.xml is a camt.052 file (an account report)" in line for line in warnings)
    assert any("e-contacts.csv is in an unknown format" in line for line in warnings)
    assert all("nothing was imported" not in line.lower() for line in warnings)
    # the skipped files are not remembered: once one becomes a statement it is read
    assert sorted(Path(key).name for key in result.state["files"]) == ["a-statement.xml", "b-fio.csv"]


def test_a_folder_with_a_broken_statement_beside_an_unrelated_file_still_fails_whole(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(FIO_CSV, folder / "a.csv")
    (folder / "b.xml").write_bytes(b"<notes/>")
    (folder / "c.xml").write_bytes(camt(ntry(1), "<Ntry><Amt>1,00</Amt></Ntry>"))
    error = refused_without_writes(run(folder))
    assert error.startswith("c.xml, statement S-1, entry 2: the amount '1,00' is not a number")


def test_a_single_file_that_is_no_statement_still_fails_the_run(tmp_path):
    path = tmp_path / "invoice.xml"
    path.write_bytes(b"<invoice/>")
    assert refused_without_writes(run(path)).startswith("invoice.xml is XML but not an ISO 20022 camt.053")


def test_a_large_unrelated_file_in_a_folder_is_skipped_not_read(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    shutil.copy(CAMT / "camt053.v8.xml", folder / "a.xml")
    (folder / "b.csv").write_bytes(b"just text, no statement\n" * 10_000)  # 240 KB
    with PluginTestKit(BankStatementImport, settings={"path": str(folder), "max_file_mb": "0.1"}) as kit:
        before = db_state()
        result = kit.run()
        assert result.status == "completed" and result.created == 1
        assert result.metadata["skipped_files"] == ["b.csv"]
        assert db_state() != before


# -- streaming ------------------------------------------------------------------------------------------


def traced_peak(read) -> tuple[int, object]:
    """tracemalloc's peak (bytes) while ``read()`` runs, and what it returned.

    The readers run once on the small fixtures first: what is loaded once per process (Babel's currency
    names, the regular expressions) is not the file's memory."""
    parse_statement(FIO_CSV.read_bytes(), "warm-up.csv")
    parse_statement((CAMT / "camt053.v8.xml").read_bytes(), "warm-up.xml")
    tracemalloc.start()
    try:
        value = read()
        return tracemalloc.get_traced_memory()[1], value
    finally:
        tracemalloc.stop()


def test_a_camt_file_with_many_entries_is_read_in_memory_far_below_its_size(tmp_path):
    # Each entry carries 8 KB the reader builds, reads past and lets go (a bank's supplementary data);
    # a parser holding the whole document would need several times the file.
    supplement = "<SplmtryData><Envlp>" + "".join(f"<Note>{'s' * 2000}</Note>" for _ in range(4)) + "</Envlp>"
    path = tmp_path / "many.xml"
    path.write_bytes(camt(*(ntry(n, extra=supplement + "</SplmtryData>") for n in range(1, 1001))))
    size = path.stat().st_size
    peak, result = traced_peak(lambda: camt053.parse(Source(path=path), path.name))
    assert len(result.movements) == 1000 and size > 8_000_000
    assert peak < size / 3, f"peak {peak:,} bytes for a file of {size:,}"


def test_a_huge_text_node_is_refused_after_its_first_kilobytes(tmp_path):
    path = tmp_path / "huge.xml"
    path.write_bytes(camt(ntry(1, text="A" * 20_000_000)))
    peak, _ = traced_peak(lambda: pytest.raises(StatementError, camt053.parse, Source(path=path), path.name))
    assert peak < 2_000_000, f"peak {peak:,} bytes for a 20 MB text"


def test_a_csv_file_with_many_rows_is_read_row_by_row(tmp_path):
    lines = FIO_CSV.read_text(encoding="utf-8").splitlines()
    header_at = next(i for i, line in enumerate(lines) if line.startswith('"ID pohybu"'))
    header, row = lines[header_at], lines[header_at + 1]
    # an unnamed last column (not kept in raw_data) of 12,000 characters per row: the 2,000 movements
    # kept (about 3 KB each) weigh a quarter of the file, a reader holding the rows would weigh more than it
    body = [row.replace('"26500000101"', f'"{n}"') + f';"{"p" * 12_000}"' for n in range(2000)]
    path = tmp_path / "many.csv"
    path.write_text("\n".join([*lines[:header_at], header + ';""', *body]) + "\n", encoding="utf-8")
    size = path.stat().st_size
    limits = Limits(max_field_length=13_000)
    peak, result = traced_peak(lambda: fio_csv.parse(Source(path=path), path.name, limits=limits))
    assert len(result.movements) == 2000 and size > 24_000_000
    assert peak < size / 2, f"peak {peak:,} bytes for a file of {size:,}"


def test_a_file_that_is_no_statement_is_told_apart_before_any_entry(tmp_path):
    for data in (b"<invoice/>", b"Name;Phone\nJana;1\n", b"", camt(ntry(1)).replace(b"camt.053", b"camt.054")):
        with pytest.raises(NotAStatement):
            parse_statement(data, "x")
    with pytest.raises(StatementError) as broken:
        parse_statement(camt(ntry(1)).replace(b"2026-03-02", b"2026-W10-1"), "x")
    assert not isinstance(broken.value, NotAStatement)
