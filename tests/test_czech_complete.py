"""Czech complete: every string the app shows comes from the Czech catalog, translated.

One test reads the code (ast, not regex) for every msgid the terminal app, core, the invoice PDF and the
portal pass to gettext (and the portal's templates, with Jinja's own parser), adds the English texts
that reach the screen from elsewhere (Textual's own binding labels and palette entries, the bundled
plugins' field labels and help, audit values), and fails on one the Czech catalog lacks or leaves in
English. The other way round, a catalog entry no code says fails too: it is dead, or text the code
shows without gettext. Another test walks every section in Czech and fails on English words on the screen.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.values import i18n
from core.values.money import parse_amount
from tests.helpers import screen_text
from tests.msgids import all_msgids, by_text, czech_catalog, english_catalog_ids

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

# -- reading the code for every msgid it can say: tests/msgids.py ------------------------------------


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
        (None, "Tax document"),  # the invoice PDF's self.t("...")
        (None, "Invoice {number}"),  # i18n.gettext(lang, "...") (the QR payment message)
        (None, "Statement of account"),  # the portal template's s.t("...")
        (None, "{n} days overdue"),  # the portal Speaker's self.n("...", "...", n), plural form
        ("unit", "pcs"),  # i18n.pgettext(lang, "unit", unit) if unit in ("h", "pcs")
        ("date input", "yesterday"),  # if text in ("today", "yesterday"): pgettext("date input", text)
        (None, "Wednesday"),  # _(WEEKDAY_MSGIDS[index])
        (None, "Needs review"),  # _(label) for label, value in STATUS_FILTERS
        (None, "Last month"),  # _(label) for label, value in PERIOD_CHOICES (imported)
        (None, "review"),  # _(t.match_status): MoneyTransaction.match_status holds a MatchStatus
        (None, "overdue"),  # _(svc.display_status(inv)): the literal it returns
        (None, "non-billable"),  # _(timesheet.entry_billing_state(e))
        (None, "starting"),  # _(session.status): self._status = "starting"
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


@pytest.mark.parametrize("language", ["cs", "en"])
def test_every_catalog_entry_is_one_the_code_can_say(language):
    """A catalog entry no code passes to gettext is dead, or a sign of text shown without gettext:
    Settings once listed its theme names as plain strings, so the catalog's "Tmavý" never showed."""
    entries = set(czech_catalog()) if language == "cs" else english_catalog_ids()
    said = all_msgids()
    orphans = sorted((key for key in entries if key[1] and key not in said), key=by_text)
    assert orphans == [], (
        f"{language} catalog entries no code says: the code shows them without gettext (a bug: pass them "
        f"through it) or nothing shows them (remove them from both catalogs): {orphans}"
    )


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
