"""The client portal over HTTP (Starlette's TestClient): pages, scope, the 404 page, the rate limit, the
security headers, the PDF, the read-only database and the view count."""

from __future__ import annotations

import hashlib
import re
import warnings
from datetime import date, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from peewee import OperationalError

from core.billing import clients as client_svc
from core.billing import invoice_status, payments
from core.billing import invoicing as inv_svc
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.billing.pdf import invoice_filename
from core.sharing import links, pages
from core.sharing.views import view_counts
from core.store.db import close_database, open_database
from core.store.models import Invoice, MoneyTransaction
from core.values import i18n
from portal.app import SECURITY_HEADERS, create_app

with warnings.catch_warnings():  # Starlette 1.10 would rather have httpx2 under its TestClient; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
ISSUED = date(2026, 3, 31)  # due on April 14 (14 days)
TODAY = date(2026, 4, 24)  # ten days after
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _invoice(client, project, minutes: int, *, day: str, send: bool = True) -> Invoice:
    ts.add_entry(ts.EntryInput(project=project, date=day, duration=minutes))
    invoice = inv_svc.create_invoice(client, issued_on=ISSUED)
    return invoice_status.mark_sent(invoice, ISSUED) if send else invoice


def _pay(invoice: Invoice, amount: int, day=date(2026, 4, 2)) -> None:
    MoneyTransaction.create(
        source="bank",
        transaction_type="income",
        amount=amount,
        currency=invoice.currency,
        transacted_on=day,
        invoice=invoice,
    )


@pytest.fixture
def book(database):
    """Two clients (Czech in CZK, English in EUR), their invoices, links of every kind; then the database
    is reopened read-only, as ``fakturka portal`` does, and the portal made over it."""
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\nPraha",
            "ico": "25596641",
            "iban": "CZ6508000000192000145399",
            "bic": "GIBACZPX",
            "bank_account": "19-2000145399/0800",
            "default_hourly_rate": "1000",
            "payment_terms_days": "14",
        }
    )
    acme = client_svc.add_client(name="Acme s.r.o.", language="cs", currency="CZK")
    globex = client_svc.add_client(name="Globex Ltd", language="en", currency="EUR")
    web = client_svc.add_project(acme, name="Web", hourly_rate="1200")
    ops = client_svc.add_project(globex, name="Ops", hourly_rate="100")
    owed = _invoice(acme, web, 300, day="2026-03-02")  # 6,000 CZK, 2,000 paid, overdue
    _pay(owed, 200000)
    paid = _invoice(acme, web, 60, day="2026-03-03")  # 1,200 CZK, paid in full by its payment
    _pay(paid, 120000)
    invoice_status.mark_paid(paid, date(2026, 4, 2))
    draft = _invoice(acme, web, 30, day="2026-03-04", send=False)
    euro = _invoice(globex, ops, 120, day="2026-03-05")  # 200 EUR
    made = {
        "owed": links.create_invoice_link(owed.number),
        "euro": links.create_invoice_link(euro.number),
        "acme": links.create_client_link("Acme s.r.o."),
        "globex": links.create_client_link("Globex Ltd"),
        "expired": links.create_invoice_link(owed.number, expires_days=1, now=datetime(2020, 1, 1)),
        "revoked": links.create_invoice_link(owed.number),
    }
    links.revoke_link(made["revoked"][0].id)
    path = Path(database)
    close_database()
    open_database(path, read_only=True, migrate=False)
    clock = Clock()
    app = create_app(path, today=lambda: TODAY, clock=clock)
    return {
        "path": path,
        "http": TestClient(app),
        "clock": clock,
        "tokens": {name: token for name, (_, token) in made.items()},
        "ids": {name: link.id for name, (link, _) in made.items()},
        "invoices": {"owed": owed.number, "paid": paid.number, "draft": draft.number, "euro": euro.number},
    }


