"""Golden files: every statement fixture read by its reader, compared with the movements expected of it.

Each input under tests/fixtures/ (every camt053/*.xml except the deliberately
broken camt053.v2.wrong.xml, which tests/test_format_camt053.py shows is
refused; fio-export.csv; generic-bank.csv with ``GENERIC_MAPPING``) has a JSON
file under tests/fixtures/golden/ with the same path and ``.json``: the
reader, the input and its movements, each with the fields of
``core.banking.formats.Movement`` in that order (dates as ISO strings, amounts
as the strings the reader's Decimal prints, ``raw_data`` as read).

The golden files were written by the readers once and then checked by hand
against the XML/CSV (amounts, direction, dates, references). To regenerate
them after a deliberate change of a reader::

    FAKTURKA_REGENERATE_GOLDEN=1 .venv/bin/python -m pytest -q tests/test_format_golden.py

then read the diff (``git diff tests/fixtures/golden``) before keeping it: a
golden file is only worth what its last reading by a person was.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest

from core.banking.formats import Movement, camt053, fio_csv, generic_csv
from core.banking.formats.presets import PRESETS

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "golden"
REGENERATE = os.environ.get("FAKTURKA_REGENERATE_GOLDEN") == "1"
GENERIC_MAPPING = (
    "date=Date,amount=Amount,currency=Currency,vs=VS,counterparty=Name,account=Account,"
    "message=Message,id=ID,date_format=%d.%m.%Y,decimal=,,delimiter=;"
)
BROKEN = {"camt053/camt053.v2.wrong.xml"}  # refused: tests/test_format_camt053.py


def read_camt(data: bytes, name: str) -> list[Movement]:
    return camt053.read(data, name)


def read_fio(data: bytes, name: str) -> list[Movement]:
    return fio_csv.read(data, name)


def read_generic(data: bytes, name: str) -> list[Movement]:
    return generic_csv.read(data, GENERIC_MAPPING, name)


def read_preset(preset: str):
    """A bank's export (tests/fixtures/csv-shapes/<preset>.csv) read with its preset, as the plugin reads it."""
    chosen = PRESETS[preset]
    return lambda data, name: generic_csv.read(data, chosen.mapping, name, account_currency=chosen.currency)


def cases() -> list[tuple[str, str, object]]:
    """``(input path under fixtures/, reader name, read function)`` for every statement fixture."""
    found = [
        (path.relative_to(FIXTURES).as_posix(), "camt053", read_camt)
        for path in sorted((FIXTURES / "camt053").rglob("*.xml"))
        if path.relative_to(FIXTURES).as_posix() not in BROKEN
    ]
    presets = [
        (f"csv-shapes/{preset.name}.csv", f"generic_csv preset {preset.name}", read_preset(preset.name))
        for preset in PRESETS.values()
        if preset.format == "csv"
    ]
    return found + [
        ("fio-export.csv", "fio_csv", read_fio),
        ("generic-bank.csv", "generic_csv", read_generic),
        *presets,
    ]


def golden_path(source: str) -> Path:
    return GOLDEN / Path(source).with_suffix(".json")


def as_json(movement: Movement) -> dict:
    """A movement as JSON values, in the dataclass's field order."""
    out = {}
    for field in dataclasses.fields(Movement):
        value = getattr(movement, field.name)
        out[field.name] = value if isinstance(value, (str, dict)) else str(value)
    out["transacted_on"] = movement.transacted_on.isoformat()
    return out


def document(source: str, reader: str, movements: list[Movement]) -> dict:
    settings = {"mapping": GENERIC_MAPPING} if reader == "generic_csv" else {}
    return {"input": source, "reader": reader, **settings, "movements": [as_json(m) for m in movements]}


@pytest.mark.parametrize("source,reader,read", cases(), ids=[case[0] for case in cases()])
def test_each_fixture_reads_as_its_golden_file(source, reader, read):
    got = document(source, reader, read((FIXTURES / source).read_bytes(), Path(source).name))
    path = golden_path(source)
    if REGENERATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with FAKTURKA_REGENERATE_GOLDEN=1, then check it by hand"
    assert got == json.loads(path.read_text(encoding="utf-8"))


def test_every_golden_file_belongs_to_a_fixture():
    expected = {golden_path(source) for source, _, _ in cases()}
    assert set(GOLDEN.rglob("*.json")) == expected


def test_every_statement_fixture_is_covered():
    inputs = {p.relative_to(FIXTURES).as_posix() for p in FIXTURES.rglob("*") if p.suffix in (".xml", ".csv")}
    assert inputs == {source for source, _, _ in cases()} | BROKEN
