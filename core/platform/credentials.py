"""Encrypted plugin credentials: AES-256-GCM under a key kept in a 0600 file.

Blob layout (version 1)::

    b"\\x01" | key id (8 bytes) | nonce (12 bytes) | ciphertext + GCM tag

The associated data binds a blob to its plugin and key, so a blob copied onto
another plugin's row fails to decrypt. The key file is never inside the
database (:mod:`core.platform.key_file`). Reading never deletes a stored blob:
when decryption fails the person is told what to do, and the old blob stays
until they re-enter the secrets or run ``fakturka keys reset`` (which drops
every stored secret and starts a new key, audited:
:mod:`core.platform.key_rotation`).

Whatever step of a key rotation a crash or a full disk interrupts, the next
use (:func:`load_keyring`, or :func:`recover_interrupted_rotation` at
start-up) finishes or discards the leftovers by looking at which key the
stored blobs name, and says so in one sentence.

Changing key files is serialised by ``flock`` on ``credentials.key.lock``,
always taken after the database's write lock (one order everywhere, so a
rotation and a save never wait for each other in a circle).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from core.platform.key_file import (
    KEY_ID_LEN,
    CredentialError,
    Key,
    KeyFileError,
    KeyFileMissing,
    _key_trouble,
    _parse_key,
    _pending_path,
    _read_bytes,
    _reset_remedy,
    load_or_create_key,
    read_key_file,
)
from core.store import paths
from core.values.messages import Message, message_of

BLOB_VERSION = 1
NONCE_LEN = 12

logger = logging.getLogger(__name__)


# -- blobs ------------------------------------------------------------------------------------


def _associated_data(plugin_name: str, key_id: bytes) -> bytes:
    return b"fakturka-credentials|v1|" + plugin_name.encode("utf-8") + b"|" + key_id


def encrypt(plugin_name: str, secrets: dict[str, str], key: Key) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # here: every start imports this module

    nonce = os.urandom(NONCE_LEN)
    plaintext = json.dumps(secrets, sort_keys=True).encode("utf-8")
    ciphertext = AESGCM(key.material).encrypt(nonce, plaintext, _associated_data(plugin_name, key.key_id))
    return bytes([BLOB_VERSION]) + key.key_id + nonce + ciphertext


def blob_key_id(blob: bytes) -> bytes | None:
    if not blob or blob[0] != BLOB_VERSION or len(blob) < 1 + KEY_ID_LEN + NONCE_LEN + 16:
        return None
    return bytes(blob[1 : 1 + KEY_ID_LEN])


def decrypt(plugin_name: str, blob: bytes, keys: list[Key]) -> dict[str, str]:
    """Decrypt ``blob`` for ``plugin_name`` with whichever of ``keys`` it names."""
    blob = bytes(blob)
    key_id = blob_key_id(blob)
    if key_id is None:
        raise CredentialError(
            Message(
                "credentials for {plugin} cannot be decrypted: the stored value is damaged; re-enter them",
                plugin=plugin_name,
            ),
            reason=Message("the stored value is damaged"),
            remedy=Message("re-enter them"),
        )
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        raise CredentialError(
            Message(
                "credentials for {plugin} cannot be decrypted: they were saved under a different key than the one "
                "in the key file; restore that key file, or {remedy}",
                plugin=plugin_name,
                remedy=_reset_remedy(them=True),
            ),
            reason=Message("the key file does not match"),
            remedy=Message("restore the key file they were saved under, or {remedy}", remedy=_reset_remedy(them=True)),
        )
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = blob[1 + KEY_ID_LEN : 1 + KEY_ID_LEN + NONCE_LEN]
    ciphertext = blob[1 + KEY_ID_LEN + NONCE_LEN :]
    try:
        plaintext = AESGCM(key.material).decrypt(nonce, ciphertext, _associated_data(plugin_name, key_id))
    except InvalidTag:
        raise CredentialError(
            Message(
                "credentials for {plugin} cannot be decrypted: the stored value was altered or belongs to another "
                "plugin; re-enter them",
                plugin=plugin_name,
            ),
            reason=Message("the stored value was altered"),
            remedy=Message("re-enter them"),
        ) from None
    return json.loads(plaintext.decode("utf-8"))


# -- one process at a time changes the key files -----------------------------------------------


def _key_lock(path: Path) -> paths.SiblingLock:
    return paths.SiblingLock(
        path, busy=Message("another Fakturka is changing the credential key ({name} is locked)", name=path.name)
    )


# -- leftovers of an interrupted rotation -----------------------------------------------------


def _config_model():
    from core.store.models import PluginConfiguration

    return PluginConfiguration


def _blob_key_ids() -> set[bytes | None]:
    model = _config_model()
    query = model.select(model.credentials).where(model.credentials.is_null(False))
    return {blob_key_id(bytes(row.credentials)) for row in query}


def _remove_entry(path: Path) -> None:
    """Remove a leftover file (or an empty folder in its place); a folder with files is the person's to move."""
    try:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise KeyFileError(
            Message(
                "{path} is in the way and cannot be removed ({error}); move it out of the way and try again",
                path=path,
                error=exc.strerror,
            ),
            reason=Message("{name} is in the way", name=path.name),
            remedy=Message("move it out of the way"),
        ) from None


