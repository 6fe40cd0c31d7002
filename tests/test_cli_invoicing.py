"""The headless CLI (``fakturka.launcher.main``): clients, projects, logging, the timer, invoices, the profile."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from helpers import db_state

from core.store.audit import AuditRecord
from core.store.models import Client, Invoice, MoneyTransaction, Project, WorkEntry

IBAN = "CZ6508000000192000145399"


@pytest.fixture
def books(ok):
    """A profile, a client with two projects, and some logged work."""
    ok("profile", "edit", "--set", "name=Jana Nováková", "--set", f"iban={IBAN}", "--set", "default_hourly_rate=1000")
    ok(
        "client",
        "add",
        "Acme s.r.o.",
        "--rate",
        "1200",
        "--terms",
        "30",
        "--email",
        "ucetni@acme.cz",
        "--ico",
        "27082440",
    )
    ok("project", "add", "Acme", "Web", "--rate", "1500")
    ok("project", "add", "Acme", "Ops")
    ok("log", "Web", "1h30m", "Checkout", "--date", "2026-03-02")
    ok("log", "Acme/Ops", "45", "Backups", "--date", "2026-03-03")
    ok("log", "Web", "2h", "Search", "--date", "2026-04-01")
    return None


# -- clients and projects ----------------------------------------------------------------


def test_client_add_list_edit_archive(ok):
    out = ok(
        "client",
        "add",
        "Acme s.r.o.",
        "--email",
        "a@acme.cz",
        "--ico",
        "27082440",
        "--dic",
        "cz27082440",
        "--rate",
        "1 200,50",
        "--terms",
        "21",
        "--address",
        "Street 1\\nPraha",
    )
    assert "Added client Acme s.r.o." in out
    ok(
        "client",
        "add",
        "Nordlicht GmbH",
        "--country",
        "de",
        "--dic",
        "DE811907980",
        "--currency",
        "eur",
        "--language",
        "en",
    )
    rows = json.loads(ok("client", "list", "--json"))
    assert [r["name"] for r in rows] == ["Acme s.r.o.", "Nordlicht GmbH"]
    acme, nord = rows
    assert (acme["ico"], acme["dic"], acme["hourly_rate"], acme["payment_terms_days"], acme["address"]) == (
        "27082440",
        "CZ27082440",
        "1200.50",
        21,
        "Street 1\nPraha",
    )
    assert (nord["country"], nord["currency"], nord["language"], nord["hourly_rate"]) == ("DE", "EUR", "en", None)

    ok("client", "edit", "acme", "--name", "Acme a.s.", "--rate", "1300")
    stored = Client.get_by_id(acme["id"])
    assert (stored.name, stored.hourly_rate) == ("Acme a.s.", 130000)
    assert "Acme a.s." in ok("client", "list")

    ok("client", "archive", "Nordlicht")
    assert [r["name"] for r in json.loads(ok("client", "list", "--json"))] == ["Acme a.s."]
    everyone = json.loads(ok("client", "list", "--all", "--json"))
    assert [(r["name"], r["archived"]) for r in everyone] == [("Acme a.s.", False), ("Nordlicht GmbH", True)]
    ok("client", "archive", "Nordlicht", "--undo")
    assert len(json.loads(ok("client", "list", "--json"))) == 2

    records = AuditRecord.select().where(AuditRecord.table_name == "clients")
    assert records.count() == 5  # 2 creates, 1 edit, archive, unarchive
    assert {r.source for r in records} == {"manual"}


def test_project_add_list_edit_archive(ok):
    ok("client", "add", "Acme")
    ok("client", "add", "Beta", "--currency", "EUR")
    out = ok("project", "add", "Acme", "Web", "--rate", "1500", "--vat-rate", "12")
    assert "Added project Acme / Web" in out
    ok("project", "add", "Beta", "Web")
    ok("project", "add", "Beta", "API", "--rate", "80")
    rows = json.loads(ok("project", "list", "--json"))
    assert [(r["client"], r["name"], r["hourly_rate"]) for r in rows] == [
        ("Acme", "Web", "1500.00"),
        ("Beta", "API", "80.00"),
        ("Beta", "Web", None),
    ]
    assert rows[0]["vat_rate"] == "12"
    assert [r["name"] for r in json.loads(ok("project", "list", "--client", "Beta", "--json"))] == ["API", "Web"]
    ok("project", "edit", "Beta/Web", "--name", "Website", "--rate", "90")
    web = Project.get(Project.name == "Website")
    assert (web.client.name, web.hourly_rate) == ("Beta", 9000)
    ok("project", "archive", "Beta/API")
    assert [r["name"] for r in json.loads(ok("project", "list", "--json"))] == ["Web", "Website"]
    assert len(json.loads(ok("project", "list", "--all", "--json"))) == 3


def test_ambiguous_project_is_refused_with_the_options(ok, refused):
    ok("client", "add", "Acme")
    ok("client", "add", "Beta")
    ok("project", "add", "Acme", "Web")
    ok("project", "add", "Beta", "Web")
    line = refused("log", "Web", "1h", "work")
    assert "ambiguous" in line and "Acme / Web" in line and "Beta / Web" in line


def test_czech_names_work_on_the_command_line(ok):
    """The demo's own client and project names must be usable as typed."""
    ok("profile", "edit", "--set", "name=Jana", "--set", "default_hourly_rate=1000")
    ok("client", "add", "Pekárna U Šťastných s.r.o.")
    ok("project", "add", "Pekárna U Šťastných s.r.o.", "Údržba webu")
    ok("log", "Údržba webu", "1h", "Aktualizace", "--date", "2026-03-02")
    ok("invoice", "create", "--client", "Pekárna U Šťastných s.r.o.", "--date", "2026-03-31")
    assert Invoice.select().count() == 1


