"""The plugin author guide cannot rot: its example plugin and test are run here, and the kit is tested.

docs/examples/example_bank.py is loaded from its path and run through the
real engine with core.plugins.testing; docs/plugins.md must print that file
exactly, and the test it shows is executed as written.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import core.plugins as plugins_pkg
from core.plugins import PluginRegistrationError, UnknownPlugin, get_plugin, registry, use_plugins
from core.plugins.base import Plugin, Secret
from core.plugins.testing import PluginTestKit, SyncRefused, run_plugin
from core.store.db import db
from core.store.models import Client, MoneyTransaction
from core.values.forms import FormErrors

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "docs" / "examples" / "example_bank.py"
EXAMPLE_TEST = ROOT / "docs" / "examples" / "test_example_bank.py"
GUIDE = ROOT / "docs" / "plugins.md"
TOKEN = "tok-s3cret/ABC+xyz"  # '/' and '+' so its URL-encoded forms differ from it


def _load_example():
    spec = importlib.util.spec_from_file_location("fakturka_docs_example_bank", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # so inspect can name its file in registration messages
    spec.loader.exec_module(module)
    return module


example = _load_example()
ExampleBank = example.ExampleBank

ROWS = [
    {
        "id": "T-1",
        "date": "2024-05-02",
        "amount": "1210.00",
        "currency": "CZK",
        "counterparty": "Acme s.r.o.",
        "message": "Invoice 2024-0007",
        "vs": "20240007",
    },
    {"id": "T-2", "date": "2024-05-03", "amount": "-350.50", "message": "Office chair"},
    {"id": "T-3", "date": "2024-05-03", "amount": "99", "currency": "EUR", "counterparty": "Beta GmbH"},
    {"id": "T-4", "date": "2024-05-04", "amount": "0", "message": "Zero-amount notice"},
    {"id": "T-5", "date": "2024-05-04", "amount": "-12.30", "currency": "CZK", "message": "Card fee"},
]


def write_statement(path: Path, rows, token: str = TOKEN) -> Path:
    path.write_text(json.dumps({"account": "2400123456/2010", "token": token, "transactions": rows}), encoding="utf-8")
    return path


def kit_for(statement: Path, **options) -> PluginTestKit:
    return PluginTestKit(ExampleBank, settings={"path": str(statement)}, credentials={"api_token": TOKEN}, **options)


def _code_block_after(marker: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(re.escape(marker) + r"\s*```python\n(.*?)^```", text, re.S | re.M)
    assert match, f"docs/plugins.md has no python block after {marker}"
    return match.group(1)


# -- the example plugin, run with the kit ---------------------------------------------------


def test_first_run_imports_every_transaction_saves_state_and_hides_the_token(tmp_path):
    statement = write_statement(tmp_path / "statement.json", ROWS)
    home = tmp_path / "kit-home"
    with kit_for(statement, home=home) as kit:
        result = kit.run()

    assert result.status == "completed", result.error
    assert (result.processed, result.created, result.updated, result.skipped) == (4, 4, 0, 0)
    assert result.error is None and result.backtrace is None
    got = [
        (
            t.external_id,
            t.transaction_type,
            t.amount_value,
            t.currency,
            t.transacted_on.isoformat(),
            t.reference,
            t.source,
        )
        for t in result.transactions
    ]
    assert got == [
        ("T-1", "income", Decimal("1210.00"), "CZK", "2024-05-02", "20240007", "example-bank"),
        ("T-2", "expense", Decimal("350.50"), "CZK", "2024-05-03", "", "example-bank"),  # default currency
        ("T-3", "income", Decimal("99.00"), "EUR", "2024-05-03", "", "example-bank"),
        ("T-5", "expense", Decimal("12.30"), "CZK", "2024-05-04", "", "example-bank"),
    ]
    assert all(t.amount > 0 for t in result.transactions)
    assert result.transactions[0].counterparty == "Acme s.r.o."
    assert result.transactions[0].raw_data == ROWS[0]
    assert result.state == {"since": "2024-05-04"}
    assert result.metadata == {"account": "2400123456/2010", "file": "statement.json"}
    assert result.progress == [(1, 5), (2, 5), (3, 5), (5, 5)]  # the zero row reports none
    assert any("WARNING" in line and "T-4: zero amount, skipped" in line for line in result.log)

    # What changed: one audit record per new transaction plus the saved state, all under the plugin's name.
    created = [(a.table_name, a.action) for a in result.audit if a.table_name == "money_transactions"]
    assert created == [("money_transactions", "create")] * 4
    assert {a.source for a in result.audit} == {"example-bank"}
    assert {a.sync_run for a in result.audit} == {result.run_id}
    state_change = [a for a in result.audit if a.table_name == "plugin_configurations"]
    assert len(state_change) == 1 and state_change[0].changes["state"][1] == {"since": "2024-05-04"}

    # The token sat in a logged URL: stored masked, in every encoding, everywhere.
    assert "Downloading https://bank.example/api/***/statement.json" in "\n".join(result.log)
    stored = result.stored_text() + result.history.log
    for form in (TOKEN, "tok-s3cret%2FABC%2Bxyz", "tok-s3cret%2FABC+xyz", "s3cret"):
        assert form not in stored
    # ...and nowhere in the database files (the credentials are encrypted).
    for path in home.rglob("*"):
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path


def test_second_run_of_the_same_file_creates_nothing_and_a_later_file_only_adds(tmp_path):
    statement = write_statement(tmp_path / "statement.json", ROWS)
    with kit_for(statement) as kit:
        first = kit.run()
        second = kit.run()
        assert second.status == "completed", second.error
        assert (second.created, second.updated) == (0, 0)
        assert second.skipped == 1  # T-5, on the last day seen, is read again and found unchanged
        assert second.audit == []  # nothing changed, not even the state
        assert second.state == first.state == {"since": "2024-05-04"}
        assert [t.id for t in second.transactions] == [t.id for t in first.transactions]
        assert "2 transactions on or after 2024-05-04" in "\n".join(second.log)

        # The bank later reports one more row that day, a correction, and a new day.
        later = ROWS + [
            {"id": "T-6", "date": "2024-05-04", "amount": "500", "message": "Late booking"},
            {"id": "T-7", "date": "2024-05-06", "amount": "-1"},
        ]
        later[4] = dict(later[4], message="Card fee, May")  # a booked amount never changes; a text may
        write_statement(statement, later)
        third = kit.run()
        assert (third.created, third.updated, third.skipped) == (2, 1, 0)
        assert third.state == {"since": "2024-05-06"}
        assert len(third.transactions) == 6
        fee = next(t for t in third.transactions if t.external_id == "T-5")
        assert (fee.amount_value, fee.description) == (Decimal("12.30"), "Card fee, May")
        update = next(a for a in third.audit if a.action == "update" and a.table_name == "money_transactions")
        assert sorted(update.changes) == ["description", "raw_data"]  # the row as the bank sent it, too
        assert update.changes["description"] == ["Card fee", "Card fee, May"]


def test_a_missing_file_fails_with_the_sync_error_message_and_no_backtrace(tmp_path):
    missing = tmp_path / "nowhere" / "statement.json"
    with kit_for(missing, state={"since": "2024-05-01"}) as kit:
        result = kit.run()
    expected = f"The statement file {missing} does not exist (check the Statement file setting)."
    assert result.status == "failed"
    assert result.error == expected
    assert result.backtrace is None and result.history.error_backtrace is None
    assert "Traceback" not in result.stored_text()
    assert result.log[-1].endswith(f"ERROR   {expected}")
    assert result.transactions == [] and result.audit == []
    assert result.state == {"since": "2024-05-01"}  # a failed run leaves the state as it was
    assert (result.created, result.updated, result.skipped) == (0, 0, 0)


def test_a_wrong_token_is_refused_by_the_bank_and_stays_masked(tmp_path):
    statement = write_statement(tmp_path / "statement.json", ROWS, token="the-right-token")
    result = run_plugin(ExampleBank, settings={"path": str(statement)}, credentials={"api_token": TOKEN})
    assert result.status == "failed"
    assert result.error == "The bank refused the API token; re-enter it in the plugin's configuration."
    assert result.backtrace is None and result.transactions == []
    assert TOKEN not in result.stored_text()


def test_a_cancel_saves_nothing(tmp_path):
    statement = write_statement(tmp_path / "statement.json", ROWS)
    with kit_for(statement) as kit:
        result = kit.run(cancel_at_progress=2)
        assert result.status == "failed"
        assert result.error == "Cancelled by the user; nothing was saved."
        assert result.transactions == [] and result.state == {}
        assert result.progress == [(1, 5), (2, 5)]  # the plugin's next ctx call stopped it
        again = kit.run()  # the person runs it again: everything arrives exactly once
        assert again.created == 4 and len(again.transactions) == 4


def test_incomplete_configuration_is_refused_before_running(tmp_path):
    statement = write_statement(tmp_path / "statement.json", ROWS)
    with PluginTestKit(ExampleBank, settings={"path": str(statement)}) as kit:
        with pytest.raises(SyncRefused, match=r"missing API token \(api_token\)"):
            kit.run()
        kit.configure(credentials={"api_token": TOKEN})
        assert kit.run().created == 4
    with pytest.raises(FormErrors, match="choose one of CZK, EUR"):
        with PluginTestKit(
            ExampleBank, settings={"path": str(statement), "currency": "USD"}, credentials={"api_token": TOKEN}
        ):
            pass  # pragma: no cover - opening already fails


# -- the guide -------------------------------------------------------------------------------


def test_the_guide_prints_the_example_file_exactly():
    block = _code_block_after("<!-- example: docs/examples/example_bank.py -->")
    assert block == EXAMPLE.read_text(encoding="utf-8")
    assert len(block.splitlines()) < 100  # short enough to read in one go


def test_the_guides_test_example_passes_as_written(tmp_path, monkeypatch):
    code = _code_block_after("<!-- test-example: docs/examples/test_example_bank.py -->")
    assert code == EXAMPLE_TEST.read_text(encoding="utf-8")  # the guide prints the file that exists
    assert "from example_bank import ExampleBank" in code
    # The test imports the example from the file next to it, as pytest does when it runs that file.
    monkeypatch.setitem(sys.modules, "example_bank", example)
    namespace: dict = {"__name__": "guide_test_example", "__file__": str(EXAMPLE_TEST)}
    exec(compile(code, f"{GUIDE}:test-example", "exec"), namespace)
    tests = {name: fn for name, fn in namespace.items() if name.startswith("test_") and callable(fn)}
    assert len(tests) == 3
    for name, test in tests.items():
        directory = tmp_path / name
        directory.mkdir()
        test(directory)


def test_the_example_test_file_runs_with_pytest_as_the_guide_says():
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE_TEST)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout


def test_assert_writes_match_passes_fails_with_a_diff_and_regenerates(tmp_path, monkeypatch):
    from core.plugins.testing import assert_writes_match

    monkeypatch.delenv("FAKTURKA_REGENERATE", raising=False)
    statement = write_statement(tmp_path / "statement.json", ROWS)
    expected = tmp_path / "expected.json"
    golden = dict(credentials={"api_token": TOKEN})
    with pytest.raises(AssertionError, match="does not exist; create it from this run with regenerate=True"):
        assert_writes_match(ExampleBank, statement, expected, **golden)
    result = assert_writes_match(ExampleBank, statement, expected, regenerate=True, **golden)
    assert result.created == 4
    stored = json.loads(expected.read_text(encoding="utf-8"))
    assert [t["external_id"] for t in stored["transactions"]] == ["T-1", "T-2", "T-3", "T-5"]
    assert stored["state"] == {"since": "2024-05-04"} and "id" not in stored["transactions"][0]
    assert_writes_match(ExampleBank, statement, expected, **golden)  # the same again: passes

    changed = list(ROWS)
    changed[1] = dict(changed[1], amount="-351.50")
    write_statement(statement, changed)
    with pytest.raises(AssertionError) as differs:
        assert_writes_match(ExampleBank, statement, expected, **golden)
    assert "what example-bank wrote differs from" in str(differs.value)
    assert '-      "amount": 35050,' in str(differs.value) and '+      "amount": 35150,' in str(differs.value)
    monkeypatch.setenv("FAKTURKA_REGENERATE", "1")
    assert_writes_match(ExampleBank, statement, expected, **golden)
    monkeypatch.delenv("FAKTURKA_REGENERATE")
    assert_writes_match(ExampleBank, statement, expected, **golden)


def test_the_guides_cli_walkthrough_works(tmp_path, monkeypatch, capsys):
    from fakturka.launcher import main

    statement = write_statement(tmp_path / "statement.json", ROWS)
    monkeypatch.setattr(plugins_pkg, "_registry", None)  # restored after the test
    use_plugins([ExampleBank])
    assert main(["plugins", "configure", "example-bank", "--set", f"path={statement}", "--set", "currency=EUR"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO(TOKEN + "\n"))
    assert main(["plugins", "configure", "example-bank", "--secret", "api_token"]) == 0
    assert main(["plugins", "enable", "example-bank"]) == 0
    capsys.readouterr()

    assert main(["sync", "example-bank"]) == 0
    out = capsys.readouterr().out
    assert "Downloading https://bank.example/api/***/statement.json" in out
    assert "Done: 4 processed, 4 created, 0 updated, 0 unchanged." in out
    assert TOKEN not in out
    assert main(["history", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert "Run 1: example-bank [completed]" in out and "what changed (5 audit records)" in out
    assert main(["plugins", "show", "example-bank", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["settings"]["api_token"] == "***" and shown["settings"]["currency"] == "EUR"
    assert TOKEN not in out
    eur = MoneyTransaction.select().where(MoneyTransaction.currency == "EUR").order_by(MoneyTransaction.id)
    assert [t.external_id for t in eur] == ["T-2", "T-3"]  # T-2 names no currency: the EUR setting applied

    write_statement(statement, ROWS, token="another")  # the bank changed the token: exit code 1, a sentence
    assert main(["sync", "example-bank"]) == 1
    assert "sync 2 failed: The bank refused the API token" in capsys.readouterr().err


def test_direct_writes_are_refused_in_sync_and_ctx_apply_lands_them_audited():
    """What the guide's section 10 promises, including its ctx.apply snippet."""

    class DirectWriter(Plugin):
        name = "direct-writer"
        version = "1.0.0"

        def sync(self, ctx):
            Client.create(name="Acme s.r.o.", currency="CZK")

    refused = run_plugin(DirectWriter)
    assert refused.status == "failed"
    assert (
        "writing Client directly is not allowed here: a plugin's sync() writes through ctx helpers or "
        "ctx.apply() (plugin direct-writer)"
    ) in refused.error
    assert refused.backtrace and "Traceback" in refused.backtrace  # a bug: the backtrace is kept

    class Applier(Plugin):
        name = "applier"
        version = "1.0.0"

        def sync(self, ctx):
            def add_client():  # runs later, inside the run's transaction
                if not Client.select().where(Client.name == "Acme s.r.o.").exists():
                    Client.create(name="Acme s.r.o.", currency="CZK")
                    ctx.counts.created += 1

            ctx.apply(add_client)

    with PluginTestKit(Applier) as kit:
        result = kit.run()
        assert result.status == "completed" and result.created == 1
        assert [(a.table_name, a.action, a.source) for a in result.audit] == [("clients", "create", "applier")]
        assert kit.run().created == 0
        assert Client.select().count() == 1


