"""The congress's public home page."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.auth.access import PUBLIC, allow
from app.events.services import current_event

bp = Blueprint("events", __name__, template_folder="templates")


@bp.get("/")
@allow(PUBLIC)
def home():
    """Theme, dates and venue of the congress."""
    return render_template("events/home.html", event=current_event())
