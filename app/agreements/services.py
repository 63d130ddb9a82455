"""Registry rules: agreements, parties, status, follow-ups, obligations, documents, evaluations.

Every function takes plain values or model objects and an explicit `actor`; it adds and
flushes, and the caller commits once. A refused rule raises AgreementError naming the form
field it concerns, before anything is written.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import Session

from app.agreements import storage
from app.agreements.models import (
    EXPIRING_WITHIN_DAYS,
    STATUS_TRANSITIONS,
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
    ObligationRating,
    ObligationStatus,
    ScopeArea,
    UnitLevel,
    agreement_scope_areas,
)
from app.audit import services as audit
from app.auth.models import Role, User, UserRole
from app.errors import DomainError
from app.extensions import db
from app.i18n.formatting import event_zone
from app.i18n.text import CONTENT_LANGUAGES, TranslatedText
from app.partners.models import Partner
from app.validation import (
    EARLIEST_DATE,
    LATEST_DATE,
    check_date_in_range,
    clean_text,
    clean_translated_text,
)

# Text limits: the columns' sizes, and for translated texts what a reader can take in.
MAX_REFERENCE_LENGTH = 100
MAX_UNIT_NAME_LENGTH = 200
MAX_PLACE_LENGTH = 200
MAX_EVALUATOR_NAME_LENGTH = 200
MAX_SEARCH_LENGTH = 200
MAX_SCOPE_CODE_LENGTH = 64
MAX_SCOPE_NAME_LENGTH = 200
MAX_TITLE_LENGTH = 300
MAX_OBLIGATION_LENGTH = 1000
MAX_LONG_TEXT_LENGTH = 4000
MAX_DURATION_MONTHS = 600
MIN_EVALUATION_INTERVAL, MAX_EVALUATION_INTERVAL = 1, 60  # as the table's check constraint
MIN_RATING, MAX_RATING = 1, 5
OFFICER_ROLES = (Role.REGISTRY_OFFICER, Role.ADMIN)


class AgreementError(DomainError):
    """A registry rule refused the action."""


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyDetails:
    """One partner party as entered: the partner and its own reference number."""

    partner_id: int
    reference_number: str | None = None


@dataclass(frozen=True)
class AgreementDetails:
    """Everything a person enters about an agreement (its status is changed separately)."""

    kind: str
    title: TranslatedText
    unit_level: str
    unit_name: str
    parties: list[PartyDetails] = field(default_factory=list)
    scope_area_ids: list[int] = field(default_factory=list)
    reference_number: str | None = None
    summary: TranslatedText | None = None
    responsible_officer_id: int | None = None
    signed_on: date | None = None
    signed_place: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    duration_months: int | None = None
    evaluation_interval_months: int | None = None


@dataclass(frozen=True)
class _Resolved:
    """Details checked and cleaned: trimmed texts, the rows they name and the computed end."""

    title: TranslatedText
    summary: TranslatedText | None
    reference_number: str | None
    unit_name: str
    signed_place: str | None
    parties: list[tuple[Partner, str | None]]
    officer: User | None
    scope_areas: list[ScopeArea]
    ends_on: date | None


# --- dates ----------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day some months later (or earlier), kept inside shorter months."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def end_after_months(starts_on: date, months: int) -> date:
    """The last day of a term of whole months: 1 Jan + 12 months ends on 31 Dec."""
    return add_months(starts_on, months) - timedelta(days=1)


def whole_months(starts_on: date, ends_on: date) -> int | None:
    """The number of months in a term of whole months (e.g. 60 for five years), else None."""
    months = (ends_on.year - starts_on.year) * 12 + ends_on.month - starts_on.month
    for candidate in (months, months + 1):
        if candidate > 0 and end_after_months(starts_on, candidate) == ends_on:
            return candidate
    return None


def _latest_start_due_by(day: date, months: int) -> date:
    """The latest day from which `months` later falls on or before `day`."""
    candidate = add_months(day, -months)
    # Month-end clamping makes several start days land on the same due day; take the last.
    while add_months(candidate + timedelta(days=1), months) <= day:
        candidate += timedelta(days=1)
    return candidate


def shifted_date(day: date, *, months: int = 0, days: int = 0) -> date | None:
    """A day moved by whole months, then by days; None when that leaves the registry's years."""
    try:
        moved = add_months(day, months) + timedelta(days=days)
    except (OverflowError, ValueError):  # beyond year 1 or 9999: no date at all
        return None
    return moved if EARLIEST_DATE <= moved <= LATEST_DATE else None


def registry_today() -> date:
    """Today's date where the directorate works (the event's time zone), not the server's."""
    return datetime.now(event_zone()).date()


# --- small helpers --------------------------------------------------------------------------


