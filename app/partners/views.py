"""Partner organisations: list, search, create, edit, delete, contacts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.audit.actions import register_action_labels
from app.auth.access import allow
from app.auth.models import Role
from app.extensions import db
from app.i18n.formatting import country_name
from app.pagination import paginate
from app.partners import services
from app.partners.forms import ContactForm, DeletePartnerForm, PartnerFilterForm, PartnerForm
from app.partners.models import Contact, Partner, PartnerHistory, PartnerKind
from app.partners.panels import partner_panels
from app.web import run_service

bp = Blueprint("partners", __name__, url_prefix="/partners", template_folder="templates")

READERS = (Role.ADMIN, Role.ORGANISER, Role.REGISTRY_OFFICER)
EDITORS = (Role.ADMIN, Role.REGISTRY_OFFICER)
PARTNERS_PER_PAGE = 25

# How many history entries the partner page shows, newest first.
HISTORY_SHOWN = 20
HISTORY_ACTIONS = {
    "created": _l("Partner registered"),
    "updated": _l("Details changed"),
    "deleted": _l("Partner deleted"),
    "contact_added": _l("Contact added"),
    "contact_updated": _l("Contact changed"),
    "contact_removed": _l("Contact removed"),
}
register_action_labels("partners", HISTORY_ACTIONS)
HISTORY_FIELDS = {
    "name": _l("Name of the organisation"),
    "acronym": _l("Acronym"),
    "kind": _l("Kind of organisation"),
    "country": _l("Country"),
    "address": _l("Address"),
    "website": _l("Website"),
    "notes": _l("Notes"),
    "contacts": _l("Contacts"),
    "contact": _l("Contact"),
    "position": _l("Position"),
    "email": _l("Email"),
    "phone": _l("Telephone"),
}


def _can_edit() -> bool:
    """Whether the current user may change partners (organisers only read)."""
    return current_user.has_role(*EDITORS)


def _contact_or_404(partner_id: int, contact_id: int) -> Contact:
    """The contact, when it exists and belongs to this partner."""
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.partner_id != partner_id:
        abort(404)
    return contact


@bp.get("/")
@allow(*READERS)
def list_partners():
    """Search and filter partners, a page at a time, with their contact counts."""
    form = PartnerFilterForm(formdata=request.args)
    countries = sorted(
        (SelectChoice(code, country_name(code)) for code in services.countries_in_use()),
        key=lambda choice: choice.label.casefold(),
    )
    form.country.choices = [SelectChoice("", _l("All countries")), *countries]
    form.validate()
    # A junk filter value in the address is ignored rather than answered with an error page.
    query = services.search_partners(
        form.q.data if not form.q.errors else None,
        form.kind.data if not form.kind.errors else None,
        form.country.data if not form.country.errors else None,
    )
    page = paginate(query, per_page=PARTNERS_PER_PAGE)
    counts = services.contact_counts([partner.id for partner in page.items])
    filtered = any(request.args.get(name) for name in ("q", "kind", "country"))
    return render_template(
        "partners/list.html",
        form=form,
        page=page,
        counts=counts,
        filtered=filtered,
        can_edit=_can_edit(),
    )


def _create_keeping_similar(similar: list[services.SimilarPartner], form: PartnerForm) -> Partner:
    """Create the partner from the form; a similar-names refusal leaves its matches in similar."""
    try:
        return services.create_partner(
            form.details(), actor=current_user, confirmed_similar=form.similar_names_confirmed()
        )
    except services.SimilarNamesError as error:
        similar.extend(error.matches)
        raise


@bp.route("/new", methods=["GET", "POST"])
@allow(*EDITORS)
def create_partner():
    """Register a partner, after a warning when its name resembles an existing one."""
    form = PartnerForm()
    similar: list[services.SimilarPartner] = []
    if form.validate_on_submit():
        created, partner = run_service(form, _create_keeping_similar, similar, form)
        if created:
            flash(_("Partner %(name)s created.", name=partner.name), "success")
            return redirect(url_for("partners.show_partner", partner_id=partner.id))
        if similar:
            # Remember what the warning is about: the same name sent again means "create anyway".
            form.confirmed_name.data = form.name.data
    return render_template("partners/form.html", form=form, partner=None, similar=similar)


@bp.get("/similar")
@allow(*READERS)
def similar_partners_json():
    """Partners whose names resemble ?name=, for the warning shown while typing."""
    name = request.args.get("name", "")[: services.NAME_MAX]
    exclude_id = request.args.get("exclude", type=int)
    partners = services.similar_partners(
        name, exclude_id, acronym=request.args.get("acronym", "")[: services.ACRONYM_MAX]
    )
    return jsonify(
        [
            {
                "id": partner.id,
                "name": partner.name,
                "acronym": partner.acronym,
                "country": partner.country,
                "country_name": country_name(partner.country),
                "url": url_for("partners.show_partner", partner_id=partner.id),
            }
            for partner in partners
        ]
    )


def _render_partner(
    partner: Partner,
    contact_form: ContactForm | None = None,
    delete_form: DeletePartnerForm | None = None,
):
    """The partner page, with its contact and delete forms (fresh or with errors)."""
    return render_template(
        "partners/show.html",
        partner=partner,
        panels=partner_panels(partner),
        history=services.partner_history(partner.id, HISTORY_SHOWN),
        history_shown=HISTORY_SHOWN,
        history_actions=HISTORY_ACTIONS,
        history_lines=history_lines,
        can_edit=_can_edit(),
        contact_form=contact_form or ContactForm(formdata=None),
        delete_form=delete_form or DeletePartnerForm(formdata=None),
    )


def history_lines(entry: PartnerHistory) -> list[tuple[str, str, str | None]]:
    """A history entry as (field, old, new) in words; new is None for a line stating one value."""
    lines = []
    for name, (old, new) in (entry.changes or {}).items():
        label = str(HISTORY_FIELDS.get(name, name))
        if old == new or old is None:
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
    if name == "kind" and value in set(PartnerKind):
        return PartnerKind(value).label
    if name == "country":
        return country_name(value)
    return str(value)


@bp.get("/<int:partner_id>")
@allow(*READERS)
def show_partner(partner_id: int):
    """A partner's details, contacts and the sections other domains add (agreements, ...)."""
    return _render_partner(db.get_or_404(Partner, partner_id))


