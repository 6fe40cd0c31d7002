"""Settings: the business profile form, theme and language, the passphrase and the idle lock."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Label, Select, Static

from core.billing import profile as svc
from core.errors import FakturkaError
from core.store.config import MAX_LOCK_AFTER_MINUTES
from core.values.money import from_minor
from tui.i18n import _, language
from tui.screens.base import SectionScreen
from tui.widgets.form import FormField, FormView
from tui.widgets.passphrase import CHANGE, REMOVE, SET, PassphraseForm


def theme_options() -> list[tuple[str, str]]:
    """The themes offered, named in the current language (Nord, Gruvbox and Tokyo Night are names)."""
    return [
        (_("Dark"), "textual-dark"),
        (_("Light"), "textual-light"),
        ("Nord", "nord"),
        ("Gruvbox", "gruvbox"),
        ("Tokyo Night", "tokyo-night"),
        (_("Solarized light"), "solarized-light"),
    ]


LANGUAGES = [("English", "en"), ("Čeština", "cs")]


def profile_fields() -> list[FormField]:
    p = svc.get_profile()
    return [
        FormField("name", _("Name or company"), value=p.name, required=True),
        FormField("address", _("Address"), "textarea", p.address),
        FormField("email", _("E-mail"), value=p.email),
        FormField("phone", _("Phone"), value=p.phone),
        FormField("ico", _("Company ID (IČO)"), value=p.ico),
        FormField("dic", _("VAT ID (DIČ)"), value=p.dic),
        FormField(
            "registry_line",
            _("Registry line"),
            value=p.registry_line,
            help=_("e.g. Fyzická osoba zapsaná v živnostenském rejstříku"),
        ),
        FormField("vat_payer", _("I am a VAT payer"), "bool", p.vat_payer),
        FormField("default_vat_rate", _("Default VAT rate (%)"), value=str(p.default_vat_rate)),
        FormField("iban", _("IBAN"), value=p.iban),
        FormField("bic", _("BIC"), value=p.bic),
        FormField(
            "bank_account",
            _("Czech account number"),
            value=p.bank_account,
            help=_("[prefix-]number/bank code, e.g. 19-2000145399/0800"),
        ),
        FormField("default_currency", _("Default currency"), value=p.default_currency),
        FormField(
            "default_hourly_rate",
            _("Default hourly rate"),
            "money",
            str(from_minor(p.default_hourly_rate, p.default_currency)),
        ),
        FormField("payment_terms_days", _("Payment terms (days)"), "number", p.payment_terms_days),
        FormField(
            "invoice_number_pattern",
            _("Invoice number pattern"),
            value=p.invoice_number_pattern,
            help=_("{year}, {yy} and {seq} (e.g. {seq:04}); at most 10 digits."),
        ),
        FormField(
            "locale", _("Default invoice language"), "choice", p.locale, options=[("Čeština", "cs"), ("English", "en")]
        ),
    ]


class SettingsScreen(SectionScreen):
    SECTION = "settings"
    TITLE_MSGID = "Settings"
    BINDINGS = [
        Binding("ctrl+s", "save", "Save profile", priority=True),
        # Function keys: letters are typed into the fields. Shown on the buttons, the help screen (?) and
        # in the palette; the footer keeps room for the keys of the form.
        Binding("f5", "passphrase", "Set or change the passphrase", show=False),
        Binding("f8", "remove_passphrase", "Remove the passphrase", show=False),
    ]

    def body(self) -> ComposeResult:
        with Horizontal(id="settings"):
            with VerticalScroll(classes="pane wide-pane"):
                yield Static(_("Business profile"), classes="pane-title")
                yield FormView(profile_fields(), id="profile-form")
                yield Button(_("Save profile") + " (ctrl+s)", id="save-profile", variant="primary")
            with VerticalScroll(classes="pane narrow-pane"):
                yield Static(_("Appearance"), classes="pane-title")
                yield Label(_("Theme"))
                themes = theme_options()
                yield Select(
                    themes,
                    value=self.app.theme if self.app.theme in dict(themes).values() else "textual-dark",
                    allow_blank=False,
                    id="theme",
                )
                yield Label(_("Language"))
                yield Select(LANGUAGES, value=language(), allow_blank=False, id="language")
                yield Static(_("Passphrase"), classes="pane-title")
                yield Static("", id="passphrase-state")
                yield Button(_("Set passphrase") + " (f5)", id="passphrase-set")
                yield Button(_("Change passphrase") + " (f5)", id="passphrase-change")
                yield Button(_("Remove passphrase") + " (f8)", id="passphrase-remove", variant="error")
                yield Label(_("Lock after idle minutes"))
                yield Input(str(self.app.config.lock_after_minutes), type="integer", id="lock-after")
                yield Static(
                    _("With a passphrase only; 0: never. ctrl+l locks at once."), classes="form-help", id="lock-help"
                )
                yield Static("", id="lock-after-error", classes="error hidden")

    def on_mount(self) -> None:
        super().on_mount()
        self.show_passphrase_state()
        self.focus_main()

    def refresh_data(self) -> None:
        self.show_passphrase_state()

    def focus_main(self) -> None:
        # The first field, not the scrolling pane (Textual's default): typed letters would
        # otherwise reach the section keys and take the person to another screen.
        form = self.query_one("#profile-form", FormView)
        form.query_one(f"#field-{form.fields[0].key}").focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save-profile":
            await self.run_action("save")  # through the app's error handler (a locked database is a sentence)
        elif event.button.id in ("passphrase-set", "passphrase-change"):
            await self.run_action("passphrase")
        elif event.button.id == "passphrase-remove":
            await self.run_action("remove_passphrase")

    # -- the passphrase ---------------------------------------------------------------------------------

    def show_passphrase_state(self) -> None:
        """Say whether the data is encrypted, and offer the buttons that apply."""
        encrypted = self.app.database_encrypted()
        self.query_one("#passphrase-state", Static).update(
            _("The data is encrypted.") if encrypted else _("The data is not encrypted.")
        )
        self.query_one("#passphrase-set").display = not encrypted
        self.query_one("#passphrase-change").display = encrypted
        self.query_one("#passphrase-remove").display = encrypted

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "remove_passphrase":
            return self.app.database_encrypted()
        return super().check_action(action, parameters)

    def action_passphrase(self) -> None:
        self._passphrase_dialog(CHANGE if self.app.database_encrypted() else SET)

    def action_remove_passphrase(self) -> None:
        if self.app.database_encrypted():
            self._passphrase_dialog(REMOVE)

    def _passphrase_dialog(self, what: str) -> None:
        def done(result: str | None) -> None:
            if result is None:
                return
            self.show_passphrase_state()
            self.notify(
                {
                    SET: _("The passphrase is set: the data is encrypted, and the app asks for it at start."),
                    CHANGE: _("The passphrase is changed: the data is encrypted under the new one."),
                    REMOVE: _("The passphrase is removed: the data is no longer encrypted."),
                }[result],
                timeout=10,
            )

        self.app.push_screen(PassphraseForm(what, self.app.change_passphrase), done)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "lock-after":
            return
        error = self.query_one("#lock-after-error", Static)
        text = event.value.strip()
        minutes = int(text) if text.isdigit() else -1
        if not 0 <= minutes <= MAX_LOCK_AFTER_MINUTES:
            error.update(_("Whole minutes, from 0 to {most}.").format(most=MAX_LOCK_AFTER_MINUTES))
            error.remove_class("hidden")
            return
        error.add_class("hidden")
        if minutes != self.app.config.lock_after_minutes:
            self.app.set_lock_after(minutes)

    def action_save(self) -> None:
        self.save_changes()

    # -- the unsaved-changes protocol the app asks before leaving a section --------------------------

    def save_changes(self) -> bool:
        """Save what the form holds; False (the fields marked) when the service refuses it."""
        form = self.query_one("#profile-form", FormView)
        try:
            svc.update_profile(form.values())
        except FakturkaError as exc:  # shown in place; a database error goes to the app's handler
            form.show_exception(exc)
            self.notify(_("The profile was not saved: fix the marked fields."), severity="error")
            return False
        form.clear_errors()
        form.mark_saved()
        self.notify(_("Profile saved."))
        return True

    async def apply_language(self) -> None:
        # Switching the language re-composes the screen: what was typed (and not saved) stays typed.
        typed, saved = self.query_one("#profile-form", FormView).edits()
        await super().apply_language()
        self.query_one("#profile-form", FormView).keep_edits(typed, saved)

    def has_unsaved_changes(self) -> bool:
        return self.query_one("#profile-form", FormView).changed()

    def discard_changes(self) -> None:
        form = self.query_one("#profile-form", FormView)
        form.restore_saved()
        form.clear_errors()

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "theme" and event.value != self.app.theme:
            self.app.set_theme(event.value)
        elif event.select.id == "language" and event.value != language():
            self.app.set_language(event.value)
