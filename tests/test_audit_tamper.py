"""The audit trail cannot be rewritten in place, and ``fakturka audit verify`` finds what was done around it.

SQLite refuses every overwrite of a written record (triggers, migration 7); the model refuses the same
writes before SQL is sent. Someone with the file can still drop the triggers or write SQL past the
model: the replay then reports the difference (docs/architecture.md, audit trail).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date

import pytest
from peewee import DatabaseError, IntegrityError

from core.demo import load_demo
from core.errors import FakturkaError
from core.platform.sync import run_sync
from core.store import migrations
from core.store.audit import AuditRecord, insert_stored_rows
from core.store.audit_records import AuditRewriteError
from core.store.audit_verify import MAX_KEPT_FINDINGS, verify_audit
from core.store.bulk import audited_bulk_update
from core.store.db import close_database, db, open_database
from core.store.migrations import LATEST, schema_version
from core.store.models import Client, MoneyTransaction

TODAY = date(2026, 6, 15)
COLUMNS = "id, table_name, row_id, action, changes, source, sync_run, created_at"
ESC = "\x1b"


def audit_rows() -> list[tuple]:
    return db.execute_sql(f"SELECT {COLUMNS} FROM audit_records ORDER BY id").fetchall()


def forged_values(record_id: int) -> tuple:
    return (record_id, "clients", 1, "create", '{"name":[null,"Forged"]}', "forged", None, "2026-01-01 00:00:00")


def findings(kind: str | None = None) -> list[dict]:
    found = verify_audit().as_dict()["findings"]
    return [f for f in found if kind is None or f["kind"] == kind]


def tx_row(n: int) -> dict:
    return {
        "source": "fio",
        "external_id": f"tx-{n}",
        "transaction_type": "income",
        "amount": 1000 + n,
        "currency": "CZK",
        "transacted_on": date(2026, 1, 5),
        "raw_data": {"id": n},
    }


# -- SQLite refuses every in-place rewrite --------------------------------------------------------------

OVERWRITES = {
    "REPLACE INTO": f"REPLACE INTO audit_records ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT OR REPLACE": f"INSERT OR REPLACE INTO audit_records ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "ON CONFLICT DO UPDATE": f"INSERT INTO audit_records ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET changes = excluded.changes, source = excluded.source",
    "ON CONFLICT DO NOTHING": f"INSERT INTO audit_records ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT DO NOTHING",
    "INSERT OR IGNORE": f"INSERT OR IGNORE INTO audit_records ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT": f"INSERT INTO audit_records ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
}


@pytest.mark.parametrize("sql", OVERWRITES.values(), ids=OVERWRITES.keys())
@pytest.mark.parametrize("recursive_triggers", [False, True], ids=["plain", "recursive-triggers"])
def test_an_insert_onto_an_existing_audit_record_fails_and_changes_nothing(database, sql, recursive_triggers):
    Client.create(name="Acme")
    before = audit_rows()
    db.execute_sql(f"PRAGMA recursive_triggers = {int(recursive_triggers)}")
    with pytest.raises(IntegrityError, match="append-only"):
        db.execute_sql(sql, forged_values(before[0][0]))
    assert audit_rows() == before
    assert verify_audit().clean


def test_a_bulk_replace_of_every_record_fails_and_changes_nothing(database):
    client = Client.create(name="Acme")
    client.email = "billing@acme.test"
    client.save()
    before = audit_rows()
    with pytest.raises(IntegrityError, match="append-only"):
        db.execute_sql(
            f"INSERT OR REPLACE INTO audit_records ({COLUMNS}) "
            "SELECT id, table_name, row_id, action, '{}', 'forged', sync_run, created_at FROM audit_records"
        )
    assert audit_rows() == before


def test_the_same_sql_through_a_plain_sqlite3_connection_fails(database):
    """The refusal is in the file, not in Fakturka's connection: any SQLite client gets it."""
    Client.create(name="Acme")
    before = audit_rows()
    close_database()
    conn = sqlite3.connect(database)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(OVERWRITES["REPLACE INTO"], forged_values(before[0][0]))
    finally:
        conn.close()
    open_database(database)
    assert audit_rows() == before


# -- the model refuses them before SQL is sent -------------------------------------------------------------


def _record_fields(record: AuditRecord) -> dict:
    return {
        "id": record.id,
        "table_name": "clients",
        "row_id": record.row_id,
        "action": "create",
        "changes": {"name": [None, "Forged"]},
        "source": "forged",
        "created_at": record.created_at,
    }


