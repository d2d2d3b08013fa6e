"""Certificate drawing: ours against bare reportlab, in one process.

    python bench/certificate_baseline.py [--count 300] [--rounds 3]

Ours: ``courses.services.certificates.pdf.render`` of a course certificate (font chain,
CJK wrapping, frame, details, QR code, signature block; no seal). Baseline:
:func:`draw_bare_certificate`, the same words on the same landscape page with one
embedded subset CJK TrueType font, lines placed by hand (no font chain, no wrapping)
and the QR code from segno's matrix drawn as rectangles. Both draw into memory; fonts
are loaded before timing. Each round draws ``--count`` of each, ours first; the figures
are the best round of each, in certificates per second on one core, and their ratio.
"""

from __future__ import annotations

import argparse
import functools
import io
import time
from typing import Any, BinaryIO

import segno
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from courses.services.certificates import fonts, pdf

FACTS: dict[str, Any] = {
    "kind": "course",
    "serial": "GC-2025-000123-7",
    "holder_name": "周小健",
    "title": "结业证书",
    "course_title": "社区营造实务",
    "programme_title": "社区治理人才培育计划",
    "first_date": "2025-03-01",
    "last_date": "2025-03-15",
    "class_hours": "12",
    "trainers": ["李明", "王芳"],
    "academy_name": "桂城街道社会工作学院",
    "issued_on": "2025-03-16",
    "verify_url": "https://academy.example.cn/verify/GC-2025-000123-7",
}


@functools.cache
def _bare_font(font_path: str) -> str:
    pdfmetrics.registerFont(TTFont("BareCJK", font_path))
    return "BareCJK"


def draw_bare_certificate(
    out: BinaryIO, name: str, title: str, serial: str, url: str, font_path: str
) -> None:
    """The course certificate's content drawn with nothing but reportlab and segno."""
    font = _bare_font(font_path)
    width, height = landscape(A4)
    canvas = Canvas(out, pagesize=(width, height), initialFontName=font)
    canvas.rect(24, 24, width - 48, height - 48)
    canvas.setFont(font, 40)
    canvas.drawCentredString(width / 2, height - 125, title)
    canvas.setFont(font, 19)
    canvas.drawString(
        148, height - 205, f"学员 {name} 于 2025年3月1日至3月15日参加「社区营造实务」培"
    )
    canvas.drawString(110, height - 237, "训，共 12 课时，考核合格，特发此证。")
    canvas.setFont(font, 13)
    canvas.drawString(110, height - 275, "培训课程：社区营造实务")
    canvas.drawString(110, height - 297, "所属培育计划：社区治理人才培育计划")
    canvas.drawString(110, height - 319, "授课老师：李明、王芳")
    canvas.setFont(font, 12)
    canvas.drawString(180, 112, f"证书编号：{serial}")
    canvas.drawString(180, 88, "发证日期：2025年3月16日")
    canvas.setFont(font, 16)
    canvas.drawCentredString(width - 200, 112, "桂城街道社会工作学院")
    canvas.setFont(font, 14)
    canvas.drawCentredString(width - 200, 88, "2025年3月16日")
    matrix = segno.make_qr(url, error="m", mask=pdf.QR_MASK).matrix
    module = 84 / len(matrix)
    path = canvas.beginPath()
    for row_number, row in enumerate(matrix):
        for column, dark in enumerate(row):
            if dark:
                path.rect(78 + column * module, 154 - (row_number + 1) * module, module, module)
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.setFont(font, 8)
    canvas.drawCentredString(120, 58, "扫码验证")
    canvas.save()


def _ours(number: int) -> None:
    serial = f"GC-2025-{number:06d}-7"
    facts = dict(FACTS, serial=serial, verify_url=f"https://academy.example.cn/verify/{serial}")
    pdf.render(facts, io.BytesIO())


def _bare(number: int, font_path: str) -> None:
    serial = f"GC-2025-{number:06d}-7"
    url = f"https://academy.example.cn/verify/{serial}"
    draw_bare_certificate(
        io.BytesIO(), FACTS["holder_name"], FACTS["title"], serial, url, font_path
    )


def _rate(draw: Any, count: int) -> float:
    started = time.perf_counter()
    for number in range(count):
        draw(number)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    font_path = fonts.chain().main.face.filename
    _ours(0), _bare(0, font_path)  # fonts loaded and registered before timing
    ours, bare = [], []
    for _ in range(args.rounds):
        ours.append(_rate(_ours, args.count))
        bare.append(_rate(lambda number: _bare(number, font_path), args.count))
    print(f"font: {font_path}; {args.count} certificates per round, best of {args.rounds}")
    print(f"ours: {max(ours):7.1f} certificates/s")
    print(f"bare: {max(bare):7.1f} certificates/s")
    print(f"ours / bare: {max(ours) / max(bare):.2f}")


if __name__ == "__main__":
    main()
