"""Clients and their projects. Archived ones leave pickers but keep their history."""

from __future__ import annotations

from typing import Any

from peewee import fn

from core.billing.profile import _check_bool, check_days, check_rate_percent, check_text, get_profile, quoted
from core.errors import FakturkaError
from core.store.models import Client, Invoice, Project, WorkEntry
from core.values import validation as v
from core.values.forms import Checker
from core.values.limits import MAX_SQLITE_INTEGER, check_record_id, is_ascii_number, not_a_record_id
from core.values.messages import Message
from core.values.money import exact_minor, from_minor, parse_amount, to_minor

CLIENT_FIELDS = (
    "name",
    "email",
    "address",
    "country",
    "ico",
    "dic",
    "currency",
    "language",
    "hourly_rate",
    "payment_terms_days",
    "archived",
)
PROJECT_FIELDS = ("name", "hourly_rate", "vat_rate", "archived")


class NotFound(FakturkaError, LookupError):
    """Nothing matches what the person named; the message says so in a sentence."""


def _check_name(value: Any, what: str) -> str:
    """The name of a client or a project (``what``), required."""
    if what == "client":
        label, refusal = Message("client name"), Message("The client needs a name.")
    else:
        label, refusal = Message("project name"), Message("The project needs a name.")
    name = check_text(value, "name", label)
    if not name:
        raise v.ValidationError(refusal, "name")
    return name


def _optional_rate(value: Any, currency: str) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    amount = parse_amount(str(value))
    if amount < 0:
        raise v.ValidationError(Message("An hourly rate cannot be negative ({value}).", value=value), "hourly_rate")
    return exact_minor(amount, currency)


def _optional_days(value: Any) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    return check_days(value)


# Client fields with a format of their own: first one line of text, then the format's check.
# The labels name the field in a refusal ("The country must be one line of text"); IČO and DIČ are the same
# in every language.
_TYPED_CHECKS = (
    ("email", Message("e-mail"), v.check_email),
    ("country", Message("country"), v.check_country),
    ("ico", "IČO", v.check_ico),
    ("dic", "DIČ", v.check_dic),
    ("currency", Message("currency"), v.check_currency),
    ("language", Message("language"), v.check_language),
    ("payment_terms_days", Message("payment terms"), _optional_days),
    ("archived", Message("archived flag"), _check_bool),
)


def _clean_client(values: dict[str, Any], current: Client | None) -> dict[str, Any]:
    unknown = set(values) - set(CLIENT_FIELDS)
    if unknown:
        raise v.ValidationError(
            Message(
                "Unknown client field {field}; known fields: {fields}.",
                field=quoted(sorted(unknown)[0]),
                fields=", ".join(CLIENT_FIELDS),
            )
        )
    checker = Checker(values)
    checker.check("name", lambda x: _check_name(x, "client"))
    checker.check("address", lambda x: check_text(x, "address", Message("address"), multiline=True))
    for name, label, check in _TYPED_CHECKS:
        checker.check(name, lambda x, name=name, label=label, check=check: check(check_text(x, name, label)))
    currency = checker.cleaned.get("currency") or (current.currency if current else get_profile().default_currency)
    checker.check("hourly_rate", lambda x: _optional_rate(x, currency))
    cleaned = checker.result()
    if "country" in cleaned or "dic" in cleaned:
        # Only when they change: a client stored with an ID the rules now refuse still loads and keeps
        # its other edits; its next invoice is refused instead (reverse_charge_refusal).
        merged = Client(
            name=cleaned.get("name", current.name if current else ""),
            country=cleaned.get("country", current.country if current else "CZ"),
            dic=cleaned.get("dic", current.dic if current else ""),
        )
        problem = reverse_charge_refusal(merged, bool(get_profile().vat_payer))
        if problem:
            raise v.ValidationError(problem, "dic")
    return cleaned


def reverse_charge_refusal(client: Client, vat_payer: bool) -> Message | None:
    """Why ``client`` cannot be invoiced under reverse charge, or None.

    Reverse charge is decided by ``core.billing.invoicing.is_reverse_charge`` (a VAT payer invoicing a
    client with a VAT ID in another EU country); it is only lawful with that client's valid VAT ID of an
    EU member state other than Czechia, checked here with the country's check digits.
    """
    from core.billing.invoicing import is_reverse_charge  # lazily: invoicing.py calls this function too

    if not is_reverse_charge(client, vat_payer):
        return None
    name, country = client.name or Message("the client"), client.country
    compact, problem = v.vat_id_problem(client.dic)
    if problem:
        return Message(
            "Reverse charge for {name} needs a valid VAT ID, but {vat_id!r} is not one: {problem}; correct "
            "the client's VAT ID (DIČ), or clear it to invoice with Czech VAT.",
            name=name,
            vat_id=compact,
            problem=problem,
        )
    prefix = compact[:2]
    if prefix == "CZ" or prefix not in v.EU_VAT_FORMATS or prefix == "XI":
        return Message(
            "Reverse charge for {name} ({country}) needs a VAT ID of an EU country other than Czechia, not "
            "{vat_id}; enter the client's EU VAT ID, or clear it to invoice with Czech VAT.",
            name=name,
            country=v.CountryName(country),
            vat_id=compact,
        )
    return None


