"""Whether the database changed since a screen last read it: the one question the terminal app asks of
the database module directly (screens may not import it, pyproject's import contracts)."""

from __future__ import annotations

from core.store.db import db


def change_token() -> tuple[int, int]:
    """A value that changes whenever the database may have changed, read in microseconds.

    ``PRAGMA data_version`` changes when another connection (another process, or a worker thread's
    connection) commits; ``total_changes`` counts the rows this thread's connection wrote. Both are
    per connection, so compare tokens read on the same thread.
    """
    conn = db.connection()
    return conn.execute("PRAGMA data_version").fetchone()[0], conn.total_changes
