"""Organiser forms of payments: vouchers, received bank transfers, payment settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectField, StringField
from wtforms.fields import DateField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms import MAX_DATABASE_INT, KongresForm, optional_int
from app.i18n.fields import TranslatedTextField
from app.payments.bank_transfer import MAX_BANK_REFERENCE_LENGTH
from app.payments.models import VOUCHER_KIND_LABELS, VoucherKind
from app.payments.settings import (
    MAX_ACCOUNT_NAME_LENGTH,
    MAX_ACCOUNT_NUMBER_LENGTH,
    MAX_BANK_NAME_LENGTH,
    MAX_INSTRUCTIONS_LENGTH,
    MAX_SWIFT_LENGTH,
    PaymentSettingsDetails,
)
from app.payments.vouchers import (
    MAX_CODE_LENGTH,
    MAX_NOTE_LENGTH,
    MAX_USES_LIMIT,
    VoucherDetails,
)
from app.registration.models import CURRENCIES, RegistrationType
from app.registration.organiser_forms import (
    AMOUNT_EXAMPLES,
    CURRENCY_LABELS,
    format_major_amount,
    parse_major_amount,
)

TOO_LONG = _l("Use at most %(max)d characters.")


def _amount_error(currency: str) -> Any:
    """The message for an amount that cannot be read, with an example in its currency."""
    return _l(
        "Enter an amount such as %(example)s (up to %(max)s).",
        example=AMOUNT_EXAMPLES[currency],
        max=format_major_amount(MAX_DATABASE_INT, currency),
    )


class ActionForm(KongresForm):
    """A button that only needs the CSRF token (withdraw a voucher, cancel a transfer)."""


class VoucherForm(KongresForm):
    """A new voucher: its code, what it gives, how often, for whom and until when."""

    code = StringField(
        _l("Code"),
        validators=[Optional(), Length(max=MAX_CODE_LENGTH, message=TOO_LONG)],
        render_kw={"maxlength": MAX_CODE_LENGTH, "autocapitalize": "characters"},
        description=_l(
            "Letters, digits and dashes, e.g. SPONSOR-KENYA. Leave empty to have one made up. "
            "Delegates may type it in any letter case."
        ),
    )
    kind = RadioField(
        _l("The voucher gives"),
        choices=[SelectChoice(kind.value, label) for kind, label in VOUCHER_KIND_LABELS.items()],
        default=VoucherKind.PERCENT.value,
        validators=[InputRequired(message=_l("Choose what the voucher gives."))],
    )
    percent_off = IntegerField(
        _l("Percentage off"),
        validators=[Optional(), NumberRange(1, 100)],
        description=_l("For a percentage discount: 1 to 100."),
    )
    amount_off_currency = SelectField(
        _l("Currency of the fixed discount"),
        choices=[SelectChoice(currency, CURRENCY_LABELS[currency]) for currency in CURRENCIES],
        default="USD",
        description=_l("A fixed discount applies only to fees paid in this currency."),
    )
    amount_off = StringField(
        _l("Amount off"),
        validators=[Optional()],
        description=_l(
            "For a fixed discount, e.g. %(usd)s dollars or %(idr)s rupiah.",
            usd=AMOUNT_EXAMPLES["USD"],
            idr=AMOUNT_EXAMPLES["IDR"],
        ),
    )
    max_uses = IntegerField(
        _l("How many registrations may use it"),
        validators=[InputRequired(), NumberRange(1, MAX_USES_LIMIT)],
        default=1,
    )
    registration_type_id = SelectField(
        _l("Only for the registration type"), coerce=optional_int, default=None
    )
    valid_until = DateField(
        _l("Valid until"),
        validators=[Optional()],
        description=_l("The last day it can be used (congress time). Leave empty for no limit."),
    )
    note = StringField(
        _l("Note for organisers"),
        validators=[Optional(), Length(max=MAX_NOTE_LENGTH, message=TOO_LONG)],
        render_kw={"maxlength": MAX_NOTE_LENGTH},
        description=_l("Who it is for, e.g. the sponsor or the delegation."),
    )

    def use_types(self, types: Iterable[RegistrationType]) -> None:
        """Fill the registration type select."""
        self.registration_type_id.choices = [
            SelectChoice("", _l("Any registration type")),
            *(SelectChoice(str(item.id), str(item.name)) for item in types),
        ]

    def amount_off_minor(self) -> int | None:
        """The fixed discount in minor units, or None when none was typed or it is unreadable."""
        text = (self.amount_off.data or "").strip()
        currency = self.amount_off_currency.data
        if not text or currency not in CURRENCIES:
            return None
        try:
            return parse_major_amount(text, currency)
        except ValueError:
            return None

    def validate_amount_off(self, field: StringField) -> None:
        """A typed amount must read as money in the chosen currency."""
        currency = self.amount_off_currency.data
        if (field.data or "").strip() and currency in CURRENCIES and not self.amount_off_minor():
            raise ValidationError(_amount_error(currency))

    def details(self) -> VoucherDetails:
        """What was typed, for create_voucher()."""
        kind = self.kind.data
        return VoucherDetails(
            code=self.code.data,
            kind=kind,
            percent_off=self.percent_off.data if kind == VoucherKind.PERCENT.value else None,
            amount_off_minor=self.amount_off_minor() if kind == VoucherKind.FIXED.value else None,
            amount_off_currency=(
                self.amount_off_currency.data if kind == VoucherKind.FIXED.value else None
            ),
            max_uses=self.max_uses.data,
            registration_type_id=self.registration_type_id.data,
            valid_until=self.valid_until.data,
            note=self.note.data,
        )


class RecordTransferForm(KongresForm):
    """A bank transfer that arrived: the amount, the day and the bank's reference."""

    amount = StringField(
        _l("Amount received"),
        validators=[InputRequired(message=_l("Enter the amount that arrived."))],
    )
    received_on = DateField(
        _l("Received on"),
        validators=[InputRequired(message=_l("Enter the day the money arrived."))],
    )
    bank_reference = StringField(
        _l("Bank's reference"),
        validators=[
            InputRequired(message=_l("Enter the bank's reference of the transfer.")),
            Length(max=MAX_BANK_REFERENCE_LENGTH, message=TOO_LONG),
        ],
        render_kw={"maxlength": MAX_BANK_REFERENCE_LENGTH},
        description=_l("As it appears on the bank statement."),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        self.currency = currency
        super().__init__(*args, **kwargs)
        self.amount.description = _l(
            "In %(currency)s, e.g. %(example)s.",
            currency=currency,
            example=AMOUNT_EXAMPLES[currency],
        )

    def amount_minor(self) -> int | None:
        """The typed amount in minor units of the payment's currency, or None if unreadable."""
        try:
            return parse_major_amount((self.amount.data or "").strip(), self.currency)
        except ValueError:
            return None

    def validate_amount(self, field: StringField) -> None:
        """The amount must read as money in the payment's currency."""
        if self.amount_minor() is None:
            raise ValidationError(_amount_error(self.currency))


class PaymentSettingsForm(KongresForm):
    """The refund deadline and the bank account delegates transfer to."""

    refund_until = DateField(
        _l("Cancellations are refunded until"),
        validators=[Optional()],
        description=_l(
            "The last day a delegate who cancels gets the fee back. Leave empty for no refunds."
        ),
    )
    bank_name = StringField(
        _l("Bank"),
        validators=[Optional(), Length(max=MAX_BANK_NAME_LENGTH, message=TOO_LONG)],
        render_kw={"maxlength": MAX_BANK_NAME_LENGTH},
    )
    bank_account_name = StringField(
        _l("Account holder"),
        validators=[Optional(), Length(max=MAX_ACCOUNT_NAME_LENGTH, message=TOO_LONG)],
        render_kw={"maxlength": MAX_ACCOUNT_NAME_LENGTH},
    )
    bank_account_number = StringField(
        _l("Account number"),
        validators=[Optional(), Length(max=MAX_ACCOUNT_NUMBER_LENGTH, message=TOO_LONG)],
        render_kw={"maxlength": MAX_ACCOUNT_NUMBER_LENGTH},
        description=_l("The account number or IBAN."),
    )
    bank_swift = StringField(
        _l("SWIFT/BIC code"),
        validators=[Optional(), Length(max=MAX_SWIFT_LENGTH, message=TOO_LONG)],
        render_kw={"maxlength": MAX_SWIFT_LENGTH, "autocapitalize": "characters"},
        description=_l("For transfers from abroad, e.g. BNINIDJA."),
    )
    bank_instructions = TranslatedTextField(
        _l("Instructions for delegates"),
        multiline=True,
        max_length=MAX_INSTRUCTIONS_LENGTH,
        description=_l("Shown with the bank details, e.g. who pays the transfer charges."),
    )

    def details(self) -> PaymentSettingsDetails:
        """What was typed, for save_payment_settings()."""
        return PaymentSettingsDetails(
            refund_until=self.refund_until.data,
            bank_name=self.bank_name.data,
            bank_account_name=self.bank_account_name.data,
            bank_account_number=self.bank_account_number.data,
            bank_swift=self.bank_swift.data,
            bank_instructions=self.bank_instructions.data,
        )
