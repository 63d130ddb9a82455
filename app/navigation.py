"""The navigation menu, by role: each entry names who sees it."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.access import PUBLIC, SIGNED_IN, STAFF
from app.auth.models import Role

# Visitors who are not signed in (e.g. "Register": a signed-in delegate has registered).
ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class NavItem:
    """A link in the main menu."""

    endpoint: str
    label: object
    audience: tuple[str, ...]


NAVIGATION: list[NavItem] = [
    NavItem("events.home", _l("Congress"), (PUBLIC,)),
    NavItem("programme.public_programme", _l("Programme"), (PUBLIC,)),
    NavItem("registration.register", _l("Register"), (ANONYMOUS,)),
    NavItem("registration.my_registration", _l("My registration"), (Role.DELEGATE.value,)),
    NavItem("programme.my_agenda", _l("My agenda"), (Role.DELEGATE.value,)),
    NavItem("reports.dashboard", _l("Dashboard"), tuple(str(role) for role in STAFF)),
    NavItem(
        "registration.list_registrations",
        _l("Registrations"),
        (Role.ADMIN.value, Role.ORGANISER.value),
    ),
    NavItem("programme.timetable", _l("Timetable"), (Role.ADMIN.value, Role.ORGANISER.value)),
    NavItem("payments.list_payments", _l("Payments"), (Role.ADMIN.value, Role.ORGANISER.value)),
    NavItem("checkin.live_attendance", _l("Check-in"), (Role.ADMIN.value, Role.ORGANISER.value)),
    NavItem("badges.list_badges", _l("Badges"), (Role.ADMIN.value, Role.ORGANISER.value)),
    NavItem(
        "partners.list_partners",
        _l("Partners"),
        (Role.ADMIN.value, Role.ORGANISER.value, Role.REGISTRY_OFFICER.value),
    ),
    NavItem(
        "agreements.list_agreements",
        _l("Agreements"),
        (Role.ADMIN.value, Role.ORGANISER.value, Role.REGISTRY_OFFICER.value),
    ),
    NavItem(
        "checkin.scanner",
        _l("Scanner"),
        (Role.GATE_STAFF.value, Role.ORGANISER.value, Role.ADMIN.value),
    ),
    NavItem("auth.staff_list", _l("Accounts"), (Role.ADMIN.value,)),
    NavItem("audit.list_entries", _l("Audit log"), (Role.ADMIN.value,)),
]


def navigation_for() -> list[NavItem]:
    """The menu entries the current visitor may use."""
    visible = []
    for item in NAVIGATION:
        if not current_user.is_authenticated:
            shown = PUBLIC in item.audience or ANONYMOUS in item.audience
        else:
            shown = (
                PUBLIC in item.audience
                or SIGNED_IN in item.audience
                or current_user.has_role(*item.audience)
            )
        if shown:
            visible.append(item)
    return visible
