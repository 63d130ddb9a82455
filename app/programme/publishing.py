"""Publishing the programme: a numbered snapshot of the timetable, refused while conflicts
remain, with an email to every delegate whose sessions moved, changed or went."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload

from app import validation
from app.auth.models import User
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import event_zone, to_event_time
from app.i18n.text import TranslatedText
from app.mail.services import send_email
from app.programme import agenda, published
from app.programme.conflicts import find_conflicts
from app.programme.models import ProgrammeSession, ProgrammeVersion, SessionSignup, SignupStatus
from app.programme.services import ProgrammeError, event_sessions, rooms, time_span, tracks
from app.registration.models import Registration, RegistrationStatus
from app.web import absolute_url

NOTE_MAX = 1000
# What a delegate is told about: where and when a session is, what it is called, who speaks.
NOTIFIED_FIELDS = ("starts_at", "ends_at", "room_id", "title", "people")
# Snapshot keys describing the publication rather than the programme.
_PUBLICATION_KEYS = ("version", "published_at")


def _utc_text(moment: datetime) -> str:
    """A stored moment as ISO 8601 UTC with a Z ("2026-04-14T02:00:00Z")."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _text(value: TranslatedText | None) -> dict[str, str] | None:
    """A bilingual text as published (None when empty)."""
    return value.as_dict() if value else None


def _session_entry(session: ProgrammeSession) -> dict[str, Any]:
    """A placed session as the snapshot holds it."""
    return {
        "id": session.id,
        "kind": session.kind,
        "title": _text(session.title) or {},
        "abstract": _text(session.abstract),
        "starts_at": _utc_text(session.starts_at),
        "ends_at": _utc_text(session.ends_at),
        "room_id": session.room_id,
        "location_note": session.location_note,
        "track_id": session.track_id,
        "spoken_language": session.spoken_language,
        "interpretation": session.interpretation,
        "capacity": session.effective_capacity,
        "requires_signup": session.requires_signup,
        "people": [
            {"speaker_id": person.speaker_id, "role": person.role} for person in session.people
        ],
    }


def _placed_in_order(sessions: list[ProgrammeSession]) -> list[ProgrammeSession]:
    """Placed sessions by start, then by their room's column (roomless ones last)."""
    placed = [session for session in sessions if session.is_placed]
    return sorted(
        placed,
        key=lambda session: (
            to_event_time(session.starts_at),
            session.room is None,
            session.room.position if session.room else 0,
            session.room.name if session.room else "",
            session.id,
        ),
    )


def build_snapshot(event: Event, sessions: list[ProgrammeSession] | None = None) -> dict:
    """The programme as it would be published now (without version number and moment)."""
    if sessions is None:
        sessions = event_sessions(event)
    placed = _placed_in_order(sessions)
    speakers = {}
    for session in placed:
        for person in session.people:
            speakers[person.speaker_id] = person.speaker
    return {
        "timezone": event_zone().key,
        "starts_on": event.starts_on.isoformat(),
        "ends_on": event.ends_on.isoformat(),
        "rooms": [
            {
                "id": room.id,
                "name": room.name,
                "capacity": room.capacity,
                "floor": room.floor,
                "accessible": room.accessible,
                "interpretation_booth": room.interpretation_booth,
                "position": room.position,
            }
            for room in rooms(event)
        ],
        "tracks": [
            {"id": track.id, "name": _text(track.name) or {}, "colour": track.colour}
            for track in tracks(event)
        ],
        "speakers": [
            {
                "id": speaker.id,
                "name": speaker.name,
                "honorific": speaker.honorific,
                "position_title": speaker.position_title,
                "organisation": speaker.organisation,
                "partner_id": speaker.partner_id,
                "country": speaker.country,
                "biography": _text(speaker.biography),
                "has_photo": bool(speaker.photo_filename),
            }
            for speaker in sorted(
                speakers.values(), key=lambda speaker: (speaker.name.casefold(), speaker.id)
            )
        ],
        "sessions": [_session_entry(session) for session in placed],
    }


