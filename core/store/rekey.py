"""Setting, changing and removing the passphrase: the database re-encrypted, whole or not at all.

A re-key never writes into the database it reads. It writes beside it, each fsynced:

1. ``<database>.rekey``: the database exported under the new key (or in plain text, for a removal) by
   SQLCipher's ``sqlcipher_export``; ``<database>.views.rekey`` likewise for the portal's view counts;
2. ``credentials.key.rekey``: the credentials key wrapped under the new master key (or plain);
3. ``<database>.vault.new``: the new vault (none for a removal);

then renames ``<database>.rekey`` over the database. That rename is the commit. What follows (renaming
the other prepared files into place, the new vault over the old one) only finishes it, and whoever opens
the database next finishes it again if a kill interrupted it (:func:`settle`): it tells which state is
current by which key opens the database, so a kill at any moment leaves the old state, readable with the
old passphrase, or the new one, readable with the new.

The process must have the database to itself (:func:`core.store.db.sole_use`): another one would go on
writing to the file the rename replaced.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from core.errors import FakturkaError
from core.store import paths, vault
from core.store.db import PRAGMAS, cipher_connect, db, open_database, sole_use
from core.store.vault import Unlocked
from core.values.messages import Message

REKEY_SUFFIX = ".rekey"

# Tests stop a re-key between its steps here (a kill -9 at each of them); nothing else sets it.
after_step: Callable[[str], None] = lambda step: None  # noqa: E731


class RekeyError(FakturkaError):
    """A re-key could not be done; nothing was changed."""


def prepared(path: Path) -> Path:
    return path.with_name(path.name + REKEY_SUFFIX)


def companions(db_path: Path) -> list[Path]:
    """Files re-encrypted with the database: the portal's view counts, when there are any."""
    from core.sharing.views import views_path  # the sharing package names its own file

    return [views_path(db_path)]


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        leftover.unlink(missing_ok=True)


def _connect(path: Path, key: bytes | None):
    if key is None:
        import sqlcipher3  # SQLCipher reads and writes plain databases too

        return sqlcipher3.connect(str(path), isolation_level=None, timeout=5)
    return cipher_connect(str(path), key, timeout=5)


def export(source: Path, source_key: bytes | None, target: Path, target_key: bytes | None) -> None:
    """Write ``source`` (read with ``source_key``) whole into a new ``target`` encrypted with ``target_key``
    (None: plain). The target is fsynced, private, in WAL mode, and keeps the schema version."""
    _remove(target)
    paths.create_private_file(target)
    conn = _connect(source, source_key)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        key_text = f"x'{target_key.hex()}'" if target_key else ""
        conn.execute("ATTACH DATABASE ? AS rekeyed KEY ?", (str(target), key_text))
        conn.execute("SELECT sqlcipher_export('rekeyed')")
        conn.execute(f"PRAGMA rekeyed.user_version = {version}")  # not copied by sqlcipher_export
        conn.execute("DETACH DATABASE rekeyed")
    finally:
        conn.close()
    check = _connect(target, target_key)
    try:
        check.execute("PRAGMA journal_mode = wal")
        tables = check.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    finally:
        check.close()
    _remove(Path(f"{target}-wal"))  # empty once its only connection closed
    if tables == 0 and source.stat().st_size > 0:
        raise RekeyError(Message("Re-encrypting {path} produced an empty copy; nothing was changed.", path=source))
    _fsync_file(target)


def _prepare_credentials(target: Unlocked | None) -> None:
    """``credentials.key.rekey``: the credentials key as the new state stores it."""
    from core.platform.key_file import KeyFileMissing, key_payload, read_key_file

    path = paths.key_path()
    if not os.path.lexists(path):
        return
    try:
        key = read_key_file(path)
    except KeyFileMissing:
        return
    paths.replace_private_file(prepared(path), key_payload(key, target))


def _leftovers(db_path: Path) -> list[Path]:
    files = [db_path, *companions(db_path), paths.key_path()]
    return [prepared(path) for path in files if prepared(path).exists()]


def has_leftovers(db_path: Path) -> bool:
    return bool(_leftovers(db_path)) or vault.pending_vault_path(db_path).exists()


def abort(db_path: Path) -> None:
    """Throw away what an uncommitted re-key prepared: the database as it was stays the current one."""
    for path in _leftovers(db_path):
        _remove(path)
    vault.pending_vault_path(db_path).unlink(missing_ok=True)
    paths.fsync_dir(db_path.parent)


