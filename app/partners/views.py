"""Partner organisations: list, search, create, edit, delete, contacts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth.access import allow
from app.auth.models import Role
from app.extensions import db
from app.i18n.formatting import country_name
from app.pagination import paginate
from app.partners import services
from app.partners.forms import ContactForm, DeletePartnerForm, PartnerFilterForm, PartnerForm
from app.partners.models import Contact, Partner
from app.partners.panels import partner_panels
from app.web import show_domain_error

bp = Blueprint("partners", __name__, url_prefix="/partners", template_folder="templates")

READERS = (Role.ADMIN, Role.ORGANISER, Role.REGISTRY_OFFICER)
EDITORS = (Role.ADMIN, Role.REGISTRY_OFFICER)
PARTNERS_PER_PAGE = 25

PARTNER_FIELDS = ("name", "acronym", "kind", "country", "address", "website", "notes")
CONTACT_FIELDS = ("name", "position", "email", "phone")


def _form_values(form: PartnerForm | ContactForm, names: tuple[str, ...]) -> dict[str, str]:
    """The named fields' submitted values, as keyword arguments for a service."""
    return {name: getattr(form, name).data for name in names}


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


def _unconfirmed_similar_partners(form: PartnerForm) -> list[Partner]:
    """Partners resembling the new one, unless the user saw them already and chose to go on."""
    # A true duplicate is refused at once, before any "similar names" question.
    services.check_not_duplicate(form.name.data, form.country.data)
    if form.confirmed_name.data == form.name.data:
        return []
    # Remember what the warning is about: the same name sent again means "create anyway".
    form.confirmed_name.data = form.name.data
    return services.similar_partners(form.name.data, acronym=form.acronym.data)


@bp.route("/new", methods=["GET", "POST"])
@allow(*EDITORS)
def create_partner():
    """Register a partner, after a warning when its name resembles an existing one."""
    form = PartnerForm()
    similar: list[Partner] = []
    if form.validate_on_submit():
        try:
            similar = _unconfirmed_similar_partners(form)
            partner = (
                None
                if similar
                else services.create_partner(
                    **_form_values(form, PARTNER_FIELDS), actor=current_user
                )
            )
        except services.PartnerError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            if partner is not None:
                db.session.commit()
                flash(_("Partner %(name)s created.", name=partner.name), "success")
                return redirect(url_for("partners.show_partner", partner_id=partner.id))
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
    status: int = 200,
):
    """The partner page, with its contact and delete forms (fresh or with errors)."""
    return (
        render_template(
            "partners/show.html",
            partner=partner,
            panels=partner_panels(partner),
            can_edit=_can_edit(),
            contact_form=contact_form or ContactForm(formdata=None),
            delete_form=delete_form or DeletePartnerForm(formdata=None),
        ),
        status,
    )


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
        try:
            services.update_partner(
                partner, **_form_values(form, PARTNER_FIELDS), actor=current_user
            )
        except services.PartnerError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Partner %(name)s saved.", name=partner.name), "success")
            return redirect(url_for("partners.show_partner", partner_id=partner.id))
    return render_template("partners/form.html", form=form, partner=partner, similar=[])


@bp.post("/<int:partner_id>/delete")
@allow(*EDITORS)
def delete_partner(partner_id: int):
    """Delete a partner once the box is ticked; refused while agreements name it."""
    partner = db.get_or_404(Partner, partner_id)
    form = DeletePartnerForm()
    if not form.validate():
        return _render_partner(partner, delete_form=form, status=200)
    name = partner.name
    try:
        services.delete_partner(partner, actor=current_user)
    except services.PartnerError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("partners.show_partner", partner_id=partner_id))
    db.session.commit()
    flash(_("Partner %(name)s deleted.", name=name), "success")
    return redirect(url_for("partners.list_partners"))


@bp.post("/<int:partner_id>/contacts")
@allow(*EDITORS)
def add_contact(partner_id: int):
    """Add a contact person to a partner."""
    partner = db.get_or_404(Partner, partner_id)
    form = ContactForm()
    if form.validate():
        try:
            contact = services.add_contact(
                partner, **_form_values(form, CONTACT_FIELDS), actor=current_user
            )
        except services.PartnerError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            db.session.commit()
            flash(_("Contact %(name)s added.", name=contact.name), "success")
            return redirect(url_for("partners.show_partner", partner_id=partner_id) + "#contacts")
    return _render_partner(partner, contact_form=form, status=200)


@bp.route("/<int:partner_id>/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@allow(*EDITORS)
def edit_contact(partner_id: int, contact_id: int):
    """Change a contact's details."""
    contact = _contact_or_404(partner_id, contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            services.update_contact(
                contact, **_form_values(form, CONTACT_FIELDS), actor=current_user
            )
        except services.PartnerError as error:
            db.session.rollback()
            show_domain_error(form, error)
        else:
            db.session.commit()
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
