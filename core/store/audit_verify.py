"""The audit replay: rebuild every audited row from its audit records and compare it with the stored row.

``fakturka audit verify`` runs :func:`verify_audit`. Per audited table, the records are read in
``(row id, record id)`` order (the ``(table_name, row_id)`` index, so no sort) beside the stored rows in
id order, and the two sorted streams are merged one row at a time: nothing is loaded whole, and a row
whose only record is its create and whose stored values render to the same text (SQLite renders the
stored row as a create record, :mod:`core.store.audit_sql`) is checked without decoding any JSON.

What it reports (each a :class:`Finding`):

- ``changed``: a stored value differs from the value the records replay to (written behind the audit);
- ``unaudited``: a stored row no record creates; ``revived``: a stored row whose records end with its
  deletion; ``missing``: a row the records say exists, but it is not stored;
- ``chain``: records that do not follow from each other (an update or delete whose "before" is not the
  replayed value, a record after a delete, a first record that is no create, a malformed record);
- ``gap``: record ids missing from the sequence (ids are assigned max + 1, so only a deleted record
  leaves one); ``unknown_table``: records naming a table that is not audited;
- ``trigger``: an append-only trigger missing or changed, or a trigger no migration made.

What it cannot see is written in docs/architecture.md (audit trail): a forged chain that is consistent
with the forged rows, the last records deleted together with the changes they recorded, and any
change of a redacted (secret) value, recorded as ``"***"`` either way.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from itertools import groupby
from typing import Any, Iterator

from core.store.audit_records import UNTRACKED_FIELDS, AuditRecord, diff
from core.store.audit_sql import created_changes_sql
from core.store.base import JSONField
from core.store.migrations import expected_triggers
from core.store.models import AUDITED_MODELS
from core.values.messages import Message
from core.values.text import for_terminal

# A report keeps this many findings (and counts all): a file rewritten wholesale must not exhaust memory.
MAX_KEPT_FINDINGS = 10_000
SHOWN_VALUE_LIMIT = 60

# Columns a migration added to rows that already existed, with the values it gave them. Such a row's
# records never mention the column (a row created since lists every NOT NULL column in its create),
# so a replayed "nothing" beside one of these values is the migration, not a write behind the audit.
MIGRATION_VALUES: dict[tuple[str, str], tuple] = {
    ("business_profile", "default_vat_rate"): ("21",),  # version 3
    ("money_transactions", "match_status"): ("unmatched", "matched"),  # version 4
    ("money_transactions", "match_note"): ({},),  # version 4
}


@dataclass(frozen=True)
class Finding:
    """One difference between the audit trail and the database; ``kind`` is one of the module's list."""

    kind: str
    table: str | None = None
    row_id: int | None = None
    column: str | None = None
    replayed: Any = None  # what the records replay to (for a chain finding: the replay before the record)
    current: Any = None  # what is stored (for a chain finding: what the record says was there)
    record_id: int | None = None
    detail: str = ""


@dataclass
class AuditReport:
    """What :func:`verify_audit` found: counts, and the first :data:`MAX_KEPT_FINDINGS` findings."""

    records: int = 0
    rows: int = 0
    findings: list[Finding] = field(default_factory=list)
    findings_total: int = 0

    @property
    def clean(self) -> bool:
        return self.findings_total == 0

    def add(self, finding: Finding) -> None:
        self.findings_total += 1
        if len(self.findings) < MAX_KEPT_FINDINGS:
            self.findings.append(finding)

    def as_dict(self) -> dict:
        return {
            "clean": self.clean,
            "records": self.records,
            "rows": self.rows,
            "findings_total": self.findings_total,
            "findings": [asdict(finding) for finding in self.findings],
        }


def verify_audit() -> AuditReport:
    """Replay the whole audit trail against the stored rows, in one read snapshot (writers are not blocked)."""
    database = AuditRecord._meta.database
    report = AuditReport()
    with database.atomic(lock_type="DEFERRED"):
        _check_triggers(database, report)
        report.records = database.execute_sql(f'SELECT count(*) FROM "{_AUDIT}"').fetchone()[0]
        _check_gaps(database, report)
        _check_unknown_records(database, report)
        for model in AUDITED_MODELS:
            _replay_table(database, model, report)
    return report