def add_client(**values: Any) -> Client:
    profile = get_profile()
    values.setdefault("currency", profile.default_currency)
    values.setdefault("language", profile.locale)
    cleaned = _clean_client(values, None)
    if "name" not in cleaned:
        raise v.ValidationError(Message("The client needs a name."), "name")
    _check_unique_name(cleaned["name"], None)
    return Client.create(**cleaned)


def _check_unique_name(name: str, client_id: int | None) -> None:
    """Names are how people (and the CLI) find a client: two alike, in any case, would make both unfindable."""
    query = Client.select().where(fn.casefold(Client.name) == name.casefold())
    if client_id is not None:
        query = query.where(Client.id != client_id)
    other = query.first()
    if other is not None:
        if other.archived:
            raise v.ValidationError(
                Message(
                    "There is already a client called {name} (archived: restore it instead).", name=quoted(other.name)
                ),
                "name",
            )
        raise v.ValidationError(Message("There is already a client called {name}.", name=quoted(other.name)), "name")


def _check_currency_change(client: Client, currency: str) -> None:
    """Rates, fixed amounts and invoices are stored in the client's currency: a new currency would
    silently re-label all of them (1000 CZK of work would read 1000 EUR)."""
    has_work = (
        WorkEntry.select().join(Project).where(Project.client == client).exists()
        or Invoice.select().where(Invoice.client == client).exists()
    )
    if has_work:
        raise v.ValidationError(
            Message(
                "{client} already has work or invoices in {currency}; its currency cannot change. "
                "For work in {new_currency}, add another client.",
                client=client.name,
                currency=client.currency,
                new_currency=currency,
            ),
            "currency",
        )


def edit_client(client: Client, **values: Any) -> Client:
    cleaned = _clean_client(values, client)
    if "name" in cleaned:
        _check_unique_name(cleaned["name"], client.id)
    if "currency" in cleaned and cleaned["currency"] != client.currency:
        _check_currency_change(client, cleaned["currency"])
        if "hourly_rate" not in cleaned and client.hourly_rate is not None:
            # Keep the rate's face value when the currency changes.
            cleaned["hourly_rate"] = to_minor(from_minor(client.hourly_rate, client.currency), cleaned["currency"])
    for name, value in cleaned.items():
        setattr(client, name, value)
    client.save()
    return client


def archive_client(client: Client, archived: bool = True) -> Client:
    client.archived = archived
    client.save()
    return client


def clients_query(include_archived: bool = False):
    query = Client.select().order_by(fn.casefold(Client.name), Client.id)
    if not include_archived:
        query = query.where(Client.archived == False)  # noqa: E712 (SQL comparison)
    return query


def list_clients(include_archived: bool = False) -> list[Client]:
    return list(clients_query(include_archived))


def get_client(client_id: int) -> Client | None:
    """The client with this id (archived or not), or None."""
    return Client.get_or_none(Client.id == client_id)


def record_id_in(text: str, what: str) -> int | None:
    """``text`` read as a record id when it is all ASCII digits (else None, a name to look up).

    Refused with a sentence when it is past SQLite's integers (2**63 overflowed inside the driver); 0 is
    None, as it is no id. Long digit strings are measured, never handed to ``int()`` (which refuses
    more than 4300 digits with a bare ValueError).
    """
    if not is_ascii_number(text):
        return None
    digits = text.lstrip("0")
    if len(digits) > len(str(MAX_SQLITE_INTEGER)):
        shown = digits if len(digits) <= 30 else digits[:29] + "…"
        raise not_a_record_id(shown, what)
    value = int(digits or "0")
    return check_record_id(value, what) if value else None


def find_client(ref: str | int, include_archived: bool = True) -> Client:
    """A client by id, exact name (any case) or unambiguous name prefix."""
    text = str(ref).strip()
    query = Client.select()
    if not include_archived:
        query = query.where(Client.archived == False)  # noqa: E712
    client_id = record_id_in(text, Message("client id"))
    if client_id is not None:
        found = query.where(Client.id == client_id).first()
        if found:
            return found
    exact = list(query.where(fn.casefold(Client.name) == text.casefold()))
    if len(exact) == 1:
        return exact[0]
    prefix = list(query.where(fn.casefold(Client.name).startswith(text.casefold())).limit(5))
    if len(prefix) == 1:
        return prefix[0]
    if prefix:
        # With ids: two clients of the same name (from before names had to differ) are told apart by id.
        names = ", ".join(f"{c.name} (id {c.id})" for c in prefix)
        raise NotFound(
            Message(
                "Client {client} is ambiguous: it matches {names}; use the id or more of the name.",
                client=quoted(text),
                names=names,
            )
        )
    if not include_archived:
        archived = (
            Client.select()
            .where(
                (Client.archived == True)  # noqa: E712
                & fn.casefold(Client.name).startswith(text.casefold())
            )
            .first()
        )
        if archived is not None:
            raise NotFound(
                Message(
                    "{name} is archived; restore it first "
                    "('fakturka client archive {id} --undo', or v then a on the Clients screen).",
                    name=archived.name,
                    id=archived.id,
                )
            )
    raise NotFound(Message("There is no client called {name}; see 'fakturka client list'.", name=quoted(text)))


