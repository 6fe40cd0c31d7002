"""The client portal in a real browser: headless Chromium (Debian's ``chromium``, driven by Playwright)
against ``fakturka portal`` running as its own process, on the temporary home's database.

What a client does with a share link: reads the amounts and the status, scans the QR, downloads the PDF;
the invoice turns paid after a bank sync while the portal keeps running; a revoked link shows the 404
page; a client link lists the invoices and the statement of account. Every change goes through the
``fakturka`` command, as a person makes it.

Without a Chromium the module is skipped, unless FAKTURKA_REQUIRE_BROWSER=1 (CI sets it): then it fails.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import sync_playwright

from core.billing import clients as client_svc
from core.billing import invoice_status
from core.billing import invoicing as inv_svc
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.billing.pdf import invoice_filename
from core.store.db import close_database, open_database
from core.values import i18n
from portal.child import child_portal

REPO = Path(__file__).resolve().parent.parent
REQUIRE_ENV = "FAKTURKA_REQUIRE_BROWSER"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
IBAN = "CZ6508000000192000145399"
GONE = "The link is wrong, has expired or was withdrawn. Ask whoever sent it for a new one."


def find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


CHROMIUM = find_chromium()
if CHROMIUM is None:
    reason = "no Chromium: neither /usr/bin/chromium nor `chromium` on PATH (Debian: apt-get install chromium)"
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}, and {REQUIRE_ENV}=1 requires the browser tests", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def plain(text: str) -> str:
    """Rendered text with the no-break spaces of amounts and dates as plain spaces, runs of space as one."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def cs(msgid: str) -> str:
    return i18n.gettext("cs", msgid)


def czk(minor: int) -> str:
    return plain(i18n.format_money(minor, "CZK", "cs"))


# -- the browser (one per module), the book, the portal process -----------------------------------


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(accept_downloads=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def book(fakturka_home):
    """A Czech client with one sent invoice for time worked, issued 30 days ago (so it is overdue), made
    through the core services; the database is closed again before the portal and the commands run."""
    open_database()
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\n120 00 Praha",
            "ico": "25596641",
            "iban": IBAN,
            "bank_account": "19-2000145399/0800",
            "default_hourly_rate": "1000",
            "payment_terms_days": "14",
        }
    )
    issued = date.today() - timedelta(days=30)
    acme = client_svc.add_client(name="Acme s.r.o.", language="cs", currency="CZK")
    web = client_svc.add_project(acme, name="Web", hourly_rate="1200")
    ts.add_entry(ts.EntryInput(project=web, date=(issued - timedelta(days=5)).isoformat(), duration=150))
    ts.add_entry(ts.EntryInput(project=web, date=(issued - timedelta(days=4)).isoformat(), duration=90))
    invoice = invoice_status.mark_sent(inv_svc.create_invoice(acme, issued_on=issued), issued)
    made = {
        "number": invoice.number,
        "total": invoice.total,
        "vs": invoice.variable_symbol,
        "due_on": invoice.due_on,
        "filename": invoice_filename(invoice),
    }
    close_database()
    assert made["total"] == 480000  # 4 h at 1,200 CZK
    return made


@pytest.fixture
def portal(book, monkeypatch):
    """``fakturka portal --port N`` in its own process; new share links name its address."""
    with child_portal(cwd=REPO) as child:
        monkeypatch.setenv("FAKTURKA_PORTAL_URL", child.url)
        yield child.url
    assert child.returncode == 0, child.err
    assert "Traceback" not in child.err, child.err


def fakturka(*argv: str) -> str:
    """Run the ``fakturka`` command as a person would (its own process, the test's home); its stdout."""
    done = subprocess.run(
        [sys.executable, "-m", "fakturka", *argv], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stderr) == (0, ""), f"fakturka {' '.join(argv)} -> {done.returncode}: {done.stderr}"
    return done.stdout


