"""Clients & projects: two lists side by side; add, edit, archive."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from core.billing import clients as svc
from core.billing.profile import get_profile
from core.values.money import from_minor
from tui.i18n import _, money
from tui.screens.base import SectionScreen
from tui.widgets.confirm import Confirm
from tui.widgets.form import FormField, FormScreen
from tui.widgets.paged_table import Col, PagedTable
from tui.widgets.share import ShareLinkScreen

LANGUAGES = [("Čeština", "cs"), ("English", "en")]


def _rate_text(minor, currency) -> str:
    return "" if minor is None else str(from_minor(minor, currency))


def client_fields(c) -> list[FormField]:
    """The client form, empty for a new client (``c`` None)."""
    profile = get_profile()
    return [
        FormField("name", _("Name"), value=c.name if c else "", required=True),
        FormField("email", _("E-mail"), value=c.email if c else ""),
        FormField("address", _("Address"), "textarea", c.address if c else ""),
        FormField("country", _("Country"), value=c.country if c else "CZ", help=_("Two letters, e.g. CZ, DE.")),
        FormField("ico", _("Company ID (IČO)"), value=c.ico if c else ""),
        FormField("dic", _("VAT ID (DIČ)"), value=c.dic if c else ""),
        FormField("currency", _("Currency"), value=c.currency if c else profile.default_currency),
        FormField("language", _("Invoice language"), "choice", c.language if c else profile.locale, options=LANGUAGES),
        FormField(
            "hourly_rate",
            _("Hourly rate"),
            "money",
            _rate_text(c.hourly_rate, c.currency) if c else "",
            help=_("Leave empty to use the profile's rate."),
        ),
        FormField(
            "payment_terms_days",
            _("Payment terms (days)"),
            "number",
            c.payment_terms_days if c and c.payment_terms_days is not None else "",
            help=_("Leave empty to use the profile's terms."),
        ),
    ]


def project_fields(p, client) -> list[FormField]:
    """The project form of ``client``, empty for a new project (``p`` None)."""
    return [
        FormField("name", _("Name"), value=p.name if p else "", required=True),
        FormField(
            "hourly_rate",
            _("Hourly rate") + f" ({client.currency})",
            "money",
            _rate_text(p.hourly_rate, client.currency) if p else "",
            help=_("Leave empty to use the client's rate."),
        ),
        FormField(
            "vat_rate",
            _("VAT rate (%)"),
            value=str(p.vat_rate) if p and p.vat_rate is not None else "",
            help=_("Only for VAT payers; leave empty for the profile's rate."),
        ),
    ]


class ClientsScreen(SectionScreen):
    SECTION = "clients"
    TITLE_MSGID = "Clients & Projects"
    BINDINGS = [
        Binding("n", "new_client", "New client"),
        Binding("N", "new_project", "New project"),
        Binding("e", "edit", "Edit"),
        Binding("a", "archive", "Archive/restore"),
        Binding("v", "toggle_archived", "Show archived"),
        Binding("l", "share", "Share link", show=False),
        Binding("tab", "switch_list", "Clients ⇄ projects", show=False),
    ]

    # Below 100 columns the two lists are stacked (app.tcss): side by side, neither showed its columns.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]

    show_archived = False

    def body(self) -> ComposeResult:
        with Horizontal(id="clients-projects"):
            with Vertical(classes="pane"):
                yield Static(_("Clients"), classes="pane-title")
                yield PagedTable(
                    self.fetch_clients,
                    [
                        Col(_("Name"), "name", cut_to=12),
                        Col(_("Currency"), "currency"),
                        Col(_("Language"), "language", give=1),
                        Col(_("Rate"), "rate"),
                        Col(_("Terms"), "terms"),
                    ],
                    id="clients",
                )
            with Vertical(classes="pane"):
                yield Static(_("Projects"), classes="pane-title", id="projects-title")
                yield PagedTable(
                    self.fetch_projects,
                    [Col(_("Project"), "name", cut_to=12), Col(_("Rate"), "rate"), Col(_("State"), "state")],
                    id="projects",
                )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#clients").focus()

    def fetch_clients(self, offset: int, limit: int):
        return [
            (
                c.id,
                [
                    c.name + (" " + _("(archived)") if c.archived else ""),
                    c.currency,
                    c.language,
                    money(c.hourly_rate, c.currency) if c.hourly_rate is not None else "—",
                    str(c.payment_terms_days) if c.payment_terms_days is not None else "—",
                ],
            )
            for c in svc.clients_query(self.show_archived).limit(limit).offset(offset)
        ]

    def fetch_projects(self, offset: int, limit: int):
        client = self.selected_client()
        if client is None:
            return []
        return [
            (
                p.id,
                [
                    p.name,
                    money(p.hourly_rate, client.currency) if p.hourly_rate is not None else "—",
                    _("archived") if p.archived else _("active"),
                ],
            )
            for p in svc.projects_query(client, include_archived=True).limit(limit).offset(offset)
        ]

    @staticmethod
    def EXTRA_HELP_ROWS():
        return [("enter", _("Edit")), ("tab", _("Clients ⇄ projects"))]

    def on_data_table_row_selected(self, event) -> None:
        self.action_edit()

    def selected_client(self):
        key = self.query_one("#clients", PagedTable).selected_key()
        return svc.get_client(int(key)) if key else None

    def selected_project(self):
        key = self.query_one("#projects", PagedTable).selected_key()
        return svc.get_project(int(key)) if key else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "clients":
            client = self.selected_client()
            self.query_one("#projects", PagedTable).set_fetch(self.fetch_projects, client.id if client else 0)

    def refresh_data(self) -> None:
        self.query_one("#clients", PagedTable).reload()
        self.query_one("#projects", PagedTable).reload()

    def _projects_focused(self) -> bool:
        return self.focused is not None and self.focused.id == "projects"

    def action_switch_list(self) -> None:
        self.query_one("#clients" if self._projects_focused() else "#projects").focus()

    def action_toggle_archived(self) -> None:
        self.show_archived = not self.show_archived
        self.query_one("#clients", PagedTable).set_fetch(self.fetch_clients, self.show_archived)

    def action_new_client(self) -> None:
        def submit(values):
            values = {k: v for k, v in values.items() if v not in (None,)}
            return svc.add_client(**values)

        self.app.push_screen(FormScreen(_("New client"), client_fields(None), submit), self._saved)

    def action_new_project(self) -> None:
        client = self.selected_client()
        if client is None:
            self.notify(_("Add a client first (n)."), severity="warning")
            return
        self.app.push_screen(
            FormScreen(
                _("New project for {client}").format(client=client.name),
                project_fields(None, client),
                lambda values: svc.add_project(client, **values),
            ),
            self._saved,
        )

    def action_edit(self) -> None:
        if self._projects_focused():
            project = self.selected_project()
            if project:
                self.app.push_screen(
                    FormScreen(
                        _("Edit project"),
                        project_fields(project, project.client),
                        lambda values: svc.edit_project(project, **values),
                    ),
                    self._saved,
                )
            return
        client = self.selected_client()
        if client:
            self.app.push_screen(
                FormScreen(_("Edit client"), client_fields(client), lambda values: svc.edit_client(client, **values)),
                self._saved,
            )

    def action_share(self) -> None:
        """A share link to the highlighted client's invoices (not drafts), shown once."""
        from core.sharing.links import create_client_link, share_url

        client = self.selected_client()
        if client is None:
            self.notify(_("Add a client first (n)."), severity="warning")
            return
        link, token = create_client_link(str(client.id))
        self.app.push_screen(
            ShareLinkScreen(
                _("Share link: {client}").format(client=client.name),
                share_url(token),
                link.expires_at,
                _("This link is shown only now; anyone with it can see this client's invoices (not the drafts)."),
            )
        )

    def action_archive(self) -> None:
        is_project = self._projects_focused()
        target = self.selected_project() if is_project else self.selected_client()
        if target is None:
            return
        archive = not target.archived
        question = (
            _("Archive {name}? It disappears from pickers; its history stays.") if archive else _("Restore {name}?")
        ).format(name=target.name)

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            if is_project:
                svc.archive_project(target, archive)
            else:
                svc.archive_client(target, archive)
            self.notify(_("Archived.") if archive else _("Restored."))
            self.refresh_data()

        self.app.push_screen(Confirm(question, _("Archive") if archive else _("Restore"), danger=False), answered)

    def _saved(self, result) -> None:
        if result is not None:
            self.notify(_("Saved."))
            self.refresh_data()
