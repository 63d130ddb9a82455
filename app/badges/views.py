"""Badge pages: a delegate's own badge, and the organisers' list, reissue, revoke and print."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import allow
from app.auth.models import Role
from app.badges import services
from app.badges.forms import (
    BADGE_STATE_LABELS,
    FILTER_NAMES,
    ActionForm,
    BadgeFilterForm,
    PrintBadgesForm,
    ReissueForm,
)
from app.badges.jobs import PRINT_JOB
from app.badges.models import Badge, BadgeRole
from app.badges.pdf import badge_pdf
from app.errors import DomainError
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import country_name
from app.jobs.services import enqueue
from app.pagination import paginate
from app.registration.models import RegistrationStatus
from app.registration.services import counts_by_country, registration_types
from app.registration.views import event_or_404, own_registration_or_404

bp = Blueprint("badges", __name__, template_folder="templates")

ORGANISERS = (Role.ORGANISER, Role.ADMIN)


def _pdf_response(data: bytes, filename: str):
    """A PDF download that no shared cache keeps (it carries a door-opening token)."""
    response = make_response(data)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _badge_filename(badge: Badge) -> str:
    """The downloaded file's name, e.g. badge-K7QM-2XHP.pdf."""
    return f"badge-{badge.number}.pdf"


# --- the delegate ---------------------------------------------------------------------------


@bp.get("/badges/my-badge.pdf")
@allow(Role.DELEGATE)
def my_badge():
    """The signed-in delegate's own badge (issued on the first download once confirmed)."""
    registration = own_registration_or_404()
    if registration.status != RegistrationStatus.CONFIRMED or registration.erased_at:
        abort(403)
    try:
        badge = services.issue_badge(registration, actor=current_user)
    except DomainError:
        db.session.rollback()
        abort(403)
    if badge.revoked_at is not None:
        abort(403)
    data = badge_pdf(badge)
    # The badge (and the event's key, the first time) is kept once the PDF is built.
    db.session.commit()
    return _pdf_response(data, _badge_filename(badge))


# --- the organisers -------------------------------------------------------------------------


def _filter_form(event: Event) -> BadgeFilterForm:
    """The list's filters read from the query string, with their choices."""
    form = BadgeFilterForm(request.args)
    countries = sorted(
        ((row.country, country_name(row.country)) for row in counts_by_country(event)),
        key=lambda item: item[1].casefold(),
    )
    form.use_choices(countries=countries, types=registration_types(event, active_only=False))
    return form


def _filter_args() -> dict[str, str]:
    """The current filters as URL arguments (for the print form and clearing)."""
    return {name: request.args[name] for name in FILTER_NAMES if request.args.get(name)}


def _badge_or_404(badge_id: int) -> Badge:
    """A badge of the current congress."""
    badge = db.session.get(Badge, badge_id)
    if badge is None or badge.event_id != event_or_404().id:
        abort(404)
    return badge


def _back_to_list():
    """Back to the list, keeping the filters the organiser came from."""
    return redirect(url_for("badges.list_badges", **_filter_args()))


@bp.get("/organiser/badges/")
@allow(*ORGANISERS)
def list_badges():
    """Confirmed delegates and their badges: search, filters, pages, issue and print."""
    event = event_or_404()
    form = _filter_form(event)
    page = paginate(services.badge_list_query(event, form.filters()))
    return render_template(
        "badges/organiser/list.html",
        event=event,
        form=form,
        page=page,
        counts=services.badge_counts(event),
        badges=services.badges_by_registration(page.items),
        filter_args=_filter_args(),
        action_form=ActionForm(formdata=None),
        print_form=PrintBadgesForm(formdata=None),
        role_label=lambda role: BadgeRole(role).label,
        role_for=services.role_for,
        state_labels=BADGE_STATE_LABELS,
    )


