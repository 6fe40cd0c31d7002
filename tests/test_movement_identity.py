"""The identity of a bank movement (issue 15, kinds 4 and 9).

A booked movement never changes its amount, direction, currency or date. So an id that arrives again
with other such facts is a different movement that reuses a bank reference (another file, another
export): both are kept, the newcomer under an id derived from its facts, and a warning says so;
never an overwrite. And the same movement arriving through two plugins (the Fio API and a Fio CSV
export both name it ``fio:<movement id>``) is stored once, so it can never pay an invoice twice.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from fio_server import TOKEN, FioServer, movement
from test_matching import books, sent_invoice  # noqa: F401 - books is a fixture
from test_statement import camt, ntry, txdtls, write

from core.banking.matching import match_transactions
from core.platform import plugin_config
from core.platform.sync import run_sync
from core.plugins import use_plugins
from core.plugins.base import Plugin
from core.plugins.fio import FioPlugin
from core.plugins.statement import BankStatementImport
from core.plugins.testing import PluginTestKit
from core.store.audit import AuditRecord
from core.store.models import Invoice, MoneyTransaction

ACCOUNT = "CZ6508000000192000145399"


def stored(source: str | None = None) -> list[tuple]:
    query = MoneyTransaction.select().order_by(MoneyTransaction.id)
    if source:
        query = query.where(MoneyTransaction.source == source)
    return [(t.external_id, t.transaction_type, t.amount, t.transacted_on) for t in query]


# -- the rule in the engine, for any plugin ---------------------------------------------------------


class Sender(Plugin):
    name = "sender"
    version = "1.0.0"
    SENT: list[tuple] = []

    def sync(self, ctx):
        for external_id, amount, day in type(self).SENT:
            ctx.upsert_transaction(
                external_id=external_id,
                transaction_type="income",
                amount=amount,
                currency="CZK",
                transacted_on=day,
                description="sent",
            )


@pytest.fixture
def sender():
    with PluginTestKit(Sender) as kit:
        yield kit


def test_a_reused_id_with_another_amount_in_one_run_keeps_both(sender):
    Sender.SENT = [("R1", "100.00", date(2026, 3, 2)), ("R1", "500.00", date(2026, 3, 5))]
    result = sender.run()
    assert result.ok and result.created == 2
    ids = [row[0] for row in stored()]
    assert ids[0] == "R1" and ids[1].startswith("R1#") and len(ids[1]) == len("R1#") + 10
    assert any("both are kept" in line and "500.00 CZK" in line for line in result.log)
    assert sender.run().created == 0  # the same run again: the same two ids, nothing new


def test_a_stored_movement_is_never_overwritten_by_another_with_its_id(sender):
    Sender.SENT = [("R1", "100.00", date(2026, 3, 2))]
    first = sender.run()
    row_id = MoneyTransaction.get(MoneyTransaction.external_id == "R1").id
    records = AuditRecord.select().where(AuditRecord.row_id == row_id).count()

    for amount, day in (("250.00", date(2026, 3, 2)), ("100.00", date(2026, 4, 1))):
        Sender.SENT = [("R1", amount, day)]
        result = sender.run()
        assert (result.created, result.updated) == (1, 0), result.log
        assert any("a booked movement never changes" in line for line in result.log)
    again = sender.run()
    assert (again.created, again.updated, again.skipped) == (0, 0, 1)  # found under its derived id

    original = MoneyTransaction.get_by_id(row_id)
    assert (original.external_id, original.amount, original.transacted_on) == ("R1", 10000, date(2026, 3, 2))
    assert AuditRecord.select().where(AuditRecord.row_id == row_id).count() == records
    assert sorted(row[2] for row in stored()) == [10000, 10000, 25000]
    assert first.created == 1


def test_the_same_movement_with_a_new_text_is_still_an_update(sender):
    Sender.SENT = [("R1", "100.00", date(2026, 3, 2))]
    sender.run()

    def corrected(self, ctx):
        ctx.upsert_transaction(
            external_id="R1",
            transaction_type="income",
            amount="100.00",
            currency="CZK",
            transacted_on=date(2026, 3, 2),
            description="corrected",
        )

    Sender.sync = corrected
    try:
        result = sender.run()
    finally:
        del Sender.sync
    assert (result.created, result.updated) == (0, 1)
    assert MoneyTransaction.get(MoneyTransaction.external_id == "R1").description == "corrected"


# -- statements whose bank references collide ------------------------------------------------------


def statement(*entries) -> bytes:
    return camt(*entries, account=ACCOUNT)


def test_two_files_reusing_a_bank_reference_keep_both_movements(tmp_path):
    folder = tmp_path / "statements"
    write(folder / "2026-03.xml", statement(ntry("1000.00", "CRDT", day="2026-03-02", ref="0001")))
    write(folder / "2026-04.xml", statement(ntry("75.50", "DBIT", day="2026-04-02", ref="0001")))
    with PluginTestKit(BankStatementImport, settings={"path": str(folder)}) as kit:
        result = kit.run()
        movements = sorted((row[1], row[2], row[3]) for row in stored())
    assert result.ok and result.created == 2
    assert movements == [("expense", 7550, date(2026, 4, 2)), ("income", 100000, date(2026, 3, 2))]
    assert any(f"{ACCOUNT}:0001" in line and "both are kept" in line for line in result.log)


def test_a_folder_of_colliding_statements_imports_each_movement_once_and_a_rerun_creates_nothing(tmp_path):
    folder = tmp_path / "statements"
    expected = []
    for month in range(1, 7):  # six monthly files, each numbering its entries 1, 2, 3 again
        entries = []
        for number in range(1, 4):
            amount, day = f"{month * 100 + number}.00", f"2026-{month:02d}-{number + 10:02d}"
            entries.append(ntry(amount, "CRDT", day=day, ref=f"{number:04d}", details=[txdtls(ustrd=["x"])]))
            expected.append((month * 100 + number) * 100)
        write(folder / f"2026-{month:02d}.xml", statement(*entries))
    # and one export overlapping March: the same movements again, which are the same movements
    shutil.copy(folder / "2026-03.xml", folder / "2026-03-again.xml")

    with PluginTestKit(BankStatementImport, settings={"path": str(folder)}) as kit:
        first = kit.run()
        assert first.ok, first.error
        assert sorted(row[2] for row in stored()) == sorted(expected)
        assert first.created == 18

        # The same files read again from another folder (nothing known about them): nothing is new.
        copy = tmp_path / "copy"
        shutil.copytree(folder, copy)
        kit.configure(settings={"path": str(copy)})
        again = kit.run()
        assert len(stored()) == 18
    assert again.ok and (again.created, again.updated) == (0, 0) and again.skipped == 18


# -- the same movement through two plugins -----------------------------------------------------------


FIO_CSV_HEADER = (
    '"accountId";"1234567890"\n"bankId";"2010"\n"currency";"CZK"\n"iban";"CZ1220100000001234567890"\n'
    '"bic";"FIOBCZPPXXX"\n"openingBalance";"2 543,81"\n"closingBalance";"2 060,52"\n'
    '"dateStart";"03.08.2016"\n"dateEnd";"03.08.2016"\n"idFrom";"10000000002"\n"idTo";"10000000001"\n\n'
    '"ID pohybu";"Datum";"Objem";"Měna";"Protiúčet";"Název protiúčtu";"Kód banky";"Název banky";"KS";"VS";'
    '"SS";"Poznámka";"Zpráva pro příjemce";"Typ";"Provedl";"Upřesnění";"Komentář";"BIC";"ID pokynu"\n'
)


def fio_csv_export(path: Path) -> Path:
    """The two movements of the shared Fio API fixture, as Fio's CSV export of the same account writes them."""
    rows = [
        '"10000000002";"03.08.2016";"-130,00";"CZK";"";"";"";"";"";"5678";"";"Nákup: ORDR";"";"Platba kartou";'
        '"Javorek, Jan";"";"";"";"12210748893"',
        '"10000000001";"03.08.2016";"-353,29";"CZK";"";"";"";"";"";"1234";"";"Nákup: Billa";"";"Platba kartou";'
        '"Javorek, Jan";"";"";"";"12210832097"',
    ]
    return write(path, FIO_CSV_HEADER + "\n".join(rows) + "\n")