def _clean_translated(
    text: TranslatedText | None,
    field_name: str,
    max_length: int,
    *,
    multiline: bool = False,
    required: tuple[object, str] | None = None,
) -> TranslatedText | None:
    """A text in several languages, each checked like any text; None when every one is empty.

    `required` is (message, code) for the refusal when no language holds any text.
    """
    message, code = required if required is not None else (None, "required")
    return clean_translated_text(
        text,
        field=field_name,
        max_length=max_length,
        required=message,
        required_code=code,
        multiline=multiline,
        error=AgreementError,
    )


def _enum_value(enum_cls: type, value: Any, field_name: str) -> str:
    """A known value of an enumeration, or a refusal naming the field."""
    try:
        return enum_cls(value).value
    except ValueError as exc:
        raise AgreementError(
            _l("Choose one of the listed options."), "unknown_choice", field=field_name
        ) from exc


def _text_dict(text: TranslatedText | None) -> dict[str, str] | None:
    """A translated text as stored in history (None when empty)."""
    return text.as_dict() if text else None


def _iso(day: date | None) -> str | None:
    """A date as stored in history."""
    return day.isoformat() if day else None


def _party_label(partner: Partner, reference_number: str | None) -> str:
    """A party as shown in history: the partner's name and its reference number."""
    return (
        f"{partner.display_name} — {reference_number}" if reference_number else partner.display_name
    )


def record_history(
    agreement: Agreement, action: str, changes: Mapping[str, list[Any]], actor: User | None
) -> AgreementHistory:
    """Write down who did what to an agreement: changes is {field: [old, new]}."""
    entry = AgreementHistory(
        agreement=agreement,
        action=action,
        changes=dict(changes),
        actor_id=actor.id if actor is not None else None,
    )
    db.session.add(entry)
    audit.record(f"agreements.{action}", actor=actor, target=agreement, details=changes)
    return entry


def _snapshot(agreement: Agreement) -> dict[str, Any]:
    """The agreement's editable fields as plain JSON values, for comparing before and after."""
    officer = agreement.responsible_officer
    return {
        "kind": agreement.kind,
        "reference_number": agreement.reference_number,
        "title": _text_dict(agreement.title),
        "summary": _text_dict(agreement.summary),
        "parties": sorted(_party_label(p.partner, p.reference_number) for p in agreement.parties),
        "unit_level": agreement.unit_level,
        "unit_name": agreement.unit_name,
        "responsible_officer": officer.name if officer is not None else None,
        "scope_areas": [area.name.as_dict() for area in agreement.scope_areas],
        "signed_on": _iso(agreement.signed_on),
        "signed_place": agreement.signed_place,
        "starts_on": _iso(agreement.starts_on),
        "ends_on": _iso(agreement.ends_on),
        "evaluation_interval_months": agreement.evaluation_interval_months,
    }


def _differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """The fields whose values changed, as {field: [old, new]}."""
    return {
        key: [before.get(key), value] for key, value in after.items() if before.get(key) != value
    }


# --- choices for forms ----------------------------------------------------------------------


def responsible_officer_candidates() -> list[User]:
    """Active users who may be responsible for agreements (registry officers, admins)."""
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.active.is_(True),
                exists().where(
                    UserRole.user_id == User.id,
                    UserRole.role.in_([role.value for role in OFFICER_ROLES]),
                ),
            )
            .order_by(User.name)
        )
    )


def partners_for_choice() -> list[Partner]:
    """Every partner organisation, by name, for party and filter choices."""
    return list(db.session.scalars(select(Partner).order_by(Partner.name)))


def scope_areas_for_choice(*, include_inactive: bool = False) -> list[ScopeArea]:
    """The scope areas in their display order (active ones unless asked otherwise)."""
    query = select(ScopeArea).order_by(ScopeArea.position, ScopeArea.id)
    if not include_inactive:
        query = query.where(ScopeArea.active.is_(True))
    return list(db.session.scalars(query))


# --- agreements -----------------------------------------------------------------------------


def _resolve_parties(parties: Iterable[PartyDetails]) -> list[tuple[Partner, str | None]]:
    """The partner rows of the parties, refusing none, unknown and doubled partners."""
    parties = list(parties)
    if not parties:
        raise AgreementError(
            _l("Add at least one partner party to the agreement."), "no_party", field="parties"
        )
    ids = [party.partner_id for party in parties]
    if len(set(ids)) != len(ids):
        raise AgreementError(
            _l("Each partner can be a party only once."), "duplicate_party", field="parties"
        )
    found = {p.id: p for p in db.session.scalars(select(Partner).where(Partner.id.in_(ids)))}
    if len(found) != len(ids):
        raise AgreementError(
            _l("One of the chosen partners does not exist (any more)."),
            "unknown_partner",
            field="parties",
        )
    return [
        (
            found[party.partner_id],
            clean_text(
                party.reference_number,
                field="parties",
                max_length=MAX_REFERENCE_LENGTH,
                error=AgreementError,
            ),
        )
        for party in parties
    ]


