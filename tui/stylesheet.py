"""Textual's Stylesheet, keeping what it parsed when it parses again.

Textual re-parses every CSS source from scratch on each ``refresh_css`` (a fresh Stylesheet, an empty
cache), and showing the first section of a MODES app calls it twice: with our app.tcss that was three
full parses, about 35 ms of the start-up to the dashboard (issue 16). The rules of a source depend only
on its text, where it was read from, its scope and the CSS variables (the theme), so they are kept under
all of those and a re-parse with the same theme reuses them; a theme switch parses afresh. Textual is
pinned in pyproject.toml; ``reparse`` below is Textual 8.2.8's with the cache handed on.
"""

from __future__ import annotations

from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet


class KeptStylesheet(Stylesheet):
    def __init__(self, *, variables: dict[str, str] | None = None, kept: dict | None = None) -> None:
        super().__init__(variables=variables)
        self._kept: dict[tuple, list[RuleSet]] = {} if kept is None else kept

    def _parse_rules(
        self,
        css: str,
        read_from: tuple[str, str],
        is_default_rules: bool = False,
        tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        key = (css, read_from, is_default_rules, tie_breaker, scope, tuple(sorted(self._variables.items())))
        rules = self._kept.get(key)
        if rules is None:
            rules = self._kept[key] = super()._parse_rules(css, read_from, is_default_rules, tie_breaker, scope)
        return rules

    def reparse(self) -> None:
        # As Textual's: parse into a fresh sheet so an error leaves this one whole; here the fresh sheet
        # shares what was kept.
        stylesheet = KeptStylesheet(variables=self._variables, kept=self._kept)
        for read_from, (css, is_defaults, tie_breaker, scope) in self.source.items():
            stylesheet.add_source(
                css, read_from=read_from, is_default_css=is_defaults, tie_breaker=tie_breaker, scope=scope
            )
        try:
            stylesheet.parse()
        except Exception:
            self._invalid_css.update(stylesheet._invalid_css)
            raise
        else:
            self._rules = stylesheet.rules
            self._rules_map = None
            self.source = stylesheet.source
            self._require_parse = False
