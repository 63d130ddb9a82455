"""The published programme, one session and a delegate's agenda as iCalendar (RFC 5545).

Times carry the event's zone (a VTIMEZONE for Asia/Makassar and DTSTART;TZID=...), so that
calendar applications show WITA times at the venue and convert them at home. Every session
keeps one UID across feeds and versions; SEQUENCE is the programme's version number, so a
republished change replaces the copy a calendar already holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Timezone, vDuration
from icalendar import Event as CalendarEvent

from app.i18n.locale import LANGUAGE_NAMES
from app.programme.agenda import agenda_of
from app.programme.models import SignupStatus
from app.programme.published import PublishedProgramme, PublishedSession
from app.registration.models import Registration
from app.web import absolute_url

PRODUCT_ID = "-//Kongres//Programme//EN"
# How often subscribed calendars should fetch the feed again.
REFRESH_INTERVAL = timedelta(hours=1)


@lru_cache(maxsize=16)
def _vtimezone(zone_key: str, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE for the years the programme spans (cached: building it walks
    the zone's transitions). Shared by calendars, never changed after it is built."""
    return Timezone.from_tzinfo(
        ZoneInfo(zone_key),
        tzid=zone_key,
        first_date=date(first_year, 1, 1),
        last_date=date(last_year + 1, 1, 1),
    )


def _utc(moment: datetime) -> datetime:
    """A moment as UTC-aware (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _uid(session_id: int) -> str:
    """The session's UID: the same in every feed and every version of the programme."""
    host = current_app.config.get("SERVER_NAME") or "kongres"
    return f"session-{session_id}@{host}"


def _calendar(name: str, zone: ZoneInfo, first_day: date, last_day: date) -> Calendar:
    """An empty calendar named `name`, carrying the zone's VTIMEZONE for those days."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone.key)
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL).to_ical().decode())
    calendar.add_component(_vtimezone(zone.key, first_day.year, last_day.year))
    return calendar


def _programme_calendar(programme: PublishedProgramme, name: str) -> Calendar:
    """An empty calendar in the programme's zone."""
    return _calendar(name, programme.zone, programme.starts_on, programme.ends_on)


def _names(people: Iterable) -> str:
    """Speakers' names as the programme prints them."""
    return ", ".join(person.display_name for person in people)


def _description(session: PublishedSession, language: str, url: str) -> str:
    """The abstract, who speaks, the language and the session page's address (in the
    current, forced language)."""
    parts = []
    abstract = session.abstract.get(language) if session.abstract else ""
    if abstract:
        parts.append(abstract)
    people = []
    if session.chairs:
        people.append(_("Chairs: %(names)s", names=_names(session.chairs)))
    if session.speakers:
        people.append(_("Speakers: %(names)s", names=_names(session.speakers)))
    spoken = LANGUAGE_NAMES.get(session.spoken_language, session.spoken_language)
    facts = [_("Language: %(language)s", language=spoken)]
    if session.interpretation:
        facts.append(_("Interpretation between Indonesian and English"))
    if session.track is not None:
        facts.append(_("Track: %(track)s", track=session.track.name.get(language)))
    parts.extend(["\n".join(people), " · ".join(facts), url])
    return "\n\n".join(part for part in parts if part)


def _location(session: PublishedSession) -> str | None:
    """The room (with its floor), else where the session takes place."""
    if session.room is not None:
        if session.room.floor:
            return f"{session.room.name} ({session.room.floor})"
        return session.room.name
    return session.location_note or None


def _vevent(
    programme: PublishedProgramme,
    session: PublishedSession,
    language: str,
    *,
    waiting: bool = False,
) -> CalendarEvent:
    """One session as a VEVENT in the programme's zone; `waiting` marks a waiting-list spot
    as tentative."""
    url = absolute_url("programme.show_session", session_id=session.id)
    title = session.title.get(language)
    if waiting:
        title = _("%(title)s (waiting list)", title=title)
    published = _utc(programme.published_at)
    item = CalendarEvent()
    item.add("uid", _uid(session.id))
    item.add("dtstamp", published)
    item.add("last-modified", published)
    item.add("sequence", programme.version)
    item.add("dtstart", session.starts_at.astimezone(programme.zone))
    item.add("dtend", session.ends_at.astimezone(programme.zone))
    item.add("summary", title)
    item.add("description", _description(session, language, url))
    location = _location(session)
    if location:
        item.add("location", location)
    item.add("url", url)
    categories = [session.kind_label]
    if session.track is not None:
        categories.append(session.track.name.get(language))
    item.add("categories", categories)
    item.add("status", "TENTATIVE" if waiting else "CONFIRMED")
    return item


def programme_calendar(programme: PublishedProgramme, language: str) -> bytes:
    """Every session of the published programme, titles in `language`."""
    with force_locale(language):
        calendar = _programme_calendar(programme, _("Congress programme"))
        for session in programme.sessions:
            calendar.add_component(_vevent(programme, session, language))
    return calendar.to_ical()


def session_calendar(
    programme: PublishedProgramme, session: PublishedSession, language: str
) -> bytes:
    """One published session, to add to a calendar."""
    with force_locale(language):
        calendar = _programme_calendar(programme, session.title.get(language))
        calendar.add_component(_vevent(programme, session, language))
    return calendar.to_ical()


def agenda_calendar(programme: PublishedProgramme | None, registration: Registration) -> bytes:
    """A delegate's agenda in their language: places as confirmed events, waiting-list
    spots as tentative ones (empty, in the event's zone, before anything is published)."""
    language = registration.language
    event = registration.event
    with force_locale(language):
        name = _("My agenda · %(event)s", event=event.short_name)
        if programme is None:
            return _calendar(
                name, ZoneInfo(event.timezone), event.starts_on, event.ends_on
            ).to_ical()
        calendar = _programme_calendar(programme, name)
        for signup, session in agenda_of(registration, programme):
            waiting = signup.status == SignupStatus.WAITLISTED.value
            calendar.add_component(_vevent(programme, session, language, waiting=waiting))
    return calendar.to_ical()
