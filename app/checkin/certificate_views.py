"""Certificates of attendance: the delegate's own PDF, any delegate's for the organisers, and
what the delegate's registration page says about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from io import BytesIO

from flask import abort, send_file
from sqlalchemy.orm import joinedload

from app.auth.access import allow
from app.auth.models import Role
from app.checkin.certificates import (
    attendance_of,
    certificate_pdf,
    certificate_refusal,
    congress_over,
    first_certificate_day,
    has_attended,
)
from app.checkin.views import bp
from app.errors import abort_with
from app.events.services import current_event
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import event_today, find_registration
from app.registration.views import own_registration_or_404


def _certificate_response(registration: Registration):
    """The registration's certificate as a PDF download, or a page saying why there is none."""
    attendance = attendance_of(registration)
    refusal = certificate_refusal(registration, attended=attendance.attended, today=event_today())
    if refusal is not None:
        abort_with(404, refusal)
    response = send_file(
        BytesIO(certificate_pdf(registration, attendance)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"certificate-of-attendance-{registration.reference}.pdf",
    )
    # It carries a name and whereabouts: no shared cache keeps it.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/checkin/my-certificate.pdf")
@allow(Role.DELEGATE)
def my_certificate():
    """The signed-in delegate's certificate of attendance for the current congress."""
    return _certificate_response(own_registration_or_404())


@bp.get("/organiser/checkin/certificates/<reference>.pdf")
@allow(Role.ORGANISER, Role.ADMIN)
def registration_certificate(reference: str):
    """Any delegate's certificate of attendance, by registration reference."""
    event = current_event()
    if event is None:
        abort(404)
    registration = find_registration(
        event,
        reference,
        joinedload(Registration.event),
        joinedload(Registration.partner),
    )
    if registration is None:
        abort(404)
    return _certificate_response(registration)


@dataclass(frozen=True)
class CertificatePanel:
    """What the delegate's page says about the certificate: "available", "later" (the
    congress is not over) or "none" (nothing was recorded with the badge)."""

    state: str
    from_day: date


@bp.app_template_global()
def certificate_panel(registration: Registration) -> CertificatePanel | None:
    """The certificate's state for the delegate's page, or None when there is nothing to say."""
    if registration.erased_at is not None:
        return None
    event = registration.event
    from_day = first_certificate_day(event)
    if not congress_over(event, event_today()):
        if registration.status != RegistrationStatus.CONFIRMED.value:
            return None
        return CertificatePanel("later", from_day)
    return CertificatePanel("available" if has_attended(registration) else "none", from_day)
