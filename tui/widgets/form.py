"""The form pattern every editing screen uses.

Labels above inputs, a message under each field when the service refuses
it, ``ctrl+s`` saves, ``escape`` cancels (asking first when something was
typed: save, discard or stay), and nothing typed is lost on an error: the
form stays open with every value as it was. A form knows no
business rules: ``on_submit(values)`` calls a core service, which raises
``FormErrors`` / ``ValidationError`` with sentences the form places under
the right fields.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static, TextArea

from core.errors import FakturkaError
from core.values.forms import FormErrors
from core.values.text import for_terminal, lines_for_terminal
from core.values.validation import ValidationError
from tui.i18n import TranslatedBindings, _, amount_input, date_input, said
from tui.widgets.inputs import DateInput, MoneyInput
from tui.widgets.shown import label, plain, plain_lines
from tui.widgets.unsaved import DISCARD, SAVE, UnsavedChanges


@dataclass
class FormField:
    key: str
    label: str
    kind: str = "text"  # text | secret | number | money | date | choice | bool | textarea | path
    value: Any = ""
    options: list[tuple[str, Any]] = field(default_factory=list)  # for choice: (label, value)
    help: str = ""
    required: bool = False
    allow_blank: bool = False  # choice: may be left empty


def _widget_for(f: FormField) -> Widget:
    # Values and choices can be stored text (an imported description, a client's name): shown safely, so
    # saving the form stores the cleaned text. Never cut: the person would save a shortened value.
    wid = f"field-{f.key}"
    if f.kind == "bool":
        return Checkbox(plain(f.label), value=bool(f.value), id=wid)
    if f.kind == "choice":
        value = f.value if f.value not in (None, "") else Select.NULL
        options = [(label(prompt) if isinstance(prompt, str) else prompt, key) for prompt, key in f.options]
        return Select(options, value=value, allow_blank=f.allow_blank or value is Select.NULL, id=wid)
    if f.kind == "textarea":
        return TextArea(lines_for_terminal(str(f.value or "")), id=wid, classes="textarea")
    # Amounts and dates come as machine text ("1234.50", "2026-11-21"): shown as the language writes
    # them ("1 234,50", "21. 11. 2026"); parse_amount and parse_date read both styles back.
    if f.kind == "money":
        return MoneyInput(amount_input(f.value), id=wid)
    if f.kind == "date":
        return DateInput(date_input(f.value), id=wid)
    if f.kind == "number":
        return Input(str(f.value if f.value is not None else ""), type="number", id=wid)
    return Input(for_terminal(f.value), password=f.kind == "secret", id=wid)


class FormView(Vertical):
    """The fields, their error lines and a general error line; embeddable anywhere."""

    def __init__(self, fields: list[FormField], **kwargs):
        super().__init__(**kwargs)
        self.fields = fields
        self._saved_values: dict[str, Any] | None = None

    def on_mount(self) -> None:
        # What the widgets hold once shown (an Input may normalise a value) is "nothing changed".
        self.call_after_refresh(self._first_snapshot)

    def _first_snapshot(self) -> None:
        if self._saved_values is None:
            self._saved_values = self.values()

    def mark_saved(self) -> None:
        """The values now shown are the saved ones (after each save)."""
        self._saved_values = self.values()

    def changed(self) -> bool:
        """Whether the person edited anything since the form was shown or last saved."""
        return self._saved_values is not None and self.values() != self._saved_values

    def edits(self) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """What is typed and what is saved: for a form composed again (a language switch) to keep both."""
        return self.values(), self._saved_values

    def keep_edits(self, typed: dict[str, Any], saved: dict[str, Any] | None) -> None:
        self._saved_values = saved
        self._show(typed)

    def restore_saved(self) -> None:
        """Put the saved values back in the widgets (the person chose to discard their edits)."""
        self._show(self._saved_values or {})

    def _show(self, values: dict[str, Any]) -> None:
        for key, value in values.items():
            widget = self.query_one(f"#field-{key}")
            if isinstance(widget, TextArea):
                widget.text = value
            elif isinstance(widget, Select):
                widget.value = Select.NULL if value is None else value
            else:
                widget.value = value

    def compose(self) -> ComposeResult:
        yield Static("", id="form-error", classes="error hidden")
        for f in self.fields:
            with Vertical(classes="form-row", id=f"row-{f.key}"):
                if f.kind != "bool":
                    yield Label(plain(f.label + (" *" if f.required else "")), classes="form-label")
                yield _widget_for(f)
                if f.help:
                    yield Static(plain_lines(f.help), classes="form-help")  # "[prefix-]number" is not markup
                yield Static("", id=f"error-{f.key}", classes="error hidden")

    def values(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.key}")
            if isinstance(widget, Checkbox):
                result[f.key] = widget.value
            elif isinstance(widget, Select):
                result[f.key] = None if widget.value is Select.NULL else widget.value
            elif isinstance(widget, TextArea):
                result[f.key] = widget.text
            else:
                result[f.key] = widget.value
        return result

    def clear_errors(self) -> None:
        for error in self.query(".error"):
            error.update("")
            error.add_class("hidden")

    def show_error(self, key: str | None, message: str) -> None:
        target = None
        if key:
            found = self.query(f"#error-{key}")
            target = found.first() if found else None
        if target is None:
            target = self.query_one("#form-error", Static)
        target.update(plain_lines(message))  # messages quote what was typed: never markup, never escapes
        target.remove_class("hidden")
        if key and target.id == f"error-{key}":
            self.query_one(f"#field-{key}").focus()  # scrolls the field (and its message) into view
        else:  # the general message is above the fields: on a small terminal it may be scrolled away
            self.call_after_refresh(target.scroll_visible, animate=False)

    def show_exception(self, exc: Exception) -> None:
        self.clear_errors()
        if isinstance(exc, FormErrors):
            first = None
            for key, message in exc.errors.items():
                self.show_error(key if any(f.key == key for f in self.fields) else None, said(message))
                first = first or key
            if first and any(f.key == first for f in self.fields):
                self.query_one(f"#field-{first}").focus()
        elif isinstance(exc, ValidationError):
            key = exc.field if exc.field and any(f.key == exc.field for f in self.fields) else None
            self.show_error(key, said(exc))
        else:
            self.show_error(None, said(exc))


class FormScreen(TranslatedBindings, ModalScreen[Any]):
    """A modal form: ``push_screen(FormScreen(title, fields, on_submit), callback)``.

    Dismisses with whatever ``on_submit`` returned; with ``None`` on escape.
    """

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, title: str, fields: list[FormField], on_submit: Callable[[dict], Any], **kwargs):
        super().__init__(**kwargs)
        self.form_title = title
        self.fields = fields
        self.on_submit = on_submit

    DIALOG_CLASSES = "dialog form-dialog"
    SCROLL_CLASSES = "form-scroll"

    def above_form(self) -> ComposeResult:
        """What a subclass shows above the fields, in the same scroll (the draft editor: its lines)."""
        yield from ()

    def changed(self) -> bool:
        """Whether leaving would lose something typed (a subclass adds what it edits besides the fields)."""
        return self.query_one(FormView).changed()

    def compose(self) -> ComposeResult:
        with Vertical(classes=self.DIALOG_CLASSES):
            yield Static(plain(self.form_title), classes="dialog-title")
            with VerticalScroll(classes=self.SCROLL_CLASSES):
                yield from self.above_form()
                yield FormView(self.fields, id="form")
            with Horizontal(classes="buttons"):
                yield Button(_("Save") + " (ctrl+s)", id="save", variant="primary")
                yield Button(_("Cancel") + " (esc)", id="cancel")

    def first_focus(self) -> Widget | None:
        """Where the focus starts: the first field, so typing straight away goes there (not the scroll)."""
        return self.query_one(f"#field-{self.fields[0].key}") if self.fields else None

    def on_mount(self) -> None:
        target = self.first_focus()
        if target is not None:
            target.focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        # Through run_action, as the keys go: a database error while saving then becomes a notification
        # (FakturkaApp.run_action) and the form stays open with everything typed.
        await self.run_action("save" if event.button.id == "save" else "cancel")

    def action_save(self) -> None:
        form = self.query_one(FormView)
        try:
            result = self.on_submit(form.values())
        except FakturkaError as exc:
            form.show_exception(exc)
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        if not self.changed():
            self.dismiss(None)
            return

        def answered(choice: str | None) -> None:
            if choice == SAVE:
                self.action_save()  # a refusal keeps the form open, with the field marked
            elif choice == DISCARD:
                self.dismiss(None)

        self.app.push_screen(UnsavedChanges(), answered)
