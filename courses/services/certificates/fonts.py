"""The Chinese fonts a certificate is drawn with, embedded as subsets.

A certificate must read the same on a machine that has no Chinese font, so every glyph
it uses is embedded. reportlab embeds subsets of TrueType-outline fonts only: CFF
(PostScript-outline) OpenType such as Noto CJK's ``.otf``/``.ttc`` is refused, which is
why the defaults are Debian's WenQuanYi Zen Hei (GB 18030's BMP, ``fonts-wqy-zenhei``)
followed by HanaMin A and B (CJK Extension A and B, including 𠮷 U+20BB7,
``fonts-hanazono``).

No single font has every name a learner may bring, so the fonts form a chain: each
character is drawn with the first font that has it. The main font is loaded on first
use; the fallbacks (large files, rarely needed) only when a character is missing from
the fonts before them. Fonts stay loaded for the life of the process.

``CERTIFICATE_FONTS`` in the Flask config (a list of paths) replaces the defaults; of a
font collection (``.ttc``) the first face is used.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence

from flask import current_app, has_app_context
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFDocument
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger(__name__)

DEFAULT_FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
    "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf",
)
INSTALL_HINT = "apt-get install fonts-wqy-zenhei fonts-hanazono"
#: A character every font fit to be the main one must have (证, as in 证书).
_PROBE = 0x8BC1
#: A ToUnicode entry for a character beyond the BMP, as reportlab writes it: the code
#: point in five or six hex digits, which PDF readers reject (it must be UTF-16BE).
_WIDE_ENTRY = re.compile(r"<([0-9A-F]{2})> <([0-9A-F]{5,6})>")
#: A unit a line is never broken inside: opening brackets stay with what follows them,
#: closing punctuation with what precedes it, and a Latin word or number stays whole.
_UNIT = re.compile(
    r"[「『《（(“‘]*(?:[0-9A-Za-z.\-/:_+%]+|\S|\s)[，。、；：！？）」』》”’…,.;:!?)]*"
)


class NoCJKFont(RuntimeError):
    """No usable Chinese TrueType font is installed, so no certificate can be drawn."""

    def __init__(self, paths: Sequence[str]) -> None:
        super().__init__(
            "No usable Chinese TrueType font for certificates (tried: "
            f"{', '.join(paths) or 'none'}). Install one: {INSTALL_HINT}; or set "
            "CERTIFICATE_FONTS (ACADEMY_CERTIFICATE_FONTS) to TrueType-outline .ttf/.ttc "
            "files. CFF-outline OpenType fonts such as Noto CJK cannot be embedded."
        )


class _Font(TTFont):
    """A reportlab TrueType font whose text can be copied out of the PDF beyond the BMP.

    reportlab draws characters such as 𠮷 (U+20BB7) correctly, but writes them into the
    ToUnicode map as a bare code point, so a reader extracts nothing for them. After
    reportlab has built its objects, those entries are rewritten as UTF-16 surrogate pairs.
    """

    def addObjects(self, doc: PDFDocument) -> None:  # reportlab's name
        super().addObjects(doc)
        suffix = "+" + (self.face.name + self.face.subfontNameX).decode("latin-1")
        for name, stream in doc.idToObject.items():
            if name.startswith("toUnicodeCMap:") and name.endswith(suffix):
                stream.content = _WIDE_ENTRY.sub(_utf16_entry, stream.content)


def _utf16_entry(match: re.Match[str]) -> str:
    utf16 = chr(int(match.group(2), 16)).encode("utf-16-be").hex().upper()
    return f"<{match.group(1)}> <{utf16}>"


@functools.cache
def _load(path: str) -> _Font | None:
    """The font at ``path``, registered with reportlab; ``None`` (logged) if unusable."""
    if not os.path.isfile(path):
        return None
    try:
        font = _Font(f"Academy:{path}", path)
    except (TTFError, OSError) as error:
        logger.warning("certificate font %s is not usable: %s", path, error)
        return None
    pdfmetrics.registerFont(font)
    return font


class FontChain:
    """The fonts in the order they are tried: which of them draws each character, how
    wide a text is set in them, and where its lines break."""

    def __init__(self, main: _Font, fallbacks: Sequence[str]) -> None:
        self.main = main
        self._paths = tuple(fallbacks)
        self._fonts: list[_Font | None] = [main]
        self._lock = threading.Lock()
        #: character → (index of its font in the chain or -1, advance width at size 1)
        self._chosen: dict[str, tuple[int, float]] = {}

    @property
    def main_name(self) -> str:
        return self.main.fontName

    def _font(self, index: int) -> _Font | None:
        """The ``index``-th font, loading the fallbacks up to it on first need."""
        with self._lock:
            while len(self._fonts) <= index:
                self._fonts.append(_load(self._paths[len(self._fonts) - 1]))
        return self._fonts[index]

    def _choose(self, char: str) -> tuple[int, float]:
        code = ord(char)
        for index in range(len(self._paths) + 1):
            font = self._font(index)
            if font is not None and code in font.face.charToGlyph:
                break
        else:
            index, font = -1, self.main
        chosen = self._chosen[char] = (index, font.face.getCharWidth(code) / 1000)
        return chosen

    def runs(self, text: str, missing: set[str] | None = None) -> list[tuple[str, str]]:
        """``text`` cut into (font name, run) pieces, each drawn with one font.

        A character no font has is drawn with the main font (its empty box) and added to
        ``missing``, so that the caller can say so once for the whole document.
        """
        pieces: list[tuple[str, str]] = []
        current, start = None, 0
        for position, char in enumerate(text):
            index = (self._chosen.get(char) or self._choose(char))[0]
            if index < 0:
                if missing is not None and not char.isspace():
                    missing.add(char)
                index = 0
            if index != current:
                if current is not None:
                    pieces.append((self._name(current), text[start:position]))
                current, start = index, position
        if current is not None:
            pieces.append((self._name(current), text[start:]))
        return pieces

    def _name(self, index: int) -> str:
        font = self._fonts[index]
        assert font is not None  # a chosen index always names a loaded font
        return font.fontName

    def wrap(self, text: str, size: float, width: float, indent: float = 0) -> list[str]:
        """``text`` broken into lines no wider than ``width`` (the first ``indent`` less).

        Chinese breaks between any two characters, so the unit of breaking is a character
        (with the punctuation that must stay beside it), not a space-separated word.
        """
        lines: list[str] = []
        line, used, room = "", 0.0, width - indent
        for unit in _UNIT.findall(text):
            unit_width = self.width(unit, size)
            if line and used + unit_width > room:
                lines.append(line.rstrip())
                line, used, room = "", 0.0, width
                unit = unit.lstrip()
                unit_width = self.width(unit, size)
            line += unit
            used += unit_width
        if line.strip():
            lines.append(line.rstrip())
        return lines

    def width(self, text: str, size: float) -> float:
        """The advance width of ``text`` at ``size`` points, each character in its font."""
        chosen = self._chosen
        return size * sum((chosen.get(char) or self._choose(char))[1] for char in text)


def font_paths() -> tuple[str, ...]:
    """The configured font files in order of preference (``CERTIFICATE_FONTS``)."""
    configured = current_app.config.get("CERTIFICATE_FONTS") if has_app_context() else None
    if isinstance(configured, str):
        configured = configured.split(":")
    return tuple(path for path in (configured or DEFAULT_FONT_PATHS) if path)


def chain() -> FontChain:
    """The font chain for the configured paths, built once per process.

    Raises :class:`NoCJKFont` when none of the paths is a loadable TrueType font with
    Chinese characters: empty boxes on a certificate are worse than no certificate.
    """
    return _chain(font_paths())


@functools.cache
def _chain(paths: tuple[str, ...]) -> FontChain:
    for position, path in enumerate(paths):
        font = _load(path)
        if font is not None and _PROBE in font.face.charToGlyph:
            return FontChain(font, paths[:position] + paths[position + 1 :])
    raise NoCJKFont(paths)


def warn_missing(missing: Iterable[str], document: str) -> None:
    """Log, once for ``document``, the characters that no installed font has."""
    chars = sorted(set(missing))
    if chars:
        listed = ", ".join(f"U+{ord(char):04X} '{char}'" for char in chars)
        logger.warning(
            "no installed font has %s: drawn as empty boxes on %s; install a font that "
            "has them and add it to CERTIFICATE_FONTS",
            listed,
            document,
        )