ORM_REWRITES = {
    "replace": lambda r: AuditRecord.replace(**_record_fields(r)).execute(),
    "on_conflict_replace": lambda r: AuditRecord.insert(**_record_fields(r)).on_conflict_replace().execute(),
    "on_conflict": lambda r: (
        AuditRecord.insert(**_record_fields(r))
        .on_conflict(conflict_target=[AuditRecord.id], update={AuditRecord.source: "forged"})
        .execute()
    ),
    "on_conflict_ignore": lambda r: AuditRecord.insert(**_record_fields(r)).on_conflict_ignore().execute(),
    "replace_many": lambda r: AuditRecord.replace_many([_record_fields(r)]).execute(),
    "insert_many on_conflict_replace": lambda r: (
        AuditRecord.insert_many([_record_fields(r)]).on_conflict_replace().execute()
    ),
    "save": lambda r: (setattr(r, "source", "forged"), r.save()),
    "delete_instance": lambda r: r.delete_instance(),
    "update": lambda r: AuditRecord.update(source="forged").where(AuditRecord.id == r.id).execute(),
    "delete": lambda r: AuditRecord.delete().where(AuditRecord.id == r.id).execute(),
}


@pytest.mark.parametrize("rewrite", ORM_REWRITES.values(), ids=ORM_REWRITES.keys())
def test_the_audit_model_refuses_every_rewrite_with_a_sentence(database, rewrite):
    Client.create(name="Acme")
    before = audit_rows()
    with pytest.raises(AuditRewriteError, match="^Audit records are append-only: .+ is refused") as refused:
        rewrite(AuditRecord.get())
    assert isinstance(refused.value, FakturkaError)
    assert "\n" not in str(refused.value)
    assert audit_rows() == before


def test_an_explicit_existing_id_through_the_model_is_refused_by_sqlite(database):
    Client.create(name="Acme")
    before = audit_rows()
    with pytest.raises(IntegrityError, match="append-only"):
        AuditRecord.create(**_record_fields(AuditRecord.get()))
    assert audit_rows() == before


def test_every_audited_write_path_still_records_and_verifies(database):
    """Single saves, insert_many's SQL-built records, the sync engine's stored rows, the bulk update."""
    client = Client.create(name="Acme")
    client.email = "billing@acme.test"
    client.save()
    MoneyTransaction.insert_many([tx_row(n) for n in range(3)]).execute()
    stored = insert_stored_rows(
        MoneyTransaction,
        ["source", "external_id", "transaction_type", "amount", "currency", "transacted_on", "raw_data"],
        [("fio", f"stored-{n}", "income", 500 + n, "CZK", date(2026, 1, 6), "{}") for n in range(3)],
    )
    audited_bulk_update(MoneyTransaction, {row_id: {"reference": f"VS{row_id}"} for row_id in stored})
    Client.update(archived=True).where(Client.id == client.id).execute()
    client.delete_instance()
    AuditRecord.create(table_name="clients", row_id=999, action="delete", changes={}, source="manual")

    actions = [(r.table_name, r.action) for r in AuditRecord.select().order_by(AuditRecord.id)]
    assert actions.count(("money_transactions", "create")) == 6
    assert actions.count(("money_transactions", "update")) == 3
    assert actions.count(("clients", "update")) == 2
    report = verify_audit()
    assert report.rows == 6
    # Only the hand-made record does not follow: a delete of a row the trail never created.
    assert [(f.kind, f.row_id) for f in report.findings] == [("chain", 999)]


# -- audit verify on a healthy database ----------------------------------------------------------------------


def test_audit_verify_is_clean_on_a_fresh_demo_database_and_after_a_bank_sync(database, cli):
    load_demo(today=TODAY)
    code, out, err = cli("audit", "verify")
    assert (code, err) == (0, "")
    records = AuditRecord.select().count()
    assert out == f"Audit verified: {records} records, {verify_audit().rows} rows, no differences.\n"

    outcome = run_sync("bank-statement")  # the demo's statement pays some of the demo invoices
    assert outcome.status == "completed" and outcome.counts.created > 0
    assert AuditRecord.select().where(AuditRecord.sync_run == outcome.run_id).count() > outcome.counts.created
    code, out, err = cli("audit", "verify")
    assert (code, err) == (0, "")
    assert out.startswith(f"Audit verified: {AuditRecord.select().count()} records, ")


