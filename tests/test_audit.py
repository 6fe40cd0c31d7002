"""The audit trail: one record per create/update/delete of a domain row, no bypass.

See DESIGN.md, "Audit trail". Every test below runs against a fresh migrated
database (the ``database`` fixture) under a temporary FAKTURKA_HOME.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from peewee import DatabaseError, IntegrityError
from peewee import Model as PeeweeModel

import core.store.audit
from core.platform.credentials import set_credentials
from core.sharing.links import hash_token
from core.store.audit import (
    REDACTED,
    AuditBypassError,
    AuditedModel,
    AuditRecord,
    audit_context,
    audit_source,
    audit_sync_run,
    record,
)
from core.store.audit_records import AuditRewriteError
from core.store.db import db
from core.store.models import (
    AUDITED_MODELS,
    BusinessProfile,
    Client,
    Invoice,
    InvoiceLine,
    MoneyTransaction,
    PassphraseEvent,
    PluginConfiguration,
    Project,
    RecurringRule,
    ShareLink,
    WorkEntry,
)

pytestmark = pytest.mark.usefixtures("database")

BOOKKEEPING = {"id", "created_at", "updated_at"}
_seq = itertools.count(1)


class Boom(Exception):
    """Raised inside a transaction to force a rollback."""


# -- factories: minimal valid rows, parents created as needed --------------------


def client_row(**kw) -> Client:
    return Client.create(**{"name": f"Client {next(_seq)}", **kw})


def project_row(**kw) -> Project:
    kw.setdefault("client", client_row())
    return Project.create(**{"name": f"Project {next(_seq)}", **kw})


def invoice_row(**kw) -> Invoice:
    kw.setdefault("client", client_row())
    return Invoice.create(**invoice_fields(client=kw.pop("client"), **kw))


def invoice_fields(**kw) -> dict:
    n = next(_seq)
    return {
        "number": f"2025{n:04}",
        "year": 2025,
        "seq": n,
        "currency": "CZK",
        "issued_on": date(2025, 3, 1),
        "due_on": date(2025, 3, 15),
        **kw,
    }


def invoice_line_row(**kw) -> InvoiceLine:
    kw.setdefault("invoice", invoice_row())
    return InvoiceLine.create(
        **{"description": "Development", "unit_price": 150000, "amount": 225000, "quantity": Decimal("1.5"), **kw}
    )


# Per model: build(n) -> the kwargs of a new row (parents already created),
# and the one field an update changes, with its new value.
SPECS = {
    BusinessProfile: dict(
        build=lambda: {"name": "Jana Nováková", "ico": "12345678"},
        field="name",
        new="Jana Dvořáková",
    ),
    Client: dict(
        build=lambda: {"name": f"Acme {next(_seq)}", "email": "billing@acme.test", "hourly_rate": 120000},
        field="email",
        new="accounts@acme.test",
    ),
    Project: dict(
        build=lambda: {"client": client_row(), "name": f"Website {next(_seq)}"},
        field="name",
        new="Website relaunch",
    ),
    Invoice: dict(
        build=lambda: invoice_fields(client=client_row(), total=225000),
        field="status",
        new="sent",
    ),
    InvoiceLine: dict(
        build=lambda: {
            "invoice": invoice_row(),
            "description": "Development",
            "quantity": Decimal("1.5"),
            "unit_price": 150000,
            "amount": 225000,
        },
        field="quantity",
        new=Decimal("2.25"),
    ),
    WorkEntry: dict(
        build=lambda: {"project": project_row(), "date": date(2025, 2, 3), "minutes": 90, "description": "Code review"},
        field="minutes",
        new=120,
    ),
    RecurringRule: dict(
        build=lambda: {
            "name": "Monthly retainer",
            "creates": "work",
            "project": project_row(),
            "amount": 500000,
            "currency": "CZK",
            "cadence": "monthly",
            "day": 1,
            "start_on": date(2025, 1, 1),
            "next_on": date(2025, 2, 1),
        },
        field="next_on",
        new=date(2025, 3, 1),
    ),
    MoneyTransaction: dict(
        build=lambda: {
            "source": "fio",
            "external_id": f"tx-{next(_seq)}",
            "transaction_type": "income",
            "amount": 12345,
            "currency": "CZK",
            "transacted_on": date(2025, 2, 10),
            "raw_data": {"id": 1, "vs": "20250001"},
        },
        field="amount",
        new=12000,
    ),
    PluginConfiguration: dict(
        build=lambda: {"plugin_name": f"plugin-{next(_seq)}", "settings": {"account": "1"}},
        field="settings",
        new={"account": "2"},
    ),
    # The token's hash is given, as core.sharing.links writes it: the audit must record it as redacted.
    ShareLink: dict(
        build=lambda: {
            "kind": "invoice",
            "invoice": invoice_row(),
            "token_hash": hash_token(f"token-{next(_seq)}"),
            "expires_at": datetime(2025, 4, 1, 12, 30),
        },
        field="expires_at",
        new=datetime(2025, 5, 1, 12, 30),
    ),
    PassphraseEvent: dict(
        build=lambda: {"action": "set"},
        field="action",
        new="changed",
    ),
}


def test_specs_cover_every_audited_model():
    assert set(SPECS) == set(AUDITED_MODELS)
    for model in AUDITED_MODELS:
        assert issubclass(model, AuditedModel)


def as_json(value):
    """How a value appears in an audit record's changes."""
    if isinstance(value, PeeweeModel):
        return value.id
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def recorded(model, name, value):
    """How a value of ``model.name`` appears in an audit record: a redacted field's as *** (None when empty)."""
    if name in model.redacted_fields:
        return None if value in (None, b"", "") else REDACTED
    return as_json(value)


