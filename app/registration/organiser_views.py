"""Organiser pages of registration: settings, types and fees, the registrations list with
counts and exports, one registration (approve, reject, edit, resend, passport), delegations."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.auth.access import allow
from app.auth.models import Role
from app.errors import DomainError
from app.events.models import Event
from app.exports import csv_response, xlsx_response
from app.extensions import db, limiter
from app.i18n.formatting import country_name, minor_to_decimal
from app.pagination import paginate
from app.rate_limits import configured_limit, signed_in_user_key
from app.registration import personal_data, services, visa
from app.registration.models import (
    HISTORY_ACTION_LABELS,
    Delegation,
    Registration,
    RegistrationHistory,
    RegistrationStatus,
    RegistrationType,
)
from app.registration.organiser_forms import (
    RESEND_KINDS,
    ConfirmForm,
    OrganiserEditForm,
    RegistrationFilterForm,
    RegistrationSettingsForm,
    RegistrationTypeForm,
    RejectForm,
    ResendForm,
)
from app.registration.views import (
    bp,
    event_or_404,
    partner_id_for,
    partner_suggestions,
    registration_or_404,
)
from app.registration.visa_forms import IssueVisaLetterForm
from app.web import run_service

ORGANISERS = (Role.ORGANISER, Role.ADMIN)
# WCPP 2026 invites delegations from 44 countries; the list says how many are represented.
EXPECTED_COUNTRIES = 44
FILTER_ARGS = ("q", "country", "type_id", "status", "delegation_id")
# What the registration waits for, as organisers read it (services.next_step codes).
ORGANISER_NEXT_STEPS = {
    "confirm_email": _l("Waiting for the delegate to confirm their email address."),
    "await_approval": _l("Waiting for an organiser's approval."),
    "pay": _l("Waiting for the delegate's payment."),
    "accept_offer": _l("A place is offered; waiting for the delegate to accept it."),
    "wait": _l("On the waiting list: the next free place is offered to the first waiting."),
    "complete_details": _l("Waiting for the delegation member to complete their details."),
}
HISTORY_FIELDS = {
    "registration_type_id": _l("Registration type"),
    "title": _l("Title (Dr, Prof, …)"),
    "given_name": _l("Given name"),
    "family_name": _l("Family name"),
    "badge_name": _l("Name on badge"),
    "nationality": _l("Nationality"),
    "residence_country": _l("Country of residence"),
    "partner_id": _l("Organisation"),
    "organisation_name": _l("Organisation"),
    "position": _l("Position"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "dietary_needs": _l("Dietary needs"),
    "accessibility_needs": _l("Accessibility needs"),
    "emergency_contact_name": _l("Emergency contact"),
    "emergency_contact_phone": _l("Emergency contact's phone"),
    "language": _l("Language"),
    "needs_visa_letter": _l("Visa letter needed"),
    "passport_number": _l("Passport number"),
    "passport_expiry": _l("Passport expiry"),
    "birth_date": _l("Date of birth"),
    "birth_place": _l("Place of birth"),
    "media_consent": _l("Media consent"),
}
EXPORT_HEADER = (
    _l("Reference"),
    _l("Title (Dr, Prof, …)"),
    _l("Given name"),
    _l("Family name"),
    _l("Name on badge"),
    _l("Email"),
    _l("Nationality"),
    _l("Country of residence"),
    _l("Organisation"),
    _l("Position"),
    _l("Registration type"),
    _l("State"),
    _l("Delegation"),
    _l("Head of delegation"),
    _l("Fee"),
    _l("Currency"),
    _l("Email confirmed"),
    _l("Visa letter needed"),
    _l("Language"),
    _l("Registered at"),
)


@bp.context_processor
def _organiser_helpers() -> dict[str, Any]:
    """What the organiser pages' templates need: a state's name from its code."""
    return {"registration_status_label": lambda value: RegistrationStatus(value).label}


# --- helpers --------------------------------------------------------------------------------


def _delegations(event: Event) -> list[Delegation]:
    """The event's delegations by country and name, for the filter."""
    return list(
        db.session.scalars(
            select(Delegation)
            .where(Delegation.event_id == event.id)
            .order_by(Delegation.country, Delegation.name, Delegation.id)
        )
    )


