"""Invoice, match and run states are named once (core/store/states.py); code compares and sets
them through the enums, so a misspelt state is an AttributeError, not a silent mismatch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.store.models import Invoice, MoneyTransaction, SyncHistory
from core.store.states import InvoiceStatus, MatchStatus, RunStatus

ROOT = Path(__file__).resolve().parent.parent
STATES = "|".join(s.value for enum in (InvoiceStatus, MatchStatus, RunStatus) for s in enum)
# A state literal where a status is compared, set or listed.
# Python strings only: SQL text keeps its literal where a partial index needs it (core/banking/matching.py).
LITERAL_STATE = re.compile(rf'(status"?\s*(==|!=|=|:|in)\s*\(?\s*|status\.in_\(\(\s*)"({STATES})"')


def source_files():
    for top in ("core", "cli", "tui"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if path.name not in ("states.py", "migrations.py"):  # migrations: frozen SQL, by design
                yield path


@pytest.mark.parametrize("path", list(source_files()), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_states_are_used_through_their_enums(path):
    hits = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1)
        if LITERAL_STATE.search(line)
    ]
    assert hits == []


def test_the_guard_sees_a_literal_state():
    assert LITERAL_STATE.search('if invoice.status == "paid":')
    assert LITERAL_STATE.search('{"match_status": "review"}')
    assert LITERAL_STATE.search('Invoice.status.in_(("sent", "paid"))')
    assert not LITERAL_STATE.search("if invoice.status == InvoiceStatus.PAID:")


def test_the_models_offer_exactly_the_enums_values():
    assert Invoice.STATUSES == tuple(InvoiceStatus)
    assert MoneyTransaction.MATCH_STATUSES == tuple(MatchStatus)
    assert SyncHistory.STATUSES == tuple(RunStatus)