def raw_row(model, row_id) -> dict:
    """The stored row read with plain SQL, as {field name: python value}."""
    cursor = db.execute_sql(f'SELECT * FROM "{model._meta.table_name}" WHERE id = ?', (row_id,))
    values = cursor.fetchone()
    assert values is not None, f"{model.__name__} {row_id} is not stored"
    by_column = {f.column_name: f for f in model._meta.sorted_fields}
    row = {}
    for (column, *_), value in zip(cursor.description, values, strict=False):
        field = by_column[column]
        row[field.name] = field.python_value(value)
    return row


def audit_mark() -> int:
    return db.execute_sql("SELECT coalesce(max(id), 0) FROM audit_records").fetchone()[0]


def records_after(mark: int) -> list[AuditRecord]:
    return list(AuditRecord.select().where(AuditRecord.id > mark).order_by(AuditRecord.id))


def audit_count() -> int:
    return db.execute_sql("SELECT count(*) FROM audit_records").fetchone()[0]


def table_count(model) -> int:
    return db.execute_sql(f'SELECT count(*) FROM "{model._meta.table_name}"').fetchone()[0]


def create_row(model):
    return model.create(**SPECS[model]["build"]())


AUDITED = pytest.mark.parametrize("model", AUDITED_MODELS, ids=lambda m: m.__name__)


# -- create / update / delete of one row -------------------------------------------


@AUDITED
def test_create_writes_one_create_record(model):
    kwargs = SPECS[model]["build"]()
    mark = audit_mark()
    row = model.create(**kwargs)

    recs = records_after(mark)
    assert len(recs) == 1
    rec = recs[0]
    assert (rec.table_name, rec.row_id, rec.action) == (model._meta.table_name, row.id, "create")
    changes = rec.changes
    # Every value given appears as [None, value].
    for name, value in kwargs.items():
        assert changes[name] == [None, recorded(model, name, value)], name
    # Every other non-null column too (defaults), and nothing else.
    stored = raw_row(model, row.id)
    expected = {
        name: [None, recorded(model, name, value)]
        for name, value in stored.items()
        if name not in BOOKKEEPING and value is not None
    }
    assert changes == expected
    assert not BOOKKEEPING & set(changes)


@AUDITED
def test_update_of_one_field_writes_one_update_record(model):
    spec = SPECS[model]
    row = create_row(model)
    old = getattr(row, spec["field"])
    before_row = raw_row(model, row.id)

    mark = audit_mark()
    fresh = model.get_by_id(row.id)
    setattr(fresh, spec["field"], spec["new"])
    fresh.save()

    recs = records_after(mark)
    assert len(recs) == 1
    rec = recs[0]
    assert (rec.table_name, rec.row_id, rec.action) == (model._meta.table_name, row.id, "update")
    assert rec.changes == {spec["field"]: [as_json(old), as_json(spec["new"])]}
    # The change is stored; nothing else moved except updated_at.
    after_row = raw_row(model, row.id)
    assert after_row[spec["field"]] == spec["new"]
    changed = {k for k in after_row if after_row[k] != before_row[k]}
    assert changed <= {spec["field"], "updated_at"}


@AUDITED
def test_delete_instance_writes_one_delete_record(model):
    spec = SPECS[model]
    row = create_row(model)
    value = getattr(row, spec["field"])

    mark = audit_mark()
    assert model.get_by_id(row.id).delete_instance() == 1

    recs = records_after(mark)
    assert len(recs) == 1
    rec = recs[0]
    assert (rec.table_name, rec.row_id, rec.action) == (model._meta.table_name, row.id, "delete")
    assert rec.changes[spec["field"]] == [as_json(value), None]
    assert all(new is None and old is not None for old, new in rec.changes.values())
    assert model.get_or_none(model.id == row.id) is None


@AUDITED
def test_unchanged_save_writes_nothing_and_keeps_updated_at(model):
    row = create_row(model)
    stored_before = raw_row(model, row.id)
    mark = audit_mark()

    # Straight after create, and after a reload from the database.
    assert row.save() == 0
    fresh = model.get_by_id(row.id)
    assert fresh.save() == 0
    # Setting a field to the value it already has is no change either.
    setattr(fresh, SPECS[model]["field"], getattr(fresh, SPECS[model]["field"]))
    assert fresh.save() == 0

    assert records_after(mark) == []
    assert raw_row(model, row.id) == stored_before  # updated_at included


def test_changed_save_bumps_updated_at():
    row = client_row()
    before = raw_row(Client, row.id)["updated_at"]
    row.email = "new@example.test"
    row.save()
    after = raw_row(Client, row.id)["updated_at"]
    assert after >= before
    assert raw_row(Client, row.id)["created_at"] == row.created_at


# -- transactions -------------------------------------------------------------------


@AUDITED
def test_rolled_back_create_leaves_no_row_and_no_record(model):
    rows_before, audit_before = table_count(model), audit_count()
    with pytest.raises(Boom):
        with db.atomic():
            model.create(**SPECS[model]["build"]())
            assert audit_count() > audit_before  # written inside the transaction...
            raise Boom
    assert table_count(model) == rows_before  # ...and gone with it
    assert audit_count() == audit_before


