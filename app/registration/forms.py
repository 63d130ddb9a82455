"""Delegate forms: the public registration form, a delegation's members, a delegate's own edits."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    FormField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields import DateField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from app.forms import KongresForm, optional_int
from app.i18n.formatting import country_choices
from app.i18n.locale import LANGUAGE_NAMES
from app.registration import services
from app.registration.models import Registration, RegistrationType
from app.registration.services import RegistrationDetails
from app.validation import EARLIEST_DATE, LATEST_DATE

TOO_LONG = _l("Use at most %(max)d characters.")
NEEDS_MAX = services.MAX_NEEDS_LENGTH
DEFAULT_MEMBER_ROWS = 3
MAX_MEMBER_ROWS = 40


def column_max(name: str) -> int:
    """The length of a registrations column, so that forms and the table agree."""
    return Registration.__table__.c[name].type.length


def _text(
    label: Any, column: str, *, required: Any = None, autocomplete: str | None = None, **kwargs: Any
) -> StringField:
    """A one-line text field as long as its column, required when a message is given;
    `autocomplete` names the input's purpose (WCAG 1.3.5) so that browsers can fill it in."""
    first = DataRequired(message=required) if required else Optional()
    render_kw: dict[str, Any] = {"maxlength": column_max(column)}
    if autocomplete:
        render_kw["autocomplete"] = autocomplete
    return StringField(
        label,
        validators=[first, Length(max=column_max(column), message=TOO_LONG)],
        render_kw=render_kw,
        **kwargs,
    )


def _country_choices_with_prompt() -> list[SelectChoice]:
    """Every country, sorted by its name in the page's language, after a prompt."""
    return [
        SelectChoice("", _l("Choose a country")),
        *(SelectChoice(code, name) for code, name in country_choices()),
    ]


def language_choices() -> list[SelectChoice]:
    """Indonesian and English, each named in its own language."""
    return [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


class KnownCountry:
    """Refuse a country code that is not in the list (a tampered or stale form)."""

    def __call__(self, form: Any, field: Any) -> None:
        if field.data not in {code for code, _name in country_choices()}:
            raise ValidationError(_l("Choose a country from the list."))


def country_field(label: Any, autocomplete: str | None = None) -> SelectField:
    """A required country select; an unknown code gets a clear message, not "Not a valid
    choice"."""
    return SelectField(
        label,
        choices=_country_choices_with_prompt,
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose a country from the list.")), KnownCountry()],
        render_kw={"autocomplete": autocomplete} if autocomplete else None,
    )


def needs_field(label: Any, description: Any) -> TextAreaField:
    """A few sentences about a delegate's needs."""
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=NEEDS_MAX, message=TOO_LONG)],
        description=description,
        render_kw={"rows": 2, "maxlength": NEEDS_MAX},
    )