def test_duplicate_project_refused(ok, refused):
    ok("client", "add", "Acme")
    ok("project", "add", "Acme", "Web")
    assert "already has a project called 'Web'" in refused("project", "add", "Acme", "Web")


# -- logging and the timer -------------------------------------------------------------------


def test_log_time_and_fixed_amounts(books, ok):
    entries = list(WorkEntry.select().order_by(WorkEntry.id))
    assert [(e.kind, e.minutes, e.date.isoformat(), e.description) for e in entries] == [
        ("time", 90, "2026-03-02", "Checkout"),
        ("time", 45, "2026-03-03", "Backups"),
        ("time", 120, "2026-04-01", "Search"),
    ]
    out = ok("log", "Web", "0", "Server setup", "--fixed", "5000", "--date", "2026-03-04")
    assert "5000.00 CZK" in out
    fixed = WorkEntry.select().order_by(WorkEntry.id.desc()).first()
    assert (fixed.kind, fixed.fixed_amount, fixed.minutes, fixed.date) == ("fixed", 500000, None, date(2026, 3, 4))
    ok("log", "Web", "30", "Call", "--non-billable", "--date", "2026-03-05")
    ok("log", "Web", "1:15", "Rush", "--rate", "2000", "--date", "21.3.2026")
    rows = json.loads(ok("entries", "--json"))
    by_desc = {r["description"]: r for r in rows}
    assert by_desc["Rush"]["date"] == "2026-03-21" and by_desc["Rush"]["amount"] == "2500.00"
    assert by_desc["Call"]["state"] == "non-billable"
    assert by_desc["Server setup"]["amount"] == "5000.00"
    assert len(json.loads(ok("entries", "--unbilled", "--json"))) == 5
    today = WorkEntry.select().count()
    ok("log", "Web", "1.5h", "No date given")
    assert WorkEntry.select().count() == today + 1
    assert WorkEntry.select().order_by(WorkEntry.id.desc()).first().date == date.today()


