"""Certificates of attendance: what a delegate attended (from the admissions their badge got at
the doors), when the certificate may be had, the bilingual A4 certificate itself, and the email
that tells each attending delegate, once, that it is ready.

The PDF uses the shared document pieces of app/pdf.py (fonts, styles, letterhead, QR code,
bilingual text); only what makes it a certificate (the border, the large title and name, the
table of sessions) is drawn here.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from xml.sax.saxutils import escape

from babel.dates import format_time
from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle
from reportlab.platypus.flowables import SetPageTopFlowables
from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.badges.models import Badge
from app.checkin.models import Admission, CertificateDelivery, Checkpoint, CheckpointKind
from app.checkin.services import CheckinError, as_utc, utc_now
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import country_name, format_day, format_day_range, to_event_time
from app.mail.services import deliver_now
from app.pdf import (
    GREY,
    Bilingual,
    BilingualText,
    QRCode,
    Styles,
    document_fonts,
    document_styles,
    in_current_language,
    joined,
    letterhead,
    render_pdf,
    translation_of,
)
from app.programme.models import ProgrammeSession
from app.registration.models import Registration
from app.registration.services import email_link
from app.web import absolute_url

CERTIFICATE_MAIL = "checkin/mail/certificate_ready.txt"
NAVY = colors.HexColor("#1f3a5f")
GOLD = colors.HexColor("#b08d3c")
PALE_GOLD = colors.HexColor("#f6f0e1")
RULE_GREY = colors.HexColor("#b9b9b9")
# The border: a heavy outer rule and a fine inner one, this far from the page's edges.
OUTER_INSET = 9 * mm
INNER_INSET = 11.5 * mm
CORNER = 7 * mm
QR_SIZE = 24 * mm
SIGNATURE_WIDTH = 64 * mm
# Attended days are shown as tiles, this many to a row.
DAYS_PER_ROW = 4
DAY_TILE_FORMAT = "EEEE, d MMMM"


# --- attendance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Attendance:
    """What a registration's badge was admitted to: the venue days and the sessions (each with
    the moment of its first admission), both in time order."""

    days: list[date]
    sessions: list[tuple[ProgrammeSession, datetime]]

    @property
    def attended(self) -> bool:
        """Whether the badge was admitted anywhere at all."""
        return bool(self.days)


def attendance_of(registration: Registration) -> Attendance:
    """The days and sessions the registration's badge was admitted to (one query).

    A day counts when the badge was admitted at any checkpoint on that venue day; a session
    counts when it was admitted at one of the session's doors (its first admission there).
    """
    rows = db.session.execute(
        select(Admission.day, Admission.admitted_at, ProgrammeSession)
        .join(Badge, Badge.id == Admission.badge_id)
        .join(Checkpoint, Checkpoint.id == Admission.checkpoint_id)
        .outerjoin(
            ProgrammeSession,
            and_(
                ProgrammeSession.id == Checkpoint.session_id,
                Checkpoint.kind == CheckpointKind.SESSION_DOOR.value,
            ),
        )
        .where(Badge.registration_id == registration.id)
        .options(joinedload(ProgrammeSession.room))
        .order_by(Admission.admitted_at, Admission.checkpoint_id)
    ).all()
    days: set[date] = set()
    sessions: dict[int, tuple[ProgrammeSession, datetime]] = {}
    for day, admitted_at, session in rows:
        days.add(day)
        if session is not None:
            # Rows come in time order: a session with two doors keeps its first admission.
            sessions.setdefault(session.id, (session, as_utc(admitted_at)))
    return Attendance(days=sorted(days), sessions=list(sessions.values()))


def has_attended(registration: Registration) -> bool:
    """Whether the registration's badge was admitted anywhere (one small query)."""
    return bool(
        db.session.scalar(
            select(
                select(Admission.badge_id)
                .join(Badge, Badge.id == Admission.badge_id)
                .where(Badge.registration_id == registration.id)
                .exists()
            )
        )
    )


# --- when a certificate may be had ----------------------------------------------------------


def congress_over(event: Event, today: date) -> bool:
    """Whether the congress has ended (today being the venue's calendar day)."""
    return today > event.ends_on


