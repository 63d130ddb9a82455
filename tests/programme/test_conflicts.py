"""Timetable conflicts: room overlaps, people in two places at once, sessions outside the
congress days, capacity above the room's; what is not a conflict."""

from __future__ import annotations

from datetime import date, time

from app.i18n.formatting import format_day_range
from app.programme import services
from app.programme.conflicts import Conflict, conflicts_by_session, find_conflicts
from app.programme.models import SessionKind
from tests.programme.factories import (
    FIRST_DAY,
    make_room,
    make_session,
    make_speaker,
)
from tests.registration.factories import WCPP_ENDS_ON, make_event


def _codes(conflicts: list[Conflict]) -> list[str]:
    """The kinds of the conflicts found."""
    return [conflict.code for conflict in conflicts]


def test_a_clean_timetable_has_no_conflicts(db):
    event = make_event()
    hall, room = make_room(event, "Nusa Dua Hall"), make_room(event, "Kintamani")
    jane = make_speaker(event, "Jane Doe")
    make_session(event, room=hall, start=time(9), end=time(10), speakers=[jane])
    # Back to back in the same room, and the same person straight after: edges only touch.
    make_session(event, room=hall, start=time(10), end=time(11))
    make_session(event, room=room, start=time(10), end=time(11), chairs=[jane])
    # Parallel sessions in different rooms with different people.
    make_session(event, room=room, start=time(9), end=time(10))
    assert find_conflicts(event) == []


def test_two_sessions_in_one_room_at_once_conflict(db):
    event = make_event()
    room = make_room(event, "Nusa Dua Hall")
    first = make_session(event, title_en="Opening", room=room, start=time(9), end=time(10, 30))
    second = make_session(event, title_en="Keynote", room=room, start=time(10), end=time(11))
    [conflict] = find_conflicts(event)
    assert conflict.code == "room_overlap"
    assert conflict.session_ids == (first.id, second.id)
    assert conflict.room_id == room.id
    assert conflict.person_id is None
    assert conflict.message == (
        "“Opening” (Apr 14, 2026, 09:00–10:30 WITA) and “Keynote” (Apr 14, 2026, "
        "10:00–11:00 WITA) are both in Nusa Dua Hall at the same time."
    )


def test_a_session_inside_another_and_three_at_once_give_every_pair(db):
    event = make_event()
    room = make_room(event)
    long = make_session(event, room=room, start=time(9), end=time(12))
    inner = make_session(event, room=room, start=time(10), end=time(10, 30))
    late = make_session(event, room=room, start=time(10, 15), end=time(13))
    pairs = {conflict.session_ids for conflict in find_conflicts(event)}
    assert pairs == {(long.id, inner.id), (long.id, late.id), (inner.id, late.id)}


def test_the_same_time_on_another_day_is_no_conflict(db):
    event = make_event()
    room = make_room(event)
    jane = make_speaker(event)
    make_session(event, room=room, speakers=[jane])
    make_session(event, room=room, day=date(2026, 4, 15), speakers=[jane])
    assert find_conflicts(event) == []


def test_a_speaker_in_two_rooms_at_once_is_double_booked(db):
    event = make_event()
    hall, room = make_room(event, "Nusa Dua Hall"), make_room(event, "Kintamani")
    jane = make_speaker(event, "Jane Doe", honorific="Dr")
    first = make_session(
        event, title_en="Probation", room=hall, start=time(9), end=time(10), speakers=[jane]
    )
    second = make_session(
        event, title_en="Parole", room=room, start=time(9, 30), end=time(11), speakers=[jane]
    )
    [conflict] = find_conflicts(event)
    assert conflict.code == "person_double_booked"
    assert conflict.session_ids == (first.id, second.id)
    assert conflict.person_id == jane.id
    assert conflict.message == (
        "Dr Jane Doe is booked in “Probation” (Nusa Dua Hall, Apr 14, 2026, 09:00–10:00 WITA) "
        "and “Parole” (Kintamani, Apr 14, 2026, 09:30–11:00 WITA) at the same time."
    )


def test_a_chair_in_one_session_and_speaker_in_another_is_double_booked(db):
    event = make_event()
    hall, room = make_room(event), make_room(event)
    jane = make_speaker(event, "Jane Doe")
    other = make_speaker(event, "Budi Santoso")
    first = make_session(event, room=hall, chairs=[jane], speakers=[other])
    second = make_session(event, room=room, speakers=[jane], chairs=[make_speaker(event)])
    [conflict] = find_conflicts(event)
    assert (conflict.code, conflict.person_id) == ("person_double_booked", jane.id)
    assert set(conflict.session_ids) == {first.id, second.id}


def test_two_chairs_booked_twice_give_one_conflict_each(db):
    event = make_event()
    jane, budi = make_speaker(event, "Jane"), make_speaker(event, "Budi")
    make_session(event, room=make_room(event), chairs=[jane, budi])
    make_session(event, room=make_room(event), chairs=[jane], speakers=[budi])
    conflicts = find_conflicts(event)
    assert _codes(conflicts) == ["person_double_booked"] * 2
    assert {conflict.person_id for conflict in conflicts} == {jane.id, budi.id}