def test_rolled_back_update_and_delete_leave_no_change_and_no_record():
    keep = client_row(email="old@example.test")
    stored = raw_row(Client, keep.id)
    audit_before = audit_count()

    with pytest.raises(Boom):
        with db.atomic():
            keep.email = "new@example.test"
            keep.save()
            raise Boom
    with pytest.raises(Boom):
        with db.atomic():
            Client.get_by_id(keep.id).delete_instance()
            raise Boom
    with pytest.raises(Boom):
        with db.atomic():
            Client.update(archived=True).where(Client.id == keep.id).execute()
            Client.delete().where(Client.id == keep.id).execute()
            raise Boom

    assert raw_row(Client, keep.id) == stored
    assert audit_count() == audit_before


def test_rolled_back_savepoint_keeps_the_outer_write_and_its_record():
    mark = audit_mark()
    with db.atomic():
        outer = client_row(name="Outer")
        with pytest.raises(Boom):
            with db.atomic():
                client_row(name="Inner")
                raise Boom
    assert [c.name for c in Client.select()] == ["Outer"]
    recs = records_after(mark)
    assert [(r.row_id, r.action) for r in recs] == [(outer.id, "create")]


def test_failed_insert_leaves_no_record():
    audit_before = audit_count()
    with pytest.raises(IntegrityError):
        MoneyTransaction.create(source="fio", transaction_type="income", amount=0, transacted_on=date(2025, 1, 1))
    assert audit_count() == audit_before
    assert table_count(MoneyTransaction) == 0


# -- bulk queries are audited row by row ---------------------------------------------


@AUDITED
def test_bulk_update_audits_every_row(model):
    spec = SPECS[model]
    rows = [create_row(model) for _ in range(4)]
    untouched = rows.pop()
    olds = {r.id: getattr(r, spec["field"]) for r in rows}
    untouched_before = raw_row(model, untouched.id)

    mark = audit_mark()
    count = model.update({spec["field"]: spec["new"]}).where(model.id.in_(list(olds))).execute()

    assert count == 3
    recs = records_after(mark)
    assert len(recs) == 3
    assert {r.row_id for r in recs} == set(olds)
    for rec in recs:
        assert rec.table_name == model._meta.table_name
        assert rec.action == "update"
        assert rec.changes == {spec["field"]: [as_json(olds[rec.row_id]), as_json(spec["new"])]}
    assert raw_row(model, untouched.id) == untouched_before


def test_bulk_update_records_each_rows_own_old_and_new_value():
    a = client_row(currency="CZK", hourly_rate=100)
    b = client_row(currency="USD", hourly_rate=250)
    c = client_row(currency="EUR", hourly_rate=None)
    mark = audit_mark()

    n = Client.update(currency="EUR", hourly_rate=Client.hourly_rate + 50).execute()

    assert n == 3
    by_row = {r.row_id: r.changes for r in records_after(mark)}
    assert by_row == {
        a.id: {"currency": ["CZK", "EUR"], "hourly_rate": [100, 150]},
        b.id: {"currency": ["USD", "EUR"], "hourly_rate": [250, 300]},
        # Already EUR, and NULL + 50 stays NULL: the row matched but did not change.
    }
    assert c.id not in by_row


def test_bulk_update_matching_nothing_writes_nothing():
    client_row()
    mark = audit_mark()
    assert Client.update(name="x").where(Client.id < 0).execute() == 0
    assert records_after(mark) == []


def test_bulk_update_of_many_rows_audits_all_of_them():
    # More rows than one chunk of bound parameters (500) in the audit code, and than one
    # multi-row INSERT of their records holds (core.store.audit_records._RECORDS_PER_STATEMENT).
    ids = Client.insert_many([{"name": f"C{i}"} for i in range(4603)]).execute()
    mark = audit_mark()
    assert Client.update(archived=True).execute() == 4603
    recs = records_after(mark)
    assert [r.row_id for r in recs] == sorted(ids)  # one record each, in row order
    assert all(r.changes == {"archived": [False, True]} for r in recs)


@AUDITED
def test_bulk_delete_audits_every_deleted_row(model):
    spec = SPECS[model]
    rows = [create_row(model) for _ in range(3)]
    survivor = rows.pop()
    values = {r.id: getattr(r, spec["field"]) for r in rows}

    mark = audit_mark()
    count = model.delete().where(model.id.in_(list(values))).execute()

    assert count == 2
    recs = records_after(mark)
    assert len(recs) == 2
    for rec in recs:
        assert rec.table_name == model._meta.table_name
        assert rec.action == "delete"
        assert rec.changes[spec["field"]] == [as_json(values[rec.row_id]), None]
        assert all(new is None for _, new in rec.changes.values())
    assert {r.row_id for r in recs} == set(values)
    assert [r.id for r in model.select()] == [survivor.id]


def test_bulk_delete_without_where_audits_every_row():
    ids = [client_row().id for _ in range(5)]
    mark = audit_mark()
    assert Client.delete().execute() == 5
    recs = records_after(mark)
    assert sorted(r.row_id for r in recs) == ids
    assert {r.action for r in recs} == {"delete"}
    assert table_count(Client) == 0


@AUDITED
def test_insert_many_audits_every_inserted_row(model):
    batch = [SPECS[model]["build"]() for _ in range(3)]
    mark = audit_mark()

    ids = model.insert_many(batch).execute()

    assert len(ids) == 3
    recs = records_after(mark)
    assert [r.row_id for r in recs] == list(ids)
    for rec, kwargs in zip(recs, batch, strict=False):
        assert rec.table_name == model._meta.table_name
        assert rec.action == "create"
        stored = raw_row(model, rec.row_id)
        assert rec.changes == {
            name: [None, recorded(model, name, value)]
            for name, value in stored.items()
            if name not in BOOKKEEPING and value is not None
        }
        for name, value in kwargs.items():
            assert rec.changes[name] == [None, recorded(model, name, value)]


