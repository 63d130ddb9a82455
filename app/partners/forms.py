"""Partner, contact, search and delete forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    SearchField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.forms import KongresForm
from app.i18n.formatting import country_choices
from app.partners import services
from app.partners.models import PARTNER_KIND_LABELS, PartnerKind

TOO_LONG = _l("Use at most %(max)d characters.")


class PartnerCheck:
    """Run one of the partner service's input checks as a form validator."""

    def __init__(self, check: Callable[[Any], object]):
        self.check = check

    def __call__(self, form: KongresForm, field: Any) -> None:
        try:
            self.check(field.data)
        except services.PartnerError as error:
            raise ValidationError(str(error)) from error


def kind_choices() -> list[SelectChoice]:
    """Every partner kind with its label in the page's language."""
    return [SelectChoice(kind.value, PARTNER_KIND_LABELS[kind]) for kind in PartnerKind]


def _kind_choices_with_prompt() -> list[SelectChoice]:
    return [SelectChoice("", _l("Choose the kind of organisation")), *kind_choices()]


def _country_choices_with_prompt() -> list[SelectChoice]:
    """Every country, sorted by its name in the page's language."""
    return [
        SelectChoice("", _l("Choose a country")),
        *(SelectChoice(code, name) for code, name in country_choices()),
    ]


def _all_kinds_choices() -> list[SelectChoice]:
    return [SelectChoice("", _l("All kinds")), *kind_choices()]


class PartnerForm(KongresForm):
    """A partner organisation's details."""

    name = StringField(
        _l("Name of the organisation"),
        validators=[
            DataRequired(message=_l("Enter the organisation's name.")),
            Length(max=services.NAME_MAX, message=TOO_LONG),
        ],
    )
    acronym = StringField(
        _l("Acronym"),
        validators=[Optional(), Length(max=services.ACRONYM_MAX, message=TOO_LONG)],
        description=_l("For example ICJR or UNODC."),
    )
    # validate_choice is off: PartnerCheck answers an unknown value with a clearer message.
    kind = SelectField(
        _l("Kind of organisation"),
        choices=_kind_choices_with_prompt,
        validate_choice=False,
        validators=[
            DataRequired(message=_l("Choose the kind of organisation.")),
            PartnerCheck(services.clean_kind),
        ],
    )
    country = SelectField(
        _l("Country"),
        choices=_country_choices_with_prompt,
        validate_choice=False,
        validators=[
            DataRequired(message=_l("Choose a country from the list.")),
            PartnerCheck(services.clean_country),
        ],
    )
    address = TextAreaField(
        _l("Address"),
        validators=[Optional(), Length(max=services.ADDRESS_MAX, message=TOO_LONG)],
    )
    website = URLField(
        _l("Website"),
        validators=[Optional(), PartnerCheck(services.clean_website)],
        description=_l("The full address, starting with https://"),
    )
    notes = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=services.NOTES_MAX, message=TOO_LONG)],
    )
    # The name the similar-names warning was shown for: submitting it again means "create anyway".
    confirmed_name = HiddenField()

    def details(self) -> services.PartnerDetails:
        """The validated input as the partner service takes it."""
        return services.PartnerDetails(
            name=self.name.data,
            kind=self.kind.data,
            country=self.country.data,
            acronym=self.acronym.data,
            address=self.address.data,
            website=self.website.data,
            notes=self.notes.data,
        )

    def similar_names_confirmed(self) -> bool:
        """Whether the user saw the similar-names warning for this very name and went on."""
        return bool(self.name.data) and self.confirmed_name.data == self.name.data


class ContactForm(KongresForm):
    """A person to contact at a partner."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter the contact's name.")),
            Length(max=services.CONTACT_NAME_MAX, message=TOO_LONG),
        ],
    )
    position = StringField(
        _l("Position"),
        validators=[Optional(), Length(max=services.POSITION_MAX, message=TOO_LONG)],
    )
    email = EmailField(_l("Email"), validators=[Optional(), PartnerCheck(services.clean_email)])
    phone = TelField(_l("Telephone"), validators=[Optional(), PartnerCheck(services.clean_phone)])

    def details(self) -> services.ContactDetails:
        """The validated input as the partner service takes it."""
        return services.ContactDetails(
            name=self.name.data,
            position=self.position.data,
            email=self.email.data,
            phone=self.phone.data,
        )


class DeletePartnerForm(KongresForm):
    """The confirmation that deletes a partner."""

    confirm = BooleanField(
        _l("Yes, delete this partner and its contacts"),
        validators=[DataRequired(message=_l("Tick the box to confirm the deletion."))],
    )


class PartnerFilterForm(KongresForm):
    """Search text and filters of the partner list (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Search"),
        validators=[Optional(), Length(max=services.SEARCH_MAX, message=TOO_LONG)],
        description=_l("Name, acronym, or a contact's name or email"),
    )
    # Defaults of "" make an unfiltered list valid (no value means "all").
    kind = SelectField(_l("Kind"), choices=_all_kinds_choices, default="")
    # The view offers the countries partners are registered in.
    country = SelectField(
        _l("Country"), choices=[SelectChoice("", _l("All countries"))], default=""
    )