def first_certificate_day(event: Event) -> date:
    """The first day certificates can be had: the day after the congress."""
    return event.ends_on + timedelta(days=1)


def certificate_refusal(registration: Registration, *, attended: bool, today: date) -> str | None:
    """Why the registration has no certificate (a translated sentence), or None when it has."""
    event = registration.event
    if registration.erased_at is not None:
        return _("This registration's personal data was erased: there is no certificate to issue.")
    if not congress_over(event, today):
        return _(
            "Certificates of attendance can be downloaded after the congress, from %(day)s.",
            day=format_day(first_certificate_day(event)),
        )
    if not attended:
        return _(
            "No admission was recorded with this badge at the congress, so there is no "
            "certificate of attendance."
        )
    return None


# --- the PDF --------------------------------------------------------------------------------


class PageBorder(Flowable):
    """The certificate's border: a heavy outer rule, a fine inner one and gold corner marks,
    around the page this (zero-size) flowable stands on."""

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Takes no room in the text."""
        return 0, 0

    def draw(self) -> None:
        """Paint in page coordinates: undo the translation to where the flowable stands."""
        canvas = self.canv
        origin_x, origin_y = canvas.absolutePosition(0, 0)
        page_width, page_height = A4
        canvas.saveState()
        canvas.translate(-origin_x, -origin_y)
        canvas.setStrokeColor(NAVY)
        canvas.setLineWidth(2.4)
        canvas.rect(
            OUTER_INSET, OUTER_INSET, page_width - 2 * OUTER_INSET, page_height - 2 * OUTER_INSET
        )
        canvas.setStrokeColor(GOLD)
        canvas.setLineWidth(0.7)
        canvas.rect(
            INNER_INSET, INNER_INSET, page_width - 2 * INNER_INSET, page_height - 2 * INNER_INSET
        )
        canvas.setFillColor(GOLD)
        for x in (OUTER_INSET, page_width - OUTER_INSET):
            for y in (OUTER_INSET, page_height - OUTER_INSET):
                # A small diamond on each corner of the outer rule.
                path = canvas.beginPath()
                path.moveTo(x, y - CORNER / 2)
                path.lineTo(x + CORNER / 2, y)
                path.lineTo(x, y + CORNER / 2)
                path.lineTo(x - CORNER / 2, y)
                path.close()
                canvas.drawPath(path, stroke=0, fill=1)
        canvas.restoreState()


def _certificate_styles() -> Styles:
    """The shared document styles plus the certificate's own (large title and name)."""
    styles = document_styles()
    fonts = document_fonts()
    body = styles["body"]
    centred = ParagraphStyle("centred", parent=body, fontSize=10.5, leading=14, alignment=TA_CENTER)
    return {
        **styles,
        "centred": centred,
        "centred_translation": ParagraphStyle(
            "centred_translation", parent=styles["translation"], fontSize=9, leading=11.5,
            alignment=TA_CENTER,
        ),
        "certificate_title": ParagraphStyle(
            "certificate_title", parent=body, fontName=fonts.bold, fontSize=25, leading=30,
            alignment=TA_CENTER, textColor=NAVY,
        ),
        "certificate_title_translation": ParagraphStyle(
            "certificate_title_translation", parent=body, fontName=fonts.italic, fontSize=14,
            leading=18, alignment=TA_CENTER, textColor=GOLD,
        ),
        "name": ParagraphStyle(
            "name", parent=body, fontName=fonts.bold, fontSize=23, leading=28,
            alignment=TA_CENTER, textColor=NAVY,
        ),
        "affiliation": ParagraphStyle(
            "affiliation", parent=centred, fontSize=11.5, leading=15, textColor=colors.black
        ),
        "section": ParagraphStyle(
            "section", parent=body, fontName=fonts.bold, fontSize=10.5, leading=13,
            alignment=TA_CENTER, textColor=NAVY,
        ),
        "day": ParagraphStyle(
            "day", parent=body, fontName=fonts.bold, fontSize=8.5, leading=10.5,
            alignment=TA_CENTER, textColor=colors.white,
        ),
        "day_translation": ParagraphStyle(
            "day_translation", parent=body, fontName=fonts.italic, fontSize=7.5, leading=9.5,
            alignment=TA_CENTER, textColor=colors.HexColor("#dfe6ee"),
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        "cell_bold": ParagraphStyle("cell_bold", parent=body, fontName=fonts.bold, fontSize=8.5,
                                    leading=10.5),
        "cell_note": ParagraphStyle(
            "cell_note", parent=body, fontName=fonts.italic, fontSize=7, leading=9, textColor=GREY
        ),
        "header_translation": ParagraphStyle(
            "header_translation", parent=body, fontName=fonts.italic, fontSize=7, leading=9,
            textColor=colors.HexColor("#dfe6ee"),
        ),
        "header_cell": ParagraphStyle(
            "header_cell", parent=body, fontName=fonts.bold, fontSize=8, leading=10,
            textColor=colors.white,
        ),
    }  # fmt: skip


def _centred(both: Bilingual, styles: Styles, style: str = "centred") -> list[Flowable]:
    """A centred paragraph with its translation beneath (once when both are the same)."""
    flowables: list[Flowable] = [Paragraph(escape(both[0]), styles[style])]
    translation = translation_of(both)
    if translation:
        flowables.append(Paragraph(escape(translation), styles["centred_translation"]))
    return flowables


def _section_heading(both: Bilingual, styles: Styles) -> Paragraph:
    """A section's heading on one line, the translation after it in grey italics."""
    text = escape(both[0])
    translation = translation_of(both)
    if translation:
        text += f' <font color="#555555" size="9.5"><i>/ {escape(translation)}</i></font>'
    return Paragraph(text, styles["section"])


def _cell(both: Bilingual, styles: Styles, style: str, note_style: str = "cell_note") -> list:
    """A table cell: the text in the document's language, the translation beneath."""
    cell = [Paragraph(escape(both[0]), styles[style])]
    translation = translation_of(both)
    if translation:
        cell.append(Paragraph(escape(translation), styles[note_style]))
    return cell


def _clock(moment: datetime) -> str:
    """A moment's WITA wall time, "09:00"."""
    return format_time(to_event_time(moment), "HH:mm", locale=get_locale())


def _title(both: BilingualText, styles: Styles) -> list[Flowable]:
    """ "CERTIFICATE OF ATTENDANCE" large, its translation beneath in gold."""
    title = both(lambda: _("Certificate of Attendance"))
    flowables: list[Flowable] = [Paragraph(escape(title[0].upper()), styles["certificate_title"])]
    translation = translation_of(title)
    if translation:
        flowables.append(Paragraph(escape(translation), styles["certificate_title_translation"]))
    return [*flowables, Spacer(1, 3 * mm)]


def _holder(registration: Registration, both: BilingualText, styles: Styles) -> list[Flowable]:
    """The delegate as on their badge: name, then country and organisation."""
    country = joined(both(lambda: country_name(registration.nationality)))
    affiliation = " · ".join(part for part in (country, registration.organisation) if part)
    return [
        *_centred(both(lambda: _("This is to certify that")), styles),
        Spacer(1, 3 * mm),
        Paragraph(escape(registration.badge_name), styles["name"]),
        Spacer(1, 1 * mm),
        Paragraph(escape(affiliation), styles["affiliation"]),
        Spacer(1, 4 * mm),
    ]


def _congress(event: Event, both: BilingualText, styles: Styles) -> list[Flowable]:
    """What was attended: the congress, its theme, where and when, in both languages."""
    attended = both(
        lambda: _(
            "attended the %(congress)s, on the theme “%(theme)s”, held at the %(venue)s, "
            "%(city)s, %(country)s, from %(dates)s.",
            congress=in_current_language(event.name),
            theme=in_current_language(event.theme),
            venue=event.venue,
            city=event.city,
            country=country_name(event.country),
            dates=format_day_range(event.starts_on, event.ends_on),
        )
    )
    return [*_centred(attended, styles), Spacer(1, 4 * mm)]


def _days(event: Event, days: list[date], both: BilingualText, styles: Styles) -> list[Flowable]:
    """The days attended as navy tiles, weekday and date in both languages."""
    heading = both(
        lambda: _("Days attended: %(count)d of %(total)d", count=len(days), total=event.days)
    )
    tiles = [
        _cell(
            both(lambda day=day: format_day(day, DAY_TILE_FORMAT)), styles, "day", "day_translation"
        )
        for day in days
    ]
    rows = [tiles[start : start + DAYS_PER_ROW] for start in range(0, len(tiles), DAYS_PER_ROW)]
    columns = min(len(tiles), DAYS_PER_ROW)
    rows[-1] += [""] * (columns - len(rows[-1]))
    table = Table(
        rows,
        colWidths=[40 * mm] * columns,
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), NAVY),
                ("LINEAFTER", (0, 0), (-2, -1), 3, colors.white),
                ("LINEBELOW", (0, 0), (-1, -2), 3, colors.white),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        ),
    )
    return [_section_heading(heading, styles), Spacer(1, 2 * mm), table, Spacer(1, 4 * mm)]