# Text that JSON has to escape, and text it must not mangle.
AWKWARD_TEXT = 'Tab\there, "quoted" \\ back\nslash \x01 ctrl „uvozovky“ 🙂 \u2028 end'
AWKWARD_VALUES = {
    MoneyTransaction: {
        "description": AWKWARD_TEXT,
        "counterparty": "",
        "reference": "007",
        "raw_data": {"z": [1.5, 2e-07, None, True], "a": {"ř": "ž", "n": -3}, "t": AWKWARD_TEXT},
        "match_note": {"candidates": [1, 2]},
    },
    WorkEntry: {
        "description": AWKWARD_TEXT,
        "started_at": datetime(2025, 2, 3, 8, 0),
        "ended_at": datetime(2025, 2, 3, 9, 30, 15, 250),
        "billable": False,
        "minutes": None,
    },
    InvoiceLine: {"description": AWKWARD_TEXT, "quantity": Decimal("0.25")},
    Invoice: {"note": AWKWARD_TEXT, "vat_payer": True, "customer": {"name": AWKWARD_TEXT}, "paid_on": None},
    PluginConfiguration: {"credentials": b"\x00encrypted", "enabled": True},
    ShareLink: {"revoked_at": datetime(2025, 3, 2, 8, 0, 0, 250)},
}


@AUDITED
def test_bulk_insert_records_what_the_row_by_row_diff_would(model, monkeypatch):
    """SQLite builds the create records of a bulk insert (core.store.audit_sql); they must be what
    ``diff(None, stored row)`` gives in Python, value for value."""
    from core.store.audit import diff
    from core.store.audit_sql import created_changes_sql
    from core.store.base import json_text

    assert created_changes_sql(model, frozenset(BOOKKEEPING)) is not None, "the fast path covers every model"
    batch = [{**SPECS[model]["build"](), **AWKWARD_VALUES.get(model, {})} for _ in range(2)]
    if model is PluginConfiguration:
        batch[1]["credentials"] = b""  # an empty secret: recorded as [null, null], like the Python path
    mark = audit_mark()
    calls = []
    in_sql = core.store.audit._insert_audited_in_sql
    monkeypatch.setattr(core.store.audit, "_insert_audited_in_sql", lambda *a: calls.append(a) or in_sql(*a))
    ids = model.insert_many(batch).execute()

    assert len(calls) == 1, "the insert took the path where SQLite builds the records"
    recs = records_after(mark)
    assert [r.row_id for r in recs] == list(ids)
    for rec in recs:
        stored = model.select().where(model._meta.primary_key == rec.row_id).dicts().get()
        text = db.execute_sql("SELECT changes FROM audit_records WHERE id = ?", (rec.id,)).fetchone()[0]
        assert text == json_text(diff(model, None, stored))  # the same bytes: true stays true, not 1
    if model is PluginConfiguration:
        assert [r.changes["credentials"] for r in recs] == [[None, REDACTED], [None, None]]
    if model is ShareLink:
        assert [r.changes["token_hash"] for r in recs] == [[None, REDACTED], [None, REDACTED]]


def test_insert_stored_rows_writes_the_rows_and_records_insert_many_would():
    """The sync engine hands rows over in stored form (core.store.audit.insert_stored_rows): the table rows and
    the audit records must be those insert_many writes for the same values, defaults included."""
    from core.store.audit import insert_stored_rows
    from core.store.base import json_text

    values = [
        {
            "source": "bank",
            "external_id": f"x{i}",
            "transaction_type": "income",
            "amount": 1000 + i,
            "currency": "CZK",
            "transacted_on": date(2025, 3, i + 1),
            "description": AWKWARD_TEXT,
            "raw_data": {"z": [1.5, None], "a": AWKWARD_TEXT, "i": i},
        }
        for i in range(3)
    ]
    names = list(values[0])
    stored_form = [[*(v[n] for n in names if n != "raw_data"), json_text(v["raw_data"])] for v in values]
    order = [n for n in names if n != "raw_data"] + ["raw_data"]
    with audit_context("bank", sync_run=None):
        mark = audit_mark()
        fast_ids = insert_stored_rows(MoneyTransaction, order, stored_form)
        fast_records = records_after(mark)
        mark = audit_mark()
        slow_ids = MoneyTransaction.insert_many(
            [{**v, "external_id": "y" + v["external_id"]} for v in values]
        ).execute()
        slow_records = records_after(mark)

    def row(row_id):
        found = MoneyTransaction.select().where(MoneyTransaction.id == row_id).dicts().get()
        return {k: v for k, v in found.items() if k not in ("id", "external_id", "created_at", "updated_at")}

    assert len(fast_ids) == len(slow_ids) == 3
    assert [row(i) for i in fast_ids] == [row(i) for i in slow_ids]
    assert [r.row_id for r in fast_records] == fast_ids
    for fast, slow in zip(fast_records, slow_records, strict=False):
        assert (fast.action, fast.source) == (slow.action, slow.source) == ("create", "bank")
        assert fast.changes.pop("external_id")[1] == slow.changes.pop("external_id")[1][1:]
        assert fast.changes == slow.changes
    assert insert_stored_rows(MoneyTransaction, order, []) == []