# -- the kit itself --------------------------------------------------------------------------


def test_the_kit_runs_an_async_plugin_that_imports_work_entries_into_data_set_up_in_the_block():
    from core.billing.clients import add_client, add_project

    class AsyncTimer(Plugin):
        name = "async-timer"
        version = "0.1.0"

        async def sync(self, ctx):
            for project in ctx.projects():
                ctx.add_work_entry(
                    project=project,
                    date=date(2024, 5, 2),
                    minutes=90,
                    description=f"Work on {project.client.name} / {project.name}",
                    external_id="e-1",
                )
            ctx.metadata["projects"] = len(ctx.projects())

    with PluginTestKit(AsyncTimer) as kit:
        client = add_client(name="Acme s.r.o.")  # the kit's database is the open one inside the block
        add_project(client, name="Web")
        first = kit.run()
        assert first.status == "completed", first.error
        assert [(e.minutes, e.description, e.source) for e in first.work_entries] == [
            (90, "Work on Acme s.r.o. / Web", "async-timer")
        ]
        assert first.metadata == {"projects": 1} and first.transactions == []
        assert [(a.table_name, a.action) for a in first.audit] == [("work_entries", "create")]
        again = kit.run()
        assert (again.created, again.skipped, len(again.work_entries)) == (0, 1, 1)


