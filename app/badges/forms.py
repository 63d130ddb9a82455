"""Badge forms: the organisers' list filters, the print run, and one-button actions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.badges.models import BADGE_ROLE_LABELS
from app.badges.services import MAX_SEARCH_LENGTH, BadgeFilters
from app.forms import KongresForm, optional_int
from app.registration.models import RegistrationType

BADGE_STATE_LABELS = {
    "issued": _l("Badge issued"),
    "missing": _l("No badge yet"),
    "revoked": _l("Badge revoked"),
}
FILTER_NAMES = ("q", "type_id", "country", "role", "badge")


class BadgeFilterForm(KongresForm):
    """The badge list's search and filters, read from the query string."""

    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(
        _l("Search"),
        validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)],
        description=_l("Name, reference, organisation or badge number"),
    )
    type_id = SelectField(_l("Registration type"), coerce=optional_int)
    country = SelectField(_l("Country"), default="")
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice("", _l("All roles")),
            *(SelectChoice(role.value, label) for role, label in BADGE_ROLE_LABELS.items()),
        ],
        default="",
    )
    badge = SelectField(
        _l("Badge"),
        choices=[
            SelectChoice("", _l("All")),
            *(SelectChoice(value, label) for value, label in BADGE_STATE_LABELS.items()),
        ],
        default="",
    )

    def use_choices(
        self, *, countries: Iterable[tuple[str, str]], types: Iterable[RegistrationType]
    ) -> None:
        """Fill the country and type selects."""
        self.country.choices = [
            SelectChoice("", _l("All countries")),
            *(SelectChoice(code, name) for code, name in countries),
        ]
        self.type_id.choices = [
            SelectChoice("", _l("All types")),
            *(SelectChoice(str(item.id), str(item.name)) for item in types),
        ]

    def filters(self) -> BadgeFilters:
        """The valid filters; invalid ones are left out."""
        self.validate()
        values: dict[str, Any] = {
            name: getattr(self, name).data or None
            for name in FILTER_NAMES
            if not getattr(self, name).errors
        }
        return BadgeFilters(**values)


class ActionForm(KongresForm):
    """A one-button action (issue, revoke, restore): only the CSRF token."""


class ReissueForm(KongresForm):
    """Reissuing a lost badge, confirmed by ticking a box."""

    confirm = BooleanField(
        _l("Yes: the old badge stops opening doors"),
        validators=[DataRequired(message=_l("Tick the box to confirm."))],
    )


class PrintBadgesForm(KongresForm):
    """What to print: every confirmed delegate's badge, or those the filters select."""

    scope = RadioField(
        _l("Badges to print"),
        choices=[
            SelectChoice("all", _l("All confirmed delegates")),
            SelectChoice("filtered", _l("Only the delegates shown by the filters")),
        ],
        default="all",
        validators=[DataRequired(message=_l("Choose which badges to print."))],
    )
