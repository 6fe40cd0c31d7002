"""A plugin's sync() cannot write to the database itself: SQLite refuses it (query_only), the run fails
with a sentence naming the plugin, and the database stays exactly as it was."""

from __future__ import annotations

import asyncio

import pytest

from core.platform import plugin_config
from core.platform.sync import run_sync
from core.plugins import use_plugins
from core.plugins.base import Plugin
from core.store.db import db
from core.store.models import AuditRecord, Client, SyncHistory


@pytest.fixture
def plugin(database):
    body = {"fn": lambda ctx: None}

    class Sneaky(Plugin):
        name = "sneaky"
        version = "1.0.0"

        def sync(self, ctx):
            return body["fn"](ctx)

    class SneakyAsync(Plugin):
        name = "sneaky-async"
        version = "1.0.0"

        async def sync(self, ctx):
            await asyncio.sleep(0)
            return body["fn"](ctx)

    use_plugins([Sneaky, SneakyAsync])
    for name in ("sneaky", "sneaky-async"):
        plugin_config.configure(name, {}, {})
        plugin_config.set_enabled(name, True)
    Client.create(name="Acme s.r.o.", currency="CZK")

    def set_body(fn):
        body["fn"] = fn

    yield set_body
    use_plugins(None)


def snapshot():
    return (
        [(c.id, c.name, c.email) for c in Client.select().order_by(Client.id)],
        [(a.id, a.table_name, a.action) for a in AuditRecord.select().order_by(AuditRecord.id)],
    )


WRITES = {
    "insert": lambda ctx: db.execute_sql("INSERT INTO clients (name, currency) VALUES ('Evil', 'CZK')"),
    "update": lambda ctx: db.execute_sql("UPDATE clients SET name = 'Evil'"),
    "delete": lambda ctx: db.execute_sql("DELETE FROM clients"),
    "raw connection": lambda ctx: db.connection().execute("DELETE FROM clients"),
    "model query": lambda ctx: Client.update(name="Evil").execute(),
    "switching the guard off": lambda ctx: (
        db.execute_sql("PRAGMA query_only = OFF"),
        db.execute_sql("UPDATE clients SET name = 'Evil'"),
    ),
    "a table of its own": lambda ctx: db.execute_sql("CREATE TABLE loot (x)"),
}


def _swallowing(write):
    def body(ctx):
        try:
            write(ctx)
        except Exception:  # noqa: BLE001 - a plugin hiding the refusal still fails its run
            ctx.log("ignored")

    return body


@pytest.mark.parametrize("swallow", [False, True], ids=["raised", "swallowed"])
@pytest.mark.parametrize("what", list(WRITES))
@pytest.mark.parametrize("name", ["sneaky", "sneaky-async"])
def test_raw_sql_writes_are_refused_and_nothing_changes(plugin, what, swallow, name):
    before = snapshot()
    plugin(_swallowing(WRITES[what]) if swallow else WRITES[what])
    outcome = run_sync(name)
    if what == "model query" and swallow:  # refused by the audited models (AuditBypassError), which it caught
        assert outcome.status == "completed" and snapshot() == before
        return
    assert outcome.status == "failed"
    assert name in outcome.error and "directly" in outcome.error
    if what != "model query":  # the audited models refuse that one themselves, before SQLite is asked
        assert f"plugin {name!r} tried to write to the database directly; plugins write only through ctx" in (
            outcome.error
        )
    assert SyncHistory.get_by_id(outcome.run_id).status == "failed"
    assert snapshot() == before

    # A normal run afterwards still works, ctx.apply included (its writes are allowed and audited).
    def good(ctx):
        ctx.apply(lambda: Client.create(name="Beta", currency="EUR"))

    plugin(good)
    again = run_sync(name)
    assert again.status == "completed", again.error
    assert [c.name for c in Client.select().order_by(Client.id)] == ["Acme s.r.o.", "Beta"]
    assert [
        (a.table_name, a.action, a.source) for a in AuditRecord.select().where(AuditRecord.sync_run == again.run_id)
    ] == [("clients", "create", name)]
    db.execute_sql("UPDATE clients SET email = 'a@b.cz'")  # the connection writes again after the run


def test_a_model_save_during_sync_is_refused_naming_the_plugin(plugin):
    before = snapshot()

    def save(ctx):
        client = Client.get()
        client.name = "Evil"
        client.save()

    plugin(save)
    outcome = run_sync("sneaky")
    assert outcome.status == "failed"
    assert "sneaky" in outcome.error and "directly" in outcome.error
    assert snapshot() == before
    plugin(lambda ctx: ctx.log("fine"))
    assert run_sync("sneaky").status == "completed"


def test_a_statement_prepared_before_the_run_is_refused_too(plugin):
    """SQLite compiles a cached statement again once the guard is set: no way round it through the cache."""
    sql = "UPDATE clients SET email = ? WHERE id = ?"
    db.execute_sql(sql, ("before@acme.cz", 1))
    plugin(lambda ctx: db.execute_sql(sql, ("evil@acme.cz", 1)))
    assert run_sync("sneaky").status == "failed"
    assert Client.get_by_id(1).email == "before@acme.cz"
