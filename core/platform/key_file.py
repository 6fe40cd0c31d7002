"""The credential key file: one 256-bit key in a 0600 file, and the errors that name it.

Every key file is written whole or not at all: into a temporary file in the
same folder, fsynced, then renamed. Reading takes at most a few kilobytes of
a regular file and refuses one that other users can read. Every problem with
the key file is a :class:`CredentialError` whose sentence says what to do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import FakturkaError
from core.store import paths, vault
from core.store.vault import Unlocked
from core.values.messages import Message

KEY_ID_LEN = 8
KEY_FILE_VERSION = 1
WRAPPED_VERSION = 2  # the key wrapped under a passphrase (core.store.vault)
_WRAP_AAD = b"fakturka-credentials-key|v2|"
MAX_KEY_FILE_BYTES = 4096  # a key file is ~60 bytes; read no more of whatever sits in its place
RESET_COMMAND = "fakturka keys reset"


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


def _reset_remedy(them: bool = False) -> Message:
    """What to do when the key is lost: reset it and re-enter the secrets (``them``: the ones just named)."""
    if them:
        return Message("run '{command}' and re-enter them", command=RESET_COMMAND)
    return Message("run '{command}' and re-enter the plugins' secrets", command=RESET_COMMAND)


def _key_trouble(path: Path, problem: str, reason: str, *, restorable=True, cls=KeyFileError) -> KeyFileError:
    """A key file problem: the sentence names ``fakturka keys reset``; ``reason`` is the short form.

    ``problem`` and ``reason`` follow "the key file <path>" (Messages such as "is missing")."""
    if restorable:
        message = Message(
            "the key file {path} {problem}; restore it from a backup, or {remedy}",
            path=path,
            problem=problem,
            remedy=_reset_remedy(),
        )
        remedy = Message("restore it from a backup, or {remedy}", remedy=_reset_remedy(them=True))
    else:
        message = Message("the key file {path} {problem}; {remedy}", path=path, problem=problem, remedy=_reset_remedy())
        remedy = _reset_remedy(them=True)
    return cls(message, reason=Message("the key file {reason}", reason=reason), remedy=remedy)


@dataclass(frozen=True)
class Key:
    material: bytes = field(repr=False)  # never in a log line or a traceback

    @property
    def key_id(self) -> bytes:
        return hashlib.sha256(b"fakturka-key-id" + self.material).digest()[:KEY_ID_LEN]

    @classmethod
    def generate(cls) -> "Key":
        return cls(os.urandom(32))  # 256 random bits, as AESGCM.generate_key makes them


def _pending_path(path: Path) -> Path:
    return path.with_name(path.name + ".new")


# -- key files: written whole or not at all ---------------------------------------------------


def key_payload(key: Key, unlocked: Unlocked | None) -> bytes:
    """A key file's bytes: the key in the open (version 1), or wrapped under a passphrase's master key
    (version 2, naming the vault that wraps it)."""
    if unlocked is None:
        document = {"version": KEY_FILE_VERSION, "key": base64.b64encode(key.material).decode("ascii")}
    else:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # here: a plain start never loads it

        nonce = os.urandom(12)
        aad = _WRAP_AAD + unlocked.vault_id.encode("ascii")
        wrapped = nonce + AESGCM(unlocked.credentials_key).encrypt(nonce, key.material, aad)
        text = base64.b64encode(wrapped).decode("ascii")
        document = {"version": WRAPPED_VERSION, "vault": unlocked.vault_id, "wrapped": text}
    return json.dumps(document).encode("ascii") + b"\n"


def _key_payload(key: Key) -> bytes:
    """The key file as this process writes it: wrapped while a passphrase is unlocked."""
    return key_payload(key, vault.session)


def write_key_file(path: Path, key: Key) -> None:
    """Create ``path`` with mode 0600 holding ``key``, whole or not at all; refuses to overwrite."""
    paths.create_private_file_whole(path, _key_payload(key))


def _check_regular(path: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise _key_trouble(path, Message("is a directory, not a file"), Message("is a directory"), restorable=False)
    if not stat.S_ISREG(mode):
        problem = Message("is not a regular file (it is {kind})", kind=paths.file_kind(mode))
        raise _key_trouble(path, problem, Message("is not a regular file"), restorable=False)


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
        missing = Message("is missing")
        raise _key_trouble(path, missing, missing, cls=KeyFileMissing) from None
    except OSError as exc:
        why = Message("permission denied") if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
        unreadable = Message("cannot be read ({why})", why=why)
        raise _key_trouble(path, unreadable, unreadable) from None


def _parse_key(path: Path, data: bytes) -> Key:
    try:
        document = json.loads(data.decode("ascii"))
        if document.get("version") == WRAPPED_VERSION:
            return _unwrap(path, document)
        material = base64.b64decode(document["key"], validate=True)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise _key_trouble(
            path, Message("is damaged (it does not hold a Fakturka key)"), Message("is damaged")
        ) from None
    if len(material) != 32:
        raise _key_trouble(path, Message("is damaged (the key is not 256 bits)"), Message("is damaged"))
    return Key(material)


def _unwrap(path: Path, document: dict) -> Key:
    """A wrapped key, with the passphrase this process unlocked."""
    unlocked = vault.session
    if unlocked is None or unlocked.vault_id != document["vault"]:
        raise KeyFileError(
            Message(
                "the key file {path} is locked with the passphrase of another database; open that database, "
                "or {remedy}",
                path=path,
                remedy=_reset_remedy(),
            ),
            reason=Message("the key file is locked with another database's passphrase"),
            remedy=_reset_remedy(them=True),
        )
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    wrapped = base64.b64decode(document["wrapped"], validate=True)
    try:
        material = AESGCM(unlocked.credentials_key).decrypt(
            wrapped[:12], wrapped[12:], _WRAP_AAD + unlocked.vault_id.encode("ascii")
        )
    except InvalidTag:
        raise _key_trouble(
            path, Message("is damaged (it does not hold a Fakturka key)"), Message("is damaged")
        ) from None
    if len(material) != 32:
        raise _key_trouble(path, Message("is damaged (the key is not 256 bits)"), Message("is damaged"))
    return Key(material)


def read_key_file(path: Path) -> Key:
    data, mode = _read_bytes(path)
    if mode & 0o077:
        raise KeyFileError(
            Message(
                "the key file {path} can be read by other users (mode {mode:o}); run 'chmod 600 {path}' and try again",
                path=path,
                mode=mode,
            ),
            reason=Message("the key file can be read by other users"),
            remedy=Message("run 'chmod 600 {path}'", path=path),
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
