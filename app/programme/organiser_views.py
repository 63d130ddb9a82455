"""Organiser pages: rooms, tracks, speakers, sessions, the timetable editor, publishing."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.auth.access import allow
from app.auth.models import Role
from app.errors import DomainError
from app.events.models import Event
from app.events.services import current_event
from app.extensions import db
from app.i18n.formatting import event_zone
from app.partners.services import search_partners
from app.programme import photos, publishing, services
from app.programme.conflicts import conflicts_by_session, find_conflicts
from app.programme.forms import (
    DeleteForm,
    MoveForm,
    PublishForm,
    RoomForm,
    SessionForm,
    SpeakerForm,
    TrackForm,
)
from app.programme.grid import build_day_grid, event_days
from app.programme.models import (
    ProgrammeSession,
    ProgrammeVersion,
    Room,
    SessionSignup,
    SignupStatus,
    Speaker,
    Track,
)
from app.programme.views import bp
from app.registration.models import Registration, RegistrationStatus
from app.web import run_service

ORGANISERS = (Role.ORGANISER, Role.ADMIN)
# The header the timetable's script sends: such a move is answered in JSON.
FETCH_HEADER = "X-Requested-With"

Owned = TypeVar("Owned", Room, Track, Speaker, ProgrammeSession)


def _event_or_404() -> Event:
    """The congress whose programme is edited."""
    event = current_event()
    if event is None:
        abort(404)
    return event


def _owned_or_404(model: type[Owned], item_id: int, event: Event) -> Owned:
    """The event's room, track, speaker or session with this id (404 for another event's)."""
    item = db.session.get(model, item_id)
    if item is None or item.event_id != event.id:
        abort(404)
    return item


def _days(event: Event) -> list[date]:
    """The congress days."""
    return event_days(event.starts_on, event.ends_on)


def _chosen_day(days: list[date]) -> date:
    """The day asked for in ?day=YYYY-MM-DD when it is a congress day, else the first."""
    try:
        asked = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return days[0]
    return asked if asked in days else days[0]


def _latest_version(event: Event) -> ProgrammeVersion | None:
    """The newest published version (without loading the older snapshots)."""
    return db.session.scalar(
        select(ProgrammeVersion)
        .where(ProgrammeVersion.event_id == event.id)
        .order_by(ProgrammeVersion.number.desc())
        .limit(1)
    )


# --- the timetable --------------------------------------------------------------------------


@bp.get("/organiser/programme/")
@allow(*ORGANISERS)
def timetable():
    """The timetable editor: one day's grid by room, every conflict, the unscheduled sessions,
    publishing."""
    event = _event_or_404()
    days = _days(event)
    day = _chosen_day(days)
    sessions = services.event_sessions(event)
    conflicts = find_conflicts(event, sessions)
    return render_template(
        "programme/organiser/timetable.html",
        event=event,
        days=days,
        day=day,
        grid=build_day_grid(day, services.rooms(event), sessions, event_zone()),
        conflicts=conflicts,
        conflicts_by_session=conflicts_by_session(conflicts),
        sessions_by_id={session.id: session for session in sessions},
        unscheduled=[session for session in sessions if not session.is_placed],
        latest_version=_latest_version(event),
        publish_form=PublishForm(),
    )


@bp.post("/organiser/programme/publish")
@allow(*ORGANISERS)
def publish():
    """Publish the timetable as a new version; refused (with the reason) while conflicts
    remain."""
    event = _event_or_404()
    form = PublishForm()
    back = url_for("programme.timetable", day=request.form.get("day") or None)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(back)
    try:
        version = publishing.publish_programme(
            event, actor=current_user, note=(form.note.data or "").strip() or None
        )
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    flash(_("Version %(number)d of the programme is published.", number=version.number), "success")
    return redirect(back)


@bp.get("/organiser/programme/versions")
@allow(*ORGANISERS)
def list_versions():
    """Every published version of the programme, newest first."""
    event = _event_or_404()
    return render_template(
        "programme/organiser/versions.html", event=event, versions=publishing.versions(event)
    )


# --- rooms ----------------------------------------------------------------------------------


@bp.get("/organiser/programme/rooms/")
@allow(*ORGANISERS)
def list_rooms():
    """The venue's rooms in timetable order."""
    event = _event_or_404()
    return render_template("programme/organiser/rooms.html", rooms=services.rooms(event))


