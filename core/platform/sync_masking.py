"""Secrets never leave a sync run: every form of a plugin's secret values becomes ``***``."""

from __future__ import annotations

import json
import re
from typing import Any, Iterable

MASK = "***"

# -- secrets never leave the run --------------------------------------------------------

# Only for scanning a document for secrets (Masker): keys as given, anything unknown as its str().
_json_for_scan = json.JSONEncoder(ensure_ascii=False, default=str).encode


class Masker:
    """Replaces every form of the secret values with ``***`` in strings and nested data.

    Each character of a secret may appear as itself or percent-encoded (either
    hex case; a space also as ``+``), because HTTP clients encode URLs
    differently: httpx keeps ``+&=`` in a path but encodes the space, a query
    string encodes them all. One regular expression per run matches every mix.
    """

    def __init__(self, secrets: Iterable[str]):
        patterns: set[str] = set()
        self._literals: list[str] = []
        for secret in secrets:
            if not isinstance(secret, str) or len(secret) < 3:
                continue  # too short to mask without mangling ordinary text
            patterns.add("".join(self._char_pattern(ch) for ch in secret))
            self._literals.append(secret)
        self._escaped_literals = [_json_for_scan(secret)[1:-1] for secret in self._literals]
        self._plus_for_space = any(" " in secret for secret in self._literals)
        self._regex = re.compile("|".join(sorted(patterns, key=len, reverse=True))) if patterns else None

    @staticmethod
    def _char_pattern(ch: str) -> str:
        encoded = "".join(f"%{byte:02X}" for byte in ch.encode("utf-8"))
        options = [re.escape(ch), f"(?i:{re.escape(encoded)})"]
        if ch == " ":
            options.append(r"\+")
        return f"(?:{'|'.join(options)})"

    @property
    def active(self) -> bool:
        """False when there is no secret to mask (the plugin has no credentials)."""
        return self._regex is not None

    def text(self, value: str) -> str:
        if self._regex is None:
            return value
        # Without an encoded form only the secret as written can occur: a substring test rules most text
        # out (every field of every imported movement passes here, and the regular expression is slow).
        if not self._encoded(value) and not any(secret in value for secret in self._literals):
            return value
        return self._regex.sub(MASK, value)

    def data(self, value: Any) -> Any:
        if self._regex is None:
            return value  # no secrets to mask: nothing to walk
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, (dict, list, tuple)) and not self._may_hold_secret(value):
            return value
        return self._walk(value)

    def _may_hold_secret(self, value: dict | list | tuple) -> bool:
        """One substring test over the whole document instead of one per value (a bank movement has
        dozens). JSON escapes character by character, so a secret inside reads as its own escaped form."""
        try:
            blob = _json_for_scan(value)
        except (TypeError, ValueError):  # not JSON-like (e.g. a cycle): walk it
            return True
        return self._encoded(blob) or any(secret in blob for secret in self._escaped_literals)

    def _encoded(self, text: str) -> bool:
        """Whether ``text`` could hold a secret in encoded form (percent-encoded, or "+" for a space)."""
        return "%" in text or (self._plus_for_space and "+" in text)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self._walk(k): self._walk(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._walk(v) for v in value]
        return value
