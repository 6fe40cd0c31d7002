"""The headless commands for integrations: ``plugins``, ``sync`` and ``history`` (via ``fakturka.launcher.main``)."""

from __future__ import annotations

import json
import sys
from datetime import date

import pytest

from core.platform import credentials as creds
from core.platform import plugin_config
from core.platform.history import run_duration
from core.plugins import use_plugins
from core.plugins.base import Choice, Number, Plugin, Secret, SyncError, Text
from core.store.audit import AuditRecord
from core.store.models import MoneyTransaction, PluginConfiguration, SyncHistory

TOKEN = "tok-5ecret-77"


class Bank(Plugin):
    name = "bank"
    version = "2.0.1"
    fields = [
        Secret("token", "API token", required=True, help="From internet banking."),
        Secret("pin", "PIN"),
        Text("account", "Account number", required=True),
        Number("days", "Days back", default=30),
        Choice("format", "Format", ["json", "xml"], default="json"),
    ]
    mode = "ok"
    live: list[str] = []

    def sync(self, ctx):
        ctx.log(f"Downloading account {ctx.settings['account']}")
        # Printed live: the line is on stdout while the run is still going.
        Bank.live.append(sys.stdout.getvalue() if hasattr(sys.stdout, "getvalue") else "")
        for i in range(3):
            ctx.upsert_transaction(
                external_id=f"T{i}",
                transaction_type="income",
                amount=f"{i + 1}00.00",
                currency="CZK",
                transacted_on=date(2025, 3, i + 1),
                description=f"payment {i}",
            )
        ctx.metadata["account"] = ctx.settings["account"]
        if Bank.mode == "crash":
            raise RuntimeError(f"HTTP 500 for https://bank.example/v1/{ctx.credentials['token']}/tx.json")
        if Bank.mode == "refused":
            raise SyncError("The bank refused the token.")


@pytest.fixture(autouse=True)
def bank_plugin(database):
    Bank.mode = "ok"
    Bank.live = []
    use_plugins([Bank])
    yield
    use_plugins(None)


def db_state() -> dict:
    return {
        model._meta.table_name: list(model.select().dicts())
        for model in (PluginConfiguration, SyncHistory, MoneyTransaction, AuditRecord)
    }


@pytest.fixture
def configured(ok):
    ok("plugins", "configure", "bank", "--set", "account=2001234567", "--secret", "token", stdin=TOKEN + "\n")
    ok("plugins", "enable", "bank")


# -- plugins ---------------------------------------------------------------------------------------


def test_plugins_json_and_table(ok, configured):
    listed = json.loads(ok("plugins", "--json"))
    assert listed == [
        {
            "name": "bank",
            "version": "2.0.1",
            "enabled": True,
            "configured": True,
            "missing": [],
            "problem": None,
            "last_run": None,
        }
    ]
    ok("sync", "bank")
    last = json.loads(ok("plugins", "--json"))[0]["last_run"]
    assert last["status"] == "completed" and last["id"] == SyncHistory.get().id and last["started_at"]
    table = ok("plugins").splitlines()
    assert table[0].split() == ["NAME", "VERSION", "ENABLED", "CONFIGURED", "LAST", "RUN", "STATUS"]
    assert table[2].split()[:4] == ["bank", "2.0.1", "yes", "yes"] and table[2].endswith("completed")


def test_enable_disable_and_what_is_missing(ok):
    assert ok("plugins", "enable", "bank").strip() == "bank enabled. It still needs: token, account."
    row = json.loads(ok("plugins", "--json"))[0]
    assert (row["enabled"], row["configured"], row["missing"]) == (True, False, ["token", "account"])
    assert "no (missing token, account)" in ok("plugins")
    assert ok("plugins", "disable", "bank").strip() == "bank disabled."
    assert json.loads(ok("plugins", "--json"))[0]["enabled"] is False
    enabled = [
        r.changes["enabled"] for r in AuditRecord.select().where(AuditRecord.table_name == "plugin_configurations")
    ]
    assert enabled == [[None, True], [True, False]]


