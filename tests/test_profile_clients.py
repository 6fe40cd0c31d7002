"""The business profile, clients and projects: validation, normalisation, archiving, lookups, audit."""

from __future__ import annotations

import pytest
from helpers import db_state

from core.billing import clients as svc
from core.billing import profile as profile_svc
from core.store.audit import AuditRecord
from core.store.models import BusinessProfile, Client, Project
from core.values.forms import FormErrors
from core.values.validation import ValidationError

VALID_IBAN = "CZ6508000000192000145399"
VALID_ACCOUNT = "19-2000145399/0800"
VALID_ICO = "25596641"
VALID_DIC = "CZ25596641"


@pytest.fixture
def profile(database):
    return profile_svc.update_profile({"name": "Jana Nováková", "iban": VALID_IBAN})


# -- profile: valid values are accepted and normalised ---------------------------------


def test_valid_ids_and_accounts_are_saved_normalised(database):
    saved = profile_svc.update_profile(
        {
            "name": "  Jana Nováková  ",
            "iban": "cz65 0800 0000 1920 0014 5399",
            "ico": "2559 6641",
            "dic": "cz 25596641",
            "bank_account": "000019-2000145399/0800",
            "bic": "gibaczpx",
            "vat_payer": "yes",
            "default_currency": "eur",
            "default_hourly_rate": "1 234,50",
            "payment_terms_days": "30",
            "locale": "EN",
        }
    )
    stored = BusinessProfile.get_by_id(profile_svc.PROFILE_ID)
    assert stored.id == saved.id == 1
    assert stored.name == "Jana Nováková"
    assert stored.iban == VALID_IBAN
    assert stored.ico == VALID_ICO
    assert stored.dic == VALID_DIC
    assert stored.bank_account == VALID_ACCOUNT
    assert stored.bic == "GIBACZPX"
    assert stored.vat_payer is True
    assert stored.default_currency == "EUR"
    assert stored.default_hourly_rate == 123450
    assert stored.payment_terms_days == 30
    assert stored.locale == "en"
    assert profile_svc.is_set_up()


def test_short_ico_is_zero_padded(database):
    # 00006947 is a real IČO (Ministry of Finance) whose leading zeros people drop.
    assert profile_svc.update_profile({"ico": "6947"}).ico == "00006947"


def test_account_without_prefix_is_accepted(database):
    assert profile_svc.update_profile({"bank_account": "2000145399/0800"}).bank_account == "2000145399/0800"


def test_changing_profile_currency_keeps_the_default_rate_face_value(database):
    """Like edit_client() does for a client's rate: 1500 CZK/h must not turn into 150000 JPY/h."""
    profile_svc.update_profile({"default_hourly_rate": "1500", "default_currency": "CZK"})
    profile_svc.update_profile({"default_currency": "JPY"})
    assert profile_svc.profile_as_dict(profile_svc.get_profile())["default_hourly_rate"] == "1500"


def test_profile_is_not_set_up_until_named(database):
    assert not profile_svc.is_set_up()
    profile_svc.update_profile({"iban": VALID_IBAN})
    assert not profile_svc.is_set_up()
    profile_svc.update_profile({"name": "Jana"})
    assert profile_svc.is_set_up()


# -- profile: invalid values are refused with a sentence per field, nothing saved --------


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("iban", "CZ6508000000192000145398", ["IBAN", "CZ6508000000192000145398", "check digits"]),
        ("iban", "CZ65 0800 0000 1920 0014 539!", ["IBAN", "not valid"]),
        ("ico", "25596642", ["IČO", "25596642", "check digit"]),
        ("ico", "123456789", ["IČO", "8 digits"]),
        ("ico", "12ab", ["IČO", "8 digits"]),
        ("dic", "CZ25596642", ["DIČ", "CZ25596642", "check digits"]),
        ("dic", "25596641", ["VAT ID", "two-letter country code"]),
        ("bank_account", "19-2000145398/0800", ["account", "19-2000145398/0800", "check digits"]),
        ("bank_account", "2000145399", ["bank code", "slash"]),
        ("bic", "GIBA", ["BIC", "8 or 11"]),
        ("default_currency", "KCS", ["currency code"]),
        ("payment_terms_days", "soon", ["whole number of days"]),
        ("payment_terms_days", "400", ["between 0 and 365"]),
        ("vat_payer", "maybe", ["yes or no"]),
        ("locale", "de", ["en or cs"]),
        ("email", "jana-at-example", ["e-mail"]),
        ("default_hourly_rate", "-100", ["negative"]),
        ("default_hourly_rate", "lots", ["not an amount"]),
    ],
)
def test_invalid_value_gives_a_sentence_for_its_field_and_saves_nothing(profile, field, value, words):
    before = db_state()
    with pytest.raises(FormErrors) as caught:
        profile_svc.update_profile({"name": "Someone Else", field: value})
    errors = caught.value.errors
    assert list(errors) == [field]
    message = errors[field]
    for word in words:
        assert word.lower() in message.lower(), message
    assert message.endswith("."), "a sentence"
    assert caught.value.field == field
    assert db_state() == before


