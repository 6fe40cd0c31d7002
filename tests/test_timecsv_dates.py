"""Issue 15, kind 8 in the time import (core/plugins/timecsv.py): the order of day and month comes from the
whole file, never a silent swap."""

from __future__ import annotations

from datetime import date

import pytest

from core.platform import plugin_config
from core.platform.sync import run_sync
from core.plugins import use_plugins
from core.store.models import Client, Project, WorkEntry

# Clockify, Reports -> Detailed -> Export CSV, for a person whose date format is DD/MM/YYYY.
HEADER = (
    '"Project","Client","Description","Task","User","Group","Email","Tags","Billable","Start Date","Start Time",'
    '"End Date","End Time","Duration (h)","Duration (decimal)"\n'
)


def row(description: str, day: str) -> str:
    return (
        f'"Web","Acme s.r.o.","{description}","","Jana","","jana@example.cz","","Yes","{day}","09:00:00",'
        f'"{day}","10:00:00","01:00:00","1.00"\n'
    )


@pytest.fixture
def books(database):
    use_plugins(None)
    Project.create(client=Client.create(name="Acme s.r.o."), name="Web")
    yield
    use_plugins(None)


def sync(tmp_path, text: str, **settings):
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    plugin_config.configure("time-csv", {"path": str(path), **settings})
    plugin_config.set_enabled("time-csv", True)
    return run_sync("time-csv")


def days() -> dict[str, date]:
    return {entry.description: entry.date for entry in WorkEntry.select()}


def test_a_day_first_date_makes_every_slash_date_day_first(books, tmp_path):
    outcome = sync(tmp_path, HEADER + row("early", "03/11/2026") + row("late", "25/11/2026"))
    assert outcome.status == "completed", outcome.error
    assert days() == {"early": date(2026, 11, 3), "late": date(2026, 11, 25)}


def test_a_month_first_date_makes_every_slash_date_month_first(books, tmp_path):
    outcome = sync(tmp_path, HEADER + row("early", "03/11/2026") + row("late", "11/25/2026"))
    assert outcome.status == "completed", outcome.error
    assert days() == {"early": date(2026, 3, 11), "late": date(2026, 11, 25)}


def test_a_file_with_both_orders_is_refused_naming_date_format(books, tmp_path):
    outcome = sync(tmp_path, HEADER + row("a", "25/11/2026") + row("b", "11/25/2026"))
    assert outcome.status == "failed"
    assert outcome.error == (
        "export.csv: the dates do not tell day from month ('25/11/2026' is day-first but '11/25/2026' is "
        "month-first); set the date_format setting, e.g. date_format=%d/%m/%Y (day-first) or "
        "date_format=%m/%d/%Y (month-first)."
    )
    assert WorkEntry.select().count() == 0


def test_a_file_that_cannot_tell_is_read_month_first_and_says_so(books, tmp_path):
    outcome = sync(tmp_path, HEADER + row("a", "03/11/2026"))
    assert outcome.status == "completed"
    assert days() == {"a": date(2026, 3, 11)}
    assert any("read month-first" in line and "date_format=%d/%m/%Y" in line for line in outcome.log)


def test_the_date_format_setting_decides(books, tmp_path):
    outcome = sync(tmp_path, HEADER + row("a", "03/11/2026"), date_format="%d/%m/%Y")
    assert outcome.status == "completed", outcome.error
    assert days() == {"a": date(2026, 11, 3)}
    refused = sync(tmp_path, HEADER + row("b", "2026-11-04"), date_format="%d/%m/%Y")
    assert refused.status == "failed"
    assert refused.error == "export.csv, row 2: unknown date '2026-11-04' (expected %d/%m/%Y, the date_format setting)."
