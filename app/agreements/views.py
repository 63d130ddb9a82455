"""The agreement registry: list, filters, agreement pages, documents, evaluations."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("agreements", __name__, url_prefix="/agreements", template_folder="templates")
