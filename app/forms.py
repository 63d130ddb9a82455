"""Shared form pieces: the base form every Kongres form derives from, and common fields.

WTForms ships no Indonesian catalogue, so its built-in validator messages are listed below for
extraction and translated with everything else.
"""

from __future__ import annotations

import inspect

from flask import request
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import FieldList, FormField, SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

# PostgreSQL refuses NUL in text and no human types one: it is dropped from every input.
NUL = "\x00"
# Ids and counts are PostgreSQL integers; anything larger is junk, not a record.
MAX_DATABASE_INT = 2**31 - 1
# What a form gets when the view passes no formdata: Flask-WTF then reads the request itself.
_REQUEST_FORMDATA = inspect.signature(FlaskForm.__init__).parameters["formdata"].default


def _without_nul(value: object) -> object:
    """Drop NUL characters from submitted text (and lists of text)."""
    if isinstance(value, str):
        return value.replace(NUL, "")
    if isinstance(value, list):
        return [item.replace(NUL, "") if isinstance(item, str) else item for item in value]
    return value


def optional_int(value: object) -> int | None:
    """Coerce a submitted choice to an int that fits the database, or None when empty.

    Anything else raises ValueError, which WTForms reports as an invalid choice.
    """
    if value is None or value == "":
        return None
    number = int(value)
    if not 0 <= number <= MAX_DATABASE_INT:
        raise ValueError("out of range")
    return number


class _CatalogueTranslations:
    """WTForms' translation interface backed by Flask-Babel's current catalogue."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_TRANSLATIONS = _CatalogueTranslations()


class KongresForm(FlaskForm):
    """Every Kongres form: CSRF-protected, validator messages in the visitor's language, and
    no NUL characters in what it reads."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form: FlaskForm) -> _CatalogueTranslations:
            return _TRANSLATIONS

        def wrap_formdata(self, form, formdata):
            # Flask-WTF turns a JSON body into form data, which fails (500) on anything but a
            # flat object of strings. Kongres forms are HTML forms: JSON is an empty submission.
            if formdata is _REQUEST_FORMDATA and request.is_json and not request.form:
                return ImmutableMultiDict()
            return super().wrap_formdata(form, formdata)

        def bind_field(self, form, unbound_field, options):
            # Enclosures (FormField, FieldList) take no filters; their inner fields get it.
            if issubclass(unbound_field.field_class, (FormField, FieldList)):
                return unbound_field.bind(form=form, **options)
            filters = [*unbound_field.kwargs.get("filters", ()), _without_nul]
            return unbound_field.bind(form=form, **{**options, "filters": filters})


class ActionForm(KongresForm):
    """A one-button action: only the CSRF token."""


class MultiCheckboxField(SelectMultipleField):
    """Several choices shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args, **kwargs):
        """Nothing ticked is an empty list, never None (a POST without a form body)."""
        kwargs.setdefault("default", ())
        super().__init__(*args, **kwargs)


# Built-in WTForms and Flask-WTF messages, marked for extraction (never called for their value).
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Invalid input."),
    _l("Invalid email address."),
    _l("Invalid URL."),
    _l("Field must be equal to %(other_name)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    _l("Number must be at least %(min)s."),
    _l("Number must be at most %(max)s."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Not a valid choice."),
    _l("Not a valid date value."),
    _l("Not a valid datetime value."),
    _l("Not a valid time value."),
    _l("Not a valid integer value."),
    _l("Not a valid decimal value."),
    _l("Not a valid float value."),
    _l("Invalid value, must be one of: %(values)s."),
    _l("Invalid Choice: could not coerce."),
    _l("Invalid choice(s): one or more data inputs could not be coerced."),
    _l("Date must be at least %(min)s."),
    _l("Date must be at most %(max)s."),
    _l("Date must be between %(min)s and %(max)s."),
    _l("The CSRF token is missing."),
    _l("The CSRF token is invalid."),
    _l("The CSRF token has expired."),
    _l("The CSRF session token is missing."),
    _l("The CSRF tokens do not match."),
    _l("File does not have an approved extension: {extensions}"),
    _l("File must be between {min_size} and {max_size} bytes."),
    _l("File must be greater than {min_size} bytes."),
    _l("File must be smaller than {max_size} bytes."),
)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Extraction marker only: pybabel reads the plural pair, WTForms translates at run time."""
    return singular


WTFORMS_PLURAL_MESSAGES = (
    ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    ),
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    ),
    ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
        1,
    ),
)
