"""A confirmed delegate's agenda: sessions they signed up for within capacity, the waiting
list and its promotions, and the private (revocable) link to the agenda as a calendar.

Sign-ups read the published programme (published.py): a delegate chooses among the sessions
the organisers published, at the times and capacities they published, never a draft.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, contains_eager

from app.auth.models import User
from app.events.models import Event
from app.events.services import current_event
from app.extensions import db
from app.mail.services import send_email
from app.programme.models import (
    AgendaFeed,
    ProgrammeSession,
    SessionKind,
    SessionSignup,
    SignupStatus,
)
from app.programme.published import PublishedProgramme, PublishedSession, published_programme
from app.programme.services import ProgrammeError, time_span
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import email_link, utc_now

# secrets.token_urlsafe(32): 43 characters of the URL-safe base64 alphabet.
FEED_TOKEN_BYTES = 32
_FEED_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


class AgendaError(ProgrammeError):
    """A sign-up or withdrawal was refused."""


# --- whose agenda ---------------------------------------------------------------------------


def registration_of(event: Event, user: User) -> Registration | None:
    """The user's registration for the event, in whatever state."""
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.user_id == user.id
        )
    )


def confirmed_registration(event: Event, user: User) -> Registration | None:
    """The user's registration for the event when it is CONFIRMED (only those sign up)."""
    registration = registration_of(event, user)
    if registration is None or registration.status != RegistrationStatus.CONFIRMED.value:
        return None
    return registration


def local_hours(session: PublishedSession, zone: ZoneInfo) -> str:
    """“09:00–10:30”: the session's start and end in the event's zone."""
    locale = get_locale()
    start = format_time(session.starts_at.astimezone(zone), "HH:mm", locale=locale)
    end = format_time(session.ends_at.astimezone(zone), "HH:mm", locale=locale)
    return f"{start}–{end}"


def session_when(session: PublishedSession) -> str:
    """“Tuesday, 14 April 2026, 09:00–10:30 WITA” in the current language."""
    return time_span(session.starts_at, session.ends_at, "full")


# --- locks and look-ups ---------------------------------------------------------------------


