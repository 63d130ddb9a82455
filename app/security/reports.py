"""Content-Security-Policy violation reports: the two formats browsers send, read into one
short record fit for a log line, the URLs in it stripped of secrets (loggable_url)."""

from __future__ import annotations

from typing import Any

from app.observability import loggable_url

# Longer values (a data: URL, a script sample) are cut: a log line stays readable and a
# hostile page cannot fill the log through its reports.
FIELD_LIMIT = 200
# Reports kept from one request; a batch beyond it is counted, not logged one by one.
REPORTS_PER_REQUEST = 20

# report-uri's application/csp-report names -> the Reporting API's (report-to) names.
LEGACY_FIELDS = {
    "document-uri": "documentURL",
    "blocked-uri": "blockedURL",
    # Older browsers send only violated-directive; effective-directive, later, wins.
    "violated-directive": "effectiveDirective",
    "effective-directive": "effectiveDirective",
    "disposition": "disposition",
    "source-file": "sourceFile",
    "line-number": "lineNumber",
    "column-number": "columnNumber",
    "script-sample": "sample",
    "status-code": "statusCode",
}
# What a log record keeps of a report (the policy itself is left out: it is ours).
KEPT_FIELDS = {
    "documentURL": "document",
    "blockedURL": "blocked",
    "effectiveDirective": "directive",
    "disposition": "disposition",
    "sourceFile": "source",
    "lineNumber": "line",
    "columnNumber": "column",
    "sample": "sample",
    "statusCode": "status",
}
# Fields holding a URL: the page's may be a token link (an invitation, a password reset).
URL_FIELDS = frozenset({"documentURL", "blockedURL", "sourceFile"})


class InvalidReportError(ValueError):
    """The body is not a Content-Security-Policy report in either format."""


def _short(value: Any) -> str | int | None:
    """A report value as a short string or a number; anything else becomes None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return value if len(value) <= FIELD_LIMIT else value[:FIELD_LIMIT] + "…"
    return None


def _record(body: dict[str, Any]) -> dict[str, str | int]:
    """One violation in Reporting API names, reduced to the kept fields, its URLs made
    loggable."""
    record = {}
    for name, short_name in KEPT_FIELDS.items():
        value = body.get(name)
        if name in URL_FIELDS and isinstance(value, str):
            value = loggable_url(value)
        value = _short(value)
        if value not in (None, ""):
            record[short_name] = value
    return record


def read_violations(payload: Any) -> tuple[list[dict[str, str | int]], int]:
    """The violations in a report body (at most REPORTS_PER_REQUEST) and how many were left
    out. Accepts report-uri's {"csp-report": {...}} and the Reporting API's list of reports,
    whose other report types are skipped. Raises InvalidReportError for anything else."""
    if isinstance(payload, dict) and isinstance(payload.get("csp-report"), dict):
        legacy = payload["csp-report"]
        body = {new: legacy[old] for old, new in LEGACY_FIELDS.items() if old in legacy}
        return [_record(body)], 0
    if not isinstance(payload, list):
        raise InvalidReportError("neither a csp-report object nor a list of reports")
    bodies = [
        report["body"]
        for report in payload
        if isinstance(report, dict)
        and report.get("type") == "csp-violation"
        and isinstance(report.get("body"), dict)
    ]
    kept = bodies[:REPORTS_PER_REQUEST]
    return [_record(body) for body in kept], len(bodies) - len(kept)
