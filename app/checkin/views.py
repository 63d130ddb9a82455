"""Organiser pages of check-in: checkpoints and their gate staff, gate devices, the scan log,
offline conflicts and live attendance. (The scanner page and the API attach to the same
blueprint from scanner_views.py and api.py.)"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.access import allow
from app.auth.models import Role
from app.badges.models import BadgeRole
from app.checkin import attendance, services
from app.checkin.forms import (
    RESULT_LABELS,
    CheckpointForm,
    DeleteCheckpointForm,
    DeviceForm,
    RevokeDeviceForm,
    ScanFilterForm,
    checkpoint_choices,
)
from app.checkin.models import Checkpoint, CheckpointKind, EntryMode, GateDevice, ScanResult
from app.errors import DomainError
from app.events.models import Event
from app.events.services import current_event
from app.extensions import db
from app.pagination import paginate
from app.web import run_service

bp = Blueprint("checkin", __name__, template_folder="templates")

ORGANISERS = (Role.ORGANISER, Role.ADMIN)
# The organisers' check-in pages, for the section menu.
CHECKIN_PAGES = (
    ("checkin.live_attendance", _l("Live attendance")),
    ("checkin.list_checkpoints", _l("Checkpoints")),
    ("checkin.list_devices", _l("Gate devices")),
    ("checkin.scan_log", _l("Scan log")),
    ("checkin.list_conflicts", _l("Offline conflicts")),
)
RESULT_TONES = {
    ScanResult.ADMITTED.value: "badge-ok",
    ScanResult.ALREADY_ADMITTED.value: "badge-warn",
    ScanResult.NOT_ALLOWED.value: "badge-warn",
    ScanResult.REVOKED.value: "badge-bad",
    ScanResult.INVALID.value: "badge-bad",
}


@bp.context_processor
def _checkin_helpers() -> dict[str, Any]:
    """What the check-in templates need besides their own context."""
    return {
        "checkin_pages": CHECKIN_PAGES,
        "scan_result_label": _result_label,
        "checkpoint_kind_label": lambda value: _enum_label(CheckpointKind, value),
        "entry_mode_label": lambda value: _enum_label(EntryMode, value),
        "badge_role_label": lambda value: _enum_label(BadgeRole, value),
    }


def _enum_label(enum_cls: type, value: str) -> str:
    """A stored enumeration value's name in the current language (the value if unknown)."""
    try:
        return enum_cls(value).label
    except ValueError:
        return value


def _result_label(result: str | None) -> str:
    """A scan result's name in the current language."""
    if result is None:
        return ""
    try:
        return str(RESULT_LABELS[ScanResult(result)])
    except ValueError:
        return result


def _event_or_404() -> Event:
    """The congress whose check-in is managed."""
    event = current_event()
    if event is None:
        abort(404)
    return event


def _checkpoint_or_404(checkpoint_id: int, event: Event) -> Checkpoint:
    """The event's checkpoint with this id (404 for another event's)."""
    checkpoint = db.session.get(Checkpoint, checkpoint_id)
    if checkpoint is None or checkpoint.event_id != event.id:
        abort(404)
    return checkpoint


# --- live attendance ------------------------------------------------------------------------


@bp.get("/organiser/checkin/live")
@allow(*ORGANISERS)
def live_attendance():
    """Today's attendance, refreshing itself every 15 seconds."""
    event = _event_or_404()
    return render_template(
        "checkin/organiser/live.html",
        figures=attendance.live_attendance(event),
        result_tones=RESULT_TONES,
    )


@bp.get("/organiser/checkin/live.json")
@allow(*ORGANISERS)
def live_attendance_json():
    """The live attendance figures as JSON, for the page's script."""
    event = _event_or_404()
    response = jsonify(attendance.live_attendance(event))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- checkpoints ----------------------------------------------------------------------------


@bp.get("/organiser/checkin/checkpoints/")
@allow(*ORGANISERS)
def list_checkpoints():
    """The event's checkpoints, their rules and staff."""
    event = _event_or_404()
    return render_template(
        "checkin/organiser/checkpoints.html", checkpoints=services.checkpoints(event)
    )


def _checkpoint_page(
    form: CheckpointForm,
    checkpoint: Checkpoint | None,
    delete_form: DeleteCheckpointForm | None = None,
):
    """The new/edit checkpoint page."""
    return render_template(
        "checkin/organiser/checkpoint_form.html",
        form=form,
        checkpoint=checkpoint,
        delete_form=delete_form or DeleteCheckpointForm(formdata=None),
    )


def _checkpoint_form(event: Event, **kwargs: Any) -> CheckpointForm:
    """The checkpoint form with the event's sessions and the gate staff offered."""
    form = CheckpointForm(**kwargs)
    form.set_choices(services.door_sessions(event), services.gate_staff_users())
    return form


@bp.route("/organiser/checkin/checkpoints/new", methods=["GET", "POST"])
@allow(*ORGANISERS)
def new_checkpoint():
    """Add a checkpoint."""
    event = _event_or_404()
    form = _checkpoint_form(event)
    if form.validate_on_submit():
        done, checkpoint = run_service(
            form, services.create_checkpoint, event, form.details(), actor=current_user
        )
        if done:
            flash(_("Checkpoint “%(name)s” added.", name=checkpoint.name), "success")
            return redirect(url_for("checkin.list_checkpoints"))
    return _checkpoint_page(form, None)


