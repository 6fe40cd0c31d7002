"""A kill -9 at any moment of setting, changing or removing the passphrase leaves the old state or the new
one, each readable with its own passphrase, with all the data and the credentials (issue 18).

Each re-key runs in a process of its own that kills itself (SIGKILL) at one of the steps
:data:`core.store.rekey.after_step` names, or is killed from outside at a random moment. The next open
(:func:`core.store.unlock.needs_passphrase`, :func:`core.store.unlock.unlock`) settles what the kill left.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_passphrase import NEW_PASSPHRASE, PASSPHRASE, content, fresh_process

from core.store import paths, rekey, vault
from core.store.audit_verify import verify_audit
from core.store.db import SQLITE_HEADER, open_database
from core.store.models import PassphraseEvent
from core.store.unlock import needs_passphrase, unlock
from core.store.vault import WrongPassphrase

REPO = Path(__file__).resolve().parent.parent
STEPS = ["exported", "prepared", "vault written", "committed", "finished"]
# The passphrase before and after each operation (None: no passphrase, a plain database).
OPERATIONS = {"set": (None, PASSPHRASE), "change": (PASSPHRASE, NEW_PASSPHRASE), "remove": (PASSPHRASE, None)}
ACTIONS = {"set": ["set"], "change": ["set", "changed"], "remove": ["set", "removed"]}

BUILD = """
import sys
from core.demo import load_demo
from core.platform.credentials import set_credentials
from core.platform.sync import run_sync
from core.sharing.views import record_view
from core.store import rekey
from core.store.db import open_database

full, passphrase = sys.argv[1] == "full", sys.argv[2]
path = open_database()
if full:
    load_demo()
    run_sync("bank-statement")
    set_credentials("fio", {"token": "FIO-TOKEN-5b8d0c7e1a2f-plaintext-secret"})
    record_view(path, 1)
    record_view(path, 1)
if passphrase:
    rekey.set_passphrase(path, passphrase)
"""

REKEY = """
import os, signal, sys
from core.store import paths, rekey
from core.store.db import open_database
from core.store.unlock import needs_passphrase, unlock

operation, kill_at, old, new = sys.argv[1], sys.argv[2], sys.argv[3] or None, sys.argv[4] or None


def step(name):
    if name == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)


rekey.after_step = step
path = paths.default_db_path()
if needs_passphrase(path):
    unlock(path, old)
open_database(path)
print("go", flush=True)
if operation == "set":
    rekey.set_passphrase(path, new)
elif operation == "change":
    rekey.change_passphrase(path, old, new)
else:
    rekey.remove_passphrase(path, old)
