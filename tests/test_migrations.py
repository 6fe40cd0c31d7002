"""Schema migrations: old databases upgrade in place, the schema matches the models.

A database made at version 1 (the integrations platform's seed tables) must
open with today's code with its data intact. Add a test here with every new
migration.
"""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from peewee import SQL, IntegrityError, fn

from core.platform.credentials import encrypt, get_credentials
from core.platform.key_file import load_or_create_key
from core.store import migrations
from core.store.audit import AuditRecord
from core.store.db import DatabaseOpenError, close_database, db, open_database
from core.store.migrations import LATEST, schema_version
from core.store.models import (
    ALL_MODELS,
    Client,
    Invoice,
    MoneyTransaction,
    PluginConfiguration,
    Project,
    ShareLink,
    SyncHistory,
    WorkEntry,
)

V1_TABLES = {"plugin_configurations", "sync_histories", "money_transactions"}


def tables() -> set[str]:
    return {
        name
        for (name,) in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    }


def columns(table: str) -> list[tuple]:
    """(name, type, notnull, pk) per column, from PRAGMA table_info."""
    return [(row[1], row[2], row[3], row[5]) for row in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()]


def make_v1_database(path: Path) -> None:
    open_database(path, migrate=False)
    assert schema_version(db) == 0
    assert migrations.migrate(db, target=1) == 1
    assert tables() == V1_TABLES


# -- upgrading a version-1 database ------------------------------------------------------


def test_version_1_database_upgrades_with_its_data(tmp_path):
    path = tmp_path / "old.db"
    make_v1_database(path)
    close_database()
    blob = encrypt("fio", {"token": "fio-secret"}, load_or_create_key())
    ts = "2024-11-02 08:15:30.123456"
    # Seeded the way the older platform wrote it: a plain connection, which
    # (SQLite's default) does not enforce foreign keys. With enforcement on, a
    # version-1 money_transactions cannot be written at all: its invoice_id
    # references "invoices", which only version 2 creates.
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "INSERT INTO plugin_configurations (id, created_at, updated_at, plugin_name, enabled, "
            "credentials, settings, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (1, ts, ts, "fio", 1, blob, json.dumps({"account": "2900123456"}), json.dumps({"last_id": 991})),
        )
        conn.execute(
            "INSERT INTO plugin_configurations (id, created_at, updated_at, plugin_name) "
            "VALUES (2, ?, ?, 'csv-import')",
            (ts, ts),
        )
        conn.execute(
            "INSERT INTO sync_histories (id, plugin_name, status, started_at, completed_at, "
            "records_processed, records_created, records_updated, records_skipped, metadata, log, "
            "trigger, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                1,
                "fio",
                "completed",
                "2024-11-02 08:15:31",
                "2024-11-02 08:15:45",
                3,
                2,
                0,
                1,
                json.dumps({"account": "2900123456"}),
                "fetched 3\n",
                "cli",
                ts,
                ts,
            ),
        )
        conn.execute(
            "INSERT INTO sync_histories (id, plugin_name, status, error_message, created_at, updated_at) "
            "VALUES (2, 'fio', 'failed', 'HTTP 409: too many requests', ?, ?)",
            (ts, ts),
        )
        conn.execute(
            "INSERT INTO money_transactions (id, created_at, updated_at, external_id, source, "
            "transaction_type, amount, currency, description, transacted_on, counterparty, "
            "counterparty_account, reference, raw_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                1,
                ts,
                ts,
                "26000001",
                "fio",
                "income",
                1234550,
                "CZK",
                "Platba faktury 20240017",
                "2024-11-01",
                "Klient s.r.o.",
                "123456789/0800",
                "20240017",
                json.dumps({"column22": 26000001}, ensure_ascii=False),
            ),
        )
        conn.execute(
            "INSERT INTO money_transactions (id, created_at, updated_at, source, transaction_type, "
            "amount, transacted_on) VALUES (2, ?, ?, 'csv-import', 'expense', 9900, '2024-10-30')",
            (ts, ts),
        )
    conn.close()

    assert open_database(path) == path

    assert schema_version(db) == LATEST
    assert tables() == {m._meta.table_name for m in ALL_MODELS}
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == []

    fio = PluginConfiguration.get(PluginConfiguration.plugin_name == "fio")
    assert fio.enabled is True
    assert fio.settings == {"account": "2900123456"}
    assert fio.state == {"last_id": 991}
    assert bytes(fio.credentials) == blob
    assert fio.created_at == datetime(2024, 11, 2, 8, 15, 30, 123456)
    assert get_credentials("fio") == {"token": "fio-secret"}
    bare = PluginConfiguration.get_by_id(2)
    assert (bare.enabled, bare.credentials, bare.settings, bare.state) == (False, None, {}, {})

    done = SyncHistory.get_by_id(1)
    assert (done.status, done.trigger, done.records_processed, done.records_skipped) == ("completed", "cli", 3, 1)
    assert done.duration.total_seconds() == 14
    assert done.metadata == {"account": "2900123456"}
    assert done.log == "fetched 3\n"
    failed = SyncHistory.get_by_id(2)
    assert (failed.status, failed.error_message, failed.duration) == ("failed", "HTTP 409: too many requests", None)

    # Version 8 names a Fio API movement as a Fio CSV export does, with an audit record of the rename.
    tx = MoneyTransaction.get(MoneyTransaction.external_id == "fio:26000001")
    assert (tx.source, tx.transaction_type, tx.amount, tx.currency) == ("fio", "income", 1234550, "CZK")
    rename = AuditRecord.get((AuditRecord.row_id == tx.id) & (AuditRecord.source == "migration 8"))
    assert (rename.table_name, rename.action) == ("money_transactions", "update")
    assert rename.changes == {"external_id": ["26000001", "fio:26000001"]}
    assert str(tx.amount_value) == "12345.50"
    assert tx.transacted_on == date(2024, 11, 1)
    assert tx.raw_data == {"column22": 26000001}
    assert tx.invoice is None
    expense = MoneyTransaction.get_by_id(2)
    assert (expense.external_id, expense.currency, expense.raw_data) == (None, "EUR", {})

    # The new tables work, and a v1 row can point at a v2 row.
    client = Client.create(name="Klient s.r.o.")
    invoice = Invoice.create(
        number="20240017",
        year=2024,
        seq=17,
        client=client,
        currency="CZK",
        issued_on=date(2024, 10, 15),
        due_on=date(2024, 10, 29),
        variable_symbol="20240017",
    )
    tx.invoice = invoice
    tx.save()
    assert MoneyTransaction.get_by_id(1).invoice.number == "20240017"
    assert [r.action for r in AuditRecord.select().where(AuditRecord.table_name == "clients")] == ["create"]
    assert db.execute_sql("PRAGMA foreign_key_check").fetchall() == []

    # And it all survives another open.
    close_database()
    open_database(path)
    assert Client.get().name == "Klient s.r.o."
    assert PluginConfiguration.select().count() == 2


