"""``fakturka passphrase set|change|remove`` and every command on an encrypted database, each run as a
separate process as a person or a cron job runs it (issue 18).

The passphrase comes from a terminal, from the file FAKTURKA_PASSPHRASE_FILE names (mode 0600 checked) or
from ``--passphrase-fd``; without any of them a command refuses with a sentence saying how to give it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_passphrase import NEW_PASSPHRASE, PASSPHRASE

from core.store import paths, vault
from core.store.db import SQLITE_HEADER

REPO = Path(__file__).resolve().parent.parent


def fakturka(*argv: str, stdin: str = "", env: dict | None = None, pass_fds: tuple = ()) -> subprocess.CompletedProcess:
    """``fakturka ARGV`` in its own process, standard input a pipe (no terminal), the test's FAKTURKA_HOME."""
    assert "FAKTURKA_HOME" in os.environ  # read now, not at import: never the real data folder
    environment = {name: value for name, value in os.environ.items() if name != "FAKTURKA_PASSPHRASE_FILE"}
    environment.update({"PYTHONPATH": str(REPO), **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "fakturka", *argv],
        input=stdin, cwd=REPO, env=environment, capture_output=True, text=True, timeout=60, pass_fds=pass_fds,
    )  # fmt: skip


def ok(*argv: str, **kwargs) -> str:
    result = fakturka(*argv, **kwargs)
    assert result.returncode == 0, (argv, result.stdout, result.stderr)
    return result.stdout


def refused(*argv: str, code: int, **kwargs) -> str:
    result = fakturka(*argv, **kwargs)
    assert result.returncode == code, (argv, result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fakturka: "), result.stderr
    return lines[0]


def db_path() -> Path:
    return paths.default_db_path()


def passphrase_file(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    path = tmp_path / "passphrase.txt"
    path.write_text(text + "\n")
    path.chmod(mode)
    return path


def with_file(path: Path) -> dict:
    return {"env": {"FAKTURKA_PASSPHRASE_FILE": str(path)}}


def with_fd(text: str) -> tuple[list[str], dict]:
    """``--passphrase-fd N`` and the pipe it names, holding ``text``."""
    read, write = os.pipe()
    os.write(write, (text + "\n").encode())
    os.close(write)
    return ["--passphrase-fd", str(read)], {"pass_fds": (read,)}


def encrypted_line(out: str) -> str:
    lines = [line for line in out.splitlines() if line.startswith("encrypted:")]
    assert len(lines) == 1, out
    return lines[0].removeprefix("encrypted:").strip()


def files_state() -> dict[str, bytes]:
    home = Path(os.environ["FAKTURKA_HOME"])
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock") and p.suffix != ".tries"
    }


BUILD = """
import sys
from core.demo import load_demo
from core.platform.credentials import set_credentials
from core.store import rekey
from core.store.db import open_database

path = open_database()
load_demo()
set_credentials("fio", {"token": "FIO-TOKEN-5b8d0c7e1a2f-plaintext-secret"})
if sys.argv[1]:
    rekey.set_passphrase(path, sys.argv[1])
"""


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Data folders to copy from: the demo's data and a plugin secret, plain or under PASSPHRASE."""
    made = {}
    for name, passphrase in [("plain", ""), ("encrypted", PASSPHRASE)]:
        home = tmp_path_factory.mktemp(name) / "home"
        built = subprocess.run(
            [sys.executable, "-c", BUILD, passphrase],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), "FAKTURKA_HOME": str(home)},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert built.returncode == 0, built.stderr
        made[name] = home
    return made


def from_template(template: Path, home: Path) -> None:
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home, symlinks=True)


@pytest.fixture
def demo(templates, fakturka_home):
    """The demo's data, and a plugin secret, in a plain database; returns what ``client list`` shows."""
    from_template(templates["plain"], fakturka_home)
    clients = ok("client", "list")
    assert "Nordlicht" in clients
    return clients


@pytest.fixture
def encrypted(demo, templates, fakturka_home):
    """The same under PASSPHRASE."""
    from_template(templates["encrypted"], fakturka_home)
    return demo


# -- set --------------------------------------------------------------------------------------------


def test_set_reads_the_new_passphrase_from_standard_input_and_encrypts(demo, tmp_path, fakturka_home):
    assert encrypted_line(ok("info")).startswith("no")

    out = ok("passphrase", "set", stdin=PASSPHRASE + "\n")

    assert "now encrypted" in out and "Keep the passphrase safe" in out
    assert db_path().read_bytes()[:16] != SQLITE_HEADER
    assert vault.vault_path(db_path()).exists()
    assert json.loads(paths.key_path().read_text())["version"] == 2
    for name in (b"Nordlicht", b"Maple & Pine", PASSPHRASE.encode()):
        for path in fakturka_home.rglob("*"):
            if path.is_file() and "demo" not in path.parts:
                assert name not in path.read_bytes(), (name, path)
    secret = passphrase_file(tmp_path, PASSPHRASE)
    assert encrypted_line(ok("info", **with_file(secret))).startswith("yes")
    assert ok("client", "list", **with_file(secret)) == demo


@pytest.mark.parametrize(
    ("typed", "words"),
    [("", "at least 8 characters"), ("short", "at least 8 characters"), (" spaced passphrase", "space")],
)
def test_set_refuses_a_passphrase_too_weak_and_changes_nothing(demo, typed, words):
    before = files_state()
    line = refused("passphrase", "set", stdin=typed + "\n", code=1)
    assert words in line
    assert files_state() == before
    assert encrypted_line(ok("info")).startswith("no")


