"""Badge PDFs (reportlab): an A6 badge per page, or A4 sheets of four A6 badges for printing.

Each badge: the congress in a header band, the name as the delegate wants it printed, the
organisation and country, a large QR code carrying the signed token with the badge number
beneath (for damaged badges), and a band in the category's colour naming the role and the
category. Labels are printed in Indonesian and English ("Peserta / Delegate"). Drawn on the
canvas directly: 2,000 badges must render in seconds, and every position is fixed anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import BinaryIO

from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.badges.models import Badge, BadgeRole
from app.badges.services import badge_tokens, holder
from app.events.models import Event
from app.i18n.formatting import country_name, format_day_range
from app.pdf import QRCode, document_fonts, joined
from app.registration.services import registration_types

# Printed labels: Indonesian first, the host's language, then English.
BADGE_LANGUAGES = ("id", "en")
BADGE_WIDTH, BADGE_HEIGHT = A6
MARGIN = 6 * mm
HEADER_HEIGHT = 22 * mm
BAND_HEIGHT = 21 * mm
# About 1.1 mm per module for a 107-character token (version 7: 45 modules and a quiet zone
# of 4 on each side): large enough for a phone camera at arm's length in a dim hall.
QR_SIZE = 60 * mm
NAME_MAX_SIZE = 24
NAME_MIN_SIZE = 13
HEADER_COLOUR = colors.HexColor("#1f3a5f")
TEXT_COLOUR = colors.HexColor("#1a1a1a")
MUTED_COLOUR = colors.HexColor("#4a4a4a")
CUT_MARK_COLOUR = colors.HexColor("#b0b0b0")
# Category colours, by the registration type's place in the organisers' list: distinct in
# print and for the most common colour-vision deficiencies when read with the printed name.
PALETTE = (
    "#1565c0",  # blue
    "#2e7d32",  # green
    "#c62828",  # red
    "#ef6c00",  # orange
    "#6a1b9a",  # purple
    "#00838f",  # teal
    "#f9a825",  # yellow
    "#ad1457",  # magenta
    "#4e342e",  # brown
    "#37474f",  # slate
)
# Where the four badges of an A4 sheet go (lower-left corners), read like a page.
SHEET_SLOTS = (
    (0, BADGE_HEIGHT),
    (BADGE_WIDTH, BADGE_HEIGHT),
    (0, 0),
    (BADGE_WIDTH, 0),
)
BADGES_PER_SHEET = len(SHEET_SLOTS)
# The batch job reports progress this often (in badges).
PROGRESS_EVERY = 20

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class BadgeFace:
    """Everything printed on one badge, in final form."""

    token: str
    number: str
    name: str
    organisation: str
    country: str
    role: str
    category: str
    colour: colors.Color
    event_name: str
    event_line: str


def _both(make_text: Callable[[], str]) -> str:
    """A text in Indonesian and English, "Peserta / Delegate" (once when both are the same)."""
    texts = []
    for language in BADGE_LANGUAGES:
        with force_locale(language):
            texts.append(str(make_text()))
    return joined((texts[0], texts[1]))


def category_colours(event: Event) -> dict[int, colors.Color]:
    """The band colour of each registration type of the event, by its place in the list."""
    return {
        registration_type.id: colors.HexColor(PALETTE[index % len(PALETTE)])
        for index, registration_type in enumerate(registration_types(event, active_only=False))
    }


def _event_texts(event: Event) -> tuple[str, str]:
    """The header's lines: the congress's short name, and its dates and place."""
    with force_locale(BADGE_LANGUAGES[0]):
        days = format_day_range(event.starts_on, event.ends_on)
    return event.short_name, f"{days} · {event.venue}, {event.city}"


def badge_faces(badges: Sequence[Badge]) -> list[BadgeFace]:
    """What to print on each badge (of one event), signing the tokens with one key."""
    if not badges:
        return []
    event = badges[0].event
    tokens = badge_tokens(badges)
    palette = category_colours(event)
    event_name, event_line = _event_texts(event)
    role_labels = {role: _both(lambda role=role: role.label) for role in BadgeRole}
    faces = []
    for badge in badges:
        shown = holder(badge)
        registration_type = badge.registration.registration_type
        faces.append(
            BadgeFace(
                token=tokens[badge.id],
                number=badge.number,
                name=shown.name,
                organisation=shown.organisation,
                country=_both(lambda code=shown.country: country_name(code)),
                role=role_labels[shown.role],
                category=joined(
                    tuple(registration_type.name.get(lang) for lang in BADGE_LANGUAGES)
                ),
                colour=palette.get(registration_type.id, colors.HexColor(PALETTE[0])),
                event_name=event_name,
                event_line=event_line,
            )
        )
    return faces


def _ink_on(background: colors.Color) -> colors.Color:
    """Black or white, whichever reads better on the background (WCAG relative luminance)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    luminance = (
        0.2126 * channel(background.red)
        + 0.7152 * channel(background.green)
        + 0.0722 * channel(background.blue)
    )
    return colors.black if luminance > 0.179 else colors.white


