"""Versioned schema migrations, run when the database is opened.

The schema version lives in SQLite's ``PRAGMA user_version``. Each migration
is frozen SQL (not generated from today's models), so a database made by any
earlier version upgrades the same way forever. To change the schema: append a
migration, bump nothing else, and extend ``tests/test_migrations.py``.
``test_models_match_schema`` fails if a model and the migrated schema drift.
"""

from __future__ import annotations

from typing import Callable

from peewee import Database, DatabaseError, OperationalError

from core.errors import FakturkaError
from core.values.messages import Message


class SchemaTooNewError(FakturkaError):
    pass


# Version 1: the seed tables the integrations platform started with.
V1 = [
    """CREATE TABLE "plugin_configurations" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "plugin_name" VARCHAR(255) NOT NULL,
        "enabled" INTEGER NOT NULL DEFAULT 0,
        "credentials" BLOB,
        "settings" TEXT NOT NULL DEFAULT '{}',
        "state" TEXT NOT NULL DEFAULT '{}')""",
    'CREATE UNIQUE INDEX "plugin_configurations_plugin_name" ON "plugin_configurations" ("plugin_name")',
    """CREATE TABLE "sync_histories" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "plugin_name" VARCHAR(255) NOT NULL,
        "status" VARCHAR(255) NOT NULL DEFAULT 'pending'
            CHECK ("status" IN ('pending', 'running', 'completed', 'failed')),
        "started_at" DATETIME, "completed_at" DATETIME,
        "records_processed" INTEGER NOT NULL DEFAULT 0,
        "records_created" INTEGER NOT NULL DEFAULT 0,
        "records_updated" INTEGER NOT NULL DEFAULT 0,
        "records_skipped" INTEGER NOT NULL DEFAULT 0,
        "error_message" TEXT, "error_backtrace" TEXT,
        "metadata" TEXT NOT NULL DEFAULT '{}',
        "log" TEXT NOT NULL DEFAULT '',
        "trigger" VARCHAR(255) NOT NULL DEFAULT 'cli'
            CHECK ("trigger" IN ('tui', 'cli', 'schedule')),
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL)""",
    'CREATE INDEX "sync_histories_plugin_name" ON "sync_histories" ("plugin_name")',
    'CREATE INDEX "sync_histories_status" ON "sync_histories" ("status")',
    # invoice_id references a table that arrives in version 2. SQLite accepts
    # the declaration; with foreign keys on, writes need that table, which is
    # why open_database always migrates to the latest version before any write.
    """CREATE TABLE "money_transactions" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "external_id" VARCHAR(255),
        "source" VARCHAR(255) NOT NULL,
        "transaction_type" VARCHAR(255) NOT NULL
            CHECK ("transaction_type" IN ('income', 'expense')),
        "amount" INTEGER NOT NULL CHECK (amount > 0),
        "currency" VARCHAR(255) NOT NULL DEFAULT 'EUR',
        "description" TEXT NOT NULL DEFAULT '',
        "transacted_on" DATE NOT NULL,
        "counterparty" VARCHAR(255) NOT NULL DEFAULT '',
        "counterparty_account" VARCHAR(255) NOT NULL DEFAULT '',
        "reference" VARCHAR(255) NOT NULL DEFAULT '',
        "invoice_id" INTEGER REFERENCES "invoices" ("id"),
        "raw_data" TEXT NOT NULL DEFAULT '{}')""",
    'CREATE INDEX "money_transactions_transacted_on" ON "money_transactions" ("transacted_on")',
    'CREATE INDEX "money_transactions_invoice_id" ON "money_transactions" ("invoice_id")',
    'CREATE UNIQUE INDEX "money_transactions_source_external_id" ON "money_transactions" ("source", "external_id")',
]