@pytest.mark.parametrize(
    "fixed, problem",
    [
        ("1,500", "'1,500' could be 1.5 or 1500"),
        ("12.3456", "12.3456 has more decimals than CZK has (2)"),
        ("0.001", "0.001 has more decimals than CZK has (2)"),
        ("1e400", "1E+400 is too large an amount of money"),
        ("99999999999999999999", "is too large an amount of money"),
    ],
)
def test_a_fixed_amount_that_is_ambiguous_too_precise_or_too_large_is_refused(books, refused, fixed, problem):
    # Before: 1,500 was logged as 1.50, 12.345 as 12.35, 0.001 as a 0.00 entry, and 1e400 / 10^20
    # ended in a traceback.
    assert problem in refused("log", "Web", "0", "Server", "--fixed", fixed)


def test_an_hourly_rate_too_large_is_refused(books, refused):
    assert "is too large an amount of money" in refused("client", "edit", "Acme", "--rate", "1e400")


def test_timer_start_status_stop(books, ok, refused):
    assert json.loads(ok("timer", "status", "--json")) is None
    assert "No timer is running" in ok("timer", "status")
    assert "Timer started on Acme s.r.o. / Web" in ok("timer", "start", "Web", "Refactoring")
    status = json.loads(ok("timer", "status", "--json"))
    assert (status["client"], status["project"], status["description"]) == ("Acme s.r.o.", "Web", "Refactoring")
    assert status["elapsed_minutes"] >= 0
    assert "Running on Acme s.r.o. / Web" in ok("timer", "status")
    line = refused("timer", "start", "Ops", "other")
    assert "already running on Acme s.r.o. / Web" in line
    # A running timer is not invoiced.
    entry_id = status["entry"]
    assert "Timer stopped" in ok("timer", "stop")
    stopped = WorkEntry.get_by_id(entry_id)
    assert stopped.minutes >= 1 and stopped.ended_at is not None
    assert "No timer is running" in refused("timer", "stop")


def test_running_timer_is_left_out_of_the_invoice(books, ok):
    ok("timer", "start", "Web", "ongoing")
    ok("invoice", "create", "--client", "Acme", "--date", "2026-04-30")
    running = WorkEntry.get(WorkEntry.description == "ongoing")
    assert running.invoice_line_id is None and running.minutes is None


# -- invoices -------------------------------------------------------------------------------------


def test_dry_run_creates_nothing(books, ok):
    before = db_state()
    out = ok("invoice", "create", "--client", "Acme", "--dry-run")
    assert "nothing created" in out
    assert "from 3 entries" in out
    assert db_state() == before


def test_invoice_create_list_show(books, ok):
    out = ok("invoice", "create", "--client", "Acme", "--until", "2026-03-31", "--date", "2026-04-01")
    assert "Created draft invoice 20260001" in out
    assert "VS 20260001" in out
    invoice = Invoice.get(Invoice.number == "20260001")
    assert invoice.due_on == date(2026, 5, 1)  # the client's 30 days
    rows = json.loads(ok("invoice", "list", "--json"))
    assert len(rows) == 1
    assert rows[0] == {
        "number": "20260001",
        "client": "Acme s.r.o.",
        "status": "draft",
        "issued_on": "2026-04-01",
        "due_on": "2026-05-01",
        "currency": "CZK",
        "total": "3150.00",
        "due": "3150.00",
        "variable_symbol": "20260001",
    }
    detail = json.loads(ok("invoice", "show", "20260001", "--json"))
    fields = ("description", "quantity", "unit", "unit_price", "amount")
    assert [tuple(ln[f] for f in fields) for ln in detail["lines"]] == [
        ("Web", "1.50", "h", "1500.00", "2250.00"),
        ("Ops", "0.75", "h", "1200.00", "900.00"),
    ]
    assert (detail["subtotal"], detail["vat_total"], detail["total"], detail["paid"]) == (
        "3150.00",
        "0.00",
        "3150.00",
        "0.00",
    )
    assert detail["taxable_supply_on"] == "2026-03-31"
    assert detail["payments"] == []
    assert detail["supplier"]["iban"] == IBAN and detail["customer"]["ico"] == "27082440"
    text = ok("invoice", "show", "20260001")
    assert "Invoice 20260001" in text and "3150.00 CZK" in text
    # The April entry is still unbilled.
    assert [r["description"] for r in json.loads(ok("entries", "--unbilled", "--json"))] == ["Search"]


