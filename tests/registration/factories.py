"""Factories shared by the registration tests: the event, its window, types, details,
registrations. They add and flush; the test commits when it needs to."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from app.events.models import Event
from app.events.services import ensure_event
from app.extensions import db
from app.i18n.text import TranslatedText
from app.registration import services
from app.registration.models import (
    Registration,
    RegistrationFee,
    RegistrationSettings,
    RegistrationType,
)
from app.registration.services import RegistrationDetails

WCPP_STARTS_ON = date(2026, 4, 14)
WCPP_ENDS_ON = date(2026, 4, 17)
PASSPORT_VALID_UNTIL = date(2031, 6, 30)
BIRTH_DATE = date(1979, 8, 17)
USD_FEE = 45_000  # USD 450.00 in cents
IDR_FEE = 450_000_000  # Rp 4.500.000 in sen (ISO 4217 minor units, as Stripe counts)

_numbers = itertools.count(1)


def make_event(**overrides: Any) -> Event:
    """The WCPP 2026 event (the app's current event), with registration open today."""
    values: dict[str, Any] = {
        "slug": "wcpp2026",
        "short_name": "WCPP 2026",
        "name": TranslatedText(
            en="7th World Congress on Probation and Parole",
            id="Kongres Dunia ke-7 tentang Probation dan Parole",
        ),
        "theme": TranslatedText(en="Getting Smart on Justice", id="Getting Smart on Justice"),
        "host": TranslatedText(
            en="Directorate General of Corrections", id="Direktorat Jenderal Pemasyarakatan"
        ),
        "starts_on": WCPP_STARTS_ON,
        "ends_on": WCPP_ENDS_ON,
        "venue": "Bali International Convention Center",
        "city": "Nusa Dua, Bali",
        "country": "ID",
        "timezone": "Asia/Makassar",
        "default_language": "en",
        **overrides,
    }
    event = ensure_event(**values)
    open_registration(event)
    return event


def open_registration(event: Event, **overrides: Any) -> RegistrationSettings:
    """Registration settings with a window around today (overrides: any settings field)."""
    today = services.event_today()
    values: dict[str, Any] = {
        "opens_on": today - timedelta(days=60),
        "closes_on": today + timedelta(days=60),
        "edit_cutoff_on": None,
        "waitlist_offer_hours": 48,
        "passport_retention_days": 90,
        **overrides,
    }
    return services.save_settings(event, actor=None, **values)


def make_type(
    event: Event,
    code: str | None = None,
    *,
    name: str | None = None,
    usd: int | None = USD_FEE,
    idr: int | None = IDR_FEE,
    early_bird_usd: int | None = None,
    early_bird_idr: int | None = None,
    early_bird_until: date | None = None,
    capacity: int | None = None,
    needs_approval: bool = False,
    is_free: bool = False,
    active: bool = True,
) -> RegistrationType:
    """A registration type with USD and IDR fees (flushed)."""
    code = code or f"type-{next(_numbers)}"
    registration_type = RegistrationType(
        event_id=event.id,
        code=code,
        name=TranslatedText(en=name or f"Delegate ({code})", id=f"Delegasi ({code})"),
        capacity=capacity,
        needs_approval=needs_approval,
        is_free=is_free,
        early_bird_until=early_bird_until,
        active=active,
    )
    for currency, amount, early in (("USD", usd, early_bird_usd), ("IDR", idr, early_bird_idr)):
        if amount is not None and not is_free:
            registration_type.fees.append(
                RegistrationFee(
                    currency=currency, amount_minor=amount, early_bird_amount_minor=early
                )
            )
    db.session.add(registration_type)
    db.session.flush()
    return registration_type


def details(registration_type: RegistrationType, **overrides: Any) -> RegistrationDetails:
    """Valid details of a new (numbered) delegate for this type; overrides replace fields."""
    number = next(_numbers)
    base = RegistrationDetails(
        registration_type_id=registration_type.id,
        title="Dr",
        given_name=f"Amara{number}",
        family_name="Okonkwo",
        nationality="NG",
        residence_country="NG",
        email=f"delegate{number}@probation.example",
        organisation_name="Nigerian Correctional Service",
        position="Deputy Controller",
        phone="+234 803 555 0100",
        language="en",
        privacy_consent=True,
    )
    return replace(base, **overrides)


def visa_details(registration_type: RegistrationType, **overrides: Any) -> RegistrationDetails:
    """Valid details of a delegate who needs a visa invitation letter."""
    values: dict[str, Any] = {
        "needs_visa_letter": True,
        "passport_number": "A12345678",
        "passport_expiry": PASSPORT_VALID_UNTIL,
        "birth_date": BIRTH_DATE,
        "birth_place": "Lagos",
        **overrides,
    }
    return details(registration_type, **values)


def make_registration(
    event: Event, registration_type: RegistrationType, **overrides: Any
) -> Registration:
    """A registration made through register_delegate (flushed; its emails are queued)."""
    registration, _created = services.register_delegate(
        event, details(registration_type, **overrides)
    )
    return registration


def count_rows(model: Any) -> int:
    """How many rows a table holds."""
    return db.session.scalar(select(func.count()).select_from(model))
