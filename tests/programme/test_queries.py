"""The public programme costs the same number of queries for 20 sessions as for 500: the
published programme is read from the cache, sign-up states and free places in one query each."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from app.auth.models import Role
from app.events.models import Event
from app.events.services import current_event
from app.extensions import db
from app.programme import agenda
from app.programme.models import Room, Speaker
from app.programme.published import published_programme
from app.programme.publishing import publish_programme
from tests.programme.factories import (
    FIRST_DAY,
    SetUpContext,
    confirmed_registration,
    make_room,
    make_session,
    make_speaker,
)
from tests.registration.factories import make_event

SLOTS = [(time(9, 0), time(10, 0)), (time(10, 0), time(11, 0)), (time(11, 0), time(12, 0))]
SLOTS += [(time(13, 0), time(14, 0)), (time(14, 0), time(15, 0))]
DAYS = [FIRST_DAY + timedelta(days=offset) for offset in range(4)]
PAGES = [
    f"/programme/?day={FIRST_DAY.isoformat()}",
    "/programme/?q=session",
    "/api/v1/programme",
]


RoomAndSpeaker = tuple[Room, Speaker]


def add_rooms(event: Event, count: int, first_position: int) -> list[RoomAndSpeaker]:
    """Rooms, each with a speaker of its own who speaks in all its sessions (never twice at
    once, so publishing finds no conflict)."""
    return [
        (
            make_room(event, f"Room {position:02d}", capacity=50, position=position),
            make_speaker(event, f"Speaker of room {position:02d}"),
        )
        for position in range(first_position, first_position + count)
    ]


def add_sessions(event: Event, rooms: list[RoomAndSpeaker], days: list[date]) -> int:
    """One session per room, day and slot; every other one needs a sign-up."""
    made = 0
    for day in days:
        for room, speaker in rooms:
            for start, end in SLOTS:
                make_session(
                    event,
                    title_en=f"Session {room.name} {day} {start}",
                    room=room,
                    day=day,
                    start=start,
                    end=end,
                    speakers=[speaker],
                    requires_signup=made % 2 == 0,
                )
                made += 1
    return made


def queries_per_page(client, count_queries) -> list[int]:
    """Queries of each page once the published programme is cached (a first request warms it)."""
    counts = []
    for page in PAGES:
        assert client.get(page).status_code == 200, page
        with count_queries() as counter:
            response = client.get(page)
        assert response.status_code == 200, page
        counts.append(counter.count)
    return counts


@pytest.mark.parametrize("visitor", ["anonymous", "delegate"])
def test_the_programme_costs_the_same_queries_for_20_and_500_sessions(
    app, client, auth, count_queries, visitor
):
    user = auth.login_as(Role.DELEGATE) if visitor == "delegate" else None
    with SetUpContext(app):
        event = make_event()
        first_rooms = add_rooms(event, 4, first_position=0)
        assert add_sessions(event, first_rooms, DAYS[:1]) == 20
        publish_programme(event, actor=None)
        if user is not None:
            registration = confirmed_registration(event, email=user.email)
            published = published_programme(event)
            agenda.sign_up(registration, published.sessions[0].id)
        db.session.commit()

    with_20 = queries_per_page(client, count_queries)

    with SetUpContext(app):
        event = current_event()
        first_rooms = [
            (room, make_speaker(event, f"Another speaker of {room.name}"))
            for room in db.session.scalars(db.select(Room).order_by(Room.position))
        ]
        more_rooms = add_rooms(event, 21, first_position=4)
        added = add_sessions(event, more_rooms, DAYS[:1])
        added += add_sessions(event, first_rooms + more_rooms, DAYS[1:])
        assert 20 + added == 500
        publish_programme(event, actor=None)
        if user is not None:
            registration = agenda.confirmed_registration(event, user)
            published = published_programme(event)
            agenda.sign_up(registration, published.sessions[-1].id)
        db.session.commit()

    with_500 = queries_per_page(client, count_queries)

    assert with_20 == with_500
    # The day page: BEGIN, the event, the programme's version, free places; for a delegate
    # also their account, its roles, their registration and their sign-ups.
    assert with_500[0] <= (4 if visitor == "anonymous" else 8), with_500