def test_the_kit_restores_registry_home_and_open_database(database, tmp_path):
    outer_home = os.environ["FAKTURKA_HOME"]
    outer_db = db.database
    before = registry()
    Client.create(name="Outer client")
    statement = write_statement(tmp_path / "statement.json", ROWS)

    kit = kit_for(statement)
    with kit:
        assert os.environ["FAKTURKA_HOME"] == str(kit.home) != outer_home
        assert db.database == str(kit.db_path) != outer_db
        assert list(registry()) == ["example-bank"]
        assert Client.select().count() == 0  # a fresh database, not the one that was open
        assert kit.run().created == 4
    assert not kit.home.exists()  # the temporary directory is gone
    assert os.environ["FAKTURKA_HOME"] == outer_home
    assert db.database == outer_db and not db.is_closed()
    assert plugins_pkg._registry is before
    assert "time-csv" in registry()
    with pytest.raises(UnknownPlugin):
        get_plugin("example-bank")
    assert [c.name for c in Client.select()] == ["Outer client"]
    assert MoneyTransaction.select().count() == 0  # the kit's run never touched this database
    with pytest.raises(RuntimeError, match="open the kit first"):
        kit.run()


def test_the_kit_restores_an_unset_home_and_an_unopened_database_even_when_opening_fails(monkeypatch):
    monkeypatch.delenv("FAKTURKA_HOME")
    assert db.is_closed()
    db_before = db.database

    class NoName(Plugin):
        version = "1.0.0"

        def sync(self, ctx):
            pass

    with pytest.raises(PluginRegistrationError, match="NoName .* has no name"):
        run_plugin(NoName)
    assert "FAKTURKA_HOME" not in os.environ
    assert db.is_closed() and db.database == db_before

    class Quiet(Plugin):
        name = "quiet"
        version = "1.0.0"
        fields = [Secret("token", "Token")]

        def sync(self, ctx):
            ctx.log("nothing to do")

    result = run_plugin(Quiet)
    assert result.status == "completed" and result.created == 0
    assert any(line.endswith("INFO    nothing to do") for line in result.log)
    assert "FAKTURKA_HOME" not in os.environ
    assert db.is_closed() and db.database == db_before
    assert plugins_pkg._registry is None or "quiet" not in plugins_pkg._registry