_AUDIT = AuditRecord._meta.table_name


# -- the audit table itself ---------------------------------------------------------------------------


def _check_triggers(database, report: AuditReport) -> None:
    expected = expected_triggers()
    present = {
        name: (table, sql)
        for name, table, sql in database.execute_sql(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
        )
    }
    for name, sql in expected.items():
        if name not in present:
            detail = Message("the append-only trigger {name} is missing", name=name)
            report.add(Finding("trigger", table=_AUDIT, detail=detail))
        elif present[name][1] != sql:
            detail = Message("the append-only trigger {name} has been changed", name=name)
            report.add(Finding("trigger", table=_AUDIT, detail=detail))
    for name, (table, _sql) in present.items():
        if name not in expected:
            detail = Message("the trigger {name} was not made by Fakturka", name=name)
            report.add(Finding("trigger", table=table, detail=detail))


def _check_gaps(database, report: AuditReport) -> None:
    """Ids are max + 1 (no AUTOINCREMENT, a rolled-back insert frees its id), so a hole is a deleted record."""
    holes = database.execute_sql(
        f'SELECT prev + 1, id - 1 FROM (SELECT id, lag(id, 1, 0) OVER (ORDER BY id) AS prev FROM "{_AUDIT}") '
        "WHERE id > prev + 1"
    )
    for first, last in holes:
        if first == last:
            detail = Message("record {first} is missing (deleted)", first=first)
        else:
            detail = Message(
                "the {count} records {first} to {last} are missing (deleted)",
                count=last - first + 1,
                first=first,
                last=last,
            )
        report.add(Finding("gap", table=_AUDIT, record_id=first, detail=detail))


def _check_unknown_records(database, report: AuditReport) -> None:
    audited = [model._meta.table_name for model in AUDITED_MODELS]
    marks = ", ".join("?" * len(audited))
    unknown = database.execute_sql(
        f'SELECT table_name, count(*), min(id) FROM "{_AUDIT}" WHERE table_name NOT IN ({marks}) GROUP BY table_name',
        audited,
    )
    for table, count, first in unknown:
        report.add(
            Finding(
                "unknown_table", table=str(table), record_id=first, detail=Message("{count} record(s)", count=count)
            )
        )
    malformed = database.execute_sql(
        f"SELECT id, table_name, row_id FROM \"{_AUDIT}\" WHERE typeof(row_id) <> 'integer' ORDER BY id"
    )
    for record_id, table, row_id in malformed:
        detail = Message("its row id is not a whole number")
        report.add(Finding("chain", table=str(table), record_id=record_id, current=str(row_id), detail=detail))


# -- one table: records and stored rows, merged by row id ------------------------------------------------

_Record = tuple[int, str, Any]  # (record id, action, changes text)


def _replay_table(database, model, report: AuditReport) -> None:
    table = model._meta.table_name
    records = database.execute_sql(
        f'SELECT row_id, id, action, changes FROM "{_AUDIT}" '
        f"WHERE table_name = ? AND typeof(row_id) = 'integer' ORDER BY row_id, id",
        (table,),
    )
    chains = ((row_id, [row[1:] for row in group]) for row_id, group in groupby(records, key=lambda row: row[0]))
    for row_id, chain, stored in _merged(chains, _stored_rows(database, model)):
        if stored is not None:
            report.rows += 1
        _check_row(table, row_id, chain, stored, report)


def _merged(chains, rows) -> Iterator[tuple[int, list[_Record], tuple | None]]:
    """``(row id, records, stored row)`` for every row id in either sorted stream (records ``[]``, row None)."""
    chain, row = next(chains, None), next(rows, None)
    while chain is not None or row is not None:
        if chain is not None and (row is None or chain[0] < row[0]):
            yield chain[0], chain[1], None
            chain = next(chains, None)
        elif row is not None and (chain is None or row[0] < chain[0]):
            yield row[0], [], row
            row = next(rows, None)
        elif chain is not None and row is not None:  # the same id in both
            yield row[0], chain[1], row
            chain, row = next(chains, None), next(rows, None)