def _room_page(form: RoomForm, room: Room | None, delete_form: DeleteForm | None = None):
    """The new/edit room page."""
    return render_template(
        "programme/organiser/room_form.html",
        form=form,
        room=room,
        delete_form=delete_form or DeleteForm(formdata=None),
    )


@bp.route("/organiser/programme/rooms/new", methods=["GET", "POST"])
@allow(*ORGANISERS)
def new_room():
    """Add a room."""
    event = _event_or_404()
    form = RoomForm()
    if form.validate_on_submit():
        done, room = run_service(
            form, services.create_room, event, form.details(), actor=current_user
        )
        if done:
            flash(_("Room “%(name)s” added.", name=room.name), "success")
            return redirect(url_for("programme.list_rooms"))
    return _room_page(form, None)


@bp.route("/organiser/programme/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@allow(*ORGANISERS)
def edit_room(room_id: int):
    """Change a room."""
    room = _owned_or_404(Room, room_id, _event_or_404())
    form = RoomForm(obj=room if request.method == "GET" else None)
    if form.validate_on_submit():
        done, _result = run_service(
            form, services.update_room, room, form.details(), actor=current_user
        )
        if done:
            flash(_("Room “%(name)s” saved.", name=room.name), "success")
            return redirect(url_for("programme.list_rooms"))
    return _room_page(form, room)


@bp.post("/organiser/programme/rooms/<int:room_id>/delete")
@allow(*ORGANISERS)
def delete_room(room_id: int):
    """Delete a room once the box is ticked; refused while a session uses it."""
    room = _owned_or_404(Room, room_id, _event_or_404())
    form = DeleteForm()
    name = room.name
    if form.validate():
        done, _result = run_service(form, services.delete_room, room, actor=current_user)
        if done:
            flash(_("Room “%(name)s” deleted.", name=name), "success")
            return redirect(url_for("programme.list_rooms"))
    return _room_page(RoomForm(obj=room, formdata=None), room, form), 422


# --- tracks ---------------------------------------------------------------------------------


@bp.get("/organiser/programme/tracks/")
@allow(*ORGANISERS)
def list_tracks():
    """The programme's tracks (themes) and their colours."""
    event = _event_or_404()
    return render_template("programme/organiser/tracks.html", tracks=services.tracks(event))


def _track_page(form: TrackForm, track: Track | None, delete_form: DeleteForm | None = None):
    """The new/edit track page."""
    return render_template(
        "programme/organiser/track_form.html",
        form=form,
        track=track,
        delete_form=delete_form or DeleteForm(formdata=None),
    )


@bp.route("/organiser/programme/tracks/new", methods=["GET", "POST"])
@allow(*ORGANISERS)
def new_track():
    """Add a track."""
    event = _event_or_404()
    form = TrackForm()
    if form.validate_on_submit():
        done, track = run_service(
            form, services.create_track, event, form.details(), actor=current_user
        )
        if done:
            flash(_("Track “%(name)s” added.", name=track.name), "success")
            return redirect(url_for("programme.list_tracks"))
    return _track_page(form, None)


@bp.route("/organiser/programme/tracks/<int:track_id>/edit", methods=["GET", "POST"])
@allow(*ORGANISERS)
def edit_track(track_id: int):
    """Change a track."""
    track = _owned_or_404(Track, track_id, _event_or_404())
    form = TrackForm(obj=track if request.method == "GET" else None)
    if form.validate_on_submit():
        done, _result = run_service(
            form, services.update_track, track, form.details(), actor=current_user
        )
        if done:
            flash(_("Track “%(name)s” saved.", name=track.name), "success")
            return redirect(url_for("programme.list_tracks"))
    return _track_page(form, track)


@bp.post("/organiser/programme/tracks/<int:track_id>/delete")
@allow(*ORGANISERS)
def delete_track(track_id: int):
    """Delete a track once the box is ticked; its sessions stay, without a track."""
    track = _owned_or_404(Track, track_id, _event_or_404())
    form = DeleteForm()
    name = str(track.name)
    if form.validate():
        done, _result = run_service(form, services.delete_track, track, actor=current_user)
        if done:
            flash(_("Track “%(name)s” deleted.", name=name), "success")
            return redirect(url_for("programme.list_tracks"))
    return _track_page(TrackForm(obj=track, formdata=None), track, form), 422


# --- speakers -------------------------------------------------------------------------------


@bp.get("/organiser/programme/speakers/")
@allow(*ORGANISERS)
def list_speakers_admin():
    """Every speaker and chair, with the sessions they are on."""
    event = _event_or_404()
    sessions_of: dict[int, list[ProgrammeSession]] = {}
    for session in services.event_sessions(event):
        for person in session.people:
            sessions_of.setdefault(person.speaker_id, []).append(session)
    return render_template(
        "programme/organiser/speakers.html",
        speakers=services.speakers(event),
        sessions_of=sessions_of,
    )


def _speaker_form(speaker: Speaker | None = None, **kwargs: Any) -> SpeakerForm:
    """A speaker form offering the registered partners (filled from the speaker on a GET)."""
    data = SpeakerForm.data_from(speaker) if speaker and request.method == "GET" else None
    form = SpeakerForm(data=data, **kwargs)
    form.use_partners(db.session.scalars(search_partners()))
    return form


def _speaker_page(
    form: SpeakerForm, speaker: Speaker | None, delete_form: DeleteForm | None = None
):
    """The new/edit speaker page."""
    return render_template(
        "programme/organiser/speaker_form.html",
        form=form,
        speaker=speaker,
        has_photo=speaker is not None and services.photo_path(speaker) is not None,
        delete_form=delete_form or DeleteForm(formdata=None),
    )


def _save_speaker(event: Event, speaker: Speaker | None, form: SpeakerForm) -> Speaker:
    """Create or update the speaker, then store, replace or remove the photo, in one
    transaction."""
    if speaker is None:
        speaker = services.create_speaker(event, form.details(), actor=current_user)
    else:
        services.update_speaker(speaker, form.details(), actor=current_user)
    upload = form.uploaded_photo()
    if upload is not None:
        # One byte past the limit is enough to know that a file is too large.
        data = upload.stream.read(photos.MAX_UPLOAD_BYTES + 1)
        services.set_speaker_photo(speaker, data, actor=current_user)
    elif form.remove_photo.data:
        services.remove_speaker_photo(speaker, actor=current_user)
    return speaker


@bp.route("/organiser/programme/speakers/new", methods=["GET", "POST"])
@allow(*ORGANISERS)
def new_speaker():
    """Add a speaker or chair."""
    event = _event_or_404()
    form = _speaker_form()
    if form.validate_on_submit():
        done, speaker = run_service(form, _save_speaker, event, None, form)
        if done:
            flash(_("Speaker %(name)s added.", name=speaker.name), "success")
            return redirect(url_for("programme.list_speakers_admin"))
    return _speaker_page(form, None)


@bp.route("/organiser/programme/speakers/<int:speaker_id>/edit", methods=["GET", "POST"])
@allow(*ORGANISERS)
def edit_speaker(speaker_id: int):
    """Change a speaker's details or photo."""
    event = _event_or_404()
    speaker = _owned_or_404(Speaker, speaker_id, event)
    form = _speaker_form(speaker)
    if form.validate_on_submit():
        done, _result = run_service(form, _save_speaker, event, speaker, form)
        if done:
            flash(_("Speaker %(name)s saved.", name=speaker.name), "success")
            return redirect(url_for("programme.list_speakers_admin"))
    return _speaker_page(form, speaker)


@bp.get("/organiser/programme/speakers/<int:speaker_id>/photo")
@allow(*ORGANISERS)
def speaker_photo_preview(speaker_id: int):
    """A speaker's stored photo, published or not, for the organisers' form."""
    speaker = _owned_or_404(Speaker, speaker_id, _event_or_404())
    path = services.photo_path(speaker)
    if path is None:
        abort(404)
    response = send_file(path, mimetype="image/jpeg", max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/organiser/programme/speakers/<int:speaker_id>/delete")
@allow(*ORGANISERS)
def delete_speaker(speaker_id: int):
    """Delete a speaker once the box is ticked; refused while they are on a session."""
    speaker = _owned_or_404(Speaker, speaker_id, _event_or_404())
    form = DeleteForm()
    name = speaker.name
    if form.validate():
        done, _result = run_service(form, services.delete_speaker, speaker, actor=current_user)
        if done:
            flash(_("Speaker %(name)s deleted.", name=name), "success")
            return redirect(url_for("programme.list_speakers_admin"))
    speaker_form = SpeakerForm(data=SpeakerForm.data_from(speaker), formdata=None)
    speaker_form.use_partners(db.session.scalars(search_partners()))
    return _speaker_page(speaker_form, speaker, form), 422


# --- sessions -------------------------------------------------------------------------------


def _session_form(
    event: Event, session: ProgrammeSession | None, data: dict | None, *, submitted: bool = True
) -> SessionForm:
    """A session form offering the event's days, rooms, tracks and speakers; submitted=False
    ignores the request's form (which belongs to another form of the page)."""
    form = SessionForm(data=data) if submitted else SessionForm(formdata=None, data=data)
    bounds = services.local_bounds(session) if session is not None else None
    form.use_choices(
        days=_days(event),
        rooms=services.rooms(event),
        tracks=services.tracks(event),
        speakers=services.speakers(event),
        current_day=bounds[0] if bounds else None,
    )
    return form


def _move_form(event: Event, session: ProgrammeSession, *, formdata: bool = True) -> MoveForm:
    """The form that moves a session, filled with where it is now unless submitted."""
    bounds = services.local_bounds(session)
    data = None
    if not formdata or request.method == "GET":
        data = {
            "day": bounds[0] if bounds else None,
            "start": bounds[1] if bounds else None,
            "room_id": session.room_id,
        }
    form = MoveForm(data=data, **({} if formdata else {"formdata": None}))
    form.use_choices(
        days=_days(event), rooms=services.rooms(event), current_day=bounds[0] if bounds else None
    )
    return form


def _session_page(
    event: Event,
    form: SessionForm,
    session: ProgrammeSession | None,
    *,
    move_form: MoveForm | None = None,
    delete_form: DeleteForm | None = None,
):
    """The new/edit session page (with, for an existing session, its move and delete forms
    and its conflicts)."""
    conflicts = []
    if session is not None:
        conflicts = conflicts_by_session(find_conflicts(event)).get(session.id, [])
    return render_template(
        "programme/organiser/session_form.html",
        form=form,
        session=session,
        conflicts=conflicts,
        move_form=move_form or (_move_form(event, session, formdata=False) if session else None),
        delete_form=delete_form or DeleteForm(formdata=None),
    )


def _timetable_url(session: ProgrammeSession) -> str:
    """The timetable at the session's day (or the first day when it is not placed)."""
    bounds = services.local_bounds(session)
    day = bounds[0] if bounds and bounds[0] in _days(session.event) else None
    return url_for("programme.timetable", day=day.isoformat() if day else None)


@bp.route("/organiser/programme/sessions/new", methods=["GET", "POST"])
@allow(*ORGANISERS)
def new_session():
    """Add a session (the timetable's empty cells prefill its day, start and room)."""
    event = _event_or_404()
    data = None
    if request.method == "GET":
        data = SessionForm.data_for_new(
            _days(event),
            request.args.get("day"),
            request.args.get("start"),
            request.args.get("room_id"),
        )
    form = _session_form(event, None, data)
    if form.validate_on_submit():
        done, session = run_service(
            form, services.create_session, event, form.details(), actor=current_user
        )
        if done:
            flash(_("Session “%(title)s” added.", title=session.title), "success")
            return redirect(_timetable_url(session))
    return _session_page(event, form, None)


@bp.route("/organiser/programme/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@allow(*ORGANISERS)
def edit_session(session_id: int):
    """Change a session; the page also moves it (without JavaScript) and deletes it."""
    event = _event_or_404()
    session = _owned_or_404(ProgrammeSession, session_id, event)
    data = None
    if request.method == "GET":
        data = SessionForm.data_from(session, services.local_bounds(session))
    form = _session_form(event, session, data)
    if form.validate_on_submit():
        done, _result = run_service(
            form, services.update_session, session, form.details(), actor=current_user
        )
        if done:
            flash(_("Session “%(title)s” saved.", title=session.title), "success")
            return redirect(_timetable_url(session))
    return _session_page(event, form, session)


def _edit_form_of(event: Event, session: ProgrammeSession) -> SessionForm:
    """The session form filled from the stored session (beside a move or delete that failed)."""
    data = SessionForm.data_from(session, services.local_bounds(session))
    return _session_form(event, session, data, submitted=False)


@bp.post("/organiser/programme/sessions/<int:session_id>/delete")
@allow(*ORGANISERS)
def delete_session(session_id: int):
    """Delete a session once the box is ticked; refused while delegates are signed up."""
    event = _event_or_404()
    session = _owned_or_404(ProgrammeSession, session_id, event)
    form = DeleteForm()
    title = str(session.title)
    back = _timetable_url(session)
    if form.validate():
        done, _result = run_service(form, services.delete_session, session, actor=current_user)
        if done:
            flash(_("Session “%(title)s” deleted.", title=title), "success")
            return redirect(back)
    return _session_page(event, _edit_form_of(event, session), session, delete_form=form), 422


def _wants_json() -> bool:
    """Whether the timetable's script sent this request (and reads the answer as JSON)."""
    return request.headers.get(FETCH_HEADER) == "fetch"


def _first_error(form: MoveForm) -> str:
    """The first message a refused move carries."""
    for message in form.form_errors:
        return str(message)
    for errors in form.errors.values():
        for message in errors:
            return str(message)
    return _("The session could not be moved.")


@bp.post("/organiser/programme/sessions/<int:session_id>/move")
@allow(*ORGANISERS)
def move_session(session_id: int):
    """Move a session to a day, start and room, keeping its length: from the timetable's drag
    and drop (answered in JSON) or the session page's form."""
    event = _event_or_404()
    session = _owned_or_404(ProgrammeSession, session_id, event)
    form = _move_form(event, session)
    done = form.validate()
    if done:
        done, _result = run_service(
            form,
            services.move_session,
            session,
            day=form.day.data,
            start=form.start.data,
            room_id=form.room_id.data,
            actor=current_user,
        )
    if _wants_json():
        if done:
            return jsonify(ok=True, timetable_url=_timetable_url(session))
        return jsonify(error=_first_error(form)), 422
    if done:
        flash(_("Session “%(title)s” moved.", title=session.title), "success")
        return redirect(_timetable_url(session))
    return _session_page(event, _edit_form_of(event, session), session, move_form=form), 422


@bp.get("/organiser/programme/sessions/<int:session_id>/signups")
@allow(*ORGANISERS)
def session_signups(session_id: int):
    """Who holds a place in a session, and who waits for one, in order."""
    event = _event_or_404()
    session = _owned_or_404(ProgrammeSession, session_id, event)
    signups = db.session.scalars(
        select(SessionSignup)
        .where(SessionSignup.session_id == session.id)
        .options(joinedload(SessionSignup.registration).joinedload(Registration.partner))
        .order_by(SessionSignup.created_at, SessionSignup.id)
    ).all()
    return render_template(
        "programme/organiser/signups.html",
        session=session,
        confirmed=[item for item in signups if item.status == SignupStatus.CONFIRMED],
        waiting=[item for item in signups if item.status == SignupStatus.WAITLISTED],
        registration_status_label=lambda status: RegistrationStatus(status).label,
    )
