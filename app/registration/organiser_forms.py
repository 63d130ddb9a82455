"""Organiser forms: registration settings, registration types with fees, list filters,
rejection reasons and resent emails."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import DateField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from app.forms import MAX_DATABASE_INT, KongresForm, optional_int
from app.i18n.fields import InAnyLanguage, TranslatedTextField
from app.i18n.formatting import minor_unit_exponent
from app.registration.forms import TOO_LONG, EditRegistrationForm, column_max
from app.registration.models import (
    CURRENCIES,
    REGISTRATION_STATUS_LABELS,
    Delegation,
    Registration,
    RegistrationType,
)
from app.registration.services import (
    MAX_REASON_LENGTH,
    MAX_SEARCH_LENGTH,
    FeeDetails,
    RegistrationTypeDetails,
)

# The lengths save_registration_type() accepts.
MAX_TYPE_NAME_LENGTH = 200
MAX_TYPE_DESCRIPTION_LENGTH = 2000
MAX_TYPE_CODE_LENGTH = 64
# Positions order a handful of types; a larger number is a typing slip.
MAX_TYPE_POSITION = 10_000
# A plain amount ("4500000"), or one grouped by thousands with dots, commas or spaces
# ("4.500.000", "4,500,000"), then optionally up to two decimals after the other separator.
AMOUNT_PATTERN = re.compile(
    r"(?P<whole>\d{1,3}(?:(?P<group>[.,])\d{3})(?:(?P=group)\d{3})*|\d+)"
    r"(?:(?P<point>[.,])(?P<fraction>\d{1,2}))?"
)
CURRENCY_MARKS = re.compile(r"(?i)rp|usd|idr|us|[$\s\u00a0\u202f]")
# Example amounts shown in hints and errors, per currency.
AMOUNT_EXAMPLES = {"USD": "450.00", "IDR": "4.500.000"}
CURRENCY_LABELS = {"USD": _l("US dollars (USD)"), "IDR": _l("Indonesian rupiah (IDR)")}
RESEND_KINDS = {
    "confirmation": _l("Email-address confirmation"),
    "status": _l("Current state of the registration"),
}


def parse_major_amount(text: str, currency: str) -> int:
    """Money typed in major units ("450.00", "4.500.000", "Rp 4.500.000") as minor units.

    Raises ValueError for anything else: negative, more decimals than the currency has, or
    more than a database integer holds.
    """
    cleaned = CURRENCY_MARKS.sub("", text)
    match = AMOUNT_PATTERN.fullmatch(cleaned)
    if match is None or (match["group"] and match["group"] == match["point"]):
        raise ValueError("not an amount")
    whole = match["whole"].replace(match["group"] or "_", "")
    amount = Decimal(f"{whole}.{match['fraction'] or 0}")
    minor = amount * 10 ** minor_unit_exponent(currency)
    if minor != minor.to_integral_value() or minor > MAX_DATABASE_INT:
        raise ValueError("out of range")
    return int(minor)


def format_major_amount(amount_minor: int, currency: str) -> str:
    """Minor units as the organiser types them: 450.00 for dollars, 4.500.000 for rupiah."""
    precision = minor_unit_exponent(currency)
    whole, fraction = divmod(amount_minor, 10**precision)
    if currency == "IDR":
        grouped = f"{whole:,}".replace(",", ".")
        return grouped if not fraction else f"{grouped},{fraction:0{precision}d}"
    return f"{whole}.{fraction:0{precision}d}"


class MoneyField(StringField):
    """An amount in one currency typed in major units; data is minor units or None."""

    def __init__(self, label: Any = None, validators: Any = None, *, currency: str, **kwargs):
        kwargs.setdefault(
            "description", _l("For example %(amount)s", amount=AMOUNT_EXAMPLES[currency])
        )
        super().__init__(label, validators or [Optional()], **kwargs)
        self.currency = currency

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Parse the typed amount; a blank input means no amount."""
        self.data = None
        text = str(valuelist[0]).strip() if valuelist else ""
        if not text:
            return
        try:
            self.data = parse_major_amount(text, self.currency)
        except ValueError as error:
            raise ValueError(
                _l(
                    "Enter an amount such as %(example)s (up to %(max)s).",
                    example=AMOUNT_EXAMPLES[self.currency],
                    max=format_major_amount(MAX_DATABASE_INT, self.currency),
                )
            ) from error

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else format_major_amount(self.data, self.currency)


