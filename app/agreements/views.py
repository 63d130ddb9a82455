"""The agreement registry: list, filters, agreement pages, documents, evaluations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.agreements import services, storage
from app.agreements.forms import (
    DEFAULT_PARTY_ROWS,
    AgreementFilterForm,
    AgreementForm,
    ConfirmForm,
    DocumentUploadForm,
    NewAgreementForm,
    ObligationForm,
    ObligationStatusForm,
    ScopeAreaForm,
    StatusForm,
    evaluation_form,
)
from app.agreements.models import (
    AGREEMENT_RELATION_LABELS,
    Agreement,
    AgreementDocument,
    AgreementHistory,
    AgreementKind,
    AgreementParty,
    AgreementRelation,
    AgreementStatus,
    DerivedStatus,
    Evaluation,
    Obligation,
    ObligationStatus,
    ScopeArea,
    UnitLevel,
)
from app.audit.actions import register_action_labels
from app.auth.access import allow
from app.auth.models import Role
from app.exports import csv_response, xlsx_response
from app.extensions import db
from app.i18n.formatting import format_day
from app.i18n.text import TranslatedText
from app.pagination import paginate
from app.partners.models import Partner
from app.partners.panels import register_partner_panel
from app.web import run_service

bp = Blueprint("agreements", __name__, url_prefix="/agreements", template_folder="templates")

READERS = (Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER)
EDITORS = (Role.ADMIN, Role.REGISTRY_OFFICER)

HISTORY_ACTIONS = {
    "created": _l("Registered"),
    "updated": _l("Details changed"),
    "status_changed": _l("Status changed"),
    "renewal_added": _l("Renewal registered"),
    "addendum_added": _l("Addendum registered"),
    "obligation_added": _l("Obligation added"),
    "obligation_updated": _l("Obligation updated"),
    "obligation_removed": _l("Obligation removed"),
    "document_uploaded": _l("Document uploaded"),
    "document_deleted": _l("Document deleted"),
    "evaluation_recorded": _l("Evaluation recorded"),
    "follow_up_deleted": _l("Draft renewal or addendum deleted"),
}
register_action_labels("agreements", HISTORY_ACTIONS)
HISTORY_FIELDS = {
    "kind": _l("Kind"),
    "reference_number": _l("Our reference number"),
    "title": _l("Title"),
    "summary": _l("Summary"),
    "parties": _l("Parties"),
    "unit_level": _l("Level"),
    "unit_name": _l("Responsible unit"),
    "responsible_officer": _l("Responsible officer"),
    "scope_areas": _l("Scope areas"),
    "signed_on": _l("Signed on"),
    "signed_place": _l("Signed at"),
    "starts_on": _l("Starts on"),
    "ends_on": _l("Ends on"),
    "evaluation_interval_months": _l("Evaluate every … months"),
    "status": _l("Status"),
    "relation": _l("Relation"),
    "follow_up": _l("Follow-up agreement"),
    "obligation": _l("Obligation"),
    "obligation_status": _l("Obligation status"),
    "document": _l("Document"),
    "evaluated_on": _l("Evaluation date"),
    "overall_rating": _l("Overall rating"),
}
# History values stored as enum codes or ISO dates, shown in words.
HISTORY_ENUMS = {
    "kind": AgreementKind,
    "unit_level": UnitLevel,
    "status": AgreementStatus,
    "relation": AgreementRelation,
    "obligation_status": ObligationStatus,
}
HISTORY_DATES = {"signed_on", "starts_on", "ends_on", "evaluated_on"}

EXPORT_HEADER = (
    _l("Our reference"),
    _l("Kind"),
    _l("Title"),
    _l("Partners"),
    _l("Level"),
    _l("Unit"),
    _l("Scope areas"),
    _l("Signed on"),
    _l("Starts on"),
    _l("Ends on"),
    _l("Status"),
    _l("Responsible officer"),
)
EXTRA_PARTY_ROWS = 3
FILTER_ARGS = ("q", "kind", "status", "level", "scope_area_id", "partner_id", "year")


@bp.context_processor
def _registry_helpers() -> dict[str, Any]:
    """What every registry page needs: who may edit, today's date, codes in words."""
    return {
        "can_edit_registry": current_user.is_authenticated and current_user.has_role(*EDITORS),
        "registry_today": services.registry_today(),
        "kind_label": lambda value: AgreementKind(value).label,
        "level_label": lambda value: UnitLevel(value).label,
        "obligation_status_label": lambda value: ObligationStatus(value).label,
    }


