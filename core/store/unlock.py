"""Unlocking an encrypted database before it is opened, for every face alike.

:func:`needs_passphrase` tells whether the database at a path can be opened as it is (a plain file, or
one this process has unlocked already); :func:`unlock` tries a passphrase and, when it opens the
database, makes its keys this process's ones. Either also settles a re-key a kill interrupted
(:mod:`core.store.rekey`): the state whose key opens the database is the current one.

Where a passphrase comes from without a person at a terminal (cron, a service): a file named by
``FAKTURKA_PASSPHRASE_FILE`` (readable by its owner only) or a file descriptor (``--passphrase-fd``).
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core.store import paths, rekey, vault
from core.store.db import SQLITE_HEADER, cipher_connect, db, hold_in_use, in_use_path
from core.store.vault import VaultError
from core.values.messages import Message

PASSPHRASE_FILE_ENV = "FAKTURKA_PASSPHRASE_FILE"
MAX_PASSPHRASE_FILE_BYTES = 4096


def is_encrypted_file(path: Path) -> bool:
    """A database file that is there, not empty, and not plain SQLite."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError:
        return False
    return bool(header) and header != SQLITE_HEADER


@contextmanager
def _settling(db_path: Path) -> Iterator[None]:
    """Hold the database in use (waiting while a re-key runs in another process, and keeping one from
    starting), and settle a re-key's leftovers one process at a time: otherwise a process that looked
    before another's re-key committed could throw away the new vault after it did."""
    fd = None
    try:
        hold_in_use(db_path)  # blocks only while a re-key holds the database alone
        fd = os.open(in_use_path(db_path).with_name("settle.lock"), os.O_RDWR | os.O_CREAT, paths.FILE_MODE)
    except OSError:  # a read-only folder: no re-key can run there
        pass
    try:
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        if fd is not None:
            os.close(fd)


def _is_plain_file(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def _key_file_wrapped() -> bool:
    """Whether the credentials key file still needs a vault to be read (a wrapped key, none prepared)."""
    path = paths.key_path()
    if rekey.prepared(path).exists():
        return False
    try:
        with open(path, "rb") as fh:
            return json.loads(fh.read(4096)).get("version") == 2
    except (OSError, ValueError, AttributeError):
        return False


def _settle_plain(db_path: Path) -> None:
    """A plain database with a re-key's leftovers: a removal that committed, or a setting that did not."""
    if not rekey.has_leftovers(db_path) and not vault.vault_path(db_path).exists():
        return
    with _settling(db_path):
        if is_encrypted_file(db_path):  # a setting committed while this process waited
            return
        if vault.vault_path(db_path).exists() and _is_plain_file(db_path):
            # The database was decrypted, the vault not yet removed (a kill in the middle of finishing a
            # removal can leave the vault alone, with nothing else to tell it). Kept while the credentials
            # key is still wrapped by it (a plain backup restored over an encrypted database).
            if not _key_file_wrapped():
                rekey.finish(db_path, encrypted=False)
        elif rekey.has_leftovers(db_path):
            rekey.abort(db_path)


def needs_passphrase(db_path: Path) -> bool:
    """Whether the database at ``db_path`` needs :func:`unlock` before it can be opened."""
    if db.key is not None and vault.session is not None:
        return False
    if not is_encrypted_file(db_path):
        _settle_plain(db_path)
        if not is_encrypted_file(db_path):
            return False
    return vault.has_passphrase(db_path)


def _opens(db_path: Path, key: bytes) -> bool:
    import sqlcipher3

    try:
        conn = cipher_connect(str(db_path), key, timeout=5)
    except sqlcipher3.DatabaseError:
        return False
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlcipher3.DatabaseError:
        return False
    finally:
        conn.close()


def unlock(db_path: Path, passphrase: str, *, clock=time.time) -> None:
    """Unlock the database at ``db_path`` with ``passphrase`` for this process, or refuse with a sentence
    (:class:`core.store.vault.WrongPassphrase`, :class:`core.store.vault.TooSoon`); nothing is changed
    by a refusal but the count of wrong tries."""
    with _settling(db_path):
        candidates = [p for p in (vault.pending_vault_path(db_path), vault.vault_path(db_path)) if p.exists()]
        if not candidates:
            raise VaultError(
                Message(
                    "{path} is encrypted, but its passphrase file {vault} is missing; restore it from a backup.",
                    path=db_path,
                    vault=vault.vault_path(db_path),
                )
            )
        opens = lambda key: _opens(db_path, key)  # noqa: E731
        chosen, unlocked = vault.attempt(db_path, passphrase, candidates, opens, clock=clock)
        if rekey.has_leftovers(db_path):
            if chosen == vault.pending_vault_path(db_path):
                rekey.finish(db_path, encrypted=True)
            else:
                rekey.abort(db_path)
    rekey.activate(unlocked)


def verify(db_path: Path, passphrase: str, *, clock=time.time) -> None:
    """Check ``passphrase`` against the unlocked database (the lock screen, a passphrase change); the
    same waits after a wrong one as :func:`unlock`."""
    current = db.key
    if current is None:
        raise VaultError(Message("This database has no passphrase."))
    vault.attempt(db_path, passphrase, [vault.vault_path(db_path)], lambda key: key == current, clock=clock)


# -- a passphrase without a person at a terminal ---------------------------------------------------


def _first_line(data: bytes, where: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise VaultError(Message("The passphrase in {where} is not UTF-8 text.", where=where)) from None
    line = text.split("\n", 1)[0].removesuffix("\r")
    if not line:
        raise VaultError(Message("{where} holds no passphrase (its first line is empty).", where=where))
    return line


def passphrase_from_file(path: Path) -> str:
    """The first line of ``path``, which only its owner may read (mode 0600 or stricter)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise VaultError(
            Message("Cannot read the passphrase file {path}: {error}.", path=path, error=exc.strerror or str(exc))
        ) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise VaultError(Message("The passphrase file {path} is not a regular file.", path=path))
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise VaultError(
                Message(
                    "The passphrase file {path} can be read by other users (mode {mode:o}); run 'chmod 600 {path}'.",
                    path=path,
                    mode=stat.S_IMODE(info.st_mode),
                )
            )
        data = os.read(fd, MAX_PASSPHRASE_FILE_BYTES)
    finally:
        os.close(fd)
    return _first_line(data, str(path))


def passphrase_from_fd(fd: int) -> str:
    """The first line read from the open file descriptor ``fd`` (``--passphrase-fd``)."""
    chunks = []
    try:
        # A byte at a time, up to the end of the first line: what follows is left for the command to read
        # (``--passphrase-fd 0 passphrase change`` reads the new passphrase from the same standard input).
        while len(chunks) < MAX_PASSPHRASE_FILE_BYTES:
            chunk = os.read(fd, 1)
            if not chunk:
                break
            chunks.append(chunk)
            if chunk == b"\n":
                break
    except OSError as exc:
        raise VaultError(
            Message("Cannot read a passphrase from file descriptor {fd}: {error}.", fd=fd, error=exc.strerror)
        ) from None
    return _first_line(b"".join(chunks), f"file descriptor {fd}")


def passphrase_without_terminal(fd: int | None = None) -> str | None:
    """The passphrase given by ``fd`` or by the file ``FAKTURKA_PASSPHRASE_FILE`` names; None if neither."""
    if fd is not None:
        return passphrase_from_fd(fd)
    named = os.environ.get(PASSPHRASE_FILE_ENV)
    return passphrase_from_file(Path(named).expanduser()) if named else None
