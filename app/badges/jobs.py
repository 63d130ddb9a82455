"""The badge jobs run through the jobs seam: the batch PDF of badges to print."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from app.badges.models import Badge
from app.badges.pdf import badge_faces, write_badge_sheets
from app.badges.services import BadgeError, BadgeFilters, printable_badges
from app.events.models import Event
from app.extensions import db
from app.jobs.services import job_kind, report_progress, result_path_for

PRINT_JOB = "badges.print"


@job_kind(PRINT_JOB, queue="pdf", label=_l("Badges to print"))
def print_badges(job_id: str, params: dict[str, Any]) -> str:
    """One A4 PDF of the selected confirmed delegates' badges, four to a sheet; the badges
    still missing are issued first."""
    event = db.session.get(Event, params.get("event_id"))
    if event is None:
        raise BadgeError(_l("The congress of these badges no longer exists."), "no_event")
    badges: list[Badge] = printable_badges(event, BadgeFilters(**params.get("filters", {})))
    if not badges:
        raise BadgeError(_l("No confirmed delegate matches these filters."), "nothing_to_print")
    faces = badge_faces(badges)
    # The issued badges (and a first signing key) are kept even if drawing fails, and the
    # progress updates below must not wait for this session's writes.
    db.session.commit()
    report_progress(job_id, 0, len(faces))
    path = result_path_for(job_id, ".pdf")
    write_badge_sheets(
        faces, path, progress=lambda done, total: report_progress(job_id, done, total)
    )
    return path.name
