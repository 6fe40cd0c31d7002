"""Text from outside, made safe once: stored without control characters, shown without escape sequences.

A bank statement, a time export or a plugin can carry any character. Two rules keep that text harmless:

- :func:`clean_text` when it is stored: C0 and C1 control characters (ESC, BEL, CSI, ...) are dropped;
  tab and newline survive only where the field allows several lines, else they become a space.
- :func:`for_terminal` when it is shown: whatever is in the database (older rows, a hand-edited file)
  cannot emit an escape sequence, reorder the line (bidi overrides) or run for megabytes.
"""

from __future__ import annotations

import re

# C0 controls, DEL and C1 controls (U+0080-U+009F: a terminal reads U+009B as CSI on its own).
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_CONTROL = re.compile(f"[{_CONTROLS}]")
_LINE_BREAKS = re.compile(r"\r\n|\r|\n|\t|[\u2028\u2029]")
# Bidirectional overrides and isolates: harmless to a terminal, but they make a line read backwards.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_SHOWN_CONTROL = re.compile(f"[{_CONTROLS}\t\n\u2028\u2029]")

ELLIPSIS = "…"


def clean_text(value: str, *, multiline: bool = False) -> str:
    """``value`` fit to store: no control characters; line breaks kept only when ``multiline``.

    ``\\r\\n`` and ``\\r`` become ``\\n`` (or a space on one line); tab becomes a space on one line.
    """
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
        return _CONTROL.sub("", value)
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", value))


def has_control_characters(value: str, *, multiline: bool = False) -> bool:
    return clean_text(value, multiline=multiline) != value


def for_terminal(value: object, limit: int | None = None) -> str:
    """One line fit for a terminal cell: controls shown as spaces, bidi marks dropped, at most ``limit``.

    Use it on every stored string a face prints (tables, log lines, audit values, errors). ``None``
    becomes ``""``; anything else is ``str()``-ed first.
    """
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if limit is not None and len(text) > 2 * limit + 64:
        # A 200 MB value is not cleaned whole to show one cell of it; the slack covers dropped marks.
        head = _BIDI.sub("", _SHOWN_CONTROL.sub(" ", text[: 2 * limit + 64]))
        if len(head) >= limit:
            return head[: max(limit - 1, 0)] + ELLIPSIS
    text = _BIDI.sub("", _SHOWN_CONTROL.sub(" ", text))
    if limit is not None and len(text) > limit:
        return text[: max(limit - 1, 0)] + ELLIPSIS
    return text


def lines_for_terminal(value: object, limit: int | None = None) -> str:
    """Several lines fit for a terminal (a log, a message): each line as :func:`for_terminal`."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(for_terminal(line, limit) for line in text.split("\n"))