def _sessions(
    sessions: list[tuple[ProgrammeSession, datetime]], both: BilingualText, styles: Styles
) -> list[Flowable]:
    """The sessions attended: day, scheduled time and entry (WITA), title, room."""
    heading = [
        _section_heading(
            both(lambda: _("Sessions attended: %(count)d", count=len(sessions))), styles
        )
    ]
    if not sessions:
        note = both(lambda: _("No session door recorded this badge; the days above count."))
        return [*heading, Spacer(1, 1.5 * mm), *_centred(note, styles), Spacer(1, 6 * mm)]
    header = [
        _cell(both(lambda: _("Date")), styles, "header_cell", "header_translation"),
        _cell(both(lambda: _("Time (WITA)")), styles, "header_cell", "header_translation"),
        _cell(both(lambda: _("Session")), styles, "header_cell", "header_translation"),
        _cell(both(lambda: _("Room")), styles, "header_cell", "header_translation"),
    ]
    rows: list[list] = [header]
    for session, admitted_at in sessions:
        starts_at = session.starts_at or admitted_at
        day = to_event_time(starts_at).date()
        if session.starts_at is not None and session.ends_at is not None:
            when = [
                Paragraph(f"{_clock(session.starts_at)}–{_clock(session.ends_at)}", styles["cell"])
            ]
        else:
            # A session taken off the timetable since: when the delegate went in.
            entered = both(lambda moment=admitted_at: _("entry %(time)s", time=_clock(moment)))
            when = _cell(entered, styles, "cell")
        place = session.room.name if session.room is not None else session.location_note
        rows.append(
            [
                _cell(both(lambda day=day: format_day(day, "EEE, d MMM")), styles, "cell"),
                when,
                _cell(
                    (session.title.get(both.primary), session.title.get(both.secondary)),
                    styles,
                    "cell_bold",
                ),
                Paragraph(escape(place or "—"), styles["cell"]),
            ]
        )
    table = Table(
        rows,
        colWidths=[24 * mm, 28 * mm, None, 34 * mm],
        repeatRows=1,
        style=TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), NAVY),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, PALE_GOLD]),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE_GREY),
                ("BOX", (0, 0), (-1, -1), 0.6, NAVY),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        ),
    )
    return [*heading, Spacer(1, 2 * mm), table, Spacer(1, 5 * mm)]