def test_configure_reads_each_secret_from_a_line_of_stdin(ok):
    out = ok(
        "plugins",
        "configure",
        "bank",
        "--set",
        "account=123",
        "--set",
        "days=7",
        "--secret",
        "token",
        "--secret",
        "pin",
        stdin="tok-line-one\n4321\n",
    )
    assert out.strip() == "bank configured. Enable it: fakturka plugins enable bank"
    assert creds.get_credentials("bank") == {"token": "tok-line-one", "pin": "4321"}
    assert plugin_config.get_config("bank").settings == {"account": "123", "days": 7}
    # A secret not retyped is kept; a line is taken exactly (inner spaces too).
    ok("plugins", "configure", "bank", "--secret", "pin", stdin="12 34\r\n")
    assert creds.get_credentials("bank") == {"token": "tok-line-one", "pin": "12 34"}
    partial = ok("plugins", "configure", "bank", "--set", "format=xml")
    assert "configured" in partial
    assert "tok-line-one" not in json.dumps([r.changes for r in AuditRecord.select()])


def test_configure_without_the_required_secret_says_what_is_missing(ok):
    assert ok("plugins", "configure", "bank", "--set", "account=1").strip() == "bank saved; still missing: token."


def test_show_masks_secrets(ok, configured):
    out = ok("plugins", "show", "bank")
    assert TOKEN not in out
    assert out.splitlines()[0].split() == ["bank", "2.0.1", "enabled:", "yes", "configured:", "yes"]
    token_line = next(line for line in out.splitlines() if line.startswith("token"))
    assert "***" in token_line and "From internet banking." in token_line
    pin_line = next(line for line in out.splitlines() if line.startswith("pin"))
    assert "***" not in pin_line
    shown = json.loads(ok("plugins", "show", "bank", "--json"))
    assert shown["settings"] == {"token": "***", "pin": "", "account": "2001234567", "days": 30, "format": "json"}
    assert [f["key"] for f in shown["fields"]] == ["token", "pin", "account", "days", "format"]
    assert shown["fields"][4]["choices"] == ["json", "xml"] and shown["fields"][0]["kind"] == "secret"
    assert TOKEN not in json.dumps(shown)


def test_show_reports_credentials_that_cannot_be_decrypted(ok, configured, fakturka_home):
    (fakturka_home / "credentials.key").unlink()
    out = ok("plugins", "show", "bank")
    assert "problem: secrets stored but unreadable (cannot be decrypted: the key file is missing)" in out
    assert "fakturka keys reset" in out
    listed = json.loads(ok("plugins", "--json"))[0]
    assert listed["configured"] is False
    # The token is stored, only unreadable: it is not reported as missing.
    assert listed["missing"] == [] and "keys reset" in listed["problem"]
    assert "missing token" not in ok("plugins")
    # Re-entering the secret, as the message says, makes it usable again.
    ok("plugins", "configure", "bank", "--secret", "token", stdin="tok-new\n")
    assert json.loads(ok("plugins", "--json"))[0]["configured"] is True
    assert ok("sync", "bank")


# -- sync ---------------------------------------------------------------------------------------------


def test_sync_prints_its_log_live_and_exits_0(cli, configured):
    code, out, err = cli("sync", "bank")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert "bank 2.0.1: sync started" in lines[0]
    assert lines[1].endswith("Downloading account 2001234567")
    assert "Done: 3 processed, 3 created, 0 updated, 0 unchanged." in lines[-2]
    run = SyncHistory.get()
    assert lines[-1] == f"Sync {run.id} completed. Details: fakturka history show {run.id}"
    assert "Downloading account 2001234567" in Bank.live[0]  # already printed while the plugin ran
    assert run.trigger == "cli" and run.status == "completed"
    assert MoneyTransaction.select().count() == 3


def test_a_failing_sync_exits_1_with_the_reason_and_no_secret(cli, configured):
    Bank.mode = "crash"
    code, out, err = cli("sync", "bank")
    assert code == 1
    run = SyncHistory.get()
    assert err.strip().splitlines() == [
        f"fakturka: sync {run.id} failed: bank failed: RuntimeError: HTTP 500 for https://bank.example/v1/***/tx.json"
    ]
    assert "Downloading account" in out and "Traceback" not in out + err
    assert TOKEN not in out + err
    assert MoneyTransaction.select().count() == 0

    Bank.mode = "refused"
    code, out, err = cli("sync", "bank")
    assert code == 1
    assert err.strip() == f"fakturka: sync {run.id + 1} failed: The bank refused the token."


