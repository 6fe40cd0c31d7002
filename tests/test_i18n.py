"""Catalogs (en, cs) compiled from .po at run time, plurals, and locale formatting."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from core.values import i18n

ROOT = Path(__file__).resolve().parent.parent
UI_STRINGS = {
    "Dashboard": "Přehled",
    "Time": "Čas",
    "Clients & Projects": "Klienti a projekty",
    "Invoices": "Faktury",
    "Settings": "Nastavení",
    "Quit": "Konec",
    "Help": "Nápověda",
}


def nb(text: str) -> str:
    """Babel separates with no-break spaces; compare with plain ones."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def catalog(lang: str):
    with i18n.po_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang)


# The portal's "{n} day(s) overdue" (portal/app.py): Czech has three forms, English two.
@pytest.mark.parametrize(("n", "said"), [(1, "1 den"), (2, "2 dny"), (4, "4 dny"), (5, "5 dní"), (22, "22 dní")])
def test_czech_plurals_have_three_forms(n, said):
    assert i18n.ngettext("cs", "{n} day overdue", "{n} days overdue", n).format(n=n) == f"{said} po splatnosti"


@pytest.mark.parametrize(("n", "said"), [(1, "1 day overdue"), (2, "2 days overdue")])
def test_english_plurals(n, said):
    assert i18n.ngettext("en", "{n} day overdue", "{n} days overdue", n).format(n=n) == said


def test_czech_plural_forms_header_is_the_standard_one():
    assert catalog("cs").plural_forms == "nplurals=3; plural=(n==1) ? 0 : (n>=2 && n<=4) ? 1 : 2;"
    assert catalog("en").plural_forms == "nplurals=2; plural=(n != 1);"


def test_ui_strings_are_translated():
    for msgid, czech in UI_STRINGS.items():
        assert i18n.gettext("cs", msgid) == czech
        assert i18n.gettext("en", msgid) == msgid


def test_both_catalogs_have_the_same_messages_all_translated():
    en, cs = catalog("en"), catalog("cs")
    en_ids = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in en if m.id}
    cs_ids = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in cs if m.id}
    assert en_ids == cs_ids
    for message in cs:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (tuple, list)) else [message.string]
        assert all(strings), f"untranslated: {message.id!r}"
        assert not message.fuzzy


def test_every_pdf_string_is_in_both_catalogs():
    """Whatever core/billing/pdf/document.py passes to t() must be translated, or a Czech invoice shows English."""
    document = ROOT / "core" / "billing" / "pdf" / "document.py"
    msgids = {msg[1] for msg in extract_from_file("python", str(document), keywords={"t": None})}
    assert {"Invoice {number}", "Supplier", "Customer", "Total to pay", "QR Platba"} <= msgids
    cs_ids = {m.id for m in catalog("cs") if m.id and not m.context}
    en_ids = {m.id for m in catalog("en") if m.id and not m.context}
    assert msgids - cs_ids == set()
    assert msgids - en_ids == set()


def test_units_are_translated_in_their_context():
    assert i18n.pgettext("cs", "unit", "h") == "hod"
    assert i18n.pgettext("cs", "unit", "pcs") == "ks"
    assert i18n.pgettext("en", "unit", "pcs") == "pcs"


def test_catalog_is_compiled_once_per_language():
    assert i18n.translations("cs") is i18n.translations("cs")
    assert i18n.translations("cs_CZ") is not None
    assert i18n.gettext("cs_CZ", "Customer") == "Odběratel"


def test_unknown_language_is_a_clear_error():
    with pytest.raises(ValueError, match="unsupported language 'de'"):
        i18n.gettext("de", "Customer")