def _filter_form(event: Event, countries: list[services.CountryCount]) -> RegistrationFilterForm:
    """The list's filters read from the query string, with their choices."""
    form = RegistrationFilterForm(request.args)
    named = sorted(
        ((row.country, country_name(row.country)) for row in countries),
        key=lambda item: item[1].casefold(),
    )
    form.use_choices(
        countries=named,
        types=services.registration_types(event, active_only=False),
        delegations=_delegations(event),
    )
    return form


def _filter_args() -> dict[str, str]:
    """The current filters as URL arguments (for exports and clearing)."""
    return {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}


def _filtered_query(event: Event) -> Any:
    """The registrations the current filters select (registration_query loads what a row
    shows with them)."""
    form = _filter_form(event, services.counts_by_country(event))
    return services.registration_query(event, **form.filters())


def _waiting_by_type(event: Event) -> dict[int, int]:
    """How many wait for a place of each type (one grouped query)."""
    return dict(
        db.session.execute(
            select(Registration.registration_type_id, func.count())
            .where(
                Registration.event_id == event.id,
                Registration.status == RegistrationStatus.WAITLISTED.value,
            )
            .group_by(Registration.registration_type_id)
        ).all()
    )


def _history_value(name: str, value: Any) -> str:
    """One recorded value of a changed field in the reader's language."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if name in ("nationality", "residence_country"):
        return country_name(str(value))
    if name in services.CHANGED_ONLY_FIELDS:
        # Only that it changed is kept (older entries are scrubbed by the passport purge).
        return _("changed")
    return str(value)


def history_lines(entry: RegistrationHistory) -> list[tuple[str, str, str | None]]:
    """A history entry's changed fields and reason as (label, old, new); new is None for a
    value that is only stated."""
    details = entry.details or {}
    lines = []
    for name, values in (details.get("changes") or {}).items():
        label = str(HISTORY_FIELDS.get(name, name))
        if isinstance(values, list) and len(values) == 2:
            lines.append((label, _history_value(name, values[0]), _history_value(name, values[1])))
        else:
            lines.append((label, _history_value(name, values), None))
    if details.get("number"):
        lines.append((_("Visa letter"), str(details["number"]), None))
    if details.get("source") == "demo":
        lines.append((_("Source"), _("Demo data"), None))
    if details.get("reason"):
        lines.append((_("Reason"), str(details["reason"]), None))
    if details.get("kind") in RESEND_KINDS:
        lines.append((_("Email"), str(RESEND_KINDS[details["kind"]]), None))
    return lines


def _refuse(error: DomainError, reference: str):
    """Undo the request's changes, show why, and go back to the registration."""
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for("registration.show_registration", reference=reference))


# --- the list, counts, exports --------------------------------------------------------------


@bp.get("/registrations/")
@allow(*ORGANISERS)
def list_registrations():
    """Every registration: search, filters, counts by country and type, pages."""
    event = event_or_404()
    by_country = services.counts_by_country(event)
    form = _filter_form(event, by_country)
    query = services.registration_query(event, **form.filters())
    return render_template(
        "registration/organiser/list.html",
        event=event,
        form=form,
        page=paginate(query),
        filter_args=_filter_args(),
        by_country=by_country,
        by_type=services.counts_by_type(event),
        waiting=_waiting_by_type(event),
        expected_countries=EXPECTED_COUNTRIES,
    )


