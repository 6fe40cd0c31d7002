"""Named column mappings for the CSV exports people have, so that one picks a bank instead of writing a mapping.

Each preset is the export as the bank writes it (the header below must be in
the file, lines before it are skipped); tests/fixtures/csv-shapes/ holds a
file in each shape and tests/test_bank_files_csv.py imports it.

- ``fio``: Fio banka, the CSV export of "Pohyby na účtu" (``ID pohybu;Datum;Objem;Měna;...``): read by the
  Fio CSV reader, no mapping.
- ``revolut``: Revolut, the account statement as CSV (``Type,Product,Started Date,Completed Date,Description,
  Amount,Fee,Currency,State,Balance``): only COMPLETED rows, the amount signed, the fee subtracted.
- ``airbank``: Air Bank (CZ), the payment history as CSV (``"Datum provedení";"Směr úhrady";"Typ úhrady";...;
  "Měna účtu";"Částka v měně účtu";...;"Referenční číslo";...``): direction Příchozí/Odchozí, dates DD/MM/YYYY.
- ``dkb``: DKB (DE), the giro account's CSV since 2023 (preamble, then ``"Buchungsdatum";"Wertstellung";
  "Status";"Zahlungspflichtige*r";"Zahlungsempfänger*in";"Verwendungszweck";"Umsatztyp";"IBAN";"Betrag (€)";
  ...``): only Gebucht rows, direction Eingang/Ausgang, dates DD.MM.YY, EUR.
- ``ing-nl``: ING (NL), the "Af- en bijschrijvingen" CSV (``"Datum";"Naam / Omschrijving";"Rekening";
  "Tegenrekening";"Code";"Af Bij";"Bedrag (EUR)";"Mutatiesoort";"Mededelingen";...``): direction Af/Bij, dates
  YYYYMMDD, EUR.

A preset fills the format, the column mapping and (when the file names no currency) the account currency;
an explicit CSV column mapping or account currency setting wins.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    bank: str
    export: str  # what to download, and where in the bank's app
    format: str  # the bank-statement plugin's format: "csv" or "fio-csv"
    mapping: str = ""  # the CSV column mapping (format csv)
    currency: str = ""  # the account currency, for exports that name none


PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "fio",
            "Fio banka (CZ)",
            'Internet banking → Pohyby na účtu → export "CSV"',
            "fio-csv",
        ),
        Preset(
            "revolut",
            "Revolut",
            "App → account → ⋯ → Statement → Excel/CSV (the account statement, not the P&L)",
            "csv",
            "date=Completed Date,amount=Amount,fee=Fee,currency=Currency,state=State,import_states=COMPLETED,"
            "message=Description,decimal=.,delimiter=,",
        ),
        Preset(
            "airbank",
            "Air Bank (CZ)",
            "Internet banking → Platby → Historie plateb → Exportovat → CSV",
            "csv",
            "date=Datum provedení,direction=Směr úhrady,debit_values=Odchozí,credit_values=Příchozí,"
            "amount=Částka v měně účtu,currency=Měna účtu,vs=Variabilní symbol,counterparty=Název protistrany,"
            "account=Číslo účtu protistrany,message=Zpráva pro příjemce+Poznámka k úhradě,id=Referenční číslo,"
            "date_format=%d/%m/%Y,decimal=,,delimiter=;",
        ),
        Preset(
            "dkb",
            "DKB Deutsche Kreditbank (DE)",
            "Banking → Girokonto → Umsätze → Herunterladen → CSV",
            "csv",
            "date=Buchungsdatum,state=Status,import_states=Gebucht,direction=Umsatztyp,debit_values=Ausgang,"
            "credit_values=Eingang,amount=Betrag (€),counterparty=Zahlungspflichtige*r,account=IBAN,"
            "message=Verwendungszweck,date_format=%d.%m.%y,decimal=,,delimiter=;",
            currency="EUR",
        ),
        Preset(
            "ing-nl",
            "ING Bank (NL)",
            "Mijn ING → Betaalrekening → Af- en bijschrijvingen downloaden → Kommagescheiden CSV",
            "csv",
            "date=Datum,direction=Af Bij,debit_values=Af,credit_values=Bij,amount=Bedrag (EUR),"
            "counterparty=Naam / Omschrijving,account=Tegenrekening,message=Mededelingen,date_format=%Y%m%d,"
            "decimal=,",
            currency="EUR",
        ),
    )
}
PRESET_NAMES = tuple(PRESETS)


def preset_help() -> str:
    """The setting's help: every preset with its bank."""
    listed = "; ".join(f"{preset.name}: {preset.bank}" for preset in PRESETS.values())
    return (
        f"A bank's CSV export, read without writing a mapping ({listed}). An explicit CSV column mapping "
        "and account currency still win. Empty: no preset."
    )
