"""PDF and Word test fixtures, generated from texts written here with the bundled Noto Sans SC font.

``rulebook_pdf`` writes a two-page bank rulebook with a running header, a footer with the page number and a
sentence broken across the page; ``rulebook_docx`` the same rules as Word would save them (header and footer
parts, a page break Word rendered in the middle of a sentence); ``converted_docx`` a Word file converted from
a PDF (header, footer and page number lines in the body, explicit page breaks); ``scanned_pdf`` pages with an
image and no text; ``encrypted_pdf`` a password-protected copy. fpdf2 embeds Noto's CFF outlines in a way
pdfminer (pdfplumber) cannot decode, so ``font="ttf"`` (the default) converts a subset of the font to
TrueType outlines first; ``font="otf"`` keeps the original (read through the PDFium fallback).
"""
from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from helpers.figures import font_path

HEADER = "XX银行信用卡中心 催收作业管理规定（2024年修订）"
WIDTH = 34  # characters per line of body text, as a PDF's text layer wraps them

PAGE_1 = [
    "第一章 总则",
    "第一条 为规范信用卡逾期账款催收行为，保护持卡人合法权益，根据相关监管规定，结合本中心实际，制定本规定。",
    "第二条 催收人员应当在每日八时至二十一时之间联系持卡人，每日通过电话联系同一持卡人不得超过三次。",
    "第三条 严禁催收人员以暴力或者暴力相威胁，严禁辱骂、恐吓持卡人及其家人。",
    "第二章 上门催收",
]
BROKEN = ("第四条 逾期超过九十天的账户，经部门负责人批准后，可以安排两名以上催收人员上门拜访，"
          "上门过程应当全程录音录像，并在结束后二十四小时内将外访记录上传至催收系统备查。")
PAGE_2 = [
    "第五条 催收人员不得向持卡人的同事、邻居等无关第三人透露欠款信息。",
    "第三章 附则",
    "第六条 本规定由信用卡中心风险管理部负责解释，自发布之日起施行。",
]
RULES = PAGE_1 + [BROKEN] + PAGE_2
"""The rulebook's paragraphs as a reader should get them back (the broken sentence whole)."""


def wrap(paragraph: str, width: int = WIDTH) -> list[str]:
    """A paragraph cut into lines of ``width`` characters, as a PDF text layer holds it."""
    return [paragraph[k:k + width] for k in range(0, len(paragraph), width)]


def page_lines() -> tuple[list[str], list[str]]:
    """The body lines of page 1 and page 2; the broken article's first lines end page 1."""
    broken = wrap(BROKEN)
    first = [line for p in PAGE_1 for line in wrap(p)] + broken[:2]
    second = broken[2:] + [line for p in PAGE_2 for line in wrap(p)]
    return first, second


def _all_text() -> str:
    return HEADER + "".join(RULES) + "第页共0123456789-— /扫描件"