# -- projects ------------------------------------------------------------------


def _clean_project(values: dict[str, Any], currency: str) -> dict[str, Any]:
    unknown = set(values) - set(PROJECT_FIELDS)
    if unknown:
        raise v.ValidationError(
            Message(
                "Unknown project field {field}; known fields: {fields}.",
                field=quoted(sorted(unknown)[0]),
                fields=", ".join(PROJECT_FIELDS),
            )
        )
    checker = Checker(values)
    checker.check("name", lambda x: _check_name(x, "project"))
    checker.check("hourly_rate", lambda x: _optional_rate(x, currency))
    checker.check("vat_rate", lambda x: None if x in (None, "") else check_rate_percent(x))
    checker.check("archived", _check_bool)
    return checker.result()


def add_project(client: Client, **values: Any) -> Project:
    cleaned = _clean_project(values, client.currency)
    if "name" not in cleaned:
        raise v.ValidationError(Message("The project needs a name."), "name")
    if (
        Project.select()
        .where((Project.client == client) & (fn.casefold(Project.name) == cleaned["name"].casefold()))
        .exists()
    ):
        raise v.ValidationError(
            Message("{client} already has a project called {name}.", client=client.name, name=quoted(cleaned["name"])),
            "name",
        )
    return Project.create(client=client, **cleaned)


def edit_project(project: Project, **values: Any) -> Project:
    cleaned = _clean_project(values, project.client.currency)
    for name, value in cleaned.items():
        setattr(project, name, value)
    project.save()
    return project


def archive_project(project: Project, archived: bool = True) -> Project:
    project.archived = archived
    project.save()
    return project


def projects_query(client: Client | None = None, include_archived: bool = False):
    query = (
        Project.select(Project, Client)
        .join(Client)
        .order_by(fn.casefold(Client.name), fn.casefold(Project.name), Project.id)
    )
    if client is not None:
        query = query.where(Project.client == client)
    if not include_archived:
        query = query.where((Project.archived == False) & (Client.archived == False))  # noqa: E712
    return query


def list_projects(client: Client | None = None, include_archived: bool = False) -> list[Project]:
    return list(projects_query(client, include_archived))


def get_project(project_id: int) -> Project | None:
    """The project with this id (with its client, archived or not), or None."""
    return _any_project(Project.id == project_id)


def project_label(project: Project) -> str:
    return f"{project.client.name} / {project.name}"


def find_project(ref: str | int, include_archived: bool = True) -> Project:
    """A project by id, ``Client/Project``, or a project name that only one client has."""
    text = str(ref).strip()
    query = Project.select(Project, Client).join(Client)
    if not include_archived:
        query = query.where((Project.archived == False) & (Client.archived == False))  # noqa: E712
    project_id = record_id_in(text, Message("project id"))
    if project_id is not None:
        found = query.where(Project.id == project_id).first()
        if found:
            return found
    if "/" in text:
        client_part, _, project_part = (p.strip() for p in text.partition("/"))
        client = find_client(client_part)
        named = (Project.client == client) & (fn.casefold(Project.name) == project_part.casefold())
        found = query.where(named).first()
        if found:
            return found
        _refuse_if_archived(_any_project(named))
        raise NotFound(Message("{client} has no project called {name}.", client=client.name, name=quoted(project_part)))
    matches = list(query.where(fn.casefold(Project.name) == text.casefold()).limit(5))
    if len(matches) == 1:
        return matches[0]
    if matches:
        options = ", ".join(f"{project_label(p)} (id {p.id})" for p in matches)
        raise NotFound(
            Message(
                "Project {project} is ambiguous: {options}. Write it as Client/Project, or use the id.",
                project=quoted(text),
                options=options,
            )
        )
    if not include_archived:
        _refuse_if_archived(_any_project(fn.casefold(Project.name) == text.casefold()))
    raise NotFound(Message("There is no project called {name}; see 'fakturka project list'.", name=quoted(text)))


def _any_project(condition) -> Project | None:
    """The first project matching ``condition``, archived or not (with its client)."""
    return Project.select(Project, Client).join(Client).where(condition).first()


def _refuse_if_archived(project: Project | None) -> None:
    """An archived project (or one of an archived client) is named as such, not as missing."""
    if project is None:
        return
    if project.client.archived:
        raise NotFound(
            Message(
                "{project}: the client {client} is archived; restore it first ('fakturka client archive {id} --undo').",
                project=project_label(project),
                client=project.client.name,
                id=project.client.id,
            )
        )
    if project.archived:
        raise NotFound(
            Message(
                "{project} is archived; restore it first ('fakturka project archive {id} --undo').",
                project=project_label(project),
                id=project.id,
            )
        )