def test_insert_stored_rows_is_refused_where_writes_are_blocked():
    from core.store.audit import AuditBypassError, insert_stored_rows, write_block

    token = write_block.set("a plugin's sync must write through ctx")
    try:
        with pytest.raises(AuditBypassError, match="not allowed"):
            insert_stored_rows(Client, ["name"], [["Acme"]])
    finally:
        write_block.reset(token)
    assert table_count(Client) == 0


def test_audited_bulk_update_records_what_the_row_by_row_diff_would():
    """core.store.bulk stages new values and lets SQLite write the records: same bytes as diff() in Python,
    old values read from the stored rows, unchanged rows neither written nor audited."""
    from core.store.audit import diff
    from core.store.base import json_text
    from core.store.bulk import audited_bulk_update

    invoice = invoice_row()
    build = SPECS[MoneyTransaction]["build"]
    rows = [MoneyTransaction.create(**{**build(), **AWKWARD_VALUES[MoneyTransaction]}) for _ in range(4)]
    rows[1].invoice = invoice
    rows[1].match_status = "matched"
    rows[1].save()
    # As an older version wrote JSON (with spaces): the same document, so still "unchanged" below.
    db.execute_sql(
        "UPDATE money_transactions SET match_note = ? WHERE id = ?",
        (json.dumps(AWKWARD_VALUES[MoneyTransaction]["match_note"]), rows[2].id),
    )
    before = {r.id: MoneyTransaction.select().where(MoneyTransaction.id == r.id).dicts().get() for r in rows}
    stamp_before = {r.id: raw_row(MoneyTransaction, r.id)["updated_at"] for r in rows}
    new = {
        rows[0].id: {
            "invoice": invoice.id,
            "match_status": "matched",
            "match_note": {"by": "VS", "text": AWKWARD_TEXT},
        },
        rows[1].id: {"invoice": None, "match_status": "unmatched", "match_note": {}},  # back to nothing
        rows[2].id: {
            "invoice": None,
            "match_status": "unmatched",  # the same as stored: no write
            "match_note": dict(AWKWARD_VALUES[MoneyTransaction]["match_note"]),
        },
        rows[3].id: {"invoice": None, "match_status": "review", "match_note": {"candidates": ["2025001"]}},
    }
    mark = audit_mark()

    assert audited_bulk_update(MoneyTransaction, new) == 3

    recs = records_after(mark)
    assert [r.row_id for r in recs] == [rows[0].id, rows[1].id, rows[3].id]
    for rec in recs:
        after = MoneyTransaction.select().where(MoneyTransaction.id == rec.row_id).dicts().get()
        text = db.execute_sql("SELECT changes FROM audit_records WHERE id = ?", (rec.id,)).fetchone()[0]
        assert text == json_text(diff(MoneyTransaction, before[rec.row_id], after))
        assert (rec.action, rec.source) == ("update", "manual")
        assert {name: after[name] for name in new[rec.row_id]} == new[rec.row_id]
    assert recs[1].changes["invoice"] == [invoice.id, None]
    assert raw_row(MoneyTransaction, rows[2].id)["updated_at"] == stamp_before[rows[2].id]


def test_audited_bulk_update_with_unknown_rows_and_nothing_to_do():
    from core.store.bulk import audited_bulk_update

    mark = audit_mark()
    assert audited_bulk_update(Client, {}) == 0
    assert audited_bulk_update(Client, {987654: {"name": "Nobody"}}) == 0
    assert records_after(mark) == []
    with pytest.raises(ValueError, match="same fields"):
        audited_bulk_update(Client, {client_row().id: {"name": "A"}, client_row().id: {"email": "b@x.test"}})
    assert [r.action for r in records_after(mark)] == ["create", "create"]  # the two clients; no update


def test_single_insert_query_is_audited():
    mark = audit_mark()
    new_id = Client.insert(name="Inserted", email="i@example.test").execute()
    recs = records_after(mark)
    assert [(r.row_id, r.action) for r in recs] == [(new_id, "create")]
    assert recs[0].changes["name"] == [None, "Inserted"]


def test_bulk_create_and_bulk_update_are_audited():
    objs = [Client(name="A"), Client(name="B")]
    mark = audit_mark()
    Client.bulk_create(objs)
    created = records_after(mark)
    assert [(r.action, r.changes["name"]) for r in created] == [("create", [None, "A"]), ("create", [None, "B"])]

    rows = list(Client.select().order_by(Client.id))
    for row in rows:
        row.email = f"{row.name.lower()}@example.test"
    mark = audit_mark()
    assert Client.bulk_update(rows, fields=[Client.email]) == 2
    updated = records_after(mark)
    assert {r.row_id: r.changes for r in updated} == {
        rows[0].id: {"email": ["", "a@example.test"]},
        rows[1].id: {"email": ["", "b@example.test"]},
    }


# -- writes that cannot be audited are refused -----------------------------------------


@AUDITED
def test_replace_and_insert_from_are_refused(model):
    kwargs = SPECS[model]["build"]()
    rows_before, audit_before = table_count(model), audit_count()
    with pytest.raises(AuditBypassError):
        model.replace(**kwargs).execute()
    with pytest.raises(AuditBypassError):
        model.replace_many([kwargs]).execute()
    with pytest.raises(AuditBypassError):
        model.insert_from(model.select(model.created_at), [model.created_at]).execute()
    assert table_count(model) == rows_before
    assert audit_count() == audit_before


