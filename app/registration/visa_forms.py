"""Visa letter forms: an organiser's revocation with its reason, and the public code lookup."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms import KongresForm
from app.registration import visa
from app.registration.forms import TOO_LONG


class IssueVisaLetterForm(KongresForm):
    """The queue's one-button issue action, returning to the page it was pressed on."""

    next = HiddenField()


class RevokeVisaLetterForm(KongresForm):
    """An organiser withdraws a letter and says why (kept with the letter, not shown publicly)."""

    reason = TextAreaField(
        _l("Reason for revoking"),
        validators=[
            DataRequired(message=_l("Give the reason for revoking the letter.")),
            Length(max=visa.REASON_MAX, message=TOO_LONG),
        ],
        description=_l(
            "Kept with the letter for the organisers; the public check does not show it."
        ),
        render_kw={"rows": 3, "maxlength": visa.REASON_MAX},
    )


class VerificationCodeForm(KongresForm):
    """The code printed on a letter, typed in to check it (a GET form: nothing changes)."""

    class Meta:
        csrf = False

    code = StringField(
        _l("Verification code"),
        validators=[DataRequired(message=_l("Enter the code printed on the letter."))],
        description=_l(
            "The %(length)d letters and digits printed under the QR code.", length=visa.CODE_LENGTH
        ),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "maxlength": 32,
        },
    )

    def validate_code(self, field: StringField) -> None:
        """Refuse what cannot be a code, before looking anything up."""
        if not visa.is_well_formed_code(field.data):
            raise ValidationError(
                _l(
                    "A code has %(length)d letters and digits, as printed under the QR code.",
                    length=visa.CODE_LENGTH,
                )
            )
