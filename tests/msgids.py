"""Every msgid the code can say, found by reading it (used by tests/test_czech_complete.py).

The terminal app, core, the CLI, the invoice PDF and the portal are read with ast, the portal's templates
with Jinja's own parser; added are the English texts that reach the screen from elsewhere (Textual's own
binding labels and palette entries, the bundled plugins' field labels and help, audit values). Also the
two catalogs as Babel reads them.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from babel.messages.pofile import read_po

from core.values import i18n

ROOT = Path(__file__).resolve().parent.parent

# -- reading the code for every msgid it can say ------------------------------------------------------

CODE_DIRS = ("tui", "core", "portal", "cli", "fakturka")
TEMPLATES = ROOT / "portal" / "templates"

Key = tuple[str | None, str]


@dataclass(frozen=True)
class Says:
    """How a function takes a msgid: the argument position of the msgid, of its plural, and the context
    as a position or as the literal the function always gives."""

    message: int
    plural: int | None = None
    context: int | str | None = None


# core says things to people as Message("English {name}", name=...) (core/values/messages.py): in every
# file that imports that Message (Textual has a Message class of its own).
MESSAGE = Says(0)


def code_paths() -> list[Path]:
    return sorted(path for folder in CODE_DIRS for path in (ROOT / folder).rglob("*.py"))


def _constant(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _call_keys(func: ast.AST) -> list[str]:
    """The names a call is known by: ``i18n.gettext`` and ``gettext``, ``self.t`` and ``t``, ``_``."""
    if isinstance(func, ast.Name):
        return [func.id]
    if isinstance(func, ast.Attribute):
        return ([f"{func.value.id}.{func.attr}"] if isinstance(func.value, ast.Name) else []) + [func.attr]
    return []


def _argument(call: ast.Call, at: int | None) -> ast.AST | None:
    return call.args[at] if at is not None and len(call.args) > at else None


def i18n_functions() -> dict[str, Says]:
    """core.values.i18n's gettext, pgettext and ngettext, read from their parameters (``msgid``,
    ``singular``, ``plural``, ``context``), as the code calls them: ``i18n.gettext(lang, msgid)``."""
    tree = ast.parse((ROOT / "core" / "values" / "i18n.py").read_text("utf-8"))
    found = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names = [a.arg for a in node.args.args]
            message = "msgid" if "msgid" in names else "singular" if "singular" in names else None
            if message:
                found[f"i18n.{node.name}"] = Says(
                    names.index(message),
                    names.index("plural") if "plural" in names else None,
                    names.index("context") if "context" in names else None,
                )
    return found


class CodeReader:
    """Every msgid the code passes to a translating function, found by reading the code (ast).

    The translating functions are core.values.i18n's, and every function that hands one of its own
    parameters on to one as the msgid: tui's ``_``, ``ngettext`` and ``pgettext``, the invoice PDF's
    ``t``, the portal Speaker's ``t`` and ``n``, found again until no new one turns up.

    An argument that is no literal is followed where the code says what it can be (``values_of``): a
    literal of either branch, an item of a module's constant list (``MONTH_MSGIDS[m - 1]``, ``label``
    of ``for label, value in STATUS_FILTERS``, read by importing the module), a name guarded by
    ``if x in ("h", "pcs")``, a local assigned from such a thing, the literals a called function
    returns, and a row's stored state (``inv.status``: the model's ``STATUSES``; ``session.status``:
    the literals the code assigns to it).
    """

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self.trees: dict[Path, ast.Module] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        self.assigned: dict[str, set[str]] = {}  # attribute name -> literals the code assigns to it
        self.imports_message: dict[Path, bool] = {}
        for path in paths:
            self.tree(path)
        self.says = self.translators()

    def tree(self, path: Path) -> ast.Module:
        if path not in self.trees:
            tree = self.trees[path] = ast.parse(path.read_text("utf-8"), filename=str(path))
            for node in ast.walk(tree):
                for child in ast.iter_child_nodes(node):
                    self.parents[child] = node
                if isinstance(node, ast.Assign) and (text := _constant(node.value)):
                    for target in node.targets:
                        if isinstance(target, ast.Attribute):
                            self.assigned.setdefault(target.attr.lstrip("_"), set()).add(text)
        return self.trees[path]

    def file_says(self, path: Path, says: dict[str, Says]) -> dict[str, Says]:
        """The translating functions as one file calls them: with core's Message where the name it
        imports as Message is that one (core/plugins/base.py passes it on; Textual has its own)."""
        from core.values.messages import Message

        if path not in self.imports_message:
            self.imports_message[path] = (
                any(
                    isinstance(node, ast.ImportFrom) and any(alias.name == "Message" for alias in node.names)
                    for node in ast.walk(self.tree(path))
                )
                and vars(self.module(path) or object).get("Message") is Message
            )
        return says | {"Message": MESSAGE} if self.imports_message[path] else says

    @staticmethod
    def lookup(call: ast.Call, says: dict[str, Says]) -> Says | None:
        return next((says[key] for key in _call_keys(call.func) if key in says), None)

    def translators(self) -> dict[str, Says]:
        says = i18n_functions()
        while True:
            grown = dict(says)
            for path in self.paths:
                file_says = self.file_says(path, says)
                for func in ast.walk(self.tree(path)):
                    if not isinstance(func, ast.FunctionDef) or func.name in grown:
                        continue
                    params = [a.arg for a in func.args.args]
                    if isinstance(self.parents.get(func), ast.ClassDef) and params[:1] in (["self"], ["cls"]):
                        params = params[1:]
                    for call in ast.walk(func):
                        said = isinstance(call, ast.Call) and self.lookup(call, file_says)
                        message = said and _argument(call, said.message)
                        if isinstance(message, ast.Name) and message.id in params:
                            plural = _argument(call, said.plural)
                            context = _argument(call, said.context) if isinstance(said.context, int) else None
                            grown[func.name] = Says(
                                params.index(message.id),
                                params.index(plural.id)
                                if isinstance(plural, ast.Name) and plural.id in params
                                else None,
                                params.index(context.id)
                                if isinstance(context, ast.Name) and context.id in params
                                else _constant(context)
                                if context is not None
                                else said.context,
                            )
            if grown == says:
                return says
            says = grown

    def msgids(self) -> set[Key]:
        found: set[Key] = set()
        for path in self.paths:
            says = self.file_says(path, self.says)
            for call in ast.walk(self.tree(path)):
                if isinstance(call, ast.Call) and (said := self.lookup(call, says)):
                    if isinstance(said.context, int):
                        context = _argument(call, said.context)
                        contexts = self.values_of(context, path) if context is not None else set()
                    else:
                        contexts = {said.context}
                    for at in (said.message, said.plural):
                        texts = self.values_of(_argument(call, at), path)
                        found |= {(context, text) for context in contexts for text in texts if text}
        return found

    # what an argument can be ------------------------------------------------------------------------

    def values_of(self, node: ast.AST | None, path: Path, seen: frozenset = frozenset()) -> set[str]:
        if node is None or node in seen:
            return set()
        seen = seen | {node}
        if (text := _constant(node)) is not None:
            return {text}
        if isinstance(node, ast.IfExp):
            return self.values_of(node.body, path, seen) | self.values_of(node.orelse, path, seen)
        if isinstance(node, ast.Subscript):
            return self.strings(self.global_value(node.value, path), None)
        if isinstance(node, ast.Attribute):
            return self.stored_values(node.attr)
        if isinstance(node, ast.Name):
            return self.name_values(node, path, seen)
        if isinstance(node, ast.Call):
            return self.returned_values(node, path, seen)
        return set()

    @staticmethod
    def strings(value, at: int | None) -> set[str]:
        if isinstance(value, (list, tuple)):
            items = [item[at] if at is not None and isinstance(item, (list, tuple)) else item for item in value]
            return {item for item in items if isinstance(item, str)}
        return set()

    def module(self, path: Path):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":  # importing it would start the program
            return None
        return importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))

    def global_value(self, node: ast.AST, path: Path):
        """The run-time value of a module-level name (or ``module.name``) as the file sees it."""
        if isinstance(node, ast.Name):
            return vars(self.module(path) or object).get(node.id)
        if isinstance(node, ast.Attribute) and (owner := self.global_value(node.value, path)) is not None:
            return getattr(owner, node.attr, None)
        return None

    def stored_values(self, attr: str) -> set[str]:
        """The states a model's field of that name holds (a field whose default is a state of
        core/store/states.py, ``Invoice.status``: every InvoiceStatus), and the literals the code assigns
        to an attribute of that name (``session.status = "refused"``)."""
        from core.store.models import ALL_MODELS

        found = set(self.assigned.get(attr.lstrip("_"), ()))
        for model in ALL_MODELS:
            default = getattr(model._meta.fields.get(attr), "default", None)
            if isinstance(default, StrEnum):
                found |= {state.value for state in type(default)}
        return found

    def name_values(self, node: ast.Name, path: Path, seen: frozenset) -> set[str]:
        child, parent = node, self.parents.get(node)
        while parent is not None:
            # guarded: `x if x in ("h", "pcs")`, `if x in ("today", "yesterday"): ... x`
            in_body = (isinstance(parent, ast.IfExp) and child is parent.body) or (
                isinstance(parent, ast.If) and child in parent.body
            )
            test = parent.test if in_body else None
            if (
                isinstance(test, ast.Compare)
                and isinstance(test.left, ast.Name)
                and test.left.id == node.id
                and isinstance(test.ops[0], ast.In)
                and isinstance(test.comparators[0], (ast.Tuple, ast.List, ast.Set))
            ):
                return {t for e in test.comparators[0].elts if (t := _constant(e)) is not None}
            # a loop over a constant list: `for label, value in STATUS_FILTERS`
            loops = parent.generators if isinstance(parent, (ast.ListComp, ast.GeneratorExp, ast.SetComp)) else []
            loops = loops + [parent] if isinstance(parent, ast.For) else loops
            for loop in loops:
                targets = loop.target.elts if isinstance(loop.target, ast.Tuple) else [loop.target]
                for at, target in enumerate(targets):
                    if isinstance(target, ast.Name) and target.id == node.id:
                        iterable = self.global_value(loop.iter, path)
                        return self.strings(iterable, at if isinstance(loop.target, ast.Tuple) else None)
            # a local: `status = svc.display_status(inv, today)`
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found = set()
                for assign in ast.walk(parent):
                    if isinstance(assign, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == node.id for t in assign.targets
                    ):
                        found |= self.values_of(assign.value, path, seen)
                return found
            child, parent = parent, self.parents.get(parent)
        return set()

    def returned_values(self, call: ast.Call, path: Path, seen: frozenset) -> set[str]:
        """What a called function of the code returns: the literals and states of its return statements."""
        func = self.global_value(call.func, path)
        try:
            source = Path(inspect.getsourcefile(func)).resolve()
            first = func.__code__.co_firstlineno
        except (TypeError, AttributeError):
            return set()
        if ROOT not in source.parents:
            return set()
        found = set()
        for node in ast.walk(self.tree(source)):
            if isinstance(node, ast.FunctionDef) and node.name == func.__name__:
                if first in [node.lineno] + [d.lineno for d in node.decorator_list]:
                    for ret in ast.walk(node):
                        if isinstance(ret, ast.Return):
                            found |= self.values_of(ret.value, source, seen)
        return found


def code_msgids(paths: list[Path]) -> set[Key]:
    """(context, msgid) of every msgid the code passes to a translating function (see CodeReader), and
    of every binding description (Binding(...) and the (key, action, description) tuples of BINDINGS)
    and screen title (TITLE_MSGID)."""
    found = CodeReader(paths).msgids()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text("utf-8"), filename=str(path))):
            if isinstance(node, ast.Call) and _call_keys(node.func)[-1:] == ["Binding"]:
                description = _constant(node.args[2]) if len(node.args) > 2 else None
                for keyword in node.keywords:
                    if keyword.arg == "description":
                        description = _constant(keyword.value)
                if description:
                    found.add((None, description))
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "BINDINGS" for t in node.targets
            ):
                for item in getattr(node.value, "elts", []):
                    if isinstance(item, ast.Tuple) and len(item.elts) > 2 and (text := _constant(item.elts[2])):
                        found.add((None, text))
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "TITLE_MSGID" for t in node.targets
            ):
                if text := _constant(node.value):
                    found.add((None, text))
    return found


def template_msgids() -> set[Key]:
    """What the portal's pages say: the templates get a Speaker as ``s`` (portal/app.py) and say
    ``s.t("...")`` and ``s.n("...", "...", n)``; read with Jinja's own parser, with the Speaker's
    translating methods as CodeReader finds them in portal/app.py."""
    from jinja2 import Environment, nodes

    portal = ROOT / "portal" / "app.py"
    reader = CodeReader([portal])
    methods = {
        node.name: reader.says[node.name]
        for node in ast.walk(reader.tree(portal))
        if isinstance(node, ast.FunctionDef)
        and isinstance(reader.parents.get(node), ast.ClassDef)
        and node.name in reader.says
    }

    def values(node) -> set[str]:
        if isinstance(node, nodes.Const) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, nodes.CondExpr):
            return values(node.expr1) | values(node.expr2)
        return set()

    found: set[Key] = set()
    env = Environment()
    for path in sorted(TEMPLATES.glob("*.html")):
        for call in env.parse(path.read_text("utf-8")).find_all(nodes.Call):
            if isinstance(call.node, nodes.Getattr) and (said := methods.get(call.node.attr)):
                context = said.context if isinstance(said.context, str) else None
                for at in (said.message, said.plural):
                    if at is not None and len(call.args) > at:
                        found |= {(context, text) for text in values(call.args[at])}
    return found


def textual_msgids() -> set[tuple[str | None, str]]:
    """What Textual itself shows: binding labels of the widgets the app uses (footer, help, key panel),
    the palette's key, its prompts and Textual's own palette entries."""
    from textual.app import App
    from textual.containers import VerticalScroll
    from textual.screen import ModalScreen, Screen
    from textual.widgets import Button, Checkbox, DataTable, Input, Select, TextArea
    from textual.widgets._select import SelectOverlay

    from tui.app import FakturkaApp

    found = {(None, "palette"), (None, "Search for commands…"), (None, "Search for themes…")}
    for cls in (
        Screen,
        ModalScreen,
        Input,
        DataTable,
        Select,
        SelectOverlay,
        TextArea,
        Checkbox,
        Button,
        VerticalScroll,
    ):
        for _key, bindings in cls._merged_bindings.key_to_bindings.items():
            found.update((None, b.description) for b in bindings if b.description)
    for panel, maximized in ((False, False), (True, True)):
        for command in App.get_system_commands(FakturkaApp.__new__(FakturkaApp), _FakeScreen(panel, maximized)):
            found.update({(None, command.title), (None, command.help)})
    return found


class _FakeScreen:
    """Enough of a screen for App.get_system_commands to list its entries; ``panel`` and ``maximized``
    choose the branches (Keys show/hide, Maximize/Minimize)."""

    def __init__(self, panel: bool, maximized: bool):
        self.panel = panel
        self.maximized = object() if maximized else None
        self.focused = type("Focused", (), {"allow_maximize": True})()

    def query(self, selector):
        return ["panel"] if self.panel else []

    def action_maximize(self):
        pass

    def action_minimize(self):
        pass


def plugin_msgids() -> set[tuple[str | None, str]]:
    """The bundled plugins' field labels and help, shown by the plugin form from the catalog."""
    from core.plugins import registry

    found = set()
    for plugin in registry().values():
        for field in plugin.fields:
            found.add((None, field.label))
            if field.help:
                found.add((None, field.help))
    return found


