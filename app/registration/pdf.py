"""Visa invitation letters as A4 PDFs (reportlab): the delegate's language with the other one
beside it, a letterhead, the delegate's identity, a signature block and a verification QR code."""

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
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from app.i18n.formatting import country_name, format_day, format_day_range, to_event_time
from app.i18n.text import TranslatedText
from app.registration.models import VisaLetter
from app.registration.passports import stored_passport_number
from app.web import absolute_url

LETTER_LANGUAGES = ("en", "id")
# DejaVu covers Latin, Greek and Cyrillic names; reportlab's bundled Vera is the fallback.
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
REPORTLAB_FONT_DIR = Path(reportlab.__file__).parent / "fonts"
QR_SIZE = 30 * mm
GREY = colors.HexColor("#555555")


@dataclass(frozen=True)
class LetterFonts:
    """The registered font names for regular, bold and italic text."""

    regular: str
    bold: str
    italic: str


@cache
def letter_fonts() -> LetterFonts:
    """Register the letter's fonts with reportlab once: DejaVu Sans when installed, else Vera."""
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
    return LetterFonts(*names)


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


def _styles(fonts: LetterFonts) -> dict[str, ParagraphStyle]:
    """The paragraph styles of the letter."""
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
        "label": ParagraphStyle("label", parent=body, fontSize=8.5, leading=10),
        "value": ParagraphStyle("value", parent=body, fontName=fonts.bold),
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=10),
        "code": ParagraphStyle(
            "code", parent=body, fontName=fonts.bold, fontSize=10, alignment=TA_CENTER
        ),
    }  # fmt: skip


class BilingualText:
    """Renders the same text in the letter's language and in the other one."""

    def __init__(self, primary: str):
        self.primary = primary
        self.secondary = next(code for code in LETTER_LANGUAGES if code != primary)

    def __call__(self, make_text: Callable[[], str]) -> tuple[str, str]:
        """make_text() evaluated in the letter's language, then in the other language."""
        with force_locale(self.primary):
            first = make_text()
        with force_locale(self.secondary):
            second = make_text()
        return first, second


def _in_current_language(text: TranslatedText) -> str:
    """Organiser-entered content in the language being rendered (with its fallback)."""
    return text.get(str(get_locale()))


def _joined(both: tuple[str, str]) -> str:
    """A value in both languages as "first / second", or once when they are the same."""
    return " / ".join(dict.fromkeys(both))


def _translation(both: tuple[str, str]) -> str | None:
    """The second language's text, unless it is the same (a name, an untranslated string)."""
    return both[1] if both[1] != both[0] else None


def _label(both: tuple[str, str], styles: dict[str, ParagraphStyle]) -> Paragraph:
    """A label in both languages on one line (wrapping when long), the translation in grey."""
    text = escape(both[0])
    translation = _translation(both)
    if translation:
        text += f' <font size="7.5" color="#555555"><i>/ {escape(translation)}</i></font>'
    return Paragraph(text, styles["label"])


def _paragraphs(
    both: tuple[str, str], styles: dict[str, ParagraphStyle], style: str = "body"
) -> list[Flowable]:
    """A paragraph in the letter's language followed by its translation."""
    flowables: list[Flowable] = [Paragraph(escape(both[0]), styles[style])]
    translation = _translation(both)
    if translation:
        flowables.append(Paragraph(escape(translation), styles["translation"]))
    return [*flowables, Spacer(1, 2.5 * mm)]


def _letterhead(
    letter: VisaLetter, both: BilingualText, styles: dict[str, ParagraphStyle]
) -> list[Flowable]:
    """The organising committee, the congress and its host, in both languages."""
    event = letter.registration.event
    lines: list[tuple[tuple[str, str], str]] = [
        (tuple(text.upper() for text in both(lambda: _("Organising Committee"))), "head"),
        ((event.name.get(both.primary), event.name.get(both.secondary)), "head_line"),
        ((event.host.get(both.primary), event.host.get(both.secondary)), "head_line"),
    ]
    story: list[Flowable] = []
    for texts, style in lines:
        story.append(Paragraph(escape(texts[0]), styles[style]))
        translation = _translation(texts)
        if translation:
            story.append(Paragraph(escape(translation), styles["head_translation"]))
    return [
        *story,
        Spacer(1, 1.5 * mm),
        HRFlowable(width="100%", thickness=1.2, color=colors.black),
        Spacer(1, 3 * mm),
    ]