def _resolve_officer(officer_id: int | None, current: User | None) -> User | None:
    """The responsible officer: an active registry officer or admin (or the one kept)."""
    if officer_id is None:
        return None
    if current is not None and current.id == officer_id:
        return current
    officer = db.session.get(User, officer_id)
    if officer is None or not officer.active or not officer.has_role(*OFFICER_ROLES):
        raise AgreementError(
            _l("The responsible officer must be an active registry officer or administrator."),
            "invalid_officer",
            field="responsible_officer_id",
        )
    return officer


def _resolve_scope_areas(ids: Iterable[int], current: Iterable[ScopeArea]) -> list[ScopeArea]:
    """The chosen scope areas: at least one, each known and active (or already attached)."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        raise AgreementError(
            _l("Choose at least one scope area."), "no_scope_area", field="scope_area_ids"
        )
    kept = {area.id for area in current}
    found = {
        area.id: area
        for area in db.session.scalars(select(ScopeArea).where(ScopeArea.id.in_(wanted)))
        if area.active or area.id in kept
    }
    if len(found) != len(wanted):
        raise AgreementError(
            _l("Choose scope areas from the list; one of them is unknown or no longer in use."),
            "unknown_scope_area",
            field="scope_area_ids",
        )
    return sorted(found.values(), key=lambda area: (area.position, area.id))


def _resolve_end(details: AgreementDetails) -> date | None:
    """The end date, given directly or as a duration from the start."""
    if details.duration_months is not None:
        if details.ends_on is not None:
            raise AgreementError(
                _l("Give either an end date or a duration, not both."),
                "end_and_duration",
                field="duration_months",
            )
        if not 1 <= details.duration_months <= MAX_DURATION_MONTHS:
            raise AgreementError(
                _l("The duration must be between 1 and %(max)d months.", max=MAX_DURATION_MONTHS),
                "invalid_duration",
                field="duration_months",
            )
        if details.starts_on is None:
            raise AgreementError(
                _l("A duration needs a start date to count from."),
                "duration_without_start",
                field="starts_on",
            )
        ends_on = shifted_date(details.starts_on, months=details.duration_months, days=-1)
        if ends_on is None:
            raise AgreementError(
                _l(
                    "With this duration the agreement would end after %(year)d.",
                    year=LATEST_DATE.year,
                ),
                "date_out_of_range",
                field="duration_months",
            )
        return ends_on
    if details.ends_on and details.starts_on and details.ends_on < details.starts_on:
        raise AgreementError(
            _l("The end date must be on or after the start date."),
            "end_before_start",
            field="ends_on",
        )
    return details.ends_on


def _check_details(details: AgreementDetails, agreement: Agreement | None) -> _Resolved:
    """Refuse any invalid detail; return the rows and dates the details resolve to."""
    _enum_value(AgreementKind, details.kind, "kind")
    _enum_value(UnitLevel, details.unit_level, "unit_level")
    title = _clean_translated(
        details.title,
        "title",
        MAX_TITLE_LENGTH,
        required=(_l("Write the title in at least one language."), "no_title"),
    )
    summary = _clean_translated(details.summary, "summary", MAX_LONG_TEXT_LENGTH, multiline=True)
    reference_number = clean_text(
        details.reference_number,
        field="reference_number",
        max_length=MAX_REFERENCE_LENGTH,
        error=AgreementError,
    )
    unit_name = clean_text(
        details.unit_name,
        field="unit_name",
        max_length=MAX_UNIT_NAME_LENGTH,
        required=_l("Name the responsible unit."),
        error=AgreementError,
    )
    signed_place = clean_text(
        details.signed_place,
        field="signed_place",
        max_length=MAX_PLACE_LENGTH,
        error=AgreementError,
    )
    for day, field_name in (
        (details.signed_on, "signed_on"),
        (details.starts_on, "starts_on"),
        (details.ends_on, "ends_on"),
    ):
        check_date_in_range(day, field=field_name, error=AgreementError)
    interval = details.evaluation_interval_months
    if interval is not None and not MIN_EVALUATION_INTERVAL <= interval <= MAX_EVALUATION_INTERVAL:
        raise AgreementError(
            _l(
                "Evaluate every %(min)d to %(max)d months.",
                min=MIN_EVALUATION_INTERVAL,
                max=MAX_EVALUATION_INTERVAL,
            ),
            "invalid_interval",
            field="evaluation_interval_months",
        )
    ends_on = _resolve_end(details)
    parties = _resolve_parties(details.parties)
    officer = _resolve_officer(
        details.responsible_officer_id, agreement.responsible_officer if agreement else None
    )
    scope_areas = _resolve_scope_areas(
        details.scope_area_ids, agreement.scope_areas if agreement else ()
    )
    return _Resolved(
        title=title,
        summary=summary,
        reference_number=reference_number,
        unit_name=unit_name,
        signed_place=signed_place,
        parties=parties,
        officer=officer,
        scope_areas=scope_areas,
        ends_on=ends_on,
    )


def _check_can_be_active(signed_on: date | None, starts_on: date | None) -> None:
    """An agreement in force has been signed and has started."""
    if signed_on is None:
        raise AgreementError(
            _l("An active agreement needs its signing date."),
            "active_needs_signing",
            field="signed_on",
        )
    if starts_on is None:
        raise AgreementError(
            _l("An active agreement needs its start date."), "active_needs_start", field="starts_on"
        )


def _apply(agreement: Agreement, details: AgreementDetails, resolved: _Resolved) -> None:
    """Copy checked details onto the agreement; parties are updated in place."""
    agreement.kind = AgreementKind(details.kind).value
    agreement.reference_number = resolved.reference_number
    agreement.title = resolved.title
    agreement.summary = resolved.summary
    agreement.unit_level = UnitLevel(details.unit_level).value
    agreement.unit_name = resolved.unit_name
    agreement.responsible_officer = resolved.officer
    agreement.scope_areas = resolved.scope_areas
    agreement.signed_on = details.signed_on
    agreement.signed_place = resolved.signed_place
    agreement.starts_on = details.starts_on
    agreement.ends_on = resolved.ends_on
    agreement.evaluation_interval_months = details.evaluation_interval_months

    existing = {party.partner_id: party for party in agreement.parties}
    wanted = {partner.id for partner, _ in resolved.parties}
    for partner_id, party in existing.items():
        if partner_id not in wanted:
            agreement.parties.remove(party)
    for partner, reference in resolved.parties:
        party = existing.get(partner.id)
        if party is None:
            agreement.parties.append(AgreementParty(partner=partner, reference_number=reference))
        else:
            party.reference_number = reference


def create_agreement(
    details: AgreementDetails,
    *,
    actor: User | None,
    status: AgreementStatus | str = AgreementStatus.DRAFT,
    parent: Agreement | None = None,
    relation: AgreementRelation | str | None = None,
) -> Agreement:
    """Register an agreement (a draft by default) with its parties and scope areas."""
    status = AgreementStatus(_enum_value(AgreementStatus, status, "status"))
    resolved = _check_details(details, None)
    if status == AgreementStatus.ACTIVE:
        _check_can_be_active(details.signed_on, details.starts_on)
    agreement = Agreement(status=status.value)
    if parent is not None:
        agreement.parent = parent
        agreement.relation = AgreementRelation(relation).value
    _apply(agreement, details, resolved)
    db.session.add(agreement)
    db.session.flush()
    changes: dict[str, list[Any]] = {"status": [None, status.value]}
    if parent is not None:
        changes["relation"] = [None, agreement.relation]
    record_history(agreement, "created", changes, actor)
    db.session.flush()
    return agreement


def update_agreement(
    agreement: Agreement, details: AgreementDetails, *, actor: User | None
) -> Agreement:
    """Change an agreement's details; the history keeps what changed from what to what."""
    resolved = _check_details(details, agreement)
    if agreement.status == AgreementStatus.ACTIVE:
        _check_can_be_active(details.signed_on, details.starts_on)
    dropped = {party.partner_id for party in agreement.parties} - {
        partner.id for partner, _ in resolved.parties
    }
    if dropped and db.session.scalar(
        select(func.count())
        .select_from(Obligation)
        .where(Obligation.agreement_id == agreement.id, Obligation.partner_id.in_(dropped))
    ):
        raise AgreementError(
            _l(
                "A partner with obligations under this agreement cannot be removed; "
                "remove its obligations first."
            ),
            "party_has_obligations",
            field="parties",
        )
    before = _snapshot(agreement)
    _apply(agreement, details, resolved)
    db.session.flush()
    changes = _differences(before, _snapshot(agreement))
    if changes:
        record_history(agreement, "updated", changes, actor)
        db.session.flush()
    return agreement