class DelegateDetailsForm(KongresForm):
    """A delegate's own details, shared by registering, completing a delegation invitation and
    editing."""

    title = _text(
        _l("Title (Dr, Prof, …)"),
        "title",
        description=_l("For example Dr, Prof, Mr or Ms."),
        autocomplete="honorific-prefix",
    )
    given_name = _text(
        _l("Given name"),
        "given_name",
        required=_l("Enter your given name."),
        autocomplete="given-name",
    )
    family_name = _text(
        _l("Family name"),
        "family_name",
        description=_l("Leave empty if you have only one name."),
        autocomplete="family-name",
    )
    badge_name = _text(
        _l("Name on your badge"),
        "badge_name",
        description=_l("Leave empty to use your given and family names."),
    )
    nationality = country_field(_l("Nationality"))
    residence_country = country_field(_l("Country of residence"), autocomplete="country")
    organisation_name = StringField(
        _l("Organisation"),
        validators=[Optional(), Length(max=column_max("organisation_name"), message=TOO_LONG)],
        description=_l("Choose your organisation from the suggestions, or type its name."),
        render_kw={
            "maxlength": column_max("organisation_name"),
            "list": "partner-names",
            "autocomplete": "organization",
        },
    )
    position = _text(_l("Position"), "position", autocomplete="organization-title")
    phone = TelField(
        _l("Mobile phone"),
        validators=[Optional(), Length(max=column_max("phone"), message=TOO_LONG)],
        description=_l("With the country code, e.g. +62 812 3456 7890."),
        render_kw={"maxlength": column_max("phone"), "autocomplete": "tel"},
    )
    dietary_needs = needs_field(_l("Dietary needs"), _l("For example vegetarian, halal, no nuts."))
    accessibility_needs = needs_field(
        _l("Accessibility needs"), _l("For example wheelchair access or sign interpretation.")
    )
    emergency_contact_name = _text(_l("Emergency contact: name"), "emergency_contact_name")
    emergency_contact_phone = TelField(
        _l("Emergency contact: phone"),
        validators=[
            Optional(),
            Length(max=column_max("emergency_contact_phone"), message=TOO_LONG),
        ],
        render_kw={"maxlength": column_max("emergency_contact_phone")},
    )
    language = RadioField(
        _l("Language for emails and documents"),
        choices=language_choices,
        validators=[InputRequired(message=_l("Choose a language."))],
    )
    needs_visa_letter = BooleanField(_l("I need a visa invitation letter"))
    passport_number = StringField(
        _l("Passport number"),
        validators=[Optional(), Length(max=20, message=TOO_LONG)],
        render_kw={"maxlength": 20, "autocomplete": "off"},
    )
    passport_expiry = DateField(
        _l("Passport expiry date"),
        validators=[Optional()],
        render_kw={"min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat()},
    )
    birth_date = DateField(
        _l("Date of birth"),
        validators=[Optional()],
        render_kw={"min": "1900-01-01", "max": LATEST_DATE.isoformat(), "autocomplete": "bday"},
    )
    birth_place = _text(_l("Place of birth"), "birth_place")
    media_consent = BooleanField(
        _l("I agree that photos and videos in which I appear may be published about the congress.")
    )

    # The visa fields are needed only when a letter is asked for; the service checks their
    # values (passport format, expiry after the congress, a plausible birth date).
    VISA_FIELDS = ("passport_number", "passport_expiry", "birth_date", "birth_place")

    def validate(self, extra_validators: Any = None) -> bool:
        """Field checks, plus the visa fields as required once a letter is asked for."""
        valid = super().validate(extra_validators)
        if self.needs_visa_letter.data:
            for name in self.VISA_FIELDS:
                field = getattr(self, name)
                if name in self.visa_fields_kept() or field.data not in (None, ""):
                    continue
                if not field.errors:
                    field.errors = [*field.errors, _l("Needed for the visa invitation letter.")]
                    valid = False
        return valid

    def visa_fields_kept(self) -> frozenset[str]:
        """Visa fields that may stay empty because a stored value is kept."""
        return frozenset()

    def language_default(self) -> None:
        """Preselect the page's language for emails when the visitor has not chosen one."""
        if not self.language.data:
            self.language.data = str(get_locale() or "en")

    @staticmethod
    def data_from(registration: Registration) -> dict[str, Any]:
        """Initial form data from a registration (never the passport number itself)."""
        data = asdict(services.details_of(registration))
        data["organisation_name"] = registration.organisation
        return data

    def details(
        self,
        *,
        email: str,
        registration_type_id: int,
        partner_id: int | None,
        privacy_consent: bool,
    ) -> RegistrationDetails:
        """The validated input as the registration service takes it.

        The visa fields are dropped when no letter is asked for: a delegate who filled them in
        and then unticked the box has not asked us to keep their passport.
        """
        visa = bool(self.needs_visa_letter.data)
        organisation = (self.organisation_name.data or "").strip() or None
        return RegistrationDetails(
            registration_type_id=registration_type_id,
            title=self.title.data,
            given_name=self.given_name.data or "",
            family_name=self.family_name.data,
            badge_name=self.badge_name.data,
            nationality=self.nationality.data,
            residence_country=self.residence_country.data,
            partner_id=partner_id,
            organisation_name=None if partner_id else organisation,
            position=self.position.data,
            email=email,
            phone=self.phone.data,
            dietary_needs=self.dietary_needs.data,
            accessibility_needs=self.accessibility_needs.data,
            emergency_contact_name=self.emergency_contact_name.data,
            emergency_contact_phone=self.emergency_contact_phone.data,
            language=self.language.data,
            needs_visa_letter=visa,
            passport_number=self.passport_number.data if visa else None,
            passport_expiry=self.passport_expiry.data if visa else None,
            birth_date=self.birth_date.data if visa else None,
            birth_place=self.birth_place.data if visa else None,
            privacy_consent=privacy_consent,
            media_consent=bool(self.media_consent.data),
        )


def type_field() -> RadioField:
    """The registration type, as radio buttons (choices set by the view)."""
    return RadioField(
        _l("Registration type"),
        coerce=optional_int,
        choices=[],
        validators=[InputRequired(message=_l("Choose a registration type."))],
    )


def privacy_field() -> BooleanField:
    """The consent to the privacy notice, which registering needs."""
    return BooleanField(
        _l("I have read the privacy notice and agree that my data is processed as it says."),
        validators=[DataRequired(message=_l("You need to accept the privacy notice to register."))],
    )


class RegistrationForm(DelegateDetailsForm):
    """The public registration form."""

    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Enter your email address.")),
            Length(max=column_max("email"), message=TOO_LONG),
            Email(message=_l("Enter a valid email address.")),
        ],
        description=_l("We send the confirmation and your documents to this address."),
        render_kw={"maxlength": column_max("email"), "autocomplete": "email"},
    )
    registration_type_id = type_field()
    privacy_consent = privacy_field()

    def use_types(self, types: list[RegistrationType]) -> None:
        """Offer these registration types."""
        self.registration_type_id.choices = [
            SelectChoice(registration_type.id, str(registration_type.name))
            for registration_type in types
        ]

    def registration_details(self, partner_id: int | None) -> RegistrationDetails:
        """What the delegate entered, as the registration service takes it."""
        return self.details(
            email=self.email.data,
            registration_type_id=self.registration_type_id.data,
            partner_id=partner_id,
            privacy_consent=bool(self.privacy_consent.data),
        )