def _identity_rows(letter: VisaLetter, both: BilingualText) -> list[tuple[tuple[str, str], str]]:
    """Who is invited: name, passport (in full, decrypted for the letter), nationality, birth."""
    registration = letter.registration
    rows = [
        (both(lambda: _("Full name")), registration.full_name),
        (both(lambda: _("Passport number")), stored_passport_number(registration) or "—"),
        (
            both(lambda: _("Passport valid until")),
            _joined(both(lambda: format_day(registration.passport_expiry))) or "—",
        ),
        (
            both(lambda: _("Nationality")),
            _joined(both(lambda: country_name(registration.nationality))),
        ),
        (
            both(lambda: _("Date of birth")),
            _joined(both(lambda: format_day(registration.birth_date))) or "—",
        ),
        (both(lambda: _("Place of birth")), registration.birth_place or "—"),
    ]
    if registration.organisation:
        rows.append((both(lambda: _("Organisation")), registration.organisation))
    return rows


def _closing(
    letter: VisaLetter, both: BilingualText, styles: dict[str, ParagraphStyle]
) -> list[Flowable]:
    """The signature block beside the QR code, then how to check the letter."""
    event = letter.registration.event
    verify_url = absolute_url("registration.verify_visa_letter", code=letter.verification_code)
    committee = both(lambda: _("Organising Committee"))
    signature = [
        *_paragraphs(both(lambda: _("Yours faithfully,")), styles),
        Spacer(1, 10 * mm),
        Paragraph(escape(committee[0]), styles["value"]),
        *(
            [Paragraph(escape(committee[1]), styles["translation"])]
            if _translation(committee)
            else []
        ),
        Paragraph(escape(event.name.get(both.primary)), styles["body"]),
    ]
    seal = [
        QRCode(verify_url, QR_SIZE),
        Paragraph(escape(letter.verification_code), styles["code"]),
    ]
    signature_and_seal = Table(
        [[signature, seal]],
        colWidths=[None, QR_SIZE + 4 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("RIGHTPADDING", (-1, 0), (-1, 0), 0),
            ]
        ),
    )
    verification = both(
        lambda: _(
            "Check that this letter is genuine: scan the QR code or open %(url)s (verification "
            "code %(code)s).",
            url=verify_url,
            code=letter.verification_code,
        )
    )
    return [
        KeepTogether(
            [signature_and_seal, Spacer(1, 3 * mm), *_paragraphs(verification, styles, "small")]
        )
    ]


def letter_pdf(letter: VisaLetter) -> bytes:
    """The letter as a PDF, in its language (Indonesian or English) with the other beneath."""
    styles = _styles(letter_fonts())
    event = letter.registration.event
    both = BilingualText(letter.language)
    issued_on = to_event_time(letter.issued_at).date()
    reference_rows = [
        (both(lambda: _("Number")), letter.number),
        (both(lambda: _("Date")), _joined(both(lambda: format_day(issued_on)))),
        (
            both(lambda: _("Subject")),
            _joined(both(lambda: _("Invitation letter for a visa application"))),
        ),
    ]
    invitation = both(
        lambda: _(
            "The Organising Committee of the %(congress)s, hosted by the %(host)s, has the "
            "honour to invite the person named below to attend the congress, held from "
            "%(dates)s at the %(venue)s, %(city)s, %(country)s.",
            congress=_in_current_language(event.name),
            host=_in_current_language(event.host),
            dates=format_day_range(event.starts_on, event.ends_on),
            venue=event.venue,
            city=event.city,
            country=country_name(event.country),
        )
    )
    request_for_visa = both(
        lambda: _(
            "We kindly request the authorities of the Republic of Indonesia to grant the "
            "delegate named above a visa to enter Indonesia for the purpose of attending the "
            "congress."
        )
    )
    no_costs = both(
        lambda: _(
            "This letter is issued solely to support a visa application. It does not commit "
            "the Organising Committee to bear travel, accommodation or any other costs."
        )
    )
    story: list[Flowable] = [
        *_letterhead(letter, both, styles),
        _table(reference_rows, styles, label_width=40 * mm),
        Spacer(1, 4 * mm),
        *_paragraphs(both(lambda: _("To whom it may concern,")), styles),
        *_paragraphs(invitation, styles),
        _table(_identity_rows(letter, both), styles, label_width=62 * mm, boxed=True),
        Spacer(1, 4 * mm),
        *_paragraphs(request_for_visa, styles),
        *_paragraphs(no_costs, styles),
        Spacer(1, 2 * mm),
        *_closing(letter, both, styles),
    ]
    buffer = BytesIO()
    with force_locale(letter.language):
        title = _("Visa invitation letter %(number)s", number=letter.number)
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
        subject=event.name.get(letter.language),
    ).build(story)
    return buffer.getvalue()


def _table(
    rows: list[tuple[tuple[str, str], str]],
    styles: dict[str, ParagraphStyle],
    *,
    label_width: float,
    boxed: bool = False,
) -> Table:
    """Label–value rows: bilingual labels on the left, the values in bold on the right."""
    data = [
        [_label(label, styles), Paragraph(escape(value), styles["value"])] for label, value in rows
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
