"""``fakturka share ...`` as a person or a script runs it (via ``fakturka.launcher.main``)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest

from core.billing.clients import add_client
from core.sharing.links import find_link
from core.sharing.views import record_view
from core.store.models import Invoice, ShareLink
from core.values.timeutil import utcnow

URL = re.compile(r"^http://127\.0\.0\.1:8765/s/([A-Za-z0-9_-]{32})$", re.MULTILINE)


@pytest.fixture(autouse=True)
def no_portal_url(monkeypatch):
    monkeypatch.delenv("FAKTURKA_PORTAL_URL", raising=False)


@pytest.fixture
def acme(database):
    return add_client(name="Acme s.r.o.", currency="CZK")


def invoice(client, number: str, status: str = "sent") -> Invoice:
    return Invoice.create(
        number=number,
        year=2026,
        seq=int(number[-4:]),
        client=client,
        status=status,
        currency="CZK",
        issued_on=date(2026, 2, 1),
        due_on=date(2026, 2, 15),
    )


def test_share_an_invoice_prints_the_address_once(ok, acme):
    invoice(acme, "20260001")
    out = ok("share", "invoice", "20260001", "--expires", "10d")
    lines = out.splitlines()
    link = ShareLink.get()
    expires = link.expires_at
    assert abs(expires - (utcnow() + timedelta(days=10))) < timedelta(minutes=1)
    assert lines[0] == f"Shared invoice 20260001 as link {link.id}, until {expires:%Y-%m-%d %H:%M} UTC:"
    token = URL.fullmatch(lines[1]).group(1)
    assert find_link(token).id == link.id
    assert "shown only now" in lines[2] and f"fakturka share revoke {link.id}" in lines[2]
    assert len(lines) == 3


def test_share_a_client_by_name_with_the_default_expiry(ok, acme, monkeypatch):
    monkeypatch.setenv("FAKTURKA_PORTAL_URL", "https://faktury.example.cz")
    out = ok("share", "client", "acme")
    link = ShareLink.get()
    assert (link.kind, link.client_id) == ("client", acme.id)
    assert abs(link.expires_at - (utcnow() + timedelta(days=30))) < timedelta(minutes=1)
    assert out.startswith(f"Shared the invoices of Acme s.r.o. as link {link.id}, until ")
    assert re.search(r"^https://faktury\.example\.cz/s/[A-Za-z0-9_-]{32}$", out, re.MULTILINE)


def test_a_script_gets_the_new_link_as_json(ok, acme):
    invoice(acme, "20260001")
    made = json.loads(ok("share", "invoice", "20260001", "--expires", "7d", "--json"))
    link = ShareLink.get_by_id(made["id"])
    assert set(made) == {"id", "kind", "what", "url", "expires_at"}
    assert (made["kind"], made["what"]) == ("invoice", "20260001")
    assert find_link(URL.fullmatch(made["url"]).group(1)).id == link.id
    assert made["expires_at"].startswith(f"{link.expires_at:%Y-%m-%d}")

    made = json.loads(ok("share", "client", "acme", "--json"))
    assert (made["kind"], made["what"]) == ("client", "Acme s.r.o.")
    assert find_link(URL.fullmatch(made["url"]).group(1)).client_id == acme.id


@pytest.mark.parametrize("expires", ["30", "30d", "30D", " 7 d"])
def test_expires_takes_days(ok, acme, expires):
    invoice(acme, "20260001")
    ok("share", "invoice", "20260001", "--expires", expires)
    link = ShareLink.get()
    days = round((link.expires_at - link.created_at) / timedelta(days=1))
    assert days == int(expires.strip().rstrip("dD ").strip())


@pytest.mark.parametrize("expires", ["0", "3651d", "12w", "6m", "-3", "d", "1.5"])
def test_a_bad_expiry_is_one_sentence(cli, acme, expires):
    invoice(acme, "20260001")
    code, out, err = cli("share", "invoice", "20260001", "--expires", expires)
    assert code == 2 and out == ""
    assert err.startswith("fakturka: argument --expires: ") and len(err.strip().splitlines()) == 1
    assert not ShareLink.select().exists()


def test_a_draft_an_unknown_invoice_and_an_unknown_client_are_refused(cli, acme):
    invoice(acme, "20260001", status="draft")
    for argv, sentence in [
        (("share", "invoice", "20260001"), "Invoice 20260001 is a draft; send it first"),
        (("share", "invoice", "20269999"), "There is no invoice"),
        (("share", "client", "Nobody"), "There is no client called"),
    ]:
        code, out, err = cli(*argv)
        assert (code, out) == (1, ""), argv
        assert err.startswith(f"fakturka: {sentence}") and len(err.strip().splitlines()) == 1, err
    assert not ShareLink.select().exists()


def test_list_as_a_table_and_as_json_never_shows_a_token_or_hash(ok, acme, database):
    invoice(acme, "20260001")
    first = ok("share", "invoice", "20260001")
    ok("share", "client", "Acme s.r.o.", "--expires", "90")
    token = URL.search(first).group(1)
    link = find_link(token)
    record_view(database, link.id)
    record_view(database, link.id)
    ok("share", "revoke", "2")

    table = ok("share", "list")
    lines = table.splitlines()
    assert lines[0].split() == [
        "ID", "KIND", "WHAT", "CREATED", "(UTC)", "EXPIRES", "(UTC)", "STATE", "VIEWS", "LAST", "VIEW", "(UTC)",
    ]  # fmt: skip
    first_row = lines[2].split()
    assert first_row[:3] == ["1", "invoice", "20260001"] and "active" in first_row and "2" in first_row
    assert "revoked" in lines[3] and "Acme s.r.o." in lines[3]

    data = json.loads(ok("share", "list", "--json"))
    assert [set(d) for d in data] == [
        {"id", "kind", "what", "created_at", "expires_at", "revoked_at", "state", "views", "last_view"}
    ] * 2
    assert (data[0]["id"], data[0]["kind"], data[0]["what"], data[0]["state"], data[0]["views"]) == (
        1, "invoice", "20260001", "active", 2,
    )  # fmt: skip
    assert data[0]["last_view"] is not None and data[0]["revoked_at"] is None
    assert (data[1]["kind"], data[1]["what"], data[1]["state"], data[1]["views"]) == (
        "client",
        "Acme s.r.o.",
        "revoked",
        0,
    )
    for text in (table, json.dumps(data)):
        assert token not in text and link.token_hash not in text
        for stored in ShareLink.select():
            assert stored.token_hash not in text


def test_list_without_links_says_how_to_make_one(ok, database):
    assert "fakturka share invoice NUMBER" in ok("share", "list")
    assert json.loads(ok("share", "list", "--json")) == []


def test_revoke_then_revoke_again_and_an_unknown_id(cli, ok, acme):
    invoice(acme, "20260001")
    token = URL.search(ok("share", "invoice", "20260001")).group(1)
    assert ok("share", "revoke", "1") == (
        "Revoked share link 1 (invoice 20260001); its address opens nothing from now on.\n"
    )
    assert find_link(token) is None
    code, out, err = cli("share", "revoke", "1")
    assert (code, out) == (1, "")
    assert err.startswith("fakturka: Share link 1 was already revoked on ") and len(err.splitlines()) == 1
    code, out, err = cli("share", "revoke", "42")
    assert (code, out, err) == (1, "", "fakturka: There is no share link 42; see 'fakturka share list'.\n")
    code, _out, err = cli("share", "revoke", "abc")
    assert code == 2 and "share link id" in err
