"""The administrators' audit log page and its exports."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l

from app.audit import services
from app.audit.actions import action_label, target_type_label
from app.audit.forms import FILTER_NAMES, AuditFilterForm
from app.auth.access import allow
from app.auth.models import Role
from app.exports import csv_response, xlsx_response
from app.extensions import db
from app.i18n.formatting import event_zone
from app.pagination import paginate

bp = Blueprint("audit", __name__, template_folder="templates", url_prefix="/admin/audit")

PER_PAGE = 50
EXPORT_HEADER = (
    _l("Entry number"),
    _l("When"),
    _l("Action"),
    _l("Action code"),
    _l("Done by"),
    _l("Email address"),
    _l("Kind of record"),
    _l("Record id"),
    _l("Record"),
    _l("Details"),
    _l("IP address"),
    _l("Request id"),
    _l("Hash"),
)


EMPTY_VALUE = "—"


def _shown(value: Any) -> str:
    """One stored value as text: nothing as a dash, lists and objects as compact JSON."""
    if value is None:
        return EMPTY_VALUE
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def detail_lines(details: dict[str, Any] | None) -> list[tuple[str, str]]:
    """An entry's details as (field, "old → new" or value) lines; the registrations'
    {"changes": {...}} is opened so that each changed field gets its own line."""
    lines = []
    for name, value in sorted((details or {}).items()):
        if name == "changes" and isinstance(value, dict):
            lines.extend(detail_lines(value))
        elif isinstance(value, list) and len(value) == 2:
            lines.append((name, f"{_shown(value[0])} → {_shown(value[1])}"))
        else:
            lines.append((name, _shown(value)))
    return lines


@bp.context_processor
def _audit_helpers() -> dict[str, Any]:
    """Labels for action codes and record kinds, and detail lines, in the audit templates."""
    return {
        "audit_action_label": action_label,
        "audit_target_label": target_type_label,
        "audit_detail_lines": detail_lines,
    }


def _filter_form() -> AuditFilterForm:
    """The filters as given in the query string."""
    return AuditFilterForm(request.args, target_types=services.target_types())


def _filter_args() -> dict[str, str]:
    """The current filters as URL arguments (for exports and clearing)."""
    return {name: request.args[name] for name in FILTER_NAMES if request.args.get(name)}


@bp.get("/")
@allow(Role.ADMIN)
def list_entries():
    """The audit log, newest first, with filters and whether the chain is intact."""
    form = _filter_form()
    chain = services.check_chain()
    # The check share-locks the chain head; end that transaction now rather than hold every
    # audited write (each sign-in among them) waiting while the page renders.
    db.session.rollback()
    return render_template(
        "audit/list.html",
        form=form,
        page=paginate(services.entry_query(form.filters()), per_page=PER_PAGE),
        filter_args=_filter_args(),
        chain=chain,
    )


def _export_rows() -> list[list[Any]]:
    """The filtered entries, one row each, labels in the reader's language."""
    query = services.entry_query(_filter_form().filters())
    return [
        [
            entry.position,
            entry.occurred_at,
            action_label(entry.action),
            entry.action,
            entry.actor_name,
            entry.actor_email,
            target_type_label(entry.target_type),
            entry.target_id,
            entry.target_label,
            json.dumps(entry.details, ensure_ascii=False, sort_keys=True) if entry.details else "",
            entry.ip_address,
            entry.request_id,
            entry.entry_hash,
        ]
        for entry in db.session.scalars(query)
    ]


def _export_filename() -> str:
    """audit-log-YYYY-MM-DD: the log on the day it was exported."""
    return f"audit-log-{datetime.now(event_zone()).date().isoformat()}"


@bp.get("/export.csv")
@allow(Role.ADMIN)
def export_entries_csv():
    """The filtered audit log as CSV."""
    header = [str(title) for title in EXPORT_HEADER]
    return csv_response(_export_filename() + ".csv", header, _export_rows())


@bp.get("/export.xlsx")
@allow(Role.ADMIN)
def export_entries_xlsx():
    """The filtered audit log as an Excel workbook."""
    header = [str(title) for title in EXPORT_HEADER]
    return xlsx_response(_export_filename() + ".xlsx", header, _export_rows())
