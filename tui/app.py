"""The Fakturka terminal app (the shell; sections arrive with the TUI issue)."""
from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Footer, Header, Static

from core.cli import app_version


class FakturkaApp(App):
    TITLE = "Fakturka"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit"),
    ]

    def __init__(self, db_path: Path, **kwargs):
        super().__init__(**kwargs)
        self.db_path = db_path

    def compose(self) -> ComposeResult:
        yield Header(show_clock=True)
        with Vertical(id="welcome"):
            yield Static(f"Fakturka {app_version()}", id="title")
            yield Static(f"Database: {self.db_path}", id="db-path")
            yield Static("Time tracking, invoices and bank sync arrive in the next releases.", id="hint")
        yield Footer()
