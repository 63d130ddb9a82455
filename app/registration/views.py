"""Delegate registration: the public form, delegations, email confirmation, a delegate's own page,
and the privacy notice. Organiser pages attach to the same blueprint (organiser_views.py)."""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy import or_, select

from app.auth import services as auth_services
from app.auth import sessions as auth_sessions
from app.auth.access import PUBLIC, allow
from app.auth.forms import NewPasswordForm
from app.auth.models import Role
from app.events.models import Event
from app.events.services import current_event
from app.extensions import db, limiter
from app.i18n.formatting import format_event_datetime, format_money
from app.partners.models import Partner, name_key
from app.payments import checkout
from app.payments.refunds import cancel_with_refund_request  # payments (issue 5)
from app.rate_limits import configured_limit
from app.registration import personal_data, services, visa
from app.registration.forms import (
    DEFAULT_MEMBER_ROWS,
    MAX_MEMBER_ROWS,
    ActionForm,
    CancelRegistrationForm,
    CompleteMemberForm,
    ConfirmForm,
    DelegationForm,
    EditRegistrationForm,
    RegistrationForm,
)
from app.registration.models import (
    HISTORY_ACTION_LABELS,
    Registration,
    RegistrationSettings,
    RegistrationStatus,
    RegistrationType,
)
from app.web import run_service

bp = Blueprint("registration", __name__, template_folder="templates")

# Partner names offered as suggestions in the organisation field.
PARTNER_SUGGESTIONS = 1000
# How many member rows "Add rows" adds to the delegation form.
ADDED_MEMBER_ROWS = 3
# What the result page shows, kept in the session between the POST and the redirect.
RECEIVED_KEY = "registration_received"
# States in which a delegate may still cancel or edit.
ENDED_STATES = frozenset(
    {RegistrationStatus.CANCELLED, RegistrationStatus.REJECTED, RegistrationStatus.REFUNDED}
)

NEXT_STEP_TEXTS = {
    "confirm_email": _l("Confirm your email address with the link we sent you."),
    "await_approval": _l("The organisers are reviewing your registration. We will email you."),
    "pay": _l("Pay the registration fee of %(fee)s. We will email you how to pay."),
    "accept_offer": _l("A place is free for you until %(until)s: accept it below."),
    "wait": _l("You are on the waiting list. We will email you when a place frees up."),
    "complete_details": _l("Complete your details with the link we sent you."),
}


def event_or_404() -> Event:
    """The congress this installation serves."""
    event = current_event()
    if event is None:
        abort(404)
    return event


def registration_or_404(reference: str, *options: Any) -> Registration:
    """The current congress's registration with this reference (loaded with options)."""
    registration = services.find_registration(event_or_404(), reference, *options)
    if registration is None:
        abort(404)
    return registration


# --- the public form ------------------------------------------------------------------------


def partner_suggestions() -> list[Partner]:
    """Partner organisations offered while typing the organisation's name."""
    return list(
        db.session.scalars(select(Partner).order_by(Partner.name_key).limit(PARTNER_SUGGESTIONS))
    )


def partner_id_for(organisation: str | None, countries: tuple[str, ...]) -> int | None:
    """The partner whose name (or acronym) the delegate typed, preferring one of their
    countries; None for an organisation Kongres does not know yet."""
    text = (organisation or "").strip()
    if not text:
        return None
    candidates = db.session.scalars(
        select(Partner)
        .where(or_(Partner.name_key == name_key(text), Partner.acronym == text))
        .order_by(Partner.id)
    ).all()
    if not candidates:
        return None
    preferred = [partner for partner in candidates if partner.country in countries]
    return (preferred or candidates)[0].id


def _closed_page(event: Event | None):
    """The page shown outside the registration window."""
    settings = services.settings_for(event) if event else None
    return render_template(
        "registration/closed.html", event=event, settings=settings, today=services.event_today()
    )