@pytest.fixture
def both_plugins(database, tmp_path, monkeypatch):
    monkeypatch.setattr(FioPlugin, "sleep", lambda self, seconds: server.clock.advance(seconds))
    with FioServer() as server:
        use_plugins(None)
        plugin_config.configure(
            "fio", {"base_url": server.base_url, "timeout": 1, "start_date": "2016-08-01"}, {"token": TOKEN}
        )
        plugin_config.configure("bank-statement", {"path": str(fio_csv_export(tmp_path / "fio.csv"))})
        for name in ("fio", "bank-statement"):
            plugin_config.set_enabled(name, True)
        yield server
        use_plugins(None)


@pytest.mark.parametrize("order", [("fio", "bank-statement"), ("bank-statement", "fio")])
def test_a_movement_from_the_fio_api_and_a_fio_csv_export_is_stored_once(both_plugins, order):
    first, second = (run_sync(name) for name in order)
    assert first.status == second.status == "completed", (first.error, second.error)
    assert first.counts.created == 2
    assert (second.counts.created, second.counts.skipped) == (0, 2)
    assert any(f"already imported by {order[0]}" in line for line in second.log)
    assert sorted(row[0] for row in stored()) == ["fio:10000000001", "fio:10000000002"]
    assert {t.source for t in MoneyTransaction.select()} == {order[0]}


def test_a_payment_seen_by_both_plugins_pays_its_invoice_once(both_plugins, books, tmp_path):  # noqa: F811
    invoice = sent_invoice(books.acme, "500", issued_on=date(2016, 7, 20))
    payment = movement(10000000003, "2016-08-03", "500.00", vs=invoice.variable_symbol)
    both_plugins.add(payment)  # the API serves it beside the two card payments
    csv = fio_csv_export(tmp_path / "fio.csv")
    csv.write_text(
        csv.read_text(encoding="utf-8")
        + f'"10000000003";"03.08.2016";"500,00";"CZK";"";"";"";"";"";"{invoice.variable_symbol}";"";"";"";'
        '"Bezhotovostní příjem";"";"";"";"";""\n',
        encoding="utf-8",
    )
    csv_run, api_run = run_sync("bank-statement"), run_sync("fio")
    assert csv_run.status == api_run.status == "completed", (csv_run.error, api_run.error)
    assert MoneyTransaction.select().where(MoneyTransaction.invoice == invoice).count() == 1
    assert Invoice.get_by_id(invoice.id).status == "paid"
    match_transactions()
    assert MoneyTransaction.select().where(MoneyTransaction.invoice == invoice).count() == 1
    assert MoneyTransaction.select().where(MoneyTransaction.external_id == "fio:10000000003").count() == 1