def value_msgids() -> set[tuple[str | None, str]]:
    """Stored English values the screens show from the catalog (the ones CodeReader cannot follow)."""
    from core.store.models import ALL_MODELS
    from tui.app import SECTIONS

    found = {(None, title) for _key, title, _screen in SECTIONS.values()}
    found |= {("audit source", s) for s in ("manual", "demo", "keys reset")}
    found |= {("audit action", a) for a in ("create", "update", "delete")}
    found |= {("audit table", model._meta.table_name) for model in ALL_MODELS}
    return found


def czech_catalog() -> dict[tuple[str | None, str], str | tuple]:
    with i18n.po_path("cs").open("rb") as fh:
        catalog = read_po(fh, locale="cs")
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m.string for m in catalog if m.id} | {
        (m.context, m.id[1]): m.string for m in catalog if m.id and not isinstance(m.id, str)
    }


def english_catalog_ids() -> set[tuple[str | None, str]]:
    with i18n.po_path("en").open("rb") as fh:
        catalog = read_po(fh, locale="en")
    ids = set()
    for m in catalog:
        if m.id:
            ids |= {(m.context, i) for i in ([m.id] if isinstance(m.id, str) else m.id)}
    return ids


def by_text(key: tuple[str | None, str]) -> tuple[str, str]:
    return key[0] or "", key[1]


@functools.cache
def all_msgids() -> frozenset[Key]:
    """Every msgid the code can say: the terminal app, core, the CLI, the invoice PDF and the portal."""
    return frozenset(
        code_msgids(code_paths()) | template_msgids() | textual_msgids() | plugin_msgids() | value_msgids()
    )