def share(*argv: str) -> tuple[int, str]:
    """``fakturka share invoice|client ...``: the new link's id and the address it printed (once)."""
    lines = fakturka("share", *argv).splitlines()
    link_id = int(lines[0].split(" as link ")[1].split(",")[0])
    return link_id, lines[1].strip()


def figures(page, scope: str = ".summary") -> dict[str, str]:
    """The summary's figures as the page shows them: label -> amount."""
    found = {}
    for row in page.locator(f"{scope} dl.figures > div").all():
        found[plain(row.locator("dt").inner_text())] = plain(row.locator("dd").inner_text())
    return found


def qr_payloads(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)]


def pdf_qr_payloads(path: Path) -> list[str]:
    """Render the PDF's first page as a phone camera would see it and decode its QR codes."""
    document = pypdfium2.PdfDocument(str(path))
    try:
        return qr_payloads(document[0].render(scale=3).to_pil())
    finally:
        document.close()


def camt053(amount_minor: int, vs: str, booked: date) -> str:
    """A one-entry camt.053 statement: the client's transfer paying the invoice, with its variable symbol."""
    amount = f"{amount_minor // 100}.{amount_minor % 100:02d}"
    day = booked.isoformat()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        f"<BkToCstmrStmt><GrpHdr><MsgId>M-BROWSER</MsgId><CreDtTm>{day}T18:00:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>S-BROWSER</Id><CreDtTm>{day}T18:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>CZK</Ccy></Acct>"
        f'<Ntry><Amt Ccy="CZK">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>BROWSER-1</AcctSvcrRef>"
        "<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Acme s.r.o.</Nm></Dbtr></RltdPties>"
        f"<RmtInf><Strd><CdtrRefInf><Ref>{vs}</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>"
        "</Stmt></BkToCstmrStmt></Document>"
    )


# -- the tests ------------------------------------------------------------------------------------


def test_invoice_link_shows_what_is_owed_and_its_pdf_carries_the_qr(portal, book, page, tmp_path):
    _, url = share("invoice", book["number"])
    assert url.startswith(f"{portal}/s/")
    response = page.goto(url)
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == "cs"
    assert plain(page.locator("h1").inner_text()) == i18n.gettext("cs", "Invoice {number}").format(
        number=book["number"]
    )
    overdue = (date.today() - book["due_on"]).days
    assert overdue == 16
    badge = page.locator(".head .badge")
    assert plain(badge.inner_text()) == i18n.ngettext("cs", "{n} day overdue", "{n} days overdue", overdue).format(
        n=overdue
    )
    assert "overdue" in badge.get_attribute("class")
    assert figures(page) == {cs("Total"): czk(480000), cs("Paid"): czk(0), cs("Still due"): czk(480000)}
    assert cs("Still due") == "Zbývá uhradit"  # the page really is in Czech
    # The payment details, and the QR as the browser drew it: a phone scanning the screen reads this.
    details = plain(page.locator(".pay").inner_text())
    assert "CZ65 0800 0000 1920 0014 5399" in details and book["vs"] in details and czk(480000) in details
    shot = page.locator("figure.qr svg").screenshot()
    [on_screen] = qr_payloads(Image.open(io.BytesIO(shot)))
    assert "*AM:4800.00*CC:CZK*" in on_screen and f"*X-VS:{book['vs']}*" in on_screen

    with page.expect_download() as downloading:
        page.get_by_role("link", name=cs("Download PDF")).click()
    download = downloading.value
    assert download.failure() is None
    assert download.suggested_filename == book["filename"]
    pdf = tmp_path / download.suggested_filename
    download.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    [payload] = pdf_qr_payloads(pdf)
    assert payload.startswith(f"SPD*1.0*ACC:{IBAN}*AM:4800.00*CC:CZK*")
    assert f"*X-VS:{book['vs']}*" in payload and f"MSG:FAKTURA {book['number']}" in payload


