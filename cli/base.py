"""Shared pieces of the command line: errors, output helpers, argument types."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from decimal import Decimal
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from typing import Any, Iterable

from core.errors import FakturkaError
from core.values.dates import parse_date
from core.values.validation import ValidationError


class CommandError(FakturkaError):
    """A wrong input or refused action: printed as one sentence, exit code 1.

    Any :class:`core.errors.FakturkaError` is treated the same way by ``run_command``; this one is for
    refusals the command line itself makes (a missing ``--yes``, a malformed ``KEY=VALUE``).
    """


def app_version() -> str:
    try:
        return dist_version("fakturka")
    except PackageNotFoundError:
        return "0.0.0+unknown"


def positive_int(text: str) -> int:
    """argparse type: a count such as --limit (0 or -1 used to list one row)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def date_arg(text: str) -> date:
    """argparse type: a date a person typed."""
    try:
        return parse_date(text)
    except ValidationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _json_default(value: Any):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, default=_json_default, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def print_table(headers: list[str], rows: Iterable[list[Any]], right: set[int] = frozenset()) -> None:
    """A plain aligned table; ``right`` holds the indexes of numeric columns."""
    rows = [[("" if cell is None else str(cell)) for cell in row] for row in rows]
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
            raise CommandError(f"{item!r} is not KEY=VALUE.")
        values[key.strip().replace("-", "_")] = value
    return values


def confirm(question: str, assume_yes: bool) -> bool:
    """Ask on a terminal; without one, only ``--yes`` confirms."""
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise CommandError(f"{question} Re-run with --yes to confirm.")
    answer = input(f"{question} [y/N] ").strip().lower()
    return answer in ("y", "yes", "a", "ano")