def test_audit_verify_json_of_a_clean_database(database, cli):
    Client.create(name="Acme")
    code, out, err = cli("audit", "verify", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out) == {"clean": True, "records": 1, "rows": 1, "findings_total": 0, "findings": []}


def test_rows_a_migration_filled_in_are_not_reported(tmp_path):
    """A movement written at version 3 has no record of match_status / match_note, which version 4 added."""
    path = tmp_path / "v3.db"
    open_database(path, migrate=False)
    migrations.migrate(db, target=3)
    db.execute_sql(
        "INSERT INTO money_transactions (created_at, updated_at, source, transaction_type, amount, transacted_on) "
        "VALUES ('2025-01-01', '2025-01-01', 'fio', 'income', 100, '2025-01-01')"
    )
    db.execute_sql(
        "INSERT INTO audit_records (table_name, row_id, action, changes, source, created_at) VALUES "
        "('money_transactions', 1, 'create', ?, 'fio', '2025-01-01 00:00:00')",
        (
            json.dumps(
                {
                    "amount": [None, 100],
                    "currency": [None, "EUR"],
                    "counterparty": [None, ""],
                    "counterparty_account": [None, ""],
                    "description": [None, ""],
                    "raw_data": [None, {}],
                    "reference": [None, ""],
                    "source": [None, "fio"],
                    "transacted_on": [None, "2025-01-01"],
                    "transaction_type": [None, "income"],
                },
                separators=(",", ":"),
                sort_keys=True,
            ),
        ),
    )
    close_database()
    open_database(path)
    report = verify_audit()
    assert (report.clean, report.records, report.rows) == (True, 1, 1), report.findings


# -- audit verify finds what was done around the audit --------------------------------------------------------


def test_audit_verify_reports_a_value_changed_behind_the_audit(database, cli):
    client = Client.create(name="Acme s.r.o.", email="billing@acme.test")
    Client.create(name="Other")
    db.execute_sql("UPDATE clients SET name = 'Acme Forged' WHERE id = ?", (client.id,))  # triggers intact

    code, out, err = cli("audit", "verify")
    assert code == 1
    assert out.splitlines() == [
        f'clients {client.id}: name is "Acme Forged", but the audit replay gives "Acme s.r.o." '
        "(changed behind the audit)"
    ]
    assert err == ("fakturka: the audit trail does not match the database: 1 finding(s) in 2 records and 2 rows.\n")
    code, out, _ = cli("audit", "verify", "--json")
    assert code == 1
    report = json.loads(out)
    assert (report["clean"], report["findings_total"]) == (False, 1)
    assert report["findings"][0] | {"detail": ""} == {
        "kind": "changed",
        "table": "clients",
        "row_id": client.id,
        "column": "name",
        "replayed": "Acme s.r.o.",
        "current": "Acme Forged",
        "record_id": None,
        "detail": "",
    }


def test_tampered_text_is_printed_without_its_escape_sequences(database, cli):
    """Values, table and trigger names in a tampered file all come from whoever wrote it."""
    attack = f"{ESC}]0;owned\a{ESC}[2J\u009b31m"
    client = Client.create(name="Acme")
    db.execute_sql("UPDATE clients SET name = ? WHERE id = ?", (attack, client.id))
    db.execute_sql(
        "INSERT INTO audit_records (table_name, row_id, action, changes, source, created_at) "
        "VALUES (?, 1, 'create', '{}', 'forged', '2026-01-01 00:00:00')",
        (attack,),
    )
    db.execute_sql(f'CREATE TRIGGER "{attack}" AFTER INSERT ON clients BEGIN SELECT 1; END')
    code, out, err = cli("audit", "verify")
    assert code == 1
    assert ESC not in out + err and "\a" not in out and "\u009b" not in out
    assert len(out.splitlines()) == 3
    assert f"clients {client.id}: name is " in out


def test_audit_verify_reports_a_dropped_trigger_and_the_rewrite_it_let_through(database, cli):
    client = Client.create(name="Acme")
    db.execute_sql("DROP TRIGGER audit_records_no_replace")
    record = AuditRecord.get()
    db.execute_sql(OVERWRITES["REPLACE INTO"], forged_values(record.id))  # now it goes through

    found = findings()
    assert {"kind": "trigger", "detail": "the append-only trigger audit_records_no_replace is missing"}.items() <= (
        found[0].items()
    )
    assert ("changed", client.id, "name", "Forged", "Acme") in [
        (f["kind"], f["row_id"], f["column"], f["replayed"], f["current"]) for f in found
    ]
    code, out, _ = cli("audit", "verify")
    assert code == 1
    assert "audit_records: the append-only trigger audit_records_no_replace is missing" in out.splitlines()


