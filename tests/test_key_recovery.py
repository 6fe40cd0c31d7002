"""Key files recover (issue 14, point 3 and part of 12).

A rotation that a full disk, Ctrl-C or a kill interrupts at any step leaves
every credential readable, and its leftovers are finished or discarded at
the next use with a sentence. A damaged, missing or out-of-place key file
leads to ``fakturka keys reset`` (named in every message about it), after
which re-entering the secrets works and the Fio plugin syncs again against
the local fake server (tests/fio_server.py).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fio_server import TOKEN, FioServer
from helpers import mode, notifications

from core.platform import credentials as creds
from core.platform.key_file import CredentialError, Key, read_key_file, write_key_file
from core.plugins import use_plugins
from core.plugins.fio import FioPlugin
from core.store import paths
from core.store.audit import AuditRecord
from core.store.models import PluginConfiguration, SyncHistory

pytestmark = pytest.mark.usefixtures("database")

REPO = Path(__file__).resolve().parent.parent
SECRETS = {"fio": {"token": "fio-secret-4b1d"}, "airbank": {"password": "correct horse"}}
RESET = "fakturka keys reset"


def key_file() -> Path:
    return paths.key_path()


def pending_file() -> Path:
    return key_file().with_name(key_file().name + ".new")


def leftovers() -> list[str]:
    """What an interrupted rotation could leave beside the key file (the lock file is not a leftover)."""
    return sorted(p.name for p in key_file().parent.iterdir() if p.name.endswith((".new", ".tmp")))


def store_secrets() -> None:
    for name, secrets in SECRETS.items():
        creds.set_credentials(name, secrets)


def assert_all_readable() -> None:
    for name, secrets in SECRETS.items():
        assert creds.get_credentials(name) == secrets


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# -- a full disk or Ctrl-C at each write step of `keys rotate` -----------------------------------


class StepFaults:
    """Counts a rotation's write steps (file writes, fsyncs, renames, row saves) and fails the chosen one."""

    def __init__(self, monkeypatch, error: BaseException):
        self.error = error
        self.armed = False
        self.fail_at: int | None = None
        self.steps: list[str] = []
        for name in ("write", "fsync", "replace"):
            monkeypatch.setattr(os, name, self._wrap(f"os.{name}", getattr(os, name)))
        monkeypatch.setattr(PluginConfiguration, "save", self._wrap("save row", PluginConfiguration.save))

    def _wrap(self, label: str, real):
        def step(*args, **kwargs):
            if self.armed:
                self.steps.append(label)
                if len(self.steps) == self.fail_at:
                    raise self.error
            return real(*args, **kwargs)

        return step

    def run(self, cli, fail_at: int | None) -> tuple[int, str, str]:
        self.steps, self.fail_at, self.armed = [], fail_at, True
        try:
            return cli("keys", "rotate")
        finally:
            self.armed = False


ROTATION_STEPS = [
    "os.write",  # the new key into a temporary file
    "os.fsync",
    "os.replace",  # ... renamed to credentials.key.new
    "os.fsync",  # the folder, so the rename survives a crash before the commit
    "save row",  # airbank re-encrypted
    "save row",  # fio re-encrypted; then the commit
    "os.replace",  # credentials.key.new renamed over credentials.key
    "os.fsync",
]


@pytest.mark.parametrize(
    "error",
    [OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), KeyboardInterrupt()],
    ids=["full-disk", "ctrl-c"],
)
def test_a_failure_at_each_write_step_of_a_rotation_leaves_every_credential_readable(cli, monkeypatch, error):
    store_secrets()
    faults = StepFaults(monkeypatch, error)
    assert faults.run(cli, fail_at=None)[0] == 0
    assert faults.steps == ROTATION_STEPS

    for step in range(1, len(ROTATION_STEPS) + 1):
        key_before = key_file().read_bytes()
        code, out, err = faults.run(cli, fail_at=step)
        assert faults.steps[step - 1] == ROTATION_STEPS[step - 1]
        if isinstance(error, KeyboardInterrupt):
            assert code == 130, err
        elif code != 0:  # a failed rename or fsync after the commit is retried at once, and then succeeds
            assert code == 1 and "No space left on device" in one_line(err), err
        assert_all_readable()  # the next use finishes what the failure left
        assert leftovers() == [], f"step {step}"
        assert mode(key_file()) == 0o600
        changed = key_file().read_bytes() != key_before
        assert changed == (step >= 7), f"step {step}: the key changes only once the rows are committed"

    code, out, err = cli("keys", "rotate")
    assert (code, err) == (0, "") and "Re-encrypted 2 credential set(s)" in out
    assert_all_readable()


