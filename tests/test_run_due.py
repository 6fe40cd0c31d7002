"""Running what is due (issue 17): plugin schedules, reminders and their expiry warnings, ``fakturka run-due``."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import pytest

from core.automation.due import run_due
from core.automation.reminders import WARN_DAYS, reminders
from core.automation.rules import add_rule
from core.automation.schedule import Schedule, due_plugins, latest_moment, parse_schedule, set_schedule
from core.billing.clients import add_client, add_project
from core.platform import plugin_config
from core.plugins import use_plugins
from core.plugins.base import Date, Plugin, Secret, SyncError
from core.store.models import PluginConfiguration, SyncHistory
from core.store.states import RunStatus
from core.values.messages import in_language
from core.values.validation import ValidationError

RUNS: list[str] = []


class Bank(Plugin):
    name = "bank"
    version = "1.0.0"
    fields = [
        Secret("token", "API token", required=True, expires_after_days=180),
        Date("token_until", "Token valid until", expiry_of="token"),
    ]
    fail = False

    def sync(self, ctx):
        RUNS.append(ctx.plugin_name)
        if Bank.fail:
            raise SyncError("the bank said no")


@pytest.fixture
def bank(database):
    RUNS.clear()
    Bank.fail = False
    use_plugins([Bank])
    plugin_config.configure("bank", {}, {"token": "t0ken-value-1234"})
    plugin_config.set_enabled("bank", True)
    yield
    use_plugins(None)


# -- schedules ----------------------------------------------------------------------------------------


def test_the_latest_scheduled_moment_daily_and_weekly():
    daily = Schedule("daily", time(6, 0))
    assert latest_moment(daily, datetime(2027, 3, 10, 7, 0)) == datetime(2027, 3, 10, 6, 0)
    assert latest_moment(daily, datetime(2027, 3, 10, 5, 59)) == datetime(2027, 3, 9, 6, 0)
    weekly = Schedule("weekly", time(18, 30), weekday=4)  # Fridays
    assert latest_moment(weekly, datetime(2027, 3, 10, 12, 0)) == datetime(2027, 3, 5, 18, 30)  # a Wednesday
    assert latest_moment(weekly, datetime(2027, 3, 12, 18, 30)) == datetime(2027, 3, 12, 18, 30)
    assert latest_moment(Schedule(), datetime(2027, 3, 10)) is None


def test_a_schedule_typed_wrong_names_its_field():
    assert parse_schedule("weekly", "7:30", "fri") == Schedule("weekly", time(7, 30), 4)
    for args, field in ((("hourly",), "every"), (("daily", "25:00"), "at"), (("weekly", "06:00", "xyz"), "weekday")):
        with pytest.raises(ValidationError) as info:
            parse_schedule(*args)
        assert info.value.field == field


def test_a_schedule_makes_a_plugin_run_once_per_period(bank):
    now = datetime.now()
    moment = (now - timedelta(minutes=1)).replace(second=0, microsecond=0)
    set_schedule("bank", Schedule("daily", moment.time()))  # came a minute ago (the runs' times are real)
    assert due_plugins(now) == ["bank"]
    first = run_due(now=now)
    assert [run.status for run in first.plugins] == [RunStatus.COMPLETED] and RUNS == ["bank"]
    assert run_due(now=now + timedelta(hours=3)).plugins == []  # same period: not again
    assert RUNS == ["bank"]
    run_due(now=now + timedelta(days=1))  # the next day's moment has come
    assert RUNS == ["bank", "bank"]
    assert SyncHistory.select().where(SyncHistory.trigger == "schedule").count() == 2


def test_off_or_disabled_plugins_never_run(bank):
    assert due_plugins(datetime.now()) == []  # no schedule: off
    set_schedule("bank", Schedule("daily", time(0, 0)))
    plugin_config.set_enabled("bank", False)
    assert due_plugins(datetime.now()) == []


def test_a_failed_scheduled_run_is_a_failure_once_and_then_a_reminder(bank):
    Bank.fail = True
    set_schedule(
        "bank", Schedule("daily", (datetime.now() - timedelta(minutes=1)).time().replace(second=0, microsecond=0))
    )
    report = run_due(now=datetime.now())
    assert len(report.failures) == 1 and "the bank said no" in report.failures[0]
    assert run_due(now=datetime.now()).failures == []  # tried once per period, not at every run-due
    failed = [r for r in reminders() if r.kind == "failed"]
    assert len(failed) == 1 and "bank" in failed[0].text and "the bank said no" in failed[0].text


def test_the_schedule_is_stored_on_the_configuration_and_audited(bank):
    set_schedule("bank", parse_schedule("weekly", "07:00", "mon"))
    row = PluginConfiguration.get(PluginConfiguration.plugin_name == "bank")
    assert row.schedule == {"every": "weekly", "at": "07:00", "weekday": 0}
    from core.store.models import AuditRecord

    record = (
        AuditRecord.select()
        .where(AuditRecord.table_name == "plugin_configurations")
        .order_by(AuditRecord.id.desc())
        .first()
    )
    assert record.changes["schedule"] == [{}, {"every": "weekly", "at": "07:00", "weekday": 0}]


# -- expiry warnings --------------------------------------------------------------------------------------


def expiring(today: date) -> list[str]:
    return [in_language(r.text, "en") for r in reminders(today) if r.kind == "expiring"]


@pytest.mark.parametrize(
    "days_left, warned",
    [
        (15, None),
        (14, "expires in 14 days"),
        (1, "expires in 1 days"),
        (0, "expires today"),
        (-3, "expired 3 days ago"),
    ],
)
def test_a_token_is_warned_of_14_days_before_it_expires(bank, days_left, warned):
    entered = date.today()  # configure() recorded today as the day the token was entered
    today = entered + timedelta(days=180 - days_left)
    found = expiring(today)
    if warned is None:
        assert found == []
    else:
        assert len(found) == 1 and warned in found[0] and "API token of bank" in found[0]
    assert WARN_DAYS == 14


def test_a_date_the_person_entered_wins_over_the_days_counted(bank):
    plugin_config.configure("bank", {"token_until": (date.today() + timedelta(days=14)).isoformat()})
    assert expiring(date.today()) == [
        f"The API token of bank expires in 14 days ({(date.today() + timedelta(days=14)).isoformat()})."
    ]


def test_the_warning_is_said_in_czech_and_names_the_fix(bank):
    reminder = next(r for r in reminders(date.today() + timedelta(days=180)) if r.kind == "expiring")
    assert in_language(reminder.text, "cs") != in_language(reminder.text, "en")
    assert "plugins configure bank --secret token" in in_language(reminder.fix, "en")


def test_a_new_token_clears_the_warning(bank):
    later = date.today() + timedelta(days=175)
    assert expiring(later)
    row = PluginConfiguration.get(PluginConfiguration.plugin_name == "bank")
    row.secrets_entered = {"token": later.isoformat()}  # as if entered again that day
    row.save()
    assert expiring(later) == []


# -- fakturka run-due ---------------------------------------------------------------------------------------


def retainer(start: str = "2026-01-01"):
    client = add_client(name="Acme s.r.o.", currency="CZK")
    project = add_project(client, name="Retainer")
    return add_rule(name="Retainer", project=project, amount="1000", cadence="monthly", on="1", start_on=start)


def test_run_due_twice_the_second_creates_nothing_and_is_quiet(database, cli):
    retainer()
    code, out, err = cli("run-due")
    assert (code, out, err) == (0, "", "")
    first = SyncHistory.select().where(SyncHistory.plugin_name == "recurring").count()
    assert first == 1
    assert cli("run-due") == (0, "", "")
    assert SyncHistory.select().where(SyncHistory.plugin_name == "recurring").count() == 1
    code, out, err = cli("history", "recurring")  # the rules' runs, though no plugin has that name
    assert code == 0 and "recurring  completed" in out


def test_run_due_verbose_says_what_ran_and_what_needs_you(database, cli):
    retainer(start=(date.today() - timedelta(days=40)).isoformat())
    code, out, err = cli("run-due", "-v")
    assert code == 0 and err == ""
    assert "Recurring rules: 2 created, 0 skipped." in out or "Recurring rules: 1 created, 0 skipped." in out
    assert "Retainer:" in out and ("Nothing needs you." in out or "Needs you:" in out)


def test_run_due_failure_is_one_sentence_and_exit_code_1(database, cli):
    rule = retainer()
    from core.automation.rules import edit_rule

    edit_rule(rule, invoice="draft")  # no business profile: the invoice cannot be issued
    code, out, err = cli("run-due")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fakturka: Recurring rule Retainer failed:")
    assert "business profile" in lines[0]


def test_run_due_json(database, cli):
    retainer(start=date.today().replace(day=1).isoformat())
    code, out, err = cli("run-due", "--json")
    data = json.loads(out)
    assert code == 0 and data["busy"] is False and data["recurring"]["created"] == 1 and data["failures"] == []
    assert isinstance(data["reminders"], list)


def test_schedule_command_sets_and_shows(bank, cli):
    code, out, err = cli("schedule", "bank", "weekly", "--at", "07:15", "--on", "fri")
    assert code == 0 and out.startswith("bank: weekly on fri at 07:15 (next: ")
    code, out, err = cli("schedule", "bank")
    assert out.startswith("bank: weekly on fri at 07:15")
    code, out, err = cli("schedule", "bank", "daily", "--at", "7h")
    assert code == 1 and "HH:MM" in err
