"""Check-in: checkpoints, gate devices, the scan API, the scanner page, live attendance."""

# The pages that attach to the blueprint (each module registers its routes on import).
from app.checkin import api, certificate_views, scanner_views  # noqa: F401
from app.checkin.views import bp

__all__ = ["bp"]