@bp.post("/organiser/badges/issue")
@allow(*ORGANISERS)
def issue_missing():
    """Issue a badge to every confirmed delegate who has none."""
    event = event_or_404()
    if not ActionForm().validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
        return _back_to_list()
    try:
        issued = services.issue_missing_badges(event, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back_to_list()
    db.session.commit()
    if issued:
        flash(_("%(count)d badge(s) issued.", count=issued), "success")
    else:
        flash(_("Every confirmed delegate already has a badge."), "info")
    return _back_to_list()


@bp.get("/organiser/badges/<int:badge_id>/reissue")
@allow(*ORGANISERS)
def confirm_reissue(badge_id: int):
    """The reissue step: what happens to the old badge, confirmed by ticking a box."""
    badge = _badge_or_404(badge_id)
    return render_template(
        "badges/organiser/reissue.html",
        badge=badge,
        holder=services.holder(badge),
        form=ReissueForm(formdata=None),
        filter_args=_filter_args(),
    )


@bp.post("/organiser/badges/<int:badge_id>/reissue")
@allow(*ORGANISERS)
def reissue_badge(badge_id: int):
    """Reissue a lost badge: a new version, the old one revoked."""
    badge = _badge_or_404(badge_id)
    form = ReissueForm()
    if not form.validate_on_submit():
        return render_template(
            "badges/organiser/reissue.html",
            badge=badge,
            holder=services.holder(badge),
            form=form,
            filter_args=_filter_args(),
        ), 422
    try:
        services.reissue_badge(badge, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("badges.confirm_reissue", badge_id=badge_id))
    db.session.commit()
    flash(
        _(
            "Badge %(number)s reissued: version %(version)d. Print it; the earlier versions no "
            "longer open doors.",
            number=badge.number,
            version=badge.version,
        ),
        "success",
    )
    return redirect(url_for("badges.list_badges", q=badge.number))


def _change_badge(badge_id: int, action, message):
    """Revoke or restore a badge from the list, back to the list with a message."""
    badge = _badge_or_404(badge_id)
    if not ActionForm().validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
        return _back_to_list()
    try:
        action(badge, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return _back_to_list()
    db.session.commit()
    flash(message(badge), "success")
    return _back_to_list()


@bp.post("/organiser/badges/<int:badge_id>/revoke")
@allow(*ORGANISERS)
def revoke_badge(badge_id: int):
    """Withdraw a badge: none of its versions opens doors until it is restored."""
    return _change_badge(
        badge_id,
        services.revoke_badge,
        lambda badge: _("Badge %(number)s revoked.", number=badge.number),
    )


@bp.post("/organiser/badges/<int:badge_id>/restore")
@allow(*ORGANISERS)
def restore_badge(badge_id: int):
    """Give a revoked badge back its current version."""
    return _change_badge(
        badge_id,
        services.restore_badge,
        lambda badge: _("Badge %(number)s restored.", number=badge.number),
    )


@bp.get("/organiser/badges/<int:badge_id>.pdf")
@allow(*ORGANISERS)
def download_badge(badge_id: int):
    """One badge as an A6 PDF (its current version)."""
    badge = _badge_or_404(badge_id)
    data = badge_pdf(badge)
    db.session.commit()  # the event's signing key, made on first use
    return _pdf_response(data, _badge_filename(badge))


@bp.post("/organiser/badges/print")
@allow(*ORGANISERS)
def print_badges():
    """Build one A4 PDF of badges in the background; its page shows the progress."""
    event = event_or_404()
    form = PrintBadgesForm()
    if not form.validate_on_submit():
        flash(_("Choose which badges to print."), "error")
        return _back_to_list()
    filters = _filter_form(event).filters() if form.scope.data == "filtered" else None
    params = {"event_id": event.id, "filters": filters.as_params() if filters else {}}
    job = enqueue(PRINT_JOB, params, actor=current_user)
    return redirect(url_for("jobs.show_job", job_id=job.id))