@pytest.mark.parametrize(
    "upsert",
    [
        lambda q: q.on_conflict_replace(),
        lambda q: q.on_conflict_ignore(),
        lambda q: q.on_conflict(
            conflict_target=[MoneyTransaction.source, MoneyTransaction.external_id],
            update={MoneyTransaction.amount: 999},
        ),
        lambda q: q.on_conflict("REPLACE"),
    ],
    ids=["replace", "ignore", "do-update", "or-replace"],
)
@pytest.mark.parametrize("many", [False, True], ids=["insert", "insert_many"])
def test_upserts_are_refused_and_write_nothing(upsert, many):
    existing = MoneyTransaction.create(**SPECS[MoneyTransaction]["build"]())
    stored = raw_row(MoneyTransaction, existing.id)
    # Both a conflicting row and a new one: neither may be written.
    clash = {**SPECS[MoneyTransaction]["build"](), "external_id": existing.external_id, "amount": 1}
    fresh = SPECS[MoneyTransaction]["build"]()
    rows_before, audit_before = table_count(MoneyTransaction), audit_count()

    query = MoneyTransaction.insert_many([clash, fresh]) if many else MoneyTransaction.insert(**fresh)
    with pytest.raises(AuditBypassError):
        upsert(query).execute()

    assert table_count(MoneyTransaction) == rows_before
    assert audit_count() == audit_before
    assert raw_row(MoneyTransaction, existing.id) == stored


def test_update_and_delete_with_returning_or_from_are_refused():
    row = client_row(name="Keep")
    other = client_row(name="Other")
    stored, audit_before = raw_row(Client, row.id), audit_count()
    with pytest.raises(AuditBypassError):
        Client.update(name="x").where(Client.id == row.id).returning(Client.id).execute()
    with pytest.raises(AuditBypassError):
        Client.delete().where(Client.id == row.id).returning(Client.id).execute()
    Other = Client.alias()
    with pytest.raises(AuditBypassError):
        (Client.update(name=Other.name).from_(Other).where((Other.id == other.id) & (Client.id == row.id)).execute())
    assert raw_row(Client, row.id) == stored
    assert audit_count() == audit_before


def test_recursive_delete_instance_is_refused():
    project = project_row()
    entry = WorkEntry.create(project=project, date=date(2025, 1, 2), minutes=30)
    audit_before = audit_count()
    with pytest.raises(AuditBypassError):
        project.client.delete_instance(recursive=True)
    with pytest.raises(AuditBypassError):
        project.delete_instance(recursive=True, delete_nullable=True)
    assert Client.get_or_none(Client.id == project.client_id) is not None
    assert Project.get_or_none(Project.id == project.id) is not None
    assert WorkEntry.get_or_none(WorkEntry.id == entry.id) is not None
    assert audit_count() == audit_before


# -- who made the change ---------------------------------------------------------------


def test_source_defaults_to_manual():
    mark = audit_mark()
    row = client_row()
    row.email = "x@example.test"
    row.save()
    row.delete_instance()
    recs = records_after(mark)
    assert [r.action for r in recs] == ["create", "update", "delete"]
    assert {(r.source, r.sync_run) for r in recs} == {("manual", None)}


def test_audit_context_sets_source_and_sync_run():
    keep = client_row()
    mark = audit_mark()
    with audit_context("fio", sync_run=7):
        tx = MoneyTransaction.create(**SPECS[MoneyTransaction]["build"]())
        Client.update(archived=True).where(Client.id == keep.id).execute()
        MoneyTransaction.insert_many([SPECS[MoneyTransaction]["build"]()]).execute()
        tx.delete_instance()
    client_row()  # after the block: manual again
    recs = records_after(mark)
    assert [(r.source, r.sync_run) for r in recs[:-1]] == [("fio", 7)] * 4
    assert (recs[-1].source, recs[-1].sync_run) == ("manual", None)
    assert audit_source.get() == "manual" and audit_sync_run.get() is None


def test_record_helper_uses_the_context():
    mark = audit_mark()
    with audit_context("fio", sync_run=9):
        record(Client, 41, "update", {"name": ["a", "b"]})
    record(Client, 42, "delete", {})
    assert [(r.table_name, r.row_id, r.action, r.changes, r.source, r.sync_run) for r in records_after(mark)] == [
        ("clients", 41, "update", {"name": ["a", "b"]}, "fio", 9),
        ("clients", 42, "delete", {}, "manual", None),
    ]


def test_audit_context_nests_and_restores_after_an_error():
    mark = audit_mark()
    with pytest.raises(Boom):
        with audit_context("fio", sync_run=3):
            with audit_context("recurring"):
                client_row()
            client_row()
            raise Boom
    client_row()
    assert [(r.source, r.sync_run) for r in records_after(mark)] == [
        ("recurring", None),
        ("fio", 3),
        ("manual", None),
    ]


def _in_thread(fn):
    errors = []

    def run():
        try:
            fn()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db.close()  # the worker's own connection

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert not errors, errors


def test_context_does_not_leak_into_a_plain_thread():
    """ContextVars do not cross into threading.Thread: a worker must set them itself."""
    mark = audit_mark()
    with audit_context("fio", sync_run=7):
        _in_thread(lambda: client_row(name="from worker"))
        client_row(name="from main")
    recs = {r.changes["name"][1]: (r.source, r.sync_run) for r in records_after(mark)}
    assert recs == {"from worker": ("manual", None), "from main": ("fio", 7)}


def test_context_set_inside_a_thread_applies_there():
    def work():
        with audit_context("recurring", sync_run=11):
            client_row(name="scheduled")

    mark = audit_mark()
    _in_thread(work)
    client_row(name="after")
    recs = {r.changes["name"][1]: (r.source, r.sync_run) for r in records_after(mark)}
    assert recs == {"scheduled": ("recurring", 11), "after": ("manual", None)}


