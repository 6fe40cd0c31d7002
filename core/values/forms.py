"""Collecting per-field validation errors, so a form can show them all at once."""

from __future__ import annotations

from typing import Any, Callable

from core.values.messages import message_of
from core.values.validation import ValidationError


class FormErrors(ValidationError):
    """Several fields are wrong: ``errors`` maps field name -> sentence."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(" ".join(errors.values()), next(iter(errors), None))


class Checker:
    """Run checks on submitted values, remembering every failure by field."""

    def __init__(self, values: dict[str, Any]):
        self.values = values
        self.cleaned: dict[str, Any] = {}
        self.errors: dict[str, str] = {}

    def check(self, name: str, check: Callable[..., Any]) -> None:
        if name not in self.values:
            return
        try:
            self.cleaned[name] = check(self.values[name])
        except ValidationError as exc:  # its Message, so a face can say it in its language
            self.errors[name] = message_of(exc)
        except ValueError as exc:  # MoneyError and friends are ValueErrors with sentences
            self.errors[name] = message_of(exc)

    def result(self) -> dict[str, Any]:
        if self.errors:
            raise FormErrors(self.errors)
        return self.cleaned
