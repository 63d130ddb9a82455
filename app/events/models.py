"""An event such as WCPP 2026."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.i18n.text import TranslatedText, TranslatedTextType


class Event(db.Model):
    """A congress with its dates, venue and bilingual theme."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("default_language IN ('id', 'en')", name="default_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    short_name: Mapped[str] = mapped_column(String(64))
    name: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    theme: Mapped[TranslatedText] = mapped_column(TranslatedTextType)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    venue: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    default_language: Mapped[str] = mapped_column(String(5))
    host: Mapped[TranslatedText] = mapped_column(TranslatedTextType)

    @property
    def days(self) -> int:
        """How many calendar days the event lasts."""
        return (self.ends_on - self.starts_on).days + 1

    def __repr__(self) -> str:
        return f"<Event {self.slug}>"
