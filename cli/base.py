"""Shared pieces of the command line: errors, output helpers, argument types.

Every value a person types is checked by an argparse ``type=`` here before any service or SQLite sees
it, so a refusal is one line naming the option (``argument --limit: ...``). Everything printed that
came from the database goes through :func:`core.values.text.for_terminal`: a stored name cannot move
the cursor, retitle the terminal or break a one-line message.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

from core.billing.clients import record_id_in
from core.billing.profile import quoted
from core.errors import FakturkaError
from core.values.dates import parse_date
from core.values.limits import MAX_LIST_LIMIT, MAX_SQLITE_INTEGER
from core.values.text import for_terminal
from core.values.validation import ValidationError
from core.version import VERSION

# The widest a table cell or a printed line gets: enough for any real name, short of a wall of text.
CELL_LIMIT = 200
LINE_LIMIT = 2000


class CommandError(FakturkaError):
    """A wrong input or refused action: printed as one sentence, exit code 1.

    Any :class:`core.errors.FakturkaError` is treated the same way by ``run_command``; this one is for
    refusals the command line itself makes (a missing ``--yes``, a malformed ``KEY=VALUE``).
    """


def app_version() -> str:
    return VERSION


def not_utf8(text: str) -> bool:
    """Bytes that were not UTF-8, as Python hands them over (lone surrogates, "\\udcff")."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def read_stdin_line(what: str) -> str:
    """One line of standard input (a secret, an answer), refused when it is not UTF-8 text."""
    try:
        line: str | None = sys.stdin.readline()
    except UnicodeDecodeError:  # a strict locale decodes stdin strictly; C.UTF-8 gives surrogates
        line = None
    if line is None or not_utf8(line):
        raise CommandError(f"Standard input for {what} is not valid UTF-8 text; nothing was changed.")
    return line


# -- argument types ----------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """argparse type: a count such as --limit, from 1 to MAX_LIST_LIMIT (0 or -1 used to list one row)."""
    value = text.strip()
    if not re.fullmatch(r"-?[0-9]+", value):
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a whole number")
    if value.startswith("-") or not value.strip("0"):
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a positive number")
    if len(value.lstrip("0")) > len(str(MAX_LIST_LIMIT)) or int(value) > MAX_LIST_LIMIT:
        raise argparse.ArgumentTypeError(f"{quoted(text)} is more than {MAX_LIST_LIMIT}, the most one list shows")
    return int(value)


def record_id(what: str) -> Callable[[str], int]:
    """argparse type: the id of a record (``what`` names it in the refusal), 1 to SQLite's largest integer."""

    def parse(text: str) -> int:
        try:
            value = record_id_in(text.strip(), what)
        except ValidationError as exc:
            raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None
        if value is None:
            raise argparse.ArgumentTypeError(
                f"{quoted(text)} is not a {what}: use a whole number from 1 to {MAX_SQLITE_INTEGER}"
            )
        return value

    parse.__name__ = what.replace(" ", "_")  # argparse names the type in some messages
    return parse


def date_arg(text: str) -> date:
    """argparse type: a date a person typed, within the years Fakturka accepts."""
    try:
        return parse_date(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc).rstrip(".")) from None


# Digits, spaces, one sign and separators: what a person types for money (an exponent of a few digits
# is read, and refused as too large by the service; 1e999999999 would overflow Decimal's context). No
# other scripts' digits: int() and Decimal() read them silently.
_AMOUNT = re.compile(r"[+-]?[0-9][0-9 ,.]{0,30}(?:[eE][+-]?[0-9]{1,4})?")


def amount_arg(text: str) -> str:
    """argparse type: an amount as text (the service reads it in the right currency), checked for form."""
    value = text.strip()
    if value and not _AMOUNT.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not an amount; type a number such as 1234.50")
    return text


def output_path(text: str) -> Path:
    """argparse type: a file or folder path (``~`` expanded)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give a file or folder name")
    return Path(text).expanduser()


def file_descriptor(text: str) -> int:
    """``--passphrase-fd``: the number of a file descriptor this process has open."""
    import os

    try:
        fd = int(text)
        os.fstat(fd)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a file descriptor number") from None
    except OSError:
        raise argparse.ArgumentTypeError(f"file descriptor {text} is not open") from None
    if fd < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a file descriptor number")
    return fd


def database_path(text: str) -> Path:
    """argparse type: ``--db PATH``, a database file or a new name; a pipe or a device would block or
    be misread when its header is checked."""
    path = output_path(text)
    if path.exists() and not path.is_file() and not path.is_dir():  # a folder gets the database's own sentence
        raise argparse.ArgumentTypeError(f"{path} is a pipe, device or socket, not a database file")
    return path


def file_mode(text: str) -> int:
    """argparse type: file permissions in octal, as chmod takes them (644, 0640)."""
    value = text.strip()
    if not re.fullmatch(r"0?[0-7]{3}", value):
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a file mode; use octal digits as chmod does, e.g. 644")
    mode = int(value, 8)
    if mode & 0o600 != 0o600:
        raise argparse.ArgumentTypeError(f"{value} would not let you read or rewrite the file; use 600, 640 or 644")
    return mode


# -- output ------------------------------------------------------------------------------------


def say(line: object = "", *, file=None) -> None:
    """Print one line that may hold stored text: on one line, no escape sequences, at most LINE_LIMIT."""
    print(for_terminal(line, LINE_LIMIT), file=file or sys.stdout)


def _json_default(value: Any):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


# json escapes only U+0000-U+001F; with ensure_ascii=False these would reach the terminal raw: DEL and
# the C1 controls (U+009B is CSI on its own), line and paragraph separators, bidi overrides, and lone
# surrogates (which stdout cannot even encode). Escaping them as \uXXXX keeps the JSON value exact.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c\ud800-\udfff]")


def json_text(data: Any) -> str:
    text = json.dumps(data, default=_json_default, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def print_json(data: Any) -> None:
    sys.stdout.write(json_text(data))
    sys.stdout.write("\n")


def print_table(headers: list[str], rows: Iterable[list[Any]], right: set[int] = frozenset()) -> None:
    """A plain aligned table; ``right`` holds the indexes of numeric columns. Cells are shown as
    :func:`for_terminal` shows them, cut at CELL_LIMIT characters."""
    rows = [[for_terminal(cell, CELL_LIMIT) for cell in row] for row in rows]
    if not rows:
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def fmt(cells):
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ).rstrip()

    print(fmt(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(fmt(row))


def parse_assignments(items: list[str] | None) -> dict[str, str]:
    """``["name=Acme", "terms=30"]`` -> dict; refuses items without ``=``."""
    values: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CommandError(f"{quoted(item)} is not KEY=VALUE.")
        values[key.strip().replace("-", "_")] = value
    return values


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on a terminal; without one, only ``--yes`` confirms."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise CommandError(f"{question} Re-run with --yes to confirm.")
    answer = input(for_terminal(f"{question} [y/N] ", LINE_LIMIT)).strip().lower()
    return answer in ("y", "yes", "a", "ano")