def test_a_bank_sync_turns_the_page_paid_and_a_revoked_link_shows_the_404_page(portal, book, page, tmp_path):
    link_id, url = share("invoice", book["number"])
    assert page.goto(url).status == 200
    assert figures(page)[cs("Still due")] == czk(480000)
    assert page.locator("figure.qr svg").count() == 1

    # The client pays; the bank's statement is imported the way the app does it, the portal still running.
    statement = tmp_path / "statement.xml"
    statement.write_text(camt053(book["total"], book["vs"], date.today()), encoding="utf-8")
    fakturka("plugins", "configure", "bank-statement", "--set", f"path={statement}")
    fakturka("plugins", "enable", "bank-statement")
    synced = fakturka("sync", "bank-statement")
    assert book["number"] in synced and "completed" in synced.splitlines()[-1]

    assert page.reload().status == 200
    badge = page.locator(".head .badge")
    assert plain(badge.inner_text()) == "Zaplaceno"  # the badge's word: "paid", capitalised
    assert "paid" in badge.get_attribute("class").split()
    assert figures(page) == {cs("Total"): czk(480000), cs("Paid"): czk(480000), cs("Still due"): czk(0)}
    assert page.locator(".pay").count() == 0 and page.locator("figure.qr").count() == 0  # nothing to pay
    received = plain(page.locator("table.plain").inner_text())
    assert czk(480000) in received and plain(i18n.format_date(date.today(), "cs")) in received

    out = fakturka("share", "revoke", str(link_id))
    assert out.startswith(f"Revoked share link {link_id} ")
    gone = page.reload()
    assert gone.status == 404
    assert page.title() == "404"
    text = plain(page.locator("main").inner_text())
    for lang in ("en", "cs"):  # the 404 page speaks both: it cannot know whose link it was
        assert plain(i18n.gettext(lang, "This link does not work")) in text
        assert plain(i18n.gettext(lang, GONE)) in text
    assert book["number"] not in page.content()
    assert page.goto(f"{url}/invoice.pdf").status == 404  # nor its PDF


def test_client_link_lists_the_invoice_and_the_statement_of_account(portal, book, page):
    _, url = share("client", "Acme")
    assert page.goto(url).status == 200
    assert plain(page.locator("h1").inner_text()) == "Acme s.r.o."
    assert plain(page.locator(".head .from").inner_text()) == cs("Statement of account")
    assert figures(page) == {
        cs("Invoiced"): czk(480000),
        cs("Paid"): czk(0),
        cs("Still due"): czk(480000),
        cs("Overdue"): czk(480000),
    }
    rows = page.locator("table.invoices tbody tr")
    assert rows.count() == 1
    cells = [plain(cell) for cell in rows.first.locator("td").all_inner_texts()]
    assert cells[0] == book["number"] and cells[3] == czk(480000) and cells[5] == czk(480000)
    assert plain(page.locator(".card", has_text=cs("Payments received")).inner_text()).endswith(cs("No payments yet."))
    # The row's number opens the invoice, with a way back to the list.
    rows.first.get_by_role("link", name=book["number"]).click()
    page.wait_for_url(f"{url}/{book['number']}")
    assert plain(page.locator("h1").inner_text()) == i18n.gettext("cs", "Invoice {number}").format(
        number=book["number"]
    )
    assert figures(page)[cs("Still due")] == czk(480000)
    page.get_by_role("link", name=cs("All invoices")).click()
    page.wait_for_url(url)
    assert plain(page.locator("h1").inner_text()) == "Acme s.r.o."


def test_pages_fit_a_phone_screen(portal, book, browser):
    """At a phone's width nothing runs off the side: the tables turn into labelled rows, the QR fits."""
    _, invoice_url = share("invoice", book["number"])
    _, client_url = share("client", "Acme")
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    try:
        page = context.new_page()
        for url in (invoice_url, client_url):
            assert page.goto(url).status == 200
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, f"{url}: {width} px wide"
        page.goto(invoice_url)
        box = page.locator("figure.qr svg").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert page.locator("table.lines thead").is_hidden()  # rows, each value with its label
        label = page.locator("table.lines td").last.evaluate("cell => getComputedStyle(cell, '::before').content")
        assert label == f'"{cs("Amount")}"'
    finally:
        context.close()