def test_a_full_disk_while_writing_the_new_key_says_nothing_changed(cli, monkeypatch):
    store_secrets()
    blobs_before = [bytes(r.credentials) for r in PluginConfiguration.select().order_by(PluginConfiguration.id)]
    faults = StepFaults(monkeypatch, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    code, out, err = faults.run(cli, fail_at=1)
    assert code == 1
    assert one_line(err) == (
        "fakturka: cannot rotate the credential key: writing a key file failed (No space left on device); "
        f"nothing was changed and {key_file()} still holds the key"
    )
    assert leftovers() == []  # the temporary file was removed at once
    assert [bytes(r.credentials) for r in PluginConfiguration.select().order_by(PluginConfiguration.id)] == (
        blobs_before
    )


def test_a_rename_that_fails_after_the_commit_is_finished_at_the_next_use(cli, monkeypatch, caplog):
    store_secrets()
    real_replace = os.replace

    def replace(src, dst):
        if str(src).endswith(".new"):  # the rename over credentials.key (and the retry right after it)
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return real_replace(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", replace)
        code, out, err = cli("keys", "rotate")
    assert code == 1
    assert one_line(err) == (
        "fakturka: the credentials were re-encrypted under a new key, but it could not be moved to "
        f"{key_file()} (Input/output error); it is kept in {pending_file()} and put in place at the next start"
    )
    assert leftovers() == ["credentials.key.new"]
    new_key = read_key_file(pending_file())

    assert_all_readable()

    assert read_key_file(key_file()) == new_key and leftovers() == []
    assert "An interrupted key rotation had already re-encrypted the credentials; it was completed" in caplog.text


# -- a kill at each step, then the next start ---------------------------------------------------

KILLED_ROTATION = """
import os, signal, sys
from core.platform import key_rotation
from core.store.db import db, open_database
from core.store.models import PluginConfiguration

kill_at, seen = int(sys.argv[1]), []


def step(label, real):
    def run(*args, **kwargs):
        seen.append(label)
        if len(seen) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return run


open_database()
for name in ("write", "fsync", "replace"):
    setattr(os, name, step("os." + name, getattr(os, name)))
PluginConfiguration.save = step("save row", PluginConfiguration.save)
db.commit = step("commit", db.commit)
key_rotation.rotate_key()
print(",".join(seen))
"""

KILL_POINTS = ROTATION_STEPS[:6] + ["commit"] + ROTATION_STEPS[6:]


def rotate_in_a_process_killed_at(step: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", KILLED_ROTATION, str(step)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_kill_at_each_step_of_a_rotation_is_settled_at_the_next_start():
    store_secrets()
    finished = rotate_in_a_process_killed_at(0)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip().split(",") == KILL_POINTS

    for step in range(1, len(KILL_POINTS) + 1):
        key_before = key_file().read_bytes()
        killed = rotate_in_a_process_killed_at(step)
        assert killed.returncode == -signal.SIGKILL, (step, killed.stderr)
        left = leftovers()

        notice = creds.recover_interrupted_rotation()  # what the next start does first

        assert (notice is not None) == bool(left), (step, left, notice)
        if notice:
            assert notice.startswith("An interrupted key rotation")
        assert leftovers() == []
        assert_all_readable()
        committed = KILL_POINTS.index("commit") + 1 < step
        assert (key_file().read_bytes() != key_before) == committed, step


# -- the case: an empty credentials.key.new, then Fio syncs again ----------------------------


@pytest.fixture
def server(monkeypatch):
    with FioServer() as running:
        # Fio's 30-second rule runs on the server's clock: the plugin's waits advance it instead of sleeping.
        monkeypatch.setattr(FioPlugin, "sleep", lambda self, seconds: running.clock.advance(seconds))
        use_plugins(None)
        yield running
    use_plugins(None)


def configure_fio(cli, server, token: str = TOKEN) -> None:
    code, out, err = cli(
        "plugins",
        "configure",
        "fio",
        "--set",
        f"base_url={server.base_url}",
        "--set",
        "timeout=5",
        "--secret",
        "token",
        stdin=token + "\n",
    )
    assert (code, err) == (0, ""), err


def sync_fio(cli, server, *, notice: str = "") -> None:
    runs = SyncHistory.select().count()
    code, out, err = cli("sync", "fio")
    assert code == 0, err
    assert (one_line(err) if notice else err) == notice, err
    assert SyncHistory.select().count() == runs + 1
    assert SyncHistory.select().order_by(SyncHistory.id.desc()).first().status == "completed"
    assert server.requests[-1].token == TOKEN


def test_an_empty_new_key_file_is_discarded_at_the_next_start_and_fio_syncs_again(cli, server):
    configure_fio(cli, server)
    assert cli("plugins", "enable", "fio")[0] == 0
    sync_fio(cli, server)
    key_before = key_file().read_bytes()
    paths.create_private_file(pending_file())  # what a full disk during the old rotation left

    # The next command settles it first and says so on stderr, then does its work.
    sync_fio(
        cli,
        server,
        notice="fakturka: An interrupted key rotation left an unfinished new key file (credentials.key.new); "
        f"it was removed and {key_file()} is kept.",
    )

    assert leftovers() == []
    assert key_file().read_bytes() == key_before
    # Re-entering the secret and rotating again work too.
    configure_fio(cli, server)
    code, out, err = cli("keys", "rotate")
    assert (code, err) == (0, "") and "Re-encrypted 1 credential set(s)" in out
    sync_fio(cli, server)


def test_keys_rotate_says_what_it_did_with_a_leftover(cli):
    store_secrets()
    (key_file().parent / ".credentials.key.abc123.tmp").write_bytes(b'{"vers')  # a writer killed mid-write
    code, out, err = cli("keys", "rotate")
    assert code == 0
    assert one_line(err) == "fakturka: An interrupted key rotation left a half-written key file; it was removed."
    assert leftovers() == []
    assert_all_readable()


# -- a damaged key file leads to `fakturka keys reset` ---------------------------------------------


def test_a_damaged_key_file_names_keys_reset_and_a_reset_brings_fio_back(cli, server):
    configure_fio(cli, server)
    assert cli("plugins", "enable", "fio")[0] == 0
    sync_fio(cli, server)
    fio_row = PluginConfiguration.get(PluginConfiguration.plugin_name == "fio")
    settings, state = fio_row.settings, fio_row.state
    key_file().write_bytes(b'{"version": 1, "key": "trunc')

    for argv, stdin in (
        (("sync", "fio"), ""),
        (("plugins", "configure", "fio", "--secret", "token"), TOKEN + "\n"),
        (("keys", "rotate"), ""),
    ):
        code, out, err = cli(*argv, stdin=stdin)
        line = one_line(err)
        assert code == 1 and "is damaged" in line and RESET in line, (argv, line)
    listed = {s["name"]: s for s in json.loads(cli("plugins", "--json")[1])}
    assert listed["fio"]["missing"] == [] and listed["fio"]["configured"] is False
    assert listed["fio"]["problem"].startswith("secrets stored but unreadable (cannot be decrypted: the key file")
    assert RESET in listed["fio"]["problem"]
    assert "missing token" not in cli("plugins")[1]

    code, out, err = cli("keys", "reset")  # no terminal, no --yes: asks for it, changes nothing
    assert code == 1 and "Re-run with --yes" in one_line(err)
    assert PluginConfiguration.get(PluginConfiguration.plugin_name == "fio").credentials is not None

    audit_mark = AuditRecord.select().count()
    code, out, err = cli("keys", "reset", "--yes")
    assert (code, err) == (0, ""), err
    assert f"Made a new credential key in {key_file()}." in out
    assert "Removed the stored secrets of fio" in out
    assert "  fakturka plugins configure fio --secret token" in out
    assert mode(key_file()) == 0o600
    row = PluginConfiguration.get(PluginConfiguration.plugin_name == "fio")
    assert (row.credentials, row.settings, row.state, row.enabled) == (None, settings, state, True)
    audit = list(AuditRecord.select().where(AuditRecord.id > audit_mark))
    assert [(r.table_name, r.action, r.source, r.changes) for r in audit] == [
        ("plugin_configurations", "update", "keys reset", {"credentials": ["***", None]})
    ]
    assert TOKEN not in json.dumps([r.changes for r in AuditRecord.select()])

    listed = {s["name"]: s for s in json.loads(cli("plugins", "--json")[1])}
    assert listed["fio"]["missing"] == ["token"]  # now it really is missing
    configure_fio(cli, server)
    sync_fio(cli, server)


def test_a_key_file_that_does_not_match_is_named_in_the_status(cli):
    store_secrets()
    key_file().unlink()
    write_key_file(key_file(), Key.generate())
    with pytest.raises(CredentialError, match="different key") as info:
        creds.get_credentials("fio")
    assert RESET in str(info.value)
    from core.platform.plugin_config import plugin_status

    status = plugin_status("fio")
    assert status.problem.startswith("secrets stored but unreadable (cannot be decrypted: the key file does not match)")
    assert RESET in status.problem and status.missing == [] and status.secrets_unreadable


# -- a key file that is not a file -------------------------------------------------------------------


def test_a_directory_in_place_of_the_key_file_is_named_as_one(cli):
    store_secrets()
    key_file().unlink()
    key_file().mkdir()

    with pytest.raises(CredentialError) as info:
        creds.get_credentials("fio")
    message = str(info.value)
    assert f"the key file {key_file()} is a directory, not a file" in message
    assert RESET in message and "chmod" not in message
    code, out, err = cli("keys", "rotate")
    assert code == 1 and "is a directory, not a file" in one_line(err) and "chmod" not in err

    (key_file() / "something").write_text("kept")
    code, out, err = cli("keys", "reset", "--yes")  # a folder with files is the person's to move
    assert code == 1 and "is a directory with files in it; move it out of the way" in one_line(err)
    assert (key_file() / "something").read_text() == "kept"
    assert PluginConfiguration.select().where(PluginConfiguration.credentials.is_null(False)).count() == 2

    (key_file() / "something").unlink()
    code, out, err = cli("keys", "reset", "--yes")  # an empty one is simply replaced
    assert (code, err) == (0, "") and "Removed the stored secrets of airbank, fio" in out
    assert key_file().is_file() and mode(key_file()) == 0o600
    creds.set_credentials("fio", SECRETS["fio"])
    assert creds.get_credentials("fio") == SECRETS["fio"]


def test_a_named_pipe_in_place_of_the_key_file_is_refused_without_waiting(cli):
    store_secrets()
    key_file().unlink()
    os.mkfifo(key_file(), 0o600)
    with pytest.raises(CredentialError) as info:
        creds.get_credentials("fio")
    assert "is not a regular file (it is a named pipe)" in str(info.value) and RESET in str(info.value)
    code, out, err = cli("keys", "reset", "--yes")
    assert code == 0, err
    assert key_file().is_file()


def test_a_missing_key_file_names_keys_reset(cli):
    store_secrets()
    key_file().unlink()
    code, out, err = cli("keys", "rotate")
    assert code == 1 and "is missing" in one_line(err) and RESET in err
    with pytest.raises(CredentialError, match="keys reset"):
        creds.get_credentials("airbank")
    assert not key_file().exists()  # reading never invents a key


def test_a_reset_with_nothing_stored_just_makes_a_key(cli):
    code, out, err = cli("keys", "reset", "--yes")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "No plugin had stored secrets."
    assert len(read_key_file(key_file()).material) == 32


def test_a_full_disk_during_a_reset_changes_nothing(cli, monkeypatch):
    store_secrets()
    key_before = key_file().read_bytes()
    real_write = os.write

    def full_disk(fd, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(os, "write", full_disk)
        code, out, err = cli("keys", "reset", "--yes")
    assert os.write is real_write
    assert code == 1 and "No space left on device" in one_line(err) and "nothing was changed" in err
    assert key_file().read_bytes() == key_before and leftovers() == []
    assert_all_readable()


def test_a_reader_never_discards_the_new_key_of_a_rotation_still_running():
    """Another process holds the key lock mid-rotation: its .new may already be what the blobs name."""
    store_secrets()
    running = paths.SiblingLock(key_file(), busy="test")
    assert running.try_acquire()
    try:
        new_key = Key.generate()
        write_key_file(pending_file(), new_key)
        for name, secrets in SECRETS.items():  # the rotation's transaction has committed, the rename not yet
            PluginConfiguration.update(credentials=creds.encrypt(name, secrets, new_key)).where(
                PluginConfiguration.plugin_name == name
            ).execute()
        assert creds.recover_interrupted_rotation() is None  # not a leftover while its owner runs
        assert_all_readable()  # read with the waiting key too
        assert leftovers() == ["credentials.key.new"]
    finally:
        running.release()
    assert creds.recover_interrupted_rotation().startswith("An interrupted key rotation had already re-encrypted")
    assert read_key_file(key_file()) == new_key and leftovers() == []


def test_any_command_settles_a_leftover_first_and_says_so_once(cli):
    store_secrets()
    pending_file().write_bytes(b"")
    code, out, err = cli("plugins")
    assert code == 0 and "fio" in out
    assert one_line(err).startswith("fakturka: An interrupted key rotation left an unfinished new key file")
    assert leftovers() == []
    assert cli("plugins")[2] == ""  # settled: the next start has nothing to say
    assert_all_readable()


async def test_the_terminal_app_shows_what_the_start_settled(fakturka_home):
    from core.platform.startup import recover_at_start
    from tui.app import FakturkaApp

    store_secrets()
    pending_file().write_bytes(b"")
    notices = recover_at_start()  # what the launcher does before it starts the app
    app = FakturkaApp(db_path=paths.default_db_path(), first_start_prompt=False, notices=notices)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        shown = notifications(app)
    assert len(shown) == 1 and "An interrupted key rotation left an unfinished new key file" in shown[0]
    assert leftovers() == []


def test_the_plugin_list_says_unreadable_not_missing(cli):
    store_secrets()
    key_file().write_bytes(b'{"version": 1, "key": "trunc')
    code, out, err = cli("plugins")
    assert code == 0, err
    fio_line = next(line for line in out.splitlines() if line.startswith("fio "))
    assert "no (secrets unreadable)" in fio_line and "missing" not in fio_line
    assert any(line.startswith("fio: secrets stored but unreadable") and RESET in line for line in out.splitlines())


async def test_the_plugins_screen_says_unreadable_and_names_the_way_out(fakturka_home):
    from helpers import table_cells
    from textual.widgets import DataTable

    from tui.app import FakturkaApp

    store_secrets()
    key_file().write_bytes(b'{"version": 1, "key": "trunc')
    app = FakturkaApp(db_path=paths.default_db_path(), first_start_prompt=False)
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.press("p")
        await pilot.pause()
        rows = {row[0]: row for row in table_cells(app.screen.query_one(DataTable))}
    assert "secrets unreadable: restore the key file or run fakturka keys reset" in rows["fio"]
