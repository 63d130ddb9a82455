"""A confirmed delegate's agenda: sign-ups, the waiting list, the private iCal link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import PUBLIC, allow
from app.auth.models import Role
from app.errors import DomainError
from app.events.models import Event
from app.events.services import current_event
from app.extensions import db
from app.programme import agenda, ical
from app.programme.models import SessionSignup, SignupStatus
from app.programme.published import PublishedProgramme, PublishedSession, published_programme
from app.programme.views import bp
from app.registration.models import RegistrationStatus
from app.web import absolute_url, safe_next_url


@dataclass(frozen=True)
class AgendaEntry:
    """A line of the agenda page: the sign-up, its session and how it reads."""

    signup: SessionSignup
    session: PublishedSession
    times: str
    position: int | None

    @property
    def waiting(self) -> bool:
        """Whether the delegate waits for a place."""
        return self.signup.status == SignupStatus.WAITLISTED.value


def _event_or_404() -> Event:
    """The congress this installation serves."""
    event = current_event()
    if event is None:
        abort(404)
    return event


def _agenda_days(
    entries: list[tuple[SessionSignup, PublishedSession]],
    programme: PublishedProgramme,
    positions: dict[int, int],
) -> list[tuple[date, list[AgendaEntry]]]:
    """The agenda's lines grouped by local day, in time order."""
    lines = [
        AgendaEntry(
            signup=signup,
            session=session,
            times=agenda.local_hours(session, programme.zone),
            position=positions.get(session.id),
        )
        for signup, session in entries
    ]
    return [
        (day, list(group))
        for day, group in groupby(
            lines, key=lambda line: line.session.starts_at.astimezone(programme.zone).date()
        )
    ]


def _back(default_endpoint: str = "programme.my_agenda") -> str:
    """Where a sign-up form sends the delegate back to: its `next` on this site."""
    return safe_next_url(request.form.get("next"), url_for(default_endpoint))


@bp.get("/programme/my-agenda")
@allow(Role.DELEGATE)
def my_agenda():
    """The delegate's sessions by day, their waiting-list places and the calendar link."""
    event = _event_or_404()
    registration = agenda.registration_of(event, current_user)
    programme = published_programme(event)
    days: list[tuple[date, list[AgendaEntry]]] = []
    feed_url = None
    confirmed = False
    if registration is not None:
        confirmed = registration.status == RegistrationStatus.CONFIRMED.value
        if programme is not None:
            days = _agenda_days(
                agenda.agenda_of(registration, programme),
                programme,
                agenda.waiting_positions(registration),
            )
        if confirmed:
            token = agenda.feed_token(registration)
            # The link is made on the first visit and must outlive this request.
            db.session.commit()
            feed_url = absolute_url("programme.agenda_ical", token=token)
    return render_template(
        "programme/agenda/my_agenda.html",
        registration=registration,
        registration_status=(
            RegistrationStatus(registration.status) if registration is not None else None
        ),
        confirmed=confirmed,
        programme=programme,
        days=days,
        feed_url=feed_url,
        webcal_url=_webcal(feed_url) if feed_url else None,
        zone_name=datetime.now(programme.zone).tzname() if programme is not None else None,
    )


def _webcal(url: str) -> str:
    """The same address with the webcal: scheme, which opens a calendar app to subscribe."""
    return "webcal://" + url.split("://", 1)[1]


def _signed_up_message(signup: SessionSignup, session: PublishedSession) -> str:
    """What the delegate reads after signing up."""
    if signup.status == SignupStatus.WAITLISTED.value:
        return _(
            "The session is full: you are number %(position)d on the waiting list.",
            position=agenda.waiting_position(signup) or 1,
        )
    if session.requires_signup:
        return _("You have a place in “%(title)s”.", title=session.title)
    return _("“%(title)s” is in your agenda.", title=session.title)


@bp.post("/programme/sessions/<int:session_id>/sign-up")
@allow(Role.DELEGATE)
def sign_up(session_id: int):
    """Sign the delegate up for a session (or put them on its waiting list)."""
    event = _event_or_404()
    back = _back()
    registration = agenda.registration_of(event, current_user)
    if registration is None:
        flash(_("Sessions are for registered delegates: please register first."), "error")
        return redirect(back)
    try:
        signup = agenda.sign_up(registration, session_id)
        session = published_programme(event).session(session_id)
        message = _signed_up_message(signup, session)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    flash(message, "success")
    return redirect(back)


@bp.post("/programme/sessions/<int:session_id>/withdraw")
@allow(Role.DELEGATE)
def withdraw(session_id: int):
    """Take a session out of the delegate's agenda (its place goes to the next waiting)."""
    event = _event_or_404()
    back = _back()
    registration = agenda.registration_of(event, current_user)
    if registration is None:
        abort(404)
    programme = published_programme(event)
    session = programme.session(session_id) if programme is not None else None
    agenda.withdraw(registration, session_id)
    db.session.commit()
    if session is not None:
        flash(_("You left “%(title)s”.", title=session.title), "success")
    else:
        flash(_("The session is no longer in your agenda."), "success")
    return redirect(back)


@bp.post("/programme/my-agenda/calendar-link")
@allow(Role.DELEGATE)
def reset_agenda_feed():
    """Replace the private calendar link; the old one stops working."""
    event = _event_or_404()
    registration = agenda.confirmed_registration(event, current_user)
    if registration is None:
        flash(_("Your calendar link is available once your registration is confirmed."), "error")
        return redirect(url_for("programme.my_agenda"))
    agenda.reset_feed_token(registration)
    db.session.commit()
    flash(
        _(
            "Your calendar has a new link. The old one no longer works: "
            "subscribe again with the new one."
        ),
        "success",
    )
    return redirect(url_for("programme.my_agenda"))


@bp.get("/programme/agenda/<token>.ics")
@allow(PUBLIC)
def agenda_ical(token: str):
    """A delegate's agenda as iCalendar, behind the private token (calendar apps fetch it
    without signing in)."""
    registration = agenda.registration_for_feed(token)
    if registration is None:
        abort(404)
    body = ical.agenda_calendar(published_programme(registration.event), registration)
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": 'inline; filename="agenda.ics"',
            # Private to its holder: no shared cache keeps it, no search engine lists it.
            "Cache-Control": "private, no-cache",
            "X-Robots-Tag": "noindex, nofollow",
            "Referrer-Policy": "no-referrer",
        },
    )
