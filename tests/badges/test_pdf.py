"""Badge PDFs: the QR code decodes to the badge's token, from a rendered image of the page."""

from __future__ import annotations

from io import BytesIO

import pypdfium2
import zxingcpp
from pypdf import PdfReader

from app.badges import services
from app.badges.pdf import (
    PROGRESS_EVERY,
    badge_faces,
    badge_pdf,
    badge_sheets_pdf,
    write_badge_sheets,
)
from tests.badges.factories import make_badge
from tests.registration.factories import make_event, make_type


def rendered_pages(data: bytes, scale: float = 2) -> list:
    """Each page of a PDF as a PIL image (scale 2: about 144 dpi, a modest phone camera)."""
    document = pypdfium2.PdfDocument(data)
    try:
        images = []
        for page in document:
            images.append(page.render(scale=scale).to_pil())
            page.close()
        return images
    finally:
        document.close()


def qr_codes(image) -> list[str]:
    """The QR codes zxing-cpp finds in an image."""
    return [code.text for code in zxingcpp.read_barcodes(image)]


def pdf_text(data: bytes) -> str:
    """The text of every page."""
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


def test_a6_badge_qr_decodes_to_the_token(db):
    event = make_event()
    badge = make_badge(
        event,
        make_type(event, "speaker", is_free=True, name="Plenary speaker"),
        badge_name="Zoë Łukasiewicz-Núñez",
        nationality="DE",
    )
    data = badge_pdf(badge)
    assert data.startswith(b"%PDF")
    reader = PdfReader(BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (298, 420)  # A6 in points
    [image] = rendered_pages(data)
    assert qr_codes(image) == [services.badge_token(badge)]
    text = pdf_text(data)
    for expected in (
        "Zoë Łukasiewicz-Núñez",
        "Nigerian Correctional Service",
        badge.number,
        "WCPP 2026",
        "SPEAKER",
        "Plenary speaker",
        "Germany",
    ):
        assert expected in text


def test_qr_decodes_in_poor_light(db):
    """A dim, low-contrast, low-resolution photo of the badge still decodes."""
    from PIL import ImageEnhance, ImageFilter

    event = make_event()
    badge = make_badge(event)
    [image] = rendered_pages(badge_pdf(badge), scale=1.4)  # about 100 dpi
    dim = ImageEnhance.Contrast(ImageEnhance.Brightness(image).enhance(0.35)).enhance(0.5)
    assert qr_codes(dim.filter(ImageFilter.GaussianBlur(1))) == [services.badge_token(badge)]


def test_sheets_hold_four_badges_each(db):
    event = make_event()
    free = make_type(event, is_free=True)
    badges = [make_badge(event, free) for _ in range(5)]
    data = badge_sheets_pdf(badges)
    pages = rendered_pages(data)
    assert len(pages) == 2
    assert sorted(qr_codes(pages[0])) == sorted(services.badge_token(b) for b in badges[:4])
    assert qr_codes(pages[1]) == [services.badge_token(badges[4])]
    box = PdfReader(BytesIO(data)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4


def test_sheet_progress_is_reported(db):
    event = make_event()
    free = make_type(event, is_free=True)
    badges = [make_badge(event, free) for _ in range(PROGRESS_EVERY * 2 + 3)]
    seen: list[tuple[int, int]] = []
    pages = write_badge_sheets(
        badge_faces(badges), BytesIO(), progress=lambda done, total: seen.append((done, total))
    )
    assert pages == 11
    total = len(badges)
    assert seen == [(PROGRESS_EVERY, total), (PROGRESS_EVERY * 2, total), (total, total)]


def test_long_names_and_every_category_fit(db):
    event = make_event()
    badges = [
        make_badge(
            event,
            make_type(event, is_free=True, name=f"Category {index}"),
            badge_name="Maximiliano Alejandro de la Santísima Trinidad Fernández-Rodríguez"[:60],
            organisation_name="Directorate General of Corrections, Ministry of Immigration and "
            "Corrections of the Republic of Indonesia",
        )
        for index in range(4)
    ]
    [page] = rendered_pages(badge_sheets_pdf(badges))
    assert len(qr_codes(page)) == 4
