"""VAT IDs checked per country (stdnum), the BIC agreeing with the IBAN's bank, reverse charge needing a valid
EU VAT ID; clients stored before these rules still load."""

from __future__ import annotations

import pytest

from core.billing import clients as svc
from core.billing import profile as profile_svc
from core.store.models import BusinessProfile, Client
from core.values import validation as v
from core.values.validation import ValidationError

CZ_IBAN = "CZ6508000000192000145399"  # Česká spořitelna (bank code 0800)

# -- VAT IDs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("DE136695976", "DE136695976"),
        ("de 136 695 976", "DE136695976"),
        ("CZ25596641", "CZ25596641"),
        ("ATU13585627", "ATU13585627"),
        ("FR40303265045", "FR40303265045"),
        ("GR094259216", "EL094259216"),  # Greece's VAT prefix is EL
        ("GB980780684", "GB980780684"),
        ("CHE-116.281.710 MWST", "CHE116281710MWST"),
        ("CHE-116.281.710", "CHE116281710"),
        ("NO 974 760 673", "NO974760673MVA"),
        ("US12-3456789", "US123456789"),  # no rule known: shape only
    ],
)
def test_valid_vat_ids_are_accepted_compact(typed, stored):
    assert v.check_dic(typed) == stored


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("DE123", ["VAT ID", "'DE123'", "wrong number of characters", "Germany", "DE and 9 digits"]),
        ("DE123456789", ["VAT ID", "check digits", "Germany"]),
        ("ATU13585628", ["VAT ID", "check digits", "Austria", "ATU and 8 digits"]),
        ("NL123456789B01", ["VAT ID", "Netherlands"]),
        ("GB123", ["VAT ID", "United Kingdom"]),
        ("CHE-116.281.711 MWST", ["VAT ID", "Switzerland"]),
        ("NO974760674MVA", ["VAT ID", "Norway"]),
        ("CZ25596642", ["DIČ", "CZ25596642", "check digits"]),  # the Czech rule as before
        ("25596641", ["VAT ID", "two-letter country code"]),
        ("U1", ["VAT ID", "two-letter country code"]),
    ],
)
def test_invalid_vat_ids_are_refused_with_the_country_and_the_reason(typed, words):
    with pytest.raises(ValidationError) as caught:
        v.check_dic(typed, field="dic")
    assert caught.value.field == "dic"
    message = str(caught.value)
    assert all(word in message for word in words), message
    assert message.endswith(".") and "\n" not in message


def test_a_client_with_a_wrong_foreign_vat_id_is_not_saved(database):
    with pytest.raises(ValidationError) as caught:
        svc.add_client(name="Nordlicht GmbH", country="DE", dic="DE123", currency="EUR")
    assert "DE123" in caught.value.errors["dic"] and "Germany" in caught.value.errors["dic"]
    assert Client.select().count() == 0
    saved = svc.add_client(name="Nordlicht GmbH", country="DE", dic="DE 136 695 976", currency="EUR")
    assert Client.get_by_id(saved.id).dic == "DE136695976"


def test_the_profile_vat_id_is_checked_per_country(database):
    with pytest.raises(ValidationError) as caught:
        profile_svc.update_profile({"name": "Jana", "dic": "SK1234567890"})
    assert "SK1234567890" in caught.value.errors["dic"] and "Slovakia" in caught.value.errors["dic"]
    assert profile_svc.update_profile({"name": "Jana", "dic": "cz 25596641"}).dic == "CZ25596641"


# -- reverse charge -------------------------------------------------------------------


@pytest.fixture
def vat_payer(database):
    return profile_svc.update_profile({"name": "Jana Nováková", "iban": CZ_IBAN, "vat_payer": "yes"})