@lru_cache(maxsize=4)
def _ttf_font(text: str) -> str:
    """Noto Sans SC cut down to ``text``'s characters, its CFF outlines converted to TrueType (quadratic) ones."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    font = TTFont(font_path())
    options = subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.glyph_names = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder, glyf.glyphs = order, {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, 1.0, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"], font["loca"] = glyf, newTable("loca")
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font.sfntVersion = "\x00\x01\x00\x00"
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
                 "maxSizeOfInstructions", "maxComponentElements", "maxPoints", "maxContours", "maxCompositePoints",
                 "maxCompositeContours", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["head"].indexToLocFormat = 0
    post = font["post"]
    post.formatType, post.extraNames, post.mapping = 2.0, [], {}
    path = Path(tempfile.mkdtemp(prefix="noto-ttf-")) / "NotoSansSC-subset.ttf"
    font.save(str(path))
    return str(path)


def _pdf(font: str):
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    if font == "ttf":
        pdf.add_font("noto", fname=_ttf_font(_all_text()))
    else:
        pdf.add_font("noto", fname=str(font_path()))
    pdf.set_font("noto", size=11)
    return pdf


def _page(pdf, header: str | None, lines: list[str], footer: str | None) -> None:
    pdf.add_page()
    if header:
        pdf.set_font_size(9)
        pdf.set_xy(20, 12)
        pdf.cell(170, 5, header, align="C")
    pdf.set_font_size(11)
    y = 30.0
    for line in lines:
        pdf.set_xy(20, y)
        pdf.cell(170, 7, line)
        y += 7.5
    if footer:
        pdf.set_font_size(9)
        pdf.set_xy(20, 280)
        pdf.cell(170, 5, footer, align="C")


def rulebook_pdf(path: Path, font: str = "ttf", footer: str = "第 {n} 页 共 {total} 页", header: str = HEADER,
                 password: str | None = None) -> Path:
    """The two-page rulebook as a PDF with a text layer: running header, footer with page numbers."""
    pdf = _pdf(font)
    pages = page_lines()
    for n, lines in enumerate(pages, start=1):
        _page(pdf, header, lines, footer.format(n=n, total=len(pages)) if footer else None)
    if password:
        pdf.set_encryption(owner_password=password + "-owner", user_password=password)
    pdf.output(str(path))
    return Path(path)


def scanned_pdf(path: Path, pages: int = 2) -> Path:
    """Pages holding only an image of text (a scan): no text layer."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    pdf = FPDF(format="A4", unit="mm")
    for n in range(pages):
        image = Image.new("L", (400, 560), 255)
        draw = ImageDraw.Draw(image)
        for k in range(20):
            draw.line((30, 40 + 24 * k, 370, 40 + 24 * k), fill=60, width=6)
        pdf.add_page()
        pdf.image(image, x=10, y=10, w=190)
    pdf.output(str(path))
    return Path(path)


def encrypted_pdf(path: Path) -> Path:
    """The rulebook behind a user password."""
    return rulebook_pdf(path, password="secret")


def _page_field(paragraph) -> None:
    """A PAGE field (the page number Word fills in) at the end of ``paragraph``."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    field = f'<w:fldSimple {nsdecls("w")} w:instr=" PAGE "><w:r><w:t>1</w:t></w:r></w:fldSimple>'
    paragraph._p.append(parse_xml(field))


def _rendered_break(run) -> None:
    """A ``w:lastRenderedPageBreak`` before the run's text: where Word last broke the page."""
    from docx.oxml import OxmlElement

    run._r.insert(0, OxmlElement("w:lastRenderedPageBreak"))


def rulebook_docx(path: Path) -> Path:
    """The rulebook as Word saves it: header and footer parts (a PAGE field), one paragraph per article, and
    the page break Word rendered inside article 4."""
    import docx

    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = HEADER
    footer = section.footer.paragraphs[0]
    footer.add_run("第 ")
    _page_field(footer)
    footer.add_run(" 页")
    for text in PAGE_1:
        document.add_paragraph(text)
    cut = sum(len(line) for line in page_lines()[0][-2:])
    paragraph = document.add_paragraph()
    paragraph.add_run(BROKEN[:cut])
    _rendered_break(paragraph.add_run(BROKEN[cut:]))
    for text in PAGE_2:
        document.add_paragraph(text)
    document.save(str(path))
    return Path(path)


def converted_docx(path: Path) -> Path:
    """A Word file converted from the PDF: each line a paragraph, header, footer and page-number lines in the
    body, an explicit page break between the pages."""
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    pages = page_lines()
    for n, lines in enumerate(pages, start=1):
        document.add_paragraph(HEADER)
        for line in lines:
            document.add_paragraph(line)
        last = document.add_paragraph(f"第 {n} 页 共 {len(pages)} 页")
        if n < len(pages):
            last.add_run().add_break(WD_BREAK.PAGE)
    document.save(str(path))
    return Path(path)
