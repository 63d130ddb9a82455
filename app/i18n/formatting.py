"""Dates, times, money and countries formatted for the current language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_interval
from babel.numbers import format_currency
from flask import current_app
from flask_babel import get_locale


def _locale() -> Locale:
    """The request's Babel locale."""
    return get_locale() or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])


def event_zone() -> ZoneInfo:
    """The event's time zone (Asia/Makassar, WITA, by default)."""
    return ZoneInfo(current_app.config["EVENT_TIMEZONE"])


def to_event_time(moment: datetime) -> datetime:
    """A UTC moment (naive values are taken as UTC) in the event's time zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(event_zone())


def format_event_datetime(moment: datetime | None, fmt: str = "medium") -> str:
    """A stored UTC moment shown in the event's zone, in the current language."""
    if moment is None:
        return ""
    local = to_event_time(moment)
    text = babel_format_datetime(local, fmt, tzinfo=local.tzinfo, locale=_locale())
    return f"{text} {local.tzname()}"


def format_day(day: date | None, fmt: str = "long") -> str:
    """A calendar date in the current language."""
    if day is None:
        return ""
    return babel_format_date(day, fmt, locale=_locale())


def format_day_range(start: date, end: date) -> str:
    """A span of days, e.g. "14–17 April 2026" or "14–17 April 2026" in Indonesian."""
    return format_interval(start, end, "yMMMMd", locale=_locale())


# Amounts are stored in the minor units Stripe expects (its documented currency lists), not in
# CLDR's everyday digits: CLDR 46 (Babel 2.19) gives the rupiah, forint and others 0 digits
# where ISO 4217 and Stripe keep 2, which would misread every stored amount by a factor of 100.
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL_CURRENCIES = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


def minor_unit_exponent(currency: str) -> int:
    """How many decimal places a currency's stored minor units have (USD 2, IDR 2, JPY 0)."""
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    return 3 if code in THREE_DECIMAL_CURRENCIES else 2


def minor_to_decimal(amount_minor: int, currency: str) -> Decimal:
    """Minor units as an exact amount in major units (4500000.00), e.g. for spreadsheets."""
    return Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))


def minor_to_major(amount_minor: int, currency: str) -> float:
    """Integer minor units to a major-unit number (USD cents, IDR sen)."""
    return amount_minor / (10 ** minor_unit_exponent(currency))


# Currencies whose minor unit exists in ISO 4217 (and for Stripe) but is not used in daily life.
WHOLE_UNIT_CURRENCIES = frozenset({"IDR"})


def format_money(amount_minor: int | None, currency: str) -> str:
    """Money stored in ISO 4217 minor units, formatted for the current language.

    Rupiah amounts are stored in sen like Stripe expects (Rp 4.500.000 = 450000000) but shown
    without the ",00" nobody writes.
    """
    if amount_minor is None:
        return ""
    locale = _locale()
    digits = minor_unit_exponent(currency)
    if currency in WHOLE_UNIT_CURRENCIES and amount_minor % (10**digits) == 0:
        digits = 0
    # The locale's pattern with the stored minor unit's decimals, not CLDR's everyday digits.
    standard = locale.currency_formats["standard"].pattern.split(";")[0]
    pattern = re.sub(r"0\.0+", "0" + ("." + "0" * digits if digits else ""), standard)
    return format_currency(
        minor_to_major(amount_minor, currency),
        currency,
        format=pattern,
        locale=locale,
        currency_digits=False,
    )


def country_name(code: str | None) -> str:
    """An ISO 3166 country code's name in the current language."""
    if not code:
        return ""
    return _locale().territories.get(code.upper(), code.upper())


def country_choices() -> list[tuple[str, str]]:
    """Every ISO country as (code, name), sorted by name in the current language."""
    territories = _locale().territories
    codes = [code for code in territories if len(code) == 2 and code.isalpha() and code != "ZZ"]
    # EU, UN, EZ and QO are groupings, not countries.
    codes = [code for code in codes if code not in {"EU", "UN", "EZ", "QO", "XA", "XB", "XK"}]
    return sorted(
        ((code, territories[code]) for code in codes), key=lambda item: item[1].casefold()
    )