# --- helpers --------------------------------------------------------------------------------


def _agreement_or_404(agreement_id: int, *options: Any) -> Agreement:
    """The agreement with this id (with the given loader options), else 404."""
    return db.first_or_404(select(Agreement).where(Agreement.id == agreement_id).options(*options))


def _list_options() -> tuple[Any, ...]:
    """Eager loading for lists: a fixed number of queries, never one per row."""
    return (
        selectinload(Agreement.parties).selectinload(AgreementParty.partner),
        selectinload(Agreement.scope_areas),
        selectinload(Agreement.responsible_officer),
    )


def _filter_form() -> AgreementFilterForm:
    """The list's filters read from the query string, with their choices."""
    form = AgreementFilterForm(request.args)
    form.use_choices(
        partners=services.partners_for_choice(),
        scope_areas=services.scope_areas_for_choice(include_inactive=True),
    )
    return form


def _filter_args() -> dict[str, str]:
    """The current filters as URL arguments (for exports and pagination)."""
    return {name: request.args[name] for name in FILTER_ARGS if request.args.get(name)}


def _prepare_agreement_form(form: AgreementForm, agreement: Agreement | None = None) -> None:
    """Fill an agreement form's choices and party rows (?parties=N, or more on request)."""
    scope_areas = services.scope_areas_for_choice()
    if agreement is not None:
        # An agreement keeps a retired scope area until someone unticks it.
        scope_areas += [area for area in agreement.scope_areas if not area.active]
    rows = request.args.get("parties", type=int) or DEFAULT_PARTY_ROWS
    if request.method == "GET":
        rows = max(rows, len(form.parties) + 1)
    if _wants_more_party_rows():
        rows = len(form.parties) + EXTRA_PARTY_ROWS
    form.use_choices(
        partners=services.partners_for_choice(),
        officers=services.responsible_officer_candidates(),
        scope_areas=scope_areas,
        rows=rows,
    )


def _wants_more_party_rows() -> bool:
    """Whether the form was sent with "More partner rows" (show it again, save nothing)."""
    return request.method == "POST" and "more_parties" in request.form


def history_lines(entry: AgreementHistory) -> list[tuple[str, str, str | None]]:
    """A history entry as (field, old, new) in words.

    new is None for a line that only states a value: something added, or unchanged context.
    """
    lines = []
    for name, values in (entry.changes or {}).items():
        old, new = [*values, None, None][:2] if isinstance(values, list) else (None, values)
        label = str(HISTORY_FIELDS.get(name, name))
        if old == new:
            lines.append((label, _history_value(name, old), None))
        elif old is None:
            lines.append((label, _history_value(name, new), None))
        else:
            lines.append((label, _history_value(name, old), _history_value(name, new)))
    return lines


def _history_value(name: str, value: Any) -> str:
    """One stored history value in the reader's language."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "; ".join(_history_value(name, item) for item in value)
    if isinstance(value, dict):
        return str(TranslatedText(value)) or "—"
    if name in HISTORY_ENUMS:
        try:
            return HISTORY_ENUMS[name](value).label
        except ValueError:
            return str(value)
    if name in HISTORY_DATES:
        try:
            return format_day(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    return str(value)


def _agreement_page(agreement_id: int, anchor: str | None = None) -> str:
    """The address of an agreement's page (at one of its sections)."""
    return url_for("agreements.show_agreement", agreement_id=agreement_id, _anchor=anchor)


def _run_button(
    form: Any, invalid: str, action: Callable[..., Any], *args: Any, **kwargs: Any
) -> bool:
    """Carry out a small form posted from the agreement page, which the answer redirects to.

    That page does not show the form again, so why it was refused is flashed instead:
    `invalid` when the input is not valid, else the service's reason.
    """
    if not form.validate_on_submit():
        flash(invalid, "error")
        return False
    done, _result = run_service(form, action, *args, **kwargs)
    if not done:
        for messages in form.errors.values():
            for message in messages:
                flash(str(message), "error")
    return done


# --- list, export ---------------------------------------------------------------------------