print("done", flush=True)
"""


def env() -> dict:
    """The environment of a child process, read when it is started: FAKTURKA_HOME is the test's own."""
    assert "FAKTURKA_HOME" in os.environ
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.fixture(autouse=True)
def no_keys_left():
    fresh_process()
    yield
    fresh_process()


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Data folders to copy from: the demo's data with a synced movement, a plugin secret and a view
    counted, plain or under PASSPHRASE; and an empty database under PASSPHRASE without credentials."""
    made = {}
    for name, full, passphrase in [("plain", "full", ""), ("encrypted", "full", PASSPHRASE), ("bare", "", PASSPHRASE)]:
        home = tmp_path_factory.mktemp(name) / "home"
        built = subprocess.run(
            [sys.executable, "-c", BUILD, full, passphrase],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), "FAKTURKA_HOME": str(home)},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert built.returncode == 0, built.stderr
        made[name] = home
    return made


def copy_home(template: Path, home: Path) -> Path:
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home, symlinks=True)
    return paths.default_db_path()


def open_with(db_path: Path, passphrase: str | None) -> bool:
    """Whether the database opens, as a new process opens it, with ``passphrase`` (None: without one)."""
    fresh_process()
    if passphrase is None:
        if needs_passphrase(db_path):
            return False
    else:
        if not needs_passphrase(db_path):
            return False
        try:
            unlock(db_path, passphrase)
        except WrongPassphrase:
            vault.tries_path(db_path).unlink()
            return False
    open_database(db_path)
    return True


def snapshot(db_path: Path, passphrase: str | None) -> dict:
    assert open_with(db_path, passphrase)
    taken = content()
    fresh_process()
    return taken


def spawn(operation: str, kill_at: str = "") -> subprocess.Popen:
    old, new = OPERATIONS[operation]
    return subprocess.Popen(
        [sys.executable, "-c", REKEY, operation, kill_at, old or "", new or ""],
        cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in home.rglob("*") if p.name.endswith((".rekey", ".vault.new")) or ".rekey-" in p.name)


def check_state(home: Path, db_path: Path, operation: str, before: dict | None, state: str) -> None:
    """The database is in ``state`` ("old" or "new"): it opens with that state's passphrase only, holds
    everything it held, and nothing of the re-key is left once it has been opened."""
    old, new = OPERATIONS[operation]
    current, other = (old, new) if state == "old" else (new, old)
    assert not open_with(db_path, other), f"{operation}: the {state} state also opens with the other passphrase"
    assert open_with(db_path, current), f"{operation}: the {state} state does not open with its passphrase"
    if before is not None:
        assert content() == before
    assert leftovers(home) == []
    assert (db_path.read_bytes()[:16] == SQLITE_HEADER) == (current is None)
    assert vault.vault_path(db_path).exists() == (current is not None)
    key_file = paths.key_path()
    if key_file.exists():
        assert json.loads(key_file.read_text())["version"] == (1 if current is None else 2)
    actions = [e.action for e in PassphraseEvent.select().order_by(PassphraseEvent.id)]
    done = ACTIONS[operation] if state == "new" else ACTIONS[operation][:-1]
    assert actions == done
    assert verify_audit().clean
    fresh_process()


def template_for(operation: str) -> str:
    return "plain" if operation == "set" else "encrypted"


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_a_kill_at_each_step_leaves_the_old_state_or_the_new_one(templates, fakturka_home, operation, step):
    db_path = copy_home(templates[template_for(operation)], fakturka_home)
    before = snapshot(db_path, OPERATIONS[operation][0])

    process = spawn(operation, step)
    out, err = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL, (out, err)
    assert out.strip() == "go"

    state = "new" if STEPS.index(step) >= STEPS.index("committed") else "old"
    check_state(fakturka_home, db_path, operation, before, state)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_without_a_kill_each_operation_finishes(templates, fakturka_home, operation):
    db_path = copy_home(templates[template_for(operation)], fakturka_home)
    before = snapshot(db_path, OPERATIONS[operation][0])
    process = spawn(operation)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out.split() == ["go", "done"]
    assert leftovers(fakturka_home) == []
    check_state(fakturka_home, db_path, operation, before, "new")


@pytest.mark.parametrize("step", ["committed", "finished"])
def test_a_removal_killed_after_its_commit_without_credentials_or_views_drops_the_vault(templates, fakturka_home, step):
    """Nothing but the vault itself may be left of such a removal: the next open still finishes it, so
    that a passphrase can be set again."""
    db_path = copy_home(templates["bare"], fakturka_home)
    assert not paths.key_path().exists()
    process = spawn("remove", step)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    check_state(fakturka_home, db_path, "remove", None, "new")
    rekey.set_passphrase(open_database(db_path), PASSPHRASE)


def test_real_kills_at_random_moments_leave_the_old_state_or_the_new_one(templates, fakturka_home):
    chance = random.Random(18)
    for round_ in range(9):
        operation = list(OPERATIONS)[round_ % 3]
        db_path = copy_home(templates[template_for(operation)], fakturka_home)
        before = snapshot(db_path, OPERATIONS[operation][0])
        process = spawn(operation)
        assert process.stdout.readline().strip() == "go", process.stderr.read()
        time.sleep(chance.uniform(round_, round_ + 1) * 0.4 / 9)  # spread over the re-key's 0.2-0.3 s and after
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        # Which state it is in, told only by which passphrase opens it; check_state proves it is one of them.
        state = "new" if open_with(db_path, OPERATIONS[operation][1]) else "old"
        check_state(fakturka_home, db_path, operation, before, state)


def test_a_process_opening_the_database_while_a_change_runs_waits_for_it(templates, fakturka_home):
    """A second process that unlocks (or settles) while a re-key is half done must not take the re-key's
    files for a killed one's leftovers: it waits until the re-key holds the database no longer."""
    db_path = copy_home(templates["encrypted"], fakturka_home)
    before = snapshot(db_path, PASSPHRASE)
    slow = REKEY.replace(
        "def step(name):\n", "def step(name):\n    if name == 'vault written':\n        import time; time.sleep(1)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", slow, "change", "", PASSPHRASE, NEW_PASSPHRASE],
        cwd=REPO, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout.readline().strip() == "go"
    deadline = time.monotonic() + 10
    while not vault.pending_vault_path(db_path).exists():  # the change is half done: its new vault is written
        assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
        time.sleep(0.01)
    opened_old = open_with(db_path, PASSPHRASE)  # waits for the change, which then makes the old one wrong
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert not opened_old
    check_state(fakturka_home, db_path, "change", before, "new")
