"""The passphrase: the vault file that holds the database's key, wrapped, and unlocking it.

With a passphrase set, ``<database>.vault`` sits beside the database::

    {"version": 1,
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "length": 32, "salt": "<base64>",
             "normalize": "NFC"},
     "master": "<base64 of nonce | AES-256-GCM(master key)>"}

The passphrase, in Unicode normal form NFC (an "é" typed as one character or as "e" and an accent is the
same passphrase; a vault without "normalize" takes the bytes as typed), stretched by scrypt with the
parameters recorded in the file, unwraps a random 256-bit master key. From the master key HKDF derives
the key SQLCipher encrypts the database with and the key the credentials key file is wrapped with
(:mod:`core.platform.key_file`). The passphrase and the derived keys are never written anywhere; a wrong
passphrase fails the GCM tag, so nothing is tried against the database itself.

Each wrong passphrase is counted in ``<database>.tries`` (a time and a count, nothing else), and the next
try must wait longer: 1, 2, 4 ... 60 seconds, whichever process makes it. A right one clears the count.

Setting, changing and removing the passphrase re-encrypt the database: :mod:`core.store.rekey`. What is
unlocked lives for the process in :data:`session`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import FakturkaError
from core.store import paths
from core.values.messages import Message

VAULT_VERSION = 1
# scrypt at 32 MiB and about 0.1 s here: libsodium's "interactive" cost. Recorded per vault, so raising
# it later changes new vaults only.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
SALT_LEN = 16
NONCE_LEN = 12
MIN_PASSPHRASE_LEN = 8
MAX_PASSPHRASE_LEN = 1024
MAX_VAULT_BYTES = 4096
MAX_WAIT_SECONDS = 60
_MASTER_AAD = b"fakturka-vault|v1"


class VaultError(FakturkaError):
    """The vault cannot be used (damaged, unreadable); the sentence says which file and what to do."""


class WrongPassphrase(VaultError):
    """The passphrase did not unlock the data; nothing was changed."""


class TooSoon(VaultError):
    """A try came before the wait after the last wrong passphrase ran out."""

    def __init__(self, message: str, seconds: float):
        super().__init__(message)
        self.seconds = seconds


@dataclass(frozen=True)
class Unlocked:
    """A master key, unwrapped: the keys of one encrypted database come from it."""

    master: bytes = field(repr=False)  # never in a log line or a traceback

    def _derive(self, purpose: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"fakturka|" + purpose).derive(self.master)

    @property
    def database_key(self) -> bytes:
        return self._derive(b"database")

    @property
    def credentials_key(self) -> bytes:
        return self._derive(b"credentials")

    @property
    def vault_id(self) -> str:
        """Names the vault in the credentials key file it wraps (not a secret: a hash of a hash)."""
        return hashlib.sha256(b"fakturka-vault-id" + self.master).hexdigest()[:16]

    @classmethod
    def generate(cls) -> "Unlocked":
        return cls(os.urandom(32))


# What this process has unlocked: the credentials key file is wrapped and unwrapped with it.
session: Unlocked | None = None


def vault_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".vault")


def pending_vault_path(db_path: Path) -> Path:
    """The vault a passphrase change is about to put in place (:mod:`core.store.rekey`)."""
    return db_path.with_name(db_path.name + ".vault.new")


def tries_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".tries")


def has_passphrase(db_path: Path) -> bool:
    """Whether the database at ``db_path`` is (or is becoming) encrypted: a vault stands beside it."""
    return vault_path(db_path).exists() or pending_vault_path(db_path).exists()


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to protect anything, or too long to be typed."""
    passphrase = unicodedata.normalize("NFC", passphrase)  # counted as it is used
    if len(passphrase) < MIN_PASSPHRASE_LEN:
        raise VaultError(Message("A passphrase needs at least {count} characters.", count=MIN_PASSPHRASE_LEN))
    if len(passphrase) > MAX_PASSPHRASE_LEN:
        raise VaultError(Message("A passphrase can have at most {count} characters.", count=MAX_PASSPHRASE_LEN))
    if passphrase != passphrase.strip():
        raise VaultError(Message("A passphrase cannot begin or end with a space."))
    if any(char in passphrase for char in "\r\n\0"):  # a file or --passphrase-fd gives its first line only
        raise VaultError(Message("A passphrase cannot hold a line break."))


def same_passphrase(first: str, second: str) -> bool:
    """Whether two typings are one passphrase, as the key derivation sees them (NFC): for "type it twice"."""
    return unicodedata.normalize("NFC", first) == unicodedata.normalize("NFC", second)


def _kek(passphrase: str, kdf: dict) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt  # here: a plain start never loads it

    if kdf.get("normalize") == "NFC":  # one passphrase however a keyboard or terminal composes it
        passphrase = unicodedata.normalize("NFC", passphrase)
    salt = base64.b64decode(kdf["salt"])
    return Scrypt(salt=salt, length=32, n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])).derive(
        passphrase.encode("utf-8")
    )


