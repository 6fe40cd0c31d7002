"""The bank-statement plugin (core/plugins/statement.py): camt.053, Fio CSV and generic CSV files.

The readers themselves live in core/banking/formats/ (tests/test_format_*.py test each one
alone, and their golden files); this file runs them through the plugin.

Runs go through the real sync engine with the plugin test kit (a temporary
home and database per kit). The published camt.053 fixtures are read from
tests/fixtures/camt053/ (unchanged, see SOURCES.md); statements built in a test are
written under tmp_path; the CSV samples live in tests/fixtures/.
"""

from __future__ import annotations

import os
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.banking.formats import StatementError, find_vs, parse_mapping, parse_statement
from core.banking.formats.camt053 import parse as parse_camt053
from core.plugins.statement import BankStatementImport
from core.plugins.testing import PluginTestKit, run_plugin

FIXTURES = Path(__file__).parent / "fixtures"
CAMT = FIXTURES / "camt053"
OWN = Path(__file__).parent / "fixtures"
FIO_CSV = OWN / "fio-export.csv"
GENERIC_CSV = OWN / "generic-bank.csv"
GENERIC_MAPPING = (
    "date=Date,amount=Amount,currency=Currency,vs=VS,counterparty=Name,account=Account,"
    "message=Message,id=ID,date_format=%d.%m.%Y,decimal=,,delimiter=;"
)
ACCOUNT = "NL26VAYB8060476890"  # the account of every shared fixture
HASH_ID = re.compile(rf"^{ACCOUNT}:sha256:[0-9a-f]{{32}}$")


def run(path, **settings):
    return run_plugin(BankStatementImport, settings={"path": str(path), **settings})


def tx_view(tx) -> dict:
    return {
        "type": tx.transaction_type,
        "amount": tx.amount_value,
        "currency": tx.currency,
        "date": tx.transacted_on,
        "counterparty": tx.counterparty,
        "account": tx.counterparty_account,
        "reference": tx.reference,
        "description": tx.description,
    }


def logged(result, text: str) -> bool:
    return any(text in line for line in result.log)


# -- building camt.053 statements for the cases the shared fixtures do not have --------------


def txdtls(*, e2e="", strd="", ustrd=(), dbtr="", dbtr_acct="", cdtr="", cdtr_acct="", acct_ref="", v08=False):
    def party(role, name):
        if not name:
            return ""
        return f"<{role}><Pty><Nm>{name}</Nm></Pty></{role}>" if v08 else f"<{role}><Nm>{name}</Nm></{role}>"

    def account(role, iban):
        return f"<{role}Acct><Id><IBAN>{iban}</IBAN></Id></{role}Acct>" if iban else ""

    refs = (f"<AcctSvcrRef>{acct_ref}</AcctSvcrRef>" if acct_ref else "") + (
        f"<EndToEndId>{e2e}</EndToEndId>" if e2e else ""
    )
    remittance = "".join(f"<Ustrd>{text}</Ustrd>" for text in ustrd)
    if strd:
        remittance += f"<Strd><CdtrRefInf><Ref>{strd}</Ref></CdtrRefInf></Strd>"
    return (
        f"<TxDtls><Refs>{refs}</Refs><RltdPties>{party('Dbtr', dbtr)}{account('Dbtr', dbtr_acct)}"
        f"{party('Cdtr', cdtr)}{account('Cdtr', cdtr_acct)}</RltdPties>"
        + (f"<RmtInf>{remittance}</RmtInf>" if remittance else "")
        + "</TxDtls>"
    )


def ntry(
    amount="1000.00",
    ind="CRDT",
    *,
    sts="BOOK",
    day="2026-03-02",
    ref="",
    ntry_ref="",
    reversal=None,
    details=(),
    ccy="CZK",
    info="",
    v08=False,
):
    status = f"<Sts><Cd>{sts}</Cd></Sts>" if v08 else f"<Sts>{sts}</Sts>"
    return (
        "<Ntry>"
        + (f"<NtryRef>{ntry_ref}</NtryRef>" if ntry_ref else "")
        + f'<Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
        + (f"<RvslInd>{'true' if reversal else 'false'}</RvslInd>" if reversal is not None else "")
        + f"{status}<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
        + (f"<AcctSvcrRef>{ref}</AcctSvcrRef>" if ref else "")
        + (f"<NtryDtls>{''.join(details)}</NtryDtls>" if details else "")
        + (f"<AddtlNtryInf>{info}</AddtlNtryInf>" if info else "")
        + "</Ntry>"
    )


def camt(*entries, version="02", account="CZ6508000000192000145399") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        f"<BkToCstmrStmt><GrpHdr><MsgId>M-1</MsgId><CreDtTm>2026-03-31T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>S-2026-03</Id><CreDtTm>2026-03-31T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>CZK</Ccy></Acct>{''.join(entries)}</Stmt>"
        f"</BkToCstmrStmt></Document>"
    ).encode("utf-8")


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# -- the plugin class ------------------------------------------------------------------------