# Version 2: the invoicing domain, the business profile and the audit trail.
V2 = [
    """CREATE TABLE "business_profile" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "name" VARCHAR(255) NOT NULL DEFAULT '', "address" TEXT NOT NULL DEFAULT '',
        "email" VARCHAR(255) NOT NULL DEFAULT '', "phone" VARCHAR(255) NOT NULL DEFAULT '',
        "ico" VARCHAR(255) NOT NULL DEFAULT '', "dic" VARCHAR(255) NOT NULL DEFAULT '',
        "registry_line" VARCHAR(255) NOT NULL DEFAULT '',
        "vat_payer" INTEGER NOT NULL DEFAULT 0,
        "iban" VARCHAR(255) NOT NULL DEFAULT '', "bic" VARCHAR(255) NOT NULL DEFAULT '',
        "bank_account" VARCHAR(255) NOT NULL DEFAULT '',
        "default_currency" VARCHAR(255) NOT NULL DEFAULT 'CZK',
        "default_hourly_rate" INTEGER NOT NULL DEFAULT 0,
        "payment_terms_days" INTEGER NOT NULL DEFAULT 14,
        "invoice_number_pattern" VARCHAR(255) NOT NULL DEFAULT '{year}{seq:04}',
        "locale" VARCHAR(255) NOT NULL DEFAULT 'cs')""",
    """CREATE TABLE "clients" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "name" VARCHAR(255) NOT NULL, "email" VARCHAR(255) NOT NULL DEFAULT '',
        "address" TEXT NOT NULL DEFAULT '', "country" VARCHAR(255) NOT NULL DEFAULT 'CZ',
        "ico" VARCHAR(255) NOT NULL DEFAULT '', "dic" VARCHAR(255) NOT NULL DEFAULT '',
        "currency" VARCHAR(255) NOT NULL DEFAULT 'CZK',
        "language" VARCHAR(255) NOT NULL DEFAULT 'cs' CHECK ("language" IN ('en', 'cs')),
        "hourly_rate" INTEGER, "payment_terms_days" INTEGER,
        "archived" INTEGER NOT NULL DEFAULT 0)""",
    'CREATE INDEX "clients_archived" ON "clients" ("archived")',
    """CREATE TABLE "projects" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "client_id" INTEGER NOT NULL REFERENCES "clients" ("id"),
        "name" VARCHAR(255) NOT NULL, "hourly_rate" INTEGER,
        "archived" INTEGER NOT NULL DEFAULT 0)""",
    'CREATE INDEX "projects_client_id" ON "projects" ("client_id")',
    'CREATE INDEX "projects_archived" ON "projects" ("archived")',
    'CREATE UNIQUE INDEX "projects_client_id_name" ON "projects" ("client_id", "name")',
    """CREATE TABLE "invoices" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "number" VARCHAR(255) NOT NULL, "year" INTEGER NOT NULL, "seq" INTEGER NOT NULL,
        "client_id" INTEGER NOT NULL REFERENCES "clients" ("id"),
        "status" VARCHAR(255) NOT NULL DEFAULT 'draft'
            CHECK ("status" IN ('draft', 'sent', 'paid', 'cancelled')),
        "currency" VARCHAR(255) NOT NULL, "language" VARCHAR(255) NOT NULL DEFAULT 'cs',
        "issued_on" DATE NOT NULL, "due_on" DATE NOT NULL,
        "taxable_supply_on" DATE, "sent_on" DATE, "paid_on" DATE,
        "variable_symbol" VARCHAR(255) NOT NULL DEFAULT '',
        "vat_payer" INTEGER NOT NULL DEFAULT 0, "reverse_charge" INTEGER NOT NULL DEFAULT 0,
        "subtotal" INTEGER NOT NULL DEFAULT 0, "vat_total" INTEGER NOT NULL DEFAULT 0,
        "total" INTEGER NOT NULL DEFAULT 0,
        "supplier" TEXT NOT NULL DEFAULT '{}', "customer" TEXT NOT NULL DEFAULT '{}',
        "note" TEXT NOT NULL DEFAULT '')""",
    'CREATE UNIQUE INDEX "invoices_number" ON "invoices" ("number")',
    'CREATE INDEX "invoices_client_id" ON "invoices" ("client_id")',
    'CREATE INDEX "invoices_status" ON "invoices" ("status")',
    'CREATE INDEX "invoices_issued_on" ON "invoices" ("issued_on")',
    'CREATE INDEX "invoices_due_on" ON "invoices" ("due_on")',
    'CREATE INDEX "invoices_variable_symbol" ON "invoices" ("variable_symbol")',
    'CREATE UNIQUE INDEX "invoices_year_seq" ON "invoices" ("year", "seq")',
    """CREATE TABLE "invoice_lines" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "invoice_id" INTEGER NOT NULL REFERENCES "invoices" ("id"),
        "position" INTEGER NOT NULL DEFAULT 0, "description" TEXT NOT NULL,
        "quantity" TEXT NOT NULL DEFAULT '1', "unit" VARCHAR(255) NOT NULL DEFAULT 'h',
        "unit_price" INTEGER NOT NULL, "vat_rate" TEXT NOT NULL DEFAULT '0',
        "amount" INTEGER NOT NULL,
        "project_id" INTEGER REFERENCES "projects" ("id"))""",
    'CREATE INDEX "invoice_lines_invoice_id" ON "invoice_lines" ("invoice_id")',
    'CREATE INDEX "invoice_lines_project_id" ON "invoice_lines" ("project_id")',
    """CREATE TABLE "work_entries" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "project_id" INTEGER NOT NULL REFERENCES "projects" ("id"),
        "date" DATE NOT NULL,
        "kind" VARCHAR(255) NOT NULL DEFAULT 'time' CHECK ("kind" IN ('time', 'fixed')),
        "minutes" INTEGER CHECK ("minutes" IS NULL OR "minutes" >= 0),
        "started_at" DATETIME, "ended_at" DATETIME,
        "description" TEXT NOT NULL DEFAULT '', "billable" INTEGER NOT NULL DEFAULT 1,
        "fixed_amount" INTEGER, "hourly_rate" INTEGER,
        "invoice_line_id" INTEGER REFERENCES "invoice_lines" ("id"),
        "source" VARCHAR(255) NOT NULL DEFAULT 'manual', "external_id" VARCHAR(255))""",
    'CREATE INDEX "work_entries_project_id" ON "work_entries" ("project_id")',
    'CREATE INDEX "work_entries_date" ON "work_entries" ("date")',
    'CREATE INDEX "work_entries_invoice_line_id" ON "work_entries" ("invoice_line_id")',
    'CREATE UNIQUE INDEX "work_entries_source_external_id" ON "work_entries" ("source", "external_id")',
    # At most one running timer, enforced by the database across processes.
    """CREATE UNIQUE INDEX "work_entries_one_running_timer" ON "work_entries" (("started_at" IS NOT NULL))
        WHERE "started_at" IS NOT NULL AND "ended_at" IS NULL""",
    """CREATE TABLE "recurring_rules" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "name" VARCHAR(255) NOT NULL,
        "project_id" INTEGER NOT NULL REFERENCES "projects" ("id"),
        "kind" VARCHAR(255) NOT NULL DEFAULT 'time',
        "frequency" VARCHAR(255) NOT NULL DEFAULT 'weekly',
        "interval" INTEGER NOT NULL DEFAULT 1,
        "minutes" INTEGER, "fixed_amount" INTEGER,
        "description" TEXT NOT NULL DEFAULT '',
        "start_on" DATE NOT NULL, "end_on" DATE, "next_on" DATE,
        "active" INTEGER NOT NULL DEFAULT 1,
        "settings" TEXT NOT NULL DEFAULT '{}')""",
    'CREATE INDEX "recurring_rules_project_id" ON "recurring_rules" ("project_id")',
    """CREATE TABLE "audit_records" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "table_name" VARCHAR(255) NOT NULL, "row_id" INTEGER NOT NULL,
        "action" VARCHAR(255) NOT NULL CHECK ("action" IN ('create', 'update', 'delete')),
        "changes" TEXT NOT NULL, "source" VARCHAR(255) NOT NULL,
        "sync_run" INTEGER, "created_at" DATETIME NOT NULL)""",
    'CREATE INDEX "audit_records_table_name" ON "audit_records" ("table_name")',
    'CREATE INDEX "audit_records_source" ON "audit_records" ("source")',
    'CREATE INDEX "audit_records_sync_run" ON "audit_records" ("sync_run")',
    'CREATE INDEX "audit_records_created_at" ON "audit_records" ("created_at")',
    'CREATE INDEX "audit_records_table_name_row_id" ON "audit_records" ("table_name", "row_id")',
    """CREATE TRIGGER "audit_records_no_update" BEFORE UPDATE ON "audit_records"
        BEGIN SELECT RAISE(ABORT, 'audit_records is append-only'); END""",
    """CREATE TRIGGER "audit_records_no_delete" BEFORE DELETE ON "audit_records"
        BEGIN SELECT RAISE(ABORT, 'audit_records is append-only'); END""",
]