def test_sync_refused_before_it_starts(refused, ok):
    assert refused("sync", "bank") == (
        "fakturka: bank is disabled; enable it first ('fakturka plugins enable bank', or space on the Plugins screen)."
    )
    ok("plugins", "enable", "bank")
    line = refused("sync", "bank")
    assert "bank is not fully configured: missing API token (token), Account number (account)" in line
    assert refused("sync", "nope") == "fakturka: There is no plugin called 'nope'; known plugins: bank."
    assert SyncHistory.select().count() == 0


# -- history -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seconds, shown",
    [(0, "< 0.1 s"), (0.04, "< 0.1 s"), (0.05, "0.1 s"), (1.46, "1.5 s"), (75.0, "75.0 s"), (None, None)],
)
def test_a_run_duration_reads_as_people_expect(seconds, shown):
    from datetime import datetime, timedelta

    started = datetime(2026, 11, 21, 12, 0)
    run = SyncHistory(
        plugin_name="bank",
        started_at=started,
        completed_at=None if seconds is None else started + timedelta(seconds=seconds),
    )
    assert run_duration(run) == shown


def test_history_lists_runs_and_shows_what_changed(ok, cli, configured):
    assert ok("history").strip() == "No sync runs yet."
    ok("sync", "bank")
    Bank.mode = "crash"
    cli("sync", "bank")
    first, second = SyncHistory.select().order_by(SyncHistory.id)

    table = ok("history").splitlines()
    assert table[0].split()[:3] == ["ID", "PLUGIN", "STATUS"]
    assert [line.split()[:3] for line in table[2:]] == [
        [str(second.id), "bank", "failed"],
        [str(first.id), "bank", "completed"],
    ]
    runs = json.loads(ok("history", "bank", "--json"))
    assert [(r["id"], r["status"], r["created"]) for r in runs] == [
        (second.id, "failed", 0),
        (first.id, "completed", 3),
    ]
    assert runs[1]["processed"] == 3 and runs[0]["error"].startswith("bank failed: RuntimeError")
    assert len(json.loads(ok("history", "--limit", "1", "--json"))) == 1

    shown = ok("history", "show", str(first.id))
    assert f"Run {first.id}: bank [completed] by cli, {run_duration(first)}" in shown
    assert "processed 3, created 3, updated 0, unchanged 0" in shown
    assert "Downloading account 2001234567" in shown
    assert "what changed (3 audit records):" in shown
    assert shown.count("create money_transactions #") == 3
    # Money as an amount in the row's currency, not in minor units; an empty text as "".
    assert "amount: ∅ -> 100.00 CZK" in shown and "amount: ∅ -> 200.00 CZK" in shown
    assert 'counterparty: ∅ -> ""' in shown
    detail = json.loads(ok("history", "show", str(first.id), "--json"))
    assert [c["table"] for c in detail["changes"]] == ["money_transactions"] * 3
    assert {c["row"] for c in detail["changes"]} == {t.id for t in MoneyTransaction.select()}
    assert detail["metadata"] == {"account": "2001234567"} and detail["backtrace"] is None

    failed = ok("history", "show", str(second.id))
    assert "error: bank failed: RuntimeError: HTTP 500 for https://bank.example/v1/***/tx.json" in failed
    assert "backtrace:" in failed and "Traceback (most recent call last)" in failed
    assert "what changed (0 audit records):" in failed
    assert TOKEN not in shown + failed


def test_a_run_left_running_is_marked_interrupted_on_the_next_command(ok, configured):
    SyncHistory.create(plugin_name="bank", status="running", trigger="tui")
    runs = json.loads(ok("history", "--json"))
    assert runs[0]["status"] == "failed" and runs[0]["error"].startswith("Interrupted")


# -- wrong inputs: one line on stderr, nothing changed -------------------------------------------------


def test_a_secret_on_the_command_line_is_refused(refused):
    line = refused("plugins", "configure", "bank", "--set", "account=1", "--set", "token=" + TOKEN)
    assert line == (
        "fakturka: token is a secret: give it with --secret token (read from standard input), "
        "never on the command line."
    )
    assert TOKEN not in line