def allowed_next_statuses(agreement: Agreement) -> list[AgreementStatus]:
    """The stored statuses the agreement may move to, in life-cycle order."""
    allowed = STATUS_TRANSITIONS[AgreementStatus(agreement.status)]
    return [status for status in AgreementStatus if status in allowed]


def change_status(
    agreement: Agreement, new_status: AgreementStatus | str, *, actor: User | None
) -> None:
    """Move an agreement along its life cycle (only the moves the registry allows)."""
    target = AgreementStatus(_enum_value(AgreementStatus, new_status, "status"))
    current = AgreementStatus(agreement.status)
    if target not in STATUS_TRANSITIONS[current]:
        raise AgreementError(
            _l(
                "An agreement cannot go from “%(old)s” to “%(new)s”.",
                old=current.label,
                new=target.label,
            ),
            "invalid_transition",
            field="status",
        )
    if target == AgreementStatus.ACTIVE:
        _check_can_be_active(agreement.signed_on, agreement.starts_on)
    agreement.status = target.value
    record_history(agreement, "status_changed", {"status": [current.value, target.value]}, actor)
    db.session.flush()


def agreement_details(agreement: Agreement) -> AgreementDetails:
    """An agreement's current details, as a form starts from when editing it."""
    return AgreementDetails(
        kind=agreement.kind,
        reference_number=agreement.reference_number,
        title=agreement.title,
        summary=agreement.summary,
        unit_level=agreement.unit_level,
        unit_name=agreement.unit_name,
        parties=[PartyDetails(p.partner_id, p.reference_number) for p in agreement.parties],
        scope_area_ids=[area.id for area in agreement.scope_areas],
        responsible_officer_id=agreement.responsible_officer_id,
        signed_on=agreement.signed_on,
        signed_place=agreement.signed_place,
        starts_on=agreement.starts_on,
        ends_on=agreement.ends_on,
        evaluation_interval_months=agreement.evaluation_interval_months,
    )