def _fitted_lines(
    text: str, font: str, largest: float, smallest: float, width: float, max_lines: int
) -> tuple[list[str], float]:
    """The text's lines and font size: one line as large as fits, else wrapped at the smallest
    size on at most max_lines lines (the last one cut with an ellipsis)."""
    size = largest
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.5
    if stringWidth(text, font, size) <= width:
        return [text], size
    lines = simpleSplit(text, font, size, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines, size


def _centred_lines(
    canvas: Canvas, lines: list[str], font: str, size: float, centre_x: float, top: float
) -> float:
    """Draw centred lines from a top edge down; returns the y below the last line."""
    leading = size * 1.18
    y = top
    for line in lines:
        y -= leading
        canvas.setFont(font, size)
        canvas.drawCentredString(centre_x, y + (leading - size) * 0.9, line)
    return y


def draw_badge(canvas: Canvas, face: BadgeFace, x: float, y: float) -> None:
    """One A6 badge with its lower-left corner at (x, y)."""
    fonts = document_fonts()
    width, height = BADGE_WIDTH, BADGE_HEIGHT
    centre = x + width / 2
    text_width = width - 2 * MARGIN
    canvas.saveState()

    # The congress, white on dark blue.
    canvas.setFillColor(HEADER_COLOUR)
    canvas.rect(x, y + height - HEADER_HEIGHT, width, HEADER_HEIGHT, stroke=0, fill=1)
    canvas.setFillColor(colors.white)
    canvas.setFont(fonts.bold, 15)
    canvas.drawCentredString(centre, y + height - 10 * mm, face.event_name)
    line, size = _fitted_lines(face.event_line, fonts.regular, 7.5, 5.5, text_width, 1)
    canvas.setFont(fonts.regular, size)
    canvas.drawCentredString(centre, y + height - 16 * mm, line[0])

    # The holder: name, organisation, country.
    canvas.setFillColor(TEXT_COLOUR)
    top = y + height - HEADER_HEIGHT - 4 * mm
    lines, size = _fitted_lines(face.name, fonts.bold, NAME_MAX_SIZE, NAME_MIN_SIZE, text_width, 2)
    top = _centred_lines(canvas, lines, fonts.bold, size, centre, top) - 1.5 * mm
    canvas.setFillColor(MUTED_COLOUR)
    if face.organisation:
        lines, size = _fitted_lines(face.organisation, fonts.regular, 10, 8, text_width, 2)
        top = _centred_lines(canvas, lines, fonts.regular, size, centre, top) - 0.5 * mm
    canvas.setFillColor(TEXT_COLOUR)
    lines, size = _fitted_lines(face.country, fonts.bold, 11, 8, text_width, 1)
    text_bottom = _centred_lines(canvas, lines, fonts.bold, size, centre, top)

    # The QR code (its own white quiet zone) and the number to type when it will not scan:
    # as large as the space under the longest name and organisation allows.
    qr_bottom = y + BAND_HEIGHT + 7 * mm
    qr_size = min(QR_SIZE, text_bottom - qr_bottom)
    QRCode(face.token, qr_size).drawOn(canvas, centre - qr_size / 2, qr_bottom)
    canvas.setFillColor(TEXT_COLOUR)
    canvas.setFont(fonts.bold, 10)
    canvas.drawCentredString(centre, y + BAND_HEIGHT + 3 * mm, face.number)

    # The category band: role in large capitals, the category beneath.
    canvas.setFillColor(face.colour)
    canvas.rect(x, y, width, BAND_HEIGHT, stroke=0, fill=1)
    canvas.setFillColor(_ink_on(face.colour))
    lines, size = _fitted_lines(face.role.upper(), fonts.bold, 15, 9, text_width, 1)
    canvas.setFont(fonts.bold, size)
    canvas.drawCentredString(centre, y + 11.5 * mm, lines[0])
    lines, size = _fitted_lines(face.category, fonts.regular, 9, 6.5, text_width, 1)
    canvas.setFont(fonts.regular, size)
    canvas.drawCentredString(centre, y + 5 * mm, lines[0])
    canvas.restoreState()


def _cut_marks(canvas: Canvas) -> None:
    """Thin dashed lines where an A4 sheet is cut into four badges."""
    canvas.saveState()
    canvas.setStrokeColor(CUT_MARK_COLOUR)
    canvas.setLineWidth(0.3)
    canvas.setDash(2, 2)
    page_width, page_height = A4
    canvas.line(page_width / 2, 0, page_width / 2, page_height)
    canvas.line(0, page_height / 2, page_width, page_height / 2)
    canvas.restoreState()


def _canvas(output: BinaryIO, page_size: tuple[float, float], title: str) -> Canvas:
    """A compressed PDF canvas with the document's properties."""
    canvas = Canvas(output, pagesize=page_size, pageCompression=1)
    canvas.setTitle(title)
    with force_locale(BADGE_LANGUAGES[1]):
        canvas.setAuthor(_("Organising Committee"))
    return canvas


def _sheets_title(faces: Sequence[BadgeFace]) -> str:
    """The document's title: "Badges — WCPP 2026"."""
    label = _both(lambda: _("Badges"))
    return f"{label} — {faces[0].event_name}" if faces else label


def badge_pdf(badge: Badge) -> bytes:
    """One badge on an A6 page."""
    buffer = BytesIO()
    canvas = _canvas(buffer, A6, f"{_both(lambda: _('Badge'))} {badge.number}")
    draw_badge(canvas, badge_faces([badge])[0], 0, 0)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def write_badge_sheets(
    faces: Sequence[BadgeFace], output: BinaryIO | Path, *, progress: Progress | None = None
) -> int:
    """Badges four to an A4 sheet, written to a file or stream; returns the number of pages.
    Needs no database (a job ends its transaction first); progress(done, total) is called
    every PROGRESS_EVERY badges and at the end."""
    if isinstance(output, Path):
        with output.open("wb") as stream:
            return write_badge_sheets(faces, stream, progress=progress)
    total = len(faces)
    canvas = _canvas(output, A4, _sheets_title(faces))
    pages = 0
    for start in range(0, max(total, 1), BADGES_PER_SHEET):
        _cut_marks(canvas)
        for face, (x, y) in zip(faces[start : start + BADGES_PER_SHEET], SHEET_SLOTS, strict=False):
            draw_badge(canvas, face, x, y)
        canvas.showPage()
        pages += 1
        done = min(start + BADGES_PER_SHEET, total)
        if progress and (done % PROGRESS_EVERY == 0 or done == total):
            progress(done, total)
    canvas.save()
    return pages


def badge_sheets_pdf(badges: Sequence[Badge]) -> bytes:
    """Badges (of one event) four to an A4 sheet, as bytes."""
    buffer = BytesIO()
    write_badge_sheets(badge_faces(badges), buffer)
    return buffer.getvalue()
