"""Certificate PDFs drawn from a snapshot of facts, with no database in sight.

The facts are the JSON-serialisable dict stored when a certificate is issued (see
:func:`render`), so that a certificate drawn again years later says what it said on the
day. Course and programme certificates are one A4 landscape page; a transcript of
continuing-education hours is A4 portrait and its table of courses flows onto as many
pages as it needs.

Text is drawn straight onto a reportlab canvas rather than through platypus: each run
of characters must be set in the first font of the chain that has them, Chinese lines
break between any two characters, and a plain canvas keeps a course's worth of
certificates quick to draw.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, BinaryIO

import PIL.Image
import segno
from pypdf import PdfWriter
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from courses.services.certificates import fonts

KINDS = ("course", "programme", "transcript")
INK = Color(0.13, 0.13, 0.13)
ACCENT = Color(0.62, 0.1, 0.1)
MUTED = Color(0.4, 0.4, 0.4)
RULE = Color(0.75, 0.62, 0.35)
SEAL_OPACITY = 0.85
#: The seal's largest side in pixels: 118 points wide, about 400 dpi.
SEAL_PIXELS = 650
QR_MASK = 2


def render(
    facts: Mapping[str, Any],
    out: BinaryIO,
    *,
    seal: bytes | None = None,
    signatory: str | None = None,
) -> None:
    """Write the PDF of the certificate ``facts`` describe to ``out``.

    ``seal`` is the academy's seal image (PNG or JPEG bytes), printed over the academy
    name; ``signatory`` (e.g. "院长 张三") is printed above it. Raises
    :class:`fonts.NoCJKFont` when no Chinese font is installed and ``ValueError`` for an
    unknown kind or a seal that is not an image.
    """
    kind = facts["kind"]
    if kind not in KINDS:
        raise ValueError(f"unknown certificate kind {kind!r}")
    seal_image = _seal_image(seal) if seal else None
    size = A4 if kind == "transcript" else landscape(A4)
    chain = fonts.chain()
    pen = Pen(Canvas(out, pagesize=size, initialFontName=chain.main_name), chain, size)
    pen.canvas.setTitle(f"{facts['title']} {facts['serial']}")
    pen.canvas.setAuthor(facts["academy_name"])
    pen.canvas.setSubject(facts["holder_name"])
    if kind == "transcript":
        _draw_transcript(pen, facts, seal_image, signatory)
    else:
        _draw_certificate(pen, facts, seal_image, signatory)
    pen.canvas.save()
    fonts.warn_missing(pen.missing, f"certificate {facts['serial']}")


def merge(sources: Iterable[BinaryIO | bytes], out: BinaryIO) -> int:
    """Write the pages of ``sources`` (PDF files or bytes), in order, as one PDF to
    ``out``, for printing a course's certificates in one go. Returns the page count."""
    writer = PdfWriter()
    for source in sources:
        writer.append(io.BytesIO(source) if isinstance(source, bytes) else source)
    writer.write(out)
    return len(writer.pages)


def sentence(facts: Mapping[str, Any]) -> str:
    """The body of the certificate: what the holder did, in one Chinese sentence."""
    name = facts["holder_name"]
    if facts["kind"] == "transcript":
        who = name + (
            f"（{facts['qualification_label']}）" if facts.get("qualification_label") else ""
        )
        period = f"于 {facts['period_label']} " if facts.get("period_label") else ""
        required = f"（要求 {facts['required_hours']} 课时）" if facts.get("required_hours") else ""
        return (
            f"兹证明 {who} {period}参加本院继续教育培训，"
            f"累计取得 {hours(facts['credited_hours'])} 课时{required}，明细如下："
        )
    span = date_span(facts.get("first_date"), facts.get("last_date"))
    when = f"于 {span}" if span else ""
    title = facts.get("course_title") or facts.get("programme_title") or ""
    done = (
        f"参加「{title}」培训" if facts["kind"] == "course" else f"完成「{title}」培育计划全部课程"
    )
    return f"学员 {name} {when}{done}，共 {hours(facts['class_hours'])} 课时，考核合格，特发此证。"


