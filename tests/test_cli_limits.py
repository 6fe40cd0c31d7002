"""The command-line cases of issue 14, one by one: every value is range-checked before SQLite sees it,
the invoice number pattern takes only what the documentation names, ``invoice pdf -o`` writes only to a
file or a folder (0600 unless asked), and stored or typed text cannot drive the terminal."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from helpers import db_state, mode
from hypothesis import given
from hypothesis import strategies as st

from core.billing import clients as client_svc
from core.billing import invoicing
from core.billing import profile as profile_svc
from core.billing import timesheet as ts
from core.store.models import BusinessProfile, Client, Invoice, MoneyTransaction, SyncHistory
from core.values.limits import MAX_LIST_LIMIT, MAX_SQLITE_INTEGER

ROOT = Path(__file__).parent.parent
BIG = str(2**63)
ESCAPES = "\x1b]0;X\x07\x1b[2J"


@pytest.fixture
def books(database):
    """A profile, a client with a project, one invoiced entry, one movement."""
    profile_svc.update_profile(
        {"name": "Jana Nováková", "iban": "CZ6508000000192000145399", "default_hourly_rate": "1000"}
    )
    acme = client_svc.add_client(name="Acme", hourly_rate="1200")
    web = client_svc.add_project(acme, name="Web")
    ts.add_entry(ts.EntryInput(project=web, date=date(2026, 3, 2), duration=90, description="Checkout"))
    invoice = invoicing.create_invoice(acme, issued_on=date(2026, 3, 31))
    MoneyTransaction.create(
        source="test-bank",
        external_id="m-1",
        transaction_type="income",
        amount=180_000,
        currency="CZK",
        transacted_on=date(2026, 4, 10),
        reference=invoice.variable_symbol,
    )
    return invoice


# -- ids, counts, durations, dates ----------------------------------------------------------------

ID_COMMANDS = [
    ["client", "edit", BIG, "--name", "x"],
    ["client", "archive", BIG],
    ["project", "add", BIG, "New"],
    ["project", "list", "--client", BIG],
    ["project", "edit", BIG, "--name", "x"],
    ["project", "archive", BIG],
    ["log", BIG, "60", "Work"],
    ["entries", "--project", BIG],
    ["entries", "--client", BIG],
    ["timer", "start", BIG],
    ["invoice", "create", "--client", BIG],
    ["match", "link", BIG, "20260001"],
    ["match", "unlink", BIG],
    ["match", "ignore", BIG],
    ["history", "show", BIG],
]


@pytest.mark.parametrize("argv", ID_COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_an_id_past_sqlites_integers_is_one_sentence(books, refused, argv):
    line = refused(*argv)
    assert "is not a valid" in line and str(MAX_SQLITE_INTEGER) in line


@pytest.mark.parametrize("digits", [str(2**64), "9" * 30, "9" * 5000])
def test_ids_of_any_length_are_refused_without_reading_them_as_numbers(books, refused, digits):
    # int() refuses more than 4300 digits with a bare ValueError; SQLite overflows past 2**63 - 1.
    assert "is not a valid client id" in refused("client", "edit", digits, "--name", "x")
    assert "is not a valid transaction id" in refused("match", "unlink", digits)


def test_digits_of_another_script_are_a_name_not_an_id(books, refused):
    # "²".isdigit() is True, and int("²") raised a ValueError.
    assert "There is no client called '²'" in refused("client", "edit", "²", "--name", "x")


@pytest.mark.parametrize("command", [["entries"], ["transactions"], ["history"]])
@pytest.mark.parametrize("limit", [BIG, str(MAX_LIST_LIMIT + 1), "9" * 5000])
def test_a_limit_above_the_largest_list_is_refused(books, refused, command, limit):
    line = refused(*command, "--limit", limit)
    assert "argument --limit" in line and str(MAX_LIST_LIMIT) in line


@pytest.mark.parametrize("limit", ["0", "-1", "١٢", "1e3"])
def test_a_limit_must_be_a_positive_whole_number(books, refused, limit):
    assert "argument --limit" in refused("entries", "--limit", limit)


def test_the_largest_limit_lists_everything(books, ok):
    assert len(json.loads(ok("entries", "--json", "--limit", str(MAX_LIST_LIMIT)))) == 1


@pytest.mark.parametrize("duration", ["1" * 30, "1" * 30 + "h", "1:" + "0" * 28 + "1", "99999999h", "9" * 5000])
def test_a_huge_duration_is_refused_with_a_sentence(books, refused, duration):
    line = refused("log", "Web", duration, "Work")
    assert "longer than a day" in line or "is not a duration" in line


def test_a_thirty_digit_duration_says_longer_than_a_day(books, refused):
    assert "longer than a day" in refused("log", "Web", "1" * 30, "Work")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1989-12-31", "2100-01-01", "31.12.9999"])
@pytest.mark.parametrize(
    "argv",
    [
        ["invoice", "create", "--client", "Acme", "--date"],
        ["invoice", "create", "--client", "Acme", "--until"],
        ["log", "Web", "60", "Work", "--date"],
        ["invoice", "send", "20260001", "--date"],
        ["invoice", "pay", "20260001", "--date"],
        ["transactions", "--since"],
    ],
    ids=lambda argv: " ".join(argv[:2]),
)
def test_a_date_outside_the_books_is_refused_naming_the_option(books, refused, argv, day):
    line = refused(*argv, day)
    assert "argument --" in line
    assert "outside the dates Fakturka accepts" in line or "is not a date" in line


def test_the_services_refuse_such_a_date_too(books):
    acme = Client.get(Client.name == "Acme")
    with pytest.raises(profile_svc.v.ValidationError, match="outside the dates"):
        invoicing.create_invoice(acme, issued_on=date(9999, 12, 31))
    with pytest.raises(profile_svc.v.ValidationError, match="outside the dates"):
        ts.add_entry(ts.EntryInput(project=acme.projects.get(), date=date(1, 1, 1), duration=60))


@pytest.mark.parametrize("amount", ["1e999999999", "١٢٣", "12abc", "nan", "inf"])
def test_an_amount_that_is_no_number_is_refused_naming_the_option(books, refused, amount):
    assert "argument --rate" in refused("client", "edit", "Acme", "--rate", amount)


# -- the invoice number pattern -------------------------------------------------------------------


def _set_pattern(refused, pattern: str) -> str:
    return refused("profile", "edit", "--set", f"invoice_number_pattern={pattern}")


@pytest.mark.parametrize(
    "pattern",
    ["{seq:c}", "{year}{seq:x}", "{year}{seq:4}", "{year}{seq:011}", "{year}{seq!r}", "{year}{0}", "{year}{}"],
)
def test_undocumented_placeholders_are_refused_naming_what_is_allowed(books, refused, pattern):
    line = _set_pattern(refused, pattern)
    assert "is not valid" in line and "{seq:0N} with N from 1 to 10" in line


def test_a_huge_width_is_refused_at_once_without_allocating_it(books):
    """``{seq:0999999999}`` hung and a larger width exhausted memory: run it in a process limited to
    512 MB, which fails (or is killed by the timeout) if the width is ever formatted again."""

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (512 * 2**20, 512 * 2**20))

    from core.store.db import close_database

    close_database()
    for pattern in ("{year}{seq:0999999999}", "{year}{seq:099999999999999999}"):
        result = subprocess.run(
            [sys.executable, "-m", "fakturka", "profile", "edit", "--set", f"invoice_number_pattern={pattern}"],
            cwd=ROOT,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=limit_memory,
        )
        assert result.returncode == 1, result.stderr
        assert "is not a zero-padded width from 1 to 10" in result.stderr
        assert result.stderr.count("\n") == 1


def test_a_pattern_stored_before_the_checks_is_refused_when_numbering(books, refused):
    """A database written by an older version may hold ``{seq:c}``: numbering refuses it with a sentence
    instead of giving every invoice of the year the same variable symbol."""
    BusinessProfile.update(invoice_number_pattern="{year}{seq:c}").execute()
    ts.add_entry(ts.EntryInput(project=client_svc.find_project("Web"), date=date(2026, 4, 1), duration=60))
    line = refused("invoice", "create", "--client", "Acme")
    assert "invoice number pattern" in line and "{seq:0N}" in line


_PIECES = st.sampled_from(["{year}", "{yy}", "{seq}", "{seq:02}", "{seq:03}", "{seq:04}", "FV-", "/", "0", "1", "-"])


@given(pieces=st.lists(_PIECES, min_size=1, max_size=5))
def test_every_accepted_pattern_gives_each_invoice_of_a_year_its_own_variable_symbol(pieces):
    pattern = "".join(pieces)
    try:
        profile_svc.check_number_pattern(pattern)
    except profile_svc.v.ValidationError:
        return
    symbols = [invoicing.variable_symbol(profile_svc.format_number(pattern, 2026, seq)) for seq in range(1, 3000)]
    assert len(set(symbols)) == len(symbols)
    assert all(symbol.isascii() and symbol.isdigit() and len(symbol) <= 10 for symbol in symbols)


# -- invoice pdf -o -------------------------------------------------------------------------------


def test_a_pdf_is_written_for_its_owner_only(books, ok, tmp_path):
    ok("invoice", "pdf", books.number, "-o", str(tmp_path / "one.pdf"))
    assert mode(tmp_path / "one.pdf") == 0o600
    ok("invoice", "pdf", "--all", "-o", str(tmp_path / "all"))
    assert [mode(path) for path in (tmp_path / "all").iterdir()] == [0o600]


def test_a_pdf_mode_can_be_asked_for(books, ok, refused, tmp_path):
    ok("invoice", "pdf", books.number, "-o", str(tmp_path / "shared.pdf"), "--mode", "644")
    assert mode(tmp_path / "shared.pdf") == 0o644
    assert "--mode" in refused("invoice", "pdf", books.number, "-o", str(tmp_path / "x.pdf"), "--mode", "400")
    assert "--mode" in refused("invoice", "pdf", books.number, "-o", str(tmp_path / "x.pdf"), "--mode", "u+rw")


def test_a_pdf_replaces_a_regular_file_and_goes_into_a_folder(books, ok, tmp_path):
    old = tmp_path / "old.pdf"
    old.write_bytes(b"old")
    ok("invoice", "pdf", books.number, "-o", str(old))
    assert old.read_bytes().startswith(b"%PDF")
    folder = tmp_path / "folder"
    folder.mkdir()
    ok("invoice", "pdf", books.number, "-o", str(folder))
    assert [p.name for p in folder.iterdir()] == [f"invoice-{books.number}.pdf"]


def test_a_link_to_a_folder_is_a_folder(books, ok, tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    ok("invoice", "pdf", books.number, "-o", str(tmp_path / "linked"))
    assert (tmp_path / "real" / f"invoice-{books.number}.pdf").is_file()


def _odd_targets(tmp_path: Path) -> dict[str, Path]:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    target = tmp_path / "target.txt"
    target.write_text("keep me")
    link = tmp_path / "link.pdf"
    link.symlink_to(target)
    dangling = tmp_path / "dangling.pdf"
    dangling.symlink_to(tmp_path / "nowhere")
    return {"named pipe": fifo, "symbolic link": link, "device": Path("/dev/null"), "dangling": dangling}


def test_pdf_output_that_is_not_a_file_or_folder_is_refused_naming_it(books, refused, tmp_path):
    for kind, path in _odd_targets(tmp_path).items():
        line = refused("invoice", "pdf", books.number, "-o", str(path))
        assert str(path) in line and "not a regular file or a folder" in line, kind
        assert ".tmp" not in line
        if kind != "dangling":
            assert kind in line
    assert (tmp_path / "target.txt").read_text() == "keep me"
    assert (tmp_path / "fifo").is_fifo() and (tmp_path / "link.pdf").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp files left


def test_pdf_all_into_something_that_is_not_a_folder_is_refused(books, refused, tmp_path):
    for path in _odd_targets(tmp_path).values():
        line = refused("invoice", "pdf", "--all", "-o", str(path))
        assert str(path) in line and "not a folder" in line


def test_a_symbolic_link_planted_inside_the_folder_is_not_followed(books, refused, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (tmp_path / "secret").write_text("keep me")
    (folder / f"invoice-{books.number}.pdf").symlink_to(tmp_path / "secret")
    line = refused("invoice", "pdf", books.number, "-o", str(folder))
    assert "symbolic link" in line
    assert (tmp_path / "secret").read_text() == "keep me"


# -- text a person types, text that is stored -----------------------------------------------------


@pytest.mark.parametrize(
    "argv, words",
    [
        (["client", "add", f"Evil{ESCAPES}"], "client name must be one line"),
        (["client", "add", "Two\nlines"], "client name must be one line"),
        (["client", "edit", "Acme", "--name", "Tab\there"], "client name must be one line"),
        (["client", "edit", "Acme", "--address", f"Street 1\\nPraha{ESCAPES}"], "address cannot hold control"),
        (["client", "edit", "Acme", "--email", "a\x1b@b.cz"], "e-mail must be one line"),
        (["project", "add", "Acme", "New\u009b2J"], "project name must be one line"),
        (["project", "edit", "Web", "--name", "a\nb"], "project name must be one line"),
        (["log", "Web", "60", f"Work{ESCAPES}"], "description must be one line"),
        (["timer", "start", "Web", "Work\r\nmore"], "description must be one line"),
        (["profile", "edit", "--set", f"name=Jana{ESCAPES}"], "name must be one line"),
        (["profile", "edit", "--set", "registry_line=a\nb"], "registry line must be one line"),
    ],
)
def test_names_with_control_characters_are_refused(books, refused, argv, words):
    line = refused(*argv)
    assert words in line
    assert "\x1b" not in line and "\x9b" not in line


def test_an_address_keeps_its_line_breaks(books, ok):
    ok("client", "edit", "Acme", "--address", "Street 1\\nPraha")
    assert Client.get(Client.name == "Acme").address == "Street 1\nPraha"


def test_arguments_that_are_not_utf8_are_refused_in_process(books, cli):
    before = db_state()
    code, out, err = cli("client", "add", "Acme \udcff")
    assert code == 2 and out == ""
    assert err == "fakturka: argument 3 (Acme \\xff) is not valid UTF-8 text; Fakturka reads arguments as UTF-8.\n"
    assert db_state() == before


@pytest.fixture
def hostile_rows(books):
    """Rows written before text was cleaned (or by hand): every face must still print them harmlessly."""
    Client.update(name=f"Acme{ESCAPES}\nEvil\u009b31m").execute()
    MoneyTransaction.update(counterparty=f"Bank{ESCAPES}\u009b2J", description="line\nbreak").execute()
    SyncHistory.create(
        plugin_name="fio", status="failed", trigger="cli", log=f"one\n{ESCAPES}two\n{'x' * 5000}", error_message="e"
    )
    return books


@pytest.mark.parametrize(
    "argv",
    [
        ["client", "list"],
        ["project", "list"],
        ["entries"],
        ["invoice", "list"],
        ["invoice", "show", "20260001"],
        ["transactions"],
        ["history", "show", "1"],
        ["client", "archive", "1"],
    ],
)
def test_stored_control_characters_never_reach_the_terminal(hostile_rows, ok, argv):
    out = ok(*argv)
    assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert all(len(line) <= 2002 for line in out.splitlines())  # a 5000-character log line is cut


def test_an_error_naming_a_stored_name_stays_on_one_line(hostile_rows, refused):
    line = refused("invoice", "create", "--client", "1")
    assert "Evil" in line and "\x1b" not in line and "\x9b" not in line


def test_json_keeps_stored_text_exact_but_escapes_every_control_character(hostile_rows, ok):
    out = ok("transactions", "--json")
    assert "\x1b" not in out and "\x9b" not in out
    assert "\\u009b" in out
    assert json.loads(out)[0]["counterparty"] == f"Bank{ESCAPES}\u009b2J"
    rows = json.loads(ok("client", "list", "--json"))
    assert rows[0]["name"] == f"Acme{ESCAPES}\nEvil\u009b31m"


def test_invoice_json_is_unchanged_for_ordinary_text(books, ok):
    data = json.loads(ok("invoice", "show", books.number, "--json"))
    assert data["client"] == "Acme" and data["number"] == books.number
    assert Invoice.get_by_id(books.id).number == books.number


def test_a_database_path_that_is_a_pipe_is_refused_instead_of_waiting_on_it(tmp_path):
    """Reading a FIFO's "header" would wait for a writer forever: run in a process with a timeout."""
    fifo = tmp_path / "books.db"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "fakturka", "--db", str(fifo), "info"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        result.stderr == f"fakturka: argument --db: {fifo} is a pipe, device or socket, not a database file "
        "(see 'fakturka --help')\n"
    )


def test_a_secret_that_is_not_utf8_is_refused(database, refused):
    # What Python reads from a pipe of bytes that are not UTF-8 under a C.UTF-8 locale.
    line = refused("plugins", "configure", "fio", "--secret", "token", stdin="\udcff\n")
    assert "not valid UTF-8" in line