def follow_up_details(parent: Agreement, relation: AgreementRelation | str) -> AgreementDetails:
    """A renewal or addendum prefilled from the agreement it changes (not yet signed)."""
    relation = AgreementRelation(relation)
    details = replace(
        agreement_details(parent),
        reference_number=None,
        scope_area_ids=[area.id for area in parent.scope_areas if area.active],
        signed_on=None,
        signed_place=None,
    )
    if relation == AgreementRelation.ADDENDUM:
        # An addendum changes the agreement within its term.
        return replace(details, kind=AgreementKind.ADDENDUM.value, starts_on=None)
    if parent.ends_on is None:
        return replace(details, starts_on=None, ends_on=None)
    # A renewal carries on the day after the old term ends, for a term of the same length.
    # This only prefills the form: a day beyond the registry's years is left for the person
    # to enter, and whatever is entered is checked when the renewal is registered.
    starts_on = shifted_date(parent.ends_on, days=1)
    ends_on = None
    if starts_on is not None and parent.starts_on is not None:
        months = whole_months(parent.starts_on, parent.ends_on)
        ends_on = (
            shifted_date(starts_on, months=months, days=-1)
            if months
            else shifted_date(starts_on, days=(parent.ends_on - parent.starts_on).days)
        )
    return replace(details, starts_on=starts_on, ends_on=ends_on)


def create_follow_up(
    parent: Agreement,
    relation: AgreementRelation | str,
    details: AgreementDetails,
    *,
    actor: User | None,
    status: AgreementStatus | str = AgreementStatus.DRAFT,
) -> Agreement:
    """Register a renewal of, or an addendum to, an agreement, linked to it."""
    relation = AgreementRelation(_enum_value(AgreementRelation, relation, "relation"))
    follow_up = create_agreement(
        details, actor=actor, status=status, parent=parent, relation=relation
    )
    record_history(
        parent, f"{relation.value}_added", {"follow_up": [None, _text_dict(follow_up.title)]}, actor
    )
    db.session.flush()
    return follow_up


DRAFTS_ONLY_DELETED = _l(
    "Only a draft can be deleted. An agreement beyond the draft stage stays in the registry; "
    "change its status instead."
)


def can_delete_agreement(agreement: Agreement) -> bool:
    """Whether the agreement may be deleted: only a draft, i.e. one registered by mistake."""
    return agreement.status == AgreementStatus.DRAFT


def delete_agreement(agreement: Agreement, *, actor: User | None) -> None:
    """Delete a draft registered by mistake, with everything recorded under it.

    Its documents' files go once the deletion is committed. An agreement beyond the draft
    stage stays in the registry: its history matters even when it is terminated.
    """
    if not can_delete_agreement(agreement):
        raise AgreementError(DRAFTS_ONLY_DELETED, "not_a_draft", field="status")
    if agreement.parent is not None:
        # The agreement it would have changed keeps a trace of the withdrawn follow-up.
        record_history(
            agreement.parent,
            "follow_up_deleted",
            {"follow_up": [_text_dict(agreement.title), None]},
            actor,
        )
    for document in agreement.documents:
        storage.remove_document_after_commit(_session(), document.stored_name)
    audit.record("agreements.deleted", actor=actor, target=agreement, details=_snapshot(agreement))
    db.session.delete(agreement)
    db.session.flush()


# --- obligations ----------------------------------------------------------------------------


def add_obligation(
    agreement: Agreement,
    *,
    partner_id: int | None,
    description: TranslatedText,
    due_on: date | None,
    status: ObligationStatus | str = ObligationStatus.PLANNED,
    actor: User | None,
) -> Obligation:
    """Add a deliverable owed by one party (no partner: Ditjenpas owes it)."""
    status_value = _enum_value(ObligationStatus, status, "status")
    description = _clean_translated(
        description,
        "description",
        MAX_OBLIGATION_LENGTH,
        multiline=True,
        required=(_l("Describe the obligation in at least one language."), "no_description"),
    )
    check_date_in_range(due_on, field="due_on", error=AgreementError)
    if partner_id is not None and partner_id not in {p.partner_id for p in agreement.parties}:
        raise AgreementError(
            _l("Choose a party to this agreement."), "not_a_party", field="partner_id"
        )
    obligation = Obligation(
        agreement=agreement,
        partner_id=partner_id,
        description=description,
        due_on=due_on,
        status=status_value,
    )
    db.session.add(obligation)
    record_history(
        agreement, "obligation_added", {"obligation": [None, description.as_dict()]}, actor
    )
    db.session.flush()
    return obligation


