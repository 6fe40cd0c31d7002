"""Screenshots of the client portal for the docs: an invoice page and a client page, phone and desktop.

Run from the repository root:  .venv/bin/python docs/img/make_portal_screenshots.py

It builds a small book in a throw-away FAKTURKA_HOME (a Czech client in CZK with a paid invoice and a
partly paid one, a German client invoiced in English in EUR), starts ``fakturka portal`` on a free port
over it, opens share links in headless Chromium (Debian's ``chromium``, driven by Playwright) and saves
full-page PNGs next to this script:

    portal-invoice-phone.png    portal-invoice-desktop.png
    portal-client-phone.png     portal-client-desktop.png

The phone is 390x844 CSS pixels at 2x, the desktop 1280x900; both in the dark scheme, the terminal
app's look. Dates are relative to today, so the overdue days read as they would. Nothing here is a
test; the real data directory is never touched.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1},
}


def build_book() -> dict[str, str]:
    """The demo data, through the core services as the app makes it; returns the share links' tokens."""
    from core.banking import matching
    from core.billing import clients as client_svc
    from core.billing import invoice_status, invoicing
    from core.billing import profile as profile_svc
    from core.billing import timesheet as ts
    from core.sharing import links
    from core.store.db import close_database, open_database
    from core.store.models import MoneyTransaction

    open_database()
    profile_svc.update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\n120 00 Praha 2",
            "email": "jana@novakova.example",
            "ico": "25596641",
            "dic": "CZ25596641",
            "vat_payer": "yes",
            "iban": "CZ6508000000192000145399",
            "bic": "GIBACZPX",
            "bank_account": "19-2000145399/0800",
            "default_hourly_rate": "1000",
            "payment_terms_days": "14",
        }
    )
    pekarna = client_svc.add_client(
        name="Pekárna U Šťastných s.r.o.",
        address="Dlouhá 12\n110 00 Praha 1",
        ico="27082440",
        dic="CZ27082440",
        currency="CZK",
        language="cs",
    )
    nordlicht = client_svc.add_client(
        name="Nordlicht Software GmbH",
        address="Torstraße 140\n10119 Berlin",
        dic="DE811907980",
        country="DE",
        currency="EUR",
        language="en",
    )
    eshop = client_svc.add_project(pekarna, name="E-shop", hourly_rate="1200")
    care = client_svc.add_project(pekarna, name="Údržba webu", hourly_rate="1100")
    api = client_svc.add_project(nordlicht, name="API platform", hourly_rate="85")

    today = date.today()

    def invoice(client, issued: date, work: list[tuple]) -> object:
        for project, days_before, minutes, description in work:
            day = (issued - timedelta(days=days_before)).isoformat()
            ts.add_entry(ts.EntryInput(project=project, date=day, duration=minutes, description=description))
        made = invoicing.create_invoice(client, until=issued, issued_on=issued)
        return invoice_status.mark_sent(made, issued)

    def paid_by_bank(inv, amount: int, on: date, counterparty: str) -> None:
        MoneyTransaction.create(
            source="bank-statement",
            external_id=f"demo-{inv.number}-{amount}",
            transaction_type="income",
            amount=amount,
            currency=inv.currency,
            transacted_on=on,
            reference=inv.variable_symbol,
            counterparty=counterparty,
        )

    earlier = invoice(
        pekarna,
        today - timedelta(days=50),
        [(eshop, 12, 240, "Košík a platební brána"), (care, 8, 90, "Aktualizace a zálohy")],
    )
    paid_by_bank(earlier, earlier.total, today - timedelta(days=41), "Pekárna U Šťastných s.r.o.")
    current = invoice(
        pekarna,
        today - timedelta(days=18),
        [
            (eshop, 10, 360, "Nová stránka produktu s fotogalerií"),
            (eshop, 7, 150, "Objednávkový formulář pro firemní zákazníky"),
            (care, 3, 60, "Měsíční údržba"),
        ],
    )
    paid_by_bank(current, 500000, today - timedelta(days=6), "Pekárna U Šťastných s.r.o.")
    english = invoice(
        nordlicht,
        today - timedelta(days=5),
        [(api, 9, 480, "Rate limiting for the public API"), (api, 6, 210, "Code review and release notes")],
    )
    matching.match_transactions()  # the payments find their invoices as after a bank sync
    tokens = {
        "invoice": links.create_invoice_link(current.number)[1],
        "english": links.create_invoice_link(english.number)[1],
        "client": links.create_client_link(pekarna.name)[1],
    }
    close_database()
    return tokens


def shoot(base: str, tokens: dict[str, str]) -> list[Path]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    pages = {"invoice": f"{base}/s/{tokens['invoice']}", "client": f"{base}/s/{tokens['client']}"}
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            for device, options in VIEWPORTS.items():
                context = browser.new_context(color_scheme="dark", **options)
                page = context.new_page()
                for name, url in pages.items():
                    response = page.goto(url)
                    if response is None or response.status != 200:
                        raise SystemExit(f"{url} answered {response.status if response else 'nothing'}")
                    path = HERE / f"portal-{name}-{device}.png"
                    page.screenshot(path=str(path), full_page=True)
                    print(f"  {path.name}")
                    saved.append(path)
                context.close()
        finally:
            browser.close()
    return saved


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="fakturka-portal-shots-") as temp:
        os.environ["FAKTURKA_HOME"] = str(Path(temp) / "home")
        os.environ.pop("FAKTURKA_PASSPHRASE_FILE", None)  # a plain demo database, whatever the shell had set
        sys.path.insert(0, str(ROOT))
        tokens = build_book()
        from portal.child import child_portal

        with child_portal(cwd=ROOT) as child:
            shoot(child.url, tokens)
    return 0


if __name__ == "__main__":
    sys.exit(main())