def test_reverse_charge_needs_the_vat_id_of_another_eu_country(vat_payer):
    with pytest.raises(ValidationError) as caught:
        svc.add_client(name="Nordlicht GmbH", country="DE", dic="CZ25596641", currency="EUR")
    message = caught.value.field, str(caught.value)
    assert message[0] == "dic"
    assert "Reverse charge for Nordlicht GmbH (Germany)" in message[1] and "other than Czechia" in message[1]
    with pytest.raises(ValidationError, match="EU country other than Czechia, not GB980780684"):
        svc.add_client(name="Nordlicht GmbH", country="DE", dic="GB980780684", currency="EUR")
    assert Client.select().count() == 0
    # An EU VAT ID, or none (then Czech VAT is charged): both saved.
    assert svc.add_client(name="Nordlicht GmbH", country="DE", dic="ATU13585627", currency="EUR").id
    assert svc.add_client(name="Privat", country="DE", currency="EUR").id


def test_reverse_charge_refusal_names_the_client_and_the_fix(vat_payer):
    stored = Client.create(name="Old GmbH", country="DE", dic="DE123", currency="EUR")
    message = svc.reverse_charge_refusal(stored, vat_payer=True)
    assert message.startswith("Reverse charge for Old GmbH needs a valid VAT ID, but 'DE123' is not one")
    assert "Germany" in message and "clear it to invoice with Czech VAT" in message
    assert svc.reverse_charge_refusal(stored, vat_payer=False) is None  # no VAT charged, no reverse charge
    good = Client(name="Good GmbH", country="DE", dic="DE136695976")
    assert svc.reverse_charge_refusal(good, vat_payer=True) is None
    domestic = Client(name="Pekárna", country="CZ", dic="CZ25596641")
    assert svc.reverse_charge_refusal(domestic, vat_payer=True) is None
    abroad = Client(name="Maple Inc.", country="CA", dic="CA123")
    assert svc.reverse_charge_refusal(abroad, vat_payer=True) is None


def test_a_non_payer_may_keep_a_foreign_client_registered_in_czechia(database):
    profile_svc.update_profile({"name": "Jana", "vat_payer": "no"})
    assert svc.add_client(name="Nordlicht GmbH", country="DE", dic="CZ25596641", currency="EUR").dic == "CZ25596641"


def test_a_stored_client_with_an_invalid_vat_id_still_loads_and_edits_other_fields(vat_payer):
    """Written before the per-country check: shown as stored; only saving a VAT ID or country refuses."""
    stored = Client.create(name="Old GmbH", country="DE", dic="DE123", currency="EUR")
    assert svc.find_client("Old GmbH").dic == "DE123"
    assert [c.dic for c in svc.list_clients()] == ["DE123"]
    assert svc.edit_client(stored, email="billing@old.example").email == "billing@old.example"
    with pytest.raises(ValidationError) as caught:
        svc.edit_client(svc.get_client(stored.id), name="Old GmbH", dic="DE123")
    assert "DE123" in caught.value.errors["dic"]
    with pytest.raises(ValidationError, match="Reverse charge for Old GmbH"):
        svc.edit_client(svc.get_client(stored.id), country="AT")
    kept = svc.get_client(stored.id)
    assert (kept.country, kept.dic, kept.email) == ("DE", "DE123", "billing@old.example")
    assert svc.edit_client(kept, dic="DE136695976").dic == "DE136695976"


# -- IBAN and BIC ---------------------------------------------------------------------


def test_a_bic_of_another_czech_bank_is_refused_naming_both_fields(database):
    before = BusinessProfile.select().count()
    with pytest.raises(ValidationError) as caught:
        profile_svc.update_profile({"name": "Jana", "iban": CZ_IBAN, "bic": "FIOBCZPP"})
    assert caught.value.field == "bic"
    assert str(caught.value) == (
        f"The BIC FIOBCZPP does not belong to the bank of the IBAN {CZ_IBAN}: its bank code 0800 is "
        "Česká spořitelna, a.s., whose BIC is GIBACZPX."
    )
    assert BusinessProfile.select().count() == before
    saved = profile_svc.update_profile({"name": "Jana", "iban": CZ_IBAN, "bic": "gibaczpxxxx"})
    assert (saved.iban, saved.bic) == (CZ_IBAN, "GIBACZPXXXX")  # a branch code after the bank's BIC8