def set_obligation_status(
    obligation: Obligation, status: ObligationStatus | str, *, actor: User | None
) -> None:
    """Record progress on an obligation."""
    new = _enum_value(ObligationStatus, status, "status")
    if new == obligation.status:
        return
    described = obligation.description.as_dict()
    record_history(
        obligation.agreement,
        "obligation_updated",
        {"obligation": [described, described], "obligation_status": [obligation.status, new]},
        actor,
    )
    obligation.status = new
    db.session.flush()


def remove_obligation(obligation: Obligation, *, actor: User | None) -> None:
    """Remove an obligation entered by mistake; one rated in an evaluation stays."""
    rated = db.session.scalar(
        select(exists().where(ObligationRating.obligation_id == obligation.id))
    )
    if rated:
        # Removing it would take its ratings out of past evaluations.
        raise AgreementError(
            _l(
                "This obligation was rated in an evaluation, so it cannot be removed. "
                "Set its status to “%(status)s” instead.",
                status=ObligationStatus.CANCELLED.label,
            ),
            "obligation_rated",
            field="status",
        )
    record_history(
        obligation.agreement,
        "obligation_removed",
        {"obligation": [obligation.description.as_dict(), None]},
        actor,
    )
    obligation.agreement.obligations.remove(obligation)
    db.session.flush()


# --- evaluations ----------------------------------------------------------------------------


def last_evaluated_on(agreement: Agreement) -> date | None:
    """The date of the agreement's latest evaluation, if any."""
    return max((evaluation.evaluated_on for evaluation in agreement.evaluations), default=None)


def next_evaluation_due(agreement: Agreement) -> date | None:
    """When the next evaluation is due: the last one (else the start) plus the interval."""
    interval = agreement.evaluation_interval_months
    base = last_evaluated_on(agreement) or agreement.starts_on
    if interval is None or base is None:
        return None
    return add_months(base, interval)


def evaluation_is_overdue(agreement: Agreement, today: date) -> bool:
    """Whether an agreement in force has an evaluation due today or earlier."""
    due = next_evaluation_due(agreement)
    return agreement.status == AgreementStatus.ACTIVE and due is not None and due <= today


def evaluations_due_by(day: date) -> Select[tuple[Agreement]]:
    """Active agreements whose next evaluation falls on or before `day`.

    Ordered by the day the wait started (last evaluation, else the start), oldest first.
    """
    last_evaluation = (
        select(func.max(Evaluation.evaluated_on))
        .where(Evaluation.agreement_id == Agreement.id)
        .correlate(Agreement)
        .scalar_subquery()
    )
    base = func.coalesce(last_evaluation, Agreement.starts_on)
    # Month arithmetic differs between databases, so the per-interval cut-off is computed here.
    latest_base = case(
        {
            months: _latest_start_due_by(day, months)
            for months in range(MIN_EVALUATION_INTERVAL, MAX_EVALUATION_INTERVAL + 1)
        },
        value=Agreement.evaluation_interval_months,
    )
    return (
        select(Agreement)
        .where(
            Agreement.status == AgreementStatus.ACTIVE.value,
            Agreement.evaluation_interval_months.is_not(None),
            base.is_not(None),
            base <= latest_base,
        )
        .order_by(base, Agreement.id)
    )