def chinese_date(iso: str) -> str:
    """``2025-03-01`` as ``2025年3月1日``."""
    day = date.fromisoformat(iso)
    return f"{day.year}年{day.month}月{day.day}日"


def date_span(first: str | None, last: str | None) -> str:
    """The days something ran, as a certificate says them; the year only once when both
    ends share it (``2025年3月1日至3月15日``); empty when neither day is known."""
    first, last = first or last, last or first
    if first is None or last is None:
        return ""
    if first == last:
        return chinese_date(first)
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    if start.year == end.year:
        return f"{chinese_date(first)}至{end.month}月{end.day}日"
    return f"{chinese_date(first)}至{chinese_date(last)}"


def hours(value: str) -> str:
    """A stored decimal of hours without its trailing zeros: ``12.50`` as ``12.5``."""
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


class Pen:
    """A canvas that sets text in the font chain and notes what no font could draw."""

    def __init__(self, canvas: Canvas, chain: fonts.FontChain, size: tuple[float, float]) -> None:
        self.canvas = canvas
        self.chain = chain
        self.missing: set[str] = set()
        self.width, self.height = size

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        align: str = "left",
        colour: Color = INK,
        spacing: float = 0,
    ) -> None:
        """Draw one line; ``x`` is its left edge, centre or right edge as ``align`` says."""
        if not text:
            return
        width = self.chain.width(text, size) + spacing * (len(text) - 1)
        x -= {"left": 0, "centre": width / 2, "right": width}[align]
        line = self.canvas.beginText(x, y)
        line.setFillColor(colour)
        line.setCharSpace(spacing)
        for font_name, run in self.chain.runs(text, self.missing):
            line.setFont(font_name, size)
            line.textOut(run)
        self.canvas.drawText(line)

    def paragraph(
        self, x: float, y: float, text: str, size: float, width: float, *, indent: float = 0
    ) -> float:
        """Draw ``text`` wrapped to ``width`` from baseline ``y``; returns the next baseline."""
        leading = size * 1.7
        for number, line in enumerate(self.chain.wrap(text, size, width, indent)):
            self.text(x + (indent if number == 0 else 0), y, line, size)
            y -= leading
        return y

    def qr(self, url: str, x: float, y: float, size: float) -> None:
        """A QR code of ``url`` as filled rectangles (one per run of dark modules in a row),
        crisp at any zoom, with its caption below; (x, y) is the lower-left corner."""
        matrix = _qr_matrix(url)
        module = size / len(matrix)
        path = self.canvas.beginPath()
        for row_number, row in enumerate(matrix):
            top = y + size - (row_number + 1) * module
            column = 0
            while column < len(row):
                if row[column]:
                    start = column
                    while column < len(row) and row[column]:
                        column += 1
                    path.rect(x + start * module, top, (column - start) * module, module)
                column += 1
        self.canvas.setFillColor(INK)
        self.canvas.drawPath(path, stroke=0, fill=1)
        self.text(x + size / 2, y - 12, "扫码验证", 8, align="centre", colour=MUTED)

    def seal(self, image: ImageReader, centre_x: float, centre_y: float, size: float) -> None:
        """The seal image, slightly transparent as a stamp's ink is."""
        self.canvas.saveState()
        self.canvas.setFillAlpha(SEAL_OPACITY)
        self.canvas.drawImage(
            image,
            centre_x - size / 2,
            centre_y - size / 2,
            size,
            size,
            mask="auto",
            preserveAspectRatio=True,
            anchor="c",
        )
        self.canvas.restoreState()


def _qr_matrix(url: str) -> tuple[bytearray, ...]:
    """The QR code's modules (medium error correction, boosted when room allows).

    The mask is fixed rather than scored: segno's pure-Python scoring of the eight masks
    took a third of a certificate's drawing time, and every mask yields a valid code; the
    tests decode the result from a rendered page.
    """
    return segno.make_qr(url, error="m", mask=QR_MASK).matrix


