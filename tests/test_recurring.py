"""Recurring rules (issue 17): cadence, catch-up, skipped zero amounts, disable/enable, the retainer's
invoice, the audit source, and two runs at once creating each occurrence exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from core.automation.recurring import record_id, rule_records, run_recurring
from core.automation.rules import add_rule, edit_rule, find_rule, next_due, occurrences, set_enabled
from core.billing.clients import add_client, add_project
from core.billing.profile import update_profile
from core.store.models import AuditRecord, Invoice, MoneyTransaction, RecurringRule, SyncHistory, WorkEntry
from core.store.states import InvoiceStatus, RunStatus
from core.values.forms import FormErrors
from core.values.validation import ValidationError

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(database):
    client = add_client(name="Acme s.r.o.", currency="CZK")
    return add_project(client, name="Retainer")


def days_of(rule_id: int) -> list[date]:
    rule = RecurringRule.get_by_id(rule_id)
    entries = WorkEntry.select().where(WorkEntry.source == "recurring")
    movements = MoneyTransaction.select().where(MoneyTransaction.source == "recurring")
    ids = [e.external_id for e in entries] + [m.external_id for m in movements]
    prefix = f"rule:{rule.id}:"
    return sorted(date.fromisoformat(i[len(prefix) :]) for i in ids if i.startswith(prefix))


# -- cadence -----------------------------------------------------------------------------------------


def test_monthly_on_the_31st_is_each_months_last_day_in_a_leap_year(project):
    rule = add_rule(name="Retainer", project=project, amount="20000", cadence="monthly", on="31", start_on="2028-01-01")
    assert list(occurrences(rule, date(2028, 1, 1), date(2028, 5, 31))) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
        date(2028, 5, 31),
    ]


def test_monthly_generation_across_month_ends_creates_one_entry_per_month(project):
    rule = add_rule(name="Retainer", project=project, amount="20000", cadence="monthly", on="30", start_on="2026-12-15")
    outcome = run_recurring(date(2027, 3, 30))
    assert days_of(rule.id) == [date(2026, 12, 30), date(2027, 1, 30), date(2027, 2, 28), date(2027, 3, 30)]
    assert outcome.created == 4 and outcome.skipped == 0
    entry = WorkEntry.get(WorkEntry.external_id == record_id(rule.id, date(2027, 2, 28)))
    assert entry.kind == "fixed" and entry.fixed_amount == 2_000_000 and entry.project_id == project.id
    assert entry.source == "recurring"  # says it is automatic
    assert next_due(RecurringRule.get_by_id(rule.id)) == date(2027, 4, 30)


def test_weekly_on_a_weekday_from_its_start(project):
    rule = add_rule(
        name="Allowance", creates="income", amount="500", currency="CZK", cadence="weekly", on="fri",
        start_on="2026-12-26", counterparty="Grandma",
    )  # fmt: skip
    run_recurring(date(2027, 1, 15))
    assert days_of(rule.id) == [date(2027, 1, 1), date(2027, 1, 8), date(2027, 1, 15)]  # never before the start
    movement = MoneyTransaction.get(MoneyTransaction.external_id == record_id(rule.id, date(2027, 1, 8)))
    assert (movement.transaction_type, movement.amount, movement.counterparty) == ("income", 50_000, "Grandma")


def test_yearly_on_the_29th_of_february_falls_on_the_28th_in_other_years(project):
    rule = add_rule(
        name="Domain", creates="expense", amount="350", currency="CZK", cadence="yearly", on="02-29",
        start_on="2027-01-01",
    )  # fmt: skip
    run_recurring(date(2029, 3, 1))
    assert days_of(rule.id) == [date(2027, 2, 28), date(2028, 2, 29), date(2029, 2, 28)]


def test_an_end_date_stops_the_rule(project):
    rule = add_rule(
        name="Short", project=project, amount="100", cadence="weekly", on="mon", start_on="2027-01-01",
        end_on="2027-01-20",
    )  # fmt: skip
    run_recurring(date(2027, 3, 1))
    assert days_of(rule.id) == [date(2027, 1, 4), date(2027, 1, 11), date(2027, 1, 18)]
    assert next_due(RecurringRule.get_by_id(rule.id)) is None


# -- semantics -----------------------------------------------------------------------------------------


def test_a_run_twice_creates_nothing_the_second_time(project):
    add_rule(name="Retainer", project=project, amount="20000", cadence="monthly", on="1", start_on="2027-01-01")
    assert run_recurring(date(2027, 2, 10)).created == 2
    again = run_recurring(date(2027, 2, 10))
    assert (again.created, again.skipped, again.run_id) == (0, 0, None)  # nothing due: no history row either
    assert SyncHistory.select().where(SyncHistory.plugin_name == "recurring").count() == 1


def test_catch_up_after_weeks_without_a_run(project):
    rule = add_rule(name="Weekly", project=project, amount="1000", cadence="weekly", on="wed", start_on="2027-01-01")
    run_recurring(date(2027, 1, 6))
    assert days_of(rule.id) == [date(2027, 1, 6)]
    outcome = run_recurring(date(2027, 2, 5))  # four weeks later
    assert outcome.created == 4
    assert days_of(rule.id)[-4:] == [date(2027, 1, 13), date(2027, 1, 20), date(2027, 1, 27), date(2027, 2, 3)]


def test_disable_then_enable_keeps_the_amount_and_creates_the_missed_occurrences(project):
    rule = add_rule(name="Retainer", project=project, amount="20000", cadence="monthly", on="1", start_on="2027-01-01")
    run_recurring(date(2027, 1, 5))
    set_enabled(rule, False)
    assert run_recurring(date(2027, 4, 5)).created == 0  # disabled: nothing, and nothing is lost
    rule = set_enabled(RecurringRule.get_by_id(rule.id), True)
    assert rule.amount == 2_000_000  # kept: no re-entry
    outcome = run_recurring(date(2027, 4, 5))
    assert outcome.created == 3
    assert days_of(rule.id) == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 1)]
    assert {e.fixed_amount for e in WorkEntry.select().where(WorkEntry.source == "recurring")} == {2_000_000}


def test_an_amount_of_zero_is_skipped_and_counted(project):
    rule = add_rule(name="Paused", project=project, amount="0", cadence="monthly", on="15", start_on="2027-01-01")
    outcome = run_recurring(date(2027, 3, 20))
    assert (outcome.created, outcome.skipped) == (0, 3)
    assert days_of(rule.id) == []
    run = SyncHistory.get_by_id(outcome.run_id)
    assert (run.records_created, run.records_skipped, run.status) == (0, 3, RunStatus.COMPLETED)
    assert "skipped (the amount is 0)" in run.log
    # Skipped occurrences are handled: a later amount does not reach back to them.
    edit_rule(RecurringRule.get_by_id(rule.id), amount="500")
    assert run_recurring(date(2027, 4, 20)).created == 1
    assert days_of(rule.id) == [date(2027, 4, 15)]


def test_a_new_start_never_handles_an_occurrence_twice(project):
    rule = add_rule(name="Retainer", project=project, amount="100", cadence="monthly", on="1", start_on="2027-03-01")
    run_recurring(date(2027, 3, 10))
    edit_rule(RecurringRule.get_by_id(rule.id), start_on="2027-01-01")  # earlier than what was handled
    run_recurring(date(2027, 4, 10))
    assert days_of(rule.id) == [date(2027, 3, 1), date(2027, 4, 1)]


def test_every_record_is_audited_with_the_source_recurring_and_its_run(project):
    add_rule(
        name="Netflix", creates="expense", amount="299", currency="CZK", cadence="monthly", on="5",
        start_on="2027-01-01",
    )  # fmt: skip
    outcome = run_recurring(date(2027, 2, 6))
    records = list(AuditRecord.select().where(AuditRecord.sync_run == outcome.run_id))
    assert records and {r.source for r in records} == {"recurring"}
    assert {r.table_name for r in records} == {"money_transactions", "recurring_rules"}
    assert sum(r.table_name == "money_transactions" and r.action == "create" for r in records) == 2


def test_the_retainers_invoice_is_issued_as_a_draft_or_as_sent(project):
    update_profile(
        {
            "name": "Jana Nováková",
            "address": "Korunní 1\n120 00 Praha",
            "ico": "25596641",
            "iban": "CZ6508000000192000145399",
        }
    )
    draft = add_rule(
        name="Retainer", project=project, amount="20000", cadence="monthly", on="1", start_on="2027-01-01",
        invoice="draft",
    )  # fmt: skip
    outcome = run_recurring(date(2027, 1, 3))
    invoice = Invoice.get(Invoice.number == outcome.invoices[0])
    assert invoice.status == InvoiceStatus.DRAFT and invoice.total >= 2_000_000
    entry = WorkEntry.get(WorkEntry.external_id == record_id(draft.id, date(2027, 1, 1)))
    assert entry.invoice_line is not None and entry.invoice_line.invoice_id == invoice.id
    edit_rule(RecurringRule.get_by_id(draft.id), invoice="sent")
    outcome = run_recurring(date(2027, 2, 3))
    assert Invoice.get(Invoice.number == outcome.invoices[0]).status == InvoiceStatus.SENT


def test_a_rule_that_fails_creates_nothing_and_says_why(project):
    # No business profile: the retainer's invoice cannot be issued, so its entry is not created either.
    rule = add_rule(
        name="Retainer", project=project, amount="20000", cadence="monthly", on="1", start_on="2027-01-01",
        invoice="draft",
    )  # fmt: skip
    outcome = run_recurring(date(2027, 1, 3))
    assert outcome.created == 0 and len(outcome.failures) == 1
    assert "Retainer" in outcome.failures[0] and "business profile" in outcome.failures[0]
    assert days_of(rule.id) == []
    assert SyncHistory.get_by_id(outcome.run_id).status == RunStatus.FAILED
    assert RecurringRule.get_by_id(rule.id).next_on == date(2027, 1, 1)  # tried again next time


# -- what a person types ----------------------------------------------------------------------------


def test_refusals_name_the_field(project):
    with pytest.raises(FormErrors) as info:
        add_rule(name="Bad", project=project, amount="-5", cadence="monthly", on="32")
    assert set(info.value.errors) == {"amount", "on"}
    with pytest.raises(ValidationError) as info:
        add_rule(name="No project", amount="5", cadence="weekly")
    assert info.value.field == "project"
    with pytest.raises(ValidationError) as info:
        add_rule(name="Inv", creates="income", amount="5", cadence="weekly", invoice="draft")
    assert info.value.field == "invoice"
    assert RecurringRule.select().count() == 0


def test_a_rule_is_found_by_id_or_name(project):
    rule = add_rule(name="Retainer", project=project, amount="1", cadence="weekly")
    assert find_rule(str(rule.id)).id == rule.id and find_rule("retainer").id == rule.id
    assert rule_records(rule) == []


# -- two runs at once -------------------------------------------------------------------------------

RUNNER = """
import sys
from datetime import date
from core.store.db import open_database
from core.automation.recurring import run_recurring
open_database()
sys.stdin.readline()  # both processes start, then go at once
print(run_recurring(date(2027, 6, 30)).created)
"""


def test_two_runs_started_at_once_create_each_occurrence_exactly_once(project, fakturka_home):
    rule = add_rule(name="Daily-ish", project=project, amount="10", cadence="weekly", on="mon", start_on="2027-01-01")
    env = dict(os.environ, FAKTURKA_HOME=str(fakturka_home))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RUNNER], cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    created = [int(proc.communicate(timeout=60)[0].strip()) for proc in procs]
    assert sorted(created) == [0, 26] or sum(created) == 26  # split or not, 26 Mondays in all
    assert len(days_of(rule.id)) == 26 == len(set(days_of(rule.id)))


def test_two_run_due_commands_at_once_create_each_occurrence_exactly_once(project, fakturka_home):
    rule = add_rule(name="Weekly", project=project, amount="10", cadence="weekly", on="tue", start_on="2026-01-01")
    env = dict(os.environ, FAKTURKA_HOME=str(fakturka_home))
    command = [sys.executable, "-m", "fakturka", "run-due"]
    procs = [subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "ab"]
    results = [proc.communicate(timeout=60) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    assert all(out == b"" and err == b"" for out, err in results)  # quiet when all is well
    days = days_of(rule.id)
    assert len(days) == len(set(days)) and days[-1] <= date.today()
    assert days == list(occurrences(RecurringRule.get_by_id(rule.id), date(2026, 1, 1), date.today()))
