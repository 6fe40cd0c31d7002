"""Czech complete: every string the terminal app shows comes from the Czech catalog, translated.

One test reads the code (ast, not regex) for every msgid the UI passes to gettext, adds the English texts
that reach the screen from elsewhere (Textual's own binding labels and palette entries, the bundled
plugins' field labels and help, audit values), and fails on one the Czech catalog lacks or leaves in
English. Another walks every section in Czech and fails on English words on the screen.
"""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from core.values import i18n
from core.values.money import parse_amount
from tests.helpers import screen_text

ROOT = Path(__file__).resolve().parent.parent

# Words that are the same in Czech on purpose: codes, abbreviations and loan words a Czech invoice uses
# as they are. Anything else with msgstr == msgid is an English text left untranslated.
IDENTICAL_IN_CZECH = {
    "OK",
    "IBAN",
    "BIC",
    "PDF",
    "CSV",
    "VS",  # variabilní symbol, written so on every Czech payment
    "E-mail",
    "Detail",
    "Plugin",
    "QR Platba",  # the name of the Czech QR payment standard
    "Export PDF",
    "Reference",
    "Log",
    "Čeština/English",  # the language switch names both languages in their own words
    "API token",
}

GETTEXT_CALLS = {"_": (None, 0), "gettext": (None, 0), "ngettext": (None, 0), "pgettext": (0, 1)}
# core says things to people as Message("English {name}", name=...) (core/values/messages.py).
MESSAGE_CALLS = {"Message": (None, 0)}


