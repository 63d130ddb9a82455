"""Live attendance for organisers: who was admitted today at each checkpoint and in each hour,
how full each session room is against its capacity, and attendance by country.

One function builds the figures as plain JSON values, for the page and for the JSON the page
polls; a constant number of queries whatever the number of badges and scans.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from babel.dates import format_time
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import joinedload

from app.badges.models import Badge
from app.checkin.models import Admission, Checkpoint, CheckpointKind, Scan, ScanResult
from app.checkin.services import as_utc, day_bounds, event_day, event_zone_of, iso, utc_now
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import country_name, format_day, format_event_datetime
from app.programme.models import ProgrammeSession
from app.registration.models import Registration

# The page asks for fresh figures this often.
REFRESH_SECONDS = 15
# A room this full is shown as nearly full.
NEARLY_FULL = 0.9


def _hour_label(hour: int) -> str:
    """An hour of the day as "08:00–09:00" in the current language's time format."""
    locale = get_locale()
    start = format_time(datetime(2000, 1, 1, hour), "HH:mm", locale=locale)
    end = format_time(datetime(2000, 1, 1, (hour + 1) % 24), "HH:mm", locale=locale)
    return f"{start}–{end}"


def _session_state(session: ProgrammeSession | None, now: datetime) -> tuple[str, str]:
    """Whether a session is upcoming, in progress or over (code and label)."""
    if session is None or session.starts_at is None or session.ends_at is None:
        return "unscheduled", _("Not scheduled")
    if now < as_utc(session.starts_at):
        return "upcoming", _("Upcoming")
    if now < as_utc(session.ends_at):
        return "in_progress", _("In progress")
    return "over", _("Over")


def _counts_by_checkpoint(event: Event, *conditions: Any) -> dict[int, int]:
    """Admissions (distinct badges) per checkpoint of the event."""
    return dict(
        db.session.execute(
            select(Admission.checkpoint_id, func.count())
            .join(Checkpoint, Admission.checkpoint_id == Checkpoint.id)
            .where(Checkpoint.event_id == event.id, *conditions)
            .group_by(Admission.checkpoint_id)
        ).all()
    )


def live_attendance(event: Event, *, now: datetime | None = None) -> dict[str, Any]:
    """Today's attendance figures, ready for JSON and for the page."""
    now = as_utc(now or utc_now())
    today = event_day(event, now)
    start, end = day_bounds(event, today)
    zone = event_zone_of(event)

    checkpoints = list(
        db.session.scalars(
            select(Checkpoint)
            .where(Checkpoint.event_id == event.id)
            .options(joinedload(Checkpoint.session).joinedload(ProgrammeSession.room))
            .order_by(Checkpoint.code)
        )
    )
    people_today = _counts_by_checkpoint(event, Admission.day == today)
    people_ever = _counts_by_checkpoint(event)
    admitted_scans = db.session.execute(
        select(Scan.checkpoint_id, Scan.scanned_at).where(
            Scan.event_id == event.id,
            Scan.result == ScanResult.ADMITTED.value,
            Scan.scanned_at >= start,
            Scan.scanned_at < end,
        )
    ).all()
    entries = Counter(checkpoint_id for checkpoint_id, _moment in admitted_scans)
    by_hour = Counter(as_utc(moment).astimezone(zone).hour for _id, moment in admitted_scans)
    present_today = db.session.scalar(
        select(func.count(distinct(Admission.badge_id)))
        .join(Checkpoint, Admission.checkpoint_id == Checkpoint.id)
        .where(Checkpoint.event_id == event.id, Admission.day == today)
    )
    conflicts = db.session.scalar(
        select(func.count(Scan.id)).where(
            Scan.event_id == event.id,
            Scan.client_result == ScanResult.ADMITTED.value,
            Scan.result != ScanResult.ADMITTED.value,
        )
    )
    countries = db.session.execute(
        select(
            Registration.nationality,
            func.count(distinct(case((Admission.day == today, Admission.badge_id)))),
            func.count(distinct(Admission.badge_id)),
        )
        .select_from(Admission)
        .join(Badge, Admission.badge_id == Badge.id)
        .join(Registration, Badge.registration_id == Registration.id)
        .where(Badge.event_id == event.id)
        .group_by(Registration.nationality)
    ).all()

    hours = []
    if by_hour:
        for hour in range(min(by_hour), max(by_hour) + 1):
            hours.append({"hour": hour, "label": _hour_label(hour), "entries": by_hour[hour]})
    sessions = []
    for checkpoint in checkpoints:
        if checkpoint.kind != CheckpointKind.SESSION_DOOR.value:
            continue
        session = checkpoint.session
        capacity = session.effective_capacity if session is not None else None
        admitted = people_ever.get(checkpoint.id, 0)
        state, state_label = _session_state(session, now)
        sessions.append(
            {
                "checkpoint_id": checkpoint.id,
                "title": session.title.get() if session is not None else checkpoint.name.get(),
                "room": session.room.name if session is not None and session.room else "",
                "starts": format_event_datetime(session.starts_at, "short")
                if session is not None and session.starts_at
                else "",
                "state": state,
                "state_label": state_label,
                "admitted": admitted,
                "capacity": capacity,
                "percent": round(100 * admitted / capacity) if capacity else None,
                "nearly_full": bool(capacity) and admitted >= NEARLY_FULL * capacity,
            }
        )
    return {
        "generated_at": iso(now),
        "updated_label": format_time(now.astimezone(zone), "HH:mm", locale=get_locale()),
        "day": today.isoformat(),
        "day_label": format_day(today, "full"),
        "refresh_seconds": REFRESH_SECONDS,
        "totals": {
            "people_today": present_today or 0,
            "entries_today": len(admitted_scans),
            "conflicts": conflicts or 0,
        },
        "checkpoints": [
            {
                "id": checkpoint.id,
                "code": checkpoint.code,
                "name": checkpoint.name.get(),
                "kind_label": CheckpointKind(checkpoint.kind).label,
                "active": checkpoint.active,
                "people": people_today.get(checkpoint.id, 0),
                "entries": entries.get(checkpoint.id, 0),
            }
            for checkpoint in checkpoints
        ],
        "hours": hours,
        "busiest_hour": max(by_hour.values(), default=0),
        "sessions": sessions,
        "countries": sorted(
            (
                {"code": code, "name": country_name(code), "today": today_count, "total": total}
                for code, today_count, total in countries
            ),
            key=lambda item: (-item["today"], -item["total"], item["name"]),
        ),
    }