def test_a_double_booking_in_the_same_room_is_both_kinds(db):
    event = make_event()
    room = make_room(event)
    jane = make_speaker(event)
    make_session(event, room=room, speakers=[jane])
    make_session(event, room=room, speakers=[jane])
    assert sorted(_codes(find_conflicts(event))) == ["person_double_booked", "room_overlap"]


def test_a_person_in_a_session_without_a_room_is_still_double_booked(db):
    event = make_event()
    jane = make_speaker(event, "Jane Doe")
    make_session(event, title_en="Study visit", location_note="Bapas Denpasar", speakers=[jane])
    make_session(event, room=make_room(event), speakers=[jane])
    [conflict] = find_conflicts(event)
    assert conflict.code == "person_double_booked"
    assert "(Bapas Denpasar, " in conflict.message


def test_breaks_without_a_room_never_conflict(db):
    event = make_event()
    room = make_room(event)
    make_session(event, kind=SessionKind.BREAK, title_en="Coffee", start=time(10), end=time(11))
    make_session(event, kind=SessionKind.BREAK, title_en="Tea", start=time(10), end=time(11))
    make_session(event, room=room, start=time(10), end=time(11))
    assert find_conflicts(event) == []


def test_sessions_off_the_timetable_are_ignored(db):
    event = make_event()
    room = make_room(event, capacity=10)
    jane = make_speaker(event)
    make_session(event, room=room, speakers=[jane])
    make_session(event, day=None, start=None, end=None, room=room, speakers=[jane], capacity=50)
    assert find_conflicts(event) == []


def test_sessions_outside_the_congress_days_conflict(db):
    event = make_event()
    before = make_session(event, title_en="Early bird", day=date(2026, 4, 13))
    after = make_session(event, day=date(2026, 4, 18))
    make_session(event, day=WCPP_ENDS_ON, start=time(22), end=time(23, 59))
    conflicts = find_conflicts(event)
    assert _codes(conflicts) == ["outside_event_days"] * 2
    assert [conflict.session_ids for conflict in conflicts] == [(before.id,), (after.id,)]
    assert conflicts[0].message == (
        "“Early bird” (Apr 13, 2026, 09:00–10:30 WITA) is outside the congress days "
        f"({format_day_range(event.starts_on, event.ends_on)})."
    )


def test_local_days_decide_not_utc_days(db):
    # 07:00 WITA on the first day is still the day before in UTC: no conflict.
    event = make_event()
    make_session(event, day=FIRST_DAY, start=time(7), end=time(7, 45))
    assert find_conflicts(event) == []


def test_a_capacity_above_the_rooms_conflicts(db):
    event = make_event()
    room = make_room(event, "Kintamani", capacity=100)
    over = make_session(event, title_en="Workshop", room=room, capacity=150)
    make_session(event, room=room, capacity=100, day=date(2026, 4, 15))
    make_session(event, capacity=500, day=date(2026, 4, 16))  # no room limits it
    [conflict] = find_conflicts(event)
    assert (conflict.code, conflict.session_ids, conflict.room_id) == (
        "capacity_above_room",
        (over.id,),
        room.id,
    )
    assert conflict.message == "“Workshop” offers 150 places but Kintamani seats 100."


def test_conflicts_are_in_time_order_and_grouped_by_session(db):
    event = make_event()
    room = make_room(event, capacity=10)
    late = make_session(event, room=room, start=time(15), end=time(16), capacity=20)
    first = make_session(event, room=room, start=time(9), end=time(10))
    second = make_session(event, room=room, start=time(9, 30), end=time(10, 30))
    conflicts = find_conflicts(event)
    assert _codes(conflicts) == ["room_overlap", "capacity_above_room"]
    grouped = conflicts_by_session(conflicts)
    assert grouped == {
        first.id: [conflicts[0]],
        second.id: [conflicts[0]],
        late.id: [conflicts[1]],
    }
    assert conflicts_by_session([]) == {}


def test_moving_a_session_away_clears_its_conflict(db):
    event = make_event()
    hall, room = make_room(event), make_room(event)
    jane = make_speaker(event)
    make_session(event, room=hall, speakers=[jane])
    second = make_session(event, room=room, speakers=[jane])
    assert len(find_conflicts(event)) == 1
    services.move_session(second, day=FIRST_DAY, start=time(11), room_id=room.id, actor=None)
    assert find_conflicts(event) == []


def test_the_given_sessions_are_used_as_loaded(db, count_queries):
    event = make_event()
    room = make_room(event)
    make_session(event, room=room)
    make_session(event, room=room)
    sessions = services.event_sessions(event)
    with count_queries() as counter:
        conflicts = find_conflicts(event, sessions)
    assert _codes(conflicts) == ["room_overlap"]
    assert counter.count == 0