def _stored_rows(database, model) -> Iterator[tuple[int, str | None, dict | None]]:
    """``(id, stored row rendered as a create record's JSON text, None)`` in id order, rendered by SQLite;
    ``(id, None, {field: recorded value})`` from Python where SQLite cannot (damaged JSON, unknown types)."""
    table, pk = model._meta.table_name, model._meta.primary_key.column_name
    changes_sql = created_changes_sql(model, UNTRACKED_FIELDS)
    if changes_sql is not None and _sqlite_can_render(database, model):
        for row_id, text in database.execute_sql(f'SELECT "{pk}", {changes_sql} FROM "{table}" ORDER BY "{pk}"'):
            yield row_id, text, None
        return
    cursor = database.execute_sql(f'SELECT * FROM "{table}" ORDER BY "{pk}"')
    fields = [model._meta.columns.get(column[0]) for column in cursor.description]
    for values in cursor:
        row = {f.name: _python_value(f, value) for f, value in zip(fields, values, strict=True) if f is not None}
        yield row[model._meta.primary_key.name], None, _recorded_values(diff(model, None, row))


def _sqlite_can_render(database, model) -> bool:
    """SQLite's JSON functions stop the whole query at the first damaged document or BLOB value (only a
    hand-edited file has one); a table holding any is read in Python instead."""
    damaged = []
    for f in model._meta.sorted_fields:
        if f.name in UNTRACKED_FIELDS or f.name in model.redacted_fields:
            continue
        damaged.append(f"typeof(\"{f.column_name}\") = 'blob'")
        if isinstance(f, JSONField):
            damaged.append(f'("{f.column_name}" IS NOT NULL AND NOT json_valid("{f.column_name}"))')
    table = model._meta.table_name
    return (
        database.execute_sql(f'SELECT EXISTS (SELECT 1 FROM "{table}" WHERE {" OR ".join(damaged)})').fetchone()[0] == 0
    )


def _python_value(field_, value):
    try:
        return field_.python_value(value)
    except (TypeError, ValueError):  # a damaged value is compared as it is stored
        return value


# -- one row: replay its records, compare with what is stored ----------------------------------------------


def _decoded(text) -> dict | None:
    """A record's ``{field: [before, after]}``, or None when it is not that shape."""
    try:
        changes = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None
    if not isinstance(changes, dict):
        return None
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in changes.values()):
        return None
    return changes


def _recorded_values(changes: dict) -> dict:
    return {name: pair[1] for name, pair in changes.items() if pair[1] is not None}


class _Replay:
    """The state one row's records replay to: its values, or None while it does not exist."""

    def __init__(self, table: str, row_id: int, report: AuditReport):
        self.table, self.row_id, self.report = table, row_id, report
        self.values: dict | None = None  # {column: recorded value}; a column not in it holds nothing
        # The columns the records have spoken of, when they began without a create (else None: all known).
        self.known: set[str] | None = None
        self.deleted_by: int | None = None

    def chain_finding(self, record_id: int, detail: str, column=None, replayed=None, recorded=None) -> None:
        self.report.add(
            Finding("chain", self.table, self.row_id, column, replayed, recorded, record_id=record_id, detail=detail)
        )

    def apply(self, record_id: int, action: str, text) -> None:
        changes = _decoded(text)
        if changes is None:
            self.chain_finding(record_id, Message("its changes are not a JSON object of [before, after] pairs"))
        elif action == "create":
            if self.values is not None:
                self.chain_finding(record_id, Message("it creates the row again while the replay has it"))
            self.values, self.known, self.deleted_by = _recorded_values(changes), None, None
        elif action in ("update", "delete"):
            self._change(record_id, action, changes)
        else:
            self.chain_finding(record_id, Message("its action is not create, update or delete"), recorded=action)

    def _change(self, record_id: int, action: str, changes: dict) -> None:
        if self.values is None:
            if self.deleted_by is not None:
                if action == "update":
                    detail = Message("it is an update after the row's deletion (record {id})", id=self.deleted_by)
                else:
                    detail = Message("it is a delete after the row's deletion (record {id})", id=self.deleted_by)
            elif action == "update":
                detail = Message("it is the row's first record, and it is an update, not a create")
            else:
                detail = Message("it is the row's first record, and it is a delete, not a create")
            self.chain_finding(record_id, detail)
            self.values, self.known = {}, set()
        values = self.values
        before = {name: pair[0] for name, pair in changes.items()}
        # An update names what it changed; a delete names every value the row still had.
        names = before.keys() if action == "update" else before.keys() | values.keys()
        for name in sorted(names):
            if self.known is not None and name not in self.known:
                continue  # nothing known about this column before this record
            if values.get(name) != before.get(name):
                if action == "update":
                    detail = Message("its value before the update is not the replayed one")
                else:
                    detail = Message("its value before the delete is not the replayed one")
                self.chain_finding(record_id, detail, name, values.get(name), before.get(name))
        if action == "delete":
            self.values, self.known, self.deleted_by = None, None, record_id
            return
        for name, (_, after) in changes.items():
            if after is None:
                values.pop(name, None)
            else:
                values[name] = after
        if self.known is not None:
            self.known.update(changes)


