"""Changing the credential key: ``fakturka keys rotate`` and ``fakturka keys reset``.

Key rotation renames the new key to ``credentials.key.new`` (and fsyncs the
folder) before it re-encrypts every row in one transaction, and renames it
over ``credentials.key`` after the commit. Whatever step a crash or a full
disk interrupts, the next use settles the leftovers (see
:mod:`core.platform.credentials`).

A reset drops every stored secret and starts a new key, audited.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.platform import credentials as creds
from core.platform.credentials import (
    _announce,
    _config_model,
    _current_keys,
    _key_lock,
    _remove_entry,
    _settle_leftovers,
)
from core.platform.key_file import (
    RESET_COMMAND,
    CredentialError,
    Key,
    KeyFileError,
    _key_payload,
    _key_trouble,
    _pending_path,
)
from core.store import paths
from core.values.messages import Message

RESET_SOURCE = "keys reset"  # audit source of a reset (a space: no plugin can have this name)


def _refuse_inside_transaction(database) -> None:
    # The key lock must be held until the commit; an outer transaction would commit after it is released.
    if database.in_transaction():
        raise RuntimeError("changing the credential key must not run inside a database transaction")


def _settle_after_failure(path: Path) -> None:
    """After a failed rotation, keep or drop its new key by what the blobs name, as the next start would."""
    try:
        _settle_leftovers(path)
    except Exception:  # noqa: BLE001 - the next start settles it; the original error is the one to report
        pass


def _rotation_failed(path: Path, exc: OSError, committed: bool) -> CredentialError:
    reason = exc.strerror or str(exc)
    if committed:  # the blobs name the new key, which is still waiting in its file
        return CredentialError(
            Message(
                "the credentials were re-encrypted under a new key, but it could not be moved to {path} ({reason}); "
                "it is kept in {pending} and put in place at the next start",
                path=path,
                reason=reason,
                pending=_pending_path(path),
            )
        )
    return CredentialError(
        Message(
            "cannot rotate the credential key: writing a key file failed ({reason}); "
            "nothing was changed and {path} still holds the key",
            reason=reason,
            path=path,
        )
    )


def rotate_key(key_path: Path | None = None) -> int:
    """Re-encrypt every stored credential under a new key; returns how many rows changed.

    All rows are decrypted first: if any cannot be, nothing changes. Order:
    new key into ``.new`` (durable), rows re-encrypted in one transaction,
    ``.new`` renamed over the key file; a crash anywhere leaves a state that
    :func:`~core.platform.credentials.load_keyring` finishes or discards.
    """
    path = key_path or paths.key_path()
    model = _config_model()
    database = model._meta.database
    _refuse_inside_transaction(database)
    lock = _key_lock(path)
    pending = _pending_path(path)
    committed = False
    try:
        with database.atomic():  # the database's write lock first, then the key's
            lock.acquire()
            _announce(_settle_leftovers(path))
            keys = _current_keys(path)
            rows = list(model.select().where(model.credentials.is_null(False)).order_by(model.plugin_name))
            if rows and not keys:
                raise _key_trouble(path, Message("is missing, so nothing can be re-encrypted"), Message("is missing"))
            plain = {row.plugin_name: creds.decrypt(row.plugin_name, row.credentials, keys) for row in rows}
            new_key = Key.generate()
            paths.replace_private_file(pending, _key_payload(new_key))
            for row in rows:
                row.credentials = creds.encrypt(row.plugin_name, plain[row.plugin_name], new_key)
                row.save()
        committed = True
        os.replace(pending, path)
        paths.fsync_dir(path.parent)
    except BaseException as exc:
        if lock.held:  # keep or drop the new key by what the blobs name, as the next start would
            _settle_after_failure(path)
        if not isinstance(exc, OSError):
            raise
        if committed and not os.path.lexists(pending):
            return len(rows)  # the retry in _settle_after_failure put the new key in place
        raise _rotation_failed(path, exc, committed) from None
    finally:
        lock.release()
    return len(rows)


def _clear_key_path(path: Path) -> None:
    """Make room for the new key: only an empty folder needs removing (a rename replaces anything else)."""
    if path.is_dir() and not path.is_symlink():
        try:
            path.rmdir()
        except OSError:
            raise KeyFileError(
                Message(
                    "the key file {path} is a directory with files in it; move it out of the way and run "
                    "'{command}' again",
                    path=path,
                    command=RESET_COMMAND,
                )
            ) from None


def reset_key(key_path: Path | None = None) -> list[str]:
    """Drop every plugin's stored secrets and start a new key; the plugins whose secrets were dropped.

    Settings, state and history stay. Audited under the source "keys reset"
    (the audit shows the secret as redacted, never its value). The rows are
    cleared first and the key replaced before the commit, so a failure on
    the key file changes nothing; a crash after it leaves a new key and old
    blobs, which a second reset clears.
    """
    from core.store.audit_records import audit_context

    path = key_path or paths.key_path()
    model = _config_model()
    database = model._meta.database
    _refuse_inside_transaction(database)
    lock = _key_lock(path)
    try:
        with database.atomic(), audit_context(RESET_SOURCE):
            lock.acquire()
            rows = list(model.select().where(model.credentials.is_null(False)).order_by(model.plugin_name))
            for row in rows:
                row.credentials = None
                row.save()
            for leftover in [*paths.temp_leftovers(path), _pending_path(path)]:
                _remove_entry(leftover)
            _clear_key_path(path)
            paths.replace_private_file(path, _key_payload(Key.generate()))
    except OSError as exc:
        raise CredentialError(
            Message(
                "cannot reset the credential key: writing {path} failed ({error}); nothing was changed",
                path=path,
                error=exc.strerror or str(exc),
            )
        ) from None
    finally:
        lock.release()
    return [row.plugin_name for row in rows]