def test_the_class_registers_with_its_name_version_and_fields():
    # imported here: core.platform.registry imported before core.plugins is a circular import
    from core.platform.registry import build_registry

    registry = build_registry([BankStatementImport])
    assert registry == {"bank-statement": BankStatementImport}
    assert BankStatementImport.version == "1.1.0"
    fields = {f.key: f for f in BankStatementImport.fields}
    assert list(fields) == [
        "path",
        "format",
        "preset",
        "csv_mapping",
        "include_pending",
        "account_currency",
        "timezone",
        "max_file_mb",
        "max_field_length",
    ]
    assert fields["max_file_mb"].kind == "number" and fields["max_file_mb"].default == 50
    assert fields["max_field_length"].kind == "number" and fields["max_field_length"].default == 2048
    assert fields["path"].kind == "path" and fields["path"].required
    assert fields["format"].choices == ("auto", "camt053", "fio-csv", "csv") and fields["format"].default == "auto"
    assert fields["include_pending"].kind == "bool" and fields["include_pending"].default is False
    assert "date=Date" in fields["csv_mapping"].help and "decimal=" in fields["csv_mapping"].help


# -- every shared camt.053 fixture -------------------------------------------------------------

NAME_NAME = {"counterparty": "NAME NAME", "account": "NL56AGDH9619008421"}
EXPECTED = {
    # file: [(external id or None for a content hash, values)], values read from the XML by hand
    "camt053.v2.minimal.xml": [
        (None, dict(type="income", amount=Decimal("8.85"), reference="", description="", **NAME_NAME))
    ],
    "camt053.v2.with-party-ids.xml": [
        (None, dict(type="income", amount=Decimal("8.85"), reference="", description="", **NAME_NAME))
    ],
    # a credit whose details name only the creditor (us): no counterparty is guessed
    "camt053.v2.five.decimals.xml": [
        (
            None,
            dict(
                type="income",
                amount=Decimal("8.85"),
                reference="000000001",
                description="Transaction Description",
                counterparty="",
                account="",
            ),
        )
    ],
    "camt053.v2.multi.statement.xml": [
        (
            None,
            dict(
                type="income",
                amount=Decimal("8.85"),
                reference="000000001",
                description="Transaction Description 1",
                counterparty="",
                account="",
            ),
        ),
        (
            None,
            dict(
                type="expense",
                amount=Decimal("7.00"),
                reference="000000002",
                description="Transaction Description 2",
                counterparty="Company Name 2",
                account="NL56AGDH9619008421",
            ),
        ),
    ],
    "camt053.v3.xml": [
        (
            f"{ACCOUNT}:XXXXXXXXXXXXXXXXXXXXXXEUR",
            dict(type="income", amount=Decimal("8.85"), reference="", description="", **NAME_NAME),
        )
    ],
    "camt053.v4.xml": [
        (
            f"{ACCOUNT}:AAAASESS-FP-CN_98765/01",
            dict(type="income", amount=Decimal("8.85"), reference="", description="", **NAME_NAME),
        )
    ],
    "camt053.v8.xml": [
        (
            f"{ACCOUNT}:AAAASESS-FP-CN_98765/01",  # Pty/Nm names, Sts/Cd, BookgDt/DtTm
            dict(type="income", amount=Decimal("8.85"), reference="", description="", **NAME_NAME),
        )
    ],
}