def _export_rows(event: Event) -> list[list[Any]]:
    """The filtered list, one row per registration, in the reader's language."""
    rows = []
    for registration in db.session.scalars(_filtered_query(event)):
        fee = registration.fee_minor
        rows.append(
            [
                registration.reference,
                registration.title,
                registration.given_name,
                registration.family_name,
                registration.badge_name,
                registration.email,
                country_name(registration.nationality),
                country_name(registration.residence_country),
                registration.organisation,
                registration.position,
                str(registration.registration_type.name),
                RegistrationStatus(registration.status).label,
                registration.delegation.name if registration.delegation else None,
                registration.is_delegation_head,
                minor_to_decimal(fee, registration.currency) if fee is not None else None,
                registration.currency,
                registration.email_confirmed_at is not None,
                registration.needs_visa_letter,
                registration.language,
                registration.created_at,
            ]
        )
    return rows


def _export_filename() -> str:
    """registrations-YYYY-MM-DD: the list on the day it was exported."""
    return f"registrations-{services.event_today().isoformat()}"


@bp.get("/registrations/export.csv")
@allow(*ORGANISERS)
def export_registrations_csv():
    """The filtered list as CSV (UTF-8, opens in Excel)."""
    event = event_or_404()
    header = [str(title) for title in EXPORT_HEADER]
    return csv_response(_export_filename() + ".csv", header, _export_rows(event))


@bp.get("/registrations/export.xlsx")
@allow(*ORGANISERS)
def export_registrations_xlsx():
    """The filtered list as an Excel workbook."""
    event = event_or_404()
    header = [str(title) for title in EXPORT_HEADER]
    return xlsx_response(_export_filename() + ".xlsx", header, _export_rows(event))


@bp.get("/registrations/delegations")
@allow(*ORGANISERS)
def list_delegations():
    """Delegations by country, with their heads and how many members each has."""
    event = event_or_404()
    summaries = services.delegations_by_country(event)
    countries: dict[str, list[services.DelegationSummary]] = {}
    for summary in summaries:
        countries.setdefault(summary.country, []).append(summary)
    by_country = sorted(countries.items(), key=lambda item: country_name(item[0]).casefold())
    return render_template(
        "registration/organiser/delegations.html",
        by_country=by_country,
        total=len(summaries),
        member_states=_member_states([summary.delegation.id for summary in summaries]),
    )


def _member_states(delegation_ids: list[int]) -> dict[int, list[tuple[str, int]]]:
    """How many members of each delegation are in each state (one grouped query)."""
    if not delegation_ids:
        return {}
    rows = db.session.execute(
        select(Registration.delegation_id, Registration.status, func.count())
        .where(Registration.delegation_id.in_(delegation_ids))
        .group_by(Registration.delegation_id, Registration.status)
        .order_by(Registration.delegation_id, Registration.status)
    )
    states: dict[int, list[tuple[str, int]]] = {}
    for delegation_id, status, count in rows:
        states.setdefault(delegation_id, []).append((status, count))
    return states


# --- one registration -----------------------------------------------------------------------


def _render_registration(registration: Registration, *, passport: str | None = None):
    """A registration's page with its actions; `passport` is the number shown in full once."""
    return render_template(
        "registration/organiser/show.html",
        registration=registration,
        status=RegistrationStatus(registration.status),
        next_step_text=ORGANISER_NEXT_STEPS.get(services.next_step(registration)),
        masked_passport=personal_data.masked_passport(registration),
        passport=passport,
        visa_letter=visa.current_letter(registration),
        visa_blocker=visa.issue_blocker(registration),
        issue_form=IssueVisaLetterForm(
            formdata=None,
            next=url_for("registration.show_registration", reference=registration.reference),
        ),
        history_actions=HISTORY_ACTION_LABELS,
        history_lines=history_lines,
        can_approve=registration.status == RegistrationStatus.PENDING_APPROVAL,
        can_reject=registration.status not in (RegistrationStatus.CONFIRMED, *services.ENDED),
        resend_form=ResendForm(formdata=None),
    )


