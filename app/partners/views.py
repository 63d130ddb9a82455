"""Partner organisations: list, search, create, edit, contacts."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("partners", __name__, url_prefix="/partners", template_folder="templates")
