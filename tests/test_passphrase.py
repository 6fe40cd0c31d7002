"""The passphrase (issue 18): the database, its view counts and the credentials key encrypted at rest.

With a passphrase set, nothing of the person's data can be read from the files: no client name, invoice
number, bank counterparty or plugin secret in their bytes. A wrong passphrase changes nothing and each
further try waits longer; setting, changing and removing re-key in place and are audited (never the
passphrase itself). Kills in the middle of a re-key: tests/test_passphrase_crash.py.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from core.demo import load_demo
from core.platform.credentials import get_credentials, set_credentials
from core.platform.key_file import read_key_file
from core.platform.sync import run_sync
from core.sharing.views import ViewRecorder, record_view, view_counts, views_path
from core.store import paths, rekey, vault
from core.store.audit_records import AuditRecord
from core.store.audit_verify import verify_audit
from core.store.db import (
    SQLITE_HEADER,
    DatabaseInUse,
    DatabaseOpenError,
    close_database,
    db,
    in_use_path,
    open_database,
    release_in_use,
)
from core.store.models import Client, Invoice, MoneyTransaction, PassphraseEvent
from core.store.unlock import is_encrypted_file, needs_passphrase, unlock, verify
from core.store.vault import TooSoon, VaultError, WrongPassphrase

REPO = Path(__file__).resolve().parent.parent
PASSPHRASE = "correct horse battery"
NEW_PASSPHRASE = "tr0ub4dor & three"
SECRET = "FIO-TOKEN-5b8d0c7e1a2f-plaintext-secret"
FIO = {"token": SECRET}
NEW_CLIENT = "Zephyrine Quokka Holdings"


class Clock:
    """A clock the waits after a wrong passphrase are measured on, moved by hand."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def fresh_process() -> None:
    """What a new process knows: nothing unlocked, no database open."""
    rekey.activate(None)
    close_database()
    release_in_use()


def content() -> dict:
    """What must survive every re-key: the rows a person cares about and a plugin secret."""
    return {
        "clients": sorted(c.name for c in Client.select()),
        "invoices": sorted(i.number for i in Invoice.select() if i.number),
        "counterparties": sorted(m.counterparty for m in MoneyTransaction.select()),
        "credentials": get_credentials("fio"),
        "views": {link: count for link, (count, _last) in view_counts(Path(db.database)).items()},
    }


def markers(snapshot: dict, key_material: bytes) -> list[bytes]:
    """Byte strings that must not be found in any file while the data is encrypted."""
    found = [SECRET.encode(), PASSPHRASE.encode(), NEW_PASSPHRASE.encode()]
    for name in snapshot["clients"]:
        found.append(name.encode("utf-8"))
        found.append(name.split()[0].encode("utf-8"))  # a fragment, as `strings` would show it
    found += [number.encode() for number in snapshot["invoices"]]
    found += [name.encode("utf-8") for name in snapshot["counterparties"] if name]
    found += [key_material, base64.b64encode(key_material)]
    return found


def data_files(home: Path) -> list[Path]:
    """Every file Fakturka keeps in the data folder (the demo's input statement is not its data)."""
    return sorted(p for p in home.rglob("*") if p.is_file() and "demo" not in p.relative_to(home).parts)


def leaks(home: Path, needles: list[bytes]) -> list[tuple[str, bytes]]:
    return [(p.name, needle) for p in data_files(home) for needle in needles if needle in p.read_bytes()]


def digests(db_path: Path) -> dict[str, str]:
    """Hashes of the files a refusal must leave alone (the count of wrong tries is not one of them)."""
    names = [db_path, Path(f"{db_path}-wal"), vault.vault_path(db_path), views_path(db_path), paths.key_path()]
    # An empty -wal is deleted when the last connection closes: that is no change.
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in names if p.exists() and p.stat().st_size}


def reopen(db_path: Path, passphrase: str | None) -> None:
    """Open the database as a new process would, unlocking it with ``passphrase`` when it needs one."""
    fresh_process()
    if passphrase is None:
        assert not needs_passphrase(db_path)
    else:
        assert needs_passphrase(db_path)
        unlock(db_path, passphrase)
    open_database(db_path)