def _show_options() -> tuple[Any, ...]:
    """What a registration's page shows beside it, loaded up front."""
    return (
        selectinload(Registration.registration_type),
        selectinload(Registration.partner),
        selectinload(Registration.delegation),
        selectinload(Registration.user),
        selectinload(Registration.history).selectinload(RegistrationHistory.actor),
        selectinload(Registration.visa_letters),
    )


@bp.get("/registrations/<reference>")
@allow(*ORGANISERS)
def show_registration(reference: str):
    """Everything about one registration, its passport number masked, down to its history."""
    registration = registration_or_404(reference, *_show_options())
    return _render_registration(registration)


@bp.post("/registrations/<reference>/passport")
@allow(*ORGANISERS)
def reveal_passport(reference: str):
    """Show the passport number in full once; each showing is logged."""
    registration = registration_or_404(reference, *_show_options())
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please submit it again."), "error")
        return redirect(url_for("registration.show_registration", reference=reference))
    if not registration.passport_number_encrypted:
        flash(_("No passport number is stored for this registration."), "error")
        return redirect(url_for("registration.show_registration", reference=reference))
    try:
        number = personal_data.reveal_passport(
            registration, viewer=current_user, purpose="organiser_view"
        )
    except DomainError as error:
        return _refuse(error, reference)
    db.session.commit()
    response = make_response(_render_registration(registration, passport=number))
    # The number must not linger in a cache or the browser's back button.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/registrations/<reference>/approve")
@allow(*ORGANISERS)
def approve_registration(reference: str):
    """Approve a registration awaiting approval; the delegate is emailed."""
    registration = registration_or_404(reference)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Please submit it again."), "error")
        return redirect(url_for("registration.show_registration", reference=reference))
    try:
        services.approve_registration(registration, actor=current_user)
    except DomainError as error:
        return _refuse(error, reference)
    db.session.commit()
    flash(
        _(
            "Registration approved: now “%(state)s”.",
            state=RegistrationStatus(registration.status).label,
        ),
        "success",
    )
    return redirect(url_for("registration.show_registration", reference=reference))


@bp.route("/registrations/<reference>/reject", methods=["GET", "POST"])
@allow(*ORGANISERS)
def reject_registration(reference: str):
    """Reject a registration with the reason the delegate reads."""
    registration = registration_or_404(reference)
    form = RejectForm()
    if form.validate_on_submit():
        done, _result = run_service(
            form, services.reject_registration, registration, form.reason.data, actor=current_user
        )
        if done:
            flash(_("Registration rejected. The delegate has been told why."), "success")
            return redirect(url_for("registration.show_registration", reference=reference))
    return render_template(
        "registration/organiser/reject.html", registration=registration, form=form
    )


@bp.post("/registrations/<reference>/resend")
@allow(*ORGANISERS)
@limiter.limit(configured_limit("RESEND_EMAIL_RATE_LIMIT"), key_func=signed_in_user_key)
def resend_email(reference: str):
    """Send one of the registration's emails again."""
    registration = registration_or_404(reference)
    form = ResendForm()
    if not form.validate_on_submit():
        flash(_("Choose which email to send."), "error")
        return redirect(url_for("registration.show_registration", reference=reference))
    try:
        services.resend_email(registration, form.kind.data, actor=current_user)
    except DomainError as error:
        return _refuse(error, reference)
    db.session.commit()
    flash(_("Email sent to %(email)s.", email=registration.email), "success")
    return redirect(url_for("registration.show_registration", reference=reference))