@functools.lru_cache(maxsize=8)
def _seal_image(seal: bytes) -> ImageReader:
    """The decoded seal, kept: a course's certificates all carry the same one. An upload
    larger than print needs is scaled down once here, since every PDF compresses its
    pixels afresh."""
    try:
        image = PIL.Image.open(io.BytesIO(seal))
        image.load()
    except (OSError, PIL.Image.DecompressionBombError) as error:
        raise ValueError("the seal is not a PNG or JPEG image") from error
    image.thumbnail((SEAL_PIXELS, SEAL_PIXELS))
    return ImageReader(image)


def _signature(
    pen: Pen,
    facts: Mapping[str, Any],
    centre_x: float,
    y: float,
    seal: ImageReader | None,
    signatory: str | None,
) -> None:
    """The academy's name and the date of issue, with the signatory above and the seal
    over them when there are such; ``y`` is the baseline of the academy's name. The seal
    goes down first, so that the words stay legible through it."""
    if seal is not None:
        pen.seal(seal, centre_x, y - 2, 118)
    if signatory:
        pen.text(centre_x, y + 34, signatory, 14, align="centre")
    pen.text(centre_x, y, facts["academy_name"], 16, align="centre")
    pen.text(centre_x, y - 24, chinese_date(facts["issued_on"]), 14, align="centre")


def _frame(pen: Pen) -> None:
    canvas = pen.canvas
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(3)
    canvas.rect(24, 24, pen.width - 48, pen.height - 48)
    canvas.setLineWidth(0.8)
    canvas.rect(32, 32, pen.width - 64, pen.height - 64)


def _draw_certificate(
    pen: Pen, facts: Mapping[str, Any], seal: ImageReader | None, signatory: str | None
) -> None:
    """One landscape page: title, sentence, what was attended, by whom taught, and the
    serial, date, signature and QR code along the foot."""
    _frame(pen)
    centre, left, width = pen.width / 2, 110, pen.width - 220
    pen.text(
        centre, pen.height - 125, facts["title"], 40, align="centre", colour=ACCENT, spacing=12
    )
    y = pen.paragraph(left, pen.height - 205, sentence(facts), 19, width, indent=38)
    y -= 8
    for label, items, counter in _details(facts):
        for line in _listing(pen, label, items, counter, width):
            pen.text(left, y, line, 13, colour=MUTED)
            y -= 22
    pen.qr(facts["verify_url"], 78, 70, 84)
    pen.text(180, 112, f"证书编号：{facts['serial']}", 12)
    pen.text(180, 88, f"发证日期：{chinese_date(facts['issued_on'])}", 12)
    _signature(pen, facts, pen.width - 200, 112, seal, signatory)


def _details(facts: Mapping[str, Any]) -> list[tuple[str, list[str], str]]:
    """The lines under the sentence, as (label, items, counter) for :func:`_listing`: the
    course or programme, the programme's courses, the trainers."""
    title = facts.get("course_title") or facts.get("programme_title") or ""
    if facts["kind"] == "course":
        lines = [("培训课程：", [title], "")]
        if facts.get("programme_title"):
            lines.append(("所属培育计划：", [facts["programme_title"]], ""))
    else:
        courses = [f"「{course['title']}」" for course in facts.get("courses") or ()]
        lines = [("培育计划：", [title], ""), ("完成课程：", courses, "门课程")]
    lines.append(("授课老师：", list(facts.get("trainers") or ()), "位"))
    return [(label, items, counter) for label, items, counter in lines if items]


def _listing(pen: Pen, label: str, items: list[str], counter: str, width: float) -> list[str]:
    """``label`` and ``items`` (joined by 、) in at most two lines of ``width``; when they
    do not all fit, as many as do, followed by the whole count (" 等 14 门课程")."""
    for shown in range(len(items), 0, -1):
        rest = f" 等 {len(items)} {counter}" if shown < len(items) else ""
        lines = pen.chain.wrap(label + "、".join(items[:shown]) + rest, 13, width)
        if len(lines) <= 2:
            return lines
    return lines[:2]


