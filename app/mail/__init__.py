"""Outgoing email: rendered in the recipient's language, sent once the data is committed."""

from flask import Blueprint

# Carries the shared mail templates (no routes).
bp = Blueprint("mail", __name__, template_folder="templates")
