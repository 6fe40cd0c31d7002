"""A preview (``fakturka sync NAME --dry-run``, ``run_sync(..., dry_run=True)``) writes nothing but its run.

For each bundled plugin a dry run leaves every table but ``sync_histories`` byte for byte as it was, and
says what the real run that follows then does: the same counts, the same records skipped and why, the
same invoices marked paid. Its own history row is kept, marked ``preview``.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from fio_server import TOKEN, FioServer, movement

from core.demo import load_demo
from core.platform import plugin_config
from core.platform.sync import run_sync
from core.plugins import use_plugins
from core.plugins.base import Plugin
from core.plugins.fio import FioPlugin
from core.store.db import db
from core.store.models import Client, Invoice, MoneyTransaction, PluginConfiguration, Project, SyncHistory
from core.store.states import InvoiceStatus
from core.values.money import from_minor

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date.today()

# Toggl Track's detailed export: two rows land, one has no project here, one is not billable, one lasts 0 s.
TOGGL = """\
User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags,Amount ()
Jana,jana@example.cz,Acme s.r.o.,Web,,Homepage layout,Yes,2025-03-03,09:00:00,2025-03-03,10:30:00,01:30:00,,
Jana,jana@example.cz,Acme s.r.o.,Web,,Code review,Yes,2025-03-03,13:00:00,2025-03-03,13:45:00,00:45:00,,
Jana,jana@example.cz,Nobody,Unknown project,,Lunch talk,Yes,2025-03-04,12:00:00,2025-03-04,12:30:00,00:30:00,,
Jana,jana@example.cz,Acme s.r.o.,Web,,Coffee,No,2025-03-04,14:00:00,2025-03-04,14:10:00,00:10:00,,
Jana,jana@example.cz,Acme s.r.o.,Web,,Started by mistake,Yes,2025-03-05,08:00:00,2025-03-05,08:00:00,00:00:00,,
"""


def dump() -> dict[str, list[tuple]]:
    """Every row of every table (SQLite's own included) except the run history, in rowid order."""
    tables = [row[0] for row in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    found = {}
    for table in tables:
        if table == "sync_histories":
            continue
        rows = db.execute_sql(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
        if table == "sqlite_sequence":
            rows = [row for row in rows if row[0] != "sync_histories"]
        found[table] = rows
    return found


def counts(outcome) -> tuple[int, int, int, int]:
    c = outcome.counts
    return c.processed, c.created, c.updated, c.skipped


def skip_lines(outcome) -> list[str]:
    return [line.split(" ", 2)[2].strip() for line in outcome.log if " Skipped " in line]


def preview_then_sync(name: str):
    """A dry run (nothing but its history row changes), then the real run; returns both outcomes."""
    before = dump()
    preview = run_sync(name, dry_run=True)
    assert preview.status == "completed", preview.error
    assert dump() == before, "a preview wrote to the database"
    row = SyncHistory.get_by_id(preview.run_id)
    assert row.preview is True and row.status == "completed"
    assert (row.records_processed, row.records_created, row.records_updated, row.records_skipped) == counts(preview)
    assert any("Preview: nothing was saved." in line for line in row.log.splitlines())
    real = run_sync(name)
    assert real.status == "completed", real.error
    assert real.preview is None and SyncHistory.get_by_id(real.run_id).preview is False
    assert counts(real) == counts(preview)
    found = preview.preview
    assert (found.processed, found.created, found.updated, found.unchanged) == counts(real)
    assert skip_lines(real) == skip_lines(preview)
    return preview, real


# -- fio, against the local Fio server -------------------------------------------------------------


@pytest.fixture
def server():
    with FioServer() as running:
        yield running


@pytest.fixture
def fio(database, server, monkeypatch):
    # The plugin's waits (Fio's one request per 30 s) advance the server's clock instead of sleeping.
    monkeypatch.setattr(FioPlugin, "sleep", lambda self, seconds: server.clock.advance(seconds))
    use_plugins(None)
    plugin_config.configure("fio", {"base_url": server.base_url, "timeout": 1}, {"token": TOKEN})
    plugin_config.set_enabled("fio", True)
    yield
    use_plugins(None)


def test_fio_preview_writes_nothing_and_the_real_run_does_what_it_said(fio, server):
    load_demo()
    invoice = (
        Invoice.select()
        .where((Invoice.status == InvoiceStatus.SENT) & (Invoice.currency == "CZK"))
        .order_by(Invoice.id)
        .first()
    )
    server.add(
        movement(21000000001, TODAY - timedelta(days=1), from_minor(invoice.total, "CZK"), vs=invoice.variable_symbol),
        movement(21000000002, TODAY - timedelta(days=2), "-250.00", message="Office supplies"),
    )
    state_before = PluginConfiguration.get(PluginConfiguration.plugin_name == "fio").state

    preview, real = preview_then_sync("fio")
    assert counts(preview) == (2, 2, 0, 0)
    assert preview.preview.invoices_paid == [invoice.number]
    assert Invoice.get_by_id(invoice.id).status == InvoiceStatus.PAID  # by the real run
    assert real.metadata["paid_invoices"] == [invoice.number]
    assert state_before == {}  # the preview left the cursor alone; the real run moved it
    assert PluginConfiguration.get(PluginConfiguration.plugin_name == "fio").state == {"last_date": TODAY.isoformat()}

    # Run again: everything is there, a preview now says so.
    again = run_sync("fio", dry_run=True)
    assert counts(again) == (2, 0, 0, 2) and again.preview.invoices_paid == []


# -- bank-statement, a folder of statements ------------------------------------------------------------


def entry(amount: str, ref: str, *, status: str = "BOOK", vs: str = "") -> str:
    remittance = f"<RmtInf><Strd><CdtrRefInf><Ref>{vs}</Ref></CdtrRefInf></Strd></RmtInf>" if vs else ""
    return (
        f'<Ntry><Amt Ccy="CZK">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>{status}</Sts>'
        f"<BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><Dt>2026-03-02</Dt></ValDt>"
        f"<AcctSvcrRef>{ref}</AcctSvcrRef><NtryDtls><TxDtls>{remittance}</TxDtls></NtryDtls></Ntry>"
    )


def camt(*entries: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        "<BkToCstmrStmt><GrpHdr><MsgId>M-1</MsgId><CreDtTm>2026-03-31T18:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>S-2026-03</Id><CreDtTm>2026-03-31T18:00:00</CreDtTm>"
        "<Acct><Id><IBAN>CZ6508000000192000145399</IBAN></Id><Ccy>CZK</Ccy></Acct>"
        f"{''.join(entries)}</Stmt></BkToCstmrStmt></Document>"
    )


def test_bank_statement_folder_preview_reports_the_skips_and_writes_nothing(database, tmp_path):
    use_plugins(None)
    folder = tmp_path / "statements"
    folder.mkdir()
    shutil.copy(FIXTURES / "camt053" / "camt053.v2.minimal.xml", folder / "a-minimal.xml")
    shutil.copy(FIXTURES / "camt053" / "camt053.v4.xml", folder / "b-v4.xml")
    shutil.copy(FIXTURES / "fio-export.csv", folder / "c-fio.csv")
    (folder / "d-march.xml").write_text(
        camt(entry("100.00", "B1"), entry("200.00", "P1", status="PDNG"), entry("0.00", "Z1")), encoding="utf-8"
    )
    (folder / "e-contacts.csv").write_text("Name;Phone\nJana;123\n", encoding="utf-8")
    plugin_config.configure("bank-statement", {"path": str(folder)})
    plugin_config.set_enabled("bank-statement", True)

    preview, real = preview_then_sync("bank-statement")
    found = preview.preview
    assert found.created > 3 and found.created == MoneyTransaction.select().count()
    assert found.skipped == 3
    assert found.skip_reasons == [
        ("entry not booked (pending or information; Include pending entries is off)", 1),
        ("zero amount", 1),
        ("file e-contacts.csv is not a statement", 1),
    ]
    history = SyncHistory.get_by_id(preview.run_id)
    assert history.metadata["preview"]["skip_reasons"] == dict(found.skip_reasons)
    assert history.metadata["skipped_files"] == ["e-contacts.csv"]
    # The real run's history keeps the reasons too: in its log, before the counts.
    assert skip_lines(real) == [
        "Skipped 3: entry not booked (pending or information; Include pending entries is off) (1); "
        "zero amount (1); file e-contacts.csv is not a statement (1)."
    ]
    # The preview left the plugin's memory of the folder alone: the real run read every file.
    assert sorted(real.metadata["files"]) == ["a-minimal.xml", "b-v4.xml", "c-fio.csv", "d-march.xml"]
    second = run_sync("bank-statement", dry_run=True)
    assert counts(second) == (0, 0, 0, 0) and second.metadata["unchanged_files"]


# -- time-csv, a migration from Toggl --------------------------------------------------------------


def test_timecsv_preview_reports_what_would_migrate_and_what_is_skipped(database, tmp_path):
    use_plugins(None)
    acme = Client.create(name="Acme s.r.o.")
    Project.create(client=acme, name="Web")
    export = tmp_path / "toggl.csv"
    export.write_text(TOGGL, encoding="utf-8")
    plugin_config.configure("time-csv", {"path": str(export), "billable_only": "yes"})
    plugin_config.set_enabled("time-csv", True)

    preview, real = preview_then_sync("time-csv")
    assert counts(preview) == (2, 2, 0, 0)
    assert preview.preview.skip_reasons == [
        ("no project Nobody / Unknown project", 1),
        ("not billable (Only billable rows is on)", 1),
        ("no time (a duration of zero)", 1),
    ]
    assert preview.preview.skipped == 3 and preview.preview.invoices_paid == []
    run = SyncHistory.get_by_id(real.run_id)
    assert run.records_created == 2  # migrated
    assert "Skipped 3: no project Nobody / Unknown project (1); not billable (Only billable rows is on) (1); " in (
        run.log
    )
    again = run_sync("time-csv", dry_run=True)
    assert counts(again) == (2, 0, 0, 2) and again.preview.skipped == 3


# -- the demo, from the command line ------------------------------------------------------------------


def test_cli_dry_run_on_the_demo_lists_the_invoices_it_would_pay_and_pays_none(database, cli):
    use_plugins(None)
    load_demo()
    sent = {i.number for i in Invoice.select().where(Invoice.status == InvoiceStatus.SENT)}
    before = dump()

    code, out, err = cli("sync", "bank-statement", "--dry-run")
    assert (code, err) == (0, ""), err
    lines = out.splitlines()
    assert "Preview (dry run)" in lines[1]
    would = next(line for line in lines if line.startswith("Would mark paid: "))
    numbers = would.removeprefix("Would mark paid: ").split(", ")
    assert numbers and set(numbers) <= sent
    assert any(line.startswith("Preview of bank-statement (nothing was saved): ") for line in lines)
    assert dump() == before
    assert {i.number for i in Invoice.select().where(Invoice.status == InvoiceStatus.SENT)} == sent
    run = SyncHistory.select().order_by(SyncHistory.id.desc()).get()
    assert run.preview is True and run.status == "completed" and run.trigger == "cli"
    assert lines[-1] == f"Preview {run.id} completed. Details: fakturka history show {run.id}"

    listed = json.loads(cli("history", "--json")[1])
    assert listed[0]["preview"] is True
    assert "(preview)" in cli("history")[1]
    assert (
        f"Run {run.id}: bank-statement [completed, preview: nothing was saved]"
        in cli("history", "show", str(run.id))[1]
    )

    # The real run then pays exactly those.
    code, out, err = cli("sync", "bank-statement")
    assert code == 0, err
    paid = {i.number for i in Invoice.select().where(Invoice.status == InvoiceStatus.PAID)}
    assert set(numbers) <= paid and not set(numbers) & {
        i.number for i in Invoice.select().where(Invoice.status == InvoiceStatus.SENT)
    }


# -- what any plugin's preview guarantees ---------------------------------------------------------------


class Writer(Plugin):
    """Writes through ctx.apply (a client) and changes its state: a preview keeps neither."""

    name = "writer"
    version = "1.0.0"

    def sync(self, ctx):
        ctx.state["cursor"] = (ctx.state.get("cursor") or 0) + 1
        ctx.skip("duplicate row", 2)

        def add_client():
            Client.create(name=f"From run {ctx.run_id}")
            ctx.counts.created += 1

        ctx.apply(add_client)


class Failing(Plugin):
    name = "failing"
    version = "1.0.0"

    def sync(self, ctx):
        ctx.apply(lambda: Client.create(name="never"))
        raise RuntimeError("the bank hung up")


@pytest.fixture
def own_plugins(database):
    use_plugins([Writer, Failing])
    for name in ("writer", "failing"):
        plugin_config.set_enabled(name, True)
    yield
    use_plugins(None)


def test_a_preview_rolls_back_direct_writes_and_state_and_keeps_its_run(own_plugins):
    before = dump()
    outcome = run_sync("writer", dry_run=True)
    assert outcome.status == "completed" and outcome.counts.created == 1
    assert outcome.preview.skip_reasons == [("duplicate row", 2)]
    assert dump() == before and Client.select().count() == 0
    assert PluginConfiguration.get(PluginConfiguration.plugin_name == "writer").state == {}
    real = run_sync("writer")
    assert real.counts.created == 1 and Client.select().count() == 1
    assert PluginConfiguration.get(PluginConfiguration.plugin_name == "writer").state == {"cursor": 1}


def test_a_failed_preview_is_a_failed_preview_run(own_plugins):
    before = dump()
    outcome = run_sync("failing", dry_run=True)
    assert outcome.status == "failed" and outcome.preview is None
    assert "the bank hung up" in outcome.error
    assert dump() == before
    run = SyncHistory.get_by_id(outcome.run_id)
    assert run.preview is True and run.status == "failed"


def test_skip_refuses_a_count_that_is_not_a_number_of_records(own_plugins):
    class BadSkip(Plugin):
        name = "bad-skip"
        version = "1.0.0"

        def sync(self, ctx):
            ctx.skip("oops", -1)

    use_plugins([BadSkip])
    plugin_config.set_enabled("bad-skip", True)
    outcome = run_sync("bad-skip", dry_run=True)
    assert outcome.status == "failed" and "skip count must be a whole number" in outcome.error