def test_invoice_per_entry_and_since(books, ok):
    ok("invoice", "create", "--client", "Acme", "--since", "2026-03-03", "--per-entry", "--date", "2026-04-30")
    detail = json.loads(ok("invoice", "show", "20260001", "--json"))
    assert [ln["description"] for ln in detail["lines"]] == ["2026-03-03 Backups", "2026-04-01 Search"]


def test_invoice_status_commands(books, ok, refused):
    issued = date.today() - timedelta(days=90)  # due 30 days later, so overdue by now
    paid_on = issued + timedelta(days=40)
    number = f"{issued.year}0001"
    ok("invoice", "create", "--client", "Acme", "--date", issued.isoformat())
    assert json.loads(ok("invoice", "list", "--status", "overdue", "--json")) == []  # a draft is never overdue
    assert "marked sent" in ok("invoice", "send", number, "--date", issued.isoformat())
    assert Invoice.get(Invoice.number == number).status == "sent"
    rows = json.loads(ok("invoice", "list", "--status", "overdue", "--json"))
    assert [(r["number"], r["status"]) for r in rows] == [(number, "overdue")]
    assert Invoice.get(Invoice.number == number).status == "sent"  # derived, not stored
    assert "only a draft can be sent" in refused("invoice", "send", number)
    invoice = Invoice.get(Invoice.number == number)
    MoneyTransaction.create(
        source="fio",
        transaction_type="income",
        amount=100000,
        currency="CZK",
        transacted_on=paid_on,
        reference=number,
        invoice=invoice,
    )
    detail = json.loads(ok("invoice", "show", number, "--json"))
    assert (detail["total"], detail["paid"], detail["due"]) == ("6150.00", "1000.00", "5150.00")
    assert detail["payments"] == [
        {"id": 1, "date": paid_on.isoformat(), "amount": "1000.00", "source": "fio", "reference": number}
    ]
    assert f"marked paid on {paid_on.isoformat()}" in ok("invoice", "pay", number, "--date", paid_on.isoformat())
    assert [r["number"] for r in json.loads(ok("invoice", "list", "--status", "paid", "--json"))] == [number]
    assert json.loads(ok("invoice", "list", "--status", "overdue", "--json")) == []
    assert "paid invoice cannot be cancelled" in refused("invoice", "cancel", number, "--yes")
    assert "cannot be marked paid" in refused("invoice", "pay", number)


def test_invoice_cancel_and_delete(books, ok, refused):
    ok("invoice", "create", "--client", "Acme", "--until", "2026-03-31", "--date", "2026-04-01")
    ok("invoice", "create", "--client", "Acme", "--date", "2026-04-02")
    # Confirmation is needed; without a terminal only --yes gives it.
    assert "--yes" in refused("invoice", "cancel", "20260001")
    assert "not the newest" in refused("invoice", "delete", "20260001", "--yes")
    assert "cancelled" in ok("invoice", "cancel", "20260001", "--yes")
    assert Invoice.get(Invoice.number == "20260001").status == "cancelled"
    assert len(json.loads(ok("entries", "--unbilled", "--json"))) == 2
    assert "deleted" in ok("invoice", "delete", "20260002", "--yes")
    assert Invoice.select().count() == 1
    assert len(json.loads(ok("entries", "--unbilled", "--json"))) == 3
    out = ok("invoice", "create", "--client", "Acme", "--date", "2026-04-03")
    assert "20260002" in out  # the deleted draft's number is reused; the cancelled one's is not


