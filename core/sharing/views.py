"""Views of share links, counted in a small SQLite file beside the database (``<database>.views``).

The portal opens the database itself read-only, so each view is written here instead: one row per
view, the link's id and the time (naive UTC), nothing else: no address, no browser, no token. The file
is created with mode 0600 and opened through :func:`core.store.db.side_connection`, so it is encrypted
with the database's key when the database is. WAL and a busy timeout let several portal workers write
at once; a write is one autocommitted INSERT. The portal counts through one :class:`ViewRecorder`,
which keeps its connection open (opening and preparing the file for every view was about a quarter of
an invoice page's time).
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from pathlib import Path

from core.store import paths
from core.values.timeutil import utcnow

__all__ = ["ViewRecorder", "record_view", "view_counts", "views_path"]

_SCHEMA = [
    'CREATE TABLE IF NOT EXISTS "views" ("link_id" INTEGER NOT NULL, "viewed_at" TEXT NOT NULL)',
    # Covers view_counts' GROUP BY link_id with max(viewed_at), and a count for one link.
    'CREATE INDEX IF NOT EXISTS "views_link_id" ON "views" ("link_id", "viewed_at")',
]


def views_path(db_path: Path) -> Path:
    """The views file of the database at ``db_path``: the same name with ``.views`` added."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".views")


def _connect(path: Path, **params):
    from core.store.db import side_connection  # local: db is opened (and keyed) by the caller's process

    conn = side_connection(path, **params)
    try:
        conn.execute("PRAGMA busy_timeout = 5000")
    except BaseException:
        conn.close()
        raise
    return conn


def _open_for_writing(path: Path, **params):
    """A connection to the views file at ``path``, created (0600) and prepared when missing."""
    paths.create_private_file(path)  # 0600 before SQLite writes anything into it
    conn = _connect(path, **params)
    try:
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # a view lost to a power cut is no harm
        for statement in _SCHEMA:
            conn.execute(statement)
    except BaseException:
        conn.close()
        raise
    return conn


def _stored_time(at: datetime | None) -> str:
    if at is None:
        at = utcnow()
    elif at.tzinfo is not None:
        at = at.astimezone(timezone.utc).replace(tzinfo=None)
    return str(at)  # as Peewee stores a DateTimeField: "2026-05-01 10:00:00.123456"


def record_view(db_path: Path, link_id: int, at: datetime | None = None) -> None:
    """Count one view of link ``link_id`` (at ``at``, default now), creating the file when missing."""
    recorder = ViewRecorder(db_path)
    try:
        recorder.record(link_id, at)
    finally:
        recorder.close()


class ViewRecorder:
    """Counts views of the database at ``db_path`` through one connection kept open (the portal's).

    Thread-safe. The connection is opened on the first view, and again after a failed write or when the
    file was removed or replaced meanwhile (its inode changed), so no view goes to a file nobody reads.
    """

    def __init__(self, db_path: Path):
        self.path = views_path(db_path)
        self._lock = threading.Lock()
        self._conn = None
        self._inode: tuple[int, int] | None = None

    def record(self, link_id: int, at: datetime | None = None) -> None:
        """As :func:`record_view`."""
        if isinstance(link_id, bool) or not isinstance(link_id, int):
            raise TypeError("link_id must be an int")
        with self._lock:
            if self._conn is not None and self._file_id() != self._inode:
                self._close()
            if self._conn is None:
                self._conn = _open_for_writing(self.path, check_same_thread=False)
                self._inode = self._file_id()
            try:
                self._conn.execute(
                    'INSERT INTO "views" ("link_id", "viewed_at") VALUES (?, ?)', (link_id, _stored_time(at))
                )
            except BaseException:
                self._close()  # the next view opens afresh
                raise

    def close(self) -> None:
        with self._lock:
            self._close()

    def _file_id(self) -> tuple[int, int] | None:
        try:
            found = os.stat(self.path)
        except OSError:
            return None
        return found.st_dev, found.st_ino

    def _close(self) -> None:
        conn, self._conn, self._inode = self._conn, None, None
        if conn is not None:
            conn.close()


def _read_time(text) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text)) if text is not None else None
    except ValueError:  # written by something else: the count still stands
        return None


def view_counts(db_path: Path) -> dict[int, tuple[int, datetime | None]]:
    """``{link id: (views, last view)}`` for every link viewed at least once; {} without a views file."""
    path = views_path(db_path)
    if not path.is_file() or path.stat().st_size == 0:
        return {}
    conn = _connect(path)
    try:
        # A file made by a writer that has not created its table yet holds no views.
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'views'").fetchone() is None:
            return {}
        rows = conn.execute('SELECT "link_id", count(*), max("viewed_at") FROM "views" GROUP BY "link_id"').fetchall()
    finally:
        conn.close()
    return {int(link_id): (int(count), _read_time(last)) for link_id, count, last in rows}
