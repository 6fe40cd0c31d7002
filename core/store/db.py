"""Opening the database: file checks, pragmas, migrations.

One ``SqliteDatabase`` object for the whole process (``db``), initialised by
:func:`open_database`. Write transactions begin IMMEDIATE so that two
processes serialise on the write lock instead of failing with
SQLITE_BUSY_SNAPSHOT, which ignores the busy timeout.

With a passphrase set (:mod:`core.store.vault`), every connection is made by
SQLCipher's driver with the database key unlocked from the passphrase; without
one, by Python's own sqlite3, exactly as before. SQLCipher is given the raw
256-bit key (``x'..'``), so opening a connection costs no key derivation: the
passphrase is stretched once per process, by scrypt, when it is unlocked.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import peewee
from peewee import SqliteDatabase

from core.errors import FakturkaError
from core.store import paths
from core.values.messages import Message, message_of


class FakturkaDatabase(SqliteDatabase):
    """Peewee's SQLite database, connecting through SQLCipher while a database key is set.

    The same idea as ``playhouse.sqlcipher_ext.SqlCipherDatabase``, but the driver is chosen per
    connection and loaded only when needed (a plain database never imports SQLCipher), and the key is the
    raw key the vault unlocked, never a passphrase for SQLCipher to stretch on every connection.
    """

    key: bytes | None = None
    # The database file itself: ``database`` is a ``file:...?mode=ro`` URI while the portal has it open.
    path: Path | None = None

    def _connect(self):
        if self.key is None:
            return super()._connect()
        conn = cipher_connect(self.database, self.key, timeout=self._timeout, **self.connect_params)
        try:
            self._add_conn_hooks(conn)
        except Exception:
            conn.close()
            raise
        return conn


def cipher_connect(database: str, key: bytes, **params):
    """A SQLCipher connection to ``database`` keyed with ``key`` (its errors are named as sqlite3's)."""
    import sqlcipher3  # loaded only for an encrypted database

    conn = sqlcipher3.connect(database, isolation_level=None, **params)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our sentence, not SQLCipher's stderr
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA cipher_memory_security = OFF")  # the key sits in this process anyway
        conn.execute("PRAGMA temp_store = MEMORY")  # SQLCipher leaves temporary files (sorts) unencrypted
    except Exception:
        conn.close()
        raise
    return conn


db = FakturkaDatabase(None, lock_type="IMMEDIATE")


def side_connection(path: Path | str, **params):
    """A DB-API connection to a small file kept beside the database (the portal's view counts), encrypted
    with the database's own key while one is set, so that it is as unreadable as the database."""
    if db.key is None:
        return sqlite3.connect(str(path), timeout=5, isolation_level=None, **params)
    return cipher_connect(str(path), db.key, timeout=5, **params)


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
    if header and header != SQLITE_HEADER and db.key is None:
        from core.store.vault import has_passphrase, vault_path

        if has_passphrase(path):
            raise DatabaseOpenError(Message("{path} is encrypted; it opens only with its passphrase.", path=path))
        if _sized_like_sqlcipher(path):
            raise DatabaseOpenError(
                Message(
                    "{path} looks encrypted, but its passphrase file {vault} is missing; restore that file from a "
                    "backup. The database was left untouched.",
                    path=path,
                    vault=vault_path(path),
                )
            )
        raise DatabaseOpenError(
            Message("{path} is not a Fakturka database (it is not an SQLite file); it was left untouched.", path=path)
        )
    if not os.access(path, os.W_OK):
        raise DatabaseOpenError(Message("Cannot write to the database file {path}: permission denied.", path=path))


def _sized_like_sqlcipher(path: Path) -> bool:
    """An encrypted database is whole 4 KiB pages of what looks like noise; a stray text or PDF file
    almost never is, so it keeps the plainer sentence."""
    size = path.stat().st_size
    return size >= 4096 and size % 4096 == 0


def open_database(path: Path | str | None = None, *, migrate: bool = True, read_only: bool = False) -> Path:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    ``read_only`` (the portal): SQLite itself refuses every write on this connection; nothing is created
    and nothing is migrated."""
    from core.store import migrations  # local: migrations imports models, which import db

    path = Path(path).expanduser() if path else None
    try:
        path = path or paths.default_db_path()
        if read_only:
            if not path.is_file():
                raise DatabaseOpenError(Message("There is no database at {path}.", path=path))
        else:
            if not path.parent.exists():
                paths.ensure_private_dir(path.parent)
            check_database_file(path)  # before anything is created beside a file that is not ours
            hold_in_use(path)  # waits out a re-key another process runs, which may change the file: look again
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
    hold_in_use(path)
    db.path = path
    if read_only:  # a URI, so that SQLite opens the file with mode=ro; WAL is the file's own setting already
        pragmas = {"foreign_keys": 1, "busy_timeout": 5000, "query_only": 1}
        db.init(f"{path.resolve().as_uri()}?mode=ro", pragmas=pragmas, timeout=5, uri=True)
    else:
        db.init(str(path), pragmas=PRAGMAS, timeout=5)
    try:
        db.connect()
        db.execute_sql("PRAGMA schema_version").fetchone()
        if migrate and not read_only:
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


# -- who has the database open: a re-key needs it to itself -------------------------------------------

_in_use: tuple[int, Path] | None = None  # a shared flock held for as long as this process uses the database


def in_use_path(path: Path) -> Path:
    """``<database>-locks/in-use.lock`` (the folder :mod:`core.store.locks` keeps its locks in)."""
    database = path.resolve()
    return paths.ensure_private_dir(database.parent / f"{database.name}-locks") / "in-use.lock"


def hold_in_use(path: Path) -> None:
    """Say, for as long as this process lives or until it opens another database, that it uses ``path``."""
    global _in_use
    if _in_use is not None and _in_use[1] == path.resolve():
        return
    release_in_use()
    try:
        fd = os.open(in_use_path(path), os.O_RDWR | os.O_CREAT, paths.FILE_MODE)
    except OSError:  # a read-only folder: nothing can be re-keyed there either
        return
    fcntl.flock(fd, fcntl.LOCK_SH)  # shared: any number of users; blocks only while a re-key runs
    _in_use = (fd, path.resolve())


def release_in_use() -> None:
    global _in_use
    if _in_use is not None:
        os.close(_in_use[0])
        _in_use = None


class DatabaseInUse(FakturkaError):
    """Another process has the database open, so it cannot be re-encrypted now."""


@contextmanager
def sole_use(path: Path) -> Iterator[None]:
    """Hold ``path`` alone (no other Fakturka process has it open) for a re-key, or refuse with a sentence."""
    hold_in_use(path)
    if _in_use is None:
        raise DatabaseInUse(Message("Cannot lock {path} for re-encryption; nothing was changed.", path=path))
    fd = _in_use[0]
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # an upgrade of this process's own shared lock
    except BlockingIOError:
        raise DatabaseInUse(
            Message(
                "Another Fakturka (the app, a command or the portal) has {path} open; close it and try again. "
                "Nothing was changed.",
                path=path,
            )
        ) from None
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_SH)


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
