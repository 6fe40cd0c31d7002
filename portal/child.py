"""``fakturka portal`` in a child process: how the tests, the benchmark and the screenshot script run it.

The child is this Python running ``-m fakturka [options] portal --port N`` on a free port of 127.0.0.1
(from ``cwd``, so a checkout runs its own code). Entering waits until the port takes a connection, or
fails with the child's own error output when it exits first; leaving stops it with SIGINT, as Ctrl+C
would, and keeps what it printed and its exit code for the caller to check.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

__all__ = ["ChildPortal", "PortalDidNotStart", "child_portal", "free_port"]


class PortalDidNotStart(RuntimeError):
    """The child exited, or did not listen in time; the message carries what it printed."""


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ChildPortal:
    process: subprocess.Popen
    port: int
    out: str = ""  # what the child printed, once stopped
    err: str = ""
    returncode: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            self.out, self.err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.out, self.err = self.process.communicate()
        self.returncode = self.process.returncode

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                self.stop()
                raise PortalDidNotStart(f"the portal exited with {self.returncode}: {self.err.strip()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise PortalDidNotStart(
                        f"the portal did not listen within {timeout:.0f} s: {self.err.strip()}"
                    ) from None
                time.sleep(0.05)


@contextmanager
def child_portal(
    *options: str, cwd: Path | str | None = None, env: Mapping[str, str] | None = None, timeout: float = 30.0
) -> Iterator[ChildPortal]:
    """``fakturka *options portal`` on a free port while the ``with`` block runs (``options``: e.g.
    ``--db PATH``); ``env`` defaults to this process's environment."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "fakturka", *options, "portal", "--port", str(port)],
        cwd=cwd,
        env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child = ChildPortal(process, port)
    try:
        child._wait_until_listening(timeout)
        yield child
    finally:
        if child.returncode is None:
            child.stop()