# Version 3: VAT rates (a payer's lines take the project's rate, else the profile's)
# and the hourly rate frozen on a billed entry.
V3 = [
    """ALTER TABLE "business_profile" ADD COLUMN "default_vat_rate" TEXT NOT NULL DEFAULT '21'""",
    """ALTER TABLE "projects" ADD COLUMN "vat_rate" TEXT""",
    # The rate an entry was invoiced at, frozen; its own rate stays in hourly_rate.
    """ALTER TABLE "work_entries" ADD COLUMN "billed_rate" INTEGER""",
]

# Version 4: payment matching. Each incoming transaction is unmatched, matched
# (to invoice_id), left for review (with candidates) or ignored by the person.
V4 = [
    """ALTER TABLE "money_transactions" ADD COLUMN "match_status" VARCHAR(255) NOT NULL DEFAULT 'unmatched'
        CHECK ("match_status" IN ('unmatched', 'matched', 'review', 'ignored'))""",
    """ALTER TABLE "money_transactions" ADD COLUMN "match_note" TEXT NOT NULL DEFAULT '{}'""",
    'CREATE INDEX "money_transactions_match_status" ON "money_transactions" ("match_status")',
    "UPDATE money_transactions SET match_status = 'matched' WHERE invoice_id IS NOT NULL",
]

