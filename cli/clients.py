"""``fakturka client ...``, ``fakturka project ...`` and ``fakturka profile ...``."""

from __future__ import annotations

import sys

from cli.base import LINE_LIMIT, CommandError, amount_arg, parse_assignments, print_json, print_table, say
from core.billing import clients as svc
from core.billing import profile as profile_svc
from core.values.money import from_minor
from core.values.text import for_terminal

# Options taking an amount get the form check of cli.base.amount_arg; the rest is checked by the service.
AMOUNT_OPTIONS = {"--rate", "--vat-rate"}
CLIENT_OPTIONS = [
    ("--email", "contact e-mail"),
    ("--address", "postal address (use \\n for new lines)"),
    ("--country", "two-letter country code (default CZ)"),
    ("--ico", "company ID (IČO)"),
    ("--dic", "VAT ID (DIČ), e.g. CZ12345678 or DE123456789"),
    ("--currency", "invoice currency, e.g. CZK or EUR"),
    ("--language", "invoice language: en or cs"),
    ("--rate", "default hourly rate"),
    ("--terms", "payment terms in days"),
]
OPTION_FIELDS = {"rate": "hourly_rate", "terms": "payment_terms_days"}


def register(commands) -> None:
    client = commands.add_parser("client", help="add, list, edit and archive clients")
    sub = client.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a client")
    add.add_argument("name")
    for flag, text in CLIENT_OPTIONS:
        add.add_argument(flag, help=text, type=amount_arg if flag in AMOUNT_OPTIONS else None)
    add.set_defaults(handler=client_add)
    lst = sub.add_parser("list", help="list clients")
    lst.add_argument("--all", action="store_true", help="include archived clients")
    lst.add_argument("--json", action="store_true", help="print JSON for scripts")
    lst.set_defaults(handler=client_list)
    edit = sub.add_parser("edit", help="change a client's details")
    edit.add_argument("client", help="client id or name")
    edit.add_argument("--name")
    for flag, text in CLIENT_OPTIONS:
        edit.add_argument(flag, help=text, type=amount_arg if flag in AMOUNT_OPTIONS else None)
    edit.set_defaults(handler=client_edit)
    arch = sub.add_parser("archive", help="hide a client from pickers (its history stays)")
    arch.add_argument("client", help="client id or name")
    arch.add_argument("--undo", action="store_true", help="unarchive instead")
    arch.set_defaults(handler=client_archive)

    project = commands.add_parser("project", help="add, list, edit and archive projects")
    sub = project.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add a project to a client")
    add.add_argument("client", help="client id or name")
    add.add_argument("name")
    add.add_argument("--rate", help="hourly rate (overrides the client's)", type=amount_arg)
    add.add_argument(
        "--vat-rate", type=amount_arg, help="VAT rate in percent (for VAT payers; overrides the profile's)"
    )
    add.set_defaults(handler=project_add)
    lst = sub.add_parser("list", help="list projects")
    lst.add_argument("--client", help="only this client's projects")
    lst.add_argument("--all", action="store_true", help="include archived projects")
    lst.add_argument("--json", action="store_true", help="print JSON for scripts")
    lst.set_defaults(handler=project_list)
    edit = sub.add_parser("edit", help="rename a project or change its rates")
    edit.add_argument("project", help="project id, name, or Client/Project")
    edit.add_argument("--name")
    edit.add_argument("--rate", help="hourly rate; empty to use the client's", type=amount_arg)
    edit.add_argument("--vat-rate", help="VAT rate in percent; empty to use the profile's", type=amount_arg)
    edit.set_defaults(handler=project_edit)
    arch = sub.add_parser("archive", help="hide a project from pickers (its history stays)")
    arch.add_argument("project", help="project id, name, or Client/Project")
    arch.add_argument("--undo", action="store_true", help="unarchive instead")
    arch.set_defaults(handler=project_archive)

    prof = commands.add_parser("profile", help="show or edit your business profile")
    sub = prof.add_subparsers(dest="action", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="show the profile")
    show.add_argument("--json", action="store_true", help="print JSON for scripts")
    show.set_defaults(handler=profile_show)
    edit = sub.add_parser(
        "edit", help="change profile fields", description="Fields: " + ", ".join(profile_svc.EDITABLE_FIELDS)
    )
    edit.add_argument(
        "--set",
        action="append",
        metavar="FIELD=VALUE",
        dest="assignments",
        help="set a field (repeatable); without --set, asks for each field on a terminal",
    )
    edit.set_defaults(handler=profile_edit)


def _client_values(args) -> dict:
    values = {}
    for flag, _ in CLIENT_OPTIONS:
        key = flag.lstrip("-")
        value = getattr(args, key)
        if value is not None:
            values[OPTION_FIELDS.get(key, key)] = value.replace("\\n", "\n") if key == "address" else value
    return values


def _client_dict(c) -> dict:
    return {
        "id": c.id,
        "name": c.name,
        "email": c.email,
        "address": c.address,
        "country": c.country,
        "ico": c.ico,
        "dic": c.dic,
        "currency": c.currency,
        "language": c.language,
        "hourly_rate": from_minor(c.hourly_rate, c.currency),
        "payment_terms_days": c.payment_terms_days,
        "archived": c.archived,
    }