def verification_url(registration: Registration) -> str:
    """Where an organiser opens the authoritative copy of a certificate (sign-in required)."""
    return absolute_url("checkin.registration_certificate", reference=registration.reference)


def _closing(registration: Registration, both: BilingualText, styles: Styles) -> list[Flowable]:
    """One row at the foot: place, date and the committee's signature; the verification line;
    the QR code organisers scan to open the record, with the certificate number."""
    event = registration.event
    given_at = both(lambda: _("%(city)s, %(day)s", city=event.city, day=format_day(event.ends_on)))
    signature = [
        *_cell(given_at, styles, "body", "translation"),
        Spacer(1, 9 * mm),
        Table(
            [[""]], colWidths=[SIGNATURE_WIDTH - 6 * mm], rowHeights=[1],
            style=TableStyle([("LINEABOVE", (0, 0), (-1, -1), 0.6, colors.black)]),
        ),
        *_cell(both(lambda: _("Organising Committee")), styles, "value", "translation"),
    ]  # fmt: skip
    verification = both(
        lambda: _(
            "Certificate number %(number)s, drawn from the congress's check-in records. The "
            "organising committee confirms it on request; its staff open the record from the "
            "QR code.",
            number=registration.reference,
        )
    )
    seal = [
        QRCode(verification_url(registration), QR_SIZE),
        Paragraph(escape(registration.reference), styles["code"]),
    ]
    return [
        Table(
            [[signature, _cell(verification, styles, "small", "translation"), seal]],
            colWidths=[SIGNATURE_WIDTH, None, QR_SIZE + 2 * mm],
            style=TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                    ("LEFTPADDING", (0, 0), (0, 0), 0),
                    ("RIGHTPADDING", (-1, 0), (-1, 0), 0),
                ]
            ),
        )
    ]


