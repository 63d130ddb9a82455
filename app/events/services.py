"""Finding and creating events."""

from __future__ import annotations

from datetime import date

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.events.models import Event
from app.extensions import db
from app.i18n.text import TranslatedText


def current_event() -> Event | None:
    """The event this installation serves (EVENT_SLUG), else the earliest one."""
    event = db.session.scalar(select(Event).where(Event.slug == current_app.config["EVENT_SLUG"]))
    if event is None:
        event = db.session.scalar(select(Event).order_by(Event.starts_on).limit(1))
    return event


def default_language() -> str | None:
    """The current event's default language, for visitors who state none."""
    try:
        event = current_event()
    except SQLAlchemyError:
        # Error pages must still render (in the default language) when the database is down.
        db.session.rollback()
        current_app.logger.warning("database unavailable while choosing the page language")
        return None
    return event.default_language if event else None


def ensure_event(
    *,
    slug: str,
    short_name: str,
    name: TranslatedText,
    theme: TranslatedText,
    host: TranslatedText,
    starts_on: date,
    ends_on: date,
    venue: str,
    city: str,
    country: str,
    timezone: str,
    default_language: str,
) -> Event:
    """Create the event with this slug, or bring an existing one up to these values."""
    event = db.session.scalar(select(Event).where(Event.slug == slug)) or Event(slug=slug)
    event.short_name = short_name
    event.name = name
    event.theme = theme
    event.host = host
    event.starts_on = starts_on
    event.ends_on = ends_on
    event.venue = venue
    event.city = city
    event.country = country
    event.timezone = timezone
    event.default_language = default_language
    db.session.add(event)
    db.session.flush()
    return event