def record_evaluation(
    agreement: Agreement,
    *,
    evaluated_on: date | None,
    evaluator_name: str | None,
    findings: TranslatedText | None,
    actor: User | None,
    overall_rating: int | None = None,
    obligation_ratings: Mapping[int, int] | None = None,
    follow_up: TranslatedText | None = None,
    today: date | None = None,
) -> Evaluation:
    """Record a periodic evaluation: an overall rating and/or one per obligation, 1 to 5.

    When the evaluator's name is the actor's own, the evaluation is linked to their account.
    """
    today = today or registry_today()
    if evaluated_on is None:
        raise AgreementError(
            _l("Give the date of the evaluation."), "no_date", field="evaluated_on"
        )
    check_date_in_range(evaluated_on, field="evaluated_on", error=AgreementError)
    if evaluated_on > today:
        raise AgreementError(
            _l("An evaluation cannot be dated in the future."), "future_date", field="evaluated_on"
        )
    if agreement.starts_on is not None and evaluated_on < agreement.starts_on:
        raise AgreementError(
            _l("The evaluation date is before the agreement started."),
            "before_start",
            field="evaluated_on",
        )
    name = clean_text(
        evaluator_name,
        field="evaluator_name",
        max_length=MAX_EVALUATOR_NAME_LENGTH,
        required=_l("Name who evaluated the agreement."),
        error=AgreementError,
    )
    ratings = {
        int(key): value for key, value in (obligation_ratings or {}).items() if value is not None
    }
    for rating, field_name in [
        (overall_rating, "overall_rating"),
        *((r, "ratings") for r in ratings.values()),
    ]:
        if rating is not None and not MIN_RATING <= rating <= MAX_RATING:
            raise AgreementError(
                _l("Ratings go from %(min)d to %(max)d.", min=MIN_RATING, max=MAX_RATING),
                "invalid_rating",
                field=field_name,
            )
    if overall_rating is None and not ratings:
        raise AgreementError(
            _l("Give an overall rating or rate at least one obligation."),
            "no_rating",
            field="overall_rating",
        )
    own_obligations = {obligation.id for obligation in agreement.obligations}
    if not set(ratings) <= own_obligations:
        raise AgreementError(
            _l("Only this agreement's obligations can be rated."),
            "foreign_obligation",
            field="ratings",
        )
    findings = _clean_translated(
        findings,
        "findings",
        MAX_LONG_TEXT_LENGTH,
        multiline=True,
        required=(_l("Write the findings in at least one language."), "no_findings"),
    )
    follow_up = _clean_translated(follow_up, "follow_up", MAX_LONG_TEXT_LENGTH, multiline=True)
    evaluator_is_actor = actor is not None and name.casefold() == (actor.name or "").casefold()
    evaluation = Evaluation(
        agreement=agreement,
        evaluated_on=evaluated_on,
        evaluator_id=actor.id if evaluator_is_actor else None,
        evaluator_name=name,
        overall_rating=overall_rating,
        findings=findings,
        follow_up=follow_up,
        ratings=[
            ObligationRating(obligation_id=obligation_id, rating=rating)
            for obligation_id, rating in sorted(ratings.items())
        ],
    )
    db.session.add(evaluation)
    record_history(
        agreement,
        "evaluation_recorded",
        {"evaluated_on": [None, _iso(evaluated_on)], "overall_rating": [None, overall_rating]},
        actor,
    )
    db.session.flush()
    return evaluation


# --- documents ------------------------------------------------------------------------------


def upload_document(
    agreement: Agreement, *, filename: str | None, data: bytes, actor: User | None
) -> AgreementDocument:
    """Keep a signed PDF with the agreement, after checking it is a PDF of acceptable size."""
    limit = storage.max_document_bytes()
    if not data:
        raise AgreementError(_l("The file is empty."), "empty_file", field="file")
    if len(data) > limit:
        raise AgreementError(
            _l(
                "The file is too large: at most %(size)s MB is accepted.",
                size=f"{limit / (1024 * 1024):g}",
            ),
            "file_too_large",
            field="file",
        )
    if not storage.is_readable_pdf(data):
        raise AgreementError(
            _l(
                "This file is not a readable PDF. Upload the agreement as a PDF file "
                "(save scans as PDF too)."
            ),
            "not_a_pdf",
            field="file",
        )
    document = AgreementDocument(
        agreement=agreement,
        original_filename=storage.display_filename(filename),
        stored_name=storage.new_stored_name(),
        size_bytes=len(data),
        sha256=storage.sha256_hex(data),
        uploaded_by_id=actor.id if actor is not None else None,
    )
    db.session.add(document)
    record_history(
        agreement, "document_uploaded", {"document": [None, document.original_filename]}, actor
    )
    db.session.flush()
    # The row is in the transaction now; the file follows it (and is removed on rollback).
    try:
        storage.write_document(_session(), document.stored_name, data)
    except OSError as exc:
        raise AgreementError(
            _l("The file could not be stored. Please try again."), "storage_failed", field="file"
        ) from exc
    return document


def delete_document(document: AgreementDocument, *, actor: User | None) -> None:
    """Remove a document; its file goes once the removal is committed."""
    agreement = document.agreement
    record_history(
        agreement, "document_deleted", {"document": [document.original_filename, None]}, actor
    )
    storage.remove_document_after_commit(_session(), document.stored_name)
    db.session.delete(document)
    db.session.flush()


def _session() -> Session:
    """The request's actual Session (file hooks attach to it, not to the scoped proxy)."""
    return db.session()


# --- scope areas ----------------------------------------------------------------------------


def _clean_scope_name(name: TranslatedText | None, area: ScopeArea | None) -> TranslatedText:
    """The name checked: refuses an empty or invalid one and one another scope area already
    uses (in either language)."""
    name = _clean_translated(
        name,
        "name",
        MAX_SCOPE_NAME_LENGTH,
        required=(_l("Name the scope area in at least one language."), "no_name"),
    )
    taken = {
        text.casefold()
        for other in scope_areas_for_choice(include_inactive=True)
        if area is None or other.id != area.id
        for text in other.name.as_dict().values()
    }
    if any(text.casefold() in taken for text in name.as_dict().values()):
        raise AgreementError(
            _l("Another scope area already has this name."), "duplicate_name", field="name"
        )
    return name


