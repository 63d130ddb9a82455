"""Bilingual content: the TranslatedText value, its column type and form field; formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask_babel import force_locale
from werkzeug.datastructures import MultiDict

from app.demo import load_wcpp_event
from app.events.models import Event
from app.forms import KongresForm
from app.i18n.fields import InAnyLanguage, InEveryLanguage, TranslatedTextField
from app.i18n.formatting import (
    country_choices,
    country_name,
    format_day_range,
    format_event_datetime,
    format_money,
)
from app.i18n.text import TranslatedText


def test_text_is_shown_in_the_current_language_with_a_fallback(db):
    both = TranslatedText(id="Keadilan restoratif", en="Restorative justice")
    only_id = TranslatedText(id="Pidana kerja sosial")
    with force_locale("en"):
        assert str(both) == "Restorative justice"
        assert str(only_id) == "Pidana kerja sosial"
    with force_locale("id"):
        assert str(both) == "Keadilan restoratif"
    assert only_id.missing_languages() == ["en"]
    assert TranslatedText(id="  ", en=None).is_empty()


def test_text_names_the_language_it_is_shown_in(db):
    both = TranslatedText(id="Keadilan restoratif", en="Restorative justice")
    only_en = TranslatedText(en="Early career professional")
    with force_locale("id"):
        assert both.shown_language() == "id"
        assert only_en.shown_language() == "en"
        assert str(only_en) == "Early career professional"
        assert only_en.get(fallback=False) == ""
    assert only_en.shown_language("id") == "en"
    assert both.shown_language("en") == "en"
    assert TranslatedText().shown_language("id") == "id"


def test_text_is_escaped_in_templates(db):
    from flask import render_template_string

    text = TranslatedText(en="<script>alert(1)</script>")
    with force_locale("en"):
        html = render_template_string("{{ t }}", t=text)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_column_stores_both_languages_together(db):
    event = load_wcpp_event()
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Event, event.id)
    assert stored.theme.in_language("en").startswith("Getting Smart on Justice")
    assert stored.theme.in_language("id").startswith("Getting Smart on Justice: Memulihkan")


class _ThemeForm(KongresForm):
    theme = TranslatedTextField("Theme", [InAnyLanguage()], max_length=50)


class _StrictForm(KongresForm):
    theme = TranslatedTextField("Theme", [InEveryLanguage()])


def _form(cls, **data):
    return cls(formdata=MultiDict(data), meta={"csrf": False})


def test_the_field_reads_both_languages(db):
    form = _form(_ThemeForm, **{"theme-id": "Tema", "theme-en": "Theme"})
    assert form.validate()
    assert form.theme.data == TranslatedText(id="Tema", en="Theme")


def test_the_field_requires_at_least_one_language_with_a_translated_message(db):
    with force_locale("id"):
        form = _form(_ThemeForm, **{"theme-id": " ", "theme-en": ""})
        assert not form.validate()
        assert form.theme.errors == ["Tuliskan ini setidaknya dalam satu bahasa."]


def test_the_field_refuses_text_over_its_length(db):
    form = _form(_ThemeForm, **{"theme-id": "x" * 51})
    assert not form.validate()


def test_a_strict_field_wants_both_languages(db):
    assert not _form(_StrictForm, **{"theme-id": "Tema"}).validate()
    assert _form(_StrictForm, **{"theme-id": "Tema", "theme-en": "Theme"}).validate()


def test_the_widget_flags_the_missing_translation(db):
    with force_locale("en"):
        html = str(_form(_ThemeForm, **{"theme-id": "Tema"}).theme())
    assert 'name="theme-id"' in html
    assert 'name="theme-en"' in html
    assert "translation missing" in html


def test_times_are_shown_in_wita(db):
    moment = datetime(2026, 4, 14, 1, 30, tzinfo=UTC)
    with force_locale("en"):
        assert format_event_datetime(moment).endswith("9:30:00\u202fAM WITA")
    with force_locale("id"):
        assert "09.30.00 WITA" in format_event_datetime(moment)


def test_money_in_minor_units_is_formatted_for_the_language(db):
    with force_locale("en"):
        assert format_money(45000, "USD") == "$450.00"
    with force_locale("id"):
        # Rupiah is kept in sen (ISO 4217 and Stripe) but shown without the unused ",00".
        assert format_money(450_000_000, "IDR") == "Rp4.500.000"
        assert format_money(450_000_050, "IDR") == "Rp4.500.000,50"
        assert format_money(45000, "USD") == "US$450,00"


def test_date_ranges_and_countries(db):
    with force_locale("id"):
        assert format_day_range(date(2026, 4, 14), date(2026, 4, 17)) == "14–17 Apr 2026"
        assert country_name("NL") == "Belanda"
        names = [name for _, name in country_choices()]
        assert names == sorted(names, key=str.casefold)
        assert "Indonesia" in names
    with force_locale("en"):
        assert country_name("JP") == "Japan"
        codes = {code for code, _ in country_choices()}
        assert {"ID", "JP", "NL", "AU"} <= codes
        assert "EU" not in codes
        assert len(codes) > 240


@pytest.mark.parametrize("lang", ["id", "en"])
def test_wtforms_messages_are_translated(db, lang):
    from wtforms import StringField
    from wtforms.validators import DataRequired

    class _Required(KongresForm):
        name = StringField("Name", [DataRequired()])

    with force_locale(lang):
        form = _form(_Required, name="")
        form.validate()
    expected = {"id": "Isian ini wajib diisi.", "en": "This field is required."}[lang]
    assert form.name.errors == [expected]
