"""The ``Content-Disposition`` of every file the site sends.

Each download names its file twice (RFC 6266 with RFC 5987's extended parameter)::

    attachment; filename="download.csv"; filename*=UTF-8''%E8%8A%B1%E5%90%8D%E5%86%8C.csv

Browsers use the UTF-8 name (``filename*``), so a course title in Chinese reaches the
saved file intact; older clients fall back to the plain ``filename``, which is kept to
printable ASCII. A header must be ASCII to be sent at all: a Chinese ``filename`` in
quotes makes the server fail while writing the response.

Werkzeug's ``send_file(download_name=...)`` writes both parameters only for names
that are not ASCII, and derives the plain name by decomposing characters and dropping
what is left (so ``（`` becomes ``(`` and a name in Chinese becomes an empty one). The
views therefore call ``send_file`` without a name and set the header from here.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

#: Characters that file systems refuse or that name folders; replaced by "_".
_UNSAFE = re.compile(r'[<>:"/\\|?*]')
#: RFC 5987 attr-char beyond letters, digits and "-._~" (which ``quote`` always keeps).
_ATTR_CHARS = "!#$&+^`|"
#: Runs of characters the plain ``filename`` cannot carry; "%" could read as an escape
#: (RFC 6266, 4.3) and ";" splits naive parsers.
_NOT_PLAIN = re.compile(r"[^\x20-\x7e]+|[%;]")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,10}")
#: Most file systems allow 255 bytes per name.
MAX_NAME_BYTES = 255
DEFAULT_STEM = "download"


def content_disposition(filename: str, inline: bool = False) -> str:
    """The header value for sending ``filename``, as an attachment or ``inline``."""
    name = download_name(filename)
    encoded = quote(name, safe=_ATTR_CHARS)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name(name)}\"; filename*=UTF-8''{encoded}"


def download_name(filename: str) -> str:
    """``filename`` fit to be saved: no control or invisible format characters, "_" for
    characters file systems refuse, no leading dots, at most ``MAX_NAME_BYTES`` in
    UTF-8 with its extension kept; never empty."""
    name = unicodedata.normalize("NFC", str(filename))
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    stem, extension = _split(name)
    if not stem.strip(" ._-"):
        stem = DEFAULT_STEM
    return _truncated(stem, extension)


def ascii_name(name: str) -> str:
    """The plain-ASCII stand-in for a cleaned ``name``: each run of other characters
    becomes "_", the extension stays; a name with no ASCII letter or digit left is
    ``download`` with its extension. Nothing is transliterated."""
    stem, extension = _split(name)
    stem = _NOT_PLAIN.sub("_", stem)
    stem = re.sub(r"_{2,}", "_", stem).strip(" ._-")
    if not any(c.isalnum() for c in stem):
        stem = DEFAULT_STEM
    return _truncated(stem, extension)


def _split(name: str) -> tuple[str, str]:
    """The name and its extension (without the dot; "" when there is none)."""
    stem, dot, extension = name.rpartition(".")
    if dot and stem and _EXTENSION.fullmatch(extension):
        return stem, extension
    return name, ""


def _truncated(stem: str, extension: str) -> str:
    suffix = f".{extension}" if extension else ""
    budget = MAX_NAME_BYTES - len(suffix)
    if len(stem.encode()) > budget:
        stem = stem.encode()[:budget].decode(errors="ignore").rstrip()
    return stem + suffix