# -- secrets never reach the audit trail -------------------------------------------------

SECRET = "fio-token-QWxhZGRpbjpvcGVuIHNlc2FtZQ"


def test_credentials_are_redacted_in_every_action():
    mark = audit_mark()
    row = set_credentials("fio", {"token": SECRET})
    blob_v1 = bytes(PluginConfiguration.get_by_id(row.id).credentials)
    set_credentials("fio", {"token": SECRET + "-2"})
    blob_v2 = bytes(PluginConfiguration.get_by_id(row.id).credentials)
    set_credentials("fio", {})  # clears
    PluginConfiguration.update(credentials=blob_v1).execute()
    PluginConfiguration.get_by_id(row.id).delete_instance()

    recs = records_after(mark)
    assert [(r.action, r.changes.get("credentials")) for r in recs] == [
        ("create", [None, REDACTED]),
        ("update", [REDACTED, REDACTED]),
        ("update", [REDACTED, None]),
        ("update", [None, REDACTED]),
        ("delete", [REDACTED, None]),
    ]
    raw = db.execute_sql("SELECT group_concat(changes, '|') FROM audit_records").fetchone()[0]
    assert SECRET not in raw
    for blob in (blob_v1, blob_v2):
        assert blob.hex() not in raw.lower()
        assert blob.decode("latin-1") not in raw


def test_credentials_change_is_recorded_even_when_redacted_values_look_equal():
    row = PluginConfiguration.create(plugin_name="fio", credentials=b"\x01" + b"a" * 40)
    mark = audit_mark()
    row.credentials = b"\x01" + b"b" * 40
    row.save()
    recs = records_after(mark)
    assert [(r.action, r.changes) for r in recs] == [("update", {"credentials": [REDACTED, REDACTED]})]


def test_a_share_links_token_hash_is_redacted_in_every_action():
    """The hash of a share token is as good as the token to anyone who can look it up in the table: the
    audit trail records only that one was set, in every kind of write."""
    from core.platform.history import display_changes

    invoice = invoice_row()
    hashes = [hash_token(f"{SECRET}-{n}") for n in range(5)]
    mark = audit_mark()
    link = ShareLink.create(kind="invoice", invoice=invoice, token_hash=hashes[0], expires_at=datetime(2025, 4, 1))
    link.token_hash = hashes[1]
    link.save()
    ShareLink.update(token_hash=hashes[2]).where(ShareLink.id == link.id).execute()
    revoked = ShareLink.get_by_id(link.id)
    revoked.revoked_at = datetime(2025, 3, 20, 9, 0)  # the one write the product makes after the create
    revoked.save()
    (second,) = ShareLink.insert_many(
        [{"kind": "client", "client": invoice.client_id, "token_hash": hashes[3], "expires_at": datetime(2025, 5, 1)}]
    ).execute()
    ShareLink.get_by_id(link.id).delete_instance()
    ShareLink.delete().where(ShareLink.id == second).execute()

    recs = records_after(mark)
    assert [(r.row_id, r.action, r.changes.get("token_hash")) for r in recs] == [
        (link.id, "create", [None, REDACTED]),
        (link.id, "update", [REDACTED, REDACTED]),
        (link.id, "update", [REDACTED, REDACTED]),
        (link.id, "update", None),  # revoking changes the time only
        (second, "create", [None, REDACTED]),
        (link.id, "delete", [REDACTED, None]),
        (second, "delete", [REDACTED, None]),
    ]
    assert recs[3].changes == {"revoked_at": [None, "2025-03-20T09:00:00"]}
    raw = db.execute_sql("SELECT group_concat(changes, '|') FROM audit_records").fetchone()[0]
    for value in hashes:
        assert value not in raw and value.upper() not in raw
    # What the audit screen shows: the invoice by its number, the hash as *** only.
    shown = {name: new for name, _, new in display_changes(recs[0])}
    assert shown["invoice"] == invoice.number and shown["token_hash"] == REDACTED
    assert shown["kind"] == "invoice" and shown["expires_at"] == "2025-04-01T00:00:00"


def test_a_passphrase_event_records_which_change_and_nothing_else():
    mark = audit_mark()
    event = PassphraseEvent.create(action="changed")
    (rec,) = records_after(mark)
    assert (rec.table_name, rec.row_id, rec.action) == ("passphrase_events", event.id, "create")
    assert rec.changes == {"action": [None, "changed"]}
    audit_before = audit_count()
    with pytest.raises(IntegrityError):  # the schema knows the three actions only
        PassphraseEvent.create(action="shown")
    assert audit_count() == audit_before


# -- the audit table itself ------------------------------------------------------------------


def test_audit_records_are_append_only():
    client_row()
    before = list(db.execute_sql("SELECT * FROM audit_records").fetchall())
    assert before
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute_sql("UPDATE audit_records SET source = 'forged'")
    with pytest.raises(DatabaseError, match="append-only"):
        db.execute_sql("DELETE FROM audit_records")
    # The model refuses them before any SQL is sent (tests/test_audit_tamper.py has every form).
    with pytest.raises(AuditRewriteError, match="append-only"):
        AuditRecord.update(source="forged").execute()
    with pytest.raises(AuditRewriteError, match="append-only"):
        AuditRecord.delete().execute()
    assert list(db.execute_sql("SELECT * FROM audit_records").fetchall()) == before


