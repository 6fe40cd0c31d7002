"""A believable demo dataset for an empty database (``fakturka demo``)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

from core.billing import clients as client_svc
from core.billing import invoice_status, invoicing
from core.billing import profile as profile_svc
from core.billing.timesheet import EntryInput, add_entry
from core.errors import FakturkaError
from core.platform import plugin_config
from core.store import paths
from core.store.audit import audit_context
from core.store.db import db
from core.store.models import Client, Invoice, MoneyTransaction, WorkEntry, database_is_empty  # noqa: F401 - public here too
from core.store.states import InvoiceStatus, MatchStatus
from core.values.messages import Message
from core.values.money import from_minor


class DemoRefused(FakturkaError):
    pass


def _month_start(day: date, months_back: int) -> date:
    year, month = day.year, day.month - months_back
    while month <= 0:
        month += 12
        year -= 1
    return date(year, month, 1)


def _month_end(first: date) -> date:
    return (_month_start(first + timedelta(days=32), 0)) - timedelta(days=1)


TASKS = (
    "Implementation", "Bug fixing", "Code review", "Meeting", "Deployment",
    "Refactoring", "Tests", "Performance tuning", "Design review", "Documentation",
)  # fmt: skip


def load_demo(today: date | None = None, seed: int = 7) -> str:
    """Fill an empty database: profile, 3 clients, projects, 6 months of work, invoices in every state."""
    if not database_is_empty():
        raise DemoRefused(
            Message(
                "The database already has data; demo data only goes into an empty one "
                "(use --db with a new file to try it)."
            )
        )
    today = today or date.today()
    with audit_context("demo"), db.atomic():
        _demo_profile()
        clients, projects = _demo_clients()
        _demo_work(projects, today, random.Random(seed), sparse=clients[2])
        _demo_invoices(clients, today)
        # Some unbilled work in the current month stays for the person to invoice.
        statement = write_demo_statement(today)
        plugin_config.configure("bank-statement", {"path": str(statement)})
        plugin_config.set_enabled("bank-statement", True)
    return Message(
        "{clients} clients, {entries} entries, {invoices} invoices",
        clients=Client.select().count(),
        entries=WorkEntry.select().count(),
        invoices=Invoice.select().count(),
    )


def _demo_profile() -> None:
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 2569/108\n101 00 Praha 10",
            "email": "jana@novakova.dev",
            "ico": "25596641",
            "dic": "CZ25596641",
            "registry_line": "Fyzická osoba zapsaná v živnostenském rejstříku",
            "vat_payer": True,
            "iban": "CZ6508000000192000145399",
            "bic": "GIBACZPX",
            "bank_account": "19-2000145399/0800",
            "default_currency": "CZK",
            "default_hourly_rate": "1500",
            "payment_terms_days": 14,
            "locale": "cs",
        }
    )


def _demo_clients() -> tuple[tuple[Client, Client, Client], dict[Client, list]]:
    """A Czech VAT payer in CZK, a German company in EUR (reverse charge), a Canadian studio in USD."""
    pekarna = client_svc.add_client(
        name="Pekárna U Šťastných s.r.o.",
        email="ucetni@pekarna-stastni.cz",
        address="Náměstí Míru 12\n120 00 Praha 2",
        country="CZ",
        ico="27082440",
        dic="CZ27082440",
        currency="CZK",
        language="cs",
        hourly_rate="1400",
        payment_terms_days=14,
    )
    berlin = client_svc.add_client(
        name="Nordlicht Software GmbH",
        email="billing@nordlicht.example",
        address="Torstraße 49\n10119 Berlin\nGermany",
        country="DE",
        dic="DE811907980",
        currency="EUR",
        language="en",
        hourly_rate="75",
        payment_terms_days=30,
    )
    studio = client_svc.add_client(
        name="Maple & Pine Studio",
        email="hello@mapleandpine.example",
        address="200 King St W\nToronto ON M5H 3T4\nCanada",
        country="CA",
        currency="USD",
        language="en",
        hourly_rate="85",
        payment_terms_days=21,
    )
    projects = {
        pekarna: [
            client_svc.add_project(pekarna, name="E-shop"),
            client_svc.add_project(pekarna, name="Údržba webu", hourly_rate="1100"),
        ],
        berlin: [
            client_svc.add_project(berlin, name="API platform"),
            client_svc.add_project(berlin, name="Code review", hourly_rate="90"),
        ],
        studio: [client_svc.add_project(studio, name="Portfolio site")],
    }
    return (pekarna, berlin, studio), projects


def _demo_work(projects: dict[Client, list], today: date, rng: random.Random, sparse: Client) -> None:
    """Six months of weekday work (less for the ``sparse`` client) and one fixed-price item."""
    first = _month_start(today, 5)
    day = first
    while day <= today:
        if day.weekday() < 5:
            for client, client_projects in projects.items():
                if rng.random() < (0.55 if client is not sparse else 0.2):
                    add_entry(
                        EntryInput(
                            project=rng.choice(client_projects),
                            date=day,
                            duration=rng.choice([30, 45, 60, 90, 120, 180, 240]),
                            description=rng.choice(TASKS),
                            billable=rng.random() > 0.08,
                        )
                    )
        day += timedelta(days=1)
    first_project = next(iter(projects.values()))[0]
    add_entry(
        EntryInput(
            project=first_project,
            date=first + timedelta(days=3),
            fixed="12000",
            description="Nasazení a konfigurace serveru",
        )  # fmt: skip
    )


def _demo_invoices(clients: tuple[Client, Client, Client], today: date) -> None:
    """Invoice each past month; the states follow age, as they would in real life."""
    pekarna, berlin, studio = clients
    created: list[Invoice] = []
    for back in range(5, 0, -1):
        month_first = _month_start(today, back)
        month_last = _month_end(month_first)
        issue = month_last + timedelta(days=1)
        for client in clients:
            try:
                inv = invoicing.create_invoice(client, until=month_last, issued_on=issue)
            except invoicing.InvoiceError:
                continue
            created.append(inv)
            if back >= 2 or client is not berlin:
                invoice_status.mark_sent(inv, issue)
            if back >= 3:
                _demo_payment(inv, client)
    # One cancelled invoice, as happens when a client disputes a bill.
    for inv in created:
        if inv.status == InvoiceStatus.SENT and inv.client == studio:
            invoice_status.cancel_invoice(inv)
            break


def _demo_payment(inv: Invoice, client: Client) -> None:
    """The bank movement that paid ``inv`` two days before it was due, linked to it."""
    MoneyTransaction.create(
        source="demo",
        external_id=f"demo-{inv.number}",
        transaction_type="income",
        amount=inv.total,
        currency=inv.currency,
        transacted_on=inv.due_on - timedelta(days=2),
        counterparty=client.name,
        reference=inv.variable_symbol,
        description=f"Payment {inv.number}",
        invoice=inv,
        match_status=MatchStatus.MATCHED,
    )
    invoice_status.mark_paid(inv, inv.due_on - timedelta(days=2))


def demo_statement_path() -> Path:
    return paths.data_dir() / "demo" / "bank-statement.xml"


# -- a bank statement that pays some of the demo invoices -----------------------------------

_STATEMENT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>FAKTURKA-DEMO-{stamp}</MsgId><CreDtTm>{today}T08:00:00</CreDtTm></GrpHdr>
{statements}
  </BkToCstmrStmt>
</Document>
"""