@bp.route("/registrations/<reference>/edit", methods=["GET", "POST"])
@allow(*ORGANISERS)
def edit_registration(reference: str):
    """Change any detail of a registration; the change is recorded in its history."""
    registration = registration_or_404(reference, selectinload(Registration.partner))
    has_passport = registration.passport_number_encrypted is not None
    form = OrganiserEditForm(
        data=OrganiserEditForm.data_for(registration) if request.method == "GET" else None,
        has_passport=has_passport,
    )
    types = services.registration_types(registration.event, active_only=False)
    form.use_types(
        item for item in types if item.active or item.id == registration.registration_type_id
    )
    if form.validate_on_submit():
        partner_id = partner_id_for(
            form.organisation_name.data, (form.residence_country.data, form.nationality.data)
        )
        details = form.details(
            email=form.email.data,
            registration_type_id=form.registration_type_id.data,
            partner_id=partner_id,
            privacy_consent=registration.privacy_consent_at is not None,
        )
        done, changes = run_service(
            form,
            services.update_registration,
            registration,
            details,
            actor=current_user,
            today=services.event_today(),
        )
        if done:
            flash(_("Registration saved.") if changes else _("Nothing was changed."), "success")
            return redirect(url_for("registration.show_registration", reference=reference))
    return render_template(
        "registration/organiser/edit.html",
        form=form,
        registration=registration,
        masked_passport=personal_data.masked_passport(registration) if has_passport else None,
        partners=partner_suggestions(),
    )


# --- settings and types ---------------------------------------------------------------------


@bp.route("/registrations/settings", methods=["GET", "POST"])
@allow(*ORGANISERS)
def registration_settings():
    """The registration window, the edit cut-off, offers and passport retention."""
    event = event_or_404()
    settings = services.settings_for(event)
    form = RegistrationSettingsForm(obj=settings if request.method == "GET" else None)
    if form.validate_on_submit():
        done, _result = run_service(
            form,
            services.save_settings,
            event,
            opens_on=form.opens_on.data,
            closes_on=form.closes_on.data,
            edit_cutoff_on=form.edit_cutoff_on.data,
            waitlist_offer_hours=form.waitlist_offer_hours.data,
            passport_retention_days=form.passport_retention_days.data,
            actor=current_user,
        )
        if done:
            flash(_("Registration settings saved."), "success")
            return redirect(url_for("registration.registration_settings"))
    return render_template(
        "registration/organiser/settings.html", form=form, event=event, settings=settings
    )


@bp.get("/registrations/types/")
@allow(*ORGANISERS)
def list_registration_types():
    """The registration types with their fees, capacity and places taken."""
    event = event_or_404()
    return render_template(
        "registration/organiser/types.html",
        by_type=services.counts_by_type(event),
        waiting=_waiting_by_type(event),
    )


def _type_form_page(form: RegistrationTypeForm, registration_type: RegistrationType | None):
    """The new/edit type page."""
    return render_template(
        "registration/organiser/type_form.html", form=form, registration_type=registration_type
    )


@bp.route("/registrations/types/new", methods=["GET", "POST"])
@allow(*ORGANISERS)
def new_registration_type():
    """Add a registration type with its fees."""
    event = event_or_404()
    form = RegistrationTypeForm()
    if form.validate_on_submit():
        done, created = run_service(
            form, services.save_registration_type, event, None, form.details(), actor=current_user
        )
        if done:
            flash(_("Registration type “%(name)s” added.", name=created.name), "success")
            return redirect(url_for("registration.list_registration_types"))
    return _type_form_page(form, None)


@bp.route("/registrations/types/<int:type_id>/edit", methods=["GET", "POST"])
@allow(*ORGANISERS)
def edit_registration_type(type_id: int):
    """Change a registration type and its fees (registrations keep the fee they got)."""
    event = event_or_404()
    registration_type = db.first_or_404(
        select(RegistrationType).where(
            RegistrationType.id == type_id, RegistrationType.event_id == event.id
        )
    )
    form = RegistrationTypeForm(
        data=RegistrationTypeForm.data_from(registration_type) if request.method == "GET" else None
    )
    if form.validate_on_submit():
        done, _result = run_service(
            form,
            services.save_registration_type,
            event,
            registration_type,
            form.details(),
            actor=current_user,
        )
        if done:
            flash(_("Registration type “%(name)s” saved.", name=registration_type.name), "success")
            return redirect(url_for("registration.list_registration_types"))
    return _type_form_page(form, registration_type)
