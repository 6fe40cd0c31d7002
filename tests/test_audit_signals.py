"""The audit as Peewee signals: single rows through post_save/post_delete, bulk statements through
``statement_written``, the audit writer one receiver among any others."""

from __future__ import annotations

import json
from datetime import date

import pytest
from playhouse.signals import post_delete, post_save

from core.store.audit import AuditedModel, AuditRecord, insert_stored_rows
from core.store.audit_records import StatementWrite, audit_saved, audit_statement, statement_written
from core.store.bulk import audited_bulk_update
from core.store.models import Client, MoneyTransaction

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
def heard():
    """Every bulk announcement and single-row signal, as a subscriber other than the audit sees them."""
    events: list[tuple] = []

    def on_statement(sender, write: StatementWrite):
        rows = write.entries
        if rows is None:  # a query that builds the changes: run it as the audit writer does
            sql, params = write.changes_query
            rows = [
                (row_id, json.loads(changes)) for row_id, changes in AuditRecord._meta.database.execute_sql(sql, params)
            ]
        events.append(("statement", write.model.__name__, write.action, [row_id for row_id, _ in rows]))

    def on_save(sender, instance, created):
        events.append(("saved", sender.__name__, "create" if created else "update", [instance.id]))

    def on_delete(sender, instance):
        events.append(("deleted", sender.__name__, "delete", [instance.id]))

    statement_written.connect(on_statement, name="test_listener")
    post_save.connect(on_save, name="test_listener")
    post_delete.connect(on_delete, name="test_listener")
    try:
        yield events
    finally:
        statement_written.disconnect(name="test_listener")
        post_save.disconnect(name="test_listener")
        post_delete.disconnect(name="test_listener")


def records(table: str) -> list[tuple]:
    return list(
        AuditRecord.select(AuditRecord.row_id, AuditRecord.action)
        .where(AuditRecord.table_name == table)
        .order_by(AuditRecord.id)
        .tuples()
    )


def test_the_audit_writer_is_the_first_receiver_of_each_signal():
    assert statement_written._receiver_list[0][1] is audit_statement
    assert any(receiver is audit_saved and sender is AuditedModel for _, receiver, sender in post_save._receiver_list)


def test_one_row_is_announced_by_post_save_and_post_delete(heard):
    client = Client.create(name="Acme")
    client.email = "billing@acme.example"
    client.save()
    client.save()  # nothing changed: nothing written, nothing sent
    client.delete_instance()
    assert heard == [
        ("saved", "Client", "create", [client.id]),
        ("saved", "Client", "update", [client.id]),
        ("deleted", "Client", "delete", [client.id]),
    ]
    assert records("clients") == [(client.id, "create"), (client.id, "update"), (client.id, "delete")]


def test_each_bulk_statement_is_announced_once_with_its_rows(heard):
    ids = Client.insert_many([{"name": f"Client {n}"} for n in range(5)]).execute()
    Client.update(email="x@example.com").where(Client.id.in_(ids[:2])).execute()
    audited_bulk_update(Client, {ids[2]: {"name": "Renamed"}, ids[3]: {"name": "Client 3"}})  # one unchanged
    Client.delete().where(Client.id == ids[4]).execute()
    assert heard == [
        ("statement", "Client", "create", list(ids)),
        ("statement", "Client", "update", ids[:2]),
        ("statement", "Client", "update", [ids[2]]),
        ("statement", "Client", "delete", [ids[4]]),
    ]
    assert [action for _, action in records("clients")] == ["create"] * 5 + ["update"] * 3 + ["delete"]


def test_stored_row_inserts_are_announced_per_statement_and_built_in_sql(heard):
    names = ("source", "external_id", "transaction_type", "amount", "currency", "transacted_on")
    rows = [("bank", f"m-{n}", "income", 100 + n, "CZK", date(2026, 3, 1)) for n in range(3)]
    ids = insert_stored_rows(MoneyTransaction, names, rows)
    assert heard == [("statement", "MoneyTransaction", "create", ids)]
    stored = AuditRecord.select().where(AuditRecord.table_name == "money_transactions").order_by(AuditRecord.id)
    assert [(r.row_id, r.changes["amount"]) for r in stored] == [(i, [None, 100 + n]) for n, i in enumerate(ids)]


def test_a_subscriber_that_fails_rolls_the_write_and_its_records_back():
    def refuse(sender, write):
        raise RuntimeError("index unavailable")

    statement_written.connect(refuse, name="refuse")
    try:
        with pytest.raises(RuntimeError):
            Client.insert_many([{"name": "Never"}]).execute()
    finally:
        statement_written.disconnect(name="refuse")
    assert Client.select().count() == 0
    assert records("clients") == []
