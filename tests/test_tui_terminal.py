"""The real app in a real pseudo-terminal: when the terminal goes away, the app goes too.

``make run`` puts make between the shell and the app: when the terminal
window is closed, the hang-up signal reaches make, not the app. The app is
started here the same way as far as it can tell: in its own session, with
the terminal as standard input but not as its controlling terminal, so no
SIGHUP reaches it when the terminal's other end is closed.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

WAIT = 30.0  # seconds for a slow CI machine; not a timing assertion


def _read_until(master: int, text: bytes, timeout: float) -> bytes:
    """Drain the terminal (an app blocked on a full terminal would never get far) until ``text`` shows."""
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and text not in seen:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
    return seen


def test_the_app_leaves_when_its_terminal_is_closed(fakturka_home):
    fakturka = Path(sys.executable).parent / "fakturka"
    assert fakturka.is_file(), f"the fakturka console script is not installed in {fakturka.parent}"
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "FAKTURKA_HOME": str(fakturka_home), "TERM": "xterm-256color"}
    app = subprocess.Popen(
        [str(fakturka)], stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True, close_fds=True
    )
    os.close(slave)
    try:
        shown = _read_until(master, b"Welcome", WAIT)
        assert b"Welcome" in shown, f"the app did not start: {shown[-2000:]!r}"
        assert app.poll() is None

        os.close(master)  # the terminal window is closed
        master = None
        try:
            app.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            raise AssertionError("the app kept running after its terminal was closed") from None
    finally:
        if master is not None:
            os.close(master)
        if app.poll() is None:
            app.kill()
            app.wait()


def test_a_live_terminal_is_not_taken_for_a_closed_one():
    from tui.terminal import hung_up

    master, slave = os.openpty()
    try:
        assert not hung_up(slave)
        os.write(master, b"typed but not read yet")  # pending keys are not a hang-up
        assert not hung_up(slave)
        os.close(master)
        master = None
        assert hung_up(slave)
    finally:
        os.close(slave)
        if master is not None:
            os.close(master)