def test_audit_verify_reports_a_trigger_replaced_by_a_harmless_looking_one(database):
    Client.create(name="Acme")
    db.execute_sql("DROP TRIGGER audit_records_no_update")
    db.execute_sql("CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records WHEN 0 BEGIN SELECT 1; END")
    db.execute_sql("CREATE TRIGGER clients_quiet AFTER UPDATE ON clients BEGIN SELECT 1; END")
    assert [f["detail"] for f in findings("trigger")] == [
        "the append-only trigger audit_records_no_update has been changed",
        "the trigger clients_quiet was not made by Fakturka",
    ]


def test_audit_verify_reports_a_deleted_audit_record(database, cli):
    client = Client.create(name="Acme")
    client.email = "billing@acme.test"
    client.save()
    client.email = "accounts@acme.test"
    client.save()
    middle = AuditRecord.select().order_by(AuditRecord.id)[1].id
    db.execute_sql("DROP TRIGGER audit_records_no_delete")
    db.execute_sql("DELETE FROM audit_records WHERE id = ?", (middle,))

    kinds = [(f["kind"], f["record_id"], f["column"]) for f in findings()]
    assert ("trigger", None, None) in kinds
    assert ("gap", middle, None) in kinds
    # The next update's "before" no longer follows from the replay.
    assert ("chain", middle + 1, "email") in kinds
    code, out, _ = cli("audit", "verify")
    assert code == 1
    assert f"audit_records: record {middle} is missing (deleted)" in out.splitlines()


def test_audit_verify_reports_rows_written_or_deleted_behind_the_audit(database):
    kept, gone = Client.create(name="Kept"), Client.create(name="Gone")
    deleted = Client.create(name="Deleted")
    deleted.delete_instance()
    db.execute_sql(
        "INSERT INTO clients (id, created_at, updated_at, name) VALUES (?, '2026-01-01', '2026-01-01', 'Back')",
        (deleted.id,),
    )
    db.execute_sql("INSERT INTO clients (created_at, updated_at, name) VALUES ('2026-01-01', '2026-01-01', 'Ghost')")
    ghost = db.execute_sql("SELECT id FROM clients WHERE name = 'Ghost'").fetchone()[0]
    db.execute_sql("DELETE FROM clients WHERE id = ?", (gone.id,))
    assert sorted((f["kind"], f["row_id"]) for f in findings()) == sorted(
        [("missing", gone.id), ("revived", deleted.id), ("unaudited", ghost)]
    )
    assert kept.id not in {f["row_id"] for f in findings()}


def test_audit_verify_reports_forged_records_that_do_not_follow(database):
    """Inserting new records is possible for anyone with the file; one that contradicts the trail shows."""
    client = Client.create(name="Acme")
    forge = (
        "INSERT INTO audit_records (table_name, row_id, action, changes, source, created_at) "
        "VALUES (?, ?, ?, ?, 'forged', '2026-01-01 00:00:00')"
    )
    db.execute_sql(forge, ("clients", client.id, "update", '{"name":["Not Acme","Acme"]}'))
    db.execute_sql(forge, ("clients", client.id, "create", '{"name":[null,"Acme"]}'))
    db.execute_sql(forge, ("clients", client.id + 50, "update", "not json"))
    db.execute_sql(forge, ("secrets", 1, "create", "{}"))
    found = [(f["kind"], f["row_id"], f["column"], f["detail"]) for f in findings()]
    assert ("unknown_table", None, None, "1 record(s)") in found
    assert ("chain", client.id, "name", "its value before the update is not the replayed one") in found
    assert ("chain", client.id, None, "it creates the row again while the replay has it") in found
    assert ("chain", client.id + 50, None, "its changes are not a JSON object of [before, after] pairs") in found