def test_the_expectations_cover_every_shared_fixture():
    assert sorted([*EXPECTED, "camt053.v2.wrong.xml"]) == sorted(p.name for p in CAMT.glob("*.xml"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_shared_fixture_imports(name):
    result = run(CAMT / name)
    assert result.status == "completed", result.error
    expected = EXPECTED[name]
    assert result.created == len(expected) and len(result.transactions) == len(expected)
    for tx, (external_id, values) in zip(result.transactions, expected, strict=False):
        assert tx_view(tx) == {"currency": "EUR", "date": date(2014, 12, 31), **values}
        if external_id is None:
            assert HASH_ID.match(tx.external_id), tx.external_id
        else:
            assert tx.external_id == external_id
        assert tx.source == "bank-statement"
        assert tx.raw_data["account"] == ACCOUNT and tx.raw_data["status"] == "BOOK"
        assert all(isinstance(v, (str, list)) for v in tx.raw_data.values())
    assert result.metadata["files"] == [name] and result.metadata["entries"] == len(expected)
    entries = "1 entry" if len(expected) == 1 else f"{len(expected)} entries"
    assert logged(result, f"{name} (camt.053.001.0{name[9]}, account {ACCOUNT}): {entries}.")


def test_fixture_details_land_in_raw_data_as_strings():
    v8 = run(CAMT / "camt053.v8.xml").transactions[0]
    assert v8.raw_data["format"] == "camt.053.001.08"
    assert v8.raw_data["booking_date"] == "2014-12-31T13:15:00+01:00"  # the date part is what counts
    assert v8.raw_data["bank_transaction_code"] == "PMNT/RCDT/BOOK"
    assert v8.raw_data["transactions"] == [
        {
            "end_to_end_id": "MUELL/FINP/RA12345",
            "amount": "0 SEK",
            "debtor": "NAME NAME",
            "debtor_account": "NL56AGDH9619008421",
            "creditor": "Company Name",
            "creditor_account": "NL56AGDH9619008421",
            "structured_refs": ["4654654654654654"],
        }
    ]
    # a 16-digit creditor reference is not a variable symbol
    assert v8.reference == ""
    v3 = run(CAMT / "camt053.v3.xml").transactions[0]
    assert v3.raw_data["transactions"][0]["amount"] == "105.750 EUR"  # kept, but the entry's 8.85 is booked
    assert v3.amount == 885


def test_all_shared_fixtures_in_one_folder_import_in_one_run(tmp_path):
    folder = tmp_path / "statements"
    folder.mkdir()
    for name in EXPECTED:
        shutil.copy(CAMT / name, folder / name)
    result = run(folder)
    assert result.status == "completed", result.error
    # 8 entries; v4 and v8 are the same entry (same account and AcctSvcrRef), so 7 transactions
    # 8 entries, but v4 and v8 carry the same account and reference: one record, counted once.
    assert result.processed == 7 and result.created == 7
    assert [tx.external_id for tx in result.transactions].count(f"{ACCOUNT}:AAAASESS-FP-CN_98765/01") == 1
    assert len({tx.external_id for tx in result.transactions}) == 7
    assert sorted(result.metadata["files"]) == sorted(EXPECTED)
    assert sum(1 for line in result.log if "(camt.053.001.0" in line) == 7  # one line per file


def test_content_hash_ids_ignore_formatting_but_not_content(tmp_path):
    original = (CAMT / "camt053.v2.minimal.xml").read_bytes()
    compact = re.sub(rb">\s+<", b"><", original)
    changed = original.replace(b'<Amt Ccy="EUR">8.85</Amt>', b'<Amt Ccy="EUR">8.86</Amt>')
    ids = [parse_statement(data, "x.xml").movements[0].external_id for data in (original, compact, changed)]
    assert ids[0] == ids[1] != ids[2]
    assert HASH_ID.match(ids[0])


# -- the wrong file ----------------------------------------------------------------------------


def test_the_wrong_fixture_is_refused_with_its_name_and_nothing_is_written():
    result = run(CAMT / "camt053.v2.wrong.xml")
    assert result.status == "failed"
    assert "camt053.v2.wrong.xml" in result.error and "no Stmt element" in result.error
    assert result.backtrace is None  # a sentence, not a crash
    assert result.transactions == [] and result.created == 0 and result.state == {}


def test_a_folder_with_the_wrong_fixture_writes_nothing_at_all(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(CAMT / "camt053.v3.xml", folder / "a-good.xml")
    shutil.copy(CAMT / "camt053.v2.wrong.xml", folder / "b-wrong.xml")
    result = run(folder)
    assert result.status == "failed" and "b-wrong.xml" in result.error
    assert result.transactions == [] and result.state == {}  # the good file is not half-imported


# -- rounding ------------------------------------------------------------------------------------


def test_the_five_decimals_fixture_is_stored_in_minor_units():
    tx = run(CAMT / "camt053.v2.five.decimals.xml").transactions[0]
    # the file says 8.850 (three decimals, exact in cents): stored as 885 cents, written form kept
    assert tx.amount == 885 and tx.amount_value == Decimal("8.85")
    assert tx.raw_data["amount"] == "8.850"


@pytest.mark.parametrize("written,cents", [("8.85499", 885), ("8.85500", 886), ("1234.56789", 123457)])
def test_more_decimals_than_the_currency_has_round_half_up_with_a_warning(tmp_path, written, cents):
    result = run(write(tmp_path / "s.xml", camt(ntry(written, ccy="EUR", ref="R1"))))
    tx = result.transactions[0]
    assert tx.amount == cents and tx.raw_data["amount"] == written
    assert logged(result, f"the amount {written} EUR has more decimals than EUR uses")


def test_an_amount_that_rounds_to_zero_is_skipped_with_a_warning(tmp_path):
    result = run(write(tmp_path / "s.xml", camt(ntry("0.004", ref="R1"), ntry("5.00", ref="R2"))))
    assert result.status == "completed"
    assert [tx.amount for tx in result.transactions] == [500]
    assert logged(result, "is zero") and result.metadata["zero_amounts"] == 1


# -- booked only, pending on request ---------------------------------------------------------------


@pytest.mark.parametrize("v08", [False, True], ids=["v02-text-status", "v08-coded-status"])
def test_pending_entries_are_skipped_by_default_and_included_with_the_setting(tmp_path, v08):
    version = "08" if v08 else "02"
    path = write(
        tmp_path / "s.xml",
        camt(
            ntry("100.00", ref="B1", v08=v08),
            ntry("200.00", sts="PDNG", ref="P1", v08=v08),
            ntry("300.00", sts="INFO", ref="I1", v08=v08),
            version=version,
        ),
    )
    booked = run(path)
    assert [tx.amount for tx in booked.transactions] == [10000]
    assert booked.metadata["skipped"] == 2 and booked.metadata["entries"] == 1
    assert logged(
        booked, "s.xml (camt.053.001.%s, account CZ6508000000192000145399): 1 entry, 2 pending skipped." % version
    )
    everything = run(path, include_pending="yes")
    assert sorted(tx.amount for tx in everything.transactions) == [10000, 20000, 30000]
    assert {tx.raw_data["status"] for tx in everything.transactions} == {"BOOK", "PDNG", "INFO"}
    assert everything.metadata["skipped"] == 0


def test_a_pending_entry_once_booked_updates_the_same_transaction(tmp_path):
    path = tmp_path / "s.xml"
    with PluginTestKit(BankStatementImport, settings={"path": str(path), "include_pending": True}) as kit:
        write(path, camt(ntry("100.00", sts="PDNG", details=[txdtls(ustrd=["Coffee"])])))
        first = kit.run()
        write(path, camt(ntry("100.00", sts="BOOK", details=[txdtls(ustrd=["Coffee"])])))
        second = kit.run()
    assert first.created == 1 and second.created == 0 and second.updated == 1
    assert len(second.transactions) == 1 and second.transactions[0].raw_data["status"] == "BOOK"


# -- direction and reversals -------------------------------------------------------------------------


def test_credit_is_income_debit_is_expense_and_reversals_follow_the_iso_rule(tmp_path):
    path = write(
        tmp_path / "s.xml",
        camt(
            ntry("500.00", "CRDT", ref="IN", details=[txdtls(dbtr="Payer", dbtr_acct="CZ11", cdtr="Me")]),
            ntry("200.00", "DBIT", ref="OUT", details=[txdtls(dbtr="Me", cdtr="Shop", cdtr_acct="CZ22")]),
            # a reversal of a credit: the 500 we received goes back to the payer -> money leaves: expense
            ntry(
                "500.00",
                "DBIT",
                ref="REV-IN",
                reversal=True,
                details=[txdtls(dbtr="Payer", dbtr_acct="CZ11", cdtr="Me", ustrd=["Return"])],
            ),
            # a reversal of a debit: our 200 payment comes back -> money arrives: income
            ntry(
                "200.00",
                "CRDT",
                ref="REV-OUT",
                reversal=True,
                details=[txdtls(dbtr="Me", cdtr="Shop", cdtr_acct="CZ22")],
            ),
        ),
    )
    result = run(path)
    by_ref = {tx.external_id.split(":")[-1]: tx for tx in result.transactions}
    assert (by_ref["IN"].transaction_type, by_ref["IN"].counterparty, by_ref["IN"].counterparty_account) == (
        "income",
        "Payer",
        "CZ11",
    )
    assert (by_ref["OUT"].transaction_type, by_ref["OUT"].counterparty) == ("expense", "Shop")
    rev_in, rev_out = by_ref["REV-IN"], by_ref["REV-OUT"]
    assert (rev_in.transaction_type, rev_in.amount, rev_in.counterparty) == ("expense", 50000, "Payer")
    assert rev_in.description == "Reversal: Return" and rev_in.raw_data["reversal"] == "true"
    assert (rev_out.transaction_type, rev_out.amount, rev_out.counterparty) == ("income", 20000, "Shop")
    assert rev_out.description == "Reversal" and by_ref["IN"].raw_data["reversal"] == "false"


# -- variable symbol ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "detail,info,vs",
    [
        (dict(e2e="2026001"), "", "2026001"),  # a bare EndToEndId
        (dict(e2e="0000002026001"), "", "2026001"),  # padded beyond 10 digits
        (dict(e2e="/VS/2026001/SS//KS/0308"), "", "2026001"),
        (dict(e2e="VS:2026001"), "", "2026001"),
        (dict(strd="2026001"), "", "2026001"),  # structured creditor reference
        (dict(strd="VS 2026001"), "", "2026001"),
        (dict(ustrd=["Faktura VS 2026001, děkujeme"]), "", "2026001"),
        (dict(ustrd=["Platba", "VS2026001"]), "", "2026001"),
        (dict(ustrd=["variabilní symbol 2026001"]), "", "2026001"),
        (dict(), "Platba /VS/2026001", "2026001"),  # AddtlNtryInf as the last resort
        (dict(e2e="NOTPROVIDED", ustrd=["VS 77"]), "", "77"),
        (dict(e2e="MUELL/FINP/RA12345", strd="4654654654654654"), "", ""),  # 16 digits: not a VS
        (dict(ustrd=["Invoice 2026001"]), "", ""),  # bare digits in free text are not taken
        (dict(ustrd=["CVS 123 pharmacy"]), "", ""),
    ],
)
def test_the_variable_symbol_is_found_in_each_place(detail, info, vs):
    result = parse_camt053(camt(ntry(ref="R", details=[txdtls(**detail)], info=info)), "s.xml")
    assert result.movements[0].reference == vs


def test_the_end_to_end_id_wins_over_the_text_and_reaches_the_database(tmp_path):
    path = write(tmp_path / "s.xml", camt(ntry(ref="R", details=[txdtls(e2e="/VS/111", ustrd=["VS 222"])])))
    assert run(path).transactions[0].reference == "111"


def test_find_vs_patterns():
    assert find_vs("VS 2026001", bare=False) == "2026001"
    assert find_vs("/vs/2026001/", bare=False) == "2026001"
    assert find_vs("2026001", bare=True) == "2026001"
    assert find_vs("2026001", bare=False) == ""
    assert find_vs("12345678901", bare=True) == ""  # 11 significant digits


# -- batch bookings ------------------------------------------------------------------------------------


def test_a_batch_booking_is_one_transaction_with_every_detail_kept(tmp_path):
    details = [
        txdtls(e2e="1001", dbtr="Alpha", dbtr_acct="CZ01", ustrd=["Invoice 1001"]),
        txdtls(e2e="1002", dbtr="Beta", dbtr_acct="CZ02", ustrd=["Invoice 1002"]),
        txdtls(e2e="1003", dbtr="Gamma", dbtr_acct="CZ03", ustrd=["Invoice 1003"]),
    ]
    result = run(write(tmp_path / "s.xml", camt(ntry("3000.00", ref="BATCH-1", details=details))))
    assert result.created == 1
    tx = result.transactions[0]
    assert tx.amount == 300000 and tx.transaction_type == "income"
    assert tx.description == "Batch of 3 payments | Invoice 1001 | Invoice 1002 | Invoice 1003"
    assert tx.counterparty == "Alpha; Beta; Gamma" and tx.counterparty_account == ""
    assert tx.reference == ""  # three different VS: matching must not pay one invoice with the batch
    assert tx.raw_data["variable_symbols"] == ["1001", "1002", "1003"]
    assert [d["end_to_end_id"] for d in tx.raw_data["transactions"]] == ["1001", "1002", "1003"]


def test_a_batch_agreeing_on_one_variable_symbol_keeps_it():
    details = [txdtls(e2e="2026001", dbtr="Alpha"), txdtls(ustrd=["VS 02026001"], dbtr="Alpha")]
    movement = parse_camt053(camt(ntry("10.00", ref="B", details=details)), "s.xml").movements[0]
    assert movement.reference == "2026001" and movement.counterparty == "Alpha"


# -- external ids ---------------------------------------------------------------------------------------


def test_external_id_falls_back_from_acctsvcrref_to_ntryref_to_tx_ref_to_a_hash():
    result = parse_camt053(
        camt(
            ntry("1.00", ref="SVC", ntry_ref="N1"),
            ntry("2.00", ntry_ref="N2"),
            ntry("3.00", details=[txdtls(acct_ref="TX-REF")]),
            ntry("4.00", details=[txdtls(ustrd=["no references at all"])]),
        ),
        "s.xml",
    )
    ids = [m.external_id for m in result.movements]
    account = "CZ6508000000192000145399"
    assert ids[:3] == [f"{account}:SVC", f"{account}:ntry:N2", f"{account}:tx:TX-REF"]
    assert re.match(rf"^{account}:sha256:[0-9a-f]{{32}}$", ids[3])


def test_the_account_keeps_equal_bank_references_of_two_accounts_apart(tmp_path):
    folder = tmp_path / "in"
    write(folder / "a.xml", camt(ntry("1.00", ref="000123"), account="CZ1100000000000000000001"))
    write(folder / "b.xml", camt(ntry("1.00", ref="000123"), account="CZ2200000000000000000002"))
    result = run(folder)
    assert result.created == 2
    assert sorted(tx.external_id for tx in result.transactions) == [
        "CZ1100000000000000000001:000123",
        "CZ2200000000000000000002:000123",
    ]


def test_two_identical_entries_in_one_file_are_two_transactions_and_stay_so(tmp_path):
    path = write(
        tmp_path / "s.xml",
        camt(ntry("45.00", details=[txdtls(ustrd=["Coffee"])]), ntry("45.00", details=[txdtls(ustrd=["Coffee"])])),
    )
    with PluginTestKit(BankStatementImport, settings={"path": str(path)}) as kit:
        first, second = kit.run(), kit.run()
    assert first.created == 2 and second.created == 0 and second.skipped == 2
    ids = [tx.external_id for tx in first.transactions]
    assert ids[1] == ids[0] + "#2"


# -- Fio CSV export -----------------------------------------------------------------------------------------

FIO_EXPECTED = [
    (
        "fio:26500000101",
        dict(
            type="income",
            amount=Decimal("24200.00"),
            currency="CZK",
            date=date(2026, 3, 2),
            counterparty="Acme s.r.o.",
            account="1234567890/0800",
            reference="2026001",
            description="Faktura 2026001",
        ),
    ),
    (
        "fio:26500000102",
        dict(
            type="expense",
            amount=Decimal("349.50"),
            currency="CZK",
            date=date(2026, 3, 5),
            counterparty="",
            account="",
            reference="",
            description="Nákup: LIDL DEKUJE ZA NAKUP, Praha, CZ",
        ),
    ),
    (
        "fio:26500000103",
        dict(
            type="expense",
            amount=Decimal("1500.00"),
            currency="CZK",
            date=date(2026, 3, 10),
            counterparty="Pronajímatel s.r.o.",
            account="CZ6508000000192000145399",
            reference="202603",
            description="Nájem 03/2026",
        ),
    ),
    (
        "fio:26500000104",
        dict(
            type="income",
            amount=Decimal("1000.00"),
            currency="CZK",
            date=date(2026, 3, 15),
            counterparty="Jan Dvořák",
            account="2900123456/2010",
            reference="2026002",
            description="Platba za fakturu VS 2026002 | doplatek",
        ),
    ),
    (
        "fio:26500000105",
        dict(
            type="income",
            amount=Decimal("0.53"),
            currency="CZK",
            date=date(2026, 3, 31),
            counterparty="",
            account="",
            reference="",
            description="Připsaný úrok",
        ),
    ),
]


def test_the_fio_csv_export_imports_every_movement():
    result = run(FIO_CSV)
    assert result.status == "completed", result.error
    assert [(tx.external_id, tx_view(tx)) for tx in result.transactions] == FIO_EXPECTED
    raw = result.transactions[0].raw_data
    assert raw["ID pohybu"] == "26500000101" and raw["Objem"] == "24 200,00" and raw["KS"] == "0308"
    assert raw["account"] == "CZ6520100000002001234567"  # from the preamble
    assert logged(result, "fio-export.csv (Fio CSV export, account CZ6520100000002001234567): 5 entries.")
    # the preamble's balances agree with the movements
    assert (
        sum((tx.amount if tx.transaction_type == "income" else -tx.amount) for tx in result.transactions)
        == 3_585_103 - 1_250_000
    )


def test_the_fio_csv_is_read_with_the_format_forced_too():
    result = run(FIO_CSV, format="fio-csv")
    assert result.created == 5


def test_the_internet_banking_variant_of_the_fio_header_and_windows_1250(tmp_path):
    text = (
        '"Výpis č. 3/2026 z účtu ""2001234567/2010"""\n"Období: 01.03.2026 - 31.03.2026"\n\n'
        '"ID operace";"Datum";"Objem";"Měna";"Protiúčet";"Název protiúčtu";"Kód banky";"VS";'
        '"Uživatelská identifikace";"Zpráva pro příjemce";"Typ"\n'
        '"27737637241";"14.07.2026";"-20000";"CZK";"19-2000145399";"Žluťoučký kůň s.r.o.";"0800";"0099";'
        '"";"Záloha";"Bezhotovostní platba"\n'
    )
    result = run(write(tmp_path / "vypis.csv", text.encode("cp1250")))
    assert result.status == "completed", result.error
    tx = result.transactions[0]
    assert (
        tx.external_id,
        tx.transaction_type,
        tx.amount,
        tx.counterparty,
        tx.counterparty_account,
        tx.reference,
        tx.description,
    ) == ("fio:27737637241", "expense", 2_000_000, "Žluťoučký kůň s.r.o.", "19-2000145399/0800", "0099", "Záloha")


def test_a_malformed_fio_row_names_file_and_row_and_writes_nothing(tmp_path):
    lines = FIO_CSV.read_text(encoding="utf-8").splitlines()
    lines[15] = lines[15].replace('"-1 500,00"', '"-1 5OO,00"')  # letter O: the third movement, line 16
    result = run(write(tmp_path / "fio-bad.csv", "\n".join(lines)))
    assert result.status == "failed"
    assert result.error == (
        "fio-bad.csv, row 16: the amount '-1 5OO,00' (column Objem) is not a number; nothing was imported."
    )
    assert result.transactions == [] and result.processed == 0


def test_a_bad_fio_date_names_file_and_row(tmp_path):
    lines = FIO_CSV.read_text(encoding="utf-8").splitlines()
    lines[13] = lines[13].replace('"02.03.2026"', '"31.02.2026"')
    result = run(write(tmp_path / "fio-date.csv", "\n".join(lines)))
    assert result.status == "failed" and result.transactions == []
    assert result.error.startswith("fio-date.csv, row 14: the date '31.02.2026' (column Datum) is not a date")


# -- generic CSV ------------------------------------------------------------------------------------------------


def test_a_generic_csv_is_read_with_the_mapping():
    result = run(GENERIC_CSV, format="csv", csv_mapping=GENERIC_MAPPING)
    assert result.status == "completed", result.error
    assert [(tx.external_id, tx_view(tx)) for tx in result.transactions] == [
        (
            "csv:TX-9001",
            dict(
                type="income",
                amount=Decimal("12100.00"),
                currency="CZK",
                date=date(2026, 3, 3),
                counterparty="Beta a.s.",
                account="19-2000145399/0800",
                reference="2026003",
                description="Faktura 2026003",
            ),
        ),
        (
            "csv:TX-9002",
            dict(
                type="expense",
                amount=Decimal("2450.90"),
                currency="CZK",
                date=date(2026, 3, 4),
                counterparty="Telco s.r.o.",
                account="CZ6508000000192000145399",
                reference="",
                description="Internet 03/2026",
            ),
        ),
        (
            "csv:TX-9003",
            dict(
                type="income",
                amount=Decimal("99.99"),
                currency="EUR",
                date=date(2026, 3, 17),
                counterparty="Example GmbH",
                account="DE89370400440532013000",
                reference="2026004",
                description="Invoice 2026004 /VS/2026004",
            ),
        ),
    ]
    assert result.transactions[1].raw_data == {
        "Date": "04.03.2026",
        "Amount": "-2 450,90",
        "Currency": "CZK",
        "Name": "Telco s.r.o.",
        "Account": "CZ6508000000192000145399",
        "Message": "Internet 03/2026",
        "ID": "TX-9002",
    }
    assert logged(result, "generic-bank.csv (CSV): 3 entries.")


def test_auto_format_uses_the_mapping_for_a_csv_that_is_not_fio():
    result = run(GENERIC_CSV, csv_mapping=GENERIC_MAPPING)
    assert result.created == 3


def test_generic_csv_with_credit_debit_columns_no_id_and_the_account_currency(tmp_path):
    path = write(
        tmp_path / "bank.csv",
        "Posted,Description,Paid in,Paid out\n"
        '2026-04-01,"Client, Ltd VS 42","1,250.00",\n'
        "2026-04-02,Office rent,,800.00\n"
        "2026-04-02,Office rent,,800.00\n",
    )
    settings = {
        "path": str(path),
        "csv_mapping": "date=Posted,credit=Paid in,debit=Paid out,message=Description",
        "account_currency": "gbp",
    }
    with PluginTestKit(BankStatementImport, settings=settings) as kit:
        first, second = kit.run(), kit.run()
    assert first.status == "completed", first.error
    assert [
        (tx.transaction_type, tx.amount, tx.currency, tx.reference, tx.description) for tx in first.transactions
    ] == [
        ("income", 125000, "GBP", "42", "Client, Ltd VS 42"),
        ("expense", 80000, "GBP", "", "Office rent"),
        ("expense", 80000, "GBP", "", "Office rent"),
    ]
    ids = [tx.external_id for tx in first.transactions]
    assert ids[0].startswith("csv:sha256:") and ids[2] == ids[1] + "#2"
    assert second.created == 0 and second.skipped == 3


def test_a_malformed_generic_row_names_file_and_row_and_writes_nothing(tmp_path):
    text = GENERIC_CSV.read_text(encoding="utf-8").replace("-2 450,90", "abc")
    result = run(write(tmp_path / "bad.csv", text), format="csv", csv_mapping=GENERIC_MAPPING)
    assert result.status == "failed" and result.transactions == []
    assert result.error == "bad.csv, row 5: the amount 'abc' is not a number; nothing was imported."
    text = GENERIC_CSV.read_text(encoding="utf-8").replace("17.03.2026", "2026-03-17")
    result = run(write(tmp_path / "date.csv", text), format="csv", csv_mapping=GENERIC_MAPPING)
    assert result.error == (
        "date.csv, row 6: the date '2026-03-17' is not a date (expected %d.%m.%Y); nothing was imported."
    )
    assert result.transactions == []


@pytest.mark.parametrize(
    "mapping,message",
    [
        ("date=Date,amount=Amount,colour=Red", "unknown key 'colour'"),
        ("amount=Amount", "names no date column"),
        ("date=Date", "names no amount column"),
        ("date=Date,amount=Amount,decimal=;", "decimal must be , or ."),
        ("date=Date amount=Amount", "names no amount column"),
    ],
)
def test_a_bad_mapping_is_a_sentence(mapping, message):
    with pytest.raises(StatementError, match=message):
        parse_mapping(mapping)


def test_the_mapping_syntax_allows_commas_and_semicolons_as_values():
    mapping = parse_mapping("date=Datum,amount=Částka,decimal=,,delimiter=;,message=Zpráva+Poznámka")
    assert mapping.decimal == "," and mapping.delimiter == ";"
    assert mapping.columns == {"date": ["Datum"], "amount": ["Částka"], "message": ["Zpráva", "Poznámka"]}
    assert parse_mapping("date=D,amount=A,delimiter=tab").delimiter == "\t"


def test_a_generic_csv_without_any_currency_is_refused_before_reading(tmp_path):
    result = run(GENERIC_CSV, format="csv", csv_mapping="date=Date,amount=Amount")
    assert result.status == "failed" and "names no currency column" in result.error


def test_a_mapping_that_does_not_match_the_header_says_so(tmp_path):
    result = run(GENERIC_CSV, format="csv", csv_mapping="date=Booked,amount=Amount,currency=Currency")
    assert result.status == "failed"
    assert result.error.startswith(
        "generic-bank.csv: no header line with the mapped columns (Booked, Amount, Currency) was found"
    )


# -- re-import and folders --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source,settings",
    [
        (CAMT / "camt053.v2.multi.statement.xml", {}),
        (FIO_CSV, {}),
        (GENERIC_CSV, {"csv_mapping": GENERIC_MAPPING}),
    ],
)
def test_importing_the_same_file_twice_creates_nothing_new(source, settings):
    with PluginTestKit(BankStatementImport, settings={"path": str(source), **settings}) as kit:
        first = kit.run()
        second = kit.run()
    assert first.created > 0
    assert (second.status, second.created, second.updated, second.skipped) == ("completed", 0, 0, first.created)
    assert [tx.id for tx in second.transactions] == [tx.id for tx in first.transactions]
    assert second.metadata["files"] == [source.name]  # a single file is read on every sync


def test_a_folder_resync_reads_only_new_or_changed_files(tmp_path):
    folder = tmp_path / "statements"
    folder.mkdir()
    shutil.copy(CAMT / "camt053.v2.multi.statement.xml", folder / "2026-01.xml")
    write(folder / "notes.txt", "not a statement")
    with PluginTestKit(BankStatementImport, settings={"path": str(folder), "csv_mapping": GENERIC_MAPPING}) as kit:
        first = kit.run()
        assert first.created == 2 and first.metadata["files"] == ["2026-01.xml"]
        assert logged(first, "1 statement file(s), 1 new or changed, 0 already imported; 1 other file(s) ignored")
        assert list(first.state["files"]) == [str((folder / "2026-01.xml").resolve())]

        shutil.copy(FIO_CSV, folder / "2026-03.csv")
        second = kit.run()
        assert second.created == 5 and second.skipped == 0
        assert second.metadata["files"] == ["2026-03.csv"] and second.metadata["unchanged_files"] == ["2026-01.xml"]
        assert logged(second, "2 statement file(s), 1 new or changed, 1 already imported")
        assert not logged(second, "2026-01.xml (camt")

        third = kit.run()
        assert third.processed == 0 and third.created == 0 and third.metadata["files"] == []
        assert third.metadata["unchanged_files"] == ["2026-01.xml", "2026-03.csv"]

        stat = (folder / "2026-01.xml").stat()  # touched: same content, new mtime -> hashed, not parsed
        os.utime(folder / "2026-01.xml", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
        fourth = kit.run()
        assert fourth.processed == 0 and fourth.metadata["files"] == []
        assert logged(fourth, "2026-01.xml: content unchanged since it was imported; not read again.")

        # changed: a statement that grew by one entry is read again; only the new entry is created
        grown = (
            (folder / "2026-01.xml")
            .read_text()
            .replace(
                "</Stmt>\n    </BkToCstmrStmt>",
                f"{ntry('3.00', 'DBIT', ref='EXTRA', ccy='EUR')}</Stmt>\n    </BkToCstmrStmt>",
            )
        )
        assert grown != (folder / "2026-01.xml").read_text()
        write(folder / "2026-01.xml", grown)
        fifth = kit.run()
        assert fifth.metadata["files"] == ["2026-01.xml"]
        assert (fifth.processed, fifth.created, fifth.skipped) == (3, 1, 2)
        assert len(fifth.transactions) == 8


def test_a_failed_folder_run_remembers_nothing_so_the_next_run_retries(tmp_path):
    folder = tmp_path / "statements"
    folder.mkdir()
    shutil.copy(FIO_CSV, folder / "a.csv")
    # a Fio export with a broken amount: a statement that cannot be read fails the run (an unrelated
    # file would be skipped instead: tests/test_statement_limits.py)
    write(folder / "b.csv", "ID pohybu;Datum;Objem;Měna\n1;02.03.2026;12x;CZK\n")
    with PluginTestKit(BankStatementImport, settings={"path": str(folder)}) as kit:
        failed = kit.run()
        assert failed.status == "failed" and "b.csv, row 2: the amount '12x'" in failed.error
        assert failed.transactions == [] and failed.state == {}
        (folder / "b.csv").unlink()
        retried = kit.run()
    assert retried.created == 5 and retried.metadata["files"] == ["a.csv"]


def test_an_empty_folder_is_a_quiet_success(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run(tmp_path / "empty")
    assert result.status == "completed" and result.created == 0
    assert logged(result, "0 statement file(s), 0 new or changed, 0 already imported")


def test_progress_is_reported_per_file_and_per_entry():
    with PluginTestKit(BankStatementImport, settings={"path": str(FIO_CSV)}) as kit:
        result = kit.run()
    assert result.progress == [(1, 1), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]


# -- errors are sentences, and nothing is written -------------------------------------------------------------


def test_a_missing_path_is_refused(tmp_path):
    result = run(tmp_path / "nope.xml")
    assert result.status == "failed" and result.backtrace is None
    assert result.error == (
        f"The statement path {tmp_path / 'nope.xml'} does not exist (check the Statement file or folder setting)."
    )


def test_an_unknown_format_is_refused(tmp_path):
    result = run(write(tmp_path / "notes.csv", "Hello;world\n1;2\n"))
    assert result.status == "failed" and result.transactions == []
    assert result.error.startswith("notes.csv is in an unknown format")


def test_an_unreadable_encoding_is_refused(tmp_path):
    result = run(write(tmp_path / "odd.csv", b"ID pohybu;Datum;Objem\n\x81\x98\x90;1;2\n"))
    assert result.status == "failed"
    assert result.error.startswith("odd.csv is not in a text encoding this plugin reads")


def test_an_empty_file_is_refused(tmp_path):
    result = run(write(tmp_path / "empty.xml", b"  \n"))
    assert result.status == "failed" and result.error == "empty.xml is empty; nothing was imported."


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">&b;</Document>',
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Ntry>'
        b"<NtryRef>&x;</NtryRef></Ntry></Stmt></BkToCstmrStmt></Document>",
    ],
    ids=["entity-expansion", "external-entity"],
)
def test_hostile_xml_is_refused(tmp_path, payload):
    result = run(write(tmp_path / "evil.xml", payload))
    assert result.status == "failed" and result.backtrace is None and result.transactions == []
    assert result.error.startswith("evil.xml contains a DTD or entity declarations")
    assert "root:" not in result.stored_text()


def test_broken_xml_other_camt_messages_and_forced_formats_are_sentences(tmp_path):
    broken = run(write(tmp_path / "broken.xml", b"<Document><BkToCstmrStmt>"))
    assert broken.error.startswith("broken.xml is not well-formed XML (")
    report = run(write(tmp_path / "report.xml", camt(ntry(ref="R")).replace(b"camt.053", b"camt.052")))
    assert report.error.startswith("report.xml is a camt.052 file (an account report), not a camt.053")
    other = run(write(tmp_path / "other.xml", b"<invoice/>"))
    assert other.error.startswith("other.xml is XML but not an ISO 20022 camt.053 statement")
    forced = run(FIO_CSV, format="camt053")
    assert forced.error.startswith("fio-export.csv is not XML, so it is not a camt.053 statement")
    assert all(r.transactions == [] for r in (broken, report, other, forced))


@pytest.mark.parametrize(
    "entry,message",
    [
        (ntry("12,50", ref="R"), "the amount '12,50' is not a number"),
        (ntry("1.00", "XXXX", ref="R"), "the credit/debit indicator (CdtDbtInd) is XXXX"),
        (ntry("1.00", ref="R", day="31.12.2026"), "the booking date '31.12.2026' is not a date"),
    ],
)
def test_a_bad_camt_entry_names_file_statement_and_entry(tmp_path, entry, message):
    result = run(write(tmp_path / "s.xml", camt(ntry("1.00", ref="OK"), entry)))  # the second entry is bad
    assert result.status == "failed" and result.transactions == []
    assert result.error.startswith(f"s.xml, statement S-2026-03, entry 2: {message}")