def refused_wrong(db_path: Path, passphrase: str) -> WrongPassphrase:
    with pytest.raises(WrongPassphrase) as info:
        unlock(db_path, passphrase)
    vault.tries_path(db_path).unlink()  # the wait it starts is tested on its own
    return info.value


def every_row_text() -> str:
    tables = [row[0] for row in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return "\n".join(repr(row) for table in tables for row in db.execute_sql(f'SELECT * FROM "{table}"'))


@pytest.fixture(autouse=True)
def no_keys_left():
    """Nothing unlocked before or after a test: the keys live in module globals, as in a process."""
    fresh_process()
    yield
    fresh_process()


@pytest.fixture
def loaded(database):
    """A database with the demo's clients and invoices, a synced bank movement, a plugin secret and a view."""
    load_demo()
    assert run_sync("bank-statement").counts.created > 0
    set_credentials("fio", FIO)
    record_view(database, 1)
    record_view(database, 1)
    snapshot = content()
    assert snapshot["clients"] and snapshot["invoices"] and snapshot["counterparties"]
    assert snapshot["views"] == {1: 2}
    return database, snapshot


# -- set ------------------------------------------------------------------------------------------


def test_set_encrypts_every_file_and_nothing_can_be_read_without_the_passphrase(loaded, fakturka_home):
    db_path, before = loaded
    key_material = read_key_file(paths.key_path()).material
    needles = markers(before, key_material)
    assert leaks(fakturka_home, needles), "the plain files should show the data (the test would prove nothing)"

    rekey.set_passphrase(db_path, PASSPHRASE)

    assert db_path.read_bytes()[:16] != SQLITE_HEADER
    assert views_path(db_path).read_bytes()[:16] != SQLITE_HEADER
    assert is_encrypted_file(db_path)
    assert content() == before  # this process goes on working, unlocked
    # A write while encrypted goes into the -wal, which SQLCipher encrypts as well.
    from core.billing.clients import add_client

    add_client(name=NEW_CLIENT)
    record_view(db_path, 2)
    assert Path(f"{db_path}-wal").stat().st_size > 0
    assert leaks(fakturka_home, needles + [NEW_CLIENT.encode(), b"Zephyrine"]) == []

    document = json.loads(vault.vault_path(db_path).read_text())
    assert document["kdf"]["name"] == "scrypt"
    assert (document["kdf"]["n"], document["kdf"]["r"], document["kdf"]["p"]) == (2**15, 8, 1)
    assert len(base64.b64decode(document["kdf"]["salt"])) == vault.SALT_LEN
    key_document = json.loads(paths.key_path().read_text())
    assert key_document["version"] == 2 and "key" not in key_document
    for created in data_files(fakturka_home):
        assert created.stat().st_mode & 0o077 == 0, created

    fresh_process()
    assert needs_passphrase(db_path)
    with pytest.raises(DatabaseOpenError) as refused:
        open_database(db_path)
    assert "encrypted" in str(refused.value) and "passphrase" in str(refused.value)
    assert leaks(fakturka_home, needles) == []


def test_a_new_process_unlocks_with_the_passphrase_and_reads_everything(loaded):
    db_path, before = loaded
    key_before = read_key_file(paths.key_path()).material
    rekey.set_passphrase(db_path, PASSPHRASE)

    reopen(db_path, PASSPHRASE)

    assert content() == before
    assert read_key_file(paths.key_path()).material == key_before  # the same key, only wrapped
    assert not needs_passphrase(db_path)  # unlocked for this process
    events = list(PassphraseEvent.select().dicts())
    assert [e["action"] for e in events] == ["set"]
    assert verify_audit().clean


def test_the_credentials_key_cannot_be_read_before_the_database_is_unlocked(loaded):
    db_path, _before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    fresh_process()
    with pytest.raises(Exception) as info:
        read_key_file(paths.key_path())
    assert "passphrase" in str(info.value)


def test_the_portal_opens_an_unlocked_database_read_only(loaded):
    db_path, before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    fresh_process()
    unlock(db_path, PASSPHRASE)
    open_database(db_path, read_only=True)
    assert sorted(c.name for c in Client.select()) == before["clients"]
    assert view_counts(db_path)[1][0] == 2
    recorder = ViewRecorder(db_path)  # as the portal counts: one connection, keyed like the database
    recorder.record(1)
    recorder.close()
    assert view_counts(db_path)[1][0] == 3
    assert views_path(db_path).read_bytes()[:16] != SQLITE_HEADER


# -- a wrong passphrase -----------------------------------------------------------------------------


def test_a_wrong_passphrase_is_a_sentence_changes_nothing_and_each_try_waits_longer(loaded):
    db_path, before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    fresh_process()
    files = digests(db_path)
    clock = Clock()

    waits = []
    for expected_wait in (1, 2, 4, 8, 16, 32, 60, 60):
        with pytest.raises(WrongPassphrase) as wrong:
            unlock(db_path, "not the passphrase", clock=clock)
        message = str(wrong.value)
        assert "does not unlock" in message and "nothing was changed" in message, message
        assert f"in {expected_wait} s" in message, message
        assert "not the passphrase" not in message
        # The next try, at once, is refused without even looking at the passphrase (the right one too).
        with pytest.raises(TooSoon) as early:
            unlock(db_path, PASSPHRASE, clock=clock)
        assert early.value.seconds == pytest.approx(expected_wait)
        assert str(early.value).startswith("Wait ")
        clock.now += expected_wait - 0.5
        with pytest.raises(TooSoon):
            unlock(db_path, PASSPHRASE, clock=clock)
        clock.now += 0.5
        waits.append(expected_wait)
        assert digests(db_path) == files
        assert vault.session is None and db.key is None
    assert PASSPHRASE.encode() not in vault.tries_path(db_path).read_bytes()

    unlock(db_path, PASSPHRASE, clock=clock)  # the wait is over: the right one opens, and clears the count
    assert not vault.tries_path(db_path).exists()
    assert vault.seconds_to_wait(db_path, clock=clock) == 0
    open_database(db_path)
    assert content() == before


def test_the_wait_is_shared_by_every_process(loaded):
    db_path, _before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    fresh_process()
    with pytest.raises(WrongPassphrase):
        unlock(db_path, "wrong wrong wrong")
    # Another process (a cron job, the app) must wait too: the count is in a file beside the database.
    check = subprocess.run(
        [sys.executable, "-c", "import sys, pathlib\nfrom core.store.vault import seconds_to_wait\n"
         "print(seconds_to_wait(pathlib.Path(sys.argv[1])))", str(db_path)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    assert 0 < float(check.stdout) <= 1


def test_verify_checks_the_passphrase_of_the_unlocked_database_with_the_same_waits(loaded):
    db_path, _before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    clock = Clock()
    verify(db_path, PASSPHRASE, clock=clock)
    with pytest.raises(WrongPassphrase):
        verify(db_path, NEW_PASSPHRASE, clock=clock)
    with pytest.raises(TooSoon):
        verify(db_path, PASSPHRASE, clock=clock)
    clock.now += 1
    verify(db_path, PASSPHRASE, clock=clock)


# -- change ---------------------------------------------------------------------------------------


def test_change_makes_the_old_passphrase_useless_and_keeps_everything(loaded, fakturka_home):
    db_path, before = loaded
    key_material = read_key_file(paths.key_path()).material
    rekey.set_passphrase(db_path, PASSPHRASE)
    vault_before = vault.vault_path(db_path).read_bytes()

    rekey.change_passphrase(db_path, PASSPHRASE, NEW_PASSPHRASE)

    assert content() == before
    assert vault.vault_path(db_path).read_bytes() != vault_before
    assert not rekey.has_leftovers(db_path)
    fresh_process()
    refused_wrong(db_path, PASSPHRASE)
    reopen(db_path, NEW_PASSPHRASE)
    assert content() == before
    assert read_key_file(paths.key_path()).material == key_material
    assert leaks(fakturka_home, markers(before, key_material)) == []

    assert [e.action for e in PassphraseEvent.select().order_by(PassphraseEvent.id)] == ["set", "changed"]
    records = list(AuditRecord.select().where(AuditRecord.table_name == "passphrase_events"))
    assert [(r.action, r.source) for r in records] == [("create", "passphrase"), ("create", "passphrase")]
    text = every_row_text()
    assert PASSPHRASE not in text and NEW_PASSPHRASE not in text
    report = verify_audit()
    assert report.clean, report.as_dict()


def test_change_with_a_wrong_old_passphrase_changes_nothing(loaded):
    db_path, before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    files = digests(db_path)
    with pytest.raises(WrongPassphrase):
        rekey.change_passphrase(db_path, "not the old one", NEW_PASSPHRASE)
    assert digests(db_path) == files
    assert content() == before
    vault.tries_path(db_path).unlink()
    reopen(db_path, PASSPHRASE)
    assert content() == before


def test_a_too_short_new_passphrase_is_refused_before_anything_is_done(loaded):
    db_path, before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    files = digests(db_path)
    with pytest.raises(VaultError) as info:
        rekey.change_passphrase(db_path, PASSPHRASE, "short")
    assert "at least 8 characters" in str(info.value)
    assert digests(db_path) == files
    assert content() == before


# -- remove ---------------------------------------------------------------------------------------


def test_remove_makes_everything_plain_again_and_it_works_without_a_passphrase(loaded):
    db_path, before = loaded
    key_material = read_key_file(paths.key_path()).material
    rekey.set_passphrase(db_path, PASSPHRASE)
    rekey.change_passphrase(db_path, PASSPHRASE, NEW_PASSPHRASE)

    rekey.remove_passphrase(db_path, NEW_PASSPHRASE)

    assert db_path.read_bytes()[:16] == SQLITE_HEADER
    assert views_path(db_path).read_bytes()[:16] == SQLITE_HEADER
    assert not vault.vault_path(db_path).exists() and not vault.pending_vault_path(db_path).exists()
    assert json.loads(paths.key_path().read_text())["version"] == 1
    assert not rekey.has_leftovers(db_path)
    assert content() == before

    reopen(db_path, None)
    assert db.key is None
    assert content() == before
    assert read_key_file(paths.key_path()).material == key_material
    assert [e.action for e in PassphraseEvent.select().order_by(PassphraseEvent.id)] == ["set", "changed", "removed"]
    assert verify_audit().clean
    from core.billing.clients import add_client

    add_client(name=NEW_CLIENT)
    set_credentials("fio", {"token": "another"})
    assert get_credentials("fio") == {"token": "another"}

    # And a passphrase can be set again.
    rekey.set_passphrase(db_path, PASSPHRASE)
    reopen(db_path, PASSPHRASE)
    assert NEW_CLIENT in content()["clients"]


def test_remove_with_a_wrong_passphrase_changes_nothing(loaded):
    db_path, before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    files = digests(db_path)
    with pytest.raises(WrongPassphrase):
        rekey.remove_passphrase(db_path, NEW_PASSPHRASE)
    assert digests(db_path) == files
    assert vault.vault_path(db_path).exists()


# -- refusals ---------------------------------------------------------------------------------------


def test_set_on_an_encrypted_database_is_refused(loaded):
    db_path, before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    files = digests(db_path)
    with pytest.raises(rekey.RekeyError) as info:
        rekey.set_passphrase(db_path, NEW_PASSPHRASE)
    assert "already has a passphrase" in str(info.value)
    fresh_process()  # locked in a new process: refused as well, without touching the files
    with pytest.raises(rekey.RekeyError):
        rekey.set_passphrase(db_path, NEW_PASSPHRASE)
    assert digests(db_path) == files
    reopen(db_path, PASSPHRASE)
    assert content() == before


def test_change_and_remove_without_a_passphrase_are_refused(loaded):
    db_path, _before = loaded
    files = digests(db_path)
    with pytest.raises(rekey.RekeyError):
        rekey.change_passphrase(db_path, PASSPHRASE, NEW_PASSPHRASE)
    with pytest.raises(rekey.RekeyError):
        rekey.remove_passphrase(db_path, PASSPHRASE)
    assert digests(db_path) == files


@pytest.mark.parametrize(
    ("passphrase", "words"),
    [("", "at least"), ("seven77", "at least"), ("x" * 1025, "at most"), (" leading space", "space")],
)
def test_a_passphrase_that_cannot_protect_anything_is_refused_and_nothing_changes(loaded, passphrase, words):
    db_path, before = loaded
    files = digests(db_path)
    with pytest.raises(VaultError) as info:
        rekey.set_passphrase(db_path, passphrase)
    assert words in str(info.value)
    assert digests(db_path) == files
    assert not vault.has_passphrase(db_path) and not rekey.has_leftovers(db_path)
    assert content() == before


def test_a_re_key_is_refused_while_another_process_has_the_database_open(loaded):
    db_path, before = loaded
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom core.store.db import open_database\nopen_database(sys.argv[1])\n"
         "print('open', flush=True)\ntime.sleep(60)\n", str(db_path)],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        files = digests(db_path)
        with pytest.raises(DatabaseInUse) as info:
            rekey.set_passphrase(db_path, PASSPHRASE)
        assert "Nothing was changed" in str(info.value)
        assert digests(db_path) == files
        assert not vault.has_passphrase(db_path) and not rekey.has_leftovers(db_path)
        assert content() == before  # this process goes on working
    finally:
        holder.kill()
        holder.wait()
    rekey.set_passphrase(db_path, PASSPHRASE)  # once it is gone
    reopen(db_path, PASSPHRASE)
    assert content() == before


def test_a_change_is_refused_while_another_holder_has_the_in_use_lock(loaded):
    db_path, before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    files = digests(db_path)
    fd = os.open(in_use_path(db_path), os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        with pytest.raises(DatabaseInUse):
            rekey.change_passphrase(db_path, PASSPHRASE, NEW_PASSPHRASE)
        with pytest.raises(DatabaseInUse):
            rekey.remove_passphrase(db_path, PASSPHRASE)
    finally:
        os.close(fd)
    assert digests(db_path) == files
    assert content() == before
    reopen(db_path, PASSPHRASE)


def test_an_encrypted_database_without_its_vault_says_which_file_is_missing(loaded):
    db_path, _before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    fresh_process()
    vault.vault_path(db_path).unlink()
    before = hashlib.sha256(db_path.read_bytes()).hexdigest()
    assert not needs_passphrase(db_path)  # nothing to unlock it with: opening it must say why
    with pytest.raises(DatabaseOpenError) as info:
        open_database(db_path)
    assert f"its passphrase file {vault.vault_path(db_path)} is missing" in str(info.value)
    assert hashlib.sha256(db_path.read_bytes()).hexdigest() == before


def test_without_a_passphrase_everything_is_as_before(database):
    assert not needs_passphrase(database)
    assert db.key is None and vault.session is None
    assert not vault.has_passphrase(database)
    assert database.read_bytes()[:16] == SQLITE_HEADER
    set_credentials("fio", FIO)
    assert json.loads(paths.key_path().read_text())["version"] == 1
    assert type(db.connection()).__module__.startswith("sqlite3")  # Python's own driver, not SQLCipher's


def test_a_passphrase_with_a_line_break_is_refused(loaded):
    """A file or --passphrase-fd gives only its first line: such a passphrase could never be given there."""
    db_path, _before = loaded
    for passphrase in ("first line\nsecond line", "carriage\rreturn", "nul\0inside it"):
        with pytest.raises(VaultError) as info:
            rekey.set_passphrase(db_path, passphrase)
        assert "line break" in str(info.value)
    assert not vault.has_passphrase(db_path)


def test_a_damaged_count_of_wrong_tries_never_waits_longer_than_a_minute(loaded):
    db_path, _before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    fresh_process()
    clock = Clock()
    tries = vault.tries_path(db_path)
    for failures, last in [(10**18, clock.now), (3, clock.now + 10**9), (2, float("nan")), (5, 1e308)]:
        tries.write_text(json.dumps({"failures": failures, "last": last}))
        assert 0 <= vault.seconds_to_wait(db_path, clock=clock) <= vault.MAX_WAIT_SECONDS
    # A clock set back an hour after a wrong try: the wait is still the count's, not an hour more.
    tries.write_text(json.dumps({"failures": 1, "last": clock.now + 3600}))
    assert vault.seconds_to_wait(db_path, clock=clock) == 1
    clock.now += 3600 + 1
    unlock(db_path, PASSPHRASE, clock=clock)


@pytest.mark.parametrize(
    "kdf",
    [
        {"n": 2**22, "r": 64, "p": 1},  # 32 GiB of scrypt memory
        {"n": 2**21, "r": 8, "p": 1},  # 2 GiB
        {"n": 2**15, "r": 8, "p": 17},
        {"n": 3, "r": 8, "p": 1},  # not a power of two
        {"n": 2**15, "r": 0, "p": 1},
    ],
)
def test_a_vault_with_planted_parameters_is_named_damaged_without_running_them(loaded, kdf):
    db_path, _before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    fresh_process()
    path = vault.vault_path(db_path)
    document = json.loads(path.read_text())
    document["kdf"].update(kdf)
    path.write_text(json.dumps(document))
    with pytest.raises(VaultError) as info:
        unlock(db_path, PASSPHRASE)
    assert not isinstance(info.value, WrongPassphrase)
    assert "damaged" in str(info.value) and "restore it from a backup" in str(info.value)


# "Příliš žluťoučký kůň": one keyboard sends "ř" as one character, another as "r" and a combining caron.
COMPOSED = unicodedata.normalize("NFC", "Příliš žluťoučký kůň")
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


@pytest.mark.parametrize(("set_as", "typed"), [(COMPOSED, DECOMPOSED), (DECOMPOSED, COMPOSED)])
def test_a_passphrase_is_the_same_however_its_accents_are_composed(loaded, set_as, typed):
    db_path, before = loaded
    assert set_as != typed
    rekey.set_passphrase(db_path, set_as)
    assert json.loads(vault.vault_path(db_path).read_text())["kdf"]["normalize"] == "NFC"
    reopen(db_path, typed)
    assert content() == before


def test_a_vault_without_a_normal_form_takes_the_passphrase_as_typed(loaded):
    # The form written before vaults recorded "normalize": the bytes as typed, nothing else.
    db_path, _before = loaded
    unlocked = vault.Unlocked.generate()
    document = json.loads(vault.vault_payload(unlocked, COMPOSED))  # wrapped under the composed bytes
    del document["kdf"]["normalize"]
    path = db_path.with_name("old-form.vault")
    path.write_text(json.dumps(document))
    assert vault.open_vault(path, DECOMPOSED) is None
    assert vault.open_vault(path, COMPOSED).master == unlocked.master


def test_a_vault_naming_a_normal_form_this_version_does_not_know_is_damaged(loaded):
    db_path, _before = loaded
    rekey.set_passphrase(db_path, PASSPHRASE)
    fresh_process()
    path = vault.vault_path(db_path)
    document = json.loads(path.read_text())
    document["kdf"]["normalize"] = "NFKD"
    path.write_text(json.dumps(document))
    with pytest.raises(VaultError) as info:
        unlock(db_path, PASSPHRASE)
    assert not isinstance(info.value, WrongPassphrase)
    assert "damaged" in str(info.value)


def test_a_plain_backup_restored_over_an_encrypted_database_keeps_the_vault_the_key_needs(loaded, tmp_path):
    db_path, before = loaded
    close_database()
    backup = tmp_path / "backup.db"
    backup.write_bytes(db_path.read_bytes())
    open_database(db_path)
    rekey.set_passphrase(db_path, PASSPHRASE)
    fresh_process()
    os.replace(backup, db_path)  # the person restores last week's plain copy
    assert not needs_passphrase(db_path)
    assert vault.vault_path(db_path).exists()  # the credentials key is still wrapped by it: kept
    assert json.loads(paths.key_path().read_text())["version"] == 2
