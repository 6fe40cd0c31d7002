"""A plugin's ``sync()`` may not write to the database: enforced by SQLite itself.

While a plugin's code runs, the connection it runs on has an SQLite
authorizer that denies every write (INSERT, UPDATE, DELETE, schema changes,
ATTACH, a PRAGMA that sets a value), so raw SQL through ``db.execute_sql``,
a query built from a model, or the sqlite3 connection itself fails with "not
authorized" when SQLite compiles it. The authorizer also notes the attempt,
so a plugin that catches the error still ends its run as failed. The engine
removes it before it writes the run's collected results (and runs the
``ctx.apply`` functions), so its own writes work as before.

Why an authorizer and not ``PRAGMA query_only``: query_only also refuses
``BEGIN IMMEDIATE``, which the audited models open before their own, clearer
refusal ("writing Client directly is not allowed here: ..."); and a plugin
could switch query_only off again, while the authorizer denies that PRAGMA.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from typing import Iterator

from core.plugins.base import SyncError
from core.store.db import db
from core.values.messages import Message

_WRITES = frozenset(
    getattr(sqlite3, name)
    for name in dir(sqlite3)
    if name.startswith(("SQLITE_CREATE_", "SQLITE_DROP_"))
    or name
    in (
        "SQLITE_INSERT",
        "SQLITE_UPDATE",
        "SQLITE_DELETE",
        "SQLITE_ALTER_TABLE",
        "SQLITE_ATTACH",
        "SQLITE_DETACH",
        "SQLITE_REINDEX",
        "SQLITE_ANALYZE",
    )
)


class DirectWriteRefused(SyncError):
    """A plugin tried to write to the database itself instead of through ``ctx``."""


def refusal(plugin_name: str) -> DirectWriteRefused:
    return DirectWriteRefused(
        Message(
            "plugin {name} tried to write to the database directly; plugins write only through ctx "
            "(ctx.upsert_transaction, ctx.add_work_entry, or ctx.apply for anything else). Nothing was saved.",
            name=repr(plugin_name),
        )
    )


def is_refused_write(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or an exception it was raised from) is SQLite's "not authorized"."""
    while exc is not None:
        if "not authorized" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class ReadOnlyGuard:
    """Makes the current thread's connection refuse writes while the plugin's code runs."""

    def __init__(self, plugin_name: str):
        self.plugin_name = plugin_name
        self.attempted = False

    def _authorize(self, action: int, arg1, arg2, *_rest) -> int:
        if action in _WRITES or (action == sqlite3.SQLITE_PRAGMA and arg2 is not None):
            self.attempted = True
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    @contextmanager
    def on_this_thread(self) -> Iterator[None]:
        connection = db.connection()
        connection.set_authorizer(self._authorize)
        try:
            yield
        finally:
            connection.set_authorizer(None)
            if connection.in_transaction:  # a transaction the plugin left open: it wrote nothing
                connection.rollback()

    def check(self) -> None:
        """Raise the refusal if the plugin tried to write (even if it caught SQLite's error)."""
        if self.attempted:
            raise refusal(self.plugin_name)