def certificate_pdf(registration: Registration, attendance: Attendance) -> bytes:
    """The certificate of attendance as an A4 PDF: the delegate's language first, the other
    beneath each text."""
    styles = _certificate_styles()
    event = registration.event
    both = BilingualText(registration.language)
    story: list[Flowable] = [
        # The border on this page and on every page after it (a long list of sessions).
        SetPageTopFlowables([PageBorder()], show=True),
        *letterhead(event, both, styles),
        Spacer(1, 2 * mm),
        *_title(both, styles),
        *_holder(registration, both, styles),
        *_congress(event, both, styles),
        *_days(event, attendance.days, both, styles),
        *_sessions(attendance.sessions, both, styles),
        *_closing(registration, both, styles),
    ]
    with force_locale(both.primary):
        title = _("Certificate of attendance: %(name)s", name=registration.badge_name)
    return render_pdf(
        story, language=both.primary, title=title, subject=event.name.get(both.primary)
    )


# --- telling delegates ----------------------------------------------------------------------


@dataclass
class CertificateRun:
    """How a run went: messages delivered and recorded, messages that could not be sent."""

    sent: int = 0
    failed: int = 0


def registrations_awaiting_certificate(event: Event) -> list[Registration]:
    """The event's attending delegates not yet told that their certificate is ready."""
    admitted = (
        select(Admission.badge_id)
        .join(Badge, Badge.id == Admission.badge_id)
        .where(Badge.registration_id == Registration.id)
        .exists()
    )
    told = (
        select(CertificateDelivery.registration_id)
        .where(CertificateDelivery.registration_id == Registration.id)
        .exists()
    )
    return list(
        db.session.scalars(
            select(Registration)
            .where(
                Registration.event_id == event.id,
                Registration.erased_at.is_(None),
                admitted,
                ~told,
            )
            .order_by(Registration.id)
        )
    )


def send_certificate_notices(event: Event, *, today: date) -> CertificateRun:
    """Email every attending delegate, in their language, that their certificate is ready.

    Refused (CheckinError) until the congress is over. A batch job, like the reminders: each
    message is its own unit of work, delivered first, then recorded and committed; one the
    mail server refused is logged and left unrecorded, so the next run sends it, and a rerun
    sends nothing twice.
    """
    if not congress_over(event, today):
        raise CheckinError(
            _(
                "The congress ends on %(day)s: certificates can be sent from %(first)s.",
                day=format_day(event.ends_on),
                first=format_day(first_certificate_day(event)),
            ),
            "congress_not_over",
        )
    link = email_link("registration.my_registration")
    run = CertificateRun()
    for registration in registrations_awaiting_certificate(event):
        registration_id = registration.id
        try:
            deliver_now(
                registration.email,
                registration.language,
                CERTIFICATE_MAIL,
                registration=registration,
                event=event,
                link=link,
            )
        except (OSError, smtplib.SMTPException):
            current_app.logger.exception(
                "certificate notice to registration %s not delivered", registration_id
            )
            run.failed += 1
            continue
        db.session.add(CertificateDelivery(registration_id=registration_id, sent_at=utc_now()))
        try:
            db.session.commit()
        except IntegrityError:
            # A run started at the same time recorded (and sent) this one first.
            db.session.rollback()
            current_app.logger.warning(
                "certificate notice to registration %s was also sent by another run",
                registration_id,
            )
            continue
        run.sent += 1
    return run
