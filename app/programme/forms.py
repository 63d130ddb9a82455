"""Organiser forms of the programme: rooms, tracks, speakers, sessions, moving and publishing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import ColorInput

from app.forms import MAX_DATABASE_INT, KongresForm, MultiCheckboxField, optional_int
from app.i18n.fields import InAnyLanguage, TranslatedTextField
from app.i18n.formatting import country_choices, format_day
from app.i18n.locale import LANGUAGE_NAMES
from app.partners.models import Partner
from app.programme.models import (
    SPOKEN_LANGUAGES,
    PersonRole,
    ProgrammeSession,
    Room,
    SessionKind,
    Speaker,
    Track,
)
from app.programme.services import RoomDetails, SessionDetails, SpeakerDetails, TrackDetails

TOO_LONG = _l("Use at most %(max)d characters.")
# Browsers send "HH:MM" from a time input, "HH:MM:SS" when seconds are shown.
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]
DEFAULT_TRACK_COLOUR = "#1f6feb"
MAX_POSITION = 10_000
PHOTO_TYPES = "image/jpeg,image/png,image/webp,.jpg,.jpeg,.png,.webp"


def optional_date(value: object) -> date | None:
    """Coerce a submitted ISO day (YYYY-MM-DD) to a date, or None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _position_field(description: Any) -> IntegerField:
    """The order of an item among its kind (left to right, top to bottom)."""
    return IntegerField(
        _l("Order"),
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_POSITION, message=_l("Use a number from 0 to 10000.")),
        ],
        default=0,
        description=description,
    )


def _lower(value: object) -> object:
    """Lower-case submitted text (colours compare as #rrggbb)."""
    return value.lower() if isinstance(value, str) else value


class RoomForm(KongresForm):
    """A room of the venue."""

    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter the room's name.")),
            Length(max=120, message=TOO_LONG),
        ],
        description=_l("As the venue signs it, e.g. Nusa Dua Hall."),
    )
    capacity = IntegerField(
        _l("Capacity"),
        validators=[
            InputRequired(message=_l("Enter how many people the room seats.")),
            NumberRange(min=1, max=MAX_DATABASE_INT, message=_l("Enter a number above 0.")),
        ],
    )
    floor = StringField(_l("Floor"), validators=[Optional(), Length(max=60, message=TOO_LONG)])
    accessible = BooleanField(_l("Step-free access"), default=True)
    interpretation_booth = BooleanField(_l("Has an interpretation booth"))
    position = _position_field(_l("Rooms are shown left to right in this order."))

    def details(self) -> RoomDetails:
        """The validated input as the programme service takes it."""
        return RoomDetails(
            name=self.name.data,
            capacity=self.capacity.data,
            floor=self.floor.data,
            accessible=self.accessible.data,
            interpretation_booth=self.interpretation_booth.data,
            position=self.position.data or 0,
        )


class TrackForm(KongresForm):
    """A theme of the programme and its colour."""

    name = TranslatedTextField(_l("Name"), [InAnyLanguage()], max_length=120)
    colour = StringField(
        _l("Colour"),
        widget=ColorInput(),
        default=DEFAULT_TRACK_COLOUR,
        filters=[_lower],
        validators=[
            DataRequired(message=_l("Choose a colour.")),
            Regexp(r"^#[0-9a-f]{6}$", message=_l("Give the colour as #rrggbb, e.g. #1f6feb.")),
        ],
    )
    position = _position_field(_l("Tracks are listed in this order."))

    def details(self) -> TrackDetails:
        """The validated input as the programme service takes it."""
        return TrackDetails(
            name=self.name.data, colour=self.colour.data, position=self.position.data or 0
        )


def _country_choices_with_prompt() -> list[SelectChoice]:
    """Every country by its name in the page's language, after a prompt."""
    return [
        SelectChoice("", _l("Choose a country")),
        *(SelectChoice(code, name) for code, name in country_choices()),
    ]


