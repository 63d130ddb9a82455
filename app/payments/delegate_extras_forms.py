"""The delegate's voucher and bank-transfer forms on the pay pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length

from app.forms import KongresForm
from app.payments.services import MAX_REGISTRATIONS_PER_PAYMENT
from app.payments.vouchers import MAX_CODE_LENGTH

NOTHING_CHOSEN = _l("Choose at least one registration to pay for.")


class VoucherCodeForm(KongresForm):
    """A voucher code for one of the registrations on the pay page (by its reference)."""

    registration = SelectField(
        _l("For the registration of"),
        validators=[InputRequired(message=_l("Choose whose fee the code is for."))],
        # The view looks the reference up among the payer's own: anything else is a 404.
        validate_choice=False,
    )
    code = StringField(
        _l("Voucher code"),
        validators=[
            InputRequired(message=_l("Enter the voucher code.")),
            Length(max=MAX_CODE_LENGTH, message=_l("Use at most %(max)d characters.")),
        ],
        render_kw={
            "maxlength": MAX_CODE_LENGTH,
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
        },
        description=_l("The code the organisers or your sponsor gave you."),
    )
    next = HiddenField()


class BankTransferForm(KongresForm):
    """Announce one bank transfer for the registrations listed on the pay page."""

    registrations = SelectMultipleField(
        validators=[
            InputRequired(message=NOTHING_CHOSEN),
            Length(
                max=MAX_REGISTRATIONS_PER_PAYMENT,
                message=_l("At most %(max)d registrations can be paid at once."),
            ),
        ],
        # Sent as hidden inputs; the view looks each up among the payer's own.
        validate_choice=False,
    )
    next = HiddenField()
