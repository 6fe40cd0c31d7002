"""The bundled time-csv plugin: Toggl Track and Clockify CSV exports become work entries, once."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from core.platform import plugin_config
from core.platform.sync import run_sync
from core.plugins import use_plugins
from core.store.audit import AuditRecord
from core.store.models import Client, Invoice, InvoiceLine, Project, SyncHistory, WorkEntry

# Toggl Track, Reports -> Detailed -> Export CSV (the header as Toggl writes it).
TOGGL = """\
User,Email,Client,Project,Task,Description,Billable,Start date,Start time,End date,End time,Duration,Tags,Amount ()
Jana Nováková,jana@example.cz,Acme s.r.o.,Web,,Homepage layout,Yes,2025-03-03,09:00:00,2025-03-03,10:30:00,01:30:00,,
Jana Nováková,jana@example.cz,Acme s.r.o.,Web,,Code review,Yes,2025-03-03,13:00:00,2025-03-03,13:45:00,00:45:00,,
Jana Nováková,jana@example.cz,Beta a.s.,Mobile app,,Release build,No,2025-03-04,08:15:00,2025-03-04,10:15:00,02:00:00,,
Jana Nováková,jana@example.cz,Nobody,Unknown project,,Lunch talk,Yes,2025-03-04,12:00:00,2025-03-04,12:30:00,00:30:00,,
"""

# Clockify, Reports -> Detailed -> Export CSV: US dates, "Duration (decimal)" in hours, a BOM.
CLOCKIFY = """\ufeff"Project","Client","Description","Task","User","Group","Email","Tags","Billable","Start Date","Start Time","End Date","End Time","Duration (h)","Duration (decimal)","Billable Rate (USD)","Billable Amount (USD)"
"Web","Acme s.r.o.","API design","","Jana","","jana@example.cz","","Yes","03/05/2025","09:00:00 AM","03/05/2025","10:15:00 AM","01:15:00","1.25","50.00","62.50"
"Mobile app","Beta a.s.","Bug triage","","Jana","","jana@example.cz","","No","03/06/2025","02:00:00 PM","03/06/2025","02:20:00 PM","00:20:00","0.33","0.00","0.00"
"""


@pytest.fixture
def books(database):
    use_plugins(None)  # the bundled registry, where time-csv lives
    acme = Client.create(name="Acme s.r.o.")
    beta = Client.create(name="Beta a.s.")
    web = Project.create(client=acme, name="Web")
    mobile = Project.create(client=beta, name="Mobile app")
    yield {"web": web, "mobile": mobile, "acme": acme}
    use_plugins(None)


def export(tmp_path: Path, text: str, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def use_file(path: Path, **settings) -> None:
    plugin_config.configure("time-csv", {"path": str(path), **settings})
    plugin_config.set_enabled("time-csv", True)


def entries() -> dict[str, WorkEntry]:
    return {e.description: e for e in WorkEntry.select()}


def test_toggl_export(books, tmp_path):
    use_file(export(tmp_path, TOGGL))
    lines = []
    outcome = run_sync("time-csv", on_log=lines.append)
    assert outcome.status == "completed", outcome.error
    got = entries()
    assert sorted(got) == ["Code review", "Homepage layout", "Release build"]
    layout = got["Homepage layout"]
    assert (layout.project_id, layout.date, layout.minutes, layout.billable) == (
        books["web"].id,
        date(2025, 3, 3),
        90,
        True,
    )
    assert got["Code review"].minutes == 45
    release = got["Release build"]
    assert (release.project_id, release.minutes, release.billable) == (books["mobile"].id, 120, False)
    assert all(e.source == "time-csv" and e.external_id and e.kind == "time" for e in got.values())
    assert (outcome.counts.processed, outcome.counts.created, outcome.counts.skipped) == (3, 3, 0)
    assert outcome.metadata == {"file": "export.csv", "rows": 4, "skipped_rows": 1}
    assert any("Reading 4 rows from export.csv" in line for line in lines)
    assert any("WARNING" in line and "Row 5: no project Nobody / Unknown project; skipped" in line for line in lines)
    records = AuditRecord.select().where(AuditRecord.table_name == "work_entries")
    assert {(r.source, r.sync_run, r.action) for r in records} == {("time-csv", outcome.run_id, "create")}
    assert records.count() == 3


def test_clockify_export(books, tmp_path):
    use_file(export(tmp_path, CLOCKIFY, "Clockify_Time_Report_Detailed.csv"))
    outcome = run_sync("time-csv")
    assert outcome.status == "completed", outcome.error
    got = entries()
    assert sorted(got) == ["API design", "Bug triage"]
    design = got["API design"]
    assert (design.project_id, design.date, design.minutes, design.billable) == (
        books["web"].id,
        date(2025, 3, 5),
        75,
        True,
    )
    triage = got["Bug triage"]
    assert (triage.project_id, triage.date, triage.minutes, triage.billable) == (
        books["mobile"].id,
        date(2025, 3, 6),
        20,
        False,
    )


@pytest.mark.parametrize("text", [TOGGL, CLOCKIFY], ids=["toggl", "clockify"])
def test_reimporting_the_same_export_creates_nothing(books, tmp_path, text):
    use_file(export(tmp_path, text))
    first = run_sync("time-csv")
    before = (list(WorkEntry.select().dicts()), AuditRecord.select().count())
    second = run_sync("time-csv")
    assert second.status == "completed"
    assert (second.counts.created, second.counts.updated, second.counts.skipped) == (0, 0, first.counts.created)
    assert (list(WorkEntry.select().dicts()), AuditRecord.select().count()) == before


def test_a_changed_duration_updates_the_entry_in_place(books, tmp_path):
    path = export(tmp_path, TOGGL)
    use_file(path)
    run_sync("time-csv")
    layout_id = entries()["Homepage layout"].id
    path.write_text(TOGGL.replace("10:30:00,01:30:00", "11:00:00,02:00:00"), encoding="utf-8")
    outcome = run_sync("time-csv")
    assert (outcome.counts.created, outcome.counts.updated, outcome.counts.skipped) == (0, 1, 2)
    layout = entries()["Homepage layout"]
    assert (layout.id, layout.minutes) == (layout_id, 120)
    update = AuditRecord.get((AuditRecord.sync_run == outcome.run_id) & (AuditRecord.action == "update"))
    assert update.changes["minutes"] == [90, 120]


def test_billed_entries_are_never_changed_by_a_reimport(books, tmp_path):
    path = export(tmp_path, TOGGL)
    use_file(path)
    run_sync("time-csv")
    layout = entries()["Homepage layout"]
    invoice = Invoice.create(
        number="2025001",
        year=2025,
        seq=1,
        client=books["acme"],
        currency="CZK",
        issued_on=date(2025, 3, 31),
        due_on=date(2025, 4, 14),
    )
    line = InvoiceLine.create(invoice=invoice, description="Web", unit_price=100000, amount=150000)
    layout.invoice_line = line
    layout.save()
    billed_before = WorkEntry.select().where(WorkEntry.id == layout.id).dicts().get()

    # The export changed afterwards: the billed row and an unbilled one both got longer.
    changed = TOGGL.replace("10:30:00,01:30:00", "11:30:00,02:30:00").replace("13:45:00,00:45:00", "14:00:00,01:00:00")
    path.write_text(changed, encoding="utf-8")
    outcome = run_sync("time-csv")
    assert outcome.status == "completed"
    assert (outcome.counts.created, outcome.counts.updated, outcome.counts.skipped) == (0, 1, 2)
    assert WorkEntry.select().where(WorkEntry.id == layout.id).dicts().get() == billed_before
    assert entries()["Code review"].minutes == 60
    assert (
        not AuditRecord.select()
        .where(
            (AuditRecord.sync_run == outcome.run_id)
            & (AuditRecord.row_id == layout.id)
            & (AuditRecord.table_name == "work_entries")
        )
        .exists()
    )


def test_default_project_and_billable_only(books, tmp_path):
    use_file(export(tmp_path, TOGGL), default_project="Acme s.r.o./Web", billable_only="yes")
    outcome = run_sync("time-csv")
    assert outcome.status == "completed", outcome.error
    got = entries()
    # The non-billable release build is left out; the unknown project's row lands on the default project.
    assert sorted(got) == ["Code review", "Homepage layout", "Lunch talk"]
    assert got["Lunch talk"].project_id == books["web"].id
    assert outcome.metadata["skipped_rows"] == 0


def test_a_default_project_that_does_not_exist_is_refused(books, tmp_path):
    use_file(export(tmp_path, TOGGL), default_project="Acme s.r.o. / Nope")
    outcome = run_sync("time-csv")
    assert outcome.status == "failed"
    assert outcome.error == "The default project 'Acme s.r.o. / Nope' does not exist; write it as Client / Project."
    assert WorkEntry.select().count() == 0


def test_a_missing_file_is_refused_with_a_message(books, tmp_path):
    use_file(tmp_path / "gone.csv")
    outcome = run_sync("time-csv")
    run = SyncHistory.get_by_id(outcome.run_id)
    assert run.status == "failed" and run.error_backtrace is None
    assert run.error_message == (
        f"The file {tmp_path / 'gone.csv'} does not exist (check the CSV export file setting)."
    )


@pytest.mark.parametrize(
    "name, content, says",
    [
        (
            "photo.csv",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\xff\xfe",
            "photo.csv is not a readable CSV file",
        ),
        (
            "notes.csv",
            "Dear diary,\nToday I worked a lot.\n".encode(),
            "notes.csv does not look like a Toggl or Clockify export",
        ),
        ("header.csv", b"Name,Amount\n", "header.csv does not look like a Toggl or Clockify export"),
        ("empty.csv", b"", "empty.csv does not look like a Toggl or Clockify export"),
        (
            "data.json",
            json.dumps([{"start": "2025-03-01", "minutes": 30}]).encode(),
            "does not look like a Toggl or Clockify",
        ),
    ],
)
def test_a_file_that_is_not_a_time_export_is_refused(books, tmp_path, name, content, says):
    path = tmp_path / name
    path.write_bytes(content)
    use_file(path)
    outcome = run_sync("time-csv")
    assert outcome.status == "failed"
    assert says in outcome.error
    assert SyncHistory.get_by_id(outcome.run_id).error_backtrace is None
    assert WorkEntry.select().count() == 0


def test_an_export_with_only_its_header_imports_nothing(books, tmp_path):
    use_file(export(tmp_path, TOGGL.splitlines()[0] + "\n"))
    outcome = run_sync("time-csv")
    assert outcome.status == "completed" and outcome.counts.processed == 0


def test_a_bad_row_names_its_line_and_nothing_is_written(books, tmp_path):
    use_file(export(tmp_path, TOGGL.replace("2025-03-04,08:15:00", "next tuesday,08:15:00")))
    outcome = run_sync("time-csv")
    assert outcome.status == "failed"
    assert outcome.error == "export.csv, row 4: unknown date 'next tuesday'."
    assert WorkEntry.select().count() == 0


def test_the_path_must_be_configured(books):
    plugin_config.set_enabled("time-csv", True)
    from core.platform.sync import SyncRefused

    with pytest.raises(SyncRefused, match=r"missing CSV export file \(path\)"):
        run_sync("time-csv")


@pytest.mark.parametrize(
    "change, says",
    [
        (('"1.25"', '"Infinity"'), "row 2: unknown duration 'Infinity' (decimal hours such as 1.25)."),
        (('"1.25"', '"1e999999"'), "row 2: unknown duration '1e999999' (decimal hours such as 1.25)."),
        (('"1.25"', '"1e20"'), "row 2: unknown duration '1e20' (decimal hours such as 1.25)."),
        (('"1.25"', '"NaN"'), "row 2: unknown duration 'NaN' (decimal hours such as 1.25)."),
        (('"1.25"', '"١٫٢٥"'), "row 2: unknown duration '١٫٢٥' (decimal hours such as 1.25)."),
        (('"1.25"', '"99999999"'), "row 2: 5999999940 minutes is longer than a day; log each day separately."),
        (('"03/05/2025"', '"03/05/9999"'), "row 2: 9999-03-05 is outside the dates Fakturka accepts"),
        (('"03/05/2025"', '"٠٣/٠٥/٢٠٢٥"'), "row 2: unknown date '٠٣/٠٥/٢٠٢٥'."),
    ],
    ids=["infinity", "1e999999", "1e20", "nan", "arabic-digits", "99999999-hours", "year-9999", "arabic-date"],
)
def test_a_hostile_clockify_value_names_file_and_row_and_nothing_is_written(books, tmp_path, change, says):
    use_file(export(tmp_path, CLOCKIFY.replace(*change, 1)))
    outcome = run_sync("time-csv")
    assert outcome.status == "failed" and SyncHistory.get_by_id(outcome.run_id).error_backtrace is None
    assert outcome.error.startswith(f"export.csv, {says}")
    assert WorkEntry.select().count() == 0


@pytest.mark.parametrize(
    "change, says",
    [
        (("01:30:00", "99999999:00:00"), "row 2: 5999999940 minutes is longer than a day"),
        (("01:30:00", "1e20:00:00"), "row 2: unknown duration '1e20:00:00'."),
        (("01:30:00", "١:٣٠:٠٠"), "row 2: unknown duration '١:٣٠:٠٠'."),
        (("2025-03-03,09:00:00", "2025-W10-1,09:00:00"), "row 2: unknown date '2025-W10-1'."),
        (("2025-03-03,09:00:00", "0001-03-03,09:00:00"), "row 2: 0001-03-03 is outside the dates Fakturka accepts"),
    ],
    ids=["99999999-hours", "exponent", "arabic-digits", "week-date", "year-1"],
)
def test_a_hostile_toggl_value_names_file_and_row_and_nothing_is_written(books, tmp_path, change, says):
    use_file(export(tmp_path, TOGGL.replace(*change, 1)))
    outcome = run_sync("time-csv")
    assert outcome.status == "failed" and SyncHistory.get_by_id(outcome.run_id).error_backtrace is None
    assert outcome.error.startswith(f"export.csv, {says}")
    assert WorkEntry.select().count() == 0
