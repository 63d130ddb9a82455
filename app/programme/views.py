"""The public programme: days side by side by room, sessions, speakers, iCal, the JSON API.
Organiser pages (organiser_views.py) and delegates' agendas (agenda_views.py) attach here.

Every public page reads the published snapshot (published.py), never the organisers' drafts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.auth.access import PUBLIC, allow
from app.errors import abort_with
from app.events.models import Event
from app.events.services import current_event
from app.extensions import db
from app.forms import KongresForm
from app.i18n.formatting import to_event_time
from app.i18n.locale import LANGUAGE_NAMES
from app.programme import agenda, ical, services
from app.programme.grid import SLOT_MINUTES, DayGrid, build_day_grid, sessions_on_day
from app.programme.models import (
    SESSION_KIND_LABELS,
    SPOKEN_LANGUAGES,
    SessionKind,
    SignupStatus,
    Speaker,
)
from app.programme.published import PublishedProgramme, PublishedSession, published_programme
from app.registration.models import Registration

bp = Blueprint("programme", __name__, template_folder="templates")


SEARCH_MAX = 200
# Photo addresses carry the programme version, so browsers may keep them for a long time.
PHOTO_MAX_AGE = 30 * 24 * 3600
HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


# --- template helpers (also used by the organisers' editor through _grid.html) -------------


def _as_utc(moment: datetime) -> datetime:
    """A stored moment as aware UTC (SQLite hands back naive UTC values)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@bp.app_template_filter("iso_utc")
def iso_utc(moment: datetime | None) -> str:
    """An ISO 8601 UTC timestamp for <time datetime> and data attributes."""
    if moment is None:
        return ""
    return _as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


@bp.app_template_filter("event_clock")
def event_clock(moment: datetime | None) -> str:
    """The wall-clock time (24-hour) of a moment in the event's zone."""
    return "" if moment is None else to_event_time(moment).strftime("%H:%M")


@bp.app_template_filter("css_colour")
def css_colour(value: str | None) -> str:
    """A track colour fit for a style attribute (#rrggbb), else nothing."""
    return value if value and HEX_COLOUR.match(value) else ""