class MemberForm(KongresForm):
    """One row of a delegation: a member the head invites to complete their own details."""

    class Meta:
        csrf = False  # part of the delegation form, which carries the token

    email = EmailField(
        _l("Email"),
        validators=[
            Optional(),
            Length(max=column_max("email"), message=TOO_LONG),
            Email(message=_l("Enter a valid email address.")),
        ],
        render_kw={"maxlength": column_max("email")},
    )
    given_name = StringField(
        _l("Given name"),
        validators=[Optional(), Length(max=column_max("given_name"), message=TOO_LONG)],
        render_kw={"maxlength": column_max("given_name")},
    )
    family_name = StringField(
        _l("Family name"),
        validators=[Optional(), Length(max=column_max("family_name"), message=TOO_LONG)],
        render_kw={"maxlength": column_max("family_name")},
    )
    registration_type_id = SelectField(
        _l("Registration type"), coerce=optional_int, choices=[], validate_choice=False
    )

    def is_blank(self) -> bool:
        """Whether the row was left empty (such rows are ignored)."""
        return not any(
            (getattr(self, name).data or "") for name in ("email", "given_name", "family_name")
        )

    def validate(self, extra_validators: Any = None) -> bool:
        """A filled row needs an email, a given name and a type; a blank row is ignored."""
        valid = super().validate(extra_validators)
        if self.is_blank():
            return valid
        needed = {
            "email": _l("Enter the member's email address."),
            "given_name": _l("Enter the member's given name."),
            "registration_type_id": _l("Choose a registration type."),
        }
        for name, message in needed.items():
            field = getattr(self, name)
            if field.data in (None, "") and not field.errors:
                field.errors = [*field.errors, message]
                valid = False
        type_ids = {choice[0] for choice in self.registration_type_id.iter_choices()}
        chosen = self.registration_type_id.data
        if chosen is not None and str(chosen) not in {str(value) for value in type_ids}:
            self.registration_type_id.errors = [_l("Choose a registration type.")]
            valid = False
        return valid


class DelegationForm(RegistrationForm):
    """A head of delegation registers themself and invites the members."""

    members = FieldList(FormField(MemberForm), min_entries=1, max_entries=MAX_MEMBER_ROWS)

    def use_types(self, types: list[RegistrationType], rows: int = DEFAULT_MEMBER_ROWS) -> None:
        """Offer these types to the head and each member row, and show at least `rows` rows."""
        super().use_types(types)
        rows = max(1, min(rows, MAX_MEMBER_ROWS))
        while len(self.members) < rows:
            self.members.append_entry()
        options = [
            SelectChoice("", _l("— choose a type —")),
            *(SelectChoice(item.id, str(item.name)) for item in types),
        ]
        for row in self.members:
            row.form.registration_type_id.choices = options

    def filled_members(self) -> list[MemberForm]:
        """The member rows that were filled in."""
        return [row.form for row in self.members if not row.form.is_blank()]


class CompleteMemberForm(DelegateDetailsForm):
    """A delegation member completes the details their head started (email and type are set)."""

    privacy_consent = privacy_field()


class EditRegistrationForm(DelegateDetailsForm):
    """A delegate's change of their own details (email and type stay; passport may be kept)."""

    def __init__(self, *args: Any, has_passport: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.has_passport = has_passport

    def visa_fields_kept(self) -> frozenset[str]:
        """With a passport on file, an empty passport number keeps the stored one."""
        return frozenset({"passport_number"}) if self.has_passport else frozenset()


class ConfirmForm(KongresForm):
    """A destructive step (cancel, erase) confirmed by ticking a box."""

    confirm = BooleanField(
        _l("Yes, I am sure"),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class CancelRegistrationForm(ConfirmForm):
    """A delegate cancels their registration, optionally saying why."""

    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Optional(), Length(max=NEEDS_MAX, message=TOO_LONG)],
        render_kw={"rows": 2, "maxlength": NEEDS_MAX},
    )


class ActionForm(KongresForm):
    """A one-button action (accept an offer): only the CSRF token."""
