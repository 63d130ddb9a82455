"""Checks every domain's services apply to plain values, raising that domain's error."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l

from app.errors import DomainError
from app.i18n.text import TranslatedText

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\r\n\t]")

# No record Kongres keeps (agreements, registrations, evaluations) lies outside these years;
# a date beyond them is a typing slip, and year 9999 would overflow date arithmetic.
EARLIEST_DATE = date(1945, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def clean_text(
    value: str | None,
    *,
    field: str,
    max_length: int,
    required: object = None,
    multiline: bool = False,
    error: type[DomainError] = DomainError,
) -> str | None:
    """Trimmed text or None when blank; refuses a blank (when `required` is the message),
    text over max_length, and control characters (line breaks only where multiline)."""
    text = (value or "").strip()
    if not text:
        if required:
            raise error(required, "required", field=field)
        return None
    if len(text) > max_length:
        raise error(_l("Use at most %(max)d characters.", max=max_length), "too_long", field=field)
    if _CONTROL_CHARACTERS.search(text) or (not multiline and _LINE_BREAKS.search(text)):
        raise error(
            _l("Remove the control characters from this text."), "control_characters", field=field
        )
    return text


def check_date_in_range(
    day: date | None, *, field: str, error: type[DomainError] = DomainError
) -> None:
    """Refuse a date outside the years any record can have."""
    if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
        raise error(
            _l(
                "Give a date between %(first)d and %(last)d.",
                first=EARLIEST_DATE.year,
                last=LATEST_DATE.year,
            ),
            "date_out_of_range",
            field=field,
        )


def clean_translated_text(
    text: TranslatedText | None,
    *,
    field: str,
    max_length: int,
    required: object = None,
    required_code: str = "required",
    multiline: bool = False,
    error: type[DomainError] = DomainError,
) -> TranslatedText | None:
    """A text in every language, each checked as clean_text does; None when all are empty
    (refused with `required` as the message, when given)."""
    cleaned = TranslatedText(
        {
            language: clean_text(
                value, field=field, max_length=max_length, multiline=multiline, error=error
            )
            for language, value in (text.as_dict() if text else {}).items()
        }
    )
    if cleaned.is_empty():
        if required:
            raise error(required, required_code, field=field)
        return None
    return cleaned