@bp.get("/")
@allow(*READERS)
def list_agreements():
    """The registry: search, filters, derived status badges, pages of agreements."""
    form = _filter_form()
    query = services.filter_agreements(**form.filters()).options(*_list_options())
    page = paginate(query)
    return render_template("agreements/list.html", page=page, form=form, filter_args=_filter_args())


def _export_rows() -> list[list[Any]]:
    """The current filtered list, one row per agreement, in the reader's language."""
    query = services.filter_agreements(**_filter_form().filters()).options(*_list_options())
    today = services.registry_today()
    rows = []
    for agreement in db.session.scalars(query):
        officer = agreement.responsible_officer
        rows.append(
            [
                agreement.reference_number,
                AgreementKind(agreement.kind).label,
                str(agreement.title),
                "; ".join(partner.display_name for partner in agreement.partners),
                UnitLevel(agreement.unit_level).label,
                agreement.unit_name,
                "; ".join(str(area.name) for area in agreement.scope_areas),
                agreement.signed_on,
                agreement.starts_on,
                agreement.ends_on,
                agreement.derived_status(today).label,
                officer.name if officer is not None else None,
            ]
        )
    return rows


def _export_filename() -> str:
    """agreements-YYYY-MM-DD: the registry on the day it was exported."""
    return f"agreements-{services.registry_today().isoformat()}"


@bp.get("/export.csv")
@allow(*READERS)
def export_csv():
    """The filtered list as CSV (UTF-8, opens in Excel)."""
    header = [str(title) for title in EXPORT_HEADER]
    return csv_response(_export_filename() + ".csv", header, _export_rows())


@bp.get("/export.xlsx")
@allow(*READERS)
def export_xlsx():
    """The filtered list as an Excel workbook."""
    header = [str(title) for title in EXPORT_HEADER]
    return xlsx_response(_export_filename() + ".xlsx", header, _export_rows())


# --- agreements -----------------------------------------------------------------------------


def _agreement_form_page(
    form: AgreementForm,
    save: Callable[[], Agreement],
    *,
    title: str,
    saved_message: str,
    agreement: Agreement | None = None,
    parent: Agreement | None = None,
):
    """Show an agreement form (new, edited or follow-up) and save it with `save` when sent."""
    _prepare_agreement_form(form, agreement)
    if not _wants_more_party_rows() and form.validate_on_submit():
        done, saved = run_service(form, save)
        if done:
            flash(saved_message, "success")
            return redirect(_agreement_page(saved.id))
    return render_template(
        "agreements/form.html", form=form, title=title, agreement=agreement, parent=parent
    )


def _initial_data(details: Callable[[], services.AgreementDetails]) -> dict[str, Any] | None:
    """A form's starting values on the first visit; a sent form keeps what was typed."""
    return AgreementForm.data_from(details()) if request.method == "GET" else None


@bp.route("/new", methods=["GET", "POST"])
@allow(*EDITORS)
def new_agreement():
    """Register an agreement with its parties and scope areas."""
    form = NewAgreementForm()
    return _agreement_form_page(
        form,
        lambda: services.create_agreement(
            form.details(), actor=current_user, status=form.status.data
        ),
        title=_("New agreement"),
        saved_message=_("Agreement registered."),
    )


@bp.get("/<int:agreement_id>")
@allow(*READERS)
def show_agreement(agreement_id: int):
    """Everything about one agreement, down to its history."""
    agreement = _agreement_or_404(
        agreement_id,
        selectinload(Agreement.parties).selectinload(AgreementParty.partner),
        selectinload(Agreement.scope_areas),
        selectinload(Agreement.obligations).selectinload(Obligation.partner),
        selectinload(Agreement.documents).selectinload(AgreementDocument.uploaded_by),
        selectinload(Agreement.evaluations).selectinload(Evaluation.ratings),
        selectinload(Agreement.history).selectinload(AgreementHistory.actor),
        selectinload(Agreement.changes),
    )
    today = services.registry_today()
    status_form = StatusForm()
    status_form.use_choices(services.allowed_next_statuses(agreement))
    obligation_forms = {
        obligation.id: ObligationStatusForm(
            prefix=f"obligation-{obligation.id}", data={"status": obligation.status}
        )
        for obligation in agreement.obligations
    }
    return render_template(
        "agreements/show.html",
        agreement=agreement,
        derived=agreement.derived_status(today),
        status_form=status_form,
        obligation_forms=obligation_forms,
        upload_form=DocumentUploadForm(),
        confirm_form=ConfirmForm(),
        next_due=services.next_evaluation_due(agreement),
        last_evaluated=services.last_evaluated_on(agreement),
        evaluation_overdue=services.evaluation_is_overdue(agreement, today),
        can_delete=services.can_delete_agreement(agreement),
        history_lines=history_lines,
        history_actions=HISTORY_ACTIONS,
        relation_labels=AGREEMENT_RELATION_LABELS,
    )