def indexes(table: str) -> set[str]:
    return {
        name
        for (name,) in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
        )
    }


def test_version_4_database_gets_leaner_indexes_and_keeps_its_rows(tmp_path):
    """Migration 5 drops the indexes no query needs and makes two partial; rows and queries are unchanged."""
    path = tmp_path / "v4.db"
    open_database(path, migrate=False)
    migrations.migrate(db, target=4)
    assert {"money_transactions_match_status", "audit_records_table_name"} <= (
        indexes("money_transactions") | indexes("audit_records")
    )
    client = Client.create(name="Klient")
    invoice = Invoice.create(
        number="20260001",
        year=2026,
        seq=1,
        client=client,
        currency="CZK",
        issued_on=date(2026, 1, 5),
        due_on=date(2026, 1, 19),
        total=1000,
    )
    paid = MoneyTransaction.create(
        source="fio",
        transaction_type="income",
        amount=1000,
        currency="CZK",
        transacted_on=date(2026, 1, 10),
        invoice=invoice,
        match_status="matched",
    )
    review = MoneyTransaction.create(
        source="fio",
        transaction_type="income",
        amount=5,
        currency="CZK",
        transacted_on=date(2026, 1, 11),
        match_status="review",
    )
    close_database()

    open_database(path)
    assert schema_version(db) == LATEST
    assert "money_transactions_match_status" not in indexes("money_transactions")
    assert "audit_records_table_name" not in indexes("audit_records")
    assert {"money_transactions_needs_attention", "money_transactions_invoice_id"} <= indexes("money_transactions")
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    from core.banking.matching import transactions_query
    from core.billing.payments import amount_paid

    assert amount_paid(Invoice.get_by_id(invoice.id)) == 1000
    assert [t.id for t in transactions_query(status="review")] == [review.id]
    assert [t.id for t in transactions_query(status="matched")] == [paid.id]


