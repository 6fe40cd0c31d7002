"""Fonts for invoice PDFs: Open Sans Regular and Bold from the ``ttf-opensans`` package (Apache 2.0).

fpdf2 parses every font it is given and subsets it again for every document,
which is most of the cost of a small PDF. So once per process we cut Open Sans
down to the Latin scripts (Basic Latin, Latin-1, Latin Extended-A and B, the
common punctuation and currency signs, no hinting) into a private temporary
directory and give fpdf2 those small files; an invoice that uses a character
outside that set is rendered with the full fonts instead.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from fontTools import subset as ft_subset
from fontTools.ttLib import TTFont
from fpdf import FPDF

FAMILY = "OpenSans"


# Unicode ranges kept in the per-process Latin cut of Open Sans.
LATIN_RANGES = (
    (0x0020, 0x007E),
    (0x00A0, 0x024F),  # ASCII, Latin-1, Latin Extended-A/B
    (0x02C6, 0x02DD),  # spacing accents (ˇ ˘ ˙ ˝)
    (0x2000, 0x206F),  # general punctuation: dashes, quotes, bullets, (no-break) spaces
    (0x20A0, 0x20CF),  # currency signs (€ and friends)
    (0x2100, 0x2122),  # № ™
    (0x2190, 0x2193),
    (0x2212, 0x2212),  # arrows, minus sign
)


@dataclass(frozen=True)
class FontSet:
    regular: Path
    bold: Path
    codepoints: frozenset[int]

    def covers(self, text: str) -> bool:
        cps = self.codepoints
        return all(ord(ch) in cps for ch in text if ch not in "\n\r\t")


def _package_fonts() -> tuple[Path, Path]:
    from ttf_opensans import OPENSANS_BOLD, OPENSANS_REGULAR

    return Path(OPENSANS_REGULAR.path), Path(OPENSANS_BOLD.path)


def _cmap(path: Path) -> frozenset[int]:
    font = TTFont(str(path), lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


@lru_cache(maxsize=1)
def full_fonts() -> FontSet:
    regular, bold = _package_fonts()
    return FontSet(regular, bold, _cmap(regular) & _cmap(bold))


_font_dir: Path | None = None


def _private_font_dir() -> Path:
    global _font_dir
    if _font_dir is None:
        _font_dir = Path(tempfile.mkdtemp(prefix="fakturka-fonts-"))
        atexit.register(shutil.rmtree, _font_dir, True)
    return _font_dir


def _cut_font(source: Path, target: Path, unicodes: list[int]) -> None:
    options = ft_subset.Options()
    options.hinting = False
    options.layout_features = []
    options.notdef_outline = True
    options.recommended_glyphs = True
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "FFTM", "hdmx", "meta", "DSIG"]
    font = TTFont(str(source))
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    font.save(str(target))
    font.close()


_font_lock = threading.Lock()
_latin: FontSet | None = None


def latin_fonts() -> FontSet:
    """Open Sans cut to the Latin scripts, built once per process (about 20 kB per style).

    Thread-safe: a batch export runs in a TUI worker thread.
    """
    global _latin
    if _latin is not None:
        return _latin
    with _font_lock:
        if _latin is None:
            regular, bold = _package_fonts()
            unicodes = [cp for lo, hi in LATIN_RANGES for cp in range(lo, hi + 1)]
            folder = _private_font_dir()
            out_regular, out_bold = folder / "OpenSans-Regular-latin.ttf", folder / "OpenSans-Bold-latin.ttf"
            _cut_font(regular, out_regular, unicodes)
            _cut_font(bold, out_bold, unicodes)
            _latin = FontSet(out_regular, out_bold, _cmap(out_regular) & _cmap(out_bold))
    return _latin


def skip_bbox_recalc(pdf: FPDF) -> None:
    """Let fontTools copy glyph outlines verbatim when fpdf2 subsets our Latin cut.

    fontTools recomputes every kept glyph's bounding box when it saves a font
    (``recalcBBoxes``), which means decoding and re-encoding each outline: the
    largest single cost of a small PDF. The Latin cut was saved by fontTools
    with exact boxes and subsetting does not change outlines, so the boxes are
    already right.
    """
    for font in pdf.fonts.values():
        ttfont = getattr(font, "ttfont", None)
        if ttfont is not None:
            ttfont.recalcBBoxes = False


def fonts_for(texts: Iterable[str]) -> FontSet:
    """The small Latin fonts when they cover every character, else the full fonts."""
    latin = latin_fonts()
    return latin if all(latin.covers(text) for text in texts) else full_fonts()