class SpeakerForm(KongresForm):
    """A speaker or chair: who they are, their organisation, biography and photo."""

    honorific = StringField(
        _l("Honorific"),
        validators=[Optional(), Length(max=50, message=TOO_LONG)],
        description=_l("For example Dr, Prof or H.E."),
    )
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=_l("Enter the speaker's name.")),
            Length(max=200, message=TOO_LONG),
        ],
    )
    position_title = StringField(
        _l("Position"),
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
        description=_l("For example Director General of Corrections."),
    )
    partner_id = SelectField(
        _l("Partner organisation"),
        coerce=optional_int,
        choices=[],
        validators=[Optional()],
        description=_l("Choose the organisation if it is one of the registered partners."),
    )
    organisation_name = StringField(
        _l("Other organisation"),
        validators=[Optional(), Length(max=300, message=TOO_LONG)],
        description=_l("Type the name when the organisation is not a registered partner."),
    )
    country = SelectField(
        _l("Country"),
        choices=_country_choices_with_prompt,
        validators=[DataRequired(message=_l("Choose a country from the list."))],
    )
    email = EmailField(
        _l("Email"),
        validators=[Optional(), Length(max=254, message=TOO_LONG)],
        description=_l("For the organisers only; never shown on the programme."),
    )
    biography = TranslatedTextField(_l("Biography"), multiline=True, max_length=3000)
    photo = FileField(
        _l("Photo"),
        render_kw={"accept": PHOTO_TYPES},
        description=_l("JPEG, PNG or WebP, at most 5 MB. It is shown on the public programme."),
    )
    remove_photo = BooleanField(_l("Remove the photo"))

    def use_partners(self, partners: Iterable[Partner]) -> None:
        """Offer the registered partner organisations."""
        self.partner_id.choices = [
            SelectChoice("", _l("Not a registered partner")),
            *(
                SelectChoice(
                    partner.id,
                    f"{partner.name} ({partner.acronym})" if partner.acronym else partner.name,
                )
                for partner in partners
            ),
        ]

    @staticmethod
    def data_from(speaker: Speaker) -> dict[str, Any]:
        """A stored speaker as form data."""
        return {
            "honorific": speaker.honorific,
            "name": speaker.name,
            "position_title": speaker.position_title,
            "partner_id": speaker.partner_id,
            "organisation_name": speaker.organisation_name,
            "country": speaker.country,
            "email": speaker.email,
            "biography": speaker.biography,
        }

    def details(self) -> SpeakerDetails:
        """The validated input as the programme service takes it."""
        return SpeakerDetails(
            name=self.name.data,
            honorific=self.honorific.data,
            position_title=self.position_title.data,
            partner_id=self.partner_id.data,
            organisation_name=self.organisation_name.data,
            country=self.country.data,
            biography=self.biography.data,
            email=self.email.data,
        )

    def uploaded_photo(self) -> Any:
        """The uploaded file, or None when no file was chosen."""
        upload = self.photo.data
        return upload if upload is not None and getattr(upload, "filename", "") else None


def _kind_choices() -> list[SelectChoice]:
    """Every session kind with its name in the page's language."""
    return [SelectChoice(kind.value, kind.label) for kind in SessionKind]


def _language_choices() -> list[SelectChoice]:
    """The languages a session may be held in."""
    return [SelectChoice(code, LANGUAGE_NAMES[code]) for code in SPOKEN_LANGUAGES]


def day_choices(days: Iterable[date], empty_label: Any) -> list[SelectChoice]:
    """The congress days as choices, after an empty choice (not placed)."""
    return [
        SelectChoice("", empty_label),
        *(SelectChoice(day.isoformat(), format_day(day, "full")) for day in days),
    ]


def room_choices(rooms: Iterable[Room]) -> list[SelectChoice]:
    """The rooms as choices, after "no room"."""
    return [SelectChoice("", _l("No room")), *(SelectChoice(room.id, room.name) for room in rooms)]


def speaker_label(speaker: Speaker) -> str:
    """A speaker as listed in the session form: honorific, name, organisation."""
    name = " ".join(part for part in (speaker.honorific, speaker.name) if part)
    return f"{name} · {speaker.organisation}" if speaker.organisation else name


def _days_with(days: list[date], day: date | None) -> list[date]:
    """The congress days, plus a session's own day when it lies outside them."""
    return sorted({*days, day}) if day is not None and day not in days else days


