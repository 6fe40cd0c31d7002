"""The passphrase dialogs of Settings: set (the new one twice), change (the current one, then the new
one twice) and remove (the current one, after a sentence saying what removing it means).

Each is a form (``FormScreen``): a refusal (a passphrase too short, a wrong current one, another
process using the database, work running in the background) is shown in the form, which stays open
with nothing changed. The re-encryption itself is the app's (``FakturkaApp.change_passphrase``).
"""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from core.store.vault import same_passphrase
from core.values.validation import ValidationError
from tui.i18n import _
from tui.widgets.form import FormField, FormScreen, FormView
from tui.widgets.shown import plain, plain_lines

SET, CHANGE, REMOVE = "set", "change", "remove"


class PassphraseForm(FormScreen):
    """A FormScreen whose button says what it does ("Set passphrase", not "Save")."""

    DIALOG_CLASSES = "dialog form-dialog passphrase-dialog"

    def __init__(self, what: str, change: Callable[..., None]):
        self.what = what
        title, self.submit_label = {
            SET: (_("Set a passphrase"), _("Set passphrase")),
            CHANGE: (_("Change the passphrase"), _("Change passphrase")),
            REMOVE: (_("Remove the passphrase"), _("Remove passphrase")),
        }[what]
        super().__init__(title, self._fields(), self._submit)
        self._change = change

    def _fields(self) -> list[FormField]:
        current = FormField("current", _("Current passphrase"), "secret", required=True)
        new = FormField(
            "new",
            _("New passphrase"),
            "secret",
            required=True,
            help=_("At least 8 characters. Without it nobody can read the data, you neither: keep it safe."),
        )
        again = FormField("again", _("The new passphrase again"), "secret", required=True)
        return {SET: [new, again], CHANGE: [current, new, again], REMOVE: [current]}[self.what]

    def changed(self) -> bool:
        return False  # escape just closes: a typed passphrase is nothing to keep

    def above_form(self) -> ComposeResult:
        if self.what == REMOVE:
            yield Static(
                plain_lines(
                    _(
                        "After this the data is stored unencrypted: anyone who gets the files (a backup, "
                        "a stolen laptop) can read them."
                    )
                ),
                classes="error",
            )

    def compose(self) -> ComposeResult:
        with Vertical(classes=self.DIALOG_CLASSES):
            yield Static(plain(self.form_title), classes="dialog-title")
            with VerticalScroll(classes=self.SCROLL_CLASSES):
                yield from self.above_form()
                yield FormView(self.fields, id="form")
            with Horizontal(classes="buttons"):
                yield Button(
                    self.submit_label + " (ctrl+s)", id="save", variant="error" if self.what == REMOVE else "primary"
                )
                yield Button(_("Cancel") + " (esc)", id="cancel")

    def _submit(self, values: dict) -> str:
        if self.what != SET and not values["current"]:
            raise ValidationError(_("Type the current passphrase."), "current")
        if self.what != REMOVE:
            if not values["new"]:
                raise ValidationError(_("Type the new passphrase."), "new")
            if not same_passphrase(values["new"], values["again"]):
                raise ValidationError(_("The two new passphrases differ; type the same one twice."), "again")
        self._change(self.what, current=values.get("current", ""), new=values.get("new", ""))
        return self.what
