"""Forms of the organisers' check-in pages: checkpoints, gate devices, the scan log's filters."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.auth.models import User
from app.badges.models import BADGE_ROLE_LABELS
from app.checkin.models import (
    CHECKPOINT_KIND_LABELS,
    ENTRY_MODE_LABELS,
    Checkpoint,
    CheckpointKind,
    EntryMode,
    ScanResult,
)
from app.checkin.services import MAX_CHECKPOINT_CODE, MAX_DEVICE_NAME, CheckpointDetails
from app.forms import KongresForm, MultiCheckboxField, optional_int
from app.i18n.fields import InAnyLanguage, TranslatedTextField
from app.i18n.formatting import format_event_datetime
from app.programme.models import ProgrammeSession

TOO_LONG = _l("Use at most %(max)d characters.")
RESULT_LABELS = {
    ScanResult.ADMITTED: _l("Admitted"),
    ScanResult.ALREADY_ADMITTED: _l("Already admitted"),
    ScanResult.REVOKED: _l("Revoked"),
    ScanResult.INVALID: _l("Invalid"),
    ScanResult.NOT_ALLOWED: _l("Not allowed"),
}


def session_choices(sessions: Iterable[ProgrammeSession]) -> list[SelectChoice]:
    """The programme's sessions as choices for a door, after "no session"."""
    choices = [SelectChoice("", _l("No session (not a session door)"))]
    for session in sessions:
        when = format_event_datetime(session.starts_at, "short") if session.starts_at else ""
        label = f"{session.title} · {when}" if when else str(session.title)
        choices.append(SelectChoice(session.id, label))
    return choices


def checkpoint_choices(checkpoints: Iterable[Checkpoint], empty_label: Any) -> list[SelectChoice]:
    """The event's checkpoints as choices, after an empty choice."""
    return [
        SelectChoice("", empty_label),
        *(SelectChoice(cp.id, f"{cp.name} ({cp.code})") for cp in checkpoints),
    ]


class CheckpointForm(KongresForm):
    """A door where badges are scanned, its rules and its gate staff."""

    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(message=_l("Enter a short code, e.g. entrance.")),
            Length(max=MAX_CHECKPOINT_CODE, message=TOO_LONG),
        ],
        description=_l(
            "What scanners name the checkpoint by: lower-case letters, digits and hyphens."
        ),
    )
    name = TranslatedTextField(_l("Name"), [InAnyLanguage()], max_length=120)
    kind = SelectField(
        _l("Kind"),
        choices=[SelectChoice(kind.value, label) for kind, label in CHECKPOINT_KIND_LABELS.items()],
        default=CheckpointKind.ENTRANCE.value,
    )
    session_id = SelectField(
        _l("Session"),
        coerce=optional_int,
        choices=[],
        validators=[Optional()],
        description=_l("For a session door: the session it leads to."),
    )
    entry_mode = SelectField(
        _l("Entry"),
        choices=[SelectChoice(mode.value, label) for mode, label in ENTRY_MODE_LABELS.items()],
        default=EntryMode.ONCE_PER_DAY.value,
        description=_l(
            "Once per day: a second scan the same day answers “already admitted”. "
            "Every entry: each scan admits."
        ),
    )
    refused_roles = MultiCheckboxField(
        _l("Badges refused here"),
        choices=[SelectChoice(role.value, label) for role, label in BADGE_ROLE_LABELS.items()],
        description=_l("e.g. press at a closed session."),
    )
    active = BooleanField(_l("Open (scans may admit)"), default=True)
    staff_ids = MultiCheckboxField(_l("Gate staff assigned"), coerce=int, choices=[])

    def set_choices(self, sessions: Iterable[ProgrammeSession], staff: Iterable[User]) -> None:
        """Offer the event's sessions and the people with the gate staff role."""
        self.session_id.choices = session_choices(sessions)
        self.staff_ids.choices = [SelectChoice(user.id, user.name) for user in staff]

    def fill(self, checkpoint: Checkpoint) -> None:
        """Show a checkpoint's current values."""
        self.code.data = checkpoint.code
        self.name.data = checkpoint.name
        self.kind.data = checkpoint.kind
        self.session_id.data = checkpoint.session_id
        self.entry_mode.data = checkpoint.entry_mode
        self.refused_roles.data = list(checkpoint.refused_roles or [])
        self.active.data = checkpoint.active
        self.staff_ids.data = [member.user_id for member in checkpoint.staff]

    def details(self) -> CheckpointDetails:
        """The validated input as the check-in service takes it."""
        return CheckpointDetails(
            code=self.code.data or "",
            name=self.name.data,
            kind=self.kind.data,
            entry_mode=self.entry_mode.data,
            session_id=self.session_id.data,
            refused_roles=tuple(self.refused_roles.data or ()),
            active=bool(self.active.data),
            staff_ids=tuple(self.staff_ids.data or ()),
        )


class DeleteCheckpointForm(KongresForm):
    """The confirmation that deletes a checkpoint."""

    confirm = BooleanField(
        _l("Yes, delete it for good"),
        validators=[DataRequired(message=_l("Tick the box to confirm the deletion."))],
    )


class DeviceForm(KongresForm):
    """A new gate device and where it may scan."""

    name = StringField(
        _l("Device name"),
        validators=[
            DataRequired(message=_l("Name the device, e.g. “Entrance phone 1”.")),
            Length(max=MAX_DEVICE_NAME, message=TOO_LONG),
        ],
    )
    checkpoint_id = SelectField(
        _l("Checkpoint"),
        coerce=optional_int,
        choices=[],
        validators=[Optional()],
        description=_l("Leave empty to let the device scan at every checkpoint."),
    )


class RevokeDeviceForm(KongresForm):
    """The button that revokes a device's token (CSRF only)."""


class ScanFilterForm(KongresForm):
    """The scan log's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET filter form changes nothing

    checkpoint = SelectField(
        _l("Checkpoint"), coerce=optional_int, choices=[], validators=[Optional()]
    )
    result = SelectField(
        _l("Result"),
        choices=[
            SelectChoice("", _l("All results")),
            *(SelectChoice(result.value, label) for result, label in RESULT_LABELS.items()),
        ],
        default="",
    )

    def filters(self) -> dict[str, Any]:
        """The valid filters (invalid ones are left out)."""
        self.validate()
        return {
            "checkpoint_id": None if self.checkpoint.errors else self.checkpoint.data,
            "result": None if self.result.errors else (self.result.data or None),
        }
