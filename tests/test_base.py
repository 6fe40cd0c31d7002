"""How JSON columns are written (core.store.base.json_text): one encoding everywhere, equal values equal text."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from core.store.base import json_text

REFERENCE = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":")).encode


@pytest.mark.parametrize(
    "value",
    [
        {"id": 24000000001, "vs": "2024001", "ks": "0308"},
        {"b": [1, 2.5, None, True, False], "a": 'žluťoučký kůň \u0001 " \\ \n', "n": {"z": {}, "y": []}},
        [Decimal("1.50"), date(2024, 1, 31)],  # not JSON types: written as their str()
        {1: "int keys", 2: "become text"},
        "a plain string",
        5,
        1.0,
        None,
        True,
        {},
        [],
        float("nan"),
    ],
    ids=repr,
)
def test_json_text_is_compact_sorted_and_the_standard_encoding(value):
    assert json_text(value) == REFERENCE(value)


def test_json_text_of_equal_documents_is_equal_text():
    assert json_text({"b": 1, "a": [1, {"y": 2, "x": 1}]}) == json_text({"a": [1, {"x": 1, "y": 2}], "b": 1})
    assert json_text({"b": 1, "a": 2}) == '{"a":2,"b":1}'


def test_json_text_of_a_cycle_fails_instead_of_hanging():
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises((RecursionError, ValueError)):
        json_text(cycle)
