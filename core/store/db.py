"""Opening the database: file checks, pragmas, migrations.

One ``SqliteDatabase`` object for the whole process (``db``), initialised by
:func:`open_database`. Write transactions begin IMMEDIATE so that two
processes serialise on the write lock instead of failing with
SQLITE_BUSY_SNAPSHOT, which ignores the busy timeout.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import peewee
from peewee import SqliteDatabase

from core.errors import FakturkaError
from core.store import paths
from core.values.messages import Message, message_of

db = SqliteDatabase(None, lock_type="IMMEDIATE")


@db.func("casefold", deterministic=True)
def _casefold(value):
    """Unicode case folding for name look-ups: SQLite's lower() only knows A-Z ("Čedok")."""
    return value.casefold() if isinstance(value, str) else value


PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
    "synchronous": "full",
}

SQLITE_HEADER = b"SQLite format 3\x00"


class DatabaseOpenError(FakturkaError):
    """The database file cannot be used; the message is one sentence for a person."""


def check_database_file(path: Path) -> None:
    """Refuse a file that is not ours to open, before SQLite touches it.

    A new or empty file is fine (it becomes a new database). Anything else
    must start with the SQLite header; we never overwrite such a file.
    """
    if not path.exists():
        return
    if path.is_dir():
        raise DatabaseOpenError(Message("{path} is a directory, not a database file.", path=path))
    if not path.is_file():  # a pipe would block the header read; a device would be misread
        raise DatabaseOpenError(Message("{path} is a pipe, device or socket, not a database file.", path=path))
    try:
        with open(path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except PermissionError:
        raise DatabaseOpenError(
            Message("Cannot read the database file {path}: permission denied.", path=path)
        ) from None
    except OSError as exc:
        raise DatabaseOpenError(
            Message("Cannot read the database file {path}: {error}.", path=path, error=exc.strerror)
        ) from None
    if header and header != SQLITE_HEADER:
        raise DatabaseOpenError(
            Message("{path} is not a Fakturka database (it is not an SQLite file); it was left untouched.", path=path)
        )
    if not os.access(path, os.W_OK):
        raise DatabaseOpenError(Message("Cannot write to the database file {path}: permission denied.", path=path))


def open_database(path: Path | str | None = None, *, migrate: bool = True) -> Path:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
    from core.store import migrations  # local: migrations imports models, which import db

    path = Path(path).expanduser() if path else None
    try:
        path = path or paths.default_db_path()
        if not path.parent.exists():
            paths.ensure_private_dir(path.parent)
        check_database_file(path)
        paths.create_private_file(path)
    except OSError as exc:  # e.g. a parent that is a file, a directory we may not write
        if exc.filename and path and Path(exc.filename) != path:  # the folder is the problem, not the file
            raise DatabaseOpenError(
                Message("Cannot use the data folder {folder}: {error}.", folder=exc.filename, error=exc.strerror)
            ) from None
        raise DatabaseOpenError(
            Message("Cannot create the database file {path}: {error}.", path=path or exc.filename, error=exc.strerror)
        ) from None
    if not db.is_closed():
        db.close()
    db.init(str(path), pragmas=PRAGMAS, timeout=5)
    try:
        db.connect()
        db.execute_sql("PRAGMA schema_version").fetchone()
        if migrate:
            migrations.migrate(db)
    except (sqlite3.DatabaseError, peewee.DatabaseError) as exc:  # peewee wraps sqlite3's errors
        db.close()
        raise DatabaseOpenError(
            Message(
                "{path} cannot be opened as a Fakturka database ({error}); it was left untouched.",
                path=path,
                error=str(exc),
            )
        ) from None
    except migrations.SchemaTooNewError as exc:
        db.close()
        raise DatabaseOpenError(message_of(exc)) from None
    return path


def close_database() -> None:
    if not db.is_closed():
        db.close()


def describe_database_error(exc: BaseException) -> str:
    """SQLite's complaint (a peewee or sqlite3 ``DatabaseError``) as one sentence that says what to do.

    Both faces use it: the command line prints it, the terminal app shows it as a notification.
    """
    text = str(exc)
    if "malformed" in text or "not a database" in text:
        return Message(
            "the database file is damaged ({error}). Nothing was changed. Restore it from a backup; "
            "'fakturka info' shows where it is.",
            error=text,
        )
    if "locked" in text or "busy" in text:
        return Message("the database is busy (another Fakturka is writing to it); try again in a moment.")
    if "readonly" in text or "read-only" in text:
        return Message(
            "the database cannot be written ({error}). Nothing was changed. Make the database file and its folder "
            "writable, then try again; 'fakturka info' shows where it is.",
            error=text,
        )
    return Message("the database refused the change: {error}", error=text)
