"""Organiser-entered content stored in every language, shown in the reader's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import get_locale
from sqlalchemy import JSON
from sqlalchemy.types import TypeDecorator

CONTENT_LANGUAGES = ("id", "en")


def _current_language() -> str:
    """The language of the request (or of the CLI), as a content language code."""
    return str(get_locale() or CONTENT_LANGUAGES[0])


class TranslatedText:
    """An immutable text held in several languages with a fallback to the others."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, str | None] | None = None, **kwargs: str | None):
        merged = {**(values or {}), **kwargs}
        self._values = {
            lang: text.strip()
            for lang, text in merged.items()
            if lang in CONTENT_LANGUAGES and isinstance(text, str) and text.strip()
        }

    def get(self, language: str | None = None, *, fallback: bool = True) -> str:
        """The text in a language (the current one by default), else another language's."""
        shown = self.shown_language(language)
        if not fallback and shown != (language or _current_language()):
            return ""
        return self._values.get(shown, "")

    def shown_language(self, language: str | None = None) -> str:
        """The language get() shows the text in: the asked one (the current one by default),
        else the first one it was written in; for lang= around an untranslated text (WCAG 3.1.2).
        """
        language = language or _current_language()
        if language in self._values:
            return language
        return next((other for other in CONTENT_LANGUAGES if other in self._values), language)

    def in_language(self, language: str) -> str:
        """The text in exactly this language, or empty when it has not been translated."""
        return self._values.get(language, "")

    def missing_languages(self, languages: Iterable[str] = CONTENT_LANGUAGES) -> list[str]:
        """Languages this text has not been written in yet."""
        return [lang for lang in languages if lang not in self._values]

    def is_empty(self) -> bool:
        """Whether no language holds any text."""
        return not self._values

    def as_dict(self) -> dict[str, str]:
        """A plain copy, for JSON and storage."""
        return dict(self._values)

    def __str__(self) -> str:
        return self.get()

    def __html__(self) -> str:
        # Jinja escapes str() output only when __html__ is absent, so escape explicitly.
        from markupsafe import escape

        return str(escape(self.get()))

    def __bool__(self) -> bool:
        return bool(self._values)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TranslatedText):
            return self._values == other._values
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._values.items())))

    def __repr__(self) -> str:
        return f"TranslatedText({self._values!r})"


def shown_language(text: TranslatedText) -> str:
    """The language a bilingual text is shown in (its fallback when untranslated), for lang=."""
    return text.shown_language()


class TranslatedTextType(TypeDecorator):
    """A column holding a TranslatedText as JSON: {"id": ..., "en": ...}."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dict[str, str] | None:
        """Store the language map."""
        if value is None:
            return None
        if isinstance(value, TranslatedText):
            return value.as_dict()
        if isinstance(value, Mapping):
            return TranslatedText(value).as_dict()
        raise TypeError(f"expected TranslatedText or a mapping, got {type(value).__name__}")

    def process_result_value(self, value: Any, dialect: Any) -> TranslatedText | None:
        """Load the language map."""
        if value is None:
            return None
        return TranslatedText(value)