@bp.route("/<int:agreement_id>/edit", methods=["GET", "POST"])
@allow(*EDITORS)
def edit_agreement(agreement_id: int):
    """Change an agreement's details (its status changes separately)."""
    agreement = _agreement_or_404(agreement_id)
    form = AgreementForm(data=_initial_data(lambda: services.agreement_details(agreement)))
    return _agreement_form_page(
        form,
        lambda: services.update_agreement(agreement, form.details(), actor=current_user),
        title=_("Edit agreement"),
        saved_message=_("Agreement saved."),
        agreement=agreement,
    )


@bp.route("/<int:agreement_id>/follow-up/<relation>", methods=["GET", "POST"])
@allow(*EDITORS)
def follow_up(agreement_id: int, relation: str):
    """Register a renewal of, or an addendum to, an agreement, prefilled from it."""
    if relation not in {item.value for item in AgreementRelation}:
        abort(404)
    parent = _agreement_or_404(agreement_id)
    form = NewAgreementForm(
        data=_initial_data(lambda: services.follow_up_details(parent, relation))
    )
    title = (
        _("Renewal of “%(title)s”", title=parent.title)
        if relation == AgreementRelation.RENEWAL
        else _("Addendum to “%(title)s”", title=parent.title)
    )
    return _agreement_form_page(
        form,
        lambda: services.create_follow_up(
            parent, relation, form.details(), actor=current_user, status=form.status.data
        ),
        title=title,
        saved_message=_("Agreement registered."),
        parent=parent,
    )


@bp.post("/<int:agreement_id>/status")
@allow(*EDITORS)
def change_status(agreement_id: int):
    """Move an agreement to another status."""
    agreement = _agreement_or_404(agreement_id)
    form = StatusForm()
    form.use_choices(services.allowed_next_statuses(agreement))
    if _run_button(
        form,
        _("Choose one of the statuses offered."),
        services.change_status,
        agreement,
        form.status.data,
        actor=current_user,
    ):
        flash(
            _("Status changed to “%(status)s”.", status=AgreementStatus(agreement.status).label),
            "success",
        )
    return redirect(_agreement_page(agreement.id))


@bp.route("/<int:agreement_id>/delete", methods=["GET", "POST"])
@allow(*EDITORS)
def delete_agreement(agreement_id: int):
    """Ask for confirmation, then delete a draft registered by mistake (documents too)."""
    agreement = _agreement_or_404(agreement_id)
    if not services.can_delete_agreement(agreement):
        flash(str(services.DRAFTS_ONLY_DELETED), "error")
        return redirect(_agreement_page(agreement.id))
    form = ConfirmForm()
    if form.validate_on_submit():
        title = str(agreement.title)
        done, _result = run_service(form, services.delete_agreement, agreement, actor=current_user)
        if done:
            flash(_("The draft “%(title)s” was deleted.", title=title), "success")
            return redirect(url_for("agreements.list_agreements"))
    return render_template("agreements/delete_agreement.html", form=form, agreement=agreement)


# --- obligations ----------------------------------------------------------------------------


def _obligation_or_404(agreement_id: int, obligation_id: int) -> Obligation:
    """An obligation of this agreement, else 404."""
    return db.first_or_404(
        select(Obligation).where(
            Obligation.id == obligation_id, Obligation.agreement_id == agreement_id
        )
    )


@bp.route("/<int:agreement_id>/obligations/new", methods=["GET", "POST"])
@allow(*EDITORS)
def new_obligation(agreement_id: int):
    """Add a deliverable owed by Ditjenpas or one of the partners."""
    agreement = _agreement_or_404(
        agreement_id, selectinload(Agreement.parties).selectinload(AgreementParty.partner)
    )
    form = ObligationForm()
    form.use_choices(agreement.partners)
    if form.validate_on_submit():
        done, _result = run_service(
            form,
            services.add_obligation,
            agreement,
            partner_id=form.partner_id.data,
            description=form.description.data,
            due_on=form.due_on.data,
            status=form.status.data,
            actor=current_user,
        )
        if done:
            flash(_("Obligation added."), "success")
            return redirect(_agreement_page(agreement.id, "obligations"))
    return render_template("agreements/obligation_form.html", form=form, agreement=agreement)


