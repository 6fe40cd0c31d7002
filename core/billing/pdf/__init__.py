"""Invoice PDFs (fpdf2): one A4 page for a typical invoice, in the invoice's language.

``document`` lays the page out with the geometry and drawing primitives of
``page``, ``fonts`` prepares Open Sans once per process, ``qr_draw`` draws the
payment QR code; this module writes files.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from core.billing.pdf.document import InvoiceRenderer
from core.billing.pdf.fonts import FontSet, fonts_for, full_fonts, latin_fonts
from core.errors import FakturkaError
from core.values.messages import Message

__all__ = [
    "render_invoice",
    "render_invoice_bytes",
    "export_invoices",
    "export_target",
    "invoice_filename",
    "ExportError",
    "PDF_MODE",
    "FontSet",
    "fonts_for",
    "full_fonts",
    "latin_fonts",
]

# An invoice names a client, amounts and a bank account: readable by its owner only, wherever it is
# written, unless the person asks for another mode.
PDF_MODE = 0o600


class ExportError(FakturkaError):
    """A PDF cannot be written where it was asked; the message names that path."""


def render_invoice_bytes(invoice) -> bytes:
    """The invoice as PDF bytes."""
    return InvoiceRenderer(invoice).render()


def render_invoice(invoice, path: Path | str, *, mode: int = PDF_MODE) -> Path:
    """Write the invoice's PDF to ``path`` with ``mode`` (atomically) and return the path.

    Only a new file or a regular file is replaced: a device, a pipe, a socket or a symbolic link at
    ``path`` is refused (``os.replace`` would swap it for the PDF without a word).
    """
    path = Path(path)
    data = render_invoice_bytes(invoice)
    _check_replaceable(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A fresh name in the same folder (O_EXCL, 0600): never a stale or planted ".tmp" followed.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".fakturka-", suffix=".pdf.tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                os.fchmod(fh.fileno(), mode)  # the mode asked for, whatever the umask
            _check_replaceable(path)  # again: something may have appeared there while rendering
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:  # named by the path asked for, not by the temporary file
        raise _cannot_write(path, exc) from None
    return path


def export_target(typed: Path | str, filename: str) -> Path:
    """Where ``-o typed`` writes one invoice: ``typed`` itself (new or a regular file), or
    ``typed/filename`` when it is a folder (a link to a folder too: the file is created inside it)."""
    typed = Path(typed)
    kind = _kind(typed)
    if kind is None or kind == "file":
        return typed
    if kind == "folder" or (kind == "symbolic link" and typed.is_dir()):
        return typed / filename
    raise _not_a_file(typed, kind)


def check_export_folder(typed: Path | str) -> Path:
    """A folder to export into: missing (it is created), a folder, or a link to one."""
    typed = Path(typed)
    kind = _kind(typed)
    if kind is None or kind == "folder" or (kind == "symbolic link" and typed.is_dir()):
        return typed
    raise ExportError(
        Message("{path} is a {kind}, not a folder; give a folder to export the PDFs into.", path=typed, kind=kind)
    )


def _check_replaceable(path: Path) -> None:
    kind = _kind(path)
    if kind not in (None, "file"):
        raise _not_a_file(path, kind)


def _not_a_file(path: Path, kind: str) -> ExportError:
    return ExportError(
        Message(
            "{path} is a {kind}, not a regular file or a folder; give a file or a folder for the PDF.",
            path=path,
            kind=kind,
        )
    )


def _cannot_write(path: Path, exc: OSError) -> ExportError:
    return ExportError(Message("Cannot write {path}: {reason}.", path=path, reason=str(exc.strerror or exc)))


def _kind(path: Path) -> str | None:
    """What is at ``path`` itself (links not followed): None when nothing is; a Message for what a
    refusal names ("a named pipe")."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return Message("symbolic link")
    if stat.S_ISFIFO(mode):
        return Message("named pipe")
    if stat.S_ISSOCK(mode):
        return Message("socket")
    return Message("device")


_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")


def invoice_filename(invoice) -> str:
    """``invoice-20250001.pdf`` (anything but letters, digits, ``. _ -`` becomes ``-``)."""
    number = _UNSAFE.sub("-", str(invoice.number)).strip("-.") or str(invoice.id)
    return f"invoice-{number}.pdf"


def export_invoices(
    invoices: Iterable,
    out_dir: Path | str,
    progress: Callable[[int, int], None] | None = None,
    *,
    mode: int = PDF_MODE,
) -> list[Path]:
    """Render each invoice to ``out_dir/invoice-<number>.pdf``; ``progress(done, total)`` after each.

    The fonts are prepared once per process (see the module docstring), so a
    batch pays for them once.
    """
    invoices = list(invoices)
    out = check_export_folder(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(
            Message("Cannot create the folder {path}: {reason}.", path=out, reason=str(exc.strerror or exc))
        ) from None
    total = len(invoices)
    if progress:
        progress(0, total)
    written: list[Path] = []
    for done, invoice in enumerate(invoices, start=1):
        written.append(render_invoice(invoice, out / invoice_filename(invoice), mode=mode))
        if progress:
            progress(done, total)
    return written