def _render_form(template: str, form, event: Event, types: list[RegistrationType], **context):
    """A registration form page with its type offers and organisation suggestions."""
    return render_template(
        template,
        form=form,
        event=event,
        offers=services.type_offers(types),
        partners=partner_suggestions(),
        **context,
    )


def _render_delegation_form(form: DelegationForm, event: Event, types: list[RegistrationType]):
    """The delegation form page, with its button for more member rows."""
    return _render_form(
        "registration/register_delegation.html",
        form,
        event,
        types,
        max_rows=MAX_MEMBER_ROWS,
        added_rows=ADDED_MEMBER_ROWS,
    )


def _remember_received(given_name: str, family_name: str | None, email: str, **extra) -> None:
    """Keep what the result page shows: what was typed, never what is stored, so a repeated
    address reveals nothing about the registration already made with it."""
    full_name = " ".join(part for part in (given_name, family_name) if part)
    session[RECEIVED_KEY] = {"name": full_name, "email": email.strip().lower(), **extra}


@bp.route("/register", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("REGISTRATION_RATE_LIMIT"), methods=["POST"])
def register():
    """The public registration form; a repeated submission finds the first registration."""
    event = current_event()
    if event is None or not services.is_open(event, services.event_today()):
        return _closed_page(event)
    types = services.registration_types(event)
    form = RegistrationForm()
    form.use_types(types)
    if request.method == "GET":
        form.language_default()
    if form.validate_on_submit():
        partner_id = partner_id_for(
            form.organisation_name.data, (form.residence_country.data, form.nationality.data)
        )
        done, _result = run_service(
            form, services.register_delegate, event, form.registration_details(partner_id)
        )
        if done:
            _remember_received(form.given_name.data, form.family_name.data, form.email.data)
            return redirect(url_for("registration.registration_received"))
    return _render_form("registration/register.html", form, event, types)


@bp.route("/register/delegation", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("REGISTRATION_RATE_LIMIT"), methods=["POST"])
def register_delegation():
    """A head of delegation registers themself and invites the members to complete theirs."""
    event = current_event()
    if event is None or not services.is_open(event, services.event_today()):
        return _closed_page(event)
    types = services.registration_types(event)
    rows = request.args.get("members", DEFAULT_MEMBER_ROWS, type=int)
    form = DelegationForm()
    form.use_types(types, rows)
    if request.method == "GET":
        form.language_default()
    elif "add_rows" in request.form:
        # More rows without registering: what was typed so far stays in the form.
        form.use_types(types, min(len(form.members) + ADDED_MEMBER_ROWS, MAX_MEMBER_ROWS))
        return _render_delegation_form(form, event, types)
    if form.validate_on_submit():
        members = [
            services.MemberInvite(
                email=row.email.data,
                given_name=row.given_name.data,
                family_name=row.family_name.data,
                registration_type_id=row.registration_type_id.data,
            )
            for row in form.filled_members()
        ]
        if not members:
            form.form_errors.append(_("Add at least one member of the delegation."))
        else:
            partner_id = partner_id_for(
                form.organisation_name.data, (form.residence_country.data, form.nationality.data)
            )
            done, _result = run_service(
                form,
                services.register_delegation,
                event,
                form.registration_details(partner_id),
                members,
                # An already registered head must be the one signed in (else nothing happens).
                actor=current_user if current_user.is_authenticated else None,
            )
            if done:
                _remember_received(
                    form.given_name.data,
                    form.family_name.data,
                    form.email.data,
                    members=[member.email.strip().lower() for member in members],
                )
                return redirect(url_for("registration.registration_received"))
    return _render_delegation_form(form, event, types)


@bp.get("/register/received")
@allow(PUBLIC)
def registration_received():
    """What happens next, after the form was sent (the same page for a repeated submission)."""
    received = session.get(RECEIVED_KEY)
    if not received:
        return redirect(url_for("registration.register"))
    return render_template("registration/received.html", received=received)