def _status_choices(blank: object) -> list[SelectChoice]:
    """Every state in words, after a blank "any" option."""
    states = [
        SelectChoice(status.value, label) for status, label in REGISTRATION_STATUS_LABELS.items()
    ]
    return [SelectChoice("", blank), *states]


class RegistrationFilterForm(KongresForm):
    """The registrations list's search and filters, read from the query string."""

    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(
        _l("Search"),
        validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)],
        description=_l("Name, email, reference or organisation"),
    )
    country = SelectField(_l("Country"), default="")
    type_id = SelectField(_l("Registration type"), coerce=optional_int)
    status = SelectField(_l("State"), choices=_status_choices(_l("All states")), default="")
    delegation_id = SelectField(_l("Delegation"), coerce=optional_int)

    def use_choices(
        self,
        *,
        countries: Iterable[tuple[str, str]],
        types: Iterable[RegistrationType],
        delegations: Iterable[Delegation],
    ) -> None:
        """Fill the country, type and delegation selects."""
        self.country.choices = [
            SelectChoice("", _l("All countries")),
            *(SelectChoice(code, name) for code, name in countries),
        ]
        self.type_id.choices = [
            SelectChoice("", _l("All types")),
            *(SelectChoice(str(item.id), str(item.name)) for item in types),
        ]
        self.delegation_id.choices = [
            SelectChoice("", _l("All delegations")),
            *(SelectChoice(str(item.id), item.name) for item in delegations),
        ]

    def filters(self) -> dict[str, Any]:
        """The valid filters as registration_query() takes them; invalid ones are left out."""
        self.validate()
        names = ("q", "country", "type_id", "status", "delegation_id")
        return {
            name: getattr(self, name).data or None
            for name in names
            if not getattr(self, name).errors
        }


class RegistrationSettingsForm(KongresForm):
    """An event's registration window and rules."""

    opens_on = DateField(_l("Registration opens on"), validators=[InputRequired()])
    closes_on = DateField(_l("Registration closes on"), validators=[InputRequired()])
    edit_cutoff_on = DateField(
        _l("Delegates may change their details until"),
        validators=[Optional()],
        description=_l("Leave empty to allow changes until the congress begins."),
    )
    waitlist_offer_hours = IntegerField(
        _l("A place offered from the waiting list is held for (hours)"),
        validators=[InputRequired(), NumberRange(1, 720)],
        default=48,
    )
    passport_retention_days = IntegerField(
        _l("Passport data is deleted this many days after the congress"),
        validators=[InputRequired(), NumberRange(0, 3650)],
        default=90,
    )


