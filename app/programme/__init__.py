"""The programme: rooms, tracks, speakers, sessions, the timetable, agendas, iCal, the API."""

# The pages that attach to the blueprint register their routes on import.
from app.programme import agenda_views, api, organiser_views  # noqa: F401
from app.programme.views import bp

__all__ = ["bp"]
