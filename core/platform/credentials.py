"""Encrypted plugin credentials: AES-256-GCM under a key kept in a 0600 file.

Blob layout (version 1)::

    b"\\x01" | key id (8 bytes) | nonce (12 bytes) | ciphertext + GCM tag

The associated data binds a blob to its plugin and key, so a blob copied onto
another plugin's row fails to decrypt. The key file is never inside the
database. Nothing here deletes a stored blob: when decryption fails the
person is told to re-enter the credentials, and the old blob stays until
they do.

Key rotation writes the new key to ``credentials.key.new`` first, re-encrypts
every row in one transaction, then renames the new file over the old one.
If the process dies in between, :func:`load_keyring` finishes (or discards)
the rotation on the next start by looking at which key the blobs name.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.errors import FakturkaError
from core.store import paths

BLOB_VERSION = 1
KEY_ID_LEN = 8
NONCE_LEN = 12
KEY_FILE_VERSION = 1


class CredentialError(FakturkaError):
    """Credentials cannot be read or written; the message is meant for a person."""


class KeyFileError(CredentialError):
    pass


@dataclass(frozen=True)
class Key:
    material: bytes

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


def write_key_file(path: Path, key: Key) -> None:
    """Create ``path`` with mode 0600 holding ``key``; refuses to overwrite."""
    payload = json.dumps(
        {
            "version": KEY_FILE_VERSION,
            "key": base64.b64encode(key.material).decode("ascii"),
        }
    ).encode("ascii")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, paths.FILE_MODE)
    try:
        os.write(fd, payload + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_key_file(path: Path) -> Key:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raise KeyFileError(f"the key file {path} is missing") from None
    if mode & 0o077:
        raise KeyFileError(
            f"the key file {path} can be read by other users (mode {mode:o}); run 'chmod 600 {path}' and try again"
        )
    try:
        data = json.loads(path.read_text("ascii"))
        material = base64.b64decode(data["key"], validate=True)
    except PermissionError:
        raise KeyFileError(f"the key file {path} cannot be read: permission denied") from None
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise KeyFileError(f"the key file {path} is damaged (it does not hold a Fakturka key)") from None
    if len(material) != 32:
        raise KeyFileError(f"the key file {path} is damaged (the key is not 256 bits)")
    return Key(material)


def load_or_create_key(path: Path | None = None) -> Key:
    """The current key, creating the key file on first use."""
    path = path or paths.key_path()
    if not path.exists():
        key = Key.generate()
        try:
            write_key_file(path, key)
        except FileExistsError:  # another process won the race: use its key
            return read_key_file(path)
        return key
    return read_key_file(path)


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
        raise CredentialError(f"{prefix}: the stored value is damaged; re-enter them")
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        raise CredentialError(
            f"{prefix}: they were saved under a different key than the one in the key file; "
            "restore that key file or re-enter them"
        )
    nonce = blob[1 + KEY_ID_LEN : 1 + KEY_ID_LEN + NONCE_LEN]
    ciphertext = blob[1 + KEY_ID_LEN + NONCE_LEN :]
    try:
        plaintext = AESGCM(key.material).decrypt(nonce, ciphertext, _associated_data(plugin_name, key_id))
    except InvalidTag:
        raise CredentialError(
            f"{prefix}: the stored value was altered or belongs to another plugin; re-enter them"
        ) from None
    return json.loads(plaintext.decode("utf-8"))


# -- working with plugin_configurations -----------------------------------------


def _config_model():
    from core.store.models import PluginConfiguration

    return PluginConfiguration


def load_keyring(path: Path | None = None) -> list[Key]:
    """Keys that may have written stored blobs; finishes an interrupted rotation."""
    path = path or paths.key_path()
    pending = _pending_path(path)
    if pending.exists():
        new_key = read_key_file(pending)
        model = _config_model()
        in_use = {
            blob_key_id(row.credentials)
            for row in model.select(model.credentials).where(model.credentials.is_null(False))
        }
        if new_key.key_id in in_use:
            os.replace(pending, path)  # the rotation committed: finish it
        else:
            pending.unlink()  # the rotation never committed: forget it
    if not path.exists():
        return []
    return [read_key_file(path)]


def get_credentials(plugin_name: str, key_path: Path | None = None) -> dict[str, str]:
    """The decrypted credentials of ``plugin_name`` (empty when none are stored)."""
    model = _config_model()
    row = model.get_or_none(model.plugin_name == plugin_name)
    if row is None or not row.credentials:
        return {}
    try:
        keys = load_keyring(key_path)
    except KeyFileError as exc:
        raise CredentialError(f"credentials for {plugin_name} cannot be decrypted: {exc}") from None
    if not keys:
        raise CredentialError(
            f"credentials for {plugin_name} cannot be decrypted: the key file "
            f"{key_path or paths.key_path()} is missing; restore it or re-enter the credentials"
        )
    return decrypt(plugin_name, row.credentials, keys)


def set_credentials(plugin_name: str, secrets: dict[str, str], key_path: Path | None = None):
    """Encrypt and store ``secrets`` for ``plugin_name`` (creating its configuration row)."""
    model = _config_model()
    try:
        # Finish (or discard) an interrupted rotation first: otherwise this blob
        # would be written under the key that the rotation is retiring.
        load_keyring(key_path)
        key = load_or_create_key(key_path)
    except KeyFileError as exc:
        raise CredentialError(f"credentials for {plugin_name} cannot be saved: {exc}") from None
    blob = encrypt(plugin_name, secrets, key) if secrets else None
    with model._meta.database.atomic():
        row = model.get_or_none(model.plugin_name == plugin_name)
        if row is None:
            row = model(plugin_name=plugin_name)
        row.credentials = blob
        row.save()
    return row


def rotate_key(key_path: Path | None = None) -> int:
    """Re-encrypt every stored credential under a new key; returns how many rows changed.

    All rows are decrypted first: if any cannot be, nothing changes.
    """
    path = key_path or paths.key_path()
    model = _config_model()
    database = model._meta.database
    keys = load_keyring(path)
    rows = list(model.select().where(model.credentials.is_null(False)))
    if rows and not keys:
        raise CredentialError(f"cannot rotate: the key file {path} is missing")
    plain = {row.plugin_name: decrypt(row.plugin_name, row.credentials, keys) for row in rows}
    new_key = Key.generate()
    pending = _pending_path(path)
    if pending.exists():
        pending.unlink()
    write_key_file(pending, new_key)
    try:
        with database.atomic():
            for row in rows:
                row.credentials = encrypt(row.plugin_name, plain[row.plugin_name], new_key)
                row.save()
    except BaseException:
        pending.unlink(missing_ok=True)
        raise
    os.replace(pending, path)
    return len(rows)