def test_several_wrong_fields_are_all_reported_at_once(profile):
    before = db_state()
    with pytest.raises(FormErrors) as caught:
        profile_svc.update_profile(
            {
                "iban": "CZ6508000000192000145398",
                "ico": "25596642",
                "dic": "CZ25596642",
                "bank_account": "19-2000145398/0800",
                "name": "Changed",
            }
        )
    assert set(caught.value.errors) == {"iban", "ico", "dic", "bank_account"}
    for sentence in caught.value.errors.values():
        assert sentence in str(caught.value)
    assert db_state() == before
    assert profile_svc.get_profile().name == "Jana Nováková"


def test_invalid_value_on_first_setup_creates_no_profile(database):
    with pytest.raises(FormErrors):
        profile_svc.update_profile({"name": "Jana", "iban": "CZ00"})
    assert BusinessProfile.select().count() == 0
    assert AuditRecord.select().count() == 0


def test_unknown_profile_field_is_refused(profile):
    before = db_state()
    with pytest.raises(ValidationError, match="Unknown profile field 'colour'"):
        profile_svc.update_profile({"colour": "blue"})
    assert db_state() == before


# -- invoice number pattern ---------------------------------------------------------


@pytest.mark.parametrize("pattern", ["{year}{seq:04}", "FV-{yy}-{seq:03}", "{year}{seq:06}", "{year}-{seq}"])
def test_number_pattern_accepted(database, pattern):
    assert profile_svc.update_profile({"invoice_number_pattern": pattern}).invoice_number_pattern == pattern


@pytest.mark.parametrize(
    "pattern, words",
    [
        ("{year}", ["needs {seq}"]),
        ("FV-{year}", ["needs {seq}"]),
        ("{year}{seq:07}", ["more than 10 digits"]),
        ("{year}{yy}{seq:05}", ["more than 10 digits"]),
        ("{client}{seq}", ["not valid", "{year}"]),
        ("{year}{seq", ["not valid"]),
    ],
)
def test_bad_number_pattern_refused(profile, pattern, words):
    before = db_state()
    with pytest.raises(FormErrors) as caught:
        profile_svc.update_profile({"invoice_number_pattern": pattern})
    message = caught.value.errors["invoice_number_pattern"]
    for word in words:
        assert word in message
    assert db_state() == before


def test_format_number():
    assert profile_svc.format_number("{year}{seq:04}", 2026, 7) == "20260007"
    assert profile_svc.format_number("FV-{yy}-{seq:03}", 2026, 12) == "FV-26-012"
    assert profile_svc.format_number("{yy}{seq:03}", 2005, 1) == "05001"


# -- clients ----------------------------------------------------------------------


def test_add_client_takes_profile_defaults(profile):
    profile_svc.update_profile({"default_currency": "EUR", "locale": "en"})
    client = svc.add_client(name=" Acme s.r.o. ", ico="27082440", dic="cz27082440", hourly_rate="1 200,50")
    stored = Client.get_by_id(client.id)
    assert stored.name == "Acme s.r.o."
    assert stored.currency == "EUR"
    assert stored.language == "en"
    assert stored.ico == "27082440"
    assert stored.dic == "CZ27082440"
    assert stored.hourly_rate == 120050
    assert stored.country == "CZ"
    assert stored.archived is False


def test_add_client_refuses_bad_values_and_saves_nothing(profile):
    before = db_state()
    with pytest.raises(FormErrors) as caught:
        svc.add_client(
            name="Acme",
            ico="25596642",
            currency="XYZ",
            language="de",
            country="Germany",
            hourly_rate="-5",
            email="nope",
        )
    assert set(caught.value.errors) == {"ico", "currency", "language", "country", "hourly_rate", "email"}
    assert db_state() == before
    with pytest.raises(ValidationError, match="needs a name"):
        svc.add_client(name="   ")
    assert db_state() == before