@bp.post("/<int:agreement_id>/obligations/<int:obligation_id>/status")
@allow(*EDITORS)
def update_obligation(agreement_id: int, obligation_id: int):
    """Record progress on an obligation."""
    obligation = _obligation_or_404(agreement_id, obligation_id)
    form = ObligationStatusForm(prefix=f"obligation-{obligation.id}")
    if _run_button(
        form,
        _("Choose one of the statuses offered."),
        services.set_obligation_status,
        obligation,
        form.status.data,
        actor=current_user,
    ):
        flash(_("Obligation updated."), "success")
    return redirect(_agreement_page(agreement_id, "obligations"))


@bp.post("/<int:agreement_id>/obligations/<int:obligation_id>/delete")
@allow(*EDITORS)
def delete_obligation(agreement_id: int, obligation_id: int):
    """Remove an obligation entered by mistake (one already rated is cancelled instead)."""
    obligation = _obligation_or_404(agreement_id, obligation_id)
    if _run_button(
        ConfirmForm(),
        _("The form expired. Please submit it again."),
        services.remove_obligation,
        obligation,
        actor=current_user,
    ):
        flash(_("Obligation removed."), "success")
    return redirect(_agreement_page(agreement_id, "obligations"))


# --- documents ------------------------------------------------------------------------------


def _document_or_404(agreement_id: int, document_id: int) -> AgreementDocument:
    """A document of this agreement, else 404."""
    return db.first_or_404(
        select(AgreementDocument).where(
            AgreementDocument.id == document_id, AgreementDocument.agreement_id == agreement_id
        )
    )


@bp.route("/<int:agreement_id>/documents/new", methods=["GET", "POST"])
@allow(*EDITORS)
def upload_document(agreement_id: int):
    """Upload a signed agreement (or its scan) as a PDF."""
    agreement = _agreement_or_404(agreement_id)
    form = DocumentUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        # Read one byte past the limit: enough to know a file is too large.
        data = upload.stream.read(storage.max_document_bytes() + 1)
        done, document = run_service(
            form,
            services.upload_document,
            agreement,
            filename=upload.filename,
            data=data,
            actor=current_user,
        )
        if done:
            flash(_("Document “%(name)s” uploaded.", name=document.original_filename), "success")
            return redirect(_agreement_page(agreement.id, "documents"))
    return render_template(
        "agreements/upload_document.html",
        form=form,
        agreement=agreement,
        max_megabytes=f"{storage.max_document_bytes() / (1024 * 1024):g}",
    )