def test_set_on_an_encrypted_database_is_refused(encrypted, tmp_path):
    secret = passphrase_file(tmp_path, PASSPHRASE)
    before = files_state()
    line = refused("passphrase", "set", stdin=NEW_PASSPHRASE + "\n", code=1, **with_file(secret))
    assert "already has a passphrase" in line
    assert files_state() == before


def test_change_and_remove_without_a_passphrase_are_refused(demo):
    before = files_state()
    assert "has no passphrase" in refused("passphrase", "change", stdin=NEW_PASSPHRASE + "\n", code=1)
    assert "has no passphrase" in refused("passphrase", "remove", "--yes", code=1)
    assert files_state() == before


# -- a command on an encrypted database -----------------------------------------------------------------


def test_without_a_terminal_or_a_passphrase_source_a_command_refuses_with_a_sentence(encrypted):
    before = files_state()
    for argv in (["info"], ["client", "list"], ["audit", "verify"]):
        line = refused(*argv, code=2)
        assert "is encrypted" in line
        assert "FAKTURKA_PASSPHRASE_FILE" in line and "--passphrase-fd" in line
    assert files_state() == before


def test_a_passphrase_file_readable_by_others_is_refused_naming_chmod_600(encrypted, tmp_path):
    secret = passphrase_file(tmp_path, PASSPHRASE, mode=0o644)
    line = refused("client", "list", code=2, **with_file(secret))
    assert f"chmod 600 {secret}" in line
    assert PASSPHRASE not in line
    secret.chmod(0o640)
    assert "chmod 600" in refused("client", "list", code=2, **with_file(secret))
    secret.chmod(0o600)
    assert ok("client", "list", **with_file(secret)) == encrypted
    secret.chmod(0o400)
    assert ok("client", "list", **with_file(secret)) == encrypted


def test_a_missing_or_empty_passphrase_file_is_a_sentence(encrypted, tmp_path):
    line = refused("info", code=2, **with_file(tmp_path / "nowhere"))
    assert "Cannot read the passphrase file" in line
    empty = passphrase_file(tmp_path, "")
    assert "holds no passphrase" in refused("info", code=2, **with_file(empty))


def test_passphrase_fd_unlocks(encrypted):
    argv, kwargs = with_fd(PASSPHRASE)
    assert encrypted_line(ok(*argv, "info", **kwargs)).startswith("yes")
    argv, kwargs = with_fd(PASSPHRASE)
    assert ok(*argv, "client", "list", **kwargs) == encrypted
    assert "not open" in refused("--passphrase-fd", "97", "info", code=2)


def test_a_wrong_passphrase_is_a_sentence_and_the_next_try_waits(encrypted, tmp_path):
    wrong = passphrase_file(tmp_path, "not the passphrase at all")
    before = files_state()
    line = refused("info", code=2, **with_file(wrong))
    assert "does not unlock" in line and "nothing was changed" in line and "1 s" in line
    assert "not the passphrase at all" not in line
    assert files_state() == before

    # The next command waits out the second before it tries, says so, and is refused again (2 s next).
    again = fakturka("info", **with_file(wrong))
    assert again.returncode == 2
    assert "waiting 1 s" in again.stderr and "in 2 s" in again.stderr
    assert files_state() == before


# -- change and remove ----------------------------------------------------------------------------------


def test_change_takes_the_old_passphrase_from_a_source_and_the_new_one_from_stdin(encrypted, tmp_path):
    old = passphrase_file(tmp_path, PASSPHRASE)
    out = ok("passphrase", "change", stdin=NEW_PASSPHRASE + "\n", **with_file(old))
    assert "re-encrypted under the new passphrase" in out

    assert "does not unlock" in refused("client", "list", code=2, **with_file(old))
    vault.tries_path(db_path()).unlink()
    argv, kwargs = with_fd(NEW_PASSPHRASE)
    assert ok(*argv, "client", "list", **kwargs) == encrypted
    argv, kwargs = with_fd(NEW_PASSPHRASE)
    verified = ok(*argv, "audit", "verify", **kwargs)
    assert "no differences" in verified


def test_remove_asks_for_yes_without_a_terminal_then_decrypts(encrypted, tmp_path):
    secret = passphrase_file(tmp_path, PASSPHRASE)
    before = files_state()
    assert "--yes" in refused("passphrase", "remove", code=1, **with_file(secret))
    assert files_state() == before

    out = ok("passphrase", "remove", "--yes", **with_file(secret))
    assert "no longer encrypted" in out
    assert db_path().read_bytes()[:16] == SQLITE_HEADER
    assert not vault.vault_path(db_path()).exists()
    assert json.loads(paths.key_path().read_text())["version"] == 1
    assert encrypted_line(ok("info")).startswith("no")
    assert ok("client", "list") == encrypted
    assert "no differences" in ok("audit", "verify")


def test_a_re_key_is_refused_while_another_fakturka_has_the_database_open(demo):
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time\nfrom core.store.db import open_database\nopen_database()\nprint('open', flush=True)\n"
         "time.sleep(60)\n"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        before = files_state()
        line = refused("passphrase", "set", stdin=PASSPHRASE + "\n", code=1)
        assert "has" in line and "open" in line and "Nothing was changed" in line
        assert files_state() == before
    finally:
        holder.kill()
        holder.wait()


def test_change_with_both_passphrases_on_standard_input(encrypted):
    """``--passphrase-fd 0`` takes the first line only: the new passphrase is the second."""
    out = ok("--passphrase-fd", "0", "passphrase", "change", stdin=f"{PASSPHRASE}\n{NEW_PASSPHRASE}\n")
    assert "re-encrypted" in out
    assert ok("--passphrase-fd", "0", "client", "list", stdin=NEW_PASSPHRASE + "\n") == encrypted