def test_a_trail_that_begins_without_a_create_is_reported_once_and_still_replayed(database):
    """A row written before the trail began (or whose create was removed) is one finding, not one per column;
    the columns its later records name are still replayed and compared."""
    db.execute_sql("INSERT INTO clients (created_at, updated_at, name) VALUES ('2026-01-01', '2026-01-01', 'Old')")
    old = Client.get()
    old.email = "old@example.test"
    old.save()
    first = AuditRecord.get().id
    found = [(f["kind"], f["record_id"], f["detail"]) for f in findings()]
    assert found == [("chain", first, "it is the row's first record, and it is an update, not a create")]

    db.execute_sql("UPDATE clients SET email = 'forged@example.test', address = 'Unknown'")
    assert [(f["kind"], f["column"]) for f in findings("changed")] == [("changed", "email")]


def test_a_record_after_the_rows_deletion_is_reported(database):
    client = Client.create(name="Acme")
    client.delete_instance()
    deleted_by = AuditRecord.select().order_by(AuditRecord.id.desc()).get().id
    db.execute_sql(
        "INSERT INTO audit_records (table_name, row_id, action, changes, source, created_at) "
        "VALUES ('clients', ?, 'update', '{\"name\":[\"Acme\",\"Later\"]}', 'forged', '2026-01-01 00:00:00')",
        (client.id,),
    )
    assert [(f["kind"], f["detail"]) for f in findings()] == [
        ("chain", f"it is an update after the row's deletion (record {deleted_by})"),
        ("missing", ""),
    ]


def test_a_damaged_json_value_or_a_blob_is_reported_not_a_crash(database):
    """SQLite's JSON functions refuse both; the table is then read in Python."""
    MoneyTransaction.create(**tx_row(1))
    db.execute_sql("UPDATE money_transactions SET raw_data = '{\"id\": 1' WHERE id = 1")
    assert [(f["kind"], f["column"], f["current"]) for f in findings()] == [("changed", "raw_data", '{"id": 1')]
    client = Client.create(name="Acme")
    db.execute_sql("UPDATE clients SET name = x'1b5b324a' WHERE id = ?", (client.id,))
    assert [(f["table"], f["column"], f["current"]) for f in findings("changed")] == [
        ("clients", "name", "\x1b[2J"),  # Peewee reads text from the bytes
        ("money_transactions", "raw_data", '{"id": 1'),
    ]


def test_audit_verify_lists_twenty_findings_then_a_count(database, cli):
    Client.insert_many([{"name": f"Client {n}"} for n in range(25)]).execute()
    db.execute_sql("UPDATE clients SET email = 'forged@example.test'")
    code, out, err = cli("audit", "verify")
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == 21
    assert lines[-1] == "... and 5 more (fakturka audit verify --json lists them)."
    assert "25 finding(s)" in err
    code, out, _ = cli("audit", "verify", "--json")
    assert len(json.loads(out)["findings"]) == 25


def test_a_report_keeps_a_bounded_number_of_findings(database, monkeypatch):
    monkeypatch.setattr("core.store.audit_verify.MAX_KEPT_FINDINGS", 3)
    Client.insert_many([{"name": f"Client {n}"} for n in range(5)]).execute()
    db.execute_sql("UPDATE clients SET email = 'forged@example.test', address = 'Forged'")
    report = verify_audit()
    assert (report.findings_total, len(report.findings)) == (10, 3)
    assert MAX_KEPT_FINDINGS >= 10_000


# -- the migration ---------------------------------------------------------------------------------------------


def test_a_database_at_the_previous_version_gets_the_trigger_and_keeps_its_trail(tmp_path):
    path = tmp_path / "v6.db"
    open_database(path, migrate=False)
    migrations.migrate(db, target=6)  # before version 7's insert trigger
    client = Client.create(name="Acme")
    before = audit_rows()
    db.execute_sql(OVERWRITES["REPLACE INTO"], forged_values(before[0][0]))  # possible before version 7
    forged = audit_rows()
    assert forged != before
    close_database()

    open_database(path)
    assert schema_version(db) == LATEST
    assert audit_rows() == forged  # the migration changes no record
    with pytest.raises(IntegrityError, match="append-only"):
        db.execute_sql(OVERWRITES["REPLACE INTO"], forged_values(before[0][0]))
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute_sql("DELETE FROM audit_records")
    # The rewrite made before the upgrade is still found by the replay: the forged create names only a
    # name, and a different one, so every column of the row differs from it.
    found = findings()
    assert {(f["kind"], f["row_id"]) for f in found} == {("changed", client.id)}
    assert ("name", "Forged", "Acme") in [(f["column"], f["replayed"], f["current"]) for f in found]