def test_version_5_database_gets_cheap_check_constraints_and_keeps_its_rows(tmp_path):
    """Migration 6 rewrites "x IN (a, b, c)" CHECKs as "x = a OR ...": same rule, same rows, no copy."""
    path = tmp_path / "v5.db"
    open_database(path, migrate=False)
    migrations.migrate(db, target=5)
    client = Client.create(name="Klient")
    invoice = Invoice.create(
        number="20260001",
        year=2026,
        seq=1,
        client=client,
        currency="CZK",
        issued_on=date(2026, 1, 5),
        due_on=date(2026, 1, 19),
        total=1000,
        status="sent",
    )
    MoneyTransaction.create(
        source="fio",
        transaction_type="income",
        amount=1000,
        currency="CZK",
        transacted_on=date(2026, 1, 10),
        match_status="review",
    )
    audit_count = AuditRecord.select().count()
    close_database()

    open_database(path)
    assert schema_version(db) == LATEST
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [i.status for i in Invoice.select()] == ["sent"] and invoice.id == Invoice.get().id
    assert [t.match_status for t in MoneyTransaction.select()] == ["review"]
    assert AuditRecord.select().count() == audit_count
    for table, _old, new in migrations.V6_CHECKS:
        sql = db.execute_sql("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
        assert new in sql


def test_version_6_leaves_the_old_constraints_where_sqlite_refuses_schema_edits(tmp_path, monkeypatch):
    """An SQLite in "defensive" mode refuses writable_schema; the IN-list CHECKs mean the same, so the
    upgrade still completes (only the speed-up is missing) and nothing is half changed."""
    path = tmp_path / "defensive.db"
    open_database(path, migrate=False)
    migrations.migrate(db, target=5)
    before = db.execute_sql("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    execute = db.execute_sql
    monkeypatch.setattr(
        db,
        "execute_sql",
        lambda sql, *a, **kw: None if sql == "PRAGMA writable_schema = ON" else execute(sql, *a, **kw),
    )  # so the schema stays read-only, as in defensive mode
    assert migrations.migrate(db, target=6) == 6  # version 6 alone: later versions add to the schema
    monkeypatch.undo()
    assert db.execute_sql("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == before
    assert db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    with pytest.raises(IntegrityError, match="CHECK"):
        MoneyTransaction.create(**tx_fields(match_status="maybe"))


def test_no_check_constraint_lists_three_or_more_values(database):
    """SQLite builds a temporary b-tree for "IN (a, b, c)" each time a CHECK runs, i.e. per row (migration 6)."""
    schema = db.execute_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL").fetchall()
    listed = [values for (sql,) in schema for values in re.findall(r"CHECK \([^()]*\bIN \(([^()]*)\)", sql)]
    assert listed, "the pattern finds the two-value CHECKs that remain"
    assert all(values.count(",") < 2 for values in listed), listed


@pytest.mark.parametrize(
    "table, column, bad, valid",
    [
        ("invoices", "status", "lost", "paid"),
        ("sync_histories", "status", "stuck", "failed"),
        ("sync_histories", "trigger", "cron", "schedule"),
        ("money_transactions", "match_status", "maybe", "ignored"),
    ],
)
def test_rewritten_checks_still_refuse_what_they_refused(database, table, column, bad, valid):
    client = Client.create(name="Klient")
    rows = {
        "invoices": lambda: Invoice.create(
            number="20260001",
            year=2026,
            seq=1,
            client=client,
            currency="CZK",
            issued_on=date(2026, 1, 5),
            due_on=date(2026, 1, 19),
            total=1000,
        ),
        "sync_histories": lambda: SyncHistory.create(plugin_name="fio", started_at=datetime(2026, 1, 1)),
        "money_transactions": lambda: MoneyTransaction.create(**tx_fields()),
    }
    row_id = rows[table]().id
    update = f'UPDATE "{table}" SET "{column}" = ? WHERE id = ?'
    with pytest.raises(IntegrityError, match="CHECK"):
        db.execute_sql(update, (bad, row_id))
    db.execute_sql(update, (valid, row_id))
    assert db.execute_sql(f'SELECT "{column}" FROM "{table}" WHERE id = ?', (row_id,)).fetchone()[0] == valid


def test_audit_records_refuse_an_unknown_action(database):
    insert = (
        "INSERT INTO audit_records (table_name, row_id, action, changes, source, created_at) "
        "VALUES ('clients', 1, ?, '{}', 'manual', '2026-01-01 00:00:00')"
    )
    with pytest.raises(IntegrityError, match="CHECK"):
        db.execute_sql(insert, ("rename",))
    for action in ("create", "update", "delete"):
        db.execute_sql(insert, (action,))


def plan(query) -> str:
    sql, params = query.sql()
    return " | ".join(row[-1] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))


def test_partial_indexes_serve_the_queries_they_are_for(database):
    """Payments of an invoice and the rare match states are index look-ups, not scans of every movement."""
    from core.banking.matching import transactions_query
    from core.billing.payments import _paid_query

    assert "USING INDEX money_transactions_invoice_id" in plan(_paid_query(1))
    assert "USING INDEX money_transactions_invoice_id" in plan(
        MoneyTransaction.select().where(MoneyTransaction.invoice == 1)
    )
    for status in ("review", "ignored"):
        assert "USING INDEX money_transactions_needs_attention" in plan(transactions_query(status=status).limit(50))
        assert "USING INDEX money_transactions_needs_attention" in plan(
            transactions_query(status=status).select_from(fn.COUNT(SQL("*")))
        )


def test_version_9_database_gets_share_links_and_keeps_its_rows(tmp_path):
    """Version 10 adds share_links: ids never reused, one kind each, found by the token's hash (unique)."""
    path = tmp_path / "v9.db"
    open_database(path, migrate=False)
    assert migrations.migrate(db, target=9) == 9
    assert "share_links" not in tables()
    db.execute_sql(
        "INSERT INTO clients (id, created_at, updated_at, name) VALUES (1, '2026-01-01', '2026-01-01', 'Acme')"
    )
    close_database()
    open_database(path)
    assert schema_version(db) == LATEST
    assert Client.get_by_id(1).name == "Acme"
    ts = "2026-01-02 10:00:00"
    insert = (
        "INSERT INTO share_links (created_at, updated_at, kind, invoice_id, client_id, token_hash, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    db.execute_sql(insert, (ts, ts, "client", None, 1, "a" * 64, ts))
    for kind, invoice_id, client_id in [("client", None, None), ("invoice", None, 1), ("other", None, 1)]:
        with pytest.raises(IntegrityError, match="CHECK"):
            db.execute_sql(insert, (ts, ts, kind, invoice_id, client_id, "b" * 64, ts))
    with pytest.raises(IntegrityError, match="UNIQUE"):
        db.execute_sql(insert, (ts, ts, "client", None, 1, "a" * 64, ts))
    # AUTOINCREMENT: the id of a deleted link is not given again (views are counted by link id).
    db.execute_sql("DELETE FROM share_links")
    db.execute_sql(insert, (ts, ts, "client", None, 1, "c" * 64, ts))
    assert db.execute_sql("SELECT id FROM share_links").fetchone()[0] == 2
    assert "USING INDEX share_links_client_id" in plan(ShareLink.select().where(ShareLink.client == 1))
    assert "USING INDEX share_links_invoice_id" in plan(ShareLink.select().where(ShareLink.invoice == 1))
    assert "USING INDEX share_links_token_hash" in plan(ShareLink.select().where(ShareLink.token_hash == "a" * 64))


def test_migrate_stops_at_the_target_and_resumes(tmp_path):
    path = tmp_path / "steps.db"
    make_v1_database(path)
    assert migrations.migrate(db, target=1) == 1  # already there: nothing to do
    assert tables() == V1_TABLES
    assert migrations.migrate(db) == LATEST
    assert schema_version(db) == LATEST


def test_fresh_database_is_at_latest(tmp_path):
    path = open_database(tmp_path / "fresh.db")
    assert schema_version(db) == LATEST
    assert tables() == {m._meta.table_name for m in ALL_MODELS}
    assert path.exists()


def test_opening_twice_is_harmless(tmp_path):
    path = tmp_path / "twice.db"
    open_database(path)
    Client.create(name="Only one")
    schema = db.execute_sql("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
    close_database()

    open_database(path)
    open_database(path)  # even without closing in between
    assert schema_version(db) == LATEST
    assert migrations.migrate(db) == LATEST
    assert db.execute_sql("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert [c.name for c in Client.select()] == ["Only one"]


def test_newer_database_is_refused(tmp_path):
    path = tmp_path / "future.db"
    open_database(path)
    db.execute_sql(f"PRAGMA user_version = {LATEST + 1}")
    close_database()
    before = path.read_bytes()

    with pytest.raises(DatabaseOpenError, match="newer") as info:
        open_database(path)
    assert str(LATEST + 1) in str(info.value)
    assert db.is_closed()
    assert path.read_bytes() == before
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST + 1


def test_every_migration_step_bumps_the_version(tmp_path):
    open_database(tmp_path / "steps.db", migrate=False)
    for version in range(1, LATEST + 1):
        assert migrations.migrate(db, target=version) == version


# -- the schema matches the models ---------------------------------------------------------


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_models_match_schema(database, model):
    table = model._meta.table_name
    in_db = columns(table)
    assert in_db, f"table {table} is missing"
    assert {name for name, *_ in in_db} == {f.column_name for f in model._meta.sorted_fields}


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_models_match_schema_nullability(database, model):
    notnull = {name: bool(nn) for name, _, nn, _ in columns(model._meta.table_name)}
    for field in model._meta.sorted_fields:
        assert notnull[field.column_name] == (not field.null), f"{model.__name__}.{field.name}"


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_model_unique_constraints_exist(database, model):
    table = model._meta.table_name
    unique_in_db = set()
    for _, name, unique, *_ in db.execute_sql(f'PRAGMA index_list("{table}")').fetchall():
        if unique:
            cols = tuple(r[2] for r in db.execute_sql(f'PRAGMA index_info("{name}")').fetchall())
            unique_in_db.add(cols)
    wanted = {(f.column_name,) for f in model._meta.sorted_fields if f.unique}
    for fields, unique in model._meta.indexes:
        if unique:
            wanted.add(tuple(model._meta.fields[f].column_name for f in fields))
    assert wanted <= unique_in_db


# -- constraints ---------------------------------------------------------------------------------


def tx_fields(**kw) -> dict:
    return {"source": "fio", "transaction_type": "income", "amount": 100, "transacted_on": date(2025, 1, 5), **kw}


@pytest.mark.parametrize("amount", [0, -1, -12345])
def test_money_transaction_amount_must_be_positive(database, amount):
    with pytest.raises(IntegrityError, match="CHECK"):
        MoneyTransaction.create(**tx_fields(amount=amount))
    with pytest.raises(IntegrityError, match="CHECK"):
        db.execute_sql(
            "INSERT INTO money_transactions (created_at, updated_at, source, transaction_type, amount, "
            "transacted_on) VALUES ('2025-01-01', '2025-01-01', 'fio', 'income', ?, '2025-01-01')",
            (amount,),
        )
    ok = MoneyTransaction.create(**tx_fields(amount=1))
    with pytest.raises(IntegrityError, match="CHECK"):
        MoneyTransaction.update(amount=amount).where(MoneyTransaction.id == ok.id).execute()
    assert [t.amount for t in MoneyTransaction.select()] == [1]


def test_money_transaction_external_id_unique_per_source(database):
    MoneyTransaction.create(**tx_fields(external_id="A1"))
    with pytest.raises(IntegrityError, match="UNIQUE"):
        MoneyTransaction.create(**tx_fields(external_id="A1"))
    MoneyTransaction.create(**tx_fields(source="airbank", external_id="A1"))  # other source: fine
    for _ in range(3):  # no external id: any number of them
        MoneyTransaction.create(**tx_fields(external_id=None))
    assert MoneyTransaction.select().count() == 5
    assert MoneyTransaction.select().where(MoneyTransaction.external_id.is_null()).count() == 3


def test_only_one_running_timer(database):
    project = Project.create(client=Client.create(name="C"), name="P")
    started = datetime(2025, 1, 6, 9, 0)
    first = WorkEntry.create(project=project, date=started.date(), started_at=started)
    with pytest.raises(IntegrityError, match="UNIQUE"):
        WorkEntry.create(project=project, date=started.date(), started_at=datetime(2025, 1, 6, 10, 0))
    # Finished timers and plain entries do not count.
    WorkEntry.create(project=project, date=started.date(), minutes=30)
    WorkEntry.create(
        project=project,
        date=started.date(),
        started_at=datetime(2025, 1, 5, 9, 0),
        ended_at=datetime(2025, 1, 5, 10, 0),
        minutes=60,
    )
    first.ended_at = datetime(2025, 1, 6, 9, 45)
    first.minutes = 45
    first.save()
    second = WorkEntry.create(project=project, date=started.date(), started_at=datetime(2025, 1, 6, 10, 0))
    # Restarting the stopped one while another runs is refused as well.
    first.ended_at = None
    with pytest.raises(IntegrityError, match="UNIQUE"):
        first.save()
    running = WorkEntry.select().where(WorkEntry.started_at.is_null(False) & WorkEntry.ended_at.is_null())
    assert [e.id for e in running] == [second.id]