def test_a_bic_of_another_country_is_refused(database):
    with pytest.raises(ValidationError) as caught:
        profile_svc.update_profile({"name": "Jana", "iban": CZ_IBAN, "bic": "TATRSKBX"})
    message = str(caught.value)
    assert "BIC TATRSKBX" in message and "Slovakia (SK)" in message
    assert f"IBAN {CZ_IBAN}" in message and "Czechia (CZ)" in message


def test_changing_only_the_iban_is_checked_against_the_stored_bic(database):
    profile_svc.update_profile({"name": "Jana", "iban": CZ_IBAN, "bic": "GIBACZPX"})
    fio_iban = v.cz_account_to_iban("2000145399/2010")
    with pytest.raises(ValidationError, match="whose BIC is FIOBCZPP"):
        profile_svc.update_profile({"iban": fio_iban})
    assert profile_svc.get_profile().iban == CZ_IBAN
    assert profile_svc.update_profile({"iban": fio_iban, "bic": "FIOBCZPP"}).bic == "FIOBCZPP"


def test_without_an_iban_the_czech_account_decides(database):
    with pytest.raises(ValidationError, match="account number 2000145399/0800: its bank code 0800"):
        profile_svc.update_profile({"name": "Jana", "bank_account": "2000145399/0800", "bic": "KOMBCZPP"})
    assert profile_svc.update_profile({"name": "Jana", "bank_account": "2000145399/0800", "bic": "GIBACZPX"}).id


@pytest.mark.parametrize(
    ("iban", "bic"),
    [
        ("GB29NWBK60161331926819", "RBOSGGSX"),  # Guernsey, Jersey and the Isle of Man bank with GB IBANs
        ("GB29NWBK60161331926819", "NWBKJESX"),
        ("GB29NWBK60161331926819", "NWBKIMDX"),
        ("FR1420041010050500013M02606", "BFCORERX"),  # Réunion and other overseas parts use FR IBANs
        ("DK5000400440116243", "FIFBFOTX"),  # Faroe Islands
        ("DE89370400440532013000", "COBADEFFXXX"),
        (v.cz_account_to_iban("12345/0600"), "AGBACZPP"),
    ],
)
def test_territories_sharing_a_countrys_ibans_are_accepted(iban, bic):
    assert v.bank_pair_problem(iban, bic) is None


def test_no_bic_or_no_account_is_nothing_to_compare():
    assert v.bank_pair_problem(CZ_IBAN, "") is None
    assert v.bank_pair_problem("", "FIOBCZPP") is None
    # A bank code the Czech National Bank lists without a BIC (a building society): the country check only.
    assert v.bank_pair_problem(v.cz_account_to_iban("12345/7990"), "KOMBCZPP") is None


# The largest Czech banks, as the Czech National Bank lists them (kody_bank_CR.csv, shipped by python-stdnum).
CZECH_BANKS = {
    "0100": "KOMBCZPP",
    "0300": "CEKOCZPP",
    "0600": "AGBACZPP",
    "0710": "CNBACZPP",
    "0800": "GIBACZPX",
    "2010": "FIOBCZPP",
    "2250": "CTASCZ22",
    "2700": "BACXCZPP",
    "3030": "AIRACZPP",
    "3500": "INGBCZPP",
    "5500": "RZBCCZPP",
    "5800": "JTBPCZPP",
    "6000": "PMBPCZPP",
    "6210": "BREXCZPP",
    "6300": "GEBACZPP",
    "8150": "MIDLCZPP",
}


@pytest.mark.parametrize(("code", "bic"), sorted(CZECH_BANKS.items()))
def test_czech_bank_codes_map_to_their_bic(code, bic):
    assert v.czech_bank(code)["bic"] == bic
    account = v.cz_account_to_iban(f"12345/{code}")
    assert v.bank_pair_problem(account, bic) is None
    other = "KOMBCZPP" if code != "0100" else "GIBACZPX"
    assert f"whose BIC is {bic}" in v.bank_pair_problem(account, other)
