"""Sections other domains add to a partner's page (agreements, delegates, congress role).

Partners is imported by other domains, never the other way round, so they plug their
sections in here instead of the partner page importing them.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app
from markupsafe import Markup

from app.partners.models import Partner

PartnerPanel = Callable[[Partner], Markup]
_KEY = "kongres_partner_panels"


def register_partner_panel(app: Flask, render: PartnerPanel) -> None:
    """Add a section to every partner page of this application."""
    app.extensions.setdefault(_KEY, []).append(render)


def partner_panels(partner: Partner) -> list[Markup]:
    """The rendered sections for one partner's page, in registration order."""
    return [render(partner) for render in current_app.extensions.get(_KEY, [])]
