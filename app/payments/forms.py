"""The delegate's payment forms: start a card payment, choose whom a group payment covers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp

from app.forms import KongresForm, MultiCheckboxField

# Stripe ids are short ASCII words such as "seti_1Abc..."; anything else is not one of ours.
STRIPE_ID = r"^[A-Za-z0-9_]{3,255}$"


class CardPaymentForm(KongresForm):
    """Start paying by card: only the CSRF token (the amount is computed on the server)."""


class ChargeCardForm(KongresForm):
    """The card Stripe.js saved (a SetupIntent's id), to be charged on the payment."""

    setup_intent = StringField(
        validators=[
            DataRequired(message=_l("The card details did not arrive. Please try again.")),
            Length(max=255),
            Regexp(STRIPE_ID, message=_l("The card details did not arrive. Please try again.")),
        ]
    )


class GroupPaymentForm(KongresForm):
    """A head of delegation chooses the members one card payment covers."""

    registrations = MultiCheckboxField(
        _l("Members to pay for"),
        validators=[DataRequired(message=_l("Choose at least one member to pay for."))],
    )

    def use_registrations(self, registrations, label) -> None:
        """Offer these registrations (by reference), labelled by `label(registration)`."""
        self.registrations.choices = [
            (registration.reference, label(registration)) for registration in registrations
        ]