def _text(html: str) -> str:
    """The page's words with the no-break spaces of amounts kept (they are part of the format)."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


def money(minor: int, currency: str, lang: str) -> str:
    return i18n.format_money(minor, currency, lang)


def assert_security_headers(response) -> None:
    for name, value in SECURITY_HEADERS:
        assert response.headers[name.decode()] == value.decode(), name
    assert response.headers["content-security-policy"] == CSP
    assert "server" not in response.headers


# -- what a client sees ---------------------------------------------------------------------------


def test_invoice_page_in_czech_with_paid_due_overdue_and_qr(book):
    response = book["http"].get(f"/s/{book['tokens']['owed']}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    text = _text(html)
    number = book["invoices"]["owed"]
    assert '<html lang="cs">' in html and '<meta name="viewport"' in html
    assert f"Faktura {number}" in text
    assert "Zbývá uhradit" in text and "Zaplaceno" in text and "Platební údaje" in text
    assert money(600000, "CZK", "cs") in text  # the total
    assert money(200000, "CZK", "cs") in text  # paid
    assert money(400000, "CZK", "cs") in text  # still due
    assert i18n.ngettext("cs", "{n} day overdue", "{n} days overdue", 10).format(n=10) in text
    assert i18n.format_date(date(2026, 4, 14), "cs") in text  # the due date, as Czech writes it
    assert "CZ65 0800 0000 1920 0014 5399" in text and "19-2000145399/0800" in text
    assert '<svg viewBox="' in html and 'class="qr"' in html  # the QR, inline
    assert f'href="/s/{book["tokens"]["owed"]}/invoice.pdf"' in html
    assert "<script" not in html.lower() and " style=" not in html.lower() and " on" not in _attributes(html)


def _attributes(html: str) -> str:
    """Every attribute name in the page, space-separated with a leading space (to find event handlers)."""
    return " " + " ".join(re.findall(r"\s([a-zA-Z-]+)=", html)).lower()


def test_the_qr_asks_for_what_is_still_owed(book):
    invoice = Invoice.get(Invoice.number == book["invoices"]["owed"])
    page = pages.invoice_page(invoice, TODAY)
    assert (page.paid, page.due, page.status, page.overdue_days) == (200000, 400000, "overdue", 10)
    assert (page.paid, page.due) == (payments.amount_paid(invoice), payments.amount_due(invoice))
    assert page.payment.qr_kind == "spayd"
    assert "*AM:4000.00*CC:CZK*" in page.payment.qr_payload
    assert f"*X-VS:{invoice.variable_symbol}*" in page.payment.qr_payload


def test_english_eur_invoice_has_an_epc_code(book):
    html = book["http"].get(f"/s/{book['tokens']['euro']}").text
    text = _text(html)
    assert '<html lang="en">' in html
    assert f"Invoice {book['invoices']['euro']}" in text and "Still due" in text
    assert money(20000, "EUR", "en") in text
    invoice = Invoice.get(Invoice.number == book["invoices"]["euro"])
    assert pages.invoice_page(invoice, TODAY).payment.qr_kind == "epc"
    assert "Pay by QR code" in text


def test_a_paid_invoice_shows_paid_and_no_payment_details(book):
    response = book["http"].get(f"/s/{book['tokens']['acme']}/{book['invoices']['paid']}")
    assert response.status_code == 200
    text = _text(response.text)
    assert "Zaplaceno" in text and "Platební údaje" not in text and "<svg" not in response.text
    assert money(0, "CZK", "cs") in text  # nothing still due
    assert f'href="/s/{book["tokens"]["acme"]}"' in response.text  # back to the client's list


def test_client_page_lists_invoices_and_the_statement(book):
    response = book["http"].get(f"/s/{book['tokens']['acme']}")
    assert response.status_code == 200
    html, text = response.text, _text(response.text)
    assert "Acme s.r.o." in text
    assert book["invoices"]["owed"] in text and book["invoices"]["paid"] in text
    assert book["invoices"]["draft"] not in text  # drafts are never shown
    assert book["invoices"]["euro"] not in text  # another client's
    assert f'href="/s/{book["tokens"]["acme"]}/{book["invoices"]["owed"]}"' in html
    assert money(720000, "CZK", "cs") in text  # invoiced: 6,000 + 1,200
    assert money(320000, "CZK", "cs") in text  # paid: 2,000 + 1,200
    assert money(400000, "CZK", "cs") in text  # still due, all of it overdue
    page = pages.client_page(pages.linked_client(links.find_link(book["tokens"]["acme"])), TODAY)
    [balance] = page.balances
    assert (balance.invoiced, balance.paid, balance.due, balance.overdue, balance.count) == (
        720000,
        320000,
        400000,
        400000,
        2,
    )
    assert sorted(row.status for row in page.invoices) == ["overdue", "paid"]
    assert len(page.payments) == 2


def test_pdf_of_an_invoice_link_and_of_a_clients_invoice(book):
    for url, number in (
        (f"/s/{book['tokens']['owed']}/invoice.pdf", book["invoices"]["owed"]),
        (f"/s/{book['tokens']['acme']}/{book['invoices']['paid']}.pdf", book["invoices"]["paid"]),
    ):
        response = book["http"].get(url)
        assert response.status_code == 200, url
        assert response.content.startswith(b"%PDF")
        assert response.headers["content-type"] == "application/pdf"
        filename = invoice_filename(Invoice.get(Invoice.number == number))
        assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
        assert_security_headers(response)


def test_stylesheet_is_served_with_the_headers(book):
    response = book["http"].get("/static/portal.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    assert "--accent" in response.text
    assert_security_headers(response)


# -- security -------------------------------------------------------------------------------------


def test_headers_on_200_404_and_429(book):
    http = book["http"]
    assert_security_headers(http.get(f"/s/{book['tokens']['owed']}"))
    assert_security_headers(http.get("/s/nope"))
    assert_security_headers(http.get("/"))
    for _ in range(25):
        http.get("/s/" + "x" * 32)
    blocked = http.get("/s/" + "y" * 32)
    assert blocked.status_code == 429
    assert_security_headers(blocked)


def test_unknown_expired_revoked_and_out_of_scope_get_the_same_404(book):
    http, tokens, numbers = book["http"], book["tokens"], book["invoices"]
    urls = [
        "/s/" + "A" * 32,  # the shape of a token, unknown
        "/s/short",
        f"/s/{tokens['expired']}",
        f"/s/{tokens['revoked']}",
        f"/s/{tokens['revoked']}/invoice.pdf",
        f"/s/{tokens['owed']}/{numbers['euro']}",  # an invoice link reaches its invoice only
        f"/s/{tokens['owed']}/{numbers['euro']}.pdf",
        f"/s/{tokens['euro']}/{numbers['owed']}",
        f"/s/{tokens['acme']}/{numbers['euro']}",  # a client link: another client's invoice
        f"/s/{tokens['acme']}/{numbers['euro']}.pdf",
        f"/s/{tokens['acme']}/{numbers['draft']}",  # its own draft
        f"/s/{tokens['acme']}/{numbers['draft']}.pdf",
        f"/s/{tokens['acme']}/invoice.pdf",
        f"/s/{tokens['globex']}/{numbers['owed']}",
        "/",
        "/s/",
        "/static/",
        "/static/../core/store/db.py",
        "/invoices",
        "/clients",
    ]
    bodies = set()
    for url in urls:
        book["clock"].now += 10  # apart enough never to meet the rate limit
        response = http.get(url)
        assert response.status_code == 404, url
        bodies.add(response.content)
    post = http.post(f"/s/{tokens['owed']}")
    assert post.status_code == 404
    bodies.add(post.content)
    assert len(bodies) == 1
    [body] = bodies
    assert b"This link does not work" in body and numbers["owed"].encode() not in body


def test_failed_lookups_are_rate_limited_per_address(book):
    http, clock, good = book["http"], book["clock"], f"/s/{book['tokens']['owed']}"
    for _ in range(50):  # successful look-ups are never counted
        assert http.get(good).status_code == 200
    for i in range(20):
        assert http.get(f"/s/{'b' * 31}{i % 10}").status_code == 404
    blocked = http.get(f"/s/{'c' * 32}")
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert http.get(good).status_code == 429  # blocked means blocked: guessing cannot go on
    other = TestClient(http.app, client=("203.0.113.9", 5000))
    assert other.get(good).status_code == 200  # per address
    clock.now += 61
    assert http.get(good).status_code == 200


def test_the_database_is_read_only_and_unchanged(book):
    path = book["path"]
    before = (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)
    http = book["http"]
    for url in (
        f"/s/{book['tokens']['owed']}",
        f"/s/{book['tokens']['acme']}",
        f"/s/{book['tokens']['owed']}/invoice.pdf",
        "/s/" + "z" * 32,
    ):
        http.get(url)
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns) == before
    with pytest.raises(OperationalError, match="readonly|read-only|read only"):
        Invoice.update(note="changed").execute()


def test_a_read_only_database_keeps_its_locks_beside_its_file(book, tmp_path, monkeypatch):
    """Opened read-only the database is a ``file:...?mode=ro`` URI: nothing may take that URI for a path
    (a lock folder named after it appeared in the working directory once)."""
    from core.store.locks import FileLock, lock_folder

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    path = book["path"]
    assert lock_folder() == path.resolve().parent / f"{path.name}-locks"
    with FileLock("run-due"):
        pass
    assert list(cwd.iterdir()) == []


def test_views_are_counted_for_pages_only(book):
    http, ids = book["http"], book["ids"]
    http.get(f"/s/{book['tokens']['owed']}")
    http.get(f"/s/{book['tokens']['owed']}")
    http.get(f"/s/{book['tokens']['owed']}/invoice.pdf")
    http.get(f"/s/{book['tokens']['acme']}")
    http.get(f"/s/{book['tokens']['acme']}/{book['invoices']['owed']}")
    http.get(f"/s/{book['tokens']['revoked']}")
    http.get("/static/portal.css")
    counts = view_counts(book["path"])
    assert counts[ids["owed"]][0] == 2
    assert counts[ids["acme"]][0] == 2
    assert ids["revoked"] not in counts and ids["euro"] not in counts


def test_hostile_text_is_escaped(database):
    profile_svc.update_profile({"name": "<script>alert(1)</script>", "iban": "CZ6508000000192000145399"})
    client = client_svc.add_client(name='Evil "><img src=x onerror=alert(1)>', language="en")
    project = client_svc.add_project(client, name="P", hourly_rate="1000")
    invoice = _invoice(client, project, 60, day="2026-03-02")
    _, token = links.create_client_link(client.name)
    path = Path(database)
    close_database()
    open_database(path, read_only=True, migrate=False)
    http = TestClient(create_app(path, today=lambda: TODAY))
    for url in (f"/s/{token}", f"/s/{token}/{invoice.number}"):
        html = http.get(url).text
        assert "<script>" not in html and "<img" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html or "&lt;script&gt;" in html


# -- every word of the pages is in the catalogs ---------------------------------------------------


def template_msgids() -> set[str]:
    found = set()
    for template in (ROOT / "portal" / "templates").glob("*.html"):
        text = template.read_text("utf-8")
        found.update(re.findall(r"""s\.t\(\s*["']([^"']+)["']""", text))
        for singular, plural in re.findall(r"""s\.n\(\s*["']([^"']+)["']\s*,\s*["']([^"']+)["']""", text):
            found.update((singular, plural))
    source = (ROOT / "portal" / "app.py").read_text("utf-8")
    found.update(re.findall(r"""self\.(?:t|n)\(\s*["']([^"']+)["']""", source))
    found.update(re.findall(r"""self\.n\(\s*["'][^"']+["']\s*,\s*["']([^"']+)["']""", source))
    return found


@pytest.mark.parametrize("lang", ["en", "cs"])
def test_every_word_of_the_pages_is_in_the_catalog(lang):
    with i18n.po_path(lang).open("rb") as fh:
        catalog = read_po(fh)
    known = set()
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            known.update(message.id)
        else:
            known.add(message.id)
    msgids = template_msgids()
    assert {"Download PDF", "Statement of account", "{n} day overdue", "{n} days overdue"} <= msgids
    assert sorted(msgids - known) == []
