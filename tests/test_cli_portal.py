"""``fakturka portal`` as a person runs it: a real server in its own process, a page fetched over HTTP."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import httpx
import pytest

from core.billing import clients as client_svc
from core.billing import invoice_status
from core.billing import invoicing as inv_svc
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.sharing import links
from core.sharing.views import view_counts
from core.store.db import close_database, open_database
from portal.child import PortalDidNotStart, child_portal

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def shared(fakturka_home):
    """A database under the temporary home with one sent invoice and a link to it (then closed)."""
    path = open_database()
    profile_svc.update_profile(
        {"name": "Jana Nováková", "iban": "CZ6508000000192000145399", "default_hourly_rate": "1000"}
    )
    client = client_svc.add_client(name="Acme s.r.o.", language="cs")
    project = client_svc.add_project(client, name="Web", hourly_rate="1200")
    ts.add_entry(ts.EntryInput(project=project, date="2026-03-02", duration=60))
    invoice = invoice_status.mark_sent(inv_svc.create_invoice(client, issued_on=date(2026, 3, 31)))
    link, token = links.create_invoice_link(invoice.number)
    close_database()
    return path, invoice.number, link.id, token


def test_portal_serves_a_share_link_read_only(shared, fakturka_home):
    path, number, link_id, token = shared
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with child_portal(cwd=REPO) as child:
        base = child.url
        page = httpx.get(f"{base}/s/{token}", timeout=10)
        assert page.status_code == 200
        assert f"Faktura {number}" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert "server" not in page.headers  # no banner
        pdf = httpx.get(f"{base}/s/{token}/invoice.pdf", timeout=30)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        missing = httpx.get(f"{base}/s/{'x' * 32}", timeout=10)
        assert missing.status_code == 404
    assert child.out.splitlines()[0] == f"Serving the portal on {base} (Ctrl+C stops)"
    assert token not in child.out + child.err  # no access log: a token never reaches the terminal
    assert child.returncode == 0, child.err
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before  # the database itself is untouched
    assert view_counts(path)[link_id][0] == 1


def test_portal_refuses_a_bad_port(fakturka_home, cli):
    code, out, err = cli("portal", "--port", "99999")
    assert code == 2 and "is not a port number" in err


def test_a_portal_that_cannot_start_is_refused_with_its_own_sentence(fakturka_home, tmp_path):
    not_ours = tmp_path / "notes.db"
    not_ours.write_text("hello")
    with pytest.raises(PortalDidNotStart) as info:
        with child_portal("--db", str(not_ours), cwd=REPO):
            pass
    assert "exited with 2" in str(info.value) and "is not a Fakturka database" in str(info.value)
    assert not_ours.read_text() == "hello"