def client_add(args) -> int:
    client = svc.add_client(name=args.name, **_client_values(args))
    say(f"Added client {client.name} (id {client.id}, {client.currency}, invoices in {client.language}).")
    return 0


def client_list(args) -> int:
    rows = svc.list_clients(include_archived=args.all)
    if args.json:
        print_json([_client_dict(c) for c in rows])
        return 0
    if not rows:
        hidden = 0 if args.all else len(svc.list_clients(include_archived=True))
        if hidden:
            say(f"No active clients; {hidden} archived ('fakturka client list --all' shows them).")
        else:
            say("No clients yet. Add one: fakturka client add NAME")
        return 0
    print_table(
        ["ID", "NAME", "CURRENCY", "LANG", "RATE", "TERMS", "ARCHIVED"],
        [
            [
                c.id,
                c.name,
                c.currency,
                c.language,
                from_minor(c.hourly_rate, c.currency) or "-",
                c.payment_terms_days if c.payment_terms_days is not None else "-",
                "yes" if c.archived else "",
            ]
            for c in rows
        ],
        right={0, 4, 5},
    )
    return 0


def client_edit(args) -> int:
    client = svc.find_client(args.client)
    values = _client_values(args)
    if args.name is not None:
        values["name"] = args.name
    if not values:
        raise CommandError("Nothing to change; give at least one option such as --name or --rate.")
    svc.edit_client(client, **values)
    say(f"Updated client {client.name}.")
    return 0


def client_archive(args) -> int:
    client = svc.find_client(args.client)
    svc.archive_client(client, archived=not args.undo)
    say(f"{'Unarchived' if args.undo else 'Archived'} client {client.name}.")
    return 0


def _project_dict(p) -> dict:
    return {
        "id": p.id,
        "client": p.client.name,
        "name": p.name,
        "hourly_rate": from_minor(p.hourly_rate, p.client.currency),
        "vat_rate": p.vat_rate,
        "archived": p.archived,
    }


def project_add(args) -> int:
    client = svc.find_client(args.client)
    values = {"name": args.name}
    if args.rate is not None:
        values["hourly_rate"] = args.rate
    if args.vat_rate is not None:
        values["vat_rate"] = args.vat_rate
    project = svc.add_project(client, **values)
    say(f"Added project {svc.project_label(project)} (id {project.id}).")
    return 0


def project_list(args) -> int:
    client = svc.find_client(args.client) if args.client else None
    rows = svc.list_projects(client, include_archived=args.all)
    if args.json:
        print_json([_project_dict(p) for p in rows])
        return 0
    if not rows:
        say("No projects yet. Add one: fakturka project add CLIENT NAME")
        return 0
    print_table(
        ["ID", "CLIENT", "PROJECT", "RATE", "ARCHIVED"],
        [
            [
                p.id,
                p.client.name,
                p.name,
                from_minor(p.hourly_rate, p.client.currency) or "-",
                "yes" if p.archived else "",
            ]
            for p in rows
        ],
        right={0, 3},
    )
    return 0


def project_edit(args) -> int:
    project = svc.find_project(args.project)
    values = {}
    if args.name is not None:
        values["name"] = args.name
    if args.rate is not None:
        values["hourly_rate"] = args.rate
    if args.vat_rate is not None:
        values["vat_rate"] = args.vat_rate
    if not values:
        raise CommandError("Nothing to change; give --name, --rate or --vat-rate.")
    svc.edit_project(project, **values)
    say(f"Updated project {svc.project_label(project)}.")
    return 0


def project_archive(args) -> int:
    project = svc.find_project(args.project)
    svc.archive_project(project, archived=not args.undo)
    say(f"{'Unarchived' if args.undo else 'Archived'} project {svc.project_label(project)}.")
    return 0


def profile_show(args) -> int:
    data = profile_svc.profile_as_dict(profile_svc.get_profile())
    if args.json:
        print_json(data)
        return 0
    if not profile_svc.is_set_up():
        say('Your business profile is not set up yet: fakturka profile edit --set name="Your Name" ...')
    width = max(len(k) for k in data)
    for key, value in data.items():
        text = str(value).replace("\n", ", ") if value not in ("", None) else "-"
        say(f"{key.ljust(width)}  {for_terminal(text, LINE_LIMIT - width - 2)}")
    return 0


def profile_edit(args) -> int:
    values = parse_assignments(args.assignments)
    if not values:
        if not sys.stdin.isatty():
            raise CommandError("Give fields to change with --set FIELD=VALUE, e.g. --set iban=CZ65...")
        current = profile_svc.profile_as_dict(profile_svc.get_profile())
        for field in profile_svc.EDITABLE_FIELDS:
            try:
                answer = input(f"{field} [{for_terminal(current[field], LINE_LIMIT)}]: ")
            except UnicodeDecodeError:
                raise CommandError(f"The {field} typed is not valid UTF-8 text; nothing was changed.") from None
            if answer.strip():
                values[field] = answer
    if values:
        profile_svc.update_profile(values)
    say("Profile saved." if values else "Nothing changed.")
    return 0