@pytest.mark.parametrize(
    "argv, stdin, says",
    [
        (["plugins", "enable", "nope"], "", "no plugin called 'nope'"),
        (["plugins", "disable", "nope"], "", "no plugin called 'nope'"),
        (["plugins", "show", "nope"], "", "no plugin called 'nope'"),
        (["plugins", "configure", "nope", "--set", "a=1"], "", "no plugin called 'nope'"),
        (["plugins", "configure", "bank"], "", "Nothing to change"),
        (["plugins", "configure", "bank", "--set", "acount=1"], "", "bank has no setting 'acount'"),
        (["plugins", "configure", "bank", "--set", "account"], "", "'account' is not KEY=VALUE."),
        (["plugins", "configure", "bank", "--set", "days=lots"], "", "Days back: 'lots' is not a number."),
        (["plugins", "configure", "bank", "--set", "format=csv"], "", "Format: choose one of json, xml."),
        (["plugins", "configure", "bank", "--secret", "password"], "x\n", "bank has no setting 'password'"),
        (["plugins", "configure", "bank", "--secret", "account"], "123\n", "Account number is not a secret"),
        (
            ["plugins", "configure", "bank", "--secret", "token", "--secret", "pin"],
            "only-one\n",
            "Standard input ended before the secret 'pin'",
        ),
        (["sync", "nope"], "", "no plugin called 'nope'"),
        (["history", "nope"], "", "no plugin called 'nope'"),
        (["history", "show"], "", "Give the run's id"),
        (["history", "show", "999"], "", "There is no sync run 999"),
        (["history", "show", "abc"], "", "'abc' is not a sync run id"),
        (["history", "bank", "3"], "", "Use 'fakturka history show ID'"),
        (["plugins", "frobnicate"], "", "invalid choice"),
    ],
)
def test_wrong_inputs_are_one_line_on_stderr(refused, argv, stdin, says):
    assert says in refused(*argv, stdin=stdin)


# -- clearing a secret ------------------------------------------------------------------------------


def test_an_empty_secret_line_keeps_the_secret_and_clear_secret_removes_it(ok, refused, configured):
    ok("plugins", "configure", "bank", "--secret", "pin", stdin="1234\n")
    assert creds.get_credentials("bank")["pin"] == "1234"
    out = ok("plugins", "configure", "bank", "--secret", "pin", stdin="\n")
    assert "pin: empty line, the stored secret was kept (remove it with --clear-secret pin)." in out
    assert creds.get_credentials("bank")["pin"] == "1234"

    assert "pin cleared." in ok("plugins", "configure", "bank", "--clear-secret", "pin")
    assert "pin" not in creds.get_credentials("bank")
    assert creds.get_credentials("bank")["token"] == TOKEN  # the other secret stays
    assert json.loads(ok("plugins", "show", "bank", "--json"))["settings"]["pin"] == ""
    assert any(a.table_name == "plugin_configurations" and a.action == "update" for a in AuditRecord.select())

    assert "not a secret" in refused("plugins", "configure", "bank", "--clear-secret", "account")
    assert "no setting 'nope'" in refused("plugins", "configure", "bank", "--clear-secret", "nope")
    assert "not both" in refused(
        "plugins", "configure", "bank", "--secret", "pin", "--clear-secret", "pin", stdin="9\n"
    )
    ok("plugins", "configure", "bank", "--clear-secret", "token")
    assert "missing API token (token)" in refused("sync", "bank")


# -- a broken plugin is refused only where it is used ---------------------------------------------------


def test_a_broken_plugin_is_listed_and_refused_while_the_rest_works(ok, refused, configured, monkeypatch):
    import core.plugins

    class NoSync(Plugin):
        name = "no-sync"
        version = "1.0.0"

    monkeypatch.setattr(core.plugins, "BUNDLED", [Bank, NoSync])
    use_plugins(None)
    assert "schema:" in ok("info")
    out = ok("plugins")
    assert "no-sync is broken and cannot be used: plugin class" in out and "has no sync(self, ctx) method" in out
    listed = {p["name"]: p for p in json.loads(ok("plugins", "--json"))}
    assert listed["no-sync"]["broken"] is True and "has no sync(self, ctx) method" in listed["no-sync"]["problem"]
    assert "broken" not in listed["bank"]
    assert "has no sync(self, ctx) method" in refused("sync", "no-sync")
    assert "has no sync(self, ctx) method" in refused("plugins", "configure", "no-sync", "--set", "a=b")
    assert "Sync 1 completed" in ok("sync", "bank")