def versions(event: Event) -> list[ProgrammeVersion]:
    """The event's published versions, newest first."""
    query = (
        select(ProgrammeVersion)
        .where(ProgrammeVersion.event_id == event.id)
        .options(joinedload(ProgrammeVersion.published_by))
        .order_by(ProgrammeVersion.number.desc())
    )
    return list(db.session.scalars(query))


def _content(snapshot: dict[str, Any] | None) -> dict[str, Any]:
    """The programme part of a snapshot (what tells whether anything changed)."""
    return {key: value for key, value in (snapshot or {}).items() if key not in _PUBLICATION_KEYS}


def _changes(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, list[int]]:
    """Ids of the sessions added, changed or removed between two snapshots."""
    old = {entry["id"]: entry for entry in (before or {}).get("sessions", [])}
    new = {entry["id"]: entry for entry in after["sessions"]}
    return {
        "added": sorted(new.keys() - old.keys()),
        "changed": sorted(
            session_id
            for session_id in new.keys() & old.keys()
            if new[session_id] != old[session_id]
        ),
        "removed": sorted(old.keys() - new.keys()),
    }


def _lock_event(event: Event) -> None:
    """Hold the event's row until commit, so that publishers take numbers one after another."""
    db.session.execute(select(Event.id).where(Event.id == event.id).with_for_update())


def _refuse_conflicts(event: Event, sessions: list[ProgrammeSession]) -> None:
    """Refuse publishing while the timetable has conflicts, saying how many."""
    count = len(find_conflicts(event, sessions))
    if count:
        raise ProgrammeError(
            ngettext(
                "Publishing is refused: %(num)d conflict remains. It is listed on the timetable.",
                "Publishing is refused: %(num)d conflicts remain. They are listed on the "
                "timetable.",
                count,
            ),
            "conflicts",
        )


def publish_programme(
    event: Event, *, actor: User | None, note: str | None = None
) -> ProgrammeVersion:
    """Publish the timetable as the next numbered version and tell signed-up delegates about
    their sessions that moved, changed or were removed."""
    note = validation.clean_text(note, field="note", max_length=NOTE_MAX, error=ProgrammeError)
    _lock_event(event)
    sessions = event_sessions(event)
    if not any(session.is_placed for session in sessions):
        raise ProgrammeError(
            _l("There is nothing to publish yet: place at least one session on the timetable."),
            "nothing_to_publish",
        )
    _refuse_conflicts(event, sessions)
    previous = db.session.scalar(
        select(ProgrammeVersion)
        .where(ProgrammeVersion.event_id == event.id)
        .order_by(ProgrammeVersion.number.desc())
        .limit(1)
    )
    content = build_snapshot(event, sessions)
    if previous is not None and _content(previous.snapshot) == content:
        raise ProgrammeError(
            _l(
                "Nothing changed since version %(number)d was published.",
                number=previous.number,
            ),
            "unchanged",
        )
    number = (
        db.session.scalar(
            select(func.max(ProgrammeVersion.number)).where(ProgrammeVersion.event_id == event.id)
        )
        or 0
    ) + 1
    # Set here, not by the database: microseconds tell versions apart (see published.py).
    now = datetime.now(UTC)
    snapshot = {"version": number, "published_at": _utc_text(now), **content}
    changes = _changes(previous.snapshot if previous else None, snapshot)
    version = ProgrammeVersion(
        event_id=event.id,
        number=number,
        published_at=now,
        published_by=actor,
        note=note,
        snapshot=snapshot,
        changes=changes,
    )
    db.session.add(version)
    db.session.flush()
    if previous is not None:
        _tell_delegates(event, previous.snapshot, snapshot, changes)
    published.invalidate_cache(event)
    if previous is not None:
        for session_id in _places_added(previous.snapshot, snapshot):
            agenda.fill_free_places(session_id, now=now)
    return version