class RegistrationTypeForm(KongresForm):
    """A registration type with its bilingual name, rules and fees per currency."""

    name = TranslatedTextField(_l("Name"), [InAnyLanguage()], max_length=MAX_TYPE_NAME_LENGTH)
    description = TranslatedTextField(
        _l("Description"), multiline=True, max_length=MAX_TYPE_DESCRIPTION_LENGTH
    )
    code = StringField(
        _l("Code"),
        # The service checks the characters allowed, for every caller alike.
        validators=[
            InputRequired(message=_l("Enter a short code for the type.")),
            Length(max=MAX_TYPE_CODE_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={"maxlength": MAX_TYPE_CODE_LENGTH},
        description=_l("A short name for exports, e.g. government-delegate."),
    )
    # The service checks the range, so that every caller gets the same message.
    capacity = IntegerField(
        _l("Capacity"),
        validators=[Optional()],
        description=_l("How many places; leave empty for no limit."),
    )
    needs_approval = BooleanField(_l("An organiser approves each registration"))
    is_free = BooleanField(_l("Free of charge"))
    fee_usd = MoneyField(_l("Fee in US dollars"), currency="USD")
    fee_idr = MoneyField(_l("Fee in rupiah"), currency="IDR")
    early_bird_until = DateField(
        _l("Early-bird fees until"),
        validators=[Optional()],
        description=_l("The last day the early-bird fees apply."),
    )
    early_bird_fee_usd = MoneyField(_l("Early-bird fee in US dollars"), currency="USD")
    early_bird_fee_idr = MoneyField(_l("Early-bird fee in rupiah"), currency="IDR")
    active = BooleanField(_l("Open for registration"), default=True)
    position = IntegerField(
        _l("Position in lists"),
        validators=[Optional(), NumberRange(0, MAX_TYPE_POSITION)],
        default=0,
        description=_l("Types are listed from the lowest number."),
    )

    def fee_fields(self) -> dict[str, tuple[MoneyField, MoneyField]]:
        """Each currency's regular and early-bird amount fields."""
        return {
            currency: (
                getattr(self, f"fee_{currency.lower()}"),
                getattr(self, f"early_bird_fee_{currency.lower()}"),
            )
            for currency in CURRENCIES
        }

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, then early-bird amounts that make sense: a regular fee beside each,
        no higher than it, and a last day for them."""
        valid = super().validate(extra_validators)
        any_early_bird = False
        for regular, early in self.fee_fields().values():
            if early.data is None or early.errors or regular.errors:
                continue
            any_early_bird = True
            if regular.data is None:
                early.errors = [*early.errors, _l("Give the regular fee in this currency too.")]
                valid = False
            elif early.data > regular.data:
                early.errors = [*early.errors, _l("The early-bird fee cannot exceed the fee.")]
                valid = False
        if (
            any_early_bird
            and self.early_bird_until.data is None
            and not self.early_bird_until.errors
        ):
            self.early_bird_until.errors = [
                *self.early_bird_until.errors,
                _l("Give the last day of the early-bird fees."),
            ]
            valid = False
        return valid

    def details(self) -> RegistrationTypeDetails:
        """What was typed, for save_registration_type()."""
        return RegistrationTypeDetails(
            code=self.code.data,
            name=self.name.data,
            description=self.description.data,
            capacity=self.capacity.data,
            needs_approval=bool(self.needs_approval.data),
            is_free=bool(self.is_free.data),
            early_bird_until=self.early_bird_until.data,
            fees=[
                FeeDetails(
                    currency=currency,
                    amount_minor=regular.data,
                    early_bird_amount_minor=early.data,
                )
                for currency, (regular, early) in self.fee_fields().items()
            ],
            active=bool(self.active.data),
            position=self.position.data or 0,
        )

    @staticmethod
    def data_from(registration_type: RegistrationType) -> dict[str, Any]:
        """A type's stored values as the form's initial data."""
        fees = {fee.currency: fee for fee in registration_type.fees}
        data: dict[str, Any] = {
            "name": registration_type.name,
            "description": registration_type.description,
            "code": registration_type.code,
            "capacity": registration_type.capacity,
            "needs_approval": registration_type.needs_approval,
            "is_free": registration_type.is_free,
            "early_bird_until": registration_type.early_bird_until,
            "active": registration_type.active,
            "position": registration_type.position,
        }
        for currency in CURRENCIES:
            fee = fees.get(currency)
            data[f"fee_{currency.lower()}"] = fee.amount_minor if fee else None
            data[f"early_bird_fee_{currency.lower()}"] = (
                fee.early_bird_amount_minor if fee else None
            )
        return data


class RejectForm(KongresForm):
    """Reject a registration, saying why (the delegate reads the reason)."""

    reason = TextAreaField(
        _l("Reason"),
        validators=[
            InputRequired(
                message=_l("Give the reason for the rejection: the delegate will read it.")
            ),
            Length(max=MAX_REASON_LENGTH),
        ],
        description=_l("Sent to the delegate in the email telling them."),
    )


class ResendForm(KongresForm):
    """Send one of a registration's emails again."""

    kind = SelectField(
        _l("Email"), choices=[SelectChoice(kind, label) for kind, label in RESEND_KINDS.items()]
    )


class ConfirmForm(KongresForm):
    """A button that only needs the CSRF token (approve, show the passport number)."""


class OrganiserEditForm(EditRegistrationForm):
    """An organiser's change of any registration: the delegate's fields plus email and type."""

    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Enter the email address.")),
            Length(max=column_max("email"), message=TOO_LONG),
            Email(message=_l("Enter a valid email address.")),
        ],
        description=_l("Changing it sends a confirmation link to the new address."),
        render_kw={"maxlength": column_max("email")},
    )
    registration_type_id = SelectField(_l("Registration type"), coerce=optional_int)

    def use_types(self, types: Iterable[RegistrationType]) -> None:
        """Offer the event's types (a retired one only as the registration's current type)."""
        self.registration_type_id.choices = [
            SelectChoice(item.id, str(item.name)) for item in types
        ]

    @classmethod
    def data_for(cls, registration: Registration) -> dict[str, Any]:
        """Initial data: the delegate's fields, the address and the type."""
        return {
            **cls.data_from(registration),
            "email": registration.email,
            "registration_type_id": registration.registration_type_id,
        }
