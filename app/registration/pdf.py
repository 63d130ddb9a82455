"""Visa invitation letters as A4 PDFs (reportlab): the delegate's language with the other one
beside it, a letterhead, the delegate's identity, a signature block and a verification QR code.
Fonts, styles and the bilingual layout helpers are shared with receipts in app/pdf.py."""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from app.i18n.formatting import country_name, format_day, format_day_range, to_event_time
from app.pdf import (
    PDF_LANGUAGES,
    BilingualText,
    LabelledValue,
    QRCode,
    Styles,
    bilingual_paragraphs,
    document_styles,
    in_current_language,
    joined,
    label_value_table,
    letterhead,
    render_pdf,
    translation_of,
)
from app.registration.models import VisaLetter
from app.registration.passports import decrypt_passport
from app.web import absolute_url

LETTER_LANGUAGES = PDF_LANGUAGES
QR_SIZE = 30 * mm


def _identity_rows(letter: VisaLetter, both: BilingualText) -> list[LabelledValue]:
    """Who is invited, as the letter recorded them when it was issued (never the registration's
    later details): name, passport (in full, decrypted for the letter), nationality, birth."""
    passport = letter.passport_number_encrypted
    rows = [
        (both(lambda: _("Full name")), letter.holder_name),
        (both(lambda: _("Passport number")), decrypt_passport(passport) if passport else "—"),
        (
            both(lambda: _("Passport valid until")),
            joined(both(lambda: format_day(letter.passport_expiry))) or "—",
        ),
        (
            both(lambda: _("Nationality")),
            joined(both(lambda: country_name(letter.holder_nationality))),
        ),
        (
            both(lambda: _("Date of birth")),
            joined(both(lambda: format_day(letter.birth_date))) or "—",
        ),
        (both(lambda: _("Place of birth")), letter.birth_place or "—"),
    ]
    if letter.holder_organisation:
        rows.append((both(lambda: _("Organisation")), letter.holder_organisation))
    return rows


def _closing(letter: VisaLetter, both: BilingualText, styles: Styles) -> list[Flowable]:
    """The signature block beside the QR code, then how to check the letter."""
    event = letter.registration.event
    verify_url = absolute_url("registration.verify_visa_letter", code=letter.verification_code)
    committee = both(lambda: _("Organising Committee"))
    signature = [
        *bilingual_paragraphs(both(lambda: _("Yours faithfully,")), styles),
        Spacer(1, 10 * mm),
        Paragraph(escape(committee[0]), styles["value"]),
        *(
            [Paragraph(escape(committee[1]), styles["translation"])]
            if translation_of(committee)
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
            [
                signature_and_seal,
                Spacer(1, 3 * mm),
                *bilingual_paragraphs(verification, styles, "small"),
            ]
        )
    ]


def letter_pdf(letter: VisaLetter) -> bytes:
    """The letter as a PDF, in its language (Indonesian or English) with the other beneath."""
    styles = document_styles()
    event = letter.registration.event
    both = BilingualText(letter.language)
    issued_on = to_event_time(letter.issued_at).date()
    reference_rows = [
        (both(lambda: _("Number")), letter.number),
        (both(lambda: _("Date")), joined(both(lambda: format_day(issued_on)))),
        (
            both(lambda: _("Subject")),
            joined(both(lambda: _("Invitation letter for a visa application"))),
        ),
    ]
    invitation = both(
        lambda: _(
            "The Organising Committee of the %(congress)s, hosted by the %(host)s, has the "
            "honour to invite the person named below to attend the congress, held from "
            "%(dates)s at the %(venue)s, %(city)s, %(country)s.",
            congress=in_current_language(event.name),
            host=in_current_language(event.host),
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
        *letterhead(event, both, styles),
        label_value_table(reference_rows, styles, label_width=40 * mm),
        Spacer(1, 4 * mm),
        *bilingual_paragraphs(both(lambda: _("To whom it may concern,")), styles),
        *bilingual_paragraphs(invitation, styles),
        label_value_table(_identity_rows(letter, both), styles, label_width=62 * mm, boxed=True),
        Spacer(1, 4 * mm),
        *bilingual_paragraphs(request_for_visa, styles),
        *bilingual_paragraphs(no_costs, styles),
        Spacer(1, 2 * mm),
        *_closing(letter, both, styles),
    ]
    with force_locale(letter.language):
        title = _("Visa invitation letter %(number)s", number=letter.number)
    return render_pdf(
        story, language=letter.language, title=title, subject=event.name.get(letter.language)
    )