_STMT = """    <Stmt>
      <Id>DEMO-{currency}-{stamp}</Id>
      <CreDtTm>{today}T08:00:00</CreDtTm>
      <Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>{currency}</Ccy></Acct>
{entries}
    </Stmt>"""

_NTRY = """      <Ntry>
        <Amt Ccy="{currency}">{amount}</Amt>
        <CdtDbtInd>{direction}</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>{day}</Dt></BookgDt>
        <ValDt><Dt>{day}</Dt></ValDt>
        <AcctSvcrRef>{ref}</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>{end_to_end}</EndToEndId></Refs>
          <RltdPties><{party}><Nm>{name}</Nm></{party}></RltdPties>
          <RmtInf>{remittance}</RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>"""


def _entry(currency, amount_minor, direction, day, ref, name, end_to_end="NOTPROVIDED", ustrd="", strd=""):
    remittance = (f"<Ustrd>{escape(ustrd)}</Ustrd>" if ustrd else "") + (
        f"<Strd><CdtrRefInf><Ref>{strd}</Ref></CdtrRefInf></Strd>" if strd else ""
    )
    return _NTRY.format(
        currency=currency,
        amount=from_minor(amount_minor, currency),
        direction=direction,
        day=day.isoformat(),
        ref=ref,
        end_to_end=end_to_end,
        party="Dbtr" if direction == "CRDT" else "Cdtr",
        name=escape(name),
        remittance=remittance,
    )


def write_demo_statement(today: date) -> Path:
    """A camt.053 file: one exact payment (VS), one partial (VS), one without VS (number in the
    message) and one unrelated expense, for invoices the demo left open."""
    czk, eur = _demo_movements(today)
    stamp = today.strftime("%Y%m%d")
    accounts = (("CZK", "CZ6508000000192000145399", czk), ("EUR", "CZ2808000000192000145401", eur))
    statements = [
        _STMT.format(currency=currency, stamp=stamp, today=today.isoformat(), iban=iban, entries="\n".join(entries))
        for currency, iban, entries in accounts
        if entries or currency == "CZK"
    ]
    path = demo_statement_path()
    paths.ensure_private_dir(path.parent)
    path.write_text(
        _STATEMENT.format(stamp=stamp, today=today.isoformat(), statements="\n".join(statements)), encoding="utf-8"
    )
    return path


def _open_invoices(currency: str) -> list[Invoice]:
    return list(
        Invoice.select()
        .where((Invoice.status == InvoiceStatus.SENT) & (Invoice.currency == currency))
        .order_by(Invoice.issued_on)
    )


def _demo_movements(today: date) -> tuple[list[str], list[str]]:
    """The statement's CZK and EUR entries."""
    open_czk, open_eur = _open_invoices("CZK"), _open_invoices("EUR")
    paid_day = today - timedelta(days=2)
    czk, eur = [], []
    if open_czk:
        exact = open_czk[0]
        czk.append(
            _entry("CZK", exact.total, "CRDT", paid_day, "DEMO-1", exact.client.name,
                   end_to_end=exact.variable_symbol, ustrd=f"Faktura {exact.number}")
        )  # fmt: skip
    if len(open_czk) > 1:
        partial = open_czk[1]
        czk.append(
            _entry("CZK", partial.total // 2, "CRDT", paid_day, "DEMO-2", partial.client.name,
                   strd=partial.variable_symbol, ustrd="Záloha")
        )  # fmt: skip
    czk.append(
        _entry("CZK", 49900, "DBIT", today - timedelta(days=1), "DEMO-3", "Alza.cz a.s.", ustrd="Nákup: USB-C hub")
    )
    if open_eur:
        foreign = open_eur[0]
        eur.append(
            _entry("EUR", foreign.total, "CRDT", paid_day, "DEMO-4", foreign.client.name,
                   ustrd=f"Invoice {foreign.number}, thank you")
        )  # fmt: skip
    return czk, eur
