"""Certificate PDFs, read back by independent readers: pypdf for text and structure,
pdfium for the rendered page, zxing for the QR code, fontTools for embedded glyphs."""

from __future__ import annotations

import io
import logging
import re
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from flask import Flask
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from courses.services.certificates import fonts, pdf

URL = "https://academy.example.cn/verify/GC-2025-000123-7"
NOBODY_HAS = "\U00030000"  # CJK Extension G: in none of the installed fonts


def make_facts(**overrides: Any) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "kind": "course",
        "serial": "GC-2025-000123-7",
        "holder_name": "周小健",
        "title": "结业证书",
        "course_title": "社区营造实务",
        "programme_title": None,
        "first_date": "2025-03-01",
        "last_date": "2025-03-15",
        "class_hours": "12",
        "trainers": ["李明", "王芳"],
        "academy_name": "桂城街道社会工作学院",
        "issued_on": "2025-03-16",
        "verify_url": URL,
        "period_label": None,
        "qualification_label": None,
        "required_hours": None,
        "credited_hours": None,
        "courses": [],
    }
    return facts | overrides


def make_transcript(count: int, **overrides: Any) -> dict[str, Any]:
    courses = [
        {
            "title": f"社区实务专题{number:02d}：{'个案与小组工作方法' * (number % 3 + 1)}",
            "first_date": "2025-03-01",
            "last_date": f"2025-03-{number % 28 + 1:02d}",
            "class_hours": "2.5",
        }
        for number in range(1, count + 1)
    ]
    return (
        make_facts(
            kind="transcript",
            title="继续教育证明",
            course_title=None,
            period_label="2025年度",
            qualification_label="社会工作师",
            required_hours="72",
            credited_hours="80",
            courses=courses,
        )
        | overrides
    )


