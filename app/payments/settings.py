"""An event's payment settings: the refund deadline and the bank account for transfers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

from app.auth.models import User
from app.events.models import Event
from app.extensions import db
from app.i18n.text import TranslatedText
from app.payments.models import PaymentSettings
from app.payments.services import PaymentError
from app.registration.services import check_may_manage
from app.validation import check_date_in_range, clean_text

# The columns' sizes.
MAX_BANK_NAME_LENGTH = 200
MAX_ACCOUNT_NAME_LENGTH = 200
MAX_ACCOUNT_NUMBER_LENGTH = 64
MAX_SWIFT_LENGTH = 20
MAX_INSTRUCTIONS_LENGTH = 2000


@dataclass
class PaymentSettingsDetails:
    """What an organiser types on the payment settings page."""

    refund_until: date | None = None
    bank_name: str | None = None
    bank_account_name: str | None = None
    bank_account_number: str | None = None
    bank_swift: str | None = None
    bank_instructions: TranslatedText | None = None


def payment_settings_for(event: Event) -> PaymentSettings | None:
    """The event's payment settings, if organisers saved any."""
    return db.session.get(PaymentSettings, event.id)


def bank_transfer_available(settings: PaymentSettings | None) -> bool:
    """Whether delegates can be told where to transfer: a bank, a holder and an account."""
    return bool(
        settings
        and settings.bank_name
        and settings.bank_account_name
        and settings.bank_account_number
    )


def _clean(value: str | None, field: str, max_length: int) -> str | None:
    """Trimmed one-line text or None, refused when too long or holding control characters."""
    return clean_text(value, field=field, max_length=max_length, error=PaymentError)


def _clean_instructions(text: TranslatedText | None) -> TranslatedText | None:
    """The bilingual instructions checked in each language; None when empty."""
    if text is None or text.is_empty():
        return None
    values = {
        language: clean_text(
            text.in_language(language),
            field="bank_instructions",
            max_length=MAX_INSTRUCTIONS_LENGTH,
            multiline=True,
            error=PaymentError,
        )
        for language in text.as_dict()
    }
    return TranslatedText(values)


def save_payment_settings(
    event: Event, details: PaymentSettingsDetails, *, actor: User | None
) -> PaymentSettings:
    """Save the refund deadline and bank details (all four bank fields or none of them)."""
    check_may_manage(actor)
    check_date_in_range(details.refund_until, field="refund_until", error=PaymentError)
    if details.refund_until is not None and details.refund_until > event.ends_on:
        raise PaymentError(
            _l("Choose a day no later than the congress's last day."),
            "refund_after_event",
            field="refund_until",
        )
    values = {
        "bank_name": _clean(details.bank_name, "bank_name", MAX_BANK_NAME_LENGTH),
        "bank_account_name": _clean(
            details.bank_account_name, "bank_account_name", MAX_ACCOUNT_NAME_LENGTH
        ),
        "bank_account_number": _clean(
            details.bank_account_number, "bank_account_number", MAX_ACCOUNT_NUMBER_LENGTH
        ),
        "bank_swift": (_clean(details.bank_swift, "bank_swift", MAX_SWIFT_LENGTH) or "").upper()
        or None,
    }
    required = ("bank_name", "bank_account_name", "bank_account_number")
    if any(values.values()):
        missing = next((name for name in required if not values[name]), None)
        if missing is not None:
            raise PaymentError(
                _l("Give the bank, the account holder and the account number together."),
                "bank_details_incomplete",
                field=missing,
            )
    settings = payment_settings_for(event)
    if settings is None:
        settings = PaymentSettings(event_id=event.id)
        db.session.add(settings)
    settings.refund_until = details.refund_until
    for name, value in values.items():
        setattr(settings, name, value)
    settings.bank_instructions = _clean_instructions(details.bank_instructions)
    db.session.flush()
    return settings
