"""Share links (core.sharing): random tokens stored only as hashes, expiry, revoking, audit, view counts."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from helpers import mode

from core.billing.clients import add_client
from core.billing.invoicing import InvoiceError
from core.sharing import links
from core.sharing.links import (
    DEFAULT_EXPIRY_DAYS,
    ShareError,
    create_client_link,
    create_invoice_link,
    find_link,
    link_invoices,
    list_links,
    revoke_link,
    share_url,
)
from core.sharing.views import ViewRecorder, record_view, view_counts, views_path
from core.store.audit import REDACTED, AuditRecord
from core.store.audit_verify import verify_audit
from core.store.db import close_database, db, open_database
from core.store.models import Invoice, ShareLink

T0 = datetime(2026, 3, 1, 9, 30)
_numbers = iter(range(1, 10_000))


def make_invoice(client, status="sent") -> Invoice:
    n = next(_numbers)
    return Invoice.create(
        number=f"2026{n:04}",
        year=2026,
        seq=n,
        client=client,
        status=status,
        currency="CZK",
        issued_on=date(2026, 2, 1),
        due_on=date(2026, 2, 15),
        total=100000,
    )


@pytest.fixture
def acme(database):
    return add_client(name="Acme s.r.o.", currency="CZK")


@pytest.fixture
def sent(acme):
    return make_invoice(acme)


def share_records(row_id: int) -> list[AuditRecord]:
    return list(
        AuditRecord.select()
        .where((AuditRecord.table_name == "share_links") & (AuditRecord.row_id == row_id))
        .order_by(AuditRecord.id)
    )


# -- the token ----------------------------------------------------------------------------------------


def test_a_token_is_192_random_bits_and_only_its_hash_is_stored(sent):
    made = [create_invoice_link(sent.number) for _ in range(20)]
    tokens = [token for _link, token in made]
    assert len(set(tokens)) == 20
    for link, token in made:
        assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)  # token_urlsafe(24): 24 bytes, 192 bits
        stored = ShareLink.get_by_id(link.id)
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in {str(v) for v in ShareLink.select().where(ShareLink.id == link.id).dicts().get().values()}


def test_the_token_is_nowhere_in_the_database_file_nor_the_audit_trail(sent, database):
    link, token = create_invoice_link(sent.number)
    revoke_link(link.id)
    audit_text = " ".join(
        f"{r.changes} {r.source}" for r in AuditRecord.select().where(AuditRecord.table_name == "share_links")
    )
    assert token not in audit_text
    assert link.token_hash not in audit_text
    close_database()  # the WAL is checkpointed into the file
    raw = b"".join(p.read_bytes() for p in database.parent.iterdir() if p.is_file())
    assert token.encode() not in raw
    assert link.token_hash.encode() in raw  # the hash is what is kept


def test_making_and_revoking_are_audited_under_share_without_the_hash(sent):
    link, _token = create_invoice_link(sent.number, expires_days=10, now=T0)
    revoke_link(link.id, now=T0 + timedelta(days=1))
    create, revoke = share_records(link.id)
    assert (create.action, create.source, revoke.action, revoke.source) == ("create", "share", "update", "share")
    assert create.changes == {
        "kind": [None, "invoice"],
        "invoice": [None, sent.id],
        "token_hash": [None, REDACTED],
        "expires_at": [None, (T0 + timedelta(days=10)).isoformat()],
    }
    assert revoke.changes == {"revoked_at": [None, (T0 + timedelta(days=1)).isoformat()]}
    assert verify_audit().clean


def test_the_share_url_is_the_portal_address_with_the_token(monkeypatch):
    monkeypatch.delenv("FAKTURKA_PORTAL_URL", raising=False)
    assert share_url("abc") == "http://127.0.0.1:8765/s/abc"
    monkeypatch.setenv("FAKTURKA_PORTAL_URL", "https://portal.example.cz/")
    assert share_url("abc") == "https://portal.example.cz/s/abc"


# -- what can be shared ---------------------------------------------------------------------------------


def test_a_draft_or_an_unknown_invoice_is_refused(acme):
    draft = make_invoice(acme, status="draft")
    with pytest.raises(ShareError, match=f"Invoice {draft.number} is a draft; send it first"):
        create_invoice_link(draft.number)
    with pytest.raises(InvoiceError, match="There is no invoice"):
        create_invoice_link("19990001")
    assert ShareLink.select().count() == 0
    assert not AuditRecord.select().where(AuditRecord.table_name == "share_links").exists()


@pytest.mark.parametrize("days", [0, -1, 3651, True, "30", 2.5])
def test_the_expiry_is_1_to_3650_whole_days(sent, days):
    with pytest.raises(ShareError, match="1 to 3650"):
        create_invoice_link(sent.number, expires_days=days)
    assert ShareLink.select().count() == 0


def test_a_client_is_found_by_name_in_any_case_and_reaches_its_non_draft_invoices(acme, sent):
    other = add_client(name="Beta", currency="CZK")
    make_invoice(other)
    make_invoice(acme, status="draft")
    paid = make_invoice(acme, status="paid")
    link, token = create_client_link("ACME S.R.O.", now=T0)
    assert (link.kind, link.client_id, link.invoice_id) == ("client", acme.id, None)
    assert link.expires_at == T0 + timedelta(days=DEFAULT_EXPIRY_DAYS)
    found = find_link(token, now=T0)
    assert found.id == link.id
    assert {i.id for i in link_invoices(found)} == {sent.id, paid.id}


def test_an_invoice_link_reaches_that_invoice_only(acme, sent):
    make_invoice(acme)
    link, token = create_invoice_link(sent.number, now=T0)
    assert [i.id for i in link_invoices(find_link(token, now=T0))] == [sent.id]


# -- finding a link by its token --------------------------------------------------------------------------


def test_a_link_works_until_it_expires(sent):
    link, token = create_invoice_link(sent.number, expires_days=5, now=T0)
    assert find_link(token, now=T0).id == link.id
    assert find_link(token, now=T0 + timedelta(days=5, seconds=-1)).id == link.id
    assert find_link(token, now=T0 + timedelta(days=5)) is None
    assert [s.state for s in list_links(now=T0 + timedelta(days=6))] == ["expired"]


def test_find_link_says_none_for_every_bad_token_alike(sent):
    link, token = create_invoice_link(sent.number, expires_days=5, now=T0)
    _expired, expired_token = create_invoice_link(sent.number, expires_days=1, now=T0 - timedelta(days=2))
    revoked, revoked_token = create_invoice_link(sent.number, now=T0)
    revoke_link(revoked.id, now=T0)
    bad = [
        "",
        "abc",
        token[:-1],
        token + "x",
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        token + "!",
        token.upper() if token.upper() != token else token.lower(),
        "x" * 10_000,
        link.token_hash,  # the stored hash is not a token
        "ä" * 32,
        None,
        123,
        expired_token,
        revoked_token,
    ]
    for candidate in bad:
        assert find_link(candidate, now=T0) is None, candidate
    assert find_link(token, now=T0).id == link.id


def test_find_link_is_one_index_seek(sent):
    create_invoice_link(sent.number)
    plan = " ".join(
        str(row[-1])
        for row in db.execute_sql(
            'EXPLAIN QUERY PLAN SELECT * FROM "share_links" WHERE "token_hash" = ?', ("0" * 64,)
        ).fetchall()
    )
    assert "USING INDEX share_links_token_hash" in plan


def test_find_link_works_on_a_read_only_connection(sent, database):
    link, token = create_invoice_link(sent.number)
    close_database()
    open_database(database, read_only=True)
    assert find_link(token).id == link.id
    assert find_link("nope" * 8) is None
    close_database()


# -- revoking ---------------------------------------------------------------------------------------------


def test_revoking_is_final_and_twice_is_a_sentence(sent):
    link, token = create_invoice_link(sent.number, now=T0)
    revoked = revoke_link(link.id, now=T0 + timedelta(hours=1))
    assert revoked.revoked_at == T0 + timedelta(hours=1)
    assert find_link(token, now=T0 + timedelta(hours=2)) is None
    with pytest.raises(ShareError, match=f"Share link {link.id} was already revoked on 2026-03-01"):
        revoke_link(link.id)
    with pytest.raises(ShareError, match="There is no share link 999"):
        revoke_link(999)
    assert len(share_records(link.id)) == 2


def test_ids_are_never_reused(sent):
    sql = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = 'share_links'").fetchone()[0]
    assert "AUTOINCREMENT" in sql


# -- views -------------------------------------------------------------------------------------------------


def test_views_are_counted_beside_the_database_with_the_link_id_only(sent, database):
    link, _token = create_invoice_link(sent.number, now=T0)
    other, _ = create_invoice_link(sent.number, now=T0)
    assert view_counts(database) == {}
    assert not views_path(database).exists()
    record_view(database, link.id, at=T0 + timedelta(minutes=1))
    record_view(database, link.id, at=T0 + timedelta(minutes=5))
    path = views_path(database)
    assert path == database.with_name(database.name + ".views")
    assert mode(path) == 0o600
    assert view_counts(database) == {link.id: (2, T0 + timedelta(minutes=5))}
    summaries = {s.id: s for s in list_links(now=T0)}
    assert (summaries[link.id].views, summaries[link.id].last_view) == (2, T0 + timedelta(minutes=5))
    assert (summaries[other.id].views, summaries[other.id].last_view, summaries[other.id].state) == (0, None, "active")
    conn = sqlite3.connect(path)
    try:
        columns = [row[1] for row in conn.execute('PRAGMA table_info("views")')]
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert columns == ["link_id", "viewed_at"]
    assert tables == ["views"]


def count_from_threads(record, threads: int = 4, views: int = 25) -> list[Exception]:
    """Call ``record()`` ``views`` times in each of ``threads`` threads at once; the errors raised."""
    errors = []

    def worker():
        try:
            for _ in range(views):
                record()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    started = [threading.Thread(target=worker) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return errors


def test_several_workers_count_views_at_once(sent, database):
    link, _token = create_invoice_link(sent.number)
    assert count_from_threads(lambda: record_view(database, link.id)) == []
    assert view_counts(database)[link.id][0] == 100


def test_a_recorder_keeps_one_connection_and_counts_from_several_threads(sent, database):
    link, _token = create_invoice_link(sent.number)
    recorder = ViewRecorder(database)
    errors = count_from_threads(lambda: recorder.record(link.id))
    record_view(database, link.id)  # another writer (a second portal) at the same time
    kept = recorder._conn
    recorder.record(link.id, at=T0)
    assert recorder._conn is kept  # not reopened per view
    recorder.close()
    assert errors == []
    assert view_counts(database)[link.id][0] == 102
    assert mode(views_path(database)) == 0o600


def test_a_recorder_counts_into_a_new_file_when_its_file_was_removed(sent, database):
    link, _token = create_invoice_link(sent.number)
    recorder = ViewRecorder(database)
    recorder.record(link.id)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{views_path(database)}{suffix}").unlink(missing_ok=True)
    recorder.record(link.id, at=T0)
    try:
        assert view_counts(database) == {link.id: (1, T0)}  # in the file a reader finds, not a deleted one
        assert mode(views_path(database)) == 0o600
    finally:
        recorder.close()


def test_a_recorder_refuses_an_id_that_is_not_an_int_and_creates_nothing(database):
    recorder = ViewRecorder(database)
    with pytest.raises(TypeError):
        recorder.record("1")
    assert not views_path(database).exists()


def test_a_views_file_without_its_table_counts_nothing(database):
    views_path(database).touch()
    assert view_counts(database) == {}


def test_list_links_names_what_each_link_opens(acme, sent):
    inv_link, _ = create_invoice_link(sent.number, now=T0)
    client_link, _ = create_client_link("acme", now=T0)
    revoke_link(client_link.id, now=T0)
    summaries = list_links(now=T0)
    assert [(s.id, s.kind, s.what, s.state) for s in summaries] == [
        (inv_link.id, "invoice", sent.number, "active"),
        (client_link.id, "client", "Acme s.r.o.", "revoked"),
    ]
    assert summaries[1].revoked_at == T0
    assert summaries[0].created_at == T0 and summaries[0].expires_at == T0 + timedelta(days=30)


def test_links_module_exports_the_portal_api():
    for name in ("DEFAULT_EXPIRY_DAYS", "create_invoice_link", "create_client_link", "revoke_link", "find_link"):
        assert hasattr(links, name)
    assert links.DEFAULT_EXPIRY_DAYS == 30
