"""Bank statements from files: ISO 20022 camt.053 (XML), Fio's CSV export, or any CSV with a column mapping.

The ``path`` setting is one file, or a folder: then every ``*.xml`` and
``*.csv`` file directly in it (not in sub-folders; hidden and ``~`` files
ignored) is a statement, and a re-sync reads only the files that are new or
changed since the last successful run (their size, modification time and
SHA-256 are kept in the plugin's state; a file that was only touched is
hashed, recognised and not parsed again). A single file is read on every
sync. Either way, importing the same movements again creates nothing: each
one has a stable external id, so it is found and left alone (or updated if
the bank changed it). One bad statement fails the whole run and nothing is
saved; the message names the file (and the row or entry). A file in a
watched folder that is no statement at all (an unrelated XML or CSV, an
empty file: ``NotAStatement``) is skipped with a warning and listed in the
run's ``skipped_files``; the other files are imported. A single file that is
no statement fails the run as before.

Limits: a file larger than ``max_file_mb`` (default 50 MB) or with a field
longer than ``max_field_length`` characters (default 2,048: the longest
text ISO 20022 allows in a camt.053 field) is refused with a sentence naming
the setting. Files are read as streams (camt.053 entry by entry, CSV row by
row), so memory follows the movements kept, not the file's text.

The format is detected from the content (``format = auto``): XML whose root is
``Document`` in a ``camt.053.001.NN`` namespace is a statement; a CSV with
Fio's header (``ID pohybu`` or ``ID operace``, ``Datum``, ``Objem``) is a Fio
export; any other CSV needs ``csv_mapping``, or a ``preset`` naming the bank
(core.banking.formats.presets: it fills the format, the mapping and the
account currency; a mapping or currency set explicitly wins).

This module is the plugin only: the formats are read by core.banking.formats
(one module per format: ``camt053``, ``fio_csv``, ``generic_csv``), whose
docstrings hold the decisions (direction and reversals, batch bookings,
external ids, variable symbols, rounding, encodings). A reader's refusal
(``StatementError``) becomes this plugin's ``SyncError`` with the same sentence.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.banking.formats import (
    DEFAULT_LIMITS,
    DEFAULT_TIMEZONE,
    FORMATS,
    MAPPING_HELP,
    MB,
    FileResult,
    Limits,
    NotAStatement,
    Source,
    StatementError,
    is_currency_code,
    parse_mapping,
    parse_statement,
    time_zone,
)
from core.banking.formats.movement import Trimmed
from core.banking.formats.presets import PRESET_NAMES, PRESETS, preset_help
from core.plugins.base import Bool, Choice, Message, Number, PathField, Plugin, SyncError, Text, message_of

STATEMENT_SUFFIXES = (".xml", ".csv")
HASH_CHUNK = 1024 * 1024
# "...; nothing was imported." ends a reader's refusal (in English or Czech); a skipped file in a folder does not
# stop the others.
NOTHING_IMPORTED = re.compile(r"[;.]?\s*(?:nothing was imported|nic nebylo importováno)\.$", re.IGNORECASE)


class BankStatementImport(Plugin):
    name = "bank-statement"
    version = "1.1.0"
    fields = [
        PathField(
            "path",
            "Statement file or folder",
            required=True,
            help="A bank statement file (camt.053 XML or CSV), or a folder: then its new .xml and .csv "
            "files are imported on each sync. Importing a file again creates nothing new.",
        ),
        Choice(
            "format",
            "Format",
            FORMATS,
            default="auto",
            help="auto: detected from the content (camt.053 XML, Fio CSV export, or a CSV read with the "
            "column mapping). camt053: ISO 20022 bank statement, versions .02 to .08. fio-csv: Fio "
            "banka's CSV export. csv: another bank's CSV, read with the column mapping.",
        ),
        Choice("preset", "Bank preset", PRESET_NAMES, help=preset_help()),
        Text("csv_mapping", "CSV column mapping", help=MAPPING_HELP),
        Bool(
            "include_pending",
            "Include pending entries",
            default=False,
            help="camt.053 only. Off: only booked entries (status BOOK) are imported; pending (PDNG) and "
            "information (INFO) entries are skipped and counted in the log.",
        ),
        Text(
            "account_currency",
            "Account currency",
            help="ISO code such as CZK, for files that name no currency on a movement (a CSV without a "
            "currency column, a statement without Ccy).",
        ),
        Text(
            "timezone",
            "Time zone",
            default=DEFAULT_TIMEZONE,
            help="IANA name such as Europe/Prague, for statements that give booking times with an offset: "
            "the day of such a time is the day in this zone.",
        ),
        Number(
            "max_file_mb",
            "Largest statement file (MB)",
            default=DEFAULT_LIMITS.max_file_bytes // MB,
            help="A larger file is refused before it is read (a year of a busy account is a few MB).",
        ),
        Number(
            "max_field_length",
            "Longest field (characters)",
            default=DEFAULT_LIMITS.max_field_length,
            help="A file with a longer text in any field is refused. ISO 20022 allows at most 2,048 "
            "characters in a camt.053 text; Fakturka stores at most 4,096 in one field anyway.",
        ),
    ]

    def sync(self, ctx):
        try:
            options = _options(ctx.settings)
            target = Path(str(ctx.settings["path"])).expanduser()
            known: dict[str, dict] = dict((ctx.state or {}).get("files") or {})
            candidates, others = _candidates(target)
            folder = target.is_dir()
            to_read, unchanged = _changed(candidates, known, folder)
            if folder:
                ctx.log(_folder_line(target, len(candidates), len(to_read), len(unchanged), others))
            results, skipped_files = _read_files(ctx, to_read, known, unchanged, folder, options)
        except StatementError as exc:
            raise SyncError(message_of(exc)) from None
        total = sum(result.stored for result in results)
        if folder:  # forget files that left the folder
            folder_key = str(target.resolve())
            present = {str(p.resolve()) for p in candidates}
            known = {k: v for k, v in known.items() if str(Path(k).parent) != folder_key or k in present}
        ctx.state = {**(ctx.state or {}), "files": known}
        ctx.metadata.update(
            path=str(target),
            files=[result.name for result in results],
            unchanged_files=unchanged,
            entries=total,
            skipped=sum(result.pending for result in results),
            zero_amounts=sum(result.ignored for result in results),
        )
        if skipped_files:
            ctx.metadata["skipped_files"] = skipped_files


def _folder_line(target: Path, statements: int, new: int, unchanged: int, others: int) -> Message:
    """The log line of a folder: its statement files, how many are new or changed, the other files ignored."""
    if others:
        return Message(
            "Folder {folder}: {statements} statement file(s), {new} new or changed, {unchanged} already imported; "
            "{others} other file(s) ignored (only .xml and .csv are read).",
            folder=str(target),
            statements=statements,
            new=new,
            unchanged=unchanged,
            others=others,
        )
    return Message(
        "Folder {folder}: {statements} statement file(s), {new} new or changed, {unchanged} already imported.",
        folder=str(target),
        statements=statements,
        new=new,
        unchanged=unchanged,
    )


def _options(settings) -> dict:
    """The settings ``parse_statement`` is called with, checked before any file is read."""
    fmt = settings.get("format") or "auto"
    if fmt not in FORMATS:
        raise SyncError(
            Message(
                "The format {format} is unknown; choose one of {formats}.", format=repr(fmt), formats=", ".join(FORMATS)
            )
        )
    preset_name = (settings.get("preset") or "").strip()
    preset = PRESETS.get(preset_name)
    if preset_name and preset is None:
        raise SyncError(
            Message(
                "The bank preset {preset} is unknown; choose one of {presets}.",
                preset=repr(preset_name),
                presets=", ".join(PRESET_NAMES),
            )
        )
    if preset is not None and fmt == "auto":
        fmt = preset.format
    account_currency = (settings.get("account_currency") or "").strip().upper()
    if preset is not None and not account_currency:
        account_currency = preset.currency
    if account_currency and not is_currency_code(account_currency):
        raise SyncError(
            Message(
                "The account currency {currency} is not a currency code (three letters such as CZK or EUR).",
                currency=repr(account_currency),
            )
        )
    mapping_text = (settings.get("csv_mapping") or "").strip() or (preset.mapping if preset else "")
    mapping = parse_mapping(mapping_text) if mapping_text else None
    if fmt == "csv" and mapping is None:
        raise SyncError(Message("The format csv needs the CSV column mapping setting (e.g. date=Date,amount=Amount)."))
    if mapping is not None and "currency" not in mapping.columns and not account_currency and fmt == "csv":
        raise SyncError(
            Message(
                "The CSV column mapping names no currency column and the account currency setting is "
                "empty: set one of them."
            )
        )
    include_pending = bool(settings.get("include_pending"))
    limits = Limits(
        max_file_bytes=int(_positive(settings, "max_file_mb") * MB),
        max_field_length=int(_positive(settings, "max_field_length")),
    )
    timezone = (settings.get("timezone") or "").strip() or DEFAULT_TIMEZONE
    try:
        time_zone(timezone)  # a typo is named before any file is read
    except StatementError as exc:
        raise SyncError(message_of(exc)) from None
    return dict(
        fmt=fmt,
        mapping=mapping,
        include_pending=include_pending,
        account_currency=account_currency,
        limits=limits,
        timezone=timezone,
    )


def _positive(settings, key: str) -> Decimal:
    """A limit setting as a number above zero (its default when unset), or SyncError naming the setting."""
    value = settings.get(key)
    if value is None or value == "":
        value = next(field.default for field in BankStatementImport.fields if field.key == key)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = Decimal(0)
    # Above a billion neither limit means anything; a length is at least one character.
    if not number.is_finite() or number <= 0 or number > 10**9 or (key == "max_field_length" and number < 1):
        if key == "max_file_mb":
            raise SyncError(
                Message(
                    "The setting Largest statement file (max_file_mb) must be a number of megabytes above 0, "
                    "not {value}.",
                    value=repr(value),
                )
            )
        raise SyncError(
            Message(
                "The setting Longest field (max_field_length) must be a number of characters above 0, not {value}.",
                value=repr(value),
            )
        )
    return number


def _candidates(target: Path) -> tuple[list[Path], int]:
    """The statement files at ``target`` (one file, or a folder's .xml and .csv files) and how many were ignored."""
    if not target.exists():
        raise SyncError(
            Message(
                "The statement path {path} does not exist (check the Statement file or folder setting).",
                path=str(target),
            )
        )
    if not target.is_dir():
        if target.is_file():
            return [target], 0
        raise SyncError(Message("The statement path {path} is neither a file nor a folder.", path=str(target)))
    try:
        entries = sorted(target.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise SyncError(
            Message("The folder {folder} cannot be read ({error}).", folder=str(target), error=str(exc.strerror or exc))
        ) from None
    candidates = [
        p
        for p in entries
        if p.is_file() and p.suffix.lower() in STATEMENT_SUFFIXES and not p.name.startswith((".", "~"))
    ]
    return candidates, sum(1 for p in entries if p.is_file()) - len(candidates)


def _changed(candidates: list[Path], known: dict, folder: bool) -> tuple[list, list[str]]:
    """``([(path, state key, stat)] to read, [names unchanged])``: in a folder, same size and mtime is unchanged."""
    to_read, unchanged = [], []
    for path in candidates:
        try:
            stat = path.stat()
        except OSError as exc:
            raise _unreadable(path, exc) from None
        key = str(path.resolve())
        seen = known.get(key)
        if folder and seen and seen.get("size") == stat.st_size and seen.get("mtime_ns") == stat.st_mtime_ns:
            unchanged.append(path.name)
        else:
            to_read.append((path, key, stat))
    return to_read, unchanged


def _read_files(
    ctx, to_read: list, known: dict, unchanged: list[str], folder: bool, options: dict
) -> tuple[list[FileResult], list[str]]:
    """Parse every file to read (a folder's file with a known SHA-256 is skipped, and so is one that is no
    statement, with a warning); ``known`` is updated. Returns the results and the names skipped as no statement."""
    results: list[FileResult] = []
    skipped: list[str] = []
    limits: Limits = options["limits"]
    for done, (path, key, stat) in enumerate(to_read, start=1):
        # A file over the size limit is not hashed: parse_statement refuses it after its first bytes.
        digest = _sha256(path) if stat.st_size <= limits.max_file_bytes else ""
        record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
        if folder and digest and (known.get(key) or {}).get("sha256") == digest:
            known[key] = record
            unchanged.append(path.name)
            ctx.log(Message("{file}: content unchanged since it was imported; not read again.", file=path.name))
            ctx.progress(done, len(to_read))
            continue
        try:
            result = parse_statement(Source(path=path), path.name, **options)
        except NotAStatement as exc:
            if not folder:
                raise
            skipped.append(path.name)
            ctx.skip(Message("file {file} is not a statement", file=path.name))
            reason = Trimmed(message_of(exc), NOTHING_IMPORTED, ".")
            ctx.log(
                Message("Skipped, not a statement: {reason} The folder's other files are read.", reason=reason),
                "warning",
            )
            ctx.progress(done, len(to_read))
            continue
        _log_file(ctx, result)
        known[key] = record
        ctx.progress(done, len(to_read))
        _store(ctx, result)  # now: the file's movements are let go as the run collects them
        results.append(result)
    return results, skipped


def _sha256(path: Path) -> str:
    """The file's SHA-256, read in chunks (a statement may be large)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(HASH_CHUNK):
                digest.update(chunk)
    except OSError as exc:
        raise _unreadable(path, exc) from None
    return digest.hexdigest()


def _unreadable(path: Path, exc: OSError) -> SyncError:
    return SyncError(
        Message(
            "{name} cannot be read ({error}); nothing was imported.", name=path.name, error=str(exc.strerror or exc)
        )
    )


def _log_file(ctx, result: FileResult) -> None:
    for warning in result.warnings:
        ctx.log(warning, "warning")
    ctx.log(_file_line(result))
    ctx.skip(Message("entry not booked (pending or information; Include pending entries is off)"), result.pending)
    ctx.skip(Message("zero amount"), result.ignored)


def _file_line(result: FileResult) -> Message:
    """``name (label, account ...): N entries, N pending skipped, N zero amounts skipped.``"""
    count, pending, ignored = len(result.movements), result.pending, result.ignored
    skipped: str = ""
    if pending and ignored:
        skipped = Message(
            ", {pending} pending skipped, {ignored} zero amounts skipped", pending=pending, ignored=ignored
        )
    elif pending:
        skipped = Message(", {pending} pending skipped", pending=pending)
    elif ignored:
        skipped = Message(", {ignored} zero amounts skipped", ignored=ignored)
    name, label, accounts = result.name, result.label, ", ".join(result.accounts)
    if result.accounts and count == 1:
        return Message(
            "{name} ({label}, account {accounts}): 1 entry{skipped}.",
            name=name,
            label=label,
            accounts=accounts,
            skipped=skipped,
        )
    if result.accounts:
        return Message(
            "{name} ({label}, account {accounts}): {count} entries{skipped}.",
            name=name,
            label=label,
            accounts=accounts,
            count=count,
            skipped=skipped,
        )
    if count == 1:
        return Message("{name} ({label}): 1 entry{skipped}.", name=name, label=label, skipped=skipped)
    return Message("{name} ({label}): {count} entries{skipped}.", name=name, label=label, count=count, skipped=skipped)


def _store(ctx, result: FileResult) -> None:
    """Upsert every movement of the file, letting each go once it is handed over (the run keeps its own)."""
    movements: list = result.movements  # each slot emptied (None) once stored
    result.movements = []
    total = result.stored = len(movements)
    for index in range(total):
        movement, movements[index] = movements[index], None
        ctx.upsert_transaction(
            external_id=movement.external_id,
            transaction_type=movement.transaction_type,
            amount=movement.amount,
            currency=movement.currency,
            transacted_on=movement.transacted_on,
            description=movement.description,
            counterparty=movement.counterparty,
            counterparty_account=movement.counterparty_account,
            reference=movement.reference,
            raw_data=movement.raw_data,
        )
        ctx.progress(index + 1, total)