def vault_payload(unlocked: Unlocked, passphrase: str) -> bytes:
    """A new vault file's bytes: ``unlocked``'s master key wrapped under ``passphrase`` with a fresh salt."""
    kdf = {
        "name": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "length": 32,
        "salt": base64.b64encode(os.urandom(SALT_LEN)).decode("ascii"),
        "normalize": "NFC",
    }
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(NONCE_LEN)
    wrapped = nonce + AESGCM(_kek(passphrase, kdf)).encrypt(nonce, unlocked.master, _MASTER_AAD)
    document = {"version": VAULT_VERSION, "kdf": kdf, "master": base64.b64encode(wrapped).decode("ascii")}
    return json.dumps(document, indent=1).encode("ascii") + b"\n"


def _damaged(path: Path) -> VaultError:
    return VaultError(
        Message(
            "The passphrase file {path} is damaged; restore it from a backup (the database cannot be read without it).",
            path=path,
        )
    )


def read_vault(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_VAULT_BYTES + 1)
    except OSError as exc:
        raise VaultError(
            Message("Cannot read the passphrase file {path}: {error}.", path=path, error=exc.strerror or str(exc))
        ) from None
    try:
        document = json.loads(data.decode("ascii"))
        kdf = document["kdf"]
        if document["version"] != VAULT_VERSION or kdf["name"] != "scrypt" or len(data) > MAX_VAULT_BYTES:
            raise ValueError
        base64.b64decode(kdf["salt"], validate=True)
        base64.b64decode(document["master"], validate=True)
        for name in ("n", "r", "p"):
            if not isinstance(kdf[name], int) or kdf[name] < 1:
                raise ValueError
        if kdf["n"] > 2**22 or kdf["r"] > 64 or kdf["p"] > 16:  # a planted file must not eat the memory
            raise ValueError
        if 128 * kdf["n"] * kdf["r"] > 2**30:  # scrypt's memory: each bound alone would allow 32 GiB
            raise ValueError
        if kdf.get("normalize", "NFC") != "NFC":  # a form this version does not know: not our file
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise _damaged(path) from None
    return document


def open_vault(path: Path, passphrase: str) -> Unlocked | None:
    """The master key in the vault at ``path``, or None when ``passphrase`` is not its passphrase."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    document = read_vault(path)
    wrapped = base64.b64decode(document["master"])
    try:
        kek = _kek(passphrase, document["kdf"])
        master = AESGCM(kek).decrypt(wrapped[:NONCE_LEN], wrapped[NONCE_LEN:], _MASTER_AAD)
    except InvalidTag:
        return None
    except ValueError:  # scrypt refused the recorded parameters
        raise _damaged(path) from None
    if len(master) != 32:
        raise _damaged(path)
    return Unlocked(master)


# -- a wrong passphrase waits longer each time ------------------------------------------------------


def _read_tries(db_path: Path) -> tuple[int, float]:
    try:
        document = json.loads(tries_path(db_path).read_text("ascii"))
        return int(document["failures"]), float(document["last"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0, 0.0


def wait_after(failures: int) -> int:
    """Seconds a try must wait after ``failures`` wrong passphrases in a row: 0, 1, 2, 4 ... 60."""
    # The exponent is bounded: a damaged count (failures: 10**18) must not make Python compute 2**10**18.
    return 0 if failures <= 0 else min(2 ** (min(failures, 8) - 1), MAX_WAIT_SECONDS)


def seconds_to_wait(db_path: Path, *, clock=time.time) -> float:
    """How long the next try must still wait (0: it may be made now)."""
    failures, last = _read_tries(db_path)
    wait = wait_after(failures)
    # Never longer than the count allows: a clock set back, or a damaged count, must not lock anyone out.
    return min(float(wait), max(0.0, last + wait - clock()))


def _count_failure(db_path: Path, clock) -> int:
    failures = _read_tries(db_path)[0] + 1
    try:
        paths.replace_private_file(
            tries_path(db_path), json.dumps({"failures": failures, "last": clock()}).encode("ascii")
        )
    except OSError:  # a read-only folder: the wait still applies within this process's own tries
        pass
    return failures


def _clear_failures(db_path: Path) -> None:
    try:
        tries_path(db_path).unlink(missing_ok=True)
    except OSError:
        pass


def attempt(db_path: Path, passphrase: str, candidates: list[Path], opens, *, clock=time.time) -> tuple[Path, Unlocked]:
    """Try ``passphrase`` on each vault in ``candidates``; the first whose key ``opens`` the database wins.

    Refuses (TooSoon) a try made before the wait after the last wrong one ran out, and counts a wrong one
    (WrongPassphrase, with the wait it starts in its sentence).
    """
    wait = seconds_to_wait(db_path, clock=clock)
    if wait > 0:
        raise TooSoon(
            Message("Wait {seconds} s before the next try (the last passphrase was wrong).", seconds=int(wait) + 1),
            wait,
        )
    for path in candidates:
        unlocked = open_vault(path, passphrase)
        if unlocked is not None and opens(unlocked.database_key):
            _clear_failures(db_path)
            return path, unlocked
    failures = _count_failure(db_path, clock)
    raise WrongPassphrase(
        Message(
            "That passphrase does not unlock {path}; nothing was changed. The next try can be made in {seconds} s.",
            path=db_path,
            seconds=wait_after(failures),
        )
    )
