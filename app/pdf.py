"""Shared reportlab pieces for Kongres's bilingual A4 documents (visa letters, receipts,
credit notes): fonts that handle non-ASCII names, paragraph styles, text in the document's
language with the other language beneath, label–value tables, the letterhead and the page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
import segno
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.events.models import Event
from app.i18n.text import TranslatedText

PDF_LANGUAGES = ("en", "id")
# DejaVu covers Latin, Greek and Cyrillic names; reportlab's bundled Vera is the fallback.
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
REPORTLAB_FONT_DIR = Path(reportlab.__file__).parent / "fonts"
GREY = colors.HexColor("#555555")

Bilingual = tuple[str, str]
# A table row: a label in both languages and its value.
LabelledValue = tuple[Bilingual, str]
Styles = dict[str, ParagraphStyle]


@dataclass(frozen=True)
class DocumentFonts:
    """The registered font names for regular, bold and italic text."""

    regular: str
    bold: str
    italic: str


@cache
def document_fonts() -> DocumentFonts:
    """Register the documents' fonts with reportlab once: DejaVu Sans when installed, else Vera."""
    if (DEJAVU_DIR / "DejaVuSans.ttf").exists():
        files = (
            DEJAVU_DIR / "DejaVuSans.ttf",
            DEJAVU_DIR / "DejaVuSans-Bold.ttf",
            DEJAVU_DIR / "DejaVuSans-Oblique.ttf",
        )
    else:
        files = (
            REPORTLAB_FONT_DIR / "Vera.ttf",
            REPORTLAB_FONT_DIR / "VeraBd.ttf",
            REPORTLAB_FONT_DIR / "VeraIt.ttf",
        )
    names = ("KongresLetter", "KongresLetter-Bold", "KongresLetter-Italic")
    for name, path in zip(names, files, strict=True):
        pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(names[0], normal=names[0], bold=names[1], italic=names[2])
    return DocumentFonts(*names)


class QRCode(Flowable):
    """A QR code drawn as vector squares (sharp at any zoom and in print)."""

    def __init__(self, data: str, size: float):
        super().__init__()
        self.code = segno.make_qr(data, error="m")
        self.size = self.width = self.height = size

    def draw(self) -> None:
        """Paint the dark modules, one rectangle per horizontal run."""
        border = 4  # the quiet zone readers need, in modules
        matrix = self.code.matrix
        module = self.size / (len(matrix) + 2 * border)
        self.canv.setFillColor(colors.black)
        for row_number, row in enumerate(matrix):
            y = self.size - (row_number + border + 1) * module
            column = 0
            while column < len(row):
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < len(row) and row[column]:
                    column += 1
                x = (start + border) * module
                self.canv.rect(x, y, (column - start) * module, module, stroke=0, fill=1)


def document_styles() -> Styles:
    """The paragraph styles every document shares (fonts registered on first use)."""
    fonts = document_fonts()
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=9.5, leading=12.5)
    return {
        "body": body,
        "translation": ParagraphStyle(
            "translation", parent=body, fontName=fonts.italic, fontSize=8, leading=10,
            textColor=GREY, spaceBefore=1,
        ),
        "head": ParagraphStyle(
            "head", parent=body, fontName=fonts.bold, fontSize=12, leading=15, alignment=TA_CENTER
        ),
        "head_line": ParagraphStyle(
            "head_line", parent=body, fontSize=9, leading=11.5, alignment=TA_CENTER
        ),
        "head_translation": ParagraphStyle(
            "head_translation", parent=body, fontName=fonts.italic, fontSize=7.5, leading=9.5,
            alignment=TA_CENTER, textColor=GREY,
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName=fonts.bold, fontSize=14, leading=17, alignment=TA_CENTER
        ),
        "label": ParagraphStyle("label", parent=body, fontSize=8.5, leading=10),
        "value": ParagraphStyle("value", parent=body, fontName=fonts.bold),
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        "code": ParagraphStyle(
            "code", parent=body, fontName=fonts.bold, fontSize=10, alignment=TA_CENTER
        ),
    }  # fmt: skip