@bp.route("/organiser/checkin/checkpoints/<int:checkpoint_id>/edit", methods=["GET", "POST"])
@allow(*ORGANISERS)
def edit_checkpoint(checkpoint_id: int):
    """Change a checkpoint, its rules and its gate staff."""
    event = _event_or_404()
    checkpoint = _checkpoint_or_404(checkpoint_id, event)
    form = _checkpoint_form(event)
    if request.method == "GET":
        form.fill(checkpoint)
    if form.validate_on_submit():
        done, _result = run_service(
            form, services.update_checkpoint, checkpoint, form.details(), actor=current_user
        )
        if done:
            flash(_("Checkpoint “%(name)s” saved.", name=checkpoint.name), "success")
            return redirect(url_for("checkin.list_checkpoints"))
    return _checkpoint_page(form, checkpoint)


@bp.post("/organiser/checkin/checkpoints/<int:checkpoint_id>/delete")
@allow(*ORGANISERS)
def delete_checkpoint(checkpoint_id: int):
    """Delete a checkpoint once the box is ticked; refused once badges were scanned there."""
    event = _event_or_404()
    checkpoint = _checkpoint_or_404(checkpoint_id, event)
    form = DeleteCheckpointForm()
    name = str(checkpoint.name)
    if form.validate():
        done, _result = run_service(
            form, services.delete_checkpoint, checkpoint, actor=current_user
        )
        if done:
            flash(_("Checkpoint “%(name)s” deleted.", name=name), "success")
            return redirect(url_for("checkin.list_checkpoints"))
    edit_form = _checkpoint_form(event, formdata=None)
    edit_form.fill(checkpoint)
    return _checkpoint_page(edit_form, checkpoint, form), 422


# --- gate devices ---------------------------------------------------------------------------


@bp.get("/organiser/checkin/devices/")
@allow(*ORGANISERS)
def list_devices():
    """The scanner devices, their checkpoint, when last seen; revoked ones last."""
    event = _event_or_404()
    return render_template(
        "checkin/organiser/devices.html",
        devices=services.devices(event),
        revoke_form=RevokeDeviceForm(),
    )


@bp.route("/organiser/checkin/devices/new", methods=["GET", "POST"])
@allow(*ORGANISERS)
def issue_device():
    """Issue a device token; the page that answers shows it once and never again."""
    event = _event_or_404()
    form = DeviceForm()
    form.checkpoint_id.choices = checkpoint_choices(
        services.checkpoints(event), _l("Any checkpoint")
    )
    if form.validate_on_submit():
        checkpoint = None
        if form.checkpoint_id.data is not None:
            checkpoint = _checkpoint_or_404(form.checkpoint_id.data, event)
        done, issued = run_service(
            form,
            services.issue_device,
            event,
            form.name.data,
            checkpoint=checkpoint,
            actor=current_user,
        )
        if done:
            device, token = issued
            response = render_template(
                "checkin/organiser/device_issued.html", device=device, token=token
            )
            # The token must not stay in any cache: it is shown this once.
            return response, 200, {"Cache-Control": "no-store"}
    return render_template("checkin/organiser/device_form.html", form=form)


@bp.post("/organiser/checkin/devices/<int:device_id>/revoke")
@allow(*ORGANISERS)
def revoke_device(device_id: int):
    """Revoke a device's token: its next request is refused."""
    event = _event_or_404()
    device = db.session.get(GateDevice, device_id)
    if device is None or device.event_id != event.id:
        abort(404)
    form = RevokeDeviceForm()
    if not form.validate():
        flash(_("The form expired. Please submit it again."), "error")
        return redirect(url_for("checkin.list_devices"))
    try:
        services.revoke_device(device, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("checkin.list_devices"))
    db.session.commit()
    flash(_("The device “%(name)s” can no longer scan.", name=device.name), "success")
    return redirect(url_for("checkin.list_devices"))


# --- the scan log and conflicts -------------------------------------------------------------


@bp.get("/organiser/checkin/scans")
@allow(*ORGANISERS)
def scan_log():
    """Every scan, refused ones included, newest first; filtered by checkpoint and result."""
    event = _event_or_404()
    form = ScanFilterForm(request.args)
    form.checkpoint.choices = checkpoint_choices(services.checkpoints(event), _l("All checkpoints"))
    filters = form.filters()
    page = paginate(services.scan_log_query(event, **filters), per_page=50)
    return render_template(
        "checkin/organiser/scans.html",
        form=form,
        page=page,
        filtered=any(value is not None for value in filters.values()),
        user_names=services.scan_user_names(page.items),
        result_tones=RESULT_TONES,
        reasons=services.REASON_MESSAGES,
    )


@bp.get("/organiser/checkin/conflicts")
@allow(*ORGANISERS)
def list_conflicts():
    """Badges an offline scanner admitted after another gate had admitted them."""
    event = _event_or_404()
    found = services.conflicts(event)
    scans = [conflict.scan for conflict in found] + [
        conflict.admission.scan for conflict in found if conflict.admission is not None
    ]
    return render_template(
        "checkin/organiser/conflicts.html",
        conflicts=found,
        user_names=services.scan_user_names(scans),
        result_tones=RESULT_TONES,
    )