#: The transcript's table: heading and width of each column, 475 points in all.
_COLUMNS = (("序号", 32.0), ("课程", 243.0), ("日期", 146.0), ("课时", 54.0))
_TABLE_SIZE = 10.5
_TABLE_LEADING = 15.0
_FOOT = 64.0


def _draw_transcript(
    pen: Pen, facts: Mapping[str, Any], seal: ImageReader | None, signatory: str | None
) -> None:
    """Portrait pages: title, QR code, sentence, then the table of courses, continued on
    further pages (heading repeated) as long as it runs, and the signature after it."""
    left = (pen.width - sum(width for _, width in _COLUMNS)) / 2
    top = pen.height - 80
    pen.text(pen.width / 2, top, facts["title"], 26, align="centre", colour=ACCENT, spacing=6)
    pen.qr(facts["verify_url"], pen.width - left - 60, top - 52, 60)
    y = pen.paragraph(left, top - 90, sentence(facts), 13, pen.width - 2 * left, indent=26)
    y = _table_heading(pen, left, y + 4)
    for number, course in enumerate(facts.get("courses") or (), start=1):
        cells = (
            str(number),
            course["title"],
            date_span(course.get("first_date"), course.get("last_date")),
            hours(course["class_hours"]),
        )
        lines = [
            pen.chain.wrap(cell, _TABLE_SIZE, width - 8) or [""]
            for cell, (_, width) in zip(cells, _COLUMNS, strict=True)
        ]
        height = max(map(len, lines)) * _TABLE_LEADING + 8
        if y - height < _FOOT:
            y = _table_heading(pen, left, _next_page(pen, facts))
        _table_row(pen, left, y, lines, height)
        y -= height
    if y - 150 < _FOOT:
        y = _next_page(pen, facts)
    pen.text(left, y - 50, f"证书编号：{facts['serial']}", 11)
    pen.text(left, y - 72, f"发证日期：{chinese_date(facts['issued_on'])}", 11)
    _signature(pen, facts, pen.width - left - 90, y - 60, seal, signatory)
    _page_foot(pen, facts)


def _table_heading(pen: Pen, left: float, y: float) -> float:
    """The table's heading row with its top at ``y``; returns the top of the first row."""
    height = _TABLE_LEADING + 8
    pen.canvas.setFillColor(Color(0.96, 0.93, 0.88))
    pen.canvas.rect(left, y - height, sum(width for _, width in _COLUMNS), height, 0, 1)
    x = left
    for heading, width in _COLUMNS:
        pen.text(x + 4, y - _TABLE_LEADING, heading, _TABLE_SIZE, colour=ACCENT)
        x += width
    return y - height


def _table_row(pen: Pen, left: float, y: float, lines: list[list[str]], height: float) -> None:
    """One course's row with its top at ``y``, its cells already wrapped into lines."""
    x = left
    for cell, (_, width) in zip(lines, _COLUMNS, strict=True):
        for number, line in enumerate(cell):
            pen.text(x + 4, y - (number + 1) * _TABLE_LEADING, line, _TABLE_SIZE)
        x += width
    pen.canvas.setStrokeColor(RULE)
    pen.canvas.setLineWidth(0.5)
    pen.canvas.line(left, y - height, x, y - height)


def _next_page(pen: Pen, facts: Mapping[str, Any]) -> float:
    """Finish this page and start the next with a short heading; returns where the
    content may begin."""
    _page_foot(pen, facts)
    pen.canvas.showPage()
    top = pen.height - 56
    pen.text(
        pen.width / 2,
        top,
        f"{facts['title']}（续）· {facts['holder_name']}",
        11,
        align="centre",
        colour=MUTED,
    )
    return top - 18


def _page_foot(pen: Pen, facts: Mapping[str, Any]) -> None:
    page = pen.canvas.getPageNumber()
    foot = f"证书编号：{facts['serial']}　第 {page} 页"
    pen.text(pen.width / 2, 36, foot, 9, align="centre", colour=MUTED)
