"""Who may use every route: the table the route-by-role test walks.

A new route must be added here with its audience; the test fails on any route missing from it.
"""

from __future__ import annotations

from app.auth.access import PUBLIC, SIGNED_IN, STAFF
from app.auth.models import Role

ADMIN = (Role.ADMIN,)

# endpoint -> (audience, URL arguments). Audience: PUBLIC, SIGNED_IN or a tuple of roles.
ROUTE_TABLE: dict[str, tuple[object, dict]] = {
    "static": (PUBLIC, {"filename": "css/kongres.css"}),
    "events.home": (PUBLIC, {}),
    "health.healthz": (PUBLIC, {}),
    "i18n.switch_language": (PUBLIC, {"code": "en"}),
    "auth.login": (PUBLIC, {}),
    "auth.forgot_password": (PUBLIC, {}),
    "auth.reset_password": (PUBLIC, {"token": "not-a-real-token"}),
    "auth.accept_invitation": (PUBLIC, {"token": "not-a-real-token"}),
    "auth.logout": (SIGNED_IN, {}),
    "auth.account": (SIGNED_IN, {}),
    "auth.staff_list": (ADMIN, {}),
    "auth.invite_staff": (ADMIN, {}),
    "auth.edit_user": (ADMIN, {"user_id": "{own_id}"}),
    "reports.dashboard": (STAFF, {}),
    # --- partners (issue 3) ---
    # --- agreements (issue 3) ---
    # --- registry dashboard, exports (issue 3) ---
}