def test_billed_entry_cannot_be_changed_from_the_cli(books, ok):
    ok("invoice", "create", "--client", "Acme", "--date", "2026-04-30")
    assert WorkEntry.select().where(WorkEntry.invoice_line.is_null()).count() == 0
    assert [r["state"] for r in json.loads(ok("entries", "--json"))] == ["billed"] * 3


# -- the profile ------------------------------------------------------------------------------------


def test_profile_edit_and_show(ok):
    ok(
        "profile",
        "edit",
        "--set",
        "name=Jana Nováková",
        "--set",
        "iban=cz65 0800 0000 1920 0014 5399",
        "--set",
        "ico=25596641",
        "--set",
        "dic=CZ25596641",
        "--set",
        "bank-account=19-2000145399/0800",
        "--set",
        "vat_payer=yes",
        "--set",
        "default_hourly_rate=1500",
        "--set",
        "invoice_number_pattern=FV-{yy}-{seq:03}",
    )
    data = json.loads(ok("profile", "show", "--json"))
    assert data["name"] == "Jana Nováková"
    assert data["iban"] == IBAN
    assert data["bank_account"] == "19-2000145399/0800"
    assert data["vat_payer"] is True
    assert data["default_hourly_rate"] == "1500.00"
    assert data["invoice_number_pattern"] == "FV-{yy}-{seq:03}"
    assert "Jana Nováková" in ok("profile", "show")
    records = AuditRecord.select().where(AuditRecord.table_name == "business_profile")
    assert records.count() == 1 and records[0].source == "manual"


# -- wrong input: non-zero, one sentence, nothing changed -------------------------------------------


def test_unknown_client(books, refused):
    assert "no client called 'Nobody'" in refused("invoice", "create", "--client", "Nobody")
    assert "no client called 'Nobody'" in refused("project", "add", "Nobody", "Web")
    assert "no client called 'Nobody'" in refused("client", "edit", "Nobody", "--rate", "5")


def test_unknown_project_and_invoice(books, refused):
    assert "no project called 'Mobile'" in refused("log", "Mobile", "1h", "x")
    assert "has no project called 'Mobile'" in refused("log", "Acme/Mobile", "1h", "x")
    assert "no invoice '2026999'" in refused("invoice", "show", "2026999")


@pytest.mark.parametrize("duration", ["-30", "-1h", "0", "abc", "25h"])
def test_bad_duration(books, refused, duration):
    line = refused("log", "Web", duration, "x")
    assert any(word in line for word in ("duration", "longer than a day")), line


@pytest.mark.parametrize(
    "argv",
    [
        ("log", "Web", "1h", "x", "--date", "32.13.2026"),
        ("log", "Web", "1h", "x", "--date", "tomorrowish"),
        ("invoice", "create", "--client", "Acme", "--until", "2026-02-30"),
    ],
)
def test_bad_date(books, refused, argv):
    line = refused(*argv)
    assert "is not a date" in line


def test_invalid_iban_in_profile_edit(books, refused):
    line = refused("profile", "edit", "--set", "iban=CZ6508000000192000145398", "--set", "name=Other")
    assert "IBAN" in line and "check digits" in line


def test_other_refusals(books, ok, refused):
    assert "Unknown profile field" in refused("profile", "edit", "--set", "colour=blue")
    assert "KEY=VALUE" in refused("profile", "edit", "--set", "iban")
    assert "IČO" in refused("client", "add", "Bad", "--ico", "12345678")
    assert "more than zero" in refused("log", "Web", "0", "x", "--fixed", "-5")
    assert "Nothing to change" in refused("client", "edit", "Acme")
    ok("invoice", "create", "--client", "Acme", "--date", "2026-04-30")
    assert "no unbilled billable entries" in refused("invoice", "create", "--client", "Acme")
    assert "no unbilled billable entries" in refused("invoice", "create", "--client", "Acme", "--dry-run")
    assert "Unknown status" in refused("invoice", "list", "--status", "lost")