# Version 5: fewer index entries per bank movement (docs/performance.md). Every
# import writes each new row into every index of money_transactions and every
# audit record into every index of audit_records, so indexes that no query
# needs, or that hold mostly rows no query asks for, are dropped or made partial.
V5 = [
    # (table_name, row_id) already serves every look-up by table name alone.
    'DROP INDEX "audit_records_table_name"',
    # Nearly every row is unmatched or matched, and those lists page on the date
    # index; only the rare states need an index of their own (the query repeats
    # this WHERE so the planner can use it: core.banking.matching.transactions_query).
    'DROP INDEX "money_transactions_match_status"',
    """CREATE INDEX "money_transactions_needs_attention" ON "money_transactions" ("match_status", "transacted_on")
        WHERE "match_status" IN ('review', 'ignored')""",
    # Most movements pay no invoice; "invoice_id = ?" implies NOT NULL, so the partial index still serves it.
    'DROP INDEX "money_transactions_invoice_id"',
    """CREATE INDEX "money_transactions_invoice_id" ON "money_transactions" ("invoice_id")
        WHERE "invoice_id" IS NOT NULL""",
]


def _quoted(values: tuple[str, ...]) -> list[str]:
    return [f"'{value}'" for value in values]


def _in_list_check(column: str, values: tuple[str, ...]) -> str:
    return f'CHECK ("{column}" IN ({", ".join(_quoted(values))}))'


def _or_check(column: str, values: tuple[str, ...]) -> str:
    tests = [f'"{column}" = {value}' for value in _quoted(values)]
    return f"CHECK ({' OR '.join(tests)})"


# Version 6: CHECK constraints that SQLite evaluates cheaply. A CHECK of the form
# "x IN (a, b, c)" with three or more values builds a temporary b-tree for the
# list each time it runs, that is on every inserted row (about 2 us each: 0.4 s
# of a 100,000-row bank import, whose rows and audit records both carry one).
# The same test as "x = a OR x = b OR x = c" costs nothing (docs/performance.md).
# Only the constraint text changes, never the stored rows, so the schema text
# is rewritten in place, as SQLite documents for such changes
# (https://sqlite.org/lang_altertable.html#otheralter), instead of copying
# every table.
V6_CHECKS = [
    (table, _in_list_check(column, values), _or_check(column, values))
    for table, column, values in [
        ("sync_histories", "status", ("pending", "running", "completed", "failed")),
        ("sync_histories", "trigger", ("tui", "cli", "schedule")),
        ("invoices", "status", ("draft", "sent", "paid", "cancelled")),
        ("audit_records", "action", ("create", "update", "delete")),
        ("money_transactions", "match_status", ("unmatched", "matched", "review", "ignored")),
    ]
]