@bp.route("/<int:partner_id>/edit", methods=["GET", "POST"])
@allow(*EDITORS)
def edit_partner(partner_id: int):
    """Change a partner's details."""
    partner = db.get_or_404(Partner, partner_id)
    form = PartnerForm(obj=partner)
    if form.validate_on_submit():
        saved, _result = run_service(
            form, services.update_partner, partner, form.details(), actor=current_user
        )
        if saved:
            flash(_("Partner %(name)s saved.", name=partner.name), "success")
            return redirect(url_for("partners.show_partner", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=partner, similar=[])


@bp.post("/<int:partner_id>/delete")
@allow(*EDITORS)
def delete_partner(partner_id: int):
    """Delete a partner once the box is ticked; refused while agreements name it."""
    partner = db.get_or_404(Partner, partner_id)
    form = DeletePartnerForm()
    name = partner.name
    if form.validate():
        deleted, _result = run_service(form, services.delete_partner, partner, actor=current_user)
        if deleted:
            flash(_("Partner %(name)s deleted.", name=name), "success")
            return redirect(url_for("partners.list_partners"))
    return _render_partner(partner, delete_form=form)


@bp.post("/<int:partner_id>/contacts")
@allow(*EDITORS)
def add_contact(partner_id: int):
    """Add a contact person to a partner."""
    partner = db.get_or_404(Partner, partner_id)
    form = ContactForm()
    if form.validate():
        added, contact = run_service(
            form, services.add_contact, partner, form.details(), actor=current_user
        )
        if added:
            flash(_("Contact %(name)s added.", name=contact.name), "success")
            return redirect(url_for("partners.show_partner", partner_id=partner_id) + "#contacts")
    return _render_partner(partner, contact_form=form)


@bp.route("/<int:partner_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@allow(*EDITORS)
def edit_contact(partner_id: int, contact_id: int):
    """Change a contact's details."""
    contact = _contact_or_404(partner_id, contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        saved, _result = run_service(
            form, services.update_contact, contact, form.details(), actor=current_user
        )
        if saved:
            flash(_("Contact %(name)s saved.", name=contact.name), "success")
            return redirect(url_for("partners.show_partner", partner_id=partner_id) + "#contacts")
    return render_template("partners/contact_form.html", form=form, contact=contact)


@bp.post("/<int:partner_id>/contacts/<int:contact_id>/delete")
@allow(*EDITORS)
def delete_contact(partner_id: int, contact_id: int):
    """Remove a contact from a partner."""
    contact = _contact_or_404(partner_id, contact_id)
    name = contact.name
    services.remove_contact(contact, actor=current_user)
    db.session.commit()
    flash(_("Contact %(name)s removed.", name=name), "success")
    return redirect(url_for("partners.show_partner", partner_id=partner_id) + "#contacts")