def seal_png(side: int = 240) -> bytes:
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    image.paste((200, 20, 20, 255), (side // 12, side // 12, side * 11 // 12, side * 11 // 12))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def rendered(facts: dict[str, Any], **options: Any) -> bytes:
    out = io.BytesIO()
    pdf.render(facts, out, **options)
    return out.getvalue()


def text_of(data: bytes) -> str:
    """All pages' text, without whitespace (a wrapped sentence breaks where it must)."""
    pages = PdfReader(io.BytesIO(data)).pages
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def page_image(data: bytes, dpi: float = 100, page: int = 0) -> Image.Image:
    document = pypdfium2.PdfDocument(data)
    try:
        return document[page].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        document.close()


def fonts_of(data: bytes) -> list[DictionaryObject]:
    """Every font the pages use, descendant fonts of composite fonts included."""
    found = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            found.append(font)
            found += [d.get_object() for d in font.get("/DescendantFonts", ())]
    return found


def images_of(data: bytes, page: int = 0) -> list[str]:
    resources = PdfReader(io.BytesIO(data)).pages[page]["/Resources"]
    xobjects = resources.get("/XObject", {})
    return [name for name, xobject in xobjects.items() if xobject["/Subtype"] == "/Image"]


@pytest.mark.parametrize("name", ["周小健", "𠮷野堃", "王喆", "李㛃"])
def test_the_text_says_who_did_what(name):
    facts = make_facts(holder_name=name)
    text = text_of(rendered(facts))
    assert name in text
    assert compact(pdf.sentence(facts)) in text
    for expected in (
        "结业证书",
        "社区营造实务",
        "12课时",
        "GC-2025-000123-7",
        "授课老师：李明、王芳",
    ):
        assert expected in text
    assert "发证日期：2025年3月16日" in text
    assert "桂城街道社会工作学院" in text
    assert "盖章处" not in text


def test_every_font_is_an_embedded_subset():
    data = rendered(make_facts(holder_name="𠮷野堃"))
    used = fonts_of(data)
    assert used
    for font in used:
        if font["/Subtype"] == "/Type0":
            continue  # a composite font's glyphs are in its descendant, checked too
        assert re.fullmatch(r"/[A-Z]{6}\+.+", font["/BaseFont"]), font["/BaseFont"]
        descriptor = font["/FontDescriptor"]
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor
    assert any("HanaMinA" in font["/BaseFont"] for font in used)  # 𠮷 from the fallback


def test_a_character_beyond_the_bmp_is_a_real_glyph_and_copies_out():
    """𠮷 (U+20BB7): the ToUnicode map says UTF-16 D842 DFB7 for its code, and that code
    in the embedded subset is an outline, not the empty box."""
    data = rendered(make_facts(holder_name="𠮷"))
    (font,) = [f for f in fonts_of(data) if "HanaMinA" in f["/BaseFont"]]
    to_unicode = font["/ToUnicode"].get_data().decode()
    code = int(re.search(r"<([0-9A-F]{2})> <D842DFB7>", to_unicode).group(1), 16)
    subset = TTFont(io.BytesIO(font["/FontDescriptor"]["/FontFile2"].get_data()))
    glyph_name = subset["cmap"].getcmap(1, 0).cmap[code]
    assert glyph_name != ".notdef"
    assert subset["glyf"][glyph_name].numberOfContours > 0


def test_the_course_certificate_is_a_landscape_page_with_something_on_it():
    data = rendered(make_facts())
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    image = page_image(data).convert("L")
    assert image.width > image.height
    inked = sum(count for value, count in enumerate(image.histogram()) if value < 200)
    assert inked / (image.width * image.height) > 0.01


@pytest.mark.parametrize("kind", ["course", "programme"])
def test_the_qr_code_reads_back_as_the_verification_address(kind):
    data = rendered(make_facts(kind=kind, title="培育计划结业证书"))
    results = zxingcpp.read_barcodes(page_image(data))
    assert [(r.format, r.text) for r in results] == [(zxingcpp.BarcodeFormat.QRCode, URL)]


def test_the_seal_is_an_image_on_the_page_and_absent_without_one():
    assert len(images_of(rendered(make_facts(), seal=seal_png(), signatory="院长 张三"))) == 1
    assert images_of(rendered(make_facts())) == []
    assert "院长张三" in text_of(rendered(make_facts(), signatory="院长 张三"))


def test_a_large_seal_is_scaled_to_what_print_needs():
    data = rendered(make_facts(), seal=seal_png(3000))
    resources = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]
    (image,) = [x for x in resources["/XObject"].values() if x["/Subtype"] == "/Image"]
    assert max(image["/Width"], image["/Height"]) <= pdf.SEAL_PIXELS


def test_a_seal_that_is_not_an_image_is_refused():
    with pytest.raises(ValueError, match="seal"):
        rendered(make_facts(), seal=b"not an image")


def test_a_character_no_font_has_is_named_once_and_the_pdf_still_renders(caplog):
    facts = make_facts(holder_name=f"张{NOBODY_HAS}", trainers=[f"{NOBODY_HAS}老师"])
    with caplog.at_level(logging.WARNING, logger=fonts.__name__):
        data = rendered(facts)
    (record,) = [r for r in caplog.records if "no installed font" in r.getMessage()]
    assert "U+30000" in record.getMessage()
    assert NOBODY_HAS in record.getMessage()
    assert "社区营造实务" in text_of(data)


def test_merge_puts_the_certificates_one_after_another():
    names = ["周小健", "𠮷野堃", "王喆"]
    sources = [rendered(make_facts(holder_name=name)) for name in names]
    out = io.BytesIO()
    assert pdf.merge([sources[0], io.BytesIO(sources[1]), sources[2]], out) == 3
    pages = PdfReader(io.BytesIO(out.getvalue())).pages
    assert len(pages) == 3
    for page, name in zip(pages, names, strict=True):
        assert name in compact(page.extract_text())


def test_a_long_transcript_flows_onto_more_pages_and_lists_every_course():
    facts = make_transcript(40)
    data = rendered(facts, seal=seal_png())
    assert len(PdfReader(io.BytesIO(data)).pages) >= 2
    text = text_of(data)
    assert compact(pdf.sentence(facts)) in text
    for course in facts["courses"]:
        assert compact(course["title"]) in text
    assert zxingcpp.read_barcodes(page_image(data, dpi=200))[0].text == URL


def test_the_sentence_names_the_days_once_per_year():
    assert pdf.sentence(make_facts()) == (
        "学员 周小健 于 2025年3月1日至3月15日参加「社区营造实务」培训，"
        "共 12 课时，考核合格，特发此证。"
    )
    across = make_facts(first_date="2024-12-30", last_date="2025-01-02", class_hours="12.50")
    assert "于 2024年12月30日至2025年1月2日参加" in pdf.sentence(across)
    assert "共 12.5 课时" in pdf.sentence(across)
    one_day = make_facts(first_date="2025-03-01", last_date="2025-03-01")
    assert "学员 周小健 于 2025年3月1日参加「" in pdf.sentence(one_day)
    undated = make_facts(first_date=None, last_date=None)
    assert pdf.sentence(undated).startswith("学员 周小健 参加「社区营造实务」培训，")


def test_the_programme_and_transcript_sentences():
    programme = make_facts(kind="programme", course_title="社区治理人才", class_hours="48")
    assert pdf.sentence(programme) == (
        "学员 周小健 于 2025年3月1日至3月15日完成「社区治理人才」培育计划全部课程，"
        "共 48 课时，考核合格，特发此证。"
    )
    assert pdf.sentence(make_transcript(1)) == (
        "兹证明 周小健（社会工作师） 于 2025年度 参加本院继续教育培训，"
        "累计取得 80 课时（要求 72 课时），明细如下："
    )
    plain = make_transcript(1, qualification_label=None, required_hours=None)
    assert pdf.sentence(plain) == (
        "兹证明 周小健 于 2025年度 参加本院继续教育培训，累计取得 80 课时，明细如下："
    )


def test_lines_break_between_characters_but_not_before_closing_punctuation():
    chain = fonts.chain()
    text = pdf.sentence(make_facts(course_title="社区营造实务与居民议事协商能力建设"))
    lines = chain.wrap(text, 19, 200)
    assert len(lines) > 3
    assert compact("".join(lines)) == compact(text)
    for line in lines:
        assert chain.width(line, 19) <= 200 + 19  # closing punctuation may hang
        assert not line.startswith(("，", "。", "」"))
    assert any(
        "GC-2025-000123-7" in line for line in chain.wrap("证书编号：GC-2025-000123-7", 12, 80)
    )


def _cff_font(path: str) -> None:
    """A one-glyph font with PostScript (CFF) outlines that has 证."""
    builder = FontBuilder(1000, isTTF=False)
    builder.setupGlyphOrder([".notdef", "uni8BC1"])
    builder.setupCharacterMap({0x8BC1: "uni8BC1"})
    pen = T2CharStringPen(1000, None)
    pen.moveTo((100, 100)), pen.lineTo((900, 100)), pen.lineTo((900, 900)), pen.closePath()
    box = pen.getCharString()
    builder.setupCFF("TestCFF", {"FullName": "Test CFF"}, {".notdef": box, "uni8BC1": box}, {})
    builder.setupHorizontalMetrics({".notdef": (1000, 100), "uni8BC1": (1000, 100)})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": "Test CFF", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(path)


def test_without_a_usable_chinese_font_the_renderer_says_what_to_install(tmp_path, caplog):
    cff = tmp_path / "cff.otf"
    _cff_font(str(cff))
    app = Flask(__name__)
    app.config["CERTIFICATE_FONTS"] = [str(tmp_path / "missing.ttf"), str(cff)]
    with app.app_context(), pytest.raises(fonts.NoCJKFont, match="fonts-wqy-zenhei"):
        rendered(make_facts())
    assert "postscript outlines are not supported" in caplog.text


def test_configured_fonts_replace_the_defaults():
    app = Flask(__name__)
    app.config["CERTIFICATE_FONTS"] = ["/usr/share/fonts/truetype/hanazono/HanaMinA.ttf"]
    with app.app_context():
        data = rendered(make_facts(holder_name="𠮷野堃"))
    assert {font["/BaseFont"].split("+")[1] for font in fonts_of(data)} == {"HanaMinA"}
    assert "𠮷野堃" in text_of(data)