def _v6(database: Database) -> None:
    cookie = database.execute_sql("PRAGMA schema_version").fetchone()[0]
    database.execute_sql("PRAGMA writable_schema = ON")
    try:
        try:
            database.execute_sql("UPDATE sqlite_master SET sql = sql WHERE 0")
        except OperationalError:
            # An SQLite built in "defensive" mode refuses any schema edit (when the statement is
            # prepared). The old constraints mean the same, only slower: the schema stays as it is.
            return
        for table, old, new in V6_CHECKS:
            changed = database.execute_sql(
                "UPDATE sqlite_master SET sql = replace(sql, ?, ?) "
                "WHERE type = 'table' AND name = ? AND instr(sql, ?) > 0",
                (old, new, table, old),
            ).rowcount
            if changed != 1:  # the migration runs in a transaction: nothing is left half done
                raise DatabaseError(f"table {table} does not have the constraint {old} that version 5 made")
        # A new schema cookie makes every connection re-read the schema.
        database.execute_sql(f"PRAGMA schema_version = {int(cookie) + 1}")
    finally:
        database.execute_sql("PRAGMA writable_schema = OFF")


# Version 7: no audit record can be overwritten by an insert. REPLACE INTO (and INSERT OR REPLACE,
# Peewee's on_conflict_replace()) deletes the conflicting row without firing a DELETE trigger unless
# the connection has recursive_triggers on, and an upsert's DO UPDATE is an insert first; a BEFORE
# INSERT trigger runs before either. Normal inserts leave the id to SQLite (NEW.id is -1 here), and
# the look-up is one primary-key seek: about 1 us per record written by INSERT ... SELECT or a
# multi-row INSERT. Any trigger makes each statement run cost about 6 us more, so audit records are
# never written one statement per record in bulk (core.store.audit_records._record_many).
V7 = [
    """CREATE TRIGGER "audit_records_no_replace" BEFORE INSERT ON "audit_records"
        WHEN EXISTS (SELECT 1 FROM "audit_records" WHERE "id" = NEW."id")
        BEGIN SELECT RAISE(ABORT, 'audit_records is append-only'); END""",
]


# Version 8: the fio plugin names a movement "fio:<movement id>", as a Fio CSV export read by the
# bank-statement plugin does, so the same movement arriving through both is recognised (issue 15).
# Its stored ids are renamed, each with an audit record (source "migration 8"), so the audit replay
# still gives the stored rows.
_FIO_PLAIN_IDS = """FROM "money_transactions" WHERE "source" = 'fio' AND "external_id" NOT LIKE 'fio:%'"""
V8 = [
    f"""INSERT INTO "audit_records" ("table_name", "row_id", "action", "changes", "source", "sync_run", "created_at")
        SELECT 'money_transactions', "id", 'update',
               json_object('external_id', json_array("external_id", 'fio:' || "external_id")),
               'migration 8', NULL, strftime('%Y-%m-%d %H:%M:%f', 'now')
        {_FIO_PLAIN_IDS} ORDER BY "id"
    """,
    f"""UPDATE "money_transactions" SET "external_id" = 'fio:' || "external_id"
        WHERE "id" IN (SELECT "id" {_FIO_PLAIN_IDS})""",
]


# Version 9: recurring work and scheduled runs (issue 17). The recurring_rules table of version 2 was never
# written by any version; it is made again with what a rule now holds. Its ids are never reused
# (AUTOINCREMENT): the records a rule creates carry its id in their external_id ("rule:<id>:<date>").
V9 = [
    'DROP TABLE "recurring_rules"',
    """CREATE TABLE "recurring_rules" (
        "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "name" VARCHAR(255) NOT NULL,
        "creates" VARCHAR(255) NOT NULL CHECK ("creates" = 'work' OR "creates" = 'income' OR "creates" = 'expense'),
        "project_id" INTEGER REFERENCES "projects" ("id"),
        "amount" INTEGER NOT NULL CHECK ("amount" >= 0),
        "currency" VARCHAR(255) NOT NULL,
        "counterparty" TEXT NOT NULL DEFAULT '',
        "description" TEXT NOT NULL DEFAULT '',
        "cadence" VARCHAR(255) NOT NULL CHECK ("cadence" = 'weekly' OR "cadence" = 'monthly' OR "cadence" = 'yearly'),
        "day" INTEGER NOT NULL,
        "month" INTEGER,
        "start_on" DATE NOT NULL,
        "end_on" DATE,
        "enabled" INTEGER NOT NULL DEFAULT 1,
        "invoice" VARCHAR(255) NOT NULL DEFAULT '' CHECK ("invoice" = '' OR "invoice" = 'draft' OR "invoice" = 'sent'),
        "next_on" DATE,
        "last_on" DATE)""",
    'CREATE INDEX "recurring_rules_project_id" ON "recurring_rules" ("project_id")',
    # A preview (a dry run) is a run that wrote nothing; its history row says so.
    """ALTER TABLE "sync_histories" ADD COLUMN "preview" INTEGER NOT NULL DEFAULT 0""",
    # A plugin's schedule ({"every": "daily"|"weekly", "at": "HH:MM", "weekday": 0-6}; {} is off) and the
    # day each of its secrets was last entered ({"token": "2026-12-06"}), for expiry warnings.
    """ALTER TABLE "plugin_configurations" ADD COLUMN "schedule" TEXT NOT NULL DEFAULT '{}'""",
    """ALTER TABLE "plugin_configurations" ADD COLUMN "secrets_entered" TEXT NOT NULL DEFAULT '{}'""",
]


