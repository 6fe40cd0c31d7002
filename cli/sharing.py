"""``fakturka share invoice|client|list|revoke``: links that open an invoice or a client's invoices in the portal."""

from __future__ import annotations

import argparse
import re
from dataclasses import asdict

from cli.base import print_json, print_table, record_id, say
from core.billing.profile import quoted
from core.sharing import links as svc

_DAYS = re.compile(r"([0-9]{1,9})\s*d?", re.IGNORECASE)


def expiry_days(text: str) -> int:
    """argparse type: ``--expires 30d`` or ``30``: whole days, 1 to 3650."""
    match = _DAYS.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not a number of days; use e.g. 30d or 30")
    days = int(match.group(1))
    if not 1 <= days <= svc.MAX_EXPIRY_DAYS:
        raise argparse.ArgumentTypeError(f"{quoted(text)} is not from 1 to {svc.MAX_EXPIRY_DAYS} days")
    return days


def register(commands) -> None:
    share = commands.add_parser("share", help="share links: an invoice or a client's invoices, opened in the portal")
    sub = share.add_subparsers(dest="action", metavar="ACTION", required=True)
    json_help = "print the link as JSON for scripts (id, kind, what, url, expires_at)"
    expires_help = f"how long the link works: days, e.g. 30d or 90 (default {svc.DEFAULT_EXPIRY_DAYS}d, at most 3650d)"

    invoice = sub.add_parser(
        "invoice",
        help="make a link to one invoice (not a draft)",
        description="Make a link that opens this invoice in the portal. The address is printed once: "
        "Fakturka keeps only a hash of it.",
    )
    invoice.add_argument("number", help="the invoice number")
    invoice.add_argument("--expires", type=expiry_days, default=svc.DEFAULT_EXPIRY_DAYS, help=expires_help)
    invoice.add_argument("--json", action="store_true", help=json_help)
    invoice.set_defaults(handler=share_invoice)

    client = sub.add_parser(
        "client",
        help="make a link to a client's invoices (all but drafts)",
        description="Make a link that opens the client's invoices (all but drafts, those issued later too) "
        "in the portal. The address is printed once: Fakturka keeps only a hash of it.",
    )
    client.add_argument("name", help="client id, name or the start of the name")
    client.add_argument("--expires", type=expiry_days, default=svc.DEFAULT_EXPIRY_DAYS, help=expires_help)
    client.add_argument("--json", action="store_true", help=json_help)
    client.set_defaults(handler=share_client)

    lst = sub.add_parser("list", help="list the links with their state and views (never their addresses)")
    lst.add_argument("--json", action="store_true", help="print JSON for scripts")
    lst.set_defaults(handler=share_list)

    revoke = sub.add_parser("revoke", help="revoke a link: its address opens nothing from then on")
    revoke.add_argument("id", type=record_id("share link id"), help="the link's id (see 'fakturka share list')")
    revoke.set_defaults(handler=share_revoke)


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"


def _name(link) -> str:
    """What a link opens: the invoice number or the client's name."""
    return link.invoice.number if link.kind == "invoice" else link.client.name


def _described(link) -> str:
    return f"invoice {_name(link)}" if link.kind == "invoice" else f"the invoices of {_name(link)}"


def _made(args, link, token: str) -> int:
    if args.json:  # the address, once, to a script that mails it; never stored
        url = svc.share_url(token)
        print_json({"id": link.id, "kind": link.kind, "what": _name(link), "url": url, "expires_at": link.expires_at})
        return 0
    say(f"Shared {_described(link)} as link {link.id}, until {_when(link.expires_at)} UTC:")
    say(svc.share_url(token))
    say(
        "This address is shown only now: Fakturka keeps no copy of it. "
        f"Revoke it with 'fakturka share revoke {link.id}'."
    )
    return 0


def share_invoice(args) -> int:
    link, token = svc.create_invoice_link(args.number, expires_days=args.expires)
    return _made(args, link, token)


def share_client(args) -> int:
    link, token = svc.create_client_link(args.name, expires_days=args.expires)
    return _made(args, link, token)


def share_list(args) -> int:
    rows = svc.list_links()
    if args.json:
        print_json([asdict(row) for row in rows])
        return 0
    if not rows:
        say("No share links yet. Make one: fakturka share invoice NUMBER, or fakturka share client NAME.")
        return 0
    print_table(
        ["ID", "KIND", "WHAT", "CREATED (UTC)", "EXPIRES (UTC)", "STATE", "VIEWS", "LAST VIEW (UTC)"],
        [
            [r.id, r.kind, r.what, _when(r.created_at), _when(r.expires_at), r.state, r.views, _when(r.last_view)]
            for r in rows
        ],
        right={0, 6},
    )
    return 0


def share_revoke(args) -> int:
    link = svc.revoke_link(args.id)
    say(f"Revoked share link {link.id} ({_described(link)}); its address opens nothing from now on.")
    return 0
