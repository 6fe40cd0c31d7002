"""Waiting for the database's write lock: bounded, and visible while it lasts.

SQLite lets one connection write at a time. A short write (a form, a CLI command) waits through the
busy timeout (5 s) and is refused with a sentence after that. A sync's commit may meet another sync's
commit, which can take longer than 5 s on a large import: it waits here instead, telling the caller
every busy timeout how long it has waited (a sync writes that into its log), until ``timeout``.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator

import peewee

from core.errors import FakturkaError
from core.store.db import db
from core.values.messages import Message

# How long a sync waits for another writer before giving up with a sentence.
WRITE_WAIT_SECONDS = 300


class WriteLockTimeout(FakturkaError):
    """The database stayed busy longer than a run may wait."""


def is_lock_error(exc: BaseException) -> bool:
    """SQLite's "database is locked" / "database table is locked" (SQLITE_BUSY / SQLITE_LOCKED)."""
    return isinstance(exc, (sqlite3.OperationalError, peewee.OperationalError)) and "locked" in str(exc)


def _begin(on_wait: Callable[[float], None] | None, timeout: float):
    """An entered ``db.atomic()``: BEGIN IMMEDIATE retried while another connection writes."""
    started = time.monotonic()
    while True:
        atomic = db.atomic()
        try:
            atomic.__enter__()
            return atomic
        except (sqlite3.OperationalError, peewee.OperationalError) as exc:
            if not is_lock_error(exc):
                raise
            waited = time.monotonic() - started
            if waited >= timeout:
                raise WriteLockTimeout(
                    Message(
                        "the database stayed busy for {waited:.0f} s (another program kept writing to it); "
                        "nothing was saved. Try again when it has finished.",
                        waited=waited,
                    )
                ) from None
            if on_wait is not None:
                on_wait(waited)  # may raise (a cancel): nothing has begun


@contextmanager
def write_transaction(
    on_wait: Callable[[float], None] | None = None, timeout: float = WRITE_WAIT_SECONDS
) -> Iterator[None]:
    """One write transaction, begun as soon as the write lock is free (at most ``timeout`` seconds).

    ``on_wait(seconds waited)`` is called after each busy timeout spent waiting. Inside an open
    transaction this is a savepoint, with no waiting. The body runs once: only BEGIN is retried.
    """
    atomic = _begin(on_wait, timeout)
    try:
        yield
    except BaseException:
        if not atomic.__exit__(*sys.exc_info()):
            raise
    else:
        atomic.__exit__(None, None, None)