@bp.get("/<int:agreement_id>/documents/<int:document_id>")
@allow(*READERS)
def download_document(agreement_id: int, document_id: int):
    """Download a stored document (only the registry's readers get here)."""
    document = _document_or_404(agreement_id, document_id)
    path = storage.path_for(document.stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(
        path,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=document.original_filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<int:agreement_id>/documents/<int:document_id>/delete", methods=["GET", "POST"])
@allow(*EDITORS)
def delete_document(agreement_id: int, document_id: int):
    """Ask for confirmation, then delete a document and its file."""
    document = _document_or_404(agreement_id, document_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = document.original_filename
        done, _result = run_service(form, services.delete_document, document, actor=current_user)
        if done:
            flash(_("Document “%(name)s” deleted.", name=name), "success")
            return redirect(_agreement_page(agreement_id, "documents"))
    return render_template("agreements/delete_document.html", form=form, document=document)


# --- evaluations ----------------------------------------------------------------------------


@bp.route("/<int:agreement_id>/evaluations/new", methods=["GET", "POST"])
@allow(*EDITORS)
def new_evaluation(agreement_id: int):
    """Record a periodic evaluation of an agreement."""
    agreement = _agreement_or_404(
        agreement_id,
        selectinload(Agreement.obligations).selectinload(Obligation.partner),
        selectinload(Agreement.evaluations),
    )
    defaults = {"evaluated_on": services.registry_today(), "evaluator_name": current_user.name}
    form = evaluation_form(
        agreement.obligations, data=defaults if request.method == "GET" else None
    )
    if form.validate_on_submit():
        done, _result = run_service(
            form,
            services.record_evaluation,
            agreement,
            evaluated_on=form.evaluated_on.data,
            evaluator_name=form.evaluator_name.data,
            overall_rating=form.overall_rating.data,
            obligation_ratings=form.obligation_ratings(),
            findings=form.findings.data,
            follow_up=form.follow_up.data,
            actor=current_user,
        )
        if done:
            flash(_("Evaluation recorded."), "success")
            return redirect(_agreement_page(agreement.id, "evaluations"))
    return render_template(
        "agreements/evaluation_form.html",
        form=form,
        agreement=agreement,
        next_due=services.next_evaluation_due(agreement),
    )


@bp.get("/evaluations/overdue")
@allow(*READERS)
def overdue_evaluations():
    """Agreements in force whose periodic evaluation is due or overdue."""
    today = services.registry_today()
    query = services.evaluations_due_by(today).options(
        *_list_options(), selectinload(Agreement.evaluations)
    )
    page = paginate(query)
    return render_template(
        "agreements/overdue.html",
        page=page,
        next_due=services.next_evaluation_due,
        last_evaluated=services.last_evaluated_on,
    )


# --- scope areas ----------------------------------------------------------------------------


@bp.get("/scope-areas/")
@allow(*READERS)
def list_scope_areas():
    """The managed list of scope areas, retired ones included."""
    return render_template(
        "agreements/scope_areas.html",
        areas=services.scope_areas_for_choice(include_inactive=True),
    )


@bp.route("/scope-areas/new", methods=["GET", "POST"])
@allow(*EDITORS)
def new_scope_area():
    """Add a scope area."""
    form = ScopeAreaForm()
    if form.validate_on_submit():
        done, area = run_service(
            form, services.create_scope_area, form.name.data, actor=current_user
        )
        if done:
            flash(_("Scope area “%(name)s” added.", name=area.name), "success")
            return redirect(url_for("agreements.list_scope_areas"))
    return render_template("agreements/scope_area_form.html", form=form, area=None)


@bp.route("/scope-areas/<int:area_id>/edit", methods=["GET", "POST"])
@allow(*EDITORS)
def edit_scope_area(area_id: int):
    """Rename a scope area or retire it."""
    area = db.get_or_404(ScopeArea, area_id)
    form = ScopeAreaForm(obj=area if request.method == "GET" else None)
    if form.validate_on_submit():
        done, _result = run_service(
            form,
            services.update_scope_area,
            area,
            name=form.name.data,
            active=form.active.data,
            actor=current_user,
        )
        if done:
            flash(_("Scope area “%(name)s” saved.", name=area.name), "success")
            return redirect(url_for("agreements.list_scope_areas"))
    return render_template("agreements/scope_area_form.html", form=form, area=area)


# --- the partner page's section -------------------------------------------------------------

PARTNER_GROUPS = (
    ("active", _l("Active"), {DerivedStatus.ACTIVE}),
    ("expiring", _l("Expiring soon"), {DerivedStatus.EXPIRING}),
    ("preparing", _l("In preparation"), {DerivedStatus.DRAFT, DerivedStatus.IN_NEGOTIATION}),
    ("past", _l("Past"), {DerivedStatus.EXPIRED, DerivedStatus.TERMINATED}),
)


def render_partner_agreements(partner: Partner) -> Markup:
    """The partner page's list of its agreements: active, expiring, in preparation, past."""
    if not (current_user.is_authenticated and current_user.has_role(*READERS)):
        return Markup("")
    today = services.registry_today()
    agreements = services.agreements_of_partner(partner.id)
    groups = [
        (key, label, [a for a in agreements if a.derived_status(today) in statuses])
        for key, label, statuses in PARTNER_GROUPS
    ]
    html = render_template(
        "agreements/_partner_agreements.html",
        partner=partner,
        groups=groups,
        total=len(agreements),
        today=today,
        can_edit_registry=current_user.has_role(*EDITORS),
    )
    # render_template's output is autoescaped HTML.
    return Markup(html)  # noqa: S704


@bp.record_once
def _register_partner_panel(state: BlueprintSetupState) -> None:
    """Show each partner's agreements on its page."""
    register_partner_panel(state.app, render_partner_agreements)