def test_money_formats_per_language():
    assert nb(i18n.format_money(123450, "CZK", "cs")) == "1 234,50 Kč"
    assert nb(i18n.format_money(123450, "CZK", "en")) == "CZK 1,234.50"
    assert nb(i18n.format_money(123450, "EUR", "cs")) == "1 234,50 €"
    assert i18n.format_money(123450, "EUR", "en") == "€1,234.50"
    assert i18n.format_money(123450, "USD", "en") == "$1,234.50"
    assert i18n.format_money(1000, "JPY", "en") == "¥1,000"
    # Amounts never wrap inside: the separators are no-break spaces.
    assert " " not in i18n.format_money(123450, "CZK", "cs")


def test_dates_use_babel_medium_format():
    assert i18n.format_date(date(2026, 11, 21), "cs") == "21. 11. 2026"
    assert i18n.format_date(date(2026, 11, 21), "en") == "Nov 21, 2026"
    assert i18n.format_date(None, "en") == ""


def test_quantities_keep_their_digits():
    assert i18n.format_quantity(Decimal("7.50"), "cs") == "7,5"
    assert i18n.format_quantity(Decimal("7.50"), "en") == "7.5"
    assert i18n.format_quantity(Decimal("100.00"), "en") == "100"
    assert nb(i18n.format_quantity(Decimal("1234.125"), "cs")) == "1 234,125"


def test_vat_rates_as_percent():
    assert nb(i18n.format_percent_rate(Decimal("21"), "cs")) == "21 %"
    assert i18n.format_percent_rate(Decimal("12"), "en") == "12%"
    assert nb(i18n.format_percent_rate(Decimal("12.5"), "cs")) == "12,5 %"


def test_country_names():
    assert i18n.country_name("de", "cs") == "Německo"
    assert i18n.country_name("DE", "en") == "Germany"


@pytest.mark.parametrize("lang", ["en", "cs"])
def test_the_fast_catalog_reader_gives_what_babel_gives(lang):
    """core.values.po reads our catalogs at start-up instead of Babel (45 ms): entry for entry the same."""
    import gettext
    import io

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from core.values.po import mo_bytes, parse_po

    with i18n.po_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=i18n.DOMAIN)
    babel_mo = io.BytesIO()
    write_mo(babel_mo, catalog)
    babel_mo.seek(0)
    theirs = gettext.GNUTranslations(babel_mo)
    ours = gettext.GNUTranslations(io.BytesIO(mo_bytes(parse_po(i18n.po_path(lang).read_text("utf-8")))))
    # Every message the same (the header differs: Babel rewrites it with its own fields).
    assert {k: v for k, v in ours._catalog.items() if k} == {k: v for k, v in theirs._catalog.items() if k}
    assert [ours.plural(n) for n in (0, 1, 3, 7, 21)] == [theirs.plural(n) for n in (0, 1, 3, 7, 21)]
    assert len(ours._catalog) > 1000


def test_the_fast_catalog_reader_reads_continued_strings_escapes_and_skips_fuzzy():
    from core.values.po import PoSyntaxError, parse_po

    entries = parse_po(
        'msgid ""\nmsgstr ""\n"Language: cs\\n"\n\n'
        'msgctxt "unit"\nmsgid "h"\nmsgstr "hod"\n\n'
        '#, fuzzy\nmsgid "Old"\nmsgstr "Staré"\n\n'
        'msgid "Say \\"hi\\""\nmsgstr ""\n"Řekněte "\n"\\"ahoj\\""\n\n'
        'msgid "{n} file"\nmsgid_plural "{n} files"\n'
        'msgstr[0] "{n} soubor"\nmsgstr[1] "{n} soubory"\nmsgstr[2] "{n} souborů"\n'
    )
    assert entries[("unit", "h")] == ["hod"]
    assert (None, "Old") not in entries
    assert entries[(None, 'Say "hi"')] == ['Řekněte "ahoj"']
    assert entries[(None, "{n} file\0{n} files")] == ["{n} soubor", "{n} soubory", "{n} souborů"]
    assert entries[(None, "")] == ["Language: cs\n"]
    with pytest.raises(PoSyntaxError, match="line 1"):
        parse_po('msgstrx ""')
