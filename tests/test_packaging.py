"""The wheel's package list: every package folder of the app is installed, and data/ only inside it.

pyproject.toml lists the packages instead of finding them (so data/ installs as fakturka.data,
never as a top-level "data"); a package folder missing from the list would be left out of the
wheel and fail only for people who install it. `make wheel-check` builds and runs the real wheel.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))


def package_folders() -> set[str]:
    found = set()
    for top in ("core", "tui", "cli", "portal", "fakturka"):
        for init in (ROOT / top).rglob("__init__.py"):
            found.add(".".join(init.parent.relative_to(ROOT).parts))
    return found


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert package_folders() - listed == set()


def test_every_listed_package_exists():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"]) - {"fakturka.data"}
    assert listed - package_folders() == set()


def test_data_installs_inside_the_fakturka_package_with_its_catalogs():
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert "data" not in setuptools["packages"]
    assert setuptools["package-dir"] == {"fakturka.data": "data"}
    patterns = setuptools["package-data"]["fakturka.data"]
    catalogs = sorted(p.relative_to(ROOT / "data").as_posix() for p in (ROOT / "data").rglob("*.po"))
    assert catalogs and all(any(Path(c).match(pattern) for pattern in patterns) for c in catalogs)


def test_the_catalogs_are_read_as_package_resources():
    from core.values import i18n

    for lang in ("en", "cs"):
        with i18n.po_path(lang).open("rb") as fh:
            assert b'msgid ""' in fh.read()