def test_created_at_is_utc(monkeypatch):
    # A local zone far from UTC, so local time would be hours off.
    with monkeypatch.context() as patch:
        patch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14
        time.tzset()
        try:
            assert abs(datetime.now() - datetime.now(timezone.utc).replace(tzinfo=None)) > timedelta(hours=13)
            mark = audit_mark()
            client_row()
            rec = records_after(mark)[0]
            now_utc = datetime.now(timezone.utc).replace(tzinfo=None)
        finally:
            patch.undo()
            time.tzset()
    assert rec.created_at.tzinfo is None  # stored naive, meaning UTC
    assert abs(now_utc - rec.created_at) < timedelta(minutes=10)


def test_the_audit_filters_list_every_source_and_table_once_sorted():
    from core.platform.history import audit_sources, audit_tables

    before_sources, before_tables = audit_sources(), audit_tables()
    assert before_sources == sorted(set(before_sources)) and before_tables == sorted(set(before_tables))
    for source in ("zeta-bank", "fio", "ačko"):
        with audit_context(source):
            client_row()
            project_row()

    def distinct(column):
        return [
            row[0]
            for row in db.execute_sql(  # noqa: E731 - the plain query, as a reference
                f"SELECT DISTINCT {column} FROM audit_records ORDER BY {column}"
            )
        ]

    assert audit_sources() == distinct("source") and {"zeta-bank", "fio", "ačko"} <= set(audit_sources())
    assert audit_tables() == distinct("table_name") and {"clients", "projects"} <= set(audit_tables())


def test_changes_are_shown_with_money_as_amounts_in_the_rows_currency():
    from core.platform.history import display_changes, format_changes

    client = client_row(currency="EUR", hourly_rate=8000)
    invoice = invoice_row(client=client, currency="EUR", total=123456)
    mark = audit_mark()
    Invoice.update(total=100000, note="").where(Invoice.id == invoice.id).execute()
    Client.update(hourly_rate=None).where(Client.id == client.id).execute()
    update, rate = records_after(mark)

    # The currency is not among the changes: it comes from the invoice and the client as they are.
    assert dict((name, (old, new)) for name, old, new in display_changes(update))["total"] == (
        "1234.56 EUR",
        "1000.00 EUR",
    )
    assert display_changes(rate) == [("hourly_rate", "80.00 EUR", "∅")]
    assert format_changes(update) == "total: 1234.56 EUR → 1000.00 EUR"
    created = AuditRecord.get(
        (AuditRecord.table_name == "invoices") & (AuditRecord.row_id == invoice.id) & (AuditRecord.action == "create")
    )
    shown = dict((name, new) for name, _, new in display_changes(created))
    assert shown["total"] == "1234.56 EUR" and shown["currency"] == "EUR" and shown["number"] == invoice.number

    line = invoice_line_row(invoice=invoice, unit_price=5050, amount=5050)
    line_record = records_after(mark)[-1]
    shown = dict((n, new) for n, _, new in display_changes(line_record))
    assert shown["unit_price"] == "50.50 EUR" and shown["invoice"] == invoice.number
    InvoiceLine.delete().where(InvoiceLine.id == line.id).execute()
    Invoice.delete().where(Invoice.id == invoice.id).execute()
    # The rows are gone and the record holds no currency: the values stay as stored.
    shown = dict((n, new) for n, _, new in display_changes(line_record))
    assert shown["unit_price"] == "5050" and shown["invoice"] == f"#{invoice.id}"


def test_changes_show_referenced_rows_by_name_and_values_as_json_writes_them():
    from core.platform.history import display_changes, format_changes

    client = client_row(name="Acme s.r.o.", archived=False)
    project = project_row(client=client, name="Website")
    invoice = invoice_row(client=client, customer={"name": "Acme s.r.o.", "city": "Brno"})
    line = invoice_line_row(invoice=invoice, description="Development", project=project)
    mark = audit_mark()
    entry = WorkEntry.create(project=project, date=date(2025, 3, 3), minutes=90)
    entry.invoice_line = line
    entry.save()
    Client.update(archived=True).where(Client.id == client.id).execute()
    created, billed, archived = records_after(mark)

    shown = {name: new for name, _, new in display_changes(created)}
    assert shown["project"] == "Website (Acme s.r.o.)"
    assert display_changes(billed) == [("invoice_line", "∅", f"{invoice.number}: Development")]
    # Booleans and documents read as JSON, as the audit keeps them, not as Python's True / {'a': 1}.
    assert display_changes(archived) == [("archived", "false", "true")]
    invoice_created = AuditRecord.get(
        (AuditRecord.table_name == "invoices") & (AuditRecord.row_id == invoice.id) & (AuditRecord.action == "create")
    )
    shown = {name: new for name, _, new in display_changes(invoice_created)}
    assert shown["client"] == "Acme s.r.o."
    assert shown["customer"] == '{"city": "Brno", "name": "Acme s.r.o."}'  # stored with sorted keys
    line_created = AuditRecord.get(
        (AuditRecord.table_name == "invoice_lines") & (AuditRecord.row_id == line.id) & (AuditRecord.action == "create")
    )
    assert "project: ∅ → Website (Acme s.r.o.)" in format_changes(line_created)

    # A referenced row deleted since: only its id is left to show.
    WorkEntry.delete().where(WorkEntry.id == entry.id).execute()
    InvoiceLine.delete().where(InvoiceLine.id == line.id).execute()
    assert display_changes(billed) == [("invoice_line", "∅", f"#{line.id}")]
