"""Registry forms: agreements with their parties, filters, obligations, evaluations, documents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    IntegerField,
    SearchField,
    SelectField,
    StringField,
)
from wtforms.fields import DateField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from app.agreements.models import (
    AGREEMENT_KIND_LABELS,
    AGREEMENT_STATUS_LABELS,
    DERIVED_STATUS_LABELS,
    OBLIGATION_STATUS_LABELS,
    UNIT_LEVEL_LABELS,
    AgreementStatus,
    Obligation,
    ScopeArea,
)
from app.agreements.services import (
    MAX_DURATION_MONTHS,
    MAX_EVALUATION_INTERVAL,
    MAX_EVALUATOR_NAME_LENGTH,
    MAX_LONG_TEXT_LENGTH,
    MAX_OBLIGATION_LENGTH,
    MAX_PLACE_LENGTH,
    MAX_RATING,
    MAX_REFERENCE_LENGTH,
    MAX_SCOPE_NAME_LENGTH,
    MAX_SEARCH_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_UNIT_NAME_LENGTH,
    MIN_EVALUATION_INTERVAL,
    MIN_RATING,
    AgreementDetails,
    PartyDetails,
)
from app.auth.models import User
from app.errors import DomainError
from app.forms import KongresForm, MultiCheckboxField, optional_int
from app.i18n.fields import InAnyLanguage, TranslatedTextField
from app.partners.models import Partner
from app.validation import EARLIEST_DATE, LATEST_DATE, check_date_in_range

DEFAULT_PARTY_ROWS = 3
MAX_PARTY_ROWS = 20
DEFAULT_EVALUATION_INTERVAL = 12
# Statuses an agreement may be registered in; later ones are reached by changing status.
INITIAL_STATUSES = (AgreementStatus.DRAFT, AgreementStatus.IN_NEGOTIATION, AgreementStatus.ACTIVE)
RATING_LABELS = {
    1: _l("1 – poor"),
    2: _l("2 – weak"),
    3: _l("3 – adequate"),
    4: _l("4 – good"),
    5: _l("5 – excellent"),
}


def _labelled_choices(labels: dict, blank: object | None = None) -> list[SelectChoice]:
    """Choices from an enum's label table, optionally after a blank "any"/"none" option."""
    choices = [SelectChoice(member.value, label) for member, label in labels.items()]
    return [SelectChoice("", blank), *choices] if blank is not None else choices


def _rating_choices(blank: object) -> list[SelectChoice]:
    """1–5 with words, after a blank option."""
    ratings = (SelectChoice(str(value), label) for value, label in RATING_LABELS.items())
    return [SelectChoice("", blank), *ratings]


def _id_choices(items: Iterable[tuple[int, object]], blank: object | None) -> list[SelectChoice]:
    """Options for database rows (id, label), optionally after a blank option."""
    choices = [SelectChoice(str(row_id), label) for row_id, label in items]
    return [SelectChoice("", blank), *choices] if blank is not None else choices


def partner_choices(partners: Iterable[Partner], blank: object) -> list[SelectChoice]:
    """Partner options by name, after a blank option."""
    return _id_choices(((partner.id, partner.display_name) for partner in partners), blank)


def database_id(value: object) -> int:
    """Coerce one ticked row id (as optional_int, but never empty); ValueError otherwise."""
    number = optional_int(value)
    if number is None:
        raise ValueError("empty id")
    return number


class InRegistryYears:
    """Refuse a date outside the years any record can have (as the services do)."""

    def __call__(self, form: Any, field: Any) -> None:
        try:
            check_date_in_range(field.data, field=field.name)
        except DomainError as error:
            raise ValidationError(str(error)) from error


