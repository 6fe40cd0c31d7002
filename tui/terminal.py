"""Noticing that the terminal has gone away.

When a terminal window is closed (or an SSH connection drops), the kernel
hangs up the terminal. A process started straight from the shell gets
SIGHUP and ends. One started under ``make run`` does not: make receives the
signal and waits for its child, and Textual's input thread then reads an
endless end-of-file from the dead terminal at half a core, for ever. The
app checks once a second and leaves.
"""

from __future__ import annotations

import os
import select
import sys


def terminal_fd() -> int | None:
    """The file descriptor Textual reads keys from, when it is a terminal (else there is nothing to watch)."""
    stream = sys.__stdin__
    try:
        fd = stream.fileno() if stream is not None else None
    except (OSError, ValueError):
        return None
    return fd if fd is not None and os.isatty(fd) else None


def hung_up(fd: int) -> bool:
    """Whether the terminal on ``fd`` was hung up: poll reports POLLHUP from then on.

    Only POLLHUP counts: macOS's poll() answers POLLNVAL for every terminal, hung up or not.
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return any(mask & select.POLLHUP for _fd, mask in poller.poll(0))
