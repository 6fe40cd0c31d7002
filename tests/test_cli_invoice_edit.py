"""``fakturka invoice edit``: a draft's dates, note, customer and lines from the command line, all at
once or not at all; lines named by the ``#`` column of ``invoice show``."""

from __future__ import annotations

import json

import pytest
from test_cli_invoicing import books  # noqa: F401 (a fixture)

from core.store.models import Invoice, WorkEntry


@pytest.fixture
def draft(ok, books):  # noqa: F811
    ok("invoice", "create", "--client", "Acme", "--until", "2026-04-30", "--date", "2026-05-02")
    return json.loads(ok("invoice", "show", "20260001", "--json"))


def test_edit_changes_dates_note_customer_and_lines_of_a_draft(ok, draft):
    assert [line["position"] for line in draft["lines"]] == [1, 2]
    out = ok(
        "invoice", "edit", "20260001",
        "--due", "2026-06-30",
        "--note", "Thank you.",
        "--customer-name", "Acme Europe s.r.o.",
        "--set-line", "1", "|4||1600|",
        "--add-line", "Travel|1|pcs|800|0",
    )  # fmt: skip
    assert out.startswith("Draft 20260001 saved:")
    shown = json.loads(ok("invoice", "show", "20260001", "--json"))
    assert shown["due_on"] == "2026-06-30"
    assert shown["customer"]["name"] == "Acme Europe s.r.o."
    first, _second, travel = shown["lines"]
    assert (first["description"], first["quantity"], first["unit_price"]) == (
        draft["lines"][0]["description"],
        "4",
        "1600.00",
    )
    assert (travel["description"], travel["unit"], travel["amount"]) == ("Travel", "pcs", "800.00")
    assert Invoice.get(Invoice.number == "20260001").note == "Thank you."
    header = next(line for line in ok("invoice", "show", "20260001").splitlines() if "DESCRIPTION" in line)
    assert header.split()[:2] == ["#", "DESCRIPTION"]


def test_removing_a_line_unbills_its_work(ok, draft):
    ok("invoice", "edit", "20260001", "--remove-line", "2")
    shown = json.loads(ok("invoice", "show", "20260001", "--json"))
    assert len(shown["lines"]) == 1
    assert WorkEntry.select().where(WorkEntry.invoice_line.is_null()).count() > 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "Nothing to change"),
        (["--remove-line", "3"], "there is no line 3"),
        (["--set-line", "1", "only|two"], "five parts"),
        (["--add-line", "Travel|one|pcs|800|0"], "quantity"),
        (["--remove-line", "1", "--remove-line", "2"], "at least one line"),
        (["--due", "2026-01-01"], "before the issue date"),
    ],
)
def test_a_wrong_edit_is_refused_and_changes_nothing(refused, draft, args, says):
    assert says in refused("invoice", "edit", "20260001", *args)


def test_a_sent_invoice_cannot_be_edited(ok, refused, draft):
    ok("invoice", "send", "20260001")
    assert "only a draft can be edited" in refused("invoice", "edit", "20260001", "--note", "x")