class BilingualText:
    """Renders the same text in the document's language and in the other one."""

    def __init__(self, primary: str):
        self.primary = primary if primary in PDF_LANGUAGES else PDF_LANGUAGES[0]
        self.secondary = next(code for code in PDF_LANGUAGES if code != self.primary)

    def __call__(self, make_text: Callable[[], str]) -> Bilingual:
        """make_text() evaluated in the document's language, then in the other language."""
        with force_locale(self.primary):
            first = make_text()
        with force_locale(self.secondary):
            second = make_text()
        return first, second


def in_current_language(text: TranslatedText) -> str:
    """Organiser-entered content in the language being rendered (with its fallback)."""
    return text.get(str(get_locale()))


def joined(both: Bilingual) -> str:
    """A value in both languages as "first / second", or once when they are the same."""
    return " / ".join(dict.fromkeys(both))


def translation_of(both: Bilingual) -> str | None:
    """The second language's text, unless it is the same (a name, an untranslated string)."""
    return both[1] if both[1] != both[0] else None


def bilingual_label(both: Bilingual, styles: Styles) -> Paragraph:
    """A label in both languages on one line (wrapping when long), the translation in grey."""
    text = escape(both[0])
    translation = translation_of(both)
    if translation:
        text += f' <font size="7.5" color="#555555"><i>/ {escape(translation)}</i></font>'
    return Paragraph(text, styles["label"])


def bilingual_paragraphs(both: Bilingual, styles: Styles, style: str = "body") -> list[Flowable]:
    """A paragraph in the document's language followed by its translation."""
    flowables: list[Flowable] = [Paragraph(escape(both[0]), styles[style])]
    translation = translation_of(both)
    if translation:
        flowables.append(Paragraph(escape(translation), styles["translation"]))
    return [*flowables, Spacer(1, 2.5 * mm)]


def bilingual_heading(both: Bilingual, styles: Styles, style: str = "head") -> list[Flowable]:
    """A centred heading with its translation beneath in small grey italics."""
    flowables: list[Flowable] = [Paragraph(escape(both[0]), styles[style])]
    translation = translation_of(both)
    if translation:
        flowables.append(Paragraph(escape(translation), styles["head_translation"]))
    return flowables


def letterhead(event: Event, both: BilingualText, styles: Styles) -> list[Flowable]:
    """The organising committee, the congress and its host, in both languages, and a rule."""
    lines: list[tuple[Bilingual, str]] = [
        (tuple(text.upper() for text in both(lambda: _("Organising Committee"))), "head"),
        ((event.name.get(both.primary), event.name.get(both.secondary)), "head_line"),
        ((event.host.get(both.primary), event.host.get(both.secondary)), "head_line"),
    ]
    story: list[Flowable] = []
    for texts, style in lines:
        story.extend(bilingual_heading(texts, styles, style))
    return [
        *story,
        Spacer(1, 1.5 * mm),
        HRFlowable(width="100%", thickness=1.2, color=colors.black),
        Spacer(1, 3 * mm),
    ]


def label_value_table(
    rows: list[LabelledValue], styles: Styles, *, label_width: float, boxed: bool = False
) -> Table:
    """Label–value rows: bilingual labels on the left, the values in bold on the right."""
    data = [
        [bilingual_label(label, styles), Paragraph(escape(value), styles["value"])]
        for label, value in rows
    ]
    commands = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4 if boxed else 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
    ]
    if boxed:
        commands += [
            ("BOX", (0, 0), (-1, -1), 0.6, colors.black),
            ("LINEBELOW", (0, 0), (-1, -2), 0.3, colors.HexColor("#999999")),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
        ]
    return Table(data, colWidths=[label_width, None], style=TableStyle(commands))


def render_pdf(story: list[Flowable], *, language: str, title: str, subject: str) -> bytes:
    """Lay the story out on A4 pages; the document's properties name its title and author."""
    buffer = BytesIO()
    with force_locale(language):
        author = _("Organising Committee")
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=22 * mm,
        rightMargin=22 * mm,
        topMargin=16 * mm,
        bottomMargin=14 * mm,
        title=title,
        author=author,
        subject=subject,
    ).build(story)
    return buffer.getvalue()