def test_archived_project_and_client_refused_for_new_work(books, ok, refused):
    ok("project", "archive", "Acme/Ops")
    ops = Project.get(Project.name == "Ops")
    archived = f"Acme s.r.o. / Ops is archived; restore it first ('fakturka project archive {ops.id} --undo')."
    assert refused("log", "Ops", "1h", "x") == f"fakturka: {archived}"
    assert refused("timer", "start", "Acme/Ops") == f"fakturka: {archived}"
    ok("client", "archive", "Acme")
    assert "Acme s.r.o. is archived; restore it first" in refused("invoice", "create", "--client", "Acme")
    assert "the client Acme s.r.o. is archived" in refused("log", "Web", "1h", "x")


def test_cli_writes_are_audited_as_manual(books, ok):
    ok("invoice", "create", "--client", "Acme", "--date", "2026-04-30")
    ok("invoice", "send", "20260001", "--date", "2026-04-30")
    sources = {r.source for r in AuditRecord.select()}
    assert sources == {"manual"}
    tables = {r.table_name for r in AuditRecord.select()}
    assert {"business_profile", "clients", "projects", "work_entries", "invoices", "invoice_lines"} <= tables


def test_unreadable_database_exits_2(cli, tmp_path):
    bogus = tmp_path / "not-a-db.txt"
    bogus.write_text("hello, this is not SQLite")
    code, out, err = cli("--db", str(bogus), "client", "list")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "not a Fakturka database" in err
    assert bogus.read_text() == "hello, this is not SQLite"


def test_timer_status_elapsed_is_computed_from_the_stored_start(books, ok):
    ok("timer", "start", "Web")
    entry = WorkEntry.get(WorkEntry.started_at.is_null(False))
    entry.started_at = entry.started_at - timedelta(minutes=95)
    entry.save()
    status = json.loads(ok("timer", "status", "--json"))
    assert status["elapsed_minutes"] in (95, 96)
    text = ok("timer", "status")
    assert "for 1:35" in text or "for 1:36" in text