def registry_date(label: Any, *validators: Any) -> DateField:
    """A date field limited to the registry's years, optional unless validators say else."""
    return DateField(
        label,
        validators=[*(validators or [Optional()]), InRegistryYears()],
        render_kw={"min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat()},
    )


class AtLeastOne:
    """Require at least one ticked box (and mark the group as required)."""

    field_flags = {"required": True}

    def __init__(self, message: Any):
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        if not field.data:
            raise StopValidation(self.message)


class PartyForm(KongresForm):
    """One row of the parties group: a partner and its own reference number."""

    class Meta:
        csrf = False  # part of the agreement form, which carries the token

    partner_id = SelectField(_l("Partner"), coerce=optional_int, validate_choice=False)
    reference_number = StringField(
        _l("Partner's reference number"),
        validators=[Optional(), Length(max=MAX_REFERENCE_LENGTH)],
    )

    def validate_reference_number(self, field: StringField) -> None:
        """A reference number belongs to a partner: refuse one on a row without a partner."""
        if (field.data or "").strip() and self.partner_id.data is None:
            raise ValidationError(_l("Choose the partner this reference number belongs to."))

    def is_blank(self) -> bool:
        """Whether the row was left empty (such rows are ignored)."""
        return self.partner_id.data is None and not (self.reference_number.data or "").strip()


class AgreementForm(KongresForm):
    """An agreement's details; parties are a group of rows, blank rows ignored."""

    kind = SelectField(_l("Kind of agreement"), choices=_labelled_choices(AGREEMENT_KIND_LABELS))
    reference_number = StringField(
        _l("Our reference number"),
        validators=[Optional(), Length(max=MAX_REFERENCE_LENGTH)],
        description=_l("The number Ditjenpas gave the agreement."),
    )
    title = TranslatedTextField(_l("Title"), [InAnyLanguage()], max_length=MAX_TITLE_LENGTH)
    summary = TranslatedTextField(_l("Summary"), multiline=True, max_length=MAX_LONG_TEXT_LENGTH)
    parties = FieldList(FormField(PartyForm), min_entries=1, max_entries=MAX_PARTY_ROWS)
    unit_level = SelectField(_l("Level"), choices=_labelled_choices(UNIT_LEVEL_LABELS))
    unit_name = StringField(
        _l("Responsible unit"),
        validators=[DataRequired(), Length(max=MAX_UNIT_NAME_LENGTH)],
        description=_l("e.g. Directorate of Cooperation, Kanwil Bali, Lapas Kerobokan"),
    )
    responsible_officer_id = SelectField(
        _l("Responsible officer"),
        coerce=optional_int,
        validators=[InputRequired(message=_l("Choose the responsible officer."))],
        validate_choice=False,
    )
    scope_area_ids = MultiCheckboxField(
        _l("Scope areas"),
        coerce=database_id,
        validate_choice=False,  # the service names an unknown or retired area itself
        validators=[AtLeastOne(_l("Choose at least one scope area."))],
    )
    signed_on = registry_date(_l("Signed on"))
    signed_place = StringField(
        _l("Signed at (place)"), validators=[Optional(), Length(max=MAX_PLACE_LENGTH)]
    )
    starts_on = registry_date(_l("Starts on"))
    ends_on = registry_date(_l("Ends on"))
    duration_months = IntegerField(
        _l("Or: duration in months"),
        validators=[Optional(), NumberRange(min=1, max=MAX_DURATION_MONTHS)],
        description=_l("Instead of an end date: the end is computed from the start date."),
    )
    evaluation_interval_months = IntegerField(
        _l("Evaluate every … months"),
        validators=[
            Optional(),
            NumberRange(min=MIN_EVALUATION_INTERVAL, max=MAX_EVALUATION_INTERVAL),
        ],
        description=_l("e.g. 6 or 12; leave empty for no periodic evaluation."),
        default=DEFAULT_EVALUATION_INTERVAL,
    )

    def use_choices(
        self,
        *,
        partners: Iterable[Partner],
        officers: Iterable[User],
        scope_areas: Iterable[ScopeArea],
        rows: int = DEFAULT_PARTY_ROWS,
    ) -> None:
        """Fill the selects and show at least `rows` party rows."""
        rows = max(1, min(rows, MAX_PARTY_ROWS))
        while len(self.parties) < rows:
            self.parties.append_entry()
        options = partner_choices(partners, _l("— choose a partner —"))
        for row in self.parties:
            row.form.partner_id.choices = options
        self.responsible_officer_id.choices = _id_choices(
            ((officer.id, officer.name) for officer in officers), _l("— choose an officer —")
        )
        self.scope_area_ids.choices = _id_choices(
            ((area.id, str(area.name)) for area in scope_areas), None
        )

    def details(self) -> AgreementDetails:
        """The validated input as the registry service takes it."""
        return AgreementDetails(
            kind=self.kind.data,
            reference_number=self.reference_number.data,
            title=self.title.data,
            summary=self.summary.data,
            parties=[
                PartyDetails(row.form.partner_id.data, row.form.reference_number.data)
                for row in self.parties
                if not row.form.is_blank()
            ],
            unit_level=self.unit_level.data,
            unit_name=self.unit_name.data,
            responsible_officer_id=self.responsible_officer_id.data,
            scope_area_ids=list(self.scope_area_ids.data or []),
            signed_on=self.signed_on.data,
            signed_place=self.signed_place.data,
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            duration_months=self.duration_months.data,
            evaluation_interval_months=self.evaluation_interval_months.data,
        )

    @staticmethod
    def data_from(details: AgreementDetails) -> dict[str, Any]:
        """Initial form data from an agreement's details (to edit or to follow up)."""
        return {
            "kind": details.kind,
            "reference_number": details.reference_number,
            "title": details.title,
            "summary": details.summary,
            "parties": [
                {"partner_id": party.partner_id, "reference_number": party.reference_number}
                for party in details.parties
            ],
            "unit_level": details.unit_level,
            "unit_name": details.unit_name,
            "responsible_officer_id": details.responsible_officer_id,
            "scope_area_ids": details.scope_area_ids,
            "signed_on": details.signed_on,
            "signed_place": details.signed_place,
            "starts_on": details.starts_on,
            "ends_on": details.ends_on,
            "evaluation_interval_months": details.evaluation_interval_months,
        }


class NewAgreementForm(AgreementForm):
    """A new agreement (or renewal, addendum), which may be registered as already in force."""

    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice(status.value, AGREEMENT_STATUS_LABELS[status])
            for status in INITIAL_STATUSES
        ],
        description=_l("An agreement in force needs its signing and start dates."),
    )


