"""The staff dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.access import STAFF, allow
from app.auth.models import Role
from app.events.services import current_event

bp = Blueprint("reports", __name__, template_folder="templates")


@dataclass(frozen=True)
class DashboardCard:
    """One block of a staff member's starting page."""

    roles: tuple[Role, ...]
    title: object
    text: object
    endpoint: str | None = None
    action: object = None


DASHBOARD_CARDS: list[DashboardCard] = [
    DashboardCard(
        (Role.ADMIN,),
        _l("Accounts and roles"),
        _l("Invite staff, grant roles and deactivate accounts."),
        "auth.staff_list",
        _l("Manage accounts"),
    ),
    DashboardCard(
        (Role.ORGANISER,),
        _l("Congress organisation"),
        _l("Registrations, payments, programme and attendance of WCPP 2026."),
    ),
    DashboardCard(
        (Role.REGISTRY_OFFICER,),
        _l("Cooperation agreements"),
        _l("The registry of MoUs and cooperation agreements (PKS) with partner organisations."),
    ),
    DashboardCard(
        (Role.GATE_STAFF,),
        _l("Gate check-in"),
        _l("Scan delegates' badges at the venue entrance and session doors."),
    ),
]


@bp.get("/dashboard")
@allow(*STAFF)
def dashboard():
    """Each staff member's starting page: what their roles let them do."""
    cards = [card for card in DASHBOARD_CARDS if current_user.has_role(*card.roles)]
    return render_template("reports/dashboard.html", event=current_event(), dashboard_cards=cards)