def _places_added(before: dict[str, Any], after: dict[str, Any]) -> list[int]:
    """Sessions whose published capacity grew (or stopped being limited): those waiting
    for them may now get a place."""
    old_capacity = {entry["id"]: entry["capacity"] for entry in before["sessions"]}
    grown = []
    for entry in after["sessions"]:
        if entry["id"] not in old_capacity or not entry["requires_signup"]:
            continue
        old, new = old_capacity[entry["id"]], entry["capacity"]
        if old is not None and (new is None or new > old):
            grown.append(entry["id"])
    return grown


# --- telling delegates ----------------------------------------------------------------------


def _notable(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether a session changed in a way its delegates must hear about."""
    return any(before.get(name) != after.get(name) for name in NOTIFIED_FIELDS)


def _room_names(snapshot: dict[str, Any]) -> dict[int, str]:
    """Room names by id in a snapshot."""
    return {room["id"]: room["name"] for room in snapshot.get("rooms", [])}


def _where_and_when(entry: dict[str, Any], room_names: dict[int, str]) -> dict[str, Any]:
    """A session's moments and place from a snapshot entry, for the email."""
    return {
        "starts_at": datetime.fromisoformat(entry["starts_at"]),
        "ends_at": datetime.fromisoformat(entry["ends_at"]),
        "room": room_names.get(entry.get("room_id")) or entry.get("location_note"),
    }


def _change_item(
    before: dict[str, Any],
    after: dict[str, Any] | None,
    old_rooms: dict[int, str],
    new_rooms: dict[int, str],
) -> dict[str, Any]:
    """What the email says about one session: its title, where and when before and now."""
    return {
        "title": TranslatedText((after or before)["title"]),
        "old_title": (
            TranslatedText(before["title"])
            if after is not None and after["title"] != before["title"]
            else None
        ),
        "before": _where_and_when(before, old_rooms),
        "after": _where_and_when(after, new_rooms) if after is not None else None,
        "people_changed": after is not None and after["people"] != before["people"],
        "removed": after is None,
    }


def _tell_delegates(
    event: Event,
    before: dict[str, Any],
    after: dict[str, Any],
    changes: dict[str, list[int]],
) -> None:
    """Email each delegate signed up to sessions that moved, changed or were removed (one
    message listing them all, in the delegate's language); drop sign-ups of removed sessions."""
    old = {entry["id"]: entry for entry in before.get("sessions", [])}
    new = {entry["id"]: entry for entry in after["sessions"]}
    affected = [
        session_id
        for session_id in changes["changed"]
        if _notable(old[session_id], new[session_id])
    ] + changes["removed"]
    if not affected:
        return
    old_rooms, new_rooms = _room_names(before), _room_names(after)
    rows = db.session.execute(
        select(SessionSignup.session_id, Registration)
        .join(Registration, Registration.id == SessionSignup.registration_id)
        .where(
            SessionSignup.session_id.in_(affected),
            SessionSignup.status.in_([status.value for status in SignupStatus]),
            Registration.status == RegistrationStatus.CONFIRMED.value,
        )
        .order_by(Registration.id)
    ).all()
    sessions_of: dict[int, list[int]] = defaultdict(list)
    registrations: dict[int, Registration] = {}
    for session_id, registration in rows:
        sessions_of[registration.id].append(session_id)
        registrations[registration.id] = registration
    agenda_link = absolute_url("programme.my_agenda")
    for registration_id, session_ids in sessions_of.items():
        registration = registrations[registration_id]
        items = sorted(
            (
                _change_item(old[session_id], new.get(session_id), old_rooms, new_rooms)
                for session_id in session_ids
            ),
            key=lambda item: item["before"]["starts_at"],
        )
        send_email(
            registration.email,
            registration.language,
            "programme/mail/session_changed.txt",
            event=event,
            registration=registration,
            items=items,
            time_span=time_span,
            agenda_link=agenda_link,
        )
    if changes["removed"]:
        # A session no longer in the programme holds no places; its delegates were told above.
        db.session.execute(
            delete(SessionSignup).where(SessionSignup.session_id.in_(changes["removed"]))
        )
