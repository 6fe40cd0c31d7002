# docs/examples/test_example_bank.py: run it with
#   .venv/bin/python -m pytest -q docs/examples/test_example_bank.py
# For your plugin: copy it to tests/test_mybank.py and import from core.plugins.mybank instead.
import json
from pathlib import Path

from example_bank import ExampleBank  # the file next to this one

from core.plugins.testing import PluginTestKit, assert_writes_match, run_plugin

HERE = Path(__file__).parent
TOKEN = "tok-123/abc"


def write_statement(path, *rows):
    path.write_text(json.dumps({"account": "2400123456/2010", "token": TOKEN, "transactions": list(rows)}))
    return path


def test_imports_once_and_hides_the_token(tmp_path):
    statement = write_statement(
        tmp_path / "statement.json",
        {"id": "T-1", "date": "2024-05-02", "amount": "1210.00", "vs": "20240007"},
        {"id": "T-2", "date": "2024-05-03", "amount": "-350.50"},
    )
    with PluginTestKit(ExampleBank, settings={"path": str(statement)}, credentials={"api_token": TOKEN}) as kit:
        first = kit.run()
        assert first.status == "completed", first.error
        assert first.created == 2
        assert [(t.transaction_type, str(t.amount_value)) for t in first.transactions] == [
            ("income", "1210.00"),
            ("expense", "350.50"),
        ]
        assert first.state == {"since": "2024-05-03"}
        assert TOKEN not in first.stored_text()

        second = kit.run()  # the same database and the state the first run saved
        assert second.status == "completed"
        assert second.created == 0 and second.skipped == 1  # only 2024-05-03 is read again


def test_a_missing_file_is_a_clear_error(tmp_path):
    result = run_plugin(ExampleBank, settings={"path": str(tmp_path / "nope.json")}, credentials={"api_token": TOKEN})
    assert result.status == "failed"
    assert "does not exist" in result.error
    assert result.backtrace is None  # a SyncError: the person sees the sentence only
    assert result.transactions == []


def test_writes_match_the_golden_file(tmp_path):
    # Compares every row written (and the state, the counts) with the expected JSON file.
    # After a deliberate change: FAKTURKA_REGENERATE=1 rewrites the file; check its diff.
    assert_writes_match(
        ExampleBank,
        HERE / "example_statement.json",
        HERE / "example_bank.expected.json",
        credentials={"api_token": "demo-token"},
    )
