"""Dashboard filter forms (GET, no CSRF: they only read)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectField, ValidationError
from wtforms.validators import NumberRange, Optional

from app.agreements.models import UNIT_LEVEL_LABELS
from app.forms import KongresForm
from app.validation import EARLIEST_DATE, LATEST_DATE

EARLIEST_YEAR = EARLIEST_DATE.year
LATEST_YEAR = LATEST_DATE.year


class RegistryFilterForm(KongresForm):
    """Signing-year range and level for the registry dashboard."""

    class Meta:
        csrf = False

    year_from = IntegerField(
        _l("Signed from (year)"),
        validators=[
            Optional(),
            NumberRange(
                EARLIEST_YEAR,
                LATEST_YEAR,
                message=_l("Enter a year between %(min)d and %(max)d."),
            ),
        ],
    )
    year_to = IntegerField(
        _l("Signed until (year)"),
        validators=[
            Optional(),
            NumberRange(
                EARLIEST_YEAR,
                LATEST_YEAR,
                message=_l("Enter a year between %(min)d and %(max)d."),
            ),
        ],
    )
    level = SelectField(_l("Level"), default="", validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = [("", _l("All levels"))] + [
            (level.value, label) for level, label in UNIT_LEVEL_LABELS.items()
        ]

    def validate_year_to(self, field: IntegerField) -> None:
        """The range must not run backwards."""
        if (
            field.data is not None
            and self.year_from.data is not None
            and not self.year_from.errors
            and field.data < self.year_from.data
        ):
            raise ValidationError(_l("The last year must not be before the first year."))