def _unique_scope_code(name: TranslatedText) -> str:
    """A stable code made from the name (English first), unique among scope areas."""
    source = name.in_language("en") or name.get(CONTENT_LANGUAGES[0])
    stem = re.sub(r"[^0-9a-z]+", "_", source.casefold()).strip("_")[: MAX_SCOPE_CODE_LENGTH - 4]
    stem = stem or "scope"
    taken = set(db.session.scalars(select(ScopeArea.code).where(ScopeArea.code.startswith(stem))))
    code, number = stem, 1
    while code in taken:
        number += 1
        code = f"{stem}_{number}"
    return code


def create_scope_area(
    name: TranslatedText, *, actor: User | None, code: str | None = None
) -> ScopeArea:
    """Add a scope area to the managed list, at its end."""
    name = _clean_scope_name(name, None)
    code = clean_text(code, field="code", max_length=MAX_SCOPE_CODE_LENGTH, error=AgreementError)
    if code is not None and db.session.scalar(select(ScopeArea.id).where(ScopeArea.code == code)):
        raise AgreementError(_l("This code is already in use."), "duplicate_code", field="code")
    last = db.session.scalar(select(func.max(ScopeArea.position))) or 0
    area = ScopeArea(
        code=code or _unique_scope_code(name), name=name, active=True, position=last + 1
    )
    db.session.add(area)
    db.session.flush()
    return area


def update_scope_area(
    area: ScopeArea, *, name: TranslatedText, active: bool, actor: User | None
) -> None:
    """Rename a scope area, or retire it (agreements keep it; new ones cannot choose it)."""
    area.name = _clean_scope_name(name, area)
    area.active = active
    db.session.flush()


# --- the registry list ----------------------------------------------------------------------


def derived_status_column(today: date) -> ColumnElement[str]:
    """The derived status on a day as an SQL expression: the one SQL twin of
    Agreement.derived_status, for filters and for counting by status.

    An active agreement past its end is "expired", within EXPIRING_WITHIN_DAYS of it
    "expiring"; every other agreement has its stored status.
    """
    active = Agreement.status == AgreementStatus.ACTIVE.value
    expiring_by = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    return case(
        (and_(active, Agreement.ends_on < today), DerivedStatus.EXPIRED.value),
        (and_(active, Agreement.ends_on <= expiring_by), DerivedStatus.EXPIRING.value),
        else_=Agreement.status,
    )


def _search_clause(q: str) -> ColumnElement[bool]:
    """Title (either language), our and the parties' reference numbers, partner names."""
    # JSON path extraction works on SQLite and PostgreSQL alike and sees decoded text.
    titles = [
        Agreement.title[language].as_string().icontains(q, autoescape=True)
        for language in CONTENT_LANGUAGES
    ]
    party_matches = exists().where(
        AgreementParty.agreement_id == Agreement.id,
        AgreementParty.partner_id == Partner.id,
        or_(
            AgreementParty.reference_number.icontains(q, autoescape=True),
            Partner.name.icontains(q, autoescape=True),
            Partner.acronym.icontains(q, autoescape=True),
        ),
    )
    return or_(*titles, Agreement.reference_number.icontains(q, autoescape=True), party_matches)


def filter_agreements(
    q: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    level: str | None = None,
    scope_area_id: int | None = None,
    partner_id: int | None = None,
    year: int | None = None,
    *,
    today: date | None = None,
) -> Select[tuple[Agreement]]:
    """The registry list's query: every filter optional, newest signing first.

    The search text is trimmed and cut to MAX_SEARCH_LENGTH; its wildcards count as text.
    """
    today = today or registry_today()
    query = select(Agreement)
    q = (q or "").strip()[:MAX_SEARCH_LENGTH]
    if q:
        query = query.where(_search_clause(q))
    if kind:
        query = query.where(Agreement.kind == _enum_value(AgreementKind, kind, "kind"))
    if status:
        status = _enum_value(DerivedStatus, status, "status")
        query = query.where(derived_status_column(today) == status)
    if level:
        query = query.where(Agreement.unit_level == _enum_value(UnitLevel, level, "level"))
    if scope_area_id is not None:
        query = query.where(
            exists().where(
                agreement_scope_areas.c.agreement_id == Agreement.id,
                agreement_scope_areas.c.scope_area_id == scope_area_id,
            )
        )
    if partner_id is not None:
        query = query.where(
            exists().where(
                AgreementParty.agreement_id == Agreement.id,
                AgreementParty.partner_id == partner_id,
            )
        )
    if year is not None:
        if EARLIEST_DATE.year <= year <= LATEST_DATE.year:
            query = query.where(
                Agreement.signed_on >= date(year, 1, 1), Agreement.signed_on <= date(year, 12, 31)
            )
        else:
            query = query.where(false())
    return query.order_by(Agreement.signed_on.desc().nulls_last(), Agreement.id.desc())


def agreements_of_partner(partner_id: int) -> list[Agreement]:
    """Every agreement a partner is party to, newest signing first."""
    return list(db.session.scalars(filter_agreements(partner_id=partner_id)))