@bp.app_template_filter("duration_minutes")
def duration_minutes(session: Any) -> int:
    """How long a placed session lasts, in minutes (0 when it is not placed)."""
    if session.starts_at is None or session.ends_at is None:
        return 0
    return int((_as_utc(session.ends_at) - _as_utc(session.starts_at)).total_seconds() // 60)


@bp.app_template_global("session_kind_label")
def session_kind_label(kind: str) -> str:
    """A session kind's name in the current language."""
    try:
        return SessionKind(kind).label
    except ValueError:
        return str(kind)


@bp.app_template_global("signup_status_label")
def signup_status_label(status: str) -> str:
    """A sign-up state's name in the current language."""
    try:
        return SignupStatus(status).label
    except ValueError:
        return str(status)


@bp.app_template_global("speaker_display_name")
def speaker_display_name(speaker: Any) -> str:
    """A speaker's name with their honorific ("Dr Jane Doe"), published or draft."""
    shown = getattr(speaker, "display_name", None)
    if shown:
        return shown
    return " ".join(part for part in (speaker.honorific, speaker.name) if part)


bp.add_app_template_global(SLOT_MINUTES, "slot_minutes")


# --- the filter form -----------------------------------------------------------------------


def _kind_choices() -> list[SelectChoice]:
    """Every session kind, after "all"."""
    return [
        SelectChoice("", _l("All kinds")),
        *(SelectChoice(kind.value, label) for kind, label in SESSION_KIND_LABELS.items()),
    ]


def _language_choices() -> list[SelectChoice]:
    """The languages sessions are held in, after "all"."""
    return [
        SelectChoice("", _l("All languages")),
        *(SelectChoice(code, LANGUAGE_NAMES[code]) for code in SPOKEN_LANGUAGES),
    ]


class ProgrammeFilterForm(KongresForm):
    """Search text and filters of the public programme (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Search"),
        validators=[
            Optional(),
            Length(max=SEARCH_MAX, message=_l("Use at most %(max)d characters.")),
        ],
        description=_l("Title, abstract, speaker or room"),
    )
    # Defaults of "" make an unfiltered programme valid (no value means "all").
    # The view offers the published programme's tracks.
    track = SelectField(_l("Track"), choices=[SelectChoice("", _l("All tracks"))], default="")
    kind = SelectField(_l("Kind"), choices=_kind_choices, default="")
    language = SelectField(_l("Spoken language"), choices=_language_choices, default="")


@dataclass(frozen=True)
class ProgrammeFilters:
    """What the visitor filters the programme by; empty means the whole day grid."""

    track_id: int | None = None
    kind: str | None = None
    language: str | None = None
    q: str | None = None

    @property
    def active(self) -> bool:
        """Whether any filter or search is set."""
        return any(value is not None for value in (self.track_id, self.kind, self.language, self.q))


def _read_filters(form: ProgrammeFilterForm, programme: PublishedProgramme) -> ProgrammeFilters:
    """The valid filters of the form; a junk value in the address is ignored, not an error."""
    form.track.choices = [
        SelectChoice("", _l("All tracks")),
        *(SelectChoice(str(track.id), str(track.name)) for track in programme.tracks),
    ]
    form.validate()

    def valid(field: Any) -> str | None:
        return field.data if field.data and not field.errors else None

    track = valid(form.track)
    return ProgrammeFilters(
        track_id=int(track) if track else None,
        kind=valid(form.kind),
        language=valid(form.language),
        q=(valid(form.q) or "").strip() or None,
    )


# --- shared lookups ------------------------------------------------------------------------


def _event() -> Event:
    """The current congress, or 404 when none is set up."""
    event = current_event()
    if event is None:
        abort(404)
    return event


def _programme_or_404(event: Event) -> PublishedProgramme:
    """The published programme, or 404 when nothing is published yet."""
    programme = published_programme(event)
    if programme is None:
        abort_with(404, _l("The programme has not been published yet."))
    return programme


def _delegate_registration(event: Event) -> Registration | None:
    """The signed-in visitor's confirmed registration, if any (they may sign up for sessions)."""
    if not current_user.is_authenticated:
        return None
    return agenda.confirmed_registration(event, current_user)


def _requested_day(programme: PublishedProgramme, days: list[date]) -> date:
    """The day asked for in ?day=, else today during the congress, else the first day with
    sessions; a malformed day is a 400, a day outside the congress a 404."""
    asked = request.args.get("day", "").strip()
    if asked:
        try:
            day = date.fromisoformat(asked)
        except ValueError:
            abort_with(400, _l("Give the day as YYYY-MM-DD."))
        if day not in days:
            abort_with(404, _l("The congress has no programme on that day."))
        return day
    today = datetime.now(programme.zone).date()
    if today in days:
        return today
    for day in days:
        if sessions_on_day(programme.sessions, day, programme.zone):
            return day
    return days[0]


def _sessions_by_day(
    programme: PublishedProgramme, sessions: Iterable[PublishedSession]
) -> list[tuple[date, list[PublishedSession]]]:
    """Sessions grouped by their local day, in time order."""
    grouped: dict[date, list[PublishedSession]] = {}
    for session in sorted(sessions, key=lambda s: (s.starts_at, s.id)):
        grouped.setdefault(session.starts_at.astimezone(programme.zone).date(), []).append(session)
    return sorted(grouped.items())


def _day_grid(programme: PublishedProgramme, day: date) -> DayGrid:
    """The day's grid with a column for each room used that day, in the rooms' order."""
    todays = sessions_on_day(programme.sessions, day, programme.zone)
    used = {session.room_id for session in todays}
    rooms = [room for room in programme.rooms if room.id in used]
    return build_day_grid(day, rooms, todays, programme.zone)


def _places_left(
    programme: PublishedProgramme, sessions: Iterable[PublishedSession]
) -> dict[int, int | None]:
    """Free places of the sessions that need a sign-up (one query, none when there is none)."""
    ids = [session.id for session in sessions if session.requires_signup]
    return agenda.places_left(ids, programme) if ids else {}


# --- pages ---------------------------------------------------------------------------------


@bp.get("/programme/")
@allow(PUBLIC)
def public_programme():
    """The published programme: a day's grid, or the sessions matching a search or filters."""
    event = _event()
    programme = published_programme(event)
    if programme is None:
        return render_template("programme/public/programme.html", event=event, programme=None)
    form = ProgrammeFilterForm(formdata=request.args)
    filters = _read_filters(form, programme)
    days = programme.days()
    registration = _delegate_registration(event)
    signup_states = agenda.signup_states(registration) if registration is not None else {}
    context: dict[str, Any] = {
        "event": event,
        "programme": programme,
        "form": form,
        "filters": filters,
        "days": days,
        "signup_states": signup_states,
        "day_counts": {
            day: len(sessions) for day, sessions in _sessions_by_day(programme, programme.sessions)
        },
    }
    if filters.active:
        matches = programme.search(
            track_id=filters.track_id, kind=filters.kind, language=filters.language, q=filters.q
        )
        context["results"] = _sessions_by_day(programme, matches)
        context["result_count"] = len(matches)
        context["places_left"] = _places_left(programme, matches)
        context["day"] = None
    else:
        day = _requested_day(programme, days)
        grid = _day_grid(programme, day)
        context["day"] = day
        context["grid"] = grid
        context["places_left"] = _places_left(programme, (item.session for item in grid.items))
    return render_template("programme/public/programme.html", **context)


@bp.get("/programme/sessions/<int:session_id>")
@allow(PUBLIC)
def show_session(session_id: int):
    """One published session: when and where, who speaks, and signing up for it."""
    event = _event()
    programme = _programme_or_404(event)
    session = programme.session(session_id)
    if session is None:
        abort(404)
    registration = _delegate_registration(event)
    state = agenda.signup_states(registration).get(session.id) if registration else None
    places = _places_left(programme, [session]).get(session.id)
    return render_template(
        "programme/public/session.html",
        event=event,
        programme=programme,
        session=session,
        local_day=session.starts_at.astimezone(programme.zone).date(),
        registration=registration,
        state=state,
        places_left=places,
    )


@bp.get("/programme/speakers/")
@allow(PUBLIC)
def list_speakers():
    """Everyone who speaks at or chairs a published session, by name."""
    event = _event()
    programme = published_programme(event)
    speakers = (
        sorted(programme.speakers, key=lambda speaker: speaker.name.casefold())
        if programme is not None
        else []
    )
    return render_template(
        "programme/public/speakers.html", event=event, programme=programme, speakers=speakers
    )


@bp.get("/programme/speakers/<int:speaker_id>")
@allow(PUBLIC)
def show_speaker(speaker_id: int):
    """A speaker's biography, photo and sessions."""
    event = _event()
    programme = _programme_or_404(event)
    speaker = programme.speaker(speaker_id)
    if speaker is None:
        abort(404)
    sessions = programme.sessions_of_speaker(speaker_id)
    return render_template(
        "programme/public/speaker.html",
        event=event,
        programme=programme,
        speaker=speaker,
        sessions_by_day=_sessions_by_day(programme, sessions),
        session_count=len(sessions),
    )


@bp.get("/programme/speakers/<int:speaker_id>/photo")
@allow(PUBLIC)
def speaker_photo(speaker_id: int):
    """A published speaker's photo (drafts' photos stay private)."""
    event = _event()
    programme = _programme_or_404(event)
    published = programme.speaker(speaker_id)
    if published is None or not published.has_photo:
        abort(404)
    speaker = db.session.get(Speaker, speaker_id)
    path = services.photo_path(speaker) if speaker is not None else None
    if speaker is None or speaker.event_id != event.id or path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=PHOTO_MAX_AGE, conditional=True)
    response.cache_control.public = True
    return response


def _calendar_response(body: bytes, filename: str) -> Response:
    """An iCalendar download that calendar apps can also subscribe to."""
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@bp.get("/programme/programme.ics")
@allow(PUBLIC)
def programme_ical():
    """The whole published programme as iCalendar, in the visitor's language."""
    event = _event()
    programme = _programme_or_404(event)
    body = ical.programme_calendar(programme, str(get_locale()))
    return _calendar_response(body, f"{event.slug}-programme.ics")


@bp.get("/programme/sessions/<int:session_id>.ics")
@allow(PUBLIC)
def session_ical(session_id: int):
    """One published session as iCalendar, for "add to calendar"."""
    event = _event()
    programme = _programme_or_404(event)
    session = programme.session(session_id)
    if session is None:
        abort(404)
    body = ical.session_calendar(programme, session, str(get_locale()))
    return _calendar_response(body, f"{event.slug}-session-{session.id}.ics")


def photo_url(programme: PublishedProgramme, speaker_id: int) -> str:
    """A speaker photo's address, new with each published version (so caches refresh)."""
    return url_for("programme.speaker_photo", speaker_id=speaker_id, v=programme.version)


bp.add_app_template_global(photo_url, "speaker_photo_url")