def _constant(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def code_msgids(paths: list[Path], calls: dict | None = None) -> set[tuple[str | None, str]]:
    """(context, msgid) of every literal passed to _, ngettext (both forms), pgettext, and of every
    binding description (Binding(...) and the (key, action, description) tuples of BINDINGS)."""
    calls = GETTEXT_CALLS if calls is None else calls
    found: set[tuple[str | None, str]] = set()
    for path in paths:
        tree = ast.parse(path.read_text("utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name in calls and node.args:
                    context_at, message_at = calls[name]
                    context = _constant(node.args[context_at]) if context_at is not None else None
                    if len(node.args) > message_at and (message := _constant(node.args[message_at])):
                        found.add((context, message))
                    if name == "ngettext" and len(node.args) > 1 and (plural := _constant(node.args[1])):
                        found.add((None, plural))
                if name == "Binding":
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


def ui_paths() -> list[Path]:
    return sorted((ROOT / "tui").rglob("*.py"))


def core_msgids() -> set[tuple[str | None, str]]:
    """Every Message core can say: refusals, validation errors, the bundled plugins' log lines."""
    return code_msgids(sorted((ROOT / "core").rglob("*.py")), MESSAGE_CALLS)


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
    """Stored English values the screens show from the catalog."""
    from core.billing.timesheet import PERIOD_CHOICES
    from core.store.models import ALL_MODELS
    from tui.app import SECTIONS

    found = {(None, title) for _key, title, _screen in SECTIONS.values()}
    found |= {(None, label) for label, _value in PERIOD_CHOICES}
    found |= {("audit source", s) for s in ("manual", "demo", "keys reset")}
    found |= {("audit action", a) for a in ("create", "update", "delete")}
    found |= {("audit table", model._meta.table_name) for model in ALL_MODELS}
    found |= {("date input", d) for d in ("today", "yesterday")}
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


def all_msgids() -> set[tuple[str | None, str]]:
    return code_msgids(ui_paths()) | textual_msgids() | plugin_msgids() | value_msgids() | core_msgids()


def test_extraction_finds_the_kinds_of_strings_the_ui_shows():
    msgids = all_msgids()
    for expected in [
        (None, "Save"),  # _("Save")
        (None, "Leave field"),  # a Binding description
        (None, "Audit log"),  # a TITLE_MSGID
        (None, "Focus Next"),  # Textual's screen
        (None, "Copy selected text"),
        (None, "Dismiss menu"),  # Textual's Select overlay
        (None, "palette"),
        (None, "Quit the application as soon as possible"),  # Textual's palette entry
        ("audit source", "manual"),
        ("audit table", "invoices"),
        (None, "API token"),  # the Fio plugin's field
    ]:
        assert expected in msgids, expected


def test_every_ui_string_is_translated_in_czech():
    czech = czech_catalog()
    missing = sorted((m for m in all_msgids() if m not in czech), key=by_text)
    untranslated = []
    for key in sorted(all_msgids() - set(missing), key=by_text):
        strings = czech[key] if isinstance(czech[key], (tuple, list)) else [czech[key]]
        if not all(strings) or (key[1] in strings and key[1] not in IDENTICAL_IN_CZECH):
            untranslated.append(key)
    assert missing == [], f"missing from the Czech catalog: {missing}"
    assert untranslated == [], f"untranslated in the Czech catalog: {untranslated}"


def test_english_catalog_has_every_ui_string():
    assert sorted(all_msgids() - english_catalog_ids(), key=by_text) == []


def test_plugin_form_shows_labels_and_help_from_the_catalog(database):
    from tui.i18n import set_language
    from tui.screens.plugins import plugin_form_fields

    set_language("cs")
    try:
        fields = {f.key: f for f in plugin_form_fields("fio")}
    finally:
        set_language("en")
    assert fields["start_date"].label == i18n.gettext("cs", "First day to download") == "První den ke stažení"
    assert fields["token"].help.startswith(i18n.gettext("cs", fields_help("fio", "token")))
    assert fields["token"].help.startswith("Vytvořte token")


def fields_help(name: str, key: str) -> str:
    from core.plugins import get_plugin

    return next(f.help for f in get_plugin(name).fields if f.key == key)


@pytest.mark.parametrize(
    ("value", "cs", "en"),
    [("1234.5", "1 234,50", "1,234.50"), ("1000", "1 000,00", "1,000.00"), ("0.125", "0,125", "0.125")],
)
def test_amounts_in_forms_are_written_for_the_language_and_read_back(value, cs, en):
    assert i18n.format_amount_input(Decimal(value), "cs") == cs
    assert i18n.format_amount_input(Decimal(value), "en") == en
    assert parse_amount(cs) == parse_amount(en) == Decimal(value)


def test_dates_in_forms_are_written_for_the_language_and_read_back():
    from datetime import date

    from core.values.dates import parse_date

    day = date(2026, 11, 21)
    assert i18n.format_date_input(day, "cs") == "21. 11. 2026"
    assert i18n.format_date_input(day, "en") == "2026-11-21"
    assert parse_date(i18n.format_date_input(day, "cs")) == day


# -- every section in Czech -------------------------------------------------------------------------

# English words that are no Czech word and no part of the demo data (its clients, projects and
# descriptions are Czech), checked as whole words.
ENGLISH_WORDS = [
    "Quit",
    "Search",
    "Focus",
    "Save",
    "Cancel",
    "Settings",
    "Invoices",
    "Invoice",
    "Date",
    "Amount",
    "Status",
    "Client",
    "Clients",
    "Description",
    "Help",
    "palette",
    "Dashboard",
    "Refresh",
    "Filter",
    "Delete",
    "Edit",
    "New",
    "Total",
    "Due",
    "Paid",
    "Unpaid",
    "Project",
    "Hours",
    "Select",
    "Enabled",
    "Source",
    "Table",
    "Action",
    "manual",
    "create",
    "update",
    "All time",
    "Bank transactions",
    "Sync history",
    "Audit log",
    "Time",
    "Key",
    "Dark",  # the theme names in Settings
    "Light",
]


def english_on_screen(text: str) -> list[str]:
    import re

    return [word for word in ENGLISH_WORDS if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text)]


@pytest.mark.parametrize("section", ["d", "t", "c", "i", "b", "o", "p", "h", "a", "s"])
async def test_every_section_in_czech_shows_no_english(database, section):
    from core.demo import load_demo
    from core.store.config import UiConfig, save_config
    from tui.app import FakturkaApp
    from tui.i18n import set_language

    load_demo()
    save_config(UiConfig(theme="textual-dark", language="cs"))
    app = FakturkaApp(database, first_start_prompt=False)
    try:
        async with app.run_test(size=(160, 45)) as pilot:
            await pilot.pause()
            await pilot.press(section)
            await pilot.pause()
            await pilot.pause()
            text = screen_text(app)
            found = english_on_screen(text)
            assert found == [], f"English on the Czech {app.screen.SECTION} screen: {found}\n{text}"
            await pilot.press("question_mark")
            await pilot.pause()
            text = screen_text(app)
            found = english_on_screen(text)
            assert found == [], f"English in the Czech help of {section}: {found}\n{text}"
    finally:
        set_language("en")


def _placeholders(text: str) -> set[str]:
    import string

    return {name.split(".")[0].split("[")[0] for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_czech_translation_names_the_placeholders_of_its_english_text():
    """A translation that drops or renames a {placeholder} would show a raw brace or lose a name or amount."""
    wrong = []
    for (_context, msgid), strings in czech_catalog().items():
        for text in strings if isinstance(strings, (tuple, list)) else [strings]:
            if not text:
                continue
            try:
                if _placeholders(text) != _placeholders(msgid):
                    wrong.append((msgid, text))
            except ValueError:  # a lone brace: not a format string (it is shown as it is)
                continue
    assert wrong == []


@pytest.mark.parametrize(
    "refusal",
    [
        lambda: __import__("core.values.money", fromlist=["x"]).parse_amount("twelve"),
        lambda: __import__("core.values.dates", fromlist=["x"]).parse_date("31. 2. 2026"),
        lambda: __import__("core.values.validation", fromlist=["x"]).check_iban("CZ00 1234"),
    ],
    ids=["amount", "date", "iban"],
)
def test_what_core_refuses_is_said_in_czech(refusal):
    """A refusal raised in core reaches a Czech face in Czech, with what the person typed kept in it."""
    from core.values.messages import Message, in_language

    with pytest.raises(Exception) as caught:
        refusal()
    said = caught.value.args[0]
    assert isinstance(said, Message), f"{caught.value!r} is not raised with a Message"
    czech = in_language(caught.value, "cs")
    assert czech and czech != str(caught.value)
    assert in_language(caught.value, "en") == str(caught.value)


def test_a_message_is_english_text_that_keeps_its_msgid():
    import pickle

    from core.values.messages import Message, in_language

    said = Message("Invoice {number} is already paid.", number="2026-0001")
    assert said == "Invoice 2026-0001 is already paid."
    assert (said.msgid, said.params) == ("Invoice {number} is already paid.", {"number": "2026-0001"})
    assert pickle.loads(pickle.dumps(said)).params == said.params
    assert in_language(ValueError(said), "en") == said
    assert in_language("plain text from a plugin", "cs") == "plain text from a plugin"


async def test_the_palette_says_no_matches_in_czech(database):
    from core.store.config import UiConfig, save_config
    from tui.app import FakturkaApp
    from tui.i18n import set_language

    save_config(UiConfig(theme="textual-dark", language="cs"))
    app = FakturkaApp(database, first_start_prompt=False)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"qqqxzz")
            await pilot.pause(1.5)  # Textual waits a moment before saying there is nothing
            text = screen_text(app)
            assert "Nic nenalezeno" in text and "No matches" not in text
    finally:
        set_language("en")