def _check_row(table: str, row_id: int, chain: list[_Record], stored: tuple | None, report: AuditReport) -> None:
    if stored is not None and len(chain) == 1 and chain[0][1] == "create" and chain[0][2] == stored[1]:
        return  # created once, never changed, and stored as created: the common case, no JSON decoded
    replay = _Replay(table, row_id, report)
    for record_id, action, text in chain:
        replay.apply(record_id, action, text)
    if stored is None:
        if replay.values is not None:
            report.add(Finding("missing", table, row_id, record_id=chain[-1][0]))
        return
    if replay.values is None:
        kind = "revived" if replay.deleted_by is not None else "unaudited"
        report.add(Finding(kind, table, row_id, record_id=replay.deleted_by))
        return
    current = stored[2] if stored[2] is not None else _recorded_values(json.loads(stored[1]))
    _compare(table, row_id, replay, current, report)


def _compare(table: str, row_id: int, replay: _Replay, current: dict, report: AuditReport) -> None:
    replayed = replay.values or {}
    names = replay.known if replay.known is not None else replayed.keys() | current.keys()
    for name in sorted(names):
        was, now = replayed.get(name), current.get(name)
        if was == now:
            continue
        if was is None and now in MIGRATION_VALUES.get((table, name), ()):
            continue
        report.add(Finding("changed", table, row_id, name, was, now))


# -- for people ---------------------------------------------------------------------------------------------


def shown_value(value) -> str:
    """A stored value as one short terminal-safe token: text quoted, ``nothing`` for null."""
    if value is None:
        return Message("nothing")
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return for_terminal(text, SHOWN_VALUE_LIMIT)


def describe(finding: Finding) -> str:
    """One line for a person; every part read from the file goes through ``for_terminal``."""
    where = for_terminal(f"{finding.table} {finding.row_id}" if finding.row_id is not None else finding.table, 80)
    column = for_terminal(finding.column, 80)
    detail = for_terminal(finding.detail, 160)  # may name a trigger or a table from the file
    if detail == finding.detail:  # nothing to clean: the Message itself, which a face can translate
        detail = finding.detail
    record = Message("audit record {id}", id=finding.record_id)
    kind = finding.kind
    if kind == "changed":
        return Message(
            "{where}: {column} is {current}, but the audit replay gives {replayed} (changed behind the audit)",
            where=where,
            column=column,
            current=shown_value(finding.current),
            replayed=shown_value(finding.replayed),
        )
    if kind == "unaudited":
        return Message("{where}: stored, but no audit record creates it", where=where)
    if kind == "revived":
        return Message(
            "{where}: stored, but its audit trail ends with its deletion ({record})", where=where, record=record
        )
    if kind == "missing":
        return Message(
            "{where}: the audit trail says it exists, but it is not stored (deleted behind the audit)", where=where
        )
    if kind == "chain":
        if finding.column is None:
            return Message(
                "{where}: {record} does not follow from the ones before it: {detail}",
                where=where,
                record=record,
                detail=detail,
            )
        return Message(
            "{where}: {record} does not follow from the ones before it: {detail} "
            "({column}: record says {current}, replay gives {replayed})",
            where=where,
            record=record,
            detail=detail,
            column=column,
            current=shown_value(finding.current),
            replayed=shown_value(finding.replayed),
        )
    if kind == "unknown_table":
        return Message(
            "{detail} name the table {where}, which is not audited (the first is {record})",
            detail=detail,
            where=where,
            record=record,
        )
    return Message("{where}: {detail}", where=where, detail=detail)  # gap, trigger (said "tabulka ..." in Czech)