def _settle_leftovers(path: Path) -> str | None:
    """Finish or discard what an interrupted rotation left (key lock held); the sentence saying which."""
    try:
        return _settle(path)
    except OSError as exc:
        raise _key_trouble(
            path,
            Message("cannot take the key left by an interrupted rotation ({error})", error=exc.strerror or str(exc)),
            Message("cannot be replaced"),
            restorable=False,
        ) from None


def _settle(path: Path) -> str | None:
    temps = paths.temp_leftovers(path)
    for temp in temps:  # never renamed into place, so no blob can name their key
        _remove_entry(temp)
    pending = _pending_path(path)
    if not os.path.lexists(pending):
        return Message("An interrupted key rotation left a half-written key file; it was removed.") if temps else None
    try:
        new_key = _parse_key(pending, _read_bytes(pending)[0])
    except KeyFileError:
        new_key = None  # empty, truncated or damaged: it was never complete, so no commit used it
    if new_key is not None and new_key.key_id in _blob_key_ids():
        os.replace(pending, path)
        paths.fsync_dir(path.parent)
        return Message(
            "An interrupted key rotation had already re-encrypted the credentials; "
            "it was completed and {path} now holds the new key.",
            path=path,
        )
    _remove_entry(pending)
    if new_key is not None:
        return Message(
            "An interrupted key rotation left an unused new key file ({name}); it was removed and {path} is kept.",
            name=pending.name,
            path=path,
        )
    return Message(
        "An interrupted key rotation left an unfinished new key file ({name}); it was removed and {path} is kept.",
        name=pending.name,
        path=path,
    )


def _announce(notice: str | None) -> None:
    if notice:
        logger.warning(notice)


def recover_interrupted_rotation(path: Path | None = None) -> str | None:
    """Finish or discard the leftovers of an interrupted rotation; one sentence saying what was done, or None.

    Safe to call at every start (a no-op when nothing is left over, or while
    another process is rotating). :func:`load_keyring` does the same on each
    use, so calling it is only needed to show the sentence early.
    """
    path = path or paths.key_path()
    lock = _key_lock(path)
    if not lock.try_acquire():
        return None
    try:
        return _settle_leftovers(path)
    finally:
        lock.release()


def _current_keys(path: Path) -> list[Key]:
    try:
        return [read_key_file(path)]
    except KeyFileMissing:
        return []


def _pending_keys(path: Path) -> list[Key]:
    try:
        return [read_key_file(_pending_path(path))]
    except KeyFileError:
        return []


def load_keyring(path: Path | None = None) -> list[Key]:
    """Keys that may have written stored blobs; finishes or discards an interrupted rotation first."""
    path = path or paths.key_path()
    lock = _key_lock(path)
    if lock.try_acquire():
        try:
            _announce(_settle_leftovers(path))
            return _current_keys(path)
        finally:
            lock.release()
    # Another process is rotating: the blobs may already name its new key.
    return _current_keys(path) + _pending_keys(path)


# -- working with plugin_configurations -----------------------------------------


def get_credentials(plugin_name: str, key_path: Path | None = None) -> dict[str, str]:
    """The decrypted credentials of ``plugin_name`` (empty when none are stored)."""
    model = _config_model()
    row = model.get_or_none(model.plugin_name == plugin_name)
    if row is None or not row.credentials:
        return {}
    try:
        keys = load_keyring(key_path)
    except KeyFileError as exc:
        raise CredentialError(_undecryptable(plugin_name, exc), reason=exc.reason, remedy=exc.remedy) from None
    if not keys:
        missing = _key_trouble(key_path or paths.key_path(), Message("is missing"), Message("is missing"))
        raise CredentialError(_undecryptable(plugin_name, missing), reason=missing.reason, remedy=missing.remedy)
    return decrypt(plugin_name, row.credentials, keys)


def _undecryptable(plugin_name: str, exc: KeyFileError) -> Message:
    return Message("credentials for {plugin} cannot be decrypted: {error}", plugin=plugin_name, error=message_of(exc))


def set_credentials(plugin_name: str, secrets: dict[str, str], key_path: Path | None = None):
    """Encrypt and store ``secrets`` for ``plugin_name`` (creating its configuration row)."""
    path = key_path or paths.key_path()
    model = _config_model()
    lock = _key_lock(path)
    with model._meta.database.atomic():  # the database's write lock first, then the key's
        lock.acquire()
        try:
            # Finish (or discard) an interrupted rotation first: otherwise this blob
            # would be written under the key that the rotation is retiring.
            _announce(_settle_leftovers(path))
            key = load_or_create_key(path)
        except KeyFileError as exc:
            raise CredentialError(
                Message("credentials for {plugin} cannot be saved: {error}", plugin=plugin_name, error=message_of(exc)),
                reason=exc.reason,
                remedy=exc.remedy,
            ) from None
        finally:
            lock.release()  # the key cannot change now: a rotation needs the write lock this transaction holds
        blob = encrypt(plugin_name, secrets, key) if secrets else None
        row = model.get_or_none(model.plugin_name == plugin_name)
        if row is None:
            row = model(plugin_name=plugin_name)
        row.credentials = blob
        row.save()
    return row


def plugins_with_stored_secrets() -> list[str]:
    """The plugins that have a stored credentials blob, readable or not, by name."""
    model = _config_model()
    query = model.select(model.plugin_name).where(model.credentials.is_null(False)).order_by(model.plugin_name)
    return [row.plugin_name for row in query]
