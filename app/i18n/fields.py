"""A form field that takes organiser-entered content in every language at once."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import Field
from wtforms.validators import StopValidation, ValidationError

from app.i18n.locale import LANGUAGE_NAMES
from app.i18n.text import CONTENT_LANGUAGES, TranslatedText


class TranslatedTextWidget:
    """Renders one labelled input (or textarea) per language, flagging missing ones."""

    def __call__(self, field: TranslatedTextField, **kwargs: Any) -> Markup:
        value = field.data or TranslatedText()
        raw = field.raw_values or {}
        parts = ['<div class="translated-field">']
        for lang in CONTENT_LANGUAGES:
            input_id = f"{field.id}-{lang}"
            text = raw.get(lang, value.in_language(lang))
            missing = (
                ""
                if text
                else (f' <span class="badge badge-warn">{escape(_l("translation missing"))}</span>')
            )
            required = ' aria-required="true"' if field.flags.required else ""
            parts.append(
                f'<label for="{input_id}" class="lang-label">'
                f'<span lang="{lang}">{escape(LANGUAGE_NAMES[lang])}</span>{missing}</label>'
            )
            if field.multiline:
                parts.append(
                    f'<textarea id="{input_id}" name="{field.name}-{lang}" lang="{lang}" '
                    f'rows="4" maxlength="{field.max_length}"{required}>{escape(text)}</textarea>'
                )
            else:
                parts.append(
                    f'<input type="text" id="{input_id}" name="{field.name}-{lang}" '
                    f'lang="{lang}" value="{escape(text)}" '
                    f'maxlength="{field.max_length}"{required}>'
                )
        parts.append("</div>")
        # Every interpolated value above went through escape(), so the markup is safe.
        return Markup("".join(parts))  # noqa: S704


class TranslatedTextField(Field):
    """Content typed in Indonesian and English; data is a TranslatedText."""

    widget = TranslatedTextWidget()

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        multiline: bool = False,
        max_length: int = 500,
        **kwargs: Any,
    ):
        super().__init__(label, validators, **kwargs)
        self.multiline = multiline
        self.max_length = max_length
        self.raw_values: dict[str, str] | None = None

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:
        """Read the per-language inputs (name-id, name-en) from the submitted form."""
        super().process(formdata, data, extra_filters)
        if formdata is None:
            return
        keys = [f"{self.name}-{lang}" for lang in CONTENT_LANGUAGES]
        if any(key in formdata for key in keys):
            self.raw_values = {
                lang: str(formdata.get(f"{self.name}-{lang}", "")) for lang in CONTENT_LANGUAGES
            }
            self.data = TranslatedText(self.raw_values)

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Ignore a plain single-valued input of the same name."""

    def pre_validate(self, form: Any) -> None:
        """Refuse text longer than the field allows, in any language."""
        for lang, text in (self.raw_values or {}).items():
            if len(text) > self.max_length:
                raise StopValidation(
                    _l(
                        "The %(language)s text is longer than %(max)d characters.",
                        language=LANGUAGE_NAMES[lang],
                        max=self.max_length,
                    )
                )

    def _value(self) -> str:
        return str(self.data or "")


class InAnyLanguage:
    """Require the text in at least one language (the other is flagged as missing)."""

    field_flags = {"required": True}

    def __init__(self, message: Any = None):
        self.message = message or _l("Write this in at least one language.")

    def __call__(self, form: Any, field: TranslatedTextField) -> None:
        if field.data is None or field.data.is_empty():
            field.errors[:] = []
            raise StopValidation(self.message)


class InEveryLanguage:
    """Require the text in every content language."""

    field_flags = {"required": True}

    def __init__(self, message: Any = None):
        self.message = message or _l("Write this in both Indonesian and English.")

    def __call__(self, form: Any, field: TranslatedTextField) -> None:
        if field.data is None or field.data.missing_languages():
            raise ValidationError(self.message)