class SessionForm(KongresForm):
    """A session: what, when, where, who and how delegates join it."""

    kind = SelectField(_l("Kind"), choices=_kind_choices, default=SessionKind.THEMATIC.value)
    title = TranslatedTextField(_l("Title"), [InAnyLanguage()], max_length=300)
    abstract = TranslatedTextField(_l("Abstract"), multiline=True, max_length=5000)
    day = SelectField(_l("Day"), coerce=optional_date, choices=[], validators=[Optional()])
    start = TimeField(_l("Starts at"), format=TIME_FORMATS, validators=[Optional()])
    end = TimeField(_l("Ends at"), format=TIME_FORMATS, validators=[Optional()])
    room_id = SelectField(_l("Room"), coerce=optional_int, choices=[], validators=[Optional()])
    location_note = StringField(
        _l("Location"),
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
        description=_l("Where a session away from the rooms takes place, e.g. Bapas Denpasar."),
    )
    track_id = SelectField(_l("Track"), coerce=optional_int, choices=[], validators=[Optional()])
    spoken_language = SelectField(_l("Spoken language"), choices=_language_choices, default="en")
    interpretation = BooleanField(_l("Interpretation between Indonesian and English"))
    capacity = IntegerField(
        _l("Capacity"),
        validators=[
            Optional(),
            NumberRange(min=1, max=MAX_DATABASE_INT, message=_l("Enter a number above 0.")),
        ],
        description=_l("Blank: the room's capacity."),
    )
    requires_signup = BooleanField(_l("Delegates must sign up"))
    chair_ids = MultiCheckboxField(_l("Chairs"), coerce=int, choices=[])
    speaker_ids = MultiCheckboxField(_l("Speakers"), coerce=int, choices=[])

    def use_choices(
        self,
        *,
        days: list[date],
        rooms: Iterable[Room],
        tracks: Iterable[Track],
        speakers: Iterable[Speaker],
        current_day: date | None = None,
    ) -> None:
        """Offer the congress days, rooms, tracks and speakers of the event."""
        self.day.choices = day_choices(_days_with(days, current_day), _l("Not scheduled yet"))
        self.room_id.choices = room_choices(rooms)
        self.track_id.choices = [
            SelectChoice("", _l("No track")),
            *(SelectChoice(track.id, str(track.name)) for track in tracks),
        ]
        people = [SelectChoice(speaker.id, speaker_label(speaker)) for speaker in speakers]
        self.chair_ids.choices = people
        self.speaker_ids.choices = list(people)

    @staticmethod
    def data_from(session: ProgrammeSession, bounds: tuple[date, time, time] | None) -> dict:
        """A stored session as form data (bounds: its local day, start and end)."""
        day, start, end = bounds if bounds is not None else (None, None, None)
        return {
            "kind": session.kind,
            "title": session.title,
            "abstract": session.abstract,
            "day": day,
            "start": start,
            "end": end,
            "room_id": session.room_id,
            "location_note": session.location_note,
            "track_id": session.track_id,
            "spoken_language": session.spoken_language,
            "interpretation": session.interpretation,
            "capacity": session.capacity,
            "requires_signup": session.requires_signup,
            "chair_ids": [p.speaker_id for p in session.people if p.role == PersonRole.CHAIR],
            "speaker_ids": [p.speaker_id for p in session.people if p.role == PersonRole.SPEAKER],
        }

    @staticmethod
    def data_for_new(
        days: list[date], day: str | None, start: str | None, room_id: str | None
    ) -> dict[str, Any]:
        """A new session's prefill from the timetable (an empty cell's day, time and room);
        anything unreadable is left blank."""
        data: dict[str, Any] = {}
        try:
            chosen_day = optional_date(day)
        except ValueError:
            chosen_day = None
        if chosen_day in days:
            data["day"] = chosen_day
        try:
            chosen_start = datetime.strptime(start or "", "%H:%M")
        except ValueError:
            chosen_start = None
        if chosen_start is not None:
            data["start"] = chosen_start.time()
            # An hour is the usual length of a session; the organiser adjusts it.
            ends = chosen_start.replace(hour=min(chosen_start.hour + 1, 23))
            data["end"] = ends.time()
        with contextlib.suppress(ValueError):
            data["room_id"] = optional_int(room_id)
        return data

    def details(self) -> SessionDetails:
        """The validated input as the programme service takes it."""
        return SessionDetails(
            kind=self.kind.data,
            title=self.title.data,
            abstract=self.abstract.data,
            day=self.day.data,
            start=self.start.data,
            end=self.end.data,
            room_id=self.room_id.data,
            location_note=self.location_note.data,
            track_id=self.track_id.data,
            spoken_language=self.spoken_language.data,
            interpretation=self.interpretation.data,
            capacity=self.capacity.data,
            requires_signup=self.requires_signup.data,
            chair_ids=tuple(self.chair_ids.data or ()),
            speaker_ids=tuple(self.speaker_ids.data or ()),
        )


class MoveForm(KongresForm):
    """A session's new day, start and room (the drag and drop's fallback without JavaScript).

    Field names are what the timetable's script posts; ids differ from the session form's,
    which shares the page.
    """

    day = SelectField(
        _l("Day"), id="move-day", coerce=optional_date, choices=[], validators=[Optional()]
    )
    start = TimeField(
        _l("Starts at"), id="move-start", format=TIME_FORMATS, validators=[Optional()]
    )
    room_id = SelectField(
        _l("Room"), id="move-room", coerce=optional_int, choices=[], validators=[Optional()]
    )

    def use_choices(
        self, *, days: list[date], rooms: Iterable[Room], current_day: date | None = None
    ) -> None:
        """Offer the congress days (and the session's own) and the rooms."""
        self.day.choices = day_choices(
            _days_with(days, current_day), _l("Not scheduled (back to the unscheduled list)")
        )
        self.room_id.choices = room_choices(rooms)


class PublishForm(KongresForm):
    """Publishing the timetable as a new version, with an optional note."""

    note = TextAreaField(
        _l("Note about this version"),
        validators=[Optional(), Length(max=1000, message=TOO_LONG)],
        description=_l("For the organisers, e.g. what changed."),
    )


class DeleteForm(KongresForm):
    """The confirmation that deletes a room, track, speaker or session."""

    confirm = BooleanField(
        _l("Yes, delete it for good"),
        validators=[DataRequired(message=_l("Tick the box to confirm the deletion."))],
    )
