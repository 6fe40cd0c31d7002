"""Time entries from a Toggl Track or Clockify CSV export.

Each row becomes a work entry on the project of the same name (written
"Client / Project" or just the project name when only one client has it),
or on the default project. Rows are keyed by a hash of their content, so
importing the same export again changes nothing.

Dates are read in the export's formats (``2025-03-03``, ``03/05/2025``,
``03.05.2025``) in the ASCII digits 0-9. A slash date is read day-first or
month-first as the whole file proves it (``25/11/2026`` anywhere makes every
slash date day-first; ``core.banking.formats.csv_dialect.infer_date_order``);
a file that proves both is refused naming the ``date_format`` setting, and a
file whose every slash date reads both ways is read month-first (Clockify's
default) with a line in the log saying so, unless ``date_format`` is set; durations as ``hh:mm:ss`` or decimal
hours (``1.25``), plain digits only (no ``Infinity``, ``NaN``, ``1e20``, no
other scripts' digits). What Fakturka keeps for any work entry (at most a day
per entry, a date within 1990-2099) is checked by the sync context; its
refusal is given with the file and row, as every other refusal here.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from core.banking.formats.csv_dialect import (
    DAY_FIRST,
    MONTH_FIRST,
    DateOrderError,
    date_format_example,
    infer_date_order,
    two_way_parts,
)
from core.banking.formats.movement import Trimmed
from core.plugins.base import Bool, Message, PathField, Plugin, SyncError, Text, message_of

# A slash date (03/05/2025) is not among them: its order of day and month is the file's to tell.
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")
# Decimal hours as Clockify writes them ("1.25", "0,5"): ASCII digits, no sign, no exponent, bounded length.
DECIMAL_HOURS = re.compile(r"^[0-9]{1,12}([.,][0-9]{1,6})?$")
CLOCK_PART = re.compile(r"^[0-9]{1,12}$")


def _column(row: dict, *names: str) -> str:
    for name in names:
        for key, value in row.items():
            if key and key.strip().lower() == name.lower():
                return (value or "").strip()
    return ""


def _parse_date(text: str, date_format: str = "", order: str = MONTH_FIRST) -> date:
    """``text`` in ``date_format``, else in the export's formats, a slash date in ``order``."""
    value = text.strip()
    if value.isascii():  # strptime reads other scripts' digits too
        if date_format:
            try:
                return datetime.strptime(value, date_format).date()
            except ValueError:
                raise ValueError(
                    Message(
                        "unknown date {date} (expected {date_format}, the date_format setting)",
                        date=_shown(text),
                        date_format=date_format,
                    )
                ) from None
        if "/" in value and two_way_parts(value):
            fmt = "%d/%m/%Y" if order == DAY_FIRST else "%m/%d/%Y"
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                pass
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(value, fmt).date()
            except ValueError:
                continue
    raise ValueError(Message("unknown date {date}", date=_shown(text)))


def _minutes(row: dict) -> int:
    decimal_hours = _column(row, "Duration (decimal)")
    if decimal_hours:
        if not DECIMAL_HOURS.match(decimal_hours):
            raise ValueError(
                Message("unknown duration {duration} (decimal hours such as 1.25)", duration=_shown(decimal_hours))
            )
        return round(Decimal(decimal_hours.replace(",", ".")) * 60)
    text = _column(row, "Duration", "Duration (h)")
    parts = text.split(":")
    if len(parts) == 3 and all(CLOCK_PART.match(part) for part in parts):
        hours, minutes, seconds = (int(p) for p in parts)
        return round((hours * 3600 + minutes * 60 + seconds) / 60)
    raise ValueError(Message("unknown duration {duration}", duration=_shown(text)))


def _shown(text: str) -> str:
    """A value quoted for a one-line sentence, kept short."""
    quoted = repr(text)
    return quoted if len(quoted) <= 60 else quoted[:59] + "…"