class AgreementFilterForm(KongresForm):
    """The registry list's search and filters, read from the query string."""

    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)])
    # The blank default is "no filter" (None would not match the blank option).
    kind = SelectField(
        _l("Kind"), choices=_labelled_choices(AGREEMENT_KIND_LABELS, _l("All kinds")), default=""
    )
    status = SelectField(
        _l("Status"),
        choices=_labelled_choices(DERIVED_STATUS_LABELS, _l("All statuses")),
        default="",
    )
    level = SelectField(
        _l("Level"), choices=_labelled_choices(UNIT_LEVEL_LABELS, _l("All levels")), default=""
    )
    scope_area_id = SelectField(_l("Scope area"), coerce=optional_int)
    partner_id = SelectField(_l("Partner"), coerce=optional_int)
    year = IntegerField(
        _l("Signed in (year)"),
        validators=[Optional(), NumberRange(EARLIEST_DATE.year, LATEST_DATE.year)],
    )

    def use_choices(self, *, partners: Iterable[Partner], scope_areas: Iterable[ScopeArea]) -> None:
        """Fill the partner and scope-area selects."""
        self.partner_id.choices = partner_choices(partners, _l("All partners"))
        self.scope_area_id.choices = _id_choices(
            ((area.id, str(area.name)) for area in scope_areas), _l("All scope areas")
        )

    def filters(self) -> dict[str, Any]:
        """The valid filters as filter_agreements() takes them; invalid ones are left out."""
        self.validate()
        names = ("q", "kind", "status", "level", "scope_area_id", "partner_id", "year")
        return {
            name: getattr(self, name).data or None
            for name in names
            if not getattr(self, name).errors
        }


