"""Encrypted plugin credentials (DESIGN.md, "Credentials").

AES-256-GCM blobs in plugin_configurations.credentials, under a key kept in a
0600 file next to (never inside) the database. A blob that cannot be
decrypted is reported by plugin name and never deleted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import mode

from core.platform import credentials
from core.platform.credentials import (
    decrypt,
    encrypt,
    get_credentials,
    load_keyring,
    set_credentials,
)
from core.platform.key_file import CredentialError, Key, read_key_file, write_key_file
from core.platform.key_rotation import rotate_key
from core.store import paths
from core.store.audit import AuditRecord
from core.store.db import db
from core.store.models import PluginConfiguration

pytestmark = pytest.mark.usefixtures("database")

SECRET = "FIO-TOKEN-7c1e0b9a4d2f-plaintext-secret"
FIO = {"token": SECRET}
AIRBANK = {"username": "jana", "password": "correct horse battery staple"}


def key_file() -> Path:
    return paths.key_path()


def pending_file() -> Path:
    return key_file().with_name(key_file().name + ".new")


def stored_blob(plugin: str) -> bytes | None:
    row = db.execute_sql("SELECT credentials FROM plugin_configurations WHERE plugin_name = ?", (plugin,)).fetchone()
    assert row is not None, plugin
    return None if row[0] is None else bytes(row[0])


def put_blob(plugin: str, blob: bytes) -> None:
    """Test set-up only: overwrite a stored blob with raw SQL (no audit)."""
    cursor = db.execute_sql("UPDATE plugin_configurations SET credentials = ? WHERE plugin_name = ?", (blob, plugin))
    assert cursor.rowcount == 1


def flip(blob: bytes, index: int) -> bytes:
    data = bytearray(blob)
    data[index] ^= 0x01
    return bytes(data)


def assert_undecryptable(plugin: str, blob: bytes, *, match: str = "") -> CredentialError:
    with pytest.raises(CredentialError) as info:
        get_credentials(plugin)
    message = str(info.value)
    assert message.startswith(f"credentials for {plugin} cannot be decrypted"), message
    assert match in message
    assert "Traceback" not in message
    # The stored blob is never deleted or changed by a failed read.
    assert stored_blob(plugin) == blob
    return info.value


# -- round trip -----------------------------------------------------------------------


def test_round_trip():
    set_credentials("fio", FIO)
    set_credentials("airbank", AIRBANK)
    assert get_credentials("fio") == FIO
    assert get_credentials("airbank") == AIRBANK
    blob = stored_blob("fio")
    assert blob[0] == credentials.BLOB_VERSION
    assert SECRET.encode() not in blob


def test_overwrite_and_clear():
    set_credentials("fio", FIO)
    first = stored_blob("fio")
    set_credentials("fio", FIO)
    # A fresh nonce per write: the same secrets never give the same bytes.
    assert stored_blob("fio") != first
    set_credentials("fio", {"token": "other"})
    assert get_credentials("fio") == {"token": "other"}
    set_credentials("fio", {})
    assert stored_blob("fio") is None
    assert get_credentials("fio") == {}


def test_unknown_plugin_has_no_credentials():
    assert get_credentials("nobody") == {}
    PluginConfiguration.create(plugin_name="bare")
    assert get_credentials("bare") == {}


def test_set_credentials_keeps_the_rest_of_the_configuration():
    PluginConfiguration.create(plugin_name="fio", enabled=True, settings={"account": "2900"}, state={"cursor": 5})
    set_credentials("fio", FIO)
    row = PluginConfiguration.get(PluginConfiguration.plugin_name == "fio")
    assert (row.enabled, row.settings, row.state) == (True, {"account": "2900"}, {"cursor": 5})
    assert PluginConfiguration.select().count() == 1


# -- what cannot be decrypted is reported, and kept ----------------------------------------


@pytest.mark.parametrize(
    "index, match",
    [
        (0, "damaged"),  # blob version
        (3, "different key"),  # key id
        (1 + credentials.KEY_ID_LEN + 2, "altered"),  # nonce
        (1 + credentials.KEY_ID_LEN + credentials.NONCE_LEN + 1, "altered"),  # ciphertext
        (-1, "altered"),  # GCM tag
    ],
    ids=["version", "key-id", "nonce", "ciphertext", "tag"],
)
def test_tampered_blob_is_refused_and_kept(index, match):
    set_credentials("fio", FIO)
    tampered = flip(stored_blob("fio"), index)
    put_blob("fio", tampered)
    assert_undecryptable("fio", tampered, match=match)


def test_truncated_blob_is_refused_and_kept():
    set_credentials("fio", FIO)
    short = stored_blob("fio")[:20]
    put_blob("fio", short)
    assert_undecryptable("fio", short, match="damaged")


def test_blob_copied_to_another_plugin_is_refused():
    set_credentials("fio", FIO)
    set_credentials("airbank", AIRBANK)
    fio_blob = stored_blob("fio")
    put_blob("airbank", fio_blob)
    assert_undecryptable("airbank", fio_blob, match="another plugin")
    assert get_credentials("fio") == FIO  # the original is still fine


def test_missing_key_file_is_reported():
    set_credentials("fio", FIO)
    blob = stored_blob("fio")
    key_file().unlink()
    assert_undecryptable("fio", blob, match="missing")
    assert not key_file().exists()  # reading never invents a key


def test_wrong_key_is_reported():
    set_credentials("fio", FIO)
    blob = stored_blob("fio")
    key_file().unlink()
    write_key_file(key_file(), Key.generate())
    assert mode(key_file()) == 0o600
    assert_undecryptable("fio", blob, match="different key")


@pytest.mark.parametrize(
    "garbage",
    [
        b"\x00\xff garbage \x13\x37",
        b"not json at all\n",
        json.dumps({"version": 1, "key": "c2hvcnQ="}).encode(),  # 5 bytes, not 32
        json.dumps({"version": 1}).encode(),
        b"",
    ],
    ids=["binary", "text", "short-key", "no-key", "empty"],
)
def test_damaged_key_file_is_reported(garbage):
    set_credentials("fio", FIO)
    blob = stored_blob("fio")
    key_file().write_bytes(garbage)
    os.chmod(key_file(), 0o600)
    assert_undecryptable("fio", blob, match="damaged")
    # Saving is refused too, rather than replacing the key or the blob.
    with pytest.raises(CredentialError, match="credentials for fio cannot be saved"):
        set_credentials("fio", {"token": "new"})
    assert stored_blob("fio") == blob
    assert key_file().read_bytes() == garbage


# -- key file and data directory permissions ---------------------------------------------------


def test_key_file_is_0600_and_data_dir_0700(fakturka_home):
    old_umask = os.umask(0)  # even a permissive umask must not widen them
    try:
        assert not key_file().exists()
        set_credentials("fio", FIO)
    finally:
        os.umask(old_umask)
    assert key_file().parent == fakturka_home
    assert mode(key_file()) == 0o600
    assert mode(fakturka_home) == 0o700
    assert len(read_key_file(key_file()).material) == 32


def test_key_file_readable_by_others_is_refused():
    set_credentials("fio", FIO)
    blob = stored_blob("fio")
    os.chmod(key_file(), 0o644)
    error = assert_undecryptable("fio", blob)
    assert "chmod 600" in str(error)
    with pytest.raises(CredentialError, match="chmod 600"):
        set_credentials("airbank", AIRBANK)
    with pytest.raises(CredentialError, match="chmod 600"):
        read_key_file(key_file())
    assert mode(key_file()) == 0o644  # we tell, we do not fix it behind their back
    os.chmod(key_file(), 0o600)
    assert get_credentials("fio") == FIO


def test_write_key_file_never_overwrites():
    set_credentials("fio", FIO)
    content = key_file().read_bytes()
    with pytest.raises(FileExistsError):
        write_key_file(key_file(), Key.generate())
    assert key_file().read_bytes() == content


def test_key_is_never_inside_the_database(database):
    set_credentials("fio", FIO)
    material = read_key_file(key_file()).material
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert material not in Path(database).read_bytes()
    assert key_file().parent == Path(database).parent  # beside it, in the private data dir


# -- the plaintext never reaches disk ------------------------------------------------------------


def _file_bytes(database: Path) -> dict[str, bytes]:
    found = {}
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(database) + suffix)
        found[suffix or "db"] = p.read_bytes() if p.exists() else b""
    return found


def test_plaintext_is_not_in_the_database_files(database):
    marker = "VISIBLE-SETTINGS-MARKER-5e6f"
    PluginConfiguration.create(plugin_name="fio", settings={"note": marker})
    set_credentials("fio", FIO)
    set_credentials("airbank", AIRBANK)
    set_credentials("fio", {"token": SECRET, "account": "2900123456"})
    needles = [SECRET.encode(), AIRBANK["password"].encode(), SECRET.encode("utf-16-le")]

    before = _file_bytes(database)
    # Positive control: what was written is visible in the files we read.
    assert marker.encode() in before["db"] + before["-wal"]
    assert before["-wal"], "the writes should sit in the WAL before a checkpoint"
    for name, data in before.items():
        for needle in needles:
            assert needle not in data, f"secret found in {name} before checkpoint"

    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    after = _file_bytes(database)
    assert marker.encode() in after["db"]
    for name, data in after.items():
        for needle in needles:
            assert needle not in data, f"secret found in {name} after checkpoint"

    changes = " ".join(r.changes.__repr__() for r in AuditRecord.select())
    assert SECRET not in changes and AIRBANK["password"] not in changes


# -- key rotation ----------------------------------------------------------------------------------


def _blobs() -> dict[str, bytes]:
    return {
        name: bytes(blob)
        for name, blob in db.execute_sql(
            "SELECT plugin_name, credentials FROM plugin_configurations WHERE credentials IS NOT NULL"
        ).fetchall()
    }


def test_rotate_key_re_encrypts_every_row():
    set_credentials("fio", FIO)
    set_credentials("airbank", AIRBANK)
    PluginConfiguration.create(plugin_name="no-secrets")
    old_key_bytes = key_file().read_bytes()
    old_key = read_key_file(key_file())
    old_blobs = _blobs()

    assert rotate_key() == 2

    new_key = read_key_file(key_file())
    assert key_file().read_bytes() != old_key_bytes
    assert new_key.key_id != old_key.key_id
    assert mode(key_file()) == 0o600
    assert not pending_file().exists()
    new_blobs = _blobs()
    assert set(new_blobs) == {"fio", "airbank"}
    for name in new_blobs:
        assert new_blobs[name] != old_blobs[name]
        assert credentials.blob_key_id(new_blobs[name]) == new_key.key_id
    assert get_credentials("fio") == FIO
    assert get_credentials("airbank") == AIRBANK
    # The old key no longer opens anything.
    with pytest.raises(CredentialError):
        decrypt("fio", new_blobs["fio"], [old_key])
    assert stored_blob("no-secrets") is None


def test_rotate_key_is_audited_without_secrets():
    set_credentials("fio", FIO)
    mark = db.execute_sql("SELECT max(id) FROM audit_records").fetchone()[0]
    rotate_key()
    recs = list(AuditRecord.select().where(AuditRecord.id > mark))
    assert [(r.table_name, r.action, r.changes) for r in recs] == [
        ("plugin_configurations", "update", {"credentials": ["***", "***"]}),
    ]


def test_rotate_key_with_nothing_stored():
    assert rotate_key() == 0
    assert mode(key_file()) == 0o600
    set_credentials("fio", FIO)
    assert get_credentials("fio") == FIO


def test_rotate_key_refuses_when_a_blob_cannot_be_decrypted():
    set_credentials("fio", FIO)
    set_credentials("airbank", AIRBANK)
    put_blob("airbank", flip(stored_blob("airbank"), -1))
    key_bytes, blobs = key_file().read_bytes(), _blobs()

    with pytest.raises(CredentialError, match="credentials for airbank cannot be decrypted"):
        rotate_key()

    assert key_file().read_bytes() == key_bytes
    assert _blobs() == blobs
    assert not pending_file().exists()
    assert get_credentials("fio") == FIO


def test_rotate_key_is_one_transaction(monkeypatch):
    """A failure while re-encrypting the second row leaves the first one untouched."""
    set_credentials("airbank", AIRBANK)
    set_credentials("fio", FIO)
    key_bytes, blobs = key_file().read_bytes(), _blobs()
    audit_before = AuditRecord.select().count()
    real_encrypt = credentials.encrypt
    calls = []

    def failing_encrypt(plugin_name, secrets, key):
        calls.append(plugin_name)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real_encrypt(plugin_name, secrets, key)

    with monkeypatch.context() as patch:
        patch.setattr(credentials, "encrypt", failing_encrypt)
        with pytest.raises(RuntimeError, match="disk on fire"):
            rotate_key()

    assert len(calls) == 2  # the first row had been re-encrypted in the transaction
    assert _blobs() == blobs
    assert key_file().read_bytes() == key_bytes
    assert not pending_file().exists()
    assert AuditRecord.select().count() == audit_before
    assert get_credentials("fio") == FIO and get_credentials("airbank") == AIRBANK


def test_rotate_key_refuses_without_a_key_file():
    set_credentials("fio", FIO)
    blobs = _blobs()
    key_file().unlink()
    with pytest.raises(CredentialError):
        rotate_key()
    assert _blobs() == blobs
    assert not key_file().exists() and not pending_file().exists()


# -- an interrupted rotation is finished or discarded on the next start ------------------------------


def _simulate_committed_rotation() -> Key:
    """The process died after the re-encryption committed, before the rename."""
    plain = {"fio": get_credentials("fio"), "airbank": get_credentials("airbank")}
    new_key = Key.generate()
    write_key_file(pending_file(), new_key)
    with db.atomic():
        for name, secrets in plain.items():
            put_blob(name, encrypt(name, secrets, new_key))
    return new_key


def test_load_keyring_finishes_a_committed_rotation():
    set_credentials("fio", FIO)
    set_credentials("airbank", AIRBANK)
    new_key = _simulate_committed_rotation()
    pending_bytes = pending_file().read_bytes()

    keys = load_keyring()

    assert keys == [new_key]
    assert not pending_file().exists()
    assert key_file().read_bytes() == pending_bytes
    assert mode(key_file()) == 0o600
    assert get_credentials("fio") == FIO
    assert get_credentials("airbank") == AIRBANK


def test_get_credentials_finishes_a_committed_rotation():
    set_credentials("fio", FIO)
    set_credentials("airbank", AIRBANK)
    new_key = _simulate_committed_rotation()
    assert get_credentials("fio") == FIO
    assert read_key_file(key_file()) == new_key
    assert not pending_file().exists()


def test_set_credentials_after_a_committed_rotation_uses_the_new_key():
    """Saving first thing after the crash must not encrypt under the key being retired."""
    set_credentials("fio", FIO)
    set_credentials("airbank", AIRBANK)
    new_key = _simulate_committed_rotation()

    set_credentials("csob", {"token": "csob-secret"})

    assert credentials.blob_key_id(stored_blob("csob")) == new_key.key_id
    assert get_credentials("csob") == {"token": "csob-secret"}
    assert get_credentials("fio") == FIO
    assert get_credentials("airbank") == AIRBANK
    assert read_key_file(key_file()) == new_key
    assert not pending_file().exists()


def test_load_keyring_discards_an_uncommitted_rotation():
    set_credentials("fio", FIO)
    old_key_bytes = key_file().read_bytes()
    old_key = read_key_file(key_file())
    blobs = _blobs()
    write_key_file(pending_file(), Key.generate())  # died before the transaction committed

    assert load_keyring() == [old_key]

    assert not pending_file().exists()
    assert key_file().read_bytes() == old_key_bytes
    assert _blobs() == blobs
    assert get_credentials("fio") == FIO


def test_rotation_after_an_uncommitted_one_works():
    set_credentials("fio", FIO)
    write_key_file(pending_file(), Key.generate())
    assert rotate_key() == 1
    assert not pending_file().exists()
    assert get_credentials("fio") == FIO