class TimeCsvImport(Plugin):
    name = "time-csv"
    version = "1.1.0"
    fields = [
        PathField(
            "path",
            "CSV export file",
            required=True,
            help="A detailed time report exported from Toggl Track or Clockify as CSV.",
        ),
        Text(
            "default_project",
            "Default project",
            help="Client / Project for rows whose project is not found. Empty: such rows are skipped.",
        ),
        Bool("billable_only", "Only billable rows", default=False),
        Text(
            "date_format",
            "Date format",
            help="Only for an export whose dates do not show the order of day and month: %d/%m/%Y "
            "(day-first) or %m/%d/%Y (month-first). Empty: taken from the file's dates.",
        ),
    ]

    def sync(self, ctx):
        path = Path(ctx.settings["path"]).expanduser()
        if not path.is_file():
            raise SyncError(
                Message("The file {path} does not exist (check the CSV export file setting).", path=str(path))
            )
        projects, names, default = _project_lookup(ctx)
        rows = _read_rows(path)
        ctx.log(Message("Reading {count} rows from {file}", count=len(rows), file=path.name))
        date_format = (ctx.settings.get("date_format") or "").strip()
        order = "" if date_format else _date_order(ctx, path.name, rows)
        skipped = 0
        for number, row in enumerate(rows, start=2):
            ctx.progress(number - 1, len(rows))
            if ctx.settings.get("billable_only") and _column(row, "Billable").lower() not in ("yes", "true", "1"):
                ctx.skip(Message("not billable (Only billable rows is on)"))
                continue
            client_name, project_name = _column(row, "Client"), _column(row, "Project")
            project = projects.get(f"{client_name} / {project_name}".casefold())
            if project is None and len(names.get(project_name.casefold(), [])) == 1:
                project = names[project_name.casefold()][0]
            project = project or default
            if project is None:
                skipped += 1
                ctx.skip(Message("no project {client} / {project}", client=client_name, project=project_name))
                ctx.log(
                    Message(
                        "Row {row}: no project {client} / {project}; skipped",
                        row=number,
                        client=client_name,
                        project=project_name,
                    ),
                    "warning",
                )
                continue
            try:
                day = _parse_date(_column(row, "Start date", "Start Date"), date_format, order)
                minutes = _minutes(row)
            except (ValueError, InvalidOperation) as exc:
                raise SyncError(
                    Message("{file}, row {row}: {problem}.", file=path.name, row=number, problem=message_of(exc))
                ) from None
            if minutes <= 0:
                ctx.skip(Message("no time (a duration of zero)"))
                continue
            key = "|".join(
                [
                    _column(row, "Email", "User"),
                    _column(row, "Start date", "Start Date"),
                    _column(row, "Start time", "Start Time"),
                    client_name,
                    project_name,
                    _column(row, "Description"),
                ]
            )
            external_id = hashlib.sha256(key.encode()).hexdigest()[:32]
            try:
                ctx.add_work_entry(
                    project=project,
                    date=day,
                    minutes=minutes,
                    description=_column(row, "Description"),
                    billable=_column(row, "Billable").lower() in ("yes", "true", "1", ""),
                    external_id=external_id,
                )
            except SyncError as exc:  # what Fakturka keeps for any entry (a day at most, 1990-2099): where it is
                prefix = re.compile("^" + re.escape(f"work entry {external_id!r}: "))
                raise SyncError(_at_row(path.name, number, Trimmed(message_of(exc), prefix))) from None
        ctx.metadata["file"] = path.name
        ctx.metadata["rows"] = len(rows)
        ctx.metadata["skipped_rows"] = skipped


def _at_row(name: str, number: int, reason: str) -> Message:
    """``reason`` (a sentence of its own, a Message) said of the file's row."""
    return Message("{file}, row {row}: {reason}", file=name, row=number, reason=reason)


def _date_order(ctx, name: str, rows: list[dict]) -> str:
    """The order of the file's slash dates (DAY_FIRST or MONTH_FIRST) as its dates prove it; month-first, said
    in the log, when every one reads both ways; SyncError when the file proves both."""
    dates = (_column(row, "Start date", "Start Date") for row in rows)
    try:
        return infer_date_order(date for date in dates if "/" in date)
    except DateOrderError as exc:
        if exc.conflict:
            raise SyncError(
                Message(
                    "{name}: the dates do not tell day from month ({reason}); set the date_format setting, e.g. "
                    "{example}.",
                    name=name,
                    reason=message_of(exc),
                    example=date_format_example(exc),
                )
            ) from None
        ctx.log(
            Message(
                "{name}: no date shows the order of day and month (such as {example}); read month-first "
                "(MM/DD/YYYY, Clockify's default). If they are day-first, set date_format=%d/%m/%Y.",
                name=name,
                example=repr(exc.example),
            ),
            "warning",
        )
        return MONTH_FIRST


def _project_lookup(ctx) -> tuple[dict, dict[str, list], Any]:
    """Projects by "client / project" and by project name (casefolded), and the default project or None."""
    projects = {}
    names: dict[str, list] = {}
    for project in ctx.projects():
        projects[f"{project.client.name} / {project.name}".casefold()] = project
        names.setdefault(project.name.casefold(), []).append(project)
    default = None
    if ctx.settings.get("default_project"):
        default = projects.get(ctx.settings["default_project"].replace("/", " / ").replace("  ", " ").casefold())
        if default is None:
            raise SyncError(
                Message(
                    "The default project {project} does not exist; write it as Client / Project.",
                    project=repr(ctx.settings["default_project"]),
                )
            )
    return projects, names, default


def _read_rows(path: Path) -> list[dict]:
    """The rows of a Toggl or Clockify CSV export, or SyncError for anything else."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            rows = list(reader)
            header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SyncError(
            Message("{file} is not a readable CSV file ({error}).", file=path.name, error=str(exc))
        ) from None
    except OSError as exc:
        raise SyncError(
            Message("{file} cannot be read ({error}).", file=path.name, error=str(exc.strerror or exc))
        ) from None
    # The header decides, so an empty file or one that is only some other header is refused too.
    if not any(name and name.strip().lower() == "start date" for name in header):
        raise SyncError(
            Message(
                "{file} does not look like a Toggl or Clockify export: it has no 'Start date' column.", file=path.name
            )
        )
    return rows
