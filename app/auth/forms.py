"""Sign-in, password and staff forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.auth.models import ROLE_LABELS, STAFF_ROLES, Role
from app.auth.services import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from app.forms import KongresForm, MultiCheckboxField
from app.i18n.locale import LANGUAGE_NAMES

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


def _staff_role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, ROLE_LABELS[role]) for role in Role if role in STAFF_ROLES]


def _all_role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, ROLE_LABELS[role]) for role in Role]


class LoginForm(KongresForm):
    """Email and password."""

    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(KongresForm):
    """Ask for a reset link."""

    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Email(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


class NewPasswordForm(KongresForm):
    """Choose a password (reset or invitation)."""

    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=MAX_PASSWORD_LENGTH,
                message=_l("Use at least %(min)d and at most %(max)d characters."),
            ),
        ],
        description=_l("At least %(min)d characters.", min=MIN_PASSWORD_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class CurrentPasswordForm(KongresForm):
    """The current password, asked again before a change a stolen session must not make."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ChangePasswordForm(NewPasswordForm, CurrentPasswordForm):
    """Change one's own password."""


class ProfileForm(KongresForm):
    """One's own name and language."""

    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    language = SelectField(_l("Language for emails and documents"), choices=LANGUAGE_CHOICES)


class InviteStaffForm(KongresForm):
    """Invite a staff member by email."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(_l("Language for emails"), choices=LANGUAGE_CHOICES)
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=_staff_role_choices,
        validators=[DataRequired(message=_l("Choose at least one staff role."))],
    )


class EditUserForm(KongresForm):
    """An administrator's edit of an account's roles and status."""

    roles = MultiCheckboxField(_l("Roles"), choices=_all_role_choices)
    active = BooleanField(_l("Account active"))


class SecondFactorForm(KongresForm):
    """The second step of signing in: a code from the app or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32)],
        description=_l(
            "The 6-digit code your authenticator app shows now, or one of your recovery codes."
        ),
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class EnrolTotpForm(KongresForm):
    """Confirm an authenticator app by typing the code it shows."""

    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class EnableTotpForm(EnrolTotpForm, CurrentPasswordForm):
    """Turn an authenticator app on from the account page: its code and the password."""


class DisableTwoFactorForm(SecondFactorForm, CurrentPasswordForm):
    """Turn one's own second factor off: the password and a code from the app."""


class ResetTwoFactorForm(KongresForm):
    """An administrator confirms resetting someone's second factor."""

    confirm = BooleanField(
        _l("Yes: they set up an authenticator app again at their next sign-in"),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )
