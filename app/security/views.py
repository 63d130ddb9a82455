"""POST /csp-report: browsers report what the Content-Security-Policy blocked; it is logged."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, current_app, request
from flask_babel import lazy_gettext as _l

from app.auth.access import PUBLIC, allow
from app.errors import abort_with
from app.extensions import csrf, limiter
from app.security.headers import CSP_REPORT_PATH
from app.security.reports import read_violations

bp = Blueprint("security", __name__)

# report-uri sends application/csp-report, report-to application/reports+json; some older
# browsers label the first application/json.
REPORT_TYPES = frozenset({"application/csp-report", "application/reports+json", "application/json"})


@bp.post(CSP_REPORT_PATH)
@allow(PUBLIC)
@csrf.exempt  # browsers send reports without cookies or tokens; nothing is changed
@limiter.limit(lambda: current_app.config["CSP_REPORT_RATE_LIMIT"])
def csp_report() -> Any:
    """Log each Content-Security-Policy violation reported (structured, shortened); 204."""
    if request.mimetype not in REPORT_TYPES:
        abort_with(400, _l("This address accepts only Content-Security-Policy reports."))
    # Before the body is read: a larger report is refused with 413.
    request.max_content_length = current_app.config["CSP_REPORT_MAX_BYTES"]
    try:
        violations, left_out = read_violations(json.loads(request.get_data()))
    except ValueError:  # not UTF-8, not JSON, or not a report (InvalidReportError)
        abort_with(400, _l("The report could not be read."))
    for violation in violations:
        current_app.logger.warning(
            "csp violation %s",
            json.dumps(violation, ensure_ascii=False, sort_keys=True),
            extra={"csp_violation": violation},
        )
    if left_out:
        current_app.logger.warning("csp violations not logged: %d more in one report", left_out)
    return "", 204