def _link_problem(message: str):
    """A confirmation or invitation link that cannot be used."""
    return render_template("registration/link_problem.html", message=message), 400


@bp.route("/register/member/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("ACCOUNT_LINK_RATE_LIMIT"), methods=["POST"])
def complete_member(token: str):
    """A delegation member completes and confirms the details their head started."""
    try:
        registration = services.member_from_token(token)
    except services.RegistrationError as error:
        db.session.rollback()
        return _link_problem(str(error))
    if registration.status != RegistrationStatus.SUBMITTED:
        if _can_sign_in(registration):
            flash(_("Your details are already complete. Sign in to see your registration."), "info")
            return redirect(url_for("auth.login", next=url_for("registration.my_registration")))
        # The link proved the address, as a confirmation link does: now the password.
        return _choose_password(registration, completed=True)
    form = CompleteMemberForm(
        data=CompleteMemberForm.data_from(registration) if request.method == "GET" else None
    )
    if form.validate_on_submit():
        partner_id = partner_id_for(
            form.organisation_name.data, (form.residence_country.data, form.nationality.data)
        )
        details = form.details(
            email=registration.email,
            registration_type_id=registration.registration_type_id,
            partner_id=partner_id,
            privacy_consent=bool(form.privacy_consent.data),
        )
        done, _result = run_service(
            form, services.complete_member_registration, registration, details
        )
        if done and not _can_sign_in(registration):
            # The same link now offers the password (the page says the details are saved).
            return redirect(url_for("registration.complete_member", token=token))
        if done:
            _remember_received(form.given_name.data, form.family_name.data, registration.email)
            return redirect(url_for("registration.registration_received"))
    return render_template(
        "registration/complete_member.html",
        form=form,
        registration=registration,
        partners=partner_suggestions(),
    )


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(configured_limit("ACCOUNT_LINK_RATE_LIMIT"), methods=["POST"])
def confirm_email(token: str):
    """Confirm a delegate's email address, then let them choose a password to sign in."""
    try:
        registration = services.confirm_email(token)
    except services.RegistrationError as error:
        db.session.rollback()
        return _link_problem(str(error))
    if _can_sign_in(registration):
        # The account can already sign in: the link must not become a password reset.
        db.session.commit()
        if current_user.is_authenticated and current_user.id == registration.user_id:
            flash(_("Your email address is confirmed."), "success")
            return redirect(url_for("registration.my_registration"))
        flash(_("Your email address is confirmed. Sign in to see your registration."), "success")
        return redirect(url_for("auth.login", next=url_for("registration.my_registration")))
    return _choose_password(registration)


def _can_sign_in(registration: Registration) -> bool:
    """Whether the registration's account already has a password (or it has no account), so
    that an emailed link must not set one."""
    user = registration.user
    return user is None or user.password_hash is not None


def _choose_password(registration: Registration, *, completed: bool = False):
    """The page where a delegate whose emailed link proved their address chooses a password
    and is signed in; this request's changes (the confirmation) and the password are
    committed together, once."""
    user = registration.user
    form = NewPasswordForm()
    if form.validate_on_submit():
        done, _result = run_service(
            form, auth_services.choose_password_and_sign_in, user, form.password.data
        )
        if done:
            # A fresh session on sign-in, as on the login page (with its session version).
            auth_sessions.complete_sign_in(user, second_factor=False)
            flash(_("Your password is set and you are signed in."), "success")
            return redirect(url_for("registration.my_registration"))
        # Refused: the rollback also undid the confirmation; the next submission repeats it.
    else:
        db.session.commit()
    return render_template(
        "registration/confirm_email.html",
        form=form,
        registration=registration,
        completed=completed,
    )


# --- a delegate's own registration ----------------------------------------------------------


def _own_registration() -> Registration | None:
    """The signed-in delegate's registration for the current congress."""
    event = current_event()
    if event is None:
        return None
    return db.session.scalar(
        select(Registration).where(
            Registration.event_id == event.id, Registration.user_id == current_user.id
        )
    )


def own_registration_or_404() -> Registration:
    """The signed-in delegate's registration; there is nothing to act on without one."""
    registration = _own_registration()
    if registration is None:
        abort(404)
    return registration


def _edit_open(registration: Registration, settings: RegistrationSettings | None) -> bool:
    """Whether the delegate may still change their details."""
    if registration.status in ENDED_STATES or registration.erased_at is not None:
        return False
    cutoff = settings.edit_cutoff_on if settings else None
    return cutoff is None or services.event_today() <= cutoff


def _next_step_text(registration: Registration, step: str) -> str | None:
    """The next step in words, or None when there is nothing to do."""
    text = NEXT_STEP_TEXTS.get(step)
    if text is None:
        return None
    if step == "pay":
        return str(text) % {"fee": format_money(registration.fee_minor, registration.currency)}
    if step == "accept_offer":
        return str(text) % {"until": format_event_datetime(registration.offer_expires_at)}
    return str(text)


def _visa_letter_for(registration: Registration):
    """The delegate's current, unrevoked visa letter when it can be downloaded."""
    if "registration.download_visa_letter" not in current_app.view_functions:
        return None
    return visa.downloadable_letter(registration)


def _status_label(status: str | None) -> str:
    """A stored state in words (an unknown value is shown as stored)."""
    try:
        return RegistrationStatus(status).label
    except ValueError:
        return status or ""


def _changed_fields(changes: dict) -> str:
    """The fields an edit changed, named as the form names them."""
    form = EditRegistrationForm(formdata=None)
    labels = {name: field.label.text for name, field in form._fields.items()}
    labels["passport_number"] = form.passport_number.label.text
    labels["registration_type_id"] = _("Registration type")
    labels["email"] = _("Email")
    labels["partner_id"] = form.organisation_name.label.text
    names = dict.fromkeys(str(labels.get(name, name)) for name in changes)
    return _("Changed: %(fields)s", fields=", ".join(names))


def _render_my_registration(registration: Registration, **forms):
    """The delegate's page, with its action forms (fresh or with errors)."""
    settings = services.settings_for(registration.event)
    step = services.next_step(registration)
    return render_template(
        "registration/my_registration.html",
        registration=registration,
        settings=settings,
        next_step=_next_step_text(registration, step),
        edit_open=_edit_open(registration, settings),
        can_cancel=registration.status not in ENDED_STATES and registration.erased_at is None,
        offer_open=services.has_open_offer(registration),
        visa_letter=_visa_letter_for(registration),
        history_actions=HISTORY_ACTION_LABELS,
        status_label=_status_label,
        changed_fields=_changed_fields,
        cancel_form=forms.get("cancel_form") or CancelRegistrationForm(formdata=None),
        erase_form=forms.get("erase_form") or ConfirmForm(formdata=None, prefix="erase"),
        accept_form=ActionForm(formdata=None),
        # --- payments (issue 5, helper P2): pay buttons and receipts ---
        payment_panel=checkout.payment_panel(registration, current_user, step),
    )


@bp.get("/my/registration")
@allow(Role.DELEGATE)
def my_registration():
    """The delegate's registration: state, next step, details, documents, history."""
    registration = _own_registration()
    if registration is None:
        return render_template("registration/no_registration.html")
    return _render_my_registration(registration)


@bp.route("/my/registration/edit", methods=["GET", "POST"])
@allow(Role.DELEGATE)
def edit_my_registration():
    """The delegate changes their details until the cut-off date."""
    registration = own_registration_or_404()
    settings = services.settings_for(registration.event)
    if not _edit_open(registration, settings):
        flash(_("Your details can no longer be changed here. Please write to the organisers."))
        return redirect(url_for("registration.my_registration"))
    has_passport = registration.passport_number_encrypted is not None
    form = EditRegistrationForm(
        data=EditRegistrationForm.data_from(registration) if request.method == "GET" else None,
        has_passport=has_passport,
    )
    if form.validate_on_submit():
        partner_id = partner_id_for(
            form.organisation_name.data, (form.residence_country.data, form.nationality.data)
        )
        details = form.details(
            email=registration.email,
            registration_type_id=registration.registration_type_id,
            partner_id=partner_id,
            privacy_consent=True,
        )
        done, _result = run_service(
            form,
            services.update_registration,
            registration,
            details,
            actor=current_user,
            today=services.event_today(),
        )
        if done:
            flash(_("Your details are saved."), "success")
            return redirect(url_for("registration.my_registration"))
    return render_template(
        "registration/edit_my_registration.html",
        form=form,
        registration=registration,
        masked_passport=personal_data.masked_passport(registration) if has_passport else None,
        partners=partner_suggestions(),
    )


@bp.post("/my/registration/cancel")
@allow(Role.DELEGATE)
def cancel_my_registration():
    """The delegate cancels their registration, after ticking the confirmation."""
    registration = own_registration_or_404()
    form = CancelRegistrationForm()
    if form.validate():
        done, _result = run_service(
            form,
            # payments (issue 5): cancel, then ask for a refund before the deadline (one commit)
            cancel_with_refund_request,
            registration,
            actor=current_user,
            reason=form.reason.data or None,
        )
        if done:
            flash(_("Your registration is cancelled."), "success")
            return redirect(url_for("registration.my_registration"))
    return _render_my_registration(registration, cancel_form=form)


@bp.post("/my/registration/accept-offer")
@allow(Role.DELEGATE)
def accept_offer():
    """The delegate takes the place offered to them from the waiting list."""
    registration = own_registration_or_404()
    form = ActionForm()
    if form.validate():
        done, _result = run_service(form, services.accept_offer, registration, actor=current_user)
        if done:
            flash(_("You have taken the place. Welcome!"), "success")
        else:
            flash(" ".join(form.form_errors), "error")
    else:
        flash(_("The form expired. Please submit it again."), "error")
    return redirect(url_for("registration.my_registration"))


@bp.get("/my/registration/data.json")
@allow(Role.DELEGATE)
def download_my_data():
    """Everything Kongres holds about the delegate, as a JSON file."""
    registration = own_registration_or_404()
    data = personal_data.export_personal_data(registration, actor=current_user)
    db.session.commit()  # the audit log's entry of this download
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="kongres-registration-{registration.reference}.json"'
            ),
            "Cache-Control": "no-store",
        },
    )


@bp.post("/my/registration/erase")
@allow(Role.DELEGATE)
def erase_my_data():
    """The delegate asks for their personal data to be erased, after ticking the confirmation."""
    registration = own_registration_or_404()
    form = ConfirmForm(prefix="erase")
    if form.validate():
        done, _result = run_service(
            form, personal_data.erase_personal_data, registration, actor=current_user
        )
        if done:
            # The account went with the data: nothing is left to be signed in to.
            logout_user()
            session.clear()
            flash(_("Your personal data has been erased."), "success")
            return redirect(url_for("events.home"))
    return _render_my_registration(registration, erase_form=form)


# --- the privacy notice ---------------------------------------------------------------------


@bp.get("/privacy")
@allow(PUBLIC)
def privacy():
    """The privacy notice under Indonesia's personal data protection law (Law 27/2022)."""
    event = current_event()
    settings = services.settings_for(event) if event else None
    return render_template(
        "registration/privacy.html",
        event=event,
        retention_days=(
            settings.passport_retention_days
            if settings
            else RegistrationSettings.passport_retention_days.default.arg
        ),
        contact_email=current_app.config["PRIVACY_CONTACT_EMAIL"] or None,
    )


from app.registration import organiser_views, visa_views  # noqa: E402,F401