def _lock_registration(registration: Registration) -> Registration:
    """The registration's row, locked until the transaction ends and read again: a double
    click waits for the first request and then finds its sign-up.

    Always the registration first, then the session (as every agenda change does), so that
    two delegates' changes never wait for each other in a circle.
    """
    return db.session.execute(
        select(Registration)
        .where(Registration.id == registration.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _lock_session(session_id: int) -> ProgrammeSession | None:
    """The session's row, locked until the transaction ends: on PostgreSQL every decision
    about its places is taken one at a time (SQLite serialises writers anyway)."""
    return db.session.execute(
        select(ProgrammeSession)
        .where(ProgrammeSession.id == session_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _signup_of(registration_id: int, session_id: int) -> SessionSignup | None:
    """The registration's sign-up for a session, read afresh from the database."""
    return db.session.execute(
        select(SessionSignup)
        .where(
            SessionSignup.registration_id == registration_id,
            SessionSignup.session_id == session_id,
        )
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _counted() -> ColumnElement[bool]:
    """SQL condition: the sign-up's registration is confirmed (others hold no place)."""
    return and_(
        Registration.id == SessionSignup.registration_id,
        Registration.status == RegistrationStatus.CONFIRMED.value,
    )


def _places_taken(session_id: int) -> int:
    """Confirmed sign-ups of confirmed registrations for a session."""
    return db.session.scalar(
        select(func.count())
        .select_from(SessionSignup)
        .join(Registration, _counted())
        .where(
            SessionSignup.session_id == session_id,
            SessionSignup.status == SignupStatus.CONFIRMED.value,
        )
    )


def _offered_session(programme: PublishedProgramme | None, session_id: int) -> PublishedSession:
    """The published session a delegate may sign up for; refuses anything else."""
    session = programme.session(session_id) if programme is not None else None
    if session is None:
        raise AgendaError(_("This session is not in the published programme."), "not_published")
    if session.kind == SessionKind.BREAK:
        raise AgendaError(_("Breaks are for everyone: there is nothing to sign up for."), "break")
    return session


def _check_confirmed(registration: Registration) -> None:
    """Refuse a registration that is not confirmed (yet, or any more)."""
    if registration.status != RegistrationStatus.CONFIRMED.value:
        raise AgendaError(
            _(
                "Only delegates whose registration is confirmed can sign up for sessions. "
                "Your registration is: %(status)s.",
                status=RegistrationStatus(registration.status).label,
            ),
            "not_confirmed",
        )


def _overlaps(one: PublishedSession, other: PublishedSession) -> bool:
    """Whether two sessions run at the same time (one ending as the other starts does not)."""
    return one.starts_at < other.ends_at and other.starts_at < one.ends_at


def _check_no_overlap(
    registration: Registration, session: PublishedSession, programme: PublishedProgramme
) -> None:
    """Refuse a session at the same time as one the delegate already signed up for (or waits
    for): nobody can be in two rooms at once."""
    session_ids = db.session.scalars(
        select(SessionSignup.session_id).where(SessionSignup.registration_id == registration.id)
    )
    taken = [programme.session(session_id) for session_id in session_ids]
    clashing = sorted(
        (other for other in taken if other is not None and _overlaps(session, other)),
        key=lambda other: (other.starts_at, other.id),
    )
    if clashing:
        other = clashing[0]
        raise AgendaError(
            _(
                "“%(title)s” overlaps with “%(other)s” (%(when)s), which is already in your "
                "agenda. Leave that session first if you prefer this one.",
                title=session.title,
                other=other.title,
                when=session_when(other),
            ),
            "overlap",
        )


# --- signing up and leaving -----------------------------------------------------------------


def sign_up(
    registration: Registration, session_id: int, *, now: datetime | None = None
) -> SessionSignup:
    """Put a published session in a confirmed delegate's agenda and return the sign-up.

    A session that needs signing up holds a place while its published capacity lasts, then
    puts the delegate on its waiting list (and tells them by email). Signing up again for
    the same session returns the existing sign-up.
    """
    registration = _lock_registration(registration)
    _check_confirmed(registration)
    programme = published_programme(registration.event)
    session = _offered_session(programme, session_id)
    existing = _signup_of(registration.id, session_id)
    if existing is not None:
        return existing
    _check_no_overlap(registration, session, programme)
    counts_places = session.requires_signup and session.capacity is not None
    # The draft row is what the sign-up refers to; its lock serialises decisions on places.
    row = (
        _lock_session(session_id) if counts_places else db.session.get(ProgrammeSession, session_id)
    )
    if row is None:
        raise AgendaError(_("This session is no longer offered."), "not_published")
    moment = now or utc_now()
    status = SignupStatus.CONFIRMED
    if counts_places:
        # Anyone already waiting goes first when places are free.
        _promote(session, moment)
        if _places_taken(session_id) >= session.capacity:
            status = SignupStatus.WAITLISTED
    signup = SessionSignup(
        session_id=session_id,
        registration_id=registration.id,
        status=status.value,
        created_at=moment,
    )
    db.session.add(signup)
    db.session.flush()
    if status is SignupStatus.WAITLISTED:
        _notify(registration, "signup_waitlisted", session, position=waiting_position(signup))
    return signup


def withdraw(registration: Registration, session_id: int, *, now: datetime | None = None) -> None:
    """Take a session out of the delegate's agenda; a place it held goes to the first on the
    waiting list. Leaving a session one is not signed up for changes nothing."""
    registration = _lock_registration(registration)
    programme = published_programme(registration.event)
    session = programme.session(session_id) if programme is not None else None
    counts_places = session is not None and session.requires_signup
    if counts_places:
        # Locked before the sign-up is read: a promotion may have just changed its state.
        _lock_session(session_id)
    signup = _signup_of(registration.id, session_id)
    if signup is None:
        return
    held_place = signup.status == SignupStatus.CONFIRMED.value
    db.session.delete(signup)
    db.session.flush()
    if counts_places and held_place:
        _promote(session, now or utc_now())


def fill_free_places(session_id: int, *, now: datetime | None = None) -> list[SessionSignup]:
    """Give a session's free places to those waiting, first come first served (after a
    registration was cancelled or the capacity grew); returns the promoted sign-ups."""
    row = _lock_session(session_id)
    if row is None:
        return []
    programme = published_programme(row.event)
    session = programme.session(session_id) if programme is not None else None
    if session is None or not session.requires_signup:
        return []
    return _promote(session, now or utc_now())


def _promote(session: PublishedSession, now: datetime) -> list[SessionSignup]:
    """Move the first waiting delegates (confirmed registrations, by arrival) into the
    session's free places and email them; the caller holds the session's lock."""
    query = (
        select(SessionSignup)
        .join(Registration, _counted())
        .where(
            SessionSignup.session_id == session.id,
            SessionSignup.status == SignupStatus.WAITLISTED.value,
        )
        .order_by(SessionSignup.created_at, SessionSignup.id)
        .options(contains_eager(SessionSignup.registration))
    )
    if session.capacity is not None:
        free = session.capacity - _places_taken(session.id)
        if free <= 0:
            return []
        query = query.limit(free)
    promoted = list(db.session.scalars(query))
    for signup in promoted:
        signup.status = SignupStatus.CONFIRMED.value
        signup.promoted_at = now
    db.session.flush()
    for signup in promoted:
        _notify(signup.registration, "signup_promoted", session)
    return promoted


def _notify(
    registration: Registration,
    template: str,
    session: PublishedSession,
    **context: object,
) -> None:
    """Email the delegate about a sign-up, in their language (never an erased registration)."""
    if registration.erased_at is not None:
        return
    send_email(
        registration.email,
        registration.language,
        f"programme/mail/{template}.txt",
        registration=registration,
        event=registration.event,
        session=session,
        # Called while the template renders, so in the delegate's language.
        when=lambda: session_when(session),
        agenda_link=email_link("programme.my_agenda"),
        session_link=email_link("programme.show_session", session_id=session.id),
        **context,
    )


# --- reading an agenda ----------------------------------------------------------------------


def agenda_of(
    registration: Registration, programme: PublishedProgramme | None = None
) -> list[tuple[SessionSignup, PublishedSession]]:
    """The delegate's sign-ups for sessions still in the published programme (read unless
    given), by time."""
    programme = programme or published_programme(registration.event)
    if programme is None:
        return []
    signups = db.session.scalars(
        select(SessionSignup).where(SessionSignup.registration_id == registration.id)
    )
    pairs = []
    for signup in signups:
        session = programme.session(signup.session_id)
        if session is not None:
            pairs.append((signup, session))
    return sorted(pairs, key=lambda pair: (pair[1].starts_at, pair[1].id))


def signup_states(registration: Registration | None) -> dict[int, str]:
    """session id → "confirmed" or "waitlisted", for the buttons on the programme pages."""
    if registration is None:
        return {}
    rows = db.session.execute(
        select(SessionSignup.session_id, SessionSignup.status).where(
            SessionSignup.registration_id == registration.id
        )
    )
    return dict(rows.all())


def _waiting_positions(
    which: Callable[[type[SessionSignup]], ColumnElement[bool]],
) -> dict[int, int]:
    """session id → place on its waiting list, for the waiting sign-ups `which` selects
    (only confirmed registrations queue), in one query."""
    mine = aliased(SessionSignup)
    ahead = aliased(SessionSignup)
    queued = aliased(Registration)
    rows = db.session.execute(
        select(mine.session_id, func.count(ahead.id))
        .join(
            ahead,
            and_(
                ahead.session_id == mine.session_id,
                ahead.status == SignupStatus.WAITLISTED.value,
                or_(
                    ahead.created_at < mine.created_at,
                    and_(ahead.created_at == mine.created_at, ahead.id <= mine.id),
                ),
            ),
        )
        .join(
            queued,
            and_(
                queued.id == ahead.registration_id,
                queued.status == RegistrationStatus.CONFIRMED.value,
            ),
        )
        .where(mine.status == SignupStatus.WAITLISTED.value, which(mine))
        .group_by(mine.session_id)
    )
    return dict(rows.all())


def waiting_positions(registration: Registration) -> dict[int, int]:
    """session id → the delegate's place on that session's waiting list (1 is next)."""
    return _waiting_positions(lambda mine: mine.registration_id == registration.id)


def waiting_position(signup: SessionSignup) -> int | None:
    """The sign-up's place on its waiting list (None when it holds a place)."""
    positions = _waiting_positions(lambda mine: mine.id == signup.id)
    return positions.get(signup.session_id)


def places_left(
    session_ids: Iterable[int], programme: PublishedProgramme | None = None
) -> dict[int, int | None]:
    """session id → places still free (None: no limit), in one grouped query.

    Waiting delegates count as taking places: they are promoted before anyone new. Without a
    programme, the current event's published one is read.
    """
    ids = sorted(set(session_ids))
    if programme is None:
        event = current_event()
        programme = published_programme(event) if event is not None else None
    limited = {}
    for session_id in ids:
        session = programme.session(session_id) if programme is not None else None
        if session is not None and session.requires_signup and session.capacity is not None:
            limited[session_id] = session.capacity
    taken: dict[int, int] = {}
    if limited:
        rows = db.session.execute(
            select(SessionSignup.session_id, func.count())
            .join(Registration, _counted())
            .where(SessionSignup.session_id.in_(limited))
            .group_by(SessionSignup.session_id)
        )
        taken = dict(rows.all())
    return {
        session_id: (
            max(limited[session_id] - taken.get(session_id, 0), 0)
            if session_id in limited
            else None
        )
        for session_id in ids
    }


# --- the private calendar link --------------------------------------------------------------


def feed_token(registration: Registration) -> str:
    """The token of the delegate's calendar link, made on first use."""
    feed = db.session.get(AgendaFeed, registration.id)
    if feed is not None:
        return feed.token
    try:
        # A savepoint: when two first visits race, the other one's token stands.
        with db.session.begin_nested():
            feed = AgendaFeed(
                registration_id=registration.id, token=secrets.token_urlsafe(FEED_TOKEN_BYTES)
            )
            db.session.add(feed)
    except IntegrityError:
        feed = db.session.get(AgendaFeed, registration.id, populate_existing=True)
    return feed.token


def reset_feed_token(registration: Registration, *, now: datetime | None = None) -> str:
    """A new token for the calendar link; the old link stops working at once."""
    feed_token(registration)
    feed = db.session.get(AgendaFeed, registration.id)
    feed.token = secrets.token_urlsafe(FEED_TOKEN_BYTES)
    feed.created_at = now or utc_now()
    db.session.flush()
    return feed.token


def registration_for_feed(token: str | None) -> Registration | None:
    """The confirmed registration whose calendar link carries this token, if any.

    Anything that cannot be a token (another length, other characters, a NUL byte that
    PostgreSQL refuses) is answered None without a query.
    """
    if not token or not _FEED_TOKEN.fullmatch(token):
        return None
    registration = db.session.scalar(
        select(Registration)
        .join(AgendaFeed, AgendaFeed.registration_id == Registration.id)
        .where(AgendaFeed.token == token)
    )
    if (
        registration is None
        or registration.status != RegistrationStatus.CONFIRMED.value
        or registration.erased_at is not None
    ):
        return None
    return registration