def finish(db_path: Path, encrypted: bool) -> None:
    """Put in place what a committed re-key prepared (idempotent: a kill here is finished next time)."""
    for path in [*companions(db_path), paths.key_path()]:
        if prepared(path).exists():
            _remove(Path(f"{path}-wal"))
            os.replace(prepared(path), path)
            paths.fsync_dir(path.parent)
    pending = vault.pending_vault_path(db_path)
    if encrypted:
        if pending.exists():
            os.replace(pending, vault.vault_path(db_path))
    else:
        vault.vault_path(db_path).unlink(missing_ok=True)
        pending.unlink(missing_ok=True)
    paths.fsync_dir(db_path.parent)


def _record_in_copy(copy: Path, key: bytes | None, action: str) -> None:
    """The audited passphrase event, written into the re-encrypted copy before it is committed: the new
    state has its record, and an aborted re-key leaves none."""
    from core.store.audit_records import audit_context
    from core.store.models import PassphraseEvent

    saved = db.key
    db.close()
    db.key = key
    db.init(str(copy), pragmas=PRAGMAS, timeout=5)
    try:
        with db.atomic(), audit_context("passphrase"):
            PassphraseEvent.create(action=action)
    finally:
        db.close()
        db.key = saved
    _remove(Path(f"{copy}-wal"))
    _fsync_file(copy)


def _rekey(db_path: Path, target: Unlocked | None, passphrase: str | None, action: str) -> None:
    source_key = db.key
    with sole_use(db_path):
        if db.in_transaction():
            raise RuntimeError("re-keying must not run inside a database transaction")
        db.close()  # this thread's connection; the caller makes sure no other thread holds one
        abort(db_path)  # a stale attempt's files: the current state is the one the database is in
        target_key = target.database_key if target else None
        try:
            export(db_path, source_key, prepared(db_path), target_key)
            after_step("exported")
            for companion in companions(db_path):
                if companion.exists():
                    export(companion, source_key, prepared(companion), target_key)
            _prepare_credentials(target)
            _record_in_copy(prepared(db_path), target_key, action)
            after_step("prepared")
            if target is not None and passphrase is not None:
                paths.replace_private_file(vault.pending_vault_path(db_path), vault.vault_payload(target, passphrase))
            after_step("vault written")
            _remove(Path(f"{db_path}-wal"))  # checkpointed and empty: the new file must not meet the old log
            _remove(Path(f"{db_path}-shm"))
            os.replace(prepared(db_path), db_path)  # the commit
            paths.fsync_dir(db_path.parent)
        except BaseException:
            abort(db_path)
            activate(vault.session if source_key is not None else None)
            db.key = source_key
            db.init(str(db_path), pragmas=PRAGMAS, timeout=5)
            raise
        after_step("committed")
        finish(db_path, encrypted=target is not None)
        after_step("finished")
        activate(target)
    open_database(db_path)


def activate(unlocked: Unlocked | None) -> None:
    """Make ``unlocked`` the process's keys: the database's connections and the credentials key use it."""
    if not db.is_closed():
        db.close()
    vault.session = unlocked
    db.key = unlocked.database_key if unlocked else None


def set_passphrase(db_path: Path, passphrase: str) -> None:
    """Encrypt the (plain) database at ``db_path`` and its credentials key under ``passphrase``."""
    vault.check_passphrase(passphrase)
    if db.key is not None or vault.has_passphrase(db_path):
        raise RekeyError(Message("This database already has a passphrase; change it instead."))
    _rekey(db_path, Unlocked.generate(), passphrase, "set")


def change_passphrase(db_path: Path, old: str, new: str) -> None:
    """Re-encrypt under a new master key wrapped by ``new``, after ``old`` has been checked."""
    vault.check_passphrase(new)
    _confirm(db_path, old)
    _rekey(db_path, Unlocked.generate(), new, "changed")


def remove_passphrase(db_path: Path, old: str) -> None:
    """Decrypt the database and the credentials key for good, after ``old`` has been checked."""
    _confirm(db_path, old)
    _rekey(db_path, None, None, "removed")


def _confirm(db_path: Path, passphrase: str) -> None:
    from core.store.unlock import verify

    if db.key is None:
        raise RekeyError(Message("This database has no passphrase."))
    verify(db_path, passphrase)
