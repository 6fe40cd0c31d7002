"""``fakturka recurring ...`` as a person or a script runs it (via ``fakturka.launcher.main``)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from core.automation import rules
from core.billing.clients import add_client, add_project
from core.store.models import MoneyTransaction, RecurringRule, SyncHistory, WorkEntry

AHEAD = (date.today() + timedelta(days=10)).isoformat()  # nothing due: a run creates nothing for it


@pytest.fixture
def project(database):
    acme = add_client(name="Acme s.r.o.", currency="CZK")
    return add_project(acme, name="Support")


def add_retainer(ok, *extra: str) -> str:
    return ok(
        "recurring", "add", "--name", "Acme retainer", "--creates", "work", "--project", "Acme s.r.o./Support",
        "--amount", "20 000", "--cadence", "monthly", "--on", "31", "--start", AHEAD, *extra,
    )  # fmt: skip


def test_add_then_list_as_a_table_and_as_json(ok, project):
    out = add_retainer(ok)
    rule = RecurringRule.get()
    due = rules.next_due(rule)
    assert out == f"Added rule Acme retainer (id {rule.id}): monthly on 31, next due {due.isoformat()}.\n"
    assert (rule.project_id, rule.amount, rule.currency, rule.day) == (project.id, 2000000, "CZK", 31)
    ok("recurring", "add", "--name", "Hosting", "--creates", "expense", "--amount", "12.50", "--currency", "EUR",
       "--counterparty", "Hetzner", "--cadence", "weekly", "--on", "fri", "--start", AHEAD)  # fmt: skip

    table = ok("recurring", "list").splitlines()
    assert table[0].split() == ["ID", "NAME", "CREATES", "AMOUNT", "CADENCE", "NEXT", "DUE", "ENABLED"]
    hosting = next(line for line in table if "Hosting" in line)
    assert "expense" in hosting and "12.50 EUR" in hosting and "weekly on fri" in hosting and "yes" in hosting
    retainer = next(line for line in table if "Acme retainer" in line)
    assert "20000.00 CZK" in retainer and "monthly on 31" in retainer and due.isoformat() in retainer

    data = json.loads(ok("recurring", "list", "--json"))
    assert [r["name"] for r in data] == ["Acme retainer", "Hosting"]
    first = data[0]
    assert set(first) == {
        "id", "name", "creates", "project", "amount", "currency", "counterparty", "description", "cadence", "on",
        "cadence_text", "start_on", "end_on", "invoice", "enabled", "next_due", "last_on",
    }  # fmt: skip
    assert first["project"] == "Acme s.r.o. / Support"
    assert (first["amount"], first["currency"], first["next_due"], first["enabled"]) == (
        "20000.00",
        "CZK",
        due.isoformat(),
        True,
    )
    assert (data[1]["project"], data[1]["counterparty"], data[1]["on"]) == (None, "Hetzner", "fri")


def test_an_empty_list_says_how_to_add_one(ok, database):
    assert "No recurring rules yet" in ok("recurring", "list")
    assert json.loads(ok("recurring", "list", "--json")) == []


def test_show_lists_what_the_rule_last_created(ok, project):
    start = date.today() - timedelta(days=75)
    rule = rules.add_rule(name="Retainer", creates="work", project=project, amount="5000", cadence="monthly",
                          on="1", start_on=start)  # fmt: skip
    out = ok("recurring", "run")
    created = WorkEntry.select().count()
    assert created >= 2
    assert f"Created {created}, skipped 0" in out
    assert "Retainer: " in out and "created" in out

    text = ok("recurring", "show", "Retainer")
    assert "project       Acme s.r.o. / Support" in text
    assert "Last created:" in text
    assert text.count("  work  5000.00 CZK") == created

    data = json.loads(ok("recurring", "show", str(rule.id), "--json"))
    stored = RecurringRule.get_by_id(rule.id)
    assert data["next_due"] == stored.next_on.isoformat()
    assert data["last_on"] == stored.last_on.isoformat()
    assert len(data["records"]) == created
    assert data["records"][0] == {
        "date": stored.last_on.isoformat(),
        "type": "work",
        "amount": "5000.00",
        "currency": "CZK",
    }
    assert json.loads(ok("recurring", "show", "Retainer", "--json", "--limit", "1"))["records"] == data["records"][:1]


def test_edit_changes_only_what_is_given(ok, refused, project):
    add_retainer(ok)
    rule = RecurringRule.get()
    out = ok("recurring", "edit", "Acme retainer", "--on", "15", "--invoice", "draft")
    stored = RecurringRule.get_by_id(rule.id)
    assert (stored.day, stored.invoice, stored.amount) == (15, "draft", 2000000)
    assert out.startswith("Updated rule Acme retainer: monthly on 15, next due ")
    ok("recurring", "edit", str(rule.id), "--invoice", "none", "--end", "2099-12-31")
    stored = RecurringRule.get_by_id(rule.id)
    assert (stored.invoice, stored.end_on) == ("", date(2099, 12, 31))
    assert refused("recurring", "edit", str(rule.id)) == (
        "fakturka: Nothing to change; give at least one option such as --amount or --cadence."
    )


def test_enable_and_disable(ok, project):
    add_retainer(ok)
    assert ok("recurring", "disable", "Acme retainer").startswith("Disabled rule Acme retainer;")
    assert RecurringRule.get().enabled is False
    assert json.loads(ok("recurring", "list", "--json"))[0]["enabled"] is False
    assert "Rule Acme retainer is already disabled." in ok("recurring", "disable", "Acme retainer")
    assert ok("recurring", "enable", "1").startswith("Enabled rule Acme retainer; next due ")
    assert RecurringRule.get().enabled is True


def test_refusals_are_one_sentence_and_exit_1(cli, refused, project):
    line = refused("recurring", "add", "--name", "x", "--creates", "work", "--amount", "1", "--cadence", "daily")
    assert line == "fakturka: A rule's cadence must be one of weekly, monthly, yearly, not 'daily'."
    line = refused("recurring", "add", "--name", "x", "--amount", "1", "--cadence", "monthly")
    assert line == "fakturka: A rule that creates work entries needs a project."
    line = refused("recurring", "add", "--name", "x", "--creates", "income", "--amount", "1", "--cadence",
                   "monthly", "--invoice", "draft")  # fmt: skip
    assert line == "fakturka: Only a rule that creates work entries can issue invoices."
    assert refused("recurring", "show", "nothing") == (
        "fakturka: No recurring rule 'nothing'; 'fakturka recurring list' shows them."
    )
    code, _out, _err = cli("recurring", "show", "nothing")
    assert code == 1
    code, _out, err = cli("recurring", "add", "--amount", "twelve")  # argparse's own check: a usage error
    assert code == 2 and "is not an amount" in err


def test_delete_asks_unless_yes(cli, ok, refused, project):
    add_retainer(ok)
    line = refused("recurring", "delete", "Acme retainer")  # no terminal to ask on: only --yes confirms
    assert line == "fakturka: Delete recurring rule Acme retainer? What it created stays. Re-run with --yes to confirm."
    assert RecurringRule.select().count() == 1
    assert ok("recurring", "delete", "Acme retainer", "--yes") == "Deleted rule Acme retainer.\n"
    assert RecurringRule.select().count() == 0


def test_delete_on_a_terminal_asks_and_no_keeps_the_rule(cli, ok, project, monkeypatch):
    add_retainer(ok)
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    from fakturka.launcher import main

    assert main(["recurring", "delete", "Acme retainer"]) == 1
    assert RecurringRule.select().count() == 1
    monkeypatch.setattr(sys, "stdin", Terminal("y\n"))
    assert main(["recurring", "delete", "Acme retainer"]) == 0
    assert RecurringRule.select().count() == 0


def test_run_creates_what_is_due_once_and_says_nothing_was_due_after(ok, database):
    rules.add_rule(name="Hosting", creates="expense", amount="12.50", currency="EUR", counterparty="Hetzner",
                   cadence="weekly", start_on=date.today() - timedelta(days=13))  # fmt: skip
    rules.add_rule(name="Paused", creates="income", amount="0", cadence="weekly",
                   start_on=date.today() - timedelta(days=6))  # fmt: skip
    out = ok("recurring", "run")
    assert "Created 2, skipped 1" in out
    assert "Paused: " in out and "skipped (the amount is 0)" in out
    assert MoneyTransaction.select().where(MoneyTransaction.source == "recurring").count() == 2
    assert SyncHistory.get().plugin_name == "recurring"
    assert ok("recurring", "run") == "Nothing was due.\n"
    assert MoneyTransaction.select().count() == 2


def test_a_failed_rule_makes_run_exit_1_with_its_sentence(cli, project, monkeypatch):
    rules.add_rule(name="Retainer", creates="work", project=project, amount="100", cadence="weekly",
                   start_on=date.today() - timedelta(days=3))  # fmt: skip
    from core.automation import recurring
    from core.errors import FakturkaError

    def broken(rule, day):
        raise FakturkaError("The project is archived.")

    monkeypatch.setattr(recurring, "_create", broken)
    code, out, err = cli("recurring", "run")
    assert code == 1
    assert "Created 0, skipped 0" in out
    assert "fakturka: Recurring rule Retainer failed: The project is archived." in err
