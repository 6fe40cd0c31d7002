"""The core never depends on the UI: no ``textual`` or ``tui`` import anywhere under core/.

The headless CLI, plugins and tests must work without loading Textual.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "core"
FORBIDDEN = {"textual", "tui"}
DYNAMIC_IMPORTERS = {"import_module", "__import__", "find_spec"}


def forbidden_imports(source: str, filename: str = "<string>") -> list[tuple[int, str]]:
    """(line, module) for every import of a forbidden package, at any depth of the file."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # Relative imports (level > 0) stay inside core.
            names = [node.module or ""] if node.level == 0 else []
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            args = node.args
            if (
                name in DYNAMIC_IMPORTERS
                and args
                and isinstance(args[0], ast.Constant)
                and isinstance(args[0].value, str)
            ):
                names = [args[0].value]
            else:
                continue
        else:
            continue
        for module in names:
            if module.split(".")[0] in FORBIDDEN:
                found.append((node.lineno, module))
    return found


def core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_checker_finds_every_kind_of_import():
    source = """
import os
import textual
import tui.app as app
from textual.widgets import Static
from tui import cli
from core import tuition  # not the tui package
import textualize_helpers          # not textual either
from . import tui as sibling       # relative: core's own module

def later():
    from textual.app import App
    import tui.cli

class Lazy:
    def method(self):
        if True:
            importlib.import_module("textual.app")
            __import__("tui")
"""
    assert forbidden_imports(source) == [
        (3, "textual"),
        (4, "tui.app"),
        (5, "textual.widgets"),
        (6, "tui"),
        (12, "textual.app"),
        (13, "tui.cli"),
        (18, "textual.app"),
        (19, "tui"),
    ]


def test_core_files_are_found():
    files = {p.relative_to(CORE).as_posix() for p in core_files()}
    assert {
        "store/audit.py",
        "store/models.py",
        "platform/credentials.py",
        "store/db.py",
        "store/migrations.py",
        "store/paths.py",
        "plugins/__init__.py",
    } <= files


@pytest.mark.parametrize("path", core_files(), ids=lambda p: p.relative_to(CORE).as_posix())
def test_core_does_not_import_the_ui(path):
    assert forbidden_imports(path.read_text("utf-8"), str(path)) == []


def test_importing_core_does_not_load_textual(tmp_path):
    env = {**os.environ, "FAKTURKA_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}
    code = (
        "import core.store.models, cli, core.platform.credentials, core.store.audit; import sys; "
        "assert 'textual' not in sys.modules, 'textual was imported'; "
        "assert not any(m == 'tui' or m.startswith('tui.') for m in sys.modules), 'tui was imported'; "
        "print('ok')"
    )
    # sys.executable: the interpreter running this suite (.venv/bin/python).
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok\n"


def test_headless_command_does_not_load_textual(tmp_path):
    """The ``fakturka`` entry point loads Textual only when the app is started."""
    env = {**os.environ, "FAKTURKA_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}
    code = (
        "import sys; from fakturka.launcher import main; rc = main(['info']); "
        "assert 'textual' not in sys.modules, 'textual was imported'; sys.exit(rc)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"database:   {tmp_path / 'home' / 'fakturka.db'}" in result.stdout