# Version 10: share links (issue 18). A link opens one invoice, or a client's non-draft invoices, by a
# random token of which only the SHA-256 is stored; the portal finds a link by that hash on every
# request (the unique index). Ids are never reused (AUTOINCREMENT): views are counted by link id in a
# file beside the database (core.sharing.views), which a reused id would hand to another link.
V10 = [
    """CREATE TABLE "share_links" (
        "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "kind" VARCHAR(255) NOT NULL CHECK ("kind" = 'invoice' OR "kind" = 'client'),
        "invoice_id" INTEGER REFERENCES "invoices" ("id"),
        "client_id" INTEGER REFERENCES "clients" ("id"),
        "token_hash" VARCHAR(255) NOT NULL,
        "expires_at" DATETIME NOT NULL,
        "revoked_at" DATETIME,
        CHECK (("kind" = 'invoice' AND "invoice_id" IS NOT NULL AND "client_id" IS NULL)
            OR ("kind" = 'client' AND "client_id" IS NOT NULL AND "invoice_id" IS NULL)))""",
    'CREATE UNIQUE INDEX "share_links_token_hash" ON "share_links" ("token_hash")',
    """CREATE INDEX "share_links_invoice_id" ON "share_links" ("invoice_id") WHERE "invoice_id" IS NOT NULL""",
    """CREATE INDEX "share_links_client_id" ON "share_links" ("client_id") WHERE "client_id" IS NOT NULL""",
]


# Version 11: the passphrase's history (issue 18): each set, change and removal, audited.
V11 = [
    """CREATE TABLE "passphrase_events" (
        "id" INTEGER NOT NULL PRIMARY KEY,
        "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL,
        "action" VARCHAR(255) NOT NULL CHECK ("action" = 'set' OR "action" = 'changed' OR "action" = 'removed'))""",
]


Migration = list[str] | Callable[[Database], None]
MIGRATIONS: list[Migration] = [V1, V2, V3, V4, V5, _v6, V7, V8, V9, V10, V11]
LATEST = len(MIGRATIONS)


def expected_triggers() -> dict[str, str]:
    """The triggers the migrations create, by name, with the SQL text SQLite keeps in sqlite_master."""
    triggers: dict[str, str] = {}
    for step in MIGRATIONS:
        for statement in step if isinstance(step, list) else ():
            words = statement.split(None, 3)
            if words[:2] == ["CREATE", "TRIGGER"]:
                triggers[words[2].strip('"')] = statement
            elif words[:2] == ["DROP", "TRIGGER"]:
                triggers.pop(words[2].strip('"'), None)
    return triggers


def schema_version(database: Database) -> int:
    return database.execute_sql("PRAGMA user_version").fetchone()[0]


def migrate(database: Database, target: int = LATEST) -> int:
    """Bring the schema to ``target``; each step is one transaction with its version bump."""
    current = schema_version(database)
    if current > LATEST:
        raise SchemaTooNewError(
            Message(
                "{path} was written by a newer Fakturka (schema version {version}; "
                "this version knows up to {latest}). Upgrade Fakturka to open it.",
                path=database.database,
                version=current,
                latest=LATEST,
            )
        )
    for version in range(current + 1, target + 1):
        with database.atomic():
            # Another process may have migrated while we waited for the lock.
            if schema_version(database) >= version:
                continue
            step = MIGRATIONS[version - 1]
            if callable(step):
                step(database)
            else:
                for statement in step:
                    database.execute_sql(statement)
            database.execute_sql(f"PRAGMA user_version = {int(version)}")
    return schema_version(database)