class StatusForm(KongresForm):
    """Move an agreement to another stored status."""

    status = SelectField(_l("New status"), choices=_labelled_choices(AGREEMENT_STATUS_LABELS))

    def use_choices(self, statuses: Iterable[AgreementStatus]) -> None:
        """Offer only the moves the agreement's current status allows."""
        self.status.choices = [
            SelectChoice(status.value, AGREEMENT_STATUS_LABELS[status]) for status in statuses
        ]


class ObligationForm(KongresForm):
    """A deliverable owed by one party."""

    partner_id = SelectField(_l("Owed by"), coerce=optional_int, validate_choice=False)
    description = TranslatedTextField(
        _l("Obligation"), [InAnyLanguage()], multiline=True, max_length=MAX_OBLIGATION_LENGTH
    )
    due_on = registry_date(_l("Due on"))
    status = SelectField(_l("Status"), choices=_labelled_choices(OBLIGATION_STATUS_LABELS))

    def use_choices(self, partners: Iterable[Partner]) -> None:
        """Ditjenpas or one of the agreement's partners."""
        self.partner_id.choices = partner_choices(partners, _l("Ditjenpas"))


class ObligationStatusForm(KongresForm):
    """Record progress on an obligation."""

    status = SelectField(_l("Status"), choices=_labelled_choices(OBLIGATION_STATUS_LABELS))


class EvaluationForm(KongresForm):
    """A periodic evaluation; one rating field per obligation is added by evaluation_form()."""

    evaluated_on = registry_date(
        _l("Evaluated on"), InputRequired(message=_l("Give the evaluation date."))
    )
    evaluator_name = StringField(
        _l("Evaluator"), validators=[DataRequired(), Length(max=MAX_EVALUATOR_NAME_LENGTH)]
    )
    overall_rating = SelectField(
        _l("Overall rating"),
        coerce=optional_int,
        choices=_rating_choices(_l("No overall rating")),
        description=_l(
            "From %(min)d (poor) to %(max)d (excellent).", min=MIN_RATING, max=MAX_RATING
        ),
    )
    findings = TranslatedTextField(
        _l("Findings"), [InAnyLanguage()], multiline=True, max_length=MAX_LONG_TEXT_LENGTH
    )
    follow_up = TranslatedTextField(
        _l("Follow-up actions"), multiline=True, max_length=MAX_LONG_TEXT_LENGTH
    )

    rating_prefix = "rating_"

    def rating_fields(self) -> list[Any]:
        """The per-obligation rating fields, in obligation order."""
        return [f for name, f in self._fields.items() if name.startswith(self.rating_prefix)]

    def obligation_ratings(self) -> dict[int, int]:
        """{obligation id: rating} for the obligations that were rated."""
        return {
            int(f.name.removeprefix(self.rating_prefix)): f.data
            for f in self.rating_fields()
            if f.data is not None
        }


def evaluation_form(obligations: Iterable[Obligation], **kwargs: Any) -> EvaluationForm:
    """An evaluation form with a 1–5 rating select for each of the agreement's obligations."""

    class AgreementEvaluationForm(EvaluationForm):
        """EvaluationForm with this agreement's obligations to rate."""

    for obligation in obligations:
        setattr(
            AgreementEvaluationForm,
            f"{EvaluationForm.rating_prefix}{obligation.id}",
            SelectField(
                str(obligation.description),
                coerce=optional_int,
                choices=_rating_choices(_l("Not rated")),
            ),
        )
    return AgreementEvaluationForm(**kwargs)


class DocumentUploadForm(KongresForm):
    """A signed agreement (or its scan) as a PDF file."""

    file = FileField(
        _l("PDF file"),
        validators=[FileRequired(message=_l("Choose a PDF file to upload."))],
        render_kw={"accept": "application/pdf,.pdf"},
    )


class ConfirmForm(KongresForm):
    """A bare confirmation (CSRF token only) for deletions."""


class ScopeAreaForm(KongresForm):
    """A scope area's name in both languages, and whether new agreements may use it."""

    name = TranslatedTextField(_l("Name"), [InAnyLanguage()], max_length=MAX_SCOPE_NAME_LENGTH)
    active = BooleanField(_l("In use for new agreements"), default=True)