@pytest.mark.parametrize("argv", [["entries"], ["entries", "--json"]])
def test_output_into_a_closed_pipe_ends_quietly(ok, argv):
    """`fakturka entries | head -1`: the reader stops early. Python printed a BrokenPipeError traceback
    (twice: once more when flushing at exit); now the command ends quietly, as Unix tools do."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    ok("demo")
    # Closing our end before the command has written a byte (it is still starting up) makes its first
    # write hit a pipe with no reader, whatever the size of its output.
    process = subprocess.Popen(
        [sys.executable, "-m", "fakturka.launcher", *argv],
        cwd=Path(__file__).parent.parent,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141  # 128 + SIGPIPE, as a shell reports it
    assert stderr == ""


def test_a_pdf_that_cannot_be_written_names_the_file_and_the_reason(books, ok, refused):
    ok("invoice", "create", "--client", "Acme")
    number = Invoice.get().number
    line = refused("invoice", "pdf", number, "-o", "/proc/no-such-dir/x.pdf")
    assert "/proc/no-such-dir" in line and "No such file or directory" in line


def test_a_pdf_path_with_a_tilde_goes_to_the_home_folder(books, ok, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    (tmp_path / "me").mkdir()
    ok("invoice", "create", "--client", "Acme")
    number = Invoice.get().number
    ok("invoice", "pdf", number, "-o", "~/invoice.pdf")  # quoted in a script: the shell did not expand it
    assert (tmp_path / "me" / "invoice.pdf").read_bytes().startswith(b"%PDF")


def test_a_damaged_database_is_reported_as_damaged_not_as_a_traceback(books, cli):
    from core.store.db import close_database, db

    path = db.database
    root = db.execute_sql("SELECT rootpage FROM sqlite_master WHERE name = 'work_entries'").fetchone()[0]
    close_database()
    # The work entries' first page becomes noise; the file still opens (its schema is intact), and the
    # damage shows only when a command reads the entries.
    page = 4096
    with open(path, "r+b") as file:
        file.seek((root - 1) * page)
        file.write(bytes((i * 7 + 13) % 251 for i in range(page)))
    code, out, err = cli("entries")
    assert code == 1 and "Traceback" not in err + out
    assert err.startswith("fakturka: the database file is damaged (")
    assert "Restore it from a backup" in err


def test_client_names_are_unique_in_any_case(ok, refused):
    # Before: a second "Acme s.r.o." was accepted, and then neither could be found by its name.
    ok("client", "add", "Acme s.r.o.")
    assert "There is already a client called 'Acme s.r.o.'." in refused("client", "add", "acme S.R.O.")
    ok("client", "add", "Beta a.s.")
    assert "There is already a client called 'Acme s.r.o.'." in refused(
        "client", "edit", "Beta", "--name", "ACME s.r.o."
    )
    ok("client", "archive", "Acme")
    assert "(archived: restore it instead)" in refused("client", "add", "Acme s.r.o.")


def test_an_archived_client_is_named_as_archived_not_as_missing(ok, refused):
    ok("client", "add", "Acme s.r.o.")
    ok("client", "archive", "Acme")
    line = refused("invoice", "create", "--client", "Acme")
    assert "Acme s.r.o. is archived; restore it first ('fakturka client archive 1 --undo'" in line
    assert ok("client", "list").strip() == "No active clients; 1 archived ('fakturka client list --all' shows them)."


def test_a_clients_currency_cannot_change_once_it_has_work(books, ok, refused):
    # Before: the 1500 CZK rate and the logged work silently became 1500 EUR.
    line = refused("client", "edit", "Acme", "--currency", "EUR")
    assert "Acme s.r.o. already has work or invoices in CZK; its currency cannot change." in line
    ok("client", "add", "Fresh GmbH", "--currency", "CZK", "--rate", "1000")
    ok("client", "edit", "Fresh", "--currency", "EUR")  # no work yet: allowed, the rate keeps its face value
    assert json.loads(ok("client", "list", "--json"))[1]["currency"] == "EUR"


def test_invoice_dates_that_cannot_be_are_refused(books, ok, refused):
    ok("invoice", "create", "--client", "Acme", "--date", "2026-04-30")
    number = Invoice.get().number
    assert "is issued on 2026-04-30; it cannot be sent before that (2026-04-01)" in refused(
        "invoice", "send", number, "--date", "2026-04-01"
    )
    ok("invoice", "send", number, "--date", "2026-04-30")
    future = (date.today() + timedelta(days=1)).isoformat()
    assert f"{future} is in the future" in refused("invoice", "pay", number, "--date", future)


def test_the_profile_name_cannot_be_blanked(books, refused):
    assert "The name is required: it heads every invoice." in refused("profile", "edit", "--set", "name=")


@pytest.mark.parametrize(
    "argv", [["entries", "--limit", "0"], ["transactions", "--limit", "-1"], ["history", "--limit", "x"]]
)
def test_a_limit_must_be_a_positive_number(cli, argv):
    code, out, err = cli(*argv)
    assert code == 2 and "--limit" in err and "Traceback" not in err


def test_a_new_invoice_bills_work_up_to_today_by_default_as_in_the_app(books, ok):
    ok("log", "Web", "1h", "planned", "--date", (date.today() + timedelta(days=3)).isoformat())
    ok("invoice", "create", "--client", "Acme")
    future = WorkEntry.get(WorkEntry.description == "planned")
    assert future.invoice_line_id is None  # work dated after today waits for a later invoice
    assert WorkEntry.get(WorkEntry.description == "Checkout").invoice_line_id is not None