def test_edit_client_changes_fields_and_keeps_rate_face_value_on_currency_change(profile):
    client = svc.add_client(name="Acme", hourly_rate="1000", currency="CZK")
    svc.edit_client(client, name="Acme Corp", currency="EUR", payment_terms_days="30", language="en")
    stored = Client.get_by_id(client.id)
    assert (stored.name, stored.currency, stored.payment_terms_days, stored.language) == ("Acme Corp", "EUR", 30, "en")
    assert stored.hourly_rate == 100000  # 1000.00 EUR, the same face value


def test_edit_client_with_bad_value_changes_nothing(profile):
    client = svc.add_client(name="Acme")
    before = db_state()
    with pytest.raises(FormErrors) as caught:
        svc.edit_client(client, name="New name", dic="CZ25596642")
    assert "DIČ" in caught.value.errors["dic"]
    assert db_state() == before


def test_archived_clients_leave_the_list_but_can_still_be_found(profile):
    acme = svc.add_client(name="Acme")
    svc.add_client(name="Beta")
    svc.archive_client(acme)
    assert [c.name for c in svc.list_clients()] == ["Beta"]
    assert [c.name for c in svc.list_clients(include_archived=True)] == ["Acme", "Beta"]
    assert svc.find_client("acme").id == acme.id
    assert svc.find_client(str(acme.id)).id == acme.id
    with pytest.raises(svc.NotFound):
        svc.find_client("Acme", include_archived=False)
    svc.archive_client(acme, archived=False)
    assert [c.name for c in svc.list_clients()] == ["Acme", "Beta"]


def test_find_client_by_prefix_and_ambiguity(profile):
    svc.add_client(name="Acme Brno")
    svc.add_client(name="Acme Praha")
    svc.add_client(name="Beta")
    assert svc.find_client("be").name == "Beta"
    assert svc.find_client("ACME praha").name == "Acme Praha"
    with pytest.raises(svc.NotFound) as caught:
        svc.find_client("Acme")
    message = str(caught.value)
    assert "ambiguous" in message and "Acme Brno" in message and "Acme Praha" in message
    with pytest.raises(svc.NotFound, match="no client called 'Gamma'"):
        svc.find_client("Gamma")


def test_clients_with_czech_capitals_are_found_by_name(profile):
    """SQLite's lower() folds ASCII only, so comparing it with Python's str.lower() misses 'Č', 'Š', 'Ú'..."""
    pekarna = svc.add_client(name="Pekárna U Šťastných s.r.o.")
    cedok = svc.add_client(name="Čedok")
    assert svc.find_client("Pekárna U Šťastných s.r.o.").id == pekarna.id  # exactly as stored
    assert svc.find_client("Čedok").id == cedok.id
    assert svc.find_client("čedok").id == cedok.id
    assert svc.find_client("Čed").id == cedok.id
    assert svc.find_client("PEKÁRNA U ŠŤASTNÝCH S.R.O.").id == pekarna.id


def test_projects_with_czech_capitals_are_found_by_name(profile):
    pekarna = svc.add_client(name="Pekárna")
    udrzba = svc.add_project(pekarna, name="Údržba webu")
    assert svc.find_project("Údržba webu").id == udrzba.id
    assert svc.find_project("Pekárna/Údržba webu").id == udrzba.id
    assert svc.find_project("Pekárna/údržba webu").id == udrzba.id
    with pytest.raises(ValidationError, match="already has a project"):
        svc.add_project(pekarna, name="údržba webu")


def test_client_list_sorted_case_insensitively(profile):
    for name in ("beta", "Alfa", "Čedok", "gama"):
        svc.add_client(name=name)
    names = [c.name for c in svc.list_clients()]
    assert names.index("Alfa") < names.index("beta") < names.index("gama")


# -- projects ---------------------------------------------------------------------


