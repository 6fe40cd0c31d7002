"""Encrypted plugin credentials: AES-256-GCM under a key kept in a 0600 file.

Blob layout (version 1)::

    b"\\x01" | key id (8 bytes) | nonce (12 bytes) | ciphertext + GCM tag

The associated data binds a blob to its plugin and key, so a blob copied onto
another plugin's row fails to decrypt. The key file is never inside the
database. Reading never deletes a stored blob: when decryption fails the
person is told what to do, and the old blob stays until they re-enter the
secrets or run ``fakturka keys reset`` (which drops every stored secret and
starts a new key, audited).

Every key file is written whole or not at all: into a temporary file in the
same folder, fsynced, then renamed. Key rotation renames the new key to
``credentials.key.new`` (and fsyncs the folder) before it re-encrypts every
row in one transaction, and renames it over ``credentials.key`` after the
commit. Whatever step a crash or a full disk interrupts, the next use
(:func:`load_keyring`, or :func:`recover_interrupted_rotation` at start-up)
finishes or discards the leftovers by looking at which key the stored blobs
name, and says so in one sentence.

Changing key files is serialised by ``flock`` on ``credentials.key.lock``,
always taken after the database's write lock (one order everywhere, so a
rotation and a save never wait for each other in a circle).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import FakturkaError
from core.store import paths

BLOB_VERSION = 1
KEY_ID_LEN = 8
NONCE_LEN = 12
KEY_FILE_VERSION = 1
MAX_KEY_FILE_BYTES = 4096  # a key file is ~60 bytes; read no more of whatever sits in its place
RESET_SOURCE = "keys reset"  # audit source of a reset (a space: no plugin can have this name)
RESET_COMMAND = "fakturka keys reset"

logger = logging.getLogger(__name__)


class CredentialError(FakturkaError):
    """Credentials cannot be read or written; the message is meant for a person.

    ``reason`` (what is wrong, a few words) and ``remedy`` (what to do) let a
    status line say the same thing shorter than the message.
    """

    def __init__(self, message: str, *, reason: str | None = None, remedy: str = ""):
        super().__init__(message)
        self.reason = reason or message
        self.remedy = remedy


class KeyFileError(CredentialError):
    pass


class KeyFileMissing(KeyFileError):
    pass


def _reset_remedy(what: str = "the plugins' secrets") -> str:
    return f"run '{RESET_COMMAND}' and re-enter {what}"


def _key_trouble(path: Path, problem: str, reason: str, *, restorable=True, cls=KeyFileError) -> KeyFileError:
    """A key file problem: the sentence names ``fakturka keys reset``; ``reason`` is the short form."""
    restore = "restore it from a backup, or " if restorable else ""
    return cls(
        f"the key file {path} {problem}; {restore}{_reset_remedy()}",
        reason=f"the key file {reason}",
        remedy=restore + _reset_remedy("them"),
    )


@dataclass(frozen=True)
class Key:
    material: bytes = field(repr=False)  # never in a log line or a traceback

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(b"fakturka-key-id" + self.material).digest()[:KEY_ID_LEN]

    @classmethod
    def generate(cls) -> "Key":
        return cls(AESGCM.generate_key(bit_length=256))


def _pending_path(path: Path) -> Path:
    return path.with_name(path.name + ".new")


def _associated_data(plugin_name: str, key_id: bytes) -> bytes:
    return b"fakturka-credentials|v1|" + plugin_name.encode("utf-8") + b"|" + key_id


# -- key files: written whole or not at all ---------------------------------------------------


def _key_payload(key: Key) -> bytes:
    text = json.dumps({"version": KEY_FILE_VERSION, "key": base64.b64encode(key.material).decode("ascii")})
    return text.encode("ascii") + b"\n"


def write_key_file(path: Path, key: Key) -> None:
    """Create ``path`` with mode 0600 holding ``key``, whole or not at all; refuses to overwrite."""
    paths.create_private_file_whole(path, _key_payload(key))


def _check_regular(path: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise _key_trouble(path, "is a directory, not a file", "is a directory", restorable=False)
    if not stat.S_ISREG(mode):
        problem = f"is not a regular file (it is {paths.file_kind(mode)})"
        raise _key_trouble(path, problem, "is not a regular file", restorable=False)


def _read_bytes(path: Path) -> tuple[bytes, int]:
    """At most MAX_KEY_FILE_BYTES of a regular file, and its permission bits; never waits on a pipe."""
    try:
        _check_regular(path, os.stat(path).st_mode)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # O_NONBLOCK: no hang if a pipe took its place meanwhile
        try:
            mode = os.fstat(fd).st_mode
            _check_regular(path, mode)
            return os.read(fd, MAX_KEY_FILE_BYTES), stat.S_IMODE(mode)
        finally:
            os.close(fd)
    except FileNotFoundError:
        raise _key_trouble(path, "is missing", "is missing", cls=KeyFileMissing) from None
    except OSError as exc:
        why = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        raise _key_trouble(path, f"cannot be read ({why})", f"cannot be read ({why})") from None


def _parse_key(path: Path, data: bytes) -> Key:
    try:
        document = json.loads(data.decode("ascii"))
        material = base64.b64decode(document["key"], validate=True)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise _key_trouble(path, "is damaged (it does not hold a Fakturka key)", "is damaged") from None
    if len(material) != 32:
        raise _key_trouble(path, "is damaged (the key is not 256 bits)", "is damaged")
    return Key(material)


def read_key_file(path: Path) -> Key:
    data, mode = _read_bytes(path)
    if mode & 0o077:
        raise KeyFileError(
            f"the key file {path} can be read by other users (mode {mode:o}); run 'chmod 600 {path}' and try again",
            reason="the key file can be read by other users",
            remedy=f"run 'chmod 600 {path}'",
        )
    return _parse_key(path, data)


def load_or_create_key(path: Path | None = None) -> Key:
    """The current key, creating the key file on first use."""
    path = path or paths.key_path()
    if not os.path.lexists(path):
        key = Key.generate()
        try:
            write_key_file(path, key)
        except FileExistsError:  # another process won the race: use its key
            return read_key_file(path)
        return key
    return read_key_file(path)


# -- blobs ------------------------------------------------------------------------------------


def encrypt(plugin_name: str, secrets: dict[str, str], key: Key) -> bytes:
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
    prefix = f"credentials for {plugin_name} cannot be decrypted"
    key_id = blob_key_id(blob)
    if key_id is None:
        raise CredentialError(
            f"{prefix}: the stored value is damaged; re-enter them",
            reason="the stored value is damaged",
            remedy="re-enter them",
        )
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        raise CredentialError(
            f"{prefix}: they were saved under a different key than the one in the key file; "
            f"restore that key file, or {_reset_remedy('them')}",
            reason="the key file does not match",
            remedy=f"restore the key file they were saved under, or {_reset_remedy('them')}",
        )
    nonce = blob[1 + KEY_ID_LEN : 1 + KEY_ID_LEN + NONCE_LEN]
    ciphertext = blob[1 + KEY_ID_LEN + NONCE_LEN :]
    try:
        plaintext = AESGCM(key.material).decrypt(nonce, ciphertext, _associated_data(plugin_name, key_id))
    except InvalidTag:
        raise CredentialError(
            f"{prefix}: the stored value was altered or belongs to another plugin; re-enter them",
            reason="the stored value was altered",
            remedy="re-enter them",
        ) from None
    return json.loads(plaintext.decode("utf-8"))


# -- one process at a time changes the key files -----------------------------------------------


def _key_lock(path: Path) -> paths.SiblingLock:
    return paths.SiblingLock(path, busy=f"another Fakturka is changing the credential key ({path.name} is locked)")


def _refuse_inside_transaction(database) -> None:
    # The key lock must be held until the commit; an outer transaction would commit after it is released.
    if database.in_transaction():
        raise RuntimeError("changing the credential key must not run inside a database transaction")


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
            f"{path} is in the way and cannot be removed ({exc.strerror}); move it out of the way and try again",
            reason=f"{path.name} is in the way",
            remedy="move it out of the way",
        ) from None


def _settle_leftovers(path: Path) -> str | None:
    """Finish or discard what an interrupted rotation left (key lock held); the sentence saying which."""
    try:
        return _settle(path)
    except OSError as exc:
        raise _key_trouble(
            path,
            f"cannot take the key left by an interrupted rotation ({exc.strerror or exc})",
            "cannot be replaced",
            restorable=False,
        ) from None


def _settle(path: Path) -> str | None:
    temps = paths.temp_leftovers(path)
    for temp in temps:  # never renamed into place, so no blob can name their key
        _remove_entry(temp)
    pending = _pending_path(path)
    if not os.path.lexists(pending):
        return "An interrupted key rotation left a half-written key file; it was removed." if temps else None
    try:
        new_key = _parse_key(pending, _read_bytes(pending)[0])
    except KeyFileError:
        new_key = None  # empty, truncated or damaged: it was never complete, so no commit used it
    if new_key is not None and new_key.key_id in _blob_key_ids():
        os.replace(pending, path)
        paths.fsync_dir(path.parent)
        return (
            f"An interrupted key rotation had already re-encrypted the credentials; "
            f"it was completed and {path} now holds the new key."
        )
    _remove_entry(pending)
    state = "an unused" if new_key is not None else "an unfinished"
    return f"An interrupted key rotation left {state} new key file ({pending.name}); it was removed and {path} is kept."


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
    prefix = f"credentials for {plugin_name} cannot be decrypted"
    try:
        keys = load_keyring(key_path)
    except KeyFileError as exc:
        raise CredentialError(f"{prefix}: {exc}", reason=exc.reason, remedy=exc.remedy) from None
    if not keys:
        missing = _key_trouble(key_path or paths.key_path(), "is missing", "is missing")
        raise CredentialError(f"{prefix}: {missing}", reason=missing.reason, remedy=missing.remedy)
    return decrypt(plugin_name, row.credentials, keys)


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
                f"credentials for {plugin_name} cannot be saved: {exc}", reason=exc.reason, remedy=exc.remedy
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


# -- rotation and reset -----------------------------------------------------------------------


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
            f"the credentials were re-encrypted under a new key, but it could not be moved to {path} ({reason}); "
            f"it is kept in {_pending_path(path)} and put in place at the next start"
        )
    return CredentialError(
        f"cannot rotate the credential key: writing a key file failed ({reason}); "
        f"nothing was changed and {path} still holds the key"
    )


def rotate_key(key_path: Path | None = None) -> int:
    """Re-encrypt every stored credential under a new key; returns how many rows changed.

    All rows are decrypted first: if any cannot be, nothing changes. Order:
    new key into ``.new`` (durable), rows re-encrypted in one transaction,
    ``.new`` renamed over the key file; a crash anywhere leaves a state that
    :func:`load_keyring` finishes or discards.
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
                raise _key_trouble(path, "is missing, so nothing can be re-encrypted", "is missing")
            plain = {row.plugin_name: decrypt(row.plugin_name, row.credentials, keys) for row in rows}
            new_key = Key.generate()
            paths.replace_private_file(pending, _key_payload(new_key))
            for row in rows:
                row.credentials = encrypt(row.plugin_name, plain[row.plugin_name], new_key)
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
                f"the key file {path} is a directory with files in it; move it out of the way and run "
                f"'{RESET_COMMAND}' again"
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
            f"cannot reset the credential key: writing {path} failed ({exc.strerror or exc}); nothing was changed"
        ) from None
    finally:
        lock.release()
    return [row.plugin_name for row in rows]
