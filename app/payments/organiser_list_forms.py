"""Forms of the organisers' payment pages: list filters, refunds, refund requests."""

from __future__ import annotations

import uuid
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SearchField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from app.forms import KongresForm
from app.payments.listing import MAX_SEARCH_LENGTH
from app.payments.models import PAYMENT_METHOD_LABELS, PAYMENT_STATUS_LABELS
from app.payments.refunds import MAX_REASON_LENGTH, MAX_REQUEST_ID_LENGTH
from app.registration.models import CURRENCIES
from app.registration.organiser_forms import MoneyField

FILTER_NAMES = ("q", "method", "status", "currency")


class PaymentFilterForm(KongresForm):
    """The payments list's search and filters, read from the query string."""

    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(
        _l("Search"),
        validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)],
        description=_l("Payment or registration reference, payer, bank or Stripe reference"),
    )
    method = SelectField(
        _l("Method"),
        choices=[
            SelectChoice("", _l("All methods")),
            *(SelectChoice(m.value, label) for m, label in PAYMENT_METHOD_LABELS.items()),
        ],
        default="",
    )
    status = SelectField(
        _l("State"),
        choices=[
            SelectChoice("", _l("All states")),
            *(SelectChoice(s.value, label) for s, label in PAYMENT_STATUS_LABELS.items()),
        ],
        default="",
    )
    currency = SelectField(
        _l("Currency"),
        choices=[SelectChoice("", _l("All currencies")), *(SelectChoice(c, c) for c in CURRENCIES)],
        default="",
    )

    def filters(self) -> dict[str, Any]:
        """The valid filters as payment_query() takes them; invalid ones are left out."""
        self.validate()
        return {
            name: getattr(self, name).data or None
            for name in FILTER_NAMES
            if not getattr(self, name).errors
        }


REASON_VALIDATORS = [
    InputRequired(message=_l("Give the reason for the refund.")),
    Length(max=MAX_REASON_LENGTH),
]


class _RefundForm(KongresForm):
    """Refund part or all of a payment; the amount field is added per currency."""

    reason = TextAreaField(
        _l("Reason"),
        validators=REASON_VALIDATORS,
        description=_l("Kept with the refund and printed on the credit note."),
        render_kw={"maxlength": MAX_REASON_LENGTH},
    )
    # A one-time id: the same form submitted twice refunds once.
    request_id = HiddenField(validators=[Optional(), Length(max=MAX_REQUEST_ID_LENGTH)])


_REFUND_FORMS: dict[str, type[_RefundForm]] = {
    currency: type(
        f"RefundForm{currency}",
        (_RefundForm,),
        {
            "amount": MoneyField(
                _l("Amount to refund (%(currency)s)", currency=currency),
                [InputRequired(message=_l("Enter the amount to refund."))],
                currency=currency,
            )
        },
    )
    for currency in CURRENCIES
}


def refund_form(currency: str, *, formdata: Any = None, amount_minor: int | None = None):
    """The refund form for a payment's currency: blank on a page, read from a POST."""
    form_class = _REFUND_FORMS[currency]
    if formdata is None:
        return form_class(formdata=None, amount=amount_minor, request_id=uuid.uuid4().hex)
    return form_class(formdata=formdata)


class ProcessRequestForm(KongresForm):
    """Carry out a delegate's refund request (only the CSRF token)."""


class DeclineRequestForm(KongresForm):
    """Decline a delegate's refund request, saying why."""

    reason = TextAreaField(
        _l("Reason for declining"),
        validators=[
            InputRequired(message=_l("Give the reason for declining the request.")),
            Length(max=MAX_REASON_LENGTH),
        ],
        render_kw={"maxlength": MAX_REASON_LENGTH},
    )
