"""Demo data: a believable dataset for an empty database, and nothing at all for one with data."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest
from helpers import db_state

from core.billing import clients as client_svc
from core.billing import invoicing as inv_svc
from core.billing import payments
from core.billing import profile as profile_svc
from core.billing.timesheet import unbilled_entries
from core.billing.totals import round_half_up
from core.demo import DemoRefused, database_is_empty, load_demo
from core.store import paths
from core.store.audit import AuditRecord
from core.store.db import close_database, open_database
from core.store.models import BusinessProfile, Client, Invoice, MoneyTransaction, Project, WorkEntry
from fakturka.launcher import main

TODAY = date(2026, 6, 15)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    """Load the demo once into a template file; each test gets its own copy (loading takes a while)."""
    base = tmp_path_factory.mktemp("demo-template")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FAKTURKA_HOME", str(base / "home"))
        path = open_database(base / "template.db")
        summary = load_demo(today=TODAY)
        close_database()  # checkpoints the WAL into the file
    return path, summary


@pytest.fixture
def demo(fakturka_home, demo_template):
    template, summary = demo_template
    target = paths.default_db_path()
    shutil.copyfile(template, target)
    open_database(target)
    yield summary
    close_database()


def test_demo_summary_counts(demo):
    assert demo == (f"3 clients, {WorkEntry.select().count()} entries, {Invoice.select().count()} invoices")


def test_demo_profile_is_set_up(demo):
    profile = profile_svc.get_profile()
    assert profile_svc.is_set_up()
    assert profile.iban and profile.bank_account and profile.ico and profile.address
    assert profile.vat_payer is True


def test_demo_has_the_three_kinds_of_client(demo):
    clients = list(Client.select())
    assert len(clients) == 3
    czech = [c for c in clients if c.currency == "CZK" and c.language == "cs"]
    eu = [c for c in clients if c.currency == "EUR" and c.language == "en" and c.dic]
    assert len(czech) == 1 and len(eu) == 1
    other = [c for c in clients if c not in czech + eu]
    assert len(other) == 1
    assert eu[0].country != "CZ"
    for client in clients:
        assert Project.select().where(Project.client == client).exists()
        assert client.hourly_rate is not None
        assert not client.archived
    # The Czech client's name is Czech: diacritics survive the round trip.
    assert any(ch in czech[0].name for ch in "áčďéěíňóřšťúůýž")


def test_demo_invoices_cover_every_status(demo):
    invoices = list(Invoice.select())
    stored = Counter(i.status for i in invoices)
    assert set(stored) == {"draft", "sent", "paid", "cancelled"}
    shown = Counter(inv_svc.display_status(i, today=TODAY) for i in invoices)
    assert shown["overdue"] >= 1
    overdue = [i.number for i in inv_svc.invoices_query("overdue", today=TODAY)]
    assert len(overdue) == shown["overdue"]
    # The EU client's invoices are reverse charge; the Czech client's carry VAT.
    for invoice in invoices:
        if invoice.client.currency == "EUR":
            assert invoice.reverse_charge and invoice.vat_total == 0
        if invoice.client.currency == "CZK":
            assert not invoice.reverse_charge and invoice.vat_total > 0


def test_demo_invoices_add_up(demo):
    for invoice in Invoice.select():
        lines = inv_svc.invoice_lines(invoice)
        assert lines
        for line in lines:
            assert line.amount == round_half_up(Decimal(line.quantity) * Decimal(line.unit_price))
        assert invoice.subtotal == sum(line.amount for line in lines)
        assert invoice.total == invoice.subtotal + invoice.vat_total
        totals = inv_svc.invoice_totals(invoice)
        assert (totals.subtotal, totals.vat_total, totals.total) == (invoice.subtotal, invoice.vat_total, invoice.total)
        assert invoice.due_on > invoice.issued_on
        assert invoice.variable_symbol == invoice.number.lstrip("0")


def test_demo_paid_invoices_have_their_payment(demo):
    for invoice in Invoice.select().where(Invoice.status == "paid"):
        assert payments.amount_paid(invoice) == invoice.total
        assert payments.amount_due(invoice) == 0
        assert invoice.paid_on is not None
    for invoice in Invoice.select().where(Invoice.status == "sent"):
        assert payments.amount_due(invoice) == invoice.total


def test_demo_numbers_are_a_continuous_series(demo):
    by_year: dict[int, list[int]] = {}
    for invoice in Invoice.select():
        by_year.setdefault(invoice.year, []).append(invoice.seq)
        assert invoice.number == f"{invoice.year}{invoice.seq:04d}"
    for seqs in by_year.values():
        assert sorted(seqs) == list(range(1, len(seqs) + 1))


def test_demo_entries_span_about_six_months(demo):
    dates = [e.date for e in WorkEntry.select()]
    assert len(dates) >= 100
    assert min(dates) <= date(2026, 1, 31)
    assert max(dates) <= TODAY
    assert (max(dates) - min(dates)).days >= 150
    months = {(d.year, d.month) for d in dates}
    assert len(months) == 6
    assert WorkEntry.select().where(WorkEntry.kind == "fixed").exists()
    assert WorkEntry.select().where(WorkEntry.billable == False).exists()  # noqa: E712
    # Some recent work is still waiting to be invoiced.
    assert any(list(unbilled_entries(c)) for c in Client.select())


def test_demo_writes_are_audited_as_demo(demo):
    sources = Counter(r.source for r in AuditRecord.select())
    assert set(sources) == {"demo"}
    assert sources["demo"] >= WorkEntry.select().count()


def test_demo_across_a_new_year(database):
    load_demo(today=date(2026, 2, 10))
    years = Counter(i.year for i in Invoice.select())
    assert set(years) == {2025, 2026}
    for year in years:
        seqs = sorted(i.seq for i in Invoice.select().where(Invoice.year == year))
        assert seqs == list(range(1, len(seqs) + 1))


def test_second_load_is_refused_and_changes_nothing(demo):
    before = db_state()
    with pytest.raises(DemoRefused) as caught:
        load_demo(today=TODAY)
    assert "already has data" in str(caught.value)
    assert db_state() == before


@pytest.mark.parametrize("what", ["profile", "client"])
def test_demo_refuses_any_database_with_data(database, what):
    if what == "profile":
        profile_svc.update_profile({"name": "Real Person"})
    else:
        client_svc.add_client(name="Real Client")
    assert not database_is_empty()
    before = db_state()
    with pytest.raises(DemoRefused):
        load_demo(today=TODAY)
    assert db_state() == before
    assert Client.select().count() == (1 if what == "client" else 0)
    assert BusinessProfile.select().count() == (1 if what == "profile" else 0)


def test_empty_database_is_empty(database):
    assert database_is_empty()
    assert MoneyTransaction.select().count() == 0


def test_fakturka_demo_command(database, capsys):
    assert main(["demo"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("Demo data loaded: 3 clients,")
    rows = json.loads(_run_ok(capsys, "invoice", "list", "--json"))
    statuses = {r["status"] for r in rows}
    assert {"draft", "paid", "cancelled", "overdue"} <= statuses
    assert len(json.loads(_run_ok(capsys, "client", "list", "--json"))) == 3

    before = db_state()
    code = main(["demo"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "already has data" in lines[0] and "Traceback" not in err
    assert db_state() == before


def test_fakturka_demo_into_a_new_file(database, tmp_path, capsys):
    client_svc.add_client(name="Real Client")
    target = tmp_path / "demo.db"
    assert main(["--db", str(target), "demo"]) == 0
    capsys.readouterr()
    assert Client.select().count() == 3  # the demo file is the open one now
    assert main(["client", "list", "--json"]) == 0  # back to the default database
    rows = json.loads(capsys.readouterr()[0])
    assert [r["name"] for r in rows] == ["Real Client"]


def _run_ok(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out