def test_projects_add_list_archive_and_find(profile):
    acme = svc.add_client(name="Acme", currency="EUR")
    beta = svc.add_client(name="Beta")
    web = svc.add_project(acme, name="Web", hourly_rate="80.5", vat_rate="12")
    svc.add_project(acme, name="App")
    svc.add_project(beta, name="Web")
    assert web.hourly_rate == 8050
    assert Project.get_by_id(web.id).vat_rate == 12
    assert [svc.project_label(p) for p in svc.list_projects()] == ["Acme / App", "Acme / Web", "Beta / Web"]
    assert [p.name for p in svc.list_projects(acme)] == ["App", "Web"]

    assert svc.find_project("Acme/Web").id == web.id
    assert svc.find_project("acme / web").id == web.id
    assert svc.find_project("App").client.name == "Acme"
    assert svc.find_project(str(web.id)).id == web.id

    with pytest.raises(svc.NotFound) as caught:
        svc.find_project("Web")
    message = str(caught.value)
    assert "ambiguous" in message and "Acme / Web" in message and "Beta / Web" in message
    assert "Client/Project" in message
    with pytest.raises(svc.NotFound, match="Acme has no project called 'Mobile'"):
        svc.find_project("Acme/Mobile")
    with pytest.raises(svc.NotFound, match="no project called 'Mobile'"):
        svc.find_project("Mobile")

    svc.archive_project(web)
    assert [svc.project_label(p) for p in svc.list_projects()] == ["Acme / App", "Beta / Web"]
    assert svc.find_project("Acme/Web").id == web.id
    # Only one project named Web is still active, so pickers resolve it without the client.
    assert svc.find_project("Web", include_archived=False).client.name == "Beta"

    svc.archive_client(beta)
    assert [svc.project_label(p) for p in svc.list_projects()] == ["Acme / App"]
    assert len(svc.list_projects(include_archived=True)) == 3


def test_duplicate_project_name_under_one_client_refused(profile):
    acme = svc.add_client(name="Acme")
    beta = svc.add_client(name="Beta")
    svc.add_project(acme, name="Web")
    before = db_state()
    with pytest.raises(ValidationError) as caught:
        svc.add_project(acme, name="web")
    assert "Acme already has a project called 'web'" in str(caught.value)
    assert db_state() == before
    assert svc.add_project(beta, name="Web").client.id == beta.id


def test_project_bad_values_refused(profile):
    acme = svc.add_client(name="Acme")
    before = db_state()
    with pytest.raises(FormErrors) as caught:
        svc.add_project(acme, name="Web", hourly_rate="-1", vat_rate="150")
    assert set(caught.value.errors) == {"hourly_rate", "vat_rate"}
    assert db_state() == before


def test_edit_project_can_clear_its_rate(profile):
    acme = svc.add_client(name="Acme")
    web = svc.add_project(acme, name="Web", hourly_rate="900")
    svc.edit_project(web, name="Website", hourly_rate="")
    stored = Project.get_by_id(web.id)
    assert (stored.name, stored.hourly_rate) == ("Website", None)


# -- audit ------------------------------------------------------------------------


def test_edits_are_audited_as_manual(profile):
    acme = svc.add_client(name="Acme", hourly_rate="1000")
    web = svc.add_project(acme, name="Web")
    svc.edit_client(acme, name="Acme Corp", hourly_rate="1100")
    svc.archive_client(acme)
    svc.edit_project(web, hourly_rate="1500")
    svc.archive_project(web)

    client_records = list(
        AuditRecord.select()
        .where((AuditRecord.table_name == "clients") & (AuditRecord.row_id == acme.id))
        .order_by(AuditRecord.id)
    )
    assert [r.action for r in client_records] == ["create", "update", "update"]
    assert {r.source for r in client_records} == {"manual"}
    assert client_records[1].changes["name"] == ["Acme", "Acme Corp"]
    assert client_records[1].changes["hourly_rate"] == [100000, 110000]
    assert client_records[2].changes["archived"] == [False, True]

    project_records = list(
        AuditRecord.select()
        .where((AuditRecord.table_name == "projects") & (AuditRecord.row_id == web.id))
        .order_by(AuditRecord.id)
    )
    assert [r.action for r in project_records] == ["create", "update", "update"]
    assert {r.source for r in project_records} == {"manual"}
    assert project_records[1].changes["hourly_rate"] == [None, 150000]

    profile_records = list(AuditRecord.select().where(AuditRecord.table_name == "business_profile"))
    assert profile_records and {r.source for r in profile_records} == {"manual"}


def test_saving_unchanged_client_leaves_no_audit_record(profile):
    acme = svc.add_client(name="Acme")
    count = AuditRecord.select().count()
    svc.edit_client(acme, name="Acme")
    assert AuditRecord.select().count() == count
