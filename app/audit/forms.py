"""The audit list's search and filters."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SearchField, SelectField
from wtforms.fields import DateField
from wtforms.validators import Length, Optional, ValidationError

from app.audit.actions import action_choices, target_type_label
from app.audit.services import AuditFilters
from app.forms import KongresForm
from app.validation import EARLIEST_DATE, LATEST_DATE

FILTER_NAMES = ("q", "actor", "action", "target_type", "date_from", "date_to")
MAX_SEARCH_LENGTH = 200


def _within_years(_form: Any, field: Any) -> None:
    """A day no entry can have is a typing slip."""
    if field.data is not None and not EARLIEST_DATE <= field.data <= LATEST_DATE:
        raise ValidationError(
            _l(
                "Give a date between %(first)d and %(last)d.",
                first=EARLIEST_DATE.year,
                last=LATEST_DATE.year,
            )
        )


class AuditFilterForm(KongresForm):
    """Narrow the audit log, read from the query string."""

    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(
        _l("Search"),
        validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)],
        description=_l("Action, record, person, IP address or request id"),
    )
    actor = SearchField(
        _l("Done by"),
        validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)],
        description=_l("Name or email address"),
    )
    action = SelectField(_l("Action"), default="")
    target_type = SelectField(_l("Kind of record"), default="")
    date_from = DateField(_l("From day"), validators=[Optional(), _within_years])
    date_to = DateField(_l("Until day"), validators=[Optional(), _within_years])

    def __init__(self, *args: Any, target_types: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action.choices = [("", _l("All actions")), *action_choices()]
        self.target_type.choices = [
            ("", _l("All kinds")),
            *((t, target_type_label(t)) for t in target_types),
        ]

    def validate_date_to(self, field: Any) -> None:
        """The range must not end before it starts."""
        start = self.date_from.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError(_l("The end of the range comes before its start."))

    def filters(self) -> AuditFilters:
        """The valid filters; an invalid one is left out (and shown as an error)."""
        self.validate()
        values = {
            name: getattr(self, name).data or None
            for name in FILTER_NAMES
            if not getattr(self, name).errors
        }
        return AuditFilters(**values)
