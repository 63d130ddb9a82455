"""The translated name of every action code the audit log records.

The audit package imports no domain, so each domain registers the labels of the codes it
records (for its history actions, the labels its own history pages use)."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l

# The domain part of an action code ("registration" in "registration.edited"), as shown.
DOMAIN_LABELS: dict[str, object] = {
    "auth": _l("Accounts"),
    "registration": _l("Registrations"),
    "payments": _l("Payments"),
    "agreements": _l("Agreements"),
    "partners": _l("Partners"),
    "badges": _l("Badges"),
    "checkin": _l("Check-in"),
}

# Codes recorded by the audit package itself or by one line in a domain service.
ACTION_LABELS: dict[str, object] = {
    "auth.login": _l("Signed in"),
    "auth.logout": _l("Signed out"),
    "auth.role_changed": _l("Roles changed"),
    "auth.activated": _l("Account reactivated"),
    "auth.deactivated": _l("Account deactivated"),
    "auth.password_changed": _l("Password changed"),
    "auth.password_reset": _l("Password reset by emailed link"),
    "auth.sessions_ended": _l("Signed out everywhere else"),
    "auth.two_factor_enabled": _l("Two-factor sign-in turned on"),
    "auth.two_factor_disabled": _l("Two-factor sign-in turned off"),
    "auth.two_factor_reset": _l("Second factor reset by an administrator"),
    "auth.recovery_codes_regenerated": _l("New recovery codes made"),
    "auth.staff_invited": _l("Staff member invited"),
    "registration.passport_viewed": _l("Passport number viewed"),
    "registration.personal_data_exported": _l("Personal data downloaded"),
    "payments.refund": _l("Refund made"),
    "payments.refund_declined": _l("Refund request declined"),
    "agreements.deleted": _l("Draft agreement deleted"),
    "checkin.device_issued": _l("Gate device issued"),
    "checkin.device_revoked": _l("Gate device revoked"),
}


def register_action_labels(domain: str, labels: Mapping[str, object]) -> None:
    """Name a domain's history actions: {"edited": label} becomes "domain.edited"."""
    for action, label in labels.items():
        ACTION_LABELS.setdefault(f"{domain}.{action}", label)


def action_label(code: str) -> str:
    """An action code as a reader sees it: "Registrations: Details changed"."""
    domain, _dot, _rest = code.partition(".")
    label = ACTION_LABELS.get(code)
    if label is None:
        return code  # a code recorded by an older version, shown as stored
    domain_label = DOMAIN_LABELS.get(domain)
    return f"{domain_label}: {label}" if domain_label is not None else str(label)


def action_choices() -> list[tuple[str, str]]:
    """Every known action code with its label, sorted by label, for the filter."""
    return sorted(((code, action_label(code)) for code in ACTION_LABELS), key=lambda c: c[1])


# The kinds of record entries name (a model's name in snake case), as shown.
TARGET_TYPE_LABELS: dict[str, object] = {
    "user": _l("Account"),
    "registration": _l("Delegate registration"),
    "payment": _l("Payment"),
    "refund": _l("Payment refund"),
    "agreement": _l("Agreement"),
    "partner": _l("Partner"),
    "badge": _l("Badge"),
    "gate_device": _l("Gate device"),
}


def target_type_label(code: str | None) -> str:
    """A kind of record in the reader's language (unknown kinds as stored)."""
    if code is None:
        return ""
    label = TARGET_TYPE_LABELS.get(code)
    return str(label) if label is not None else code
