"""Registry rules: agreements, status, follow-ups, obligations, evaluations, filters."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.agreements import services
from app.agreements.models import (
    Agreement,
    AgreementHistory,
    AgreementKind,
    AgreementParty,
    AgreementRelation,
    AgreementStatus,
    DerivedStatus,
    ObligationStatus,
    UnitLevel,
    agreement_scope_areas,
)
from app.agreements.services import AgreementError, PartyDetails
from app.auth.models import Role
from app.i18n.text import TranslatedText
from app.partners.models import PartnerKind
from tests.agreements.factories import (
    agreement_details,
    attached,
    count_rows,
    make_agreement,
    make_partner,
    make_scope_area,
)


@pytest.fixture
def officer(db, make_user):
    """A registry officer, attached to the test's session."""
    return attached(make_user(roles=[Role.REGISTRY_OFFICER], name="Hilal"))


@pytest.fixture
def registry(db):
    """Two partners and two scope areas to build agreements from."""
    dukcapil = make_partner(
        "Directorate General of Population and Civil Registration",
        "Dukcapil",
        kind=PartnerKind.GOVERNMENT,
    )
    icjr = make_partner("Institute for Criminal Justice Reform", "ICJR")
    identity = make_scope_area("Identity and population data", "Data identitas dan kependudukan")
    training = make_scope_area("Officer capacity building", "Peningkatan kapasitas petugas")
    return dukcapil, icjr, identity, training


def _registry_row_counts() -> tuple[int, int, int, int]:
    return (
        count_rows(Agreement),
        count_rows(AgreementParty),
        count_rows(agreement_scope_areas),
        count_rows(AgreementHistory),
    )


# --- creating --------------------------------------------------------------------------------


def test_an_agreement_with_two_parties_and_two_scope_areas(db, officer, registry):
    dukcapil, icjr, identity, training = registry
    agreement = make_agreement(
        [dukcapil, icjr],
        [identity, training],
        actor=officer,
        responsible_officer_id=officer.id,
        status=AgreementStatus.DRAFT,
    )
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(Agreement, agreement.id)
    assert {p.partner.acronym: p.reference_number for p in stored.parties} == {
        "Dukcapil": "REF/1/2025",
        "ICJR": "REF/2/2025",
    }
    assert [area.code for area in stored.scope_areas] == [identity.code, training.code]
    assert stored.responsible_officer.name == "Hilal"
    assert stored.status == AgreementStatus.DRAFT
    assert stored.title.get("id") == "Verifikasi identitas tahanan dengan data kependudukan"
    (created,) = stored.history
    assert (created.action, created.actor_id) == ("created", officer.id)
    assert created.changes == {"status": [None, "draft"]}


def test_an_end_date_before_the_start_is_refused_and_nothing_is_saved(db, officer, registry):
    dukcapil, icjr, identity, training = registry
    before = _registry_row_counts()
    with pytest.raises(AgreementError) as refused:
        make_agreement(
            [dukcapil, icjr],
            [identity, training],
            actor=officer,
            starts_on=date(2025, 10, 2),
            ends_on=date(2025, 10, 1),
        )
    assert refused.value.field == "ends_on"
    assert str(refused.value) == "The end date must be on or after the start date."
    db.session.rollback()
    assert _registry_row_counts() == before


def test_an_agreement_needs_a_party(db, officer, registry):
    _, _, identity, _ = registry
    with pytest.raises(AgreementError) as refused:
        make_agreement([], [identity], actor=officer)
    assert refused.value.code == "no_party"
    assert refused.value.field == "parties"
    assert "at least one partner" in str(refused.value)
    assert count_rows(Agreement) == 0


def test_a_partner_cannot_be_a_party_twice_and_must_exist(db, officer, registry):
    dukcapil, _, identity, _ = registry
    twice = [PartyDetails(dukcapil.id), PartyDetails(dukcapil.id, "X")]
    with pytest.raises(AgreementError, match="only once"):
        services.create_agreement(agreement_details([], [identity], parties=twice), actor=officer)
    with pytest.raises(AgreementError) as refused:
        services.create_agreement(
            agreement_details([], [identity], parties=[PartyDetails(99_999)]), actor=officer
        )
    assert refused.value.code == "unknown_partner"


def test_unknown_and_retired_scope_areas_are_refused(db, officer, registry):
    dukcapil, _, identity, _ = registry
    retired = make_scope_area("Food security", active=False)
    for scope_ids in ([identity.id, 99_999], [retired.id], []):
        with pytest.raises(AgreementError) as refused:
            services.create_agreement(
                agreement_details([dukcapil], [], scope_area_ids=scope_ids), actor=officer
            )
        assert refused.value.field == "scope_area_ids"
    assert count_rows(Agreement) == 0


def test_the_responsible_officer_must_be_a_registry_officer_or_admin(db, make_user, registry):
    dukcapil, _, identity, _ = registry
    organiser = make_user(roles=[Role.ORGANISER])
    with pytest.raises(AgreementError) as refused:
        make_agreement([dukcapil], [identity], responsible_officer_id=organiser.id)
    assert refused.value.field == "responsible_officer_id"
    admin = make_user(roles=[Role.ADMIN])
    agreement = make_agreement([dukcapil], [identity], responsible_officer_id=admin.id)
    assert agreement.responsible_officer_id == admin.id


def test_a_duration_gives_the_end_date(db, officer, registry):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement(
        [dukcapil], [identity], starts_on=date(2025, 10, 2), ends_on=None, duration_months=60
    )
    assert agreement.ends_on == date(2030, 10, 1)
    assert services.end_after_months(date(2024, 1, 1), 12) == date(2024, 12, 31)
    assert services.add_months(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert services.add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert services.whole_months(date(2025, 10, 2), date(2030, 10, 1)) == 60
    assert services.whole_months(date(2024, 1, 1), date(2024, 12, 31)) == 12
    assert services.whole_months(date(2024, 1, 1), date(2024, 12, 30)) is None


def test_a_duration_needs_a_start_and_excludes_an_end_date(db, officer, registry):
    dukcapil, _, identity, _ = registry
    with pytest.raises(AgreementError) as refused:
        make_agreement([dukcapil], [identity], ends_on=date(2026, 1, 1), duration_months=12)
    assert refused.value.field == "duration_months"
    with pytest.raises(AgreementError) as refused:
        make_agreement(
            [dukcapil],
            [identity],
            starts_on=None,
            ends_on=None,
            duration_months=12,
            status=AgreementStatus.DRAFT,
        )
    assert refused.value.field == "starts_on"


def test_a_title_is_needed_in_at_least_one_language(db, officer, registry):
    dukcapil, _, identity, _ = registry
    with pytest.raises(AgreementError) as refused:
        make_agreement([dukcapil], [identity], title=TranslatedText())
    assert refused.value.field == "title"
    only_indonesian = make_agreement(
        [dukcapil], [identity], title=TranslatedText(id="Pelatihan kewirausahaan")
    )
    assert only_indonesian.title.missing_languages() == ["en"]


# --- status ---------------------------------------------------------------------------------


def test_status_moves_along_the_allowed_transitions_only(db, officer, registry):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement(
        [dukcapil], [identity], status=AgreementStatus.DRAFT, signed_on=None, actor=officer
    )

    with pytest.raises(AgreementError) as refused:
        services.change_status(agreement, AgreementStatus.ACTIVE, actor=officer)
    assert refused.value.code == "active_needs_signing"

    services.change_status(agreement, AgreementStatus.IN_NEGOTIATION, actor=officer)
    agreement.signed_on = date(2025, 10, 2)
    services.change_status(agreement, AgreementStatus.ACTIVE, actor=officer)
    with pytest.raises(AgreementError) as refused:
        services.change_status(agreement, AgreementStatus.DRAFT, actor=officer)
    assert refused.value.code == "invalid_transition"
    assert AgreementStatus.ACTIVE.label in str(refused.value)
    assert AgreementStatus.DRAFT.label in str(refused.value)
    services.change_status(agreement, AgreementStatus.TERMINATED, actor=officer)
    assert services.allowed_next_statuses(agreement) == []
    db.session.commit()

    moves = [
        entry.changes["status"]
        for entry in sorted(agreement.history, key=lambda e: e.id)
        if entry.action == "status_changed"
    ]
    assert moves == [
        ["draft", "in_negotiation"],
        ["in_negotiation", "active"],
        ["active", "terminated"],
    ]
    assert all(entry.actor_id == officer.id for entry in agreement.history)


def test_an_active_agreement_is_created_only_with_signing_and_start_dates(db, registry):
    dukcapil, _, identity, _ = registry
    with pytest.raises(AgreementError) as refused:
        make_agreement([dukcapil], [identity], starts_on=None, ends_on=None)
    assert refused.value.field == "starts_on"
    assert count_rows(Agreement) == 0


def test_derived_status_expiring_and_expired():
    today = date(2026, 1, 1)
    agreement = Agreement(status=AgreementStatus.ACTIVE.value, ends_on=today + timedelta(days=30))
    assert agreement.derived_status(today) == DerivedStatus.EXPIRING
    agreement.ends_on = today - timedelta(days=1)
    assert agreement.derived_status(today) == DerivedStatus.EXPIRED
    agreement.ends_on = today + timedelta(days=365)
    assert agreement.derived_status(today) == DerivedStatus.ACTIVE


# --- editing and history --------------------------------------------------------------------


def test_an_update_records_what_changed_from_what_to_what(db, officer, registry):
    dukcapil, icjr, identity, training = registry
    agreement = make_agreement([dukcapil], [identity], actor=officer)
    details = services.agreement_details(agreement)

    services.update_agreement(
        agreement,
        replace(
            details,
            unit_name="Kanwil Bali",
            unit_level=UnitLevel.REGIONAL.value,
            parties=[*details.parties, PartyDetails(icjr.id, "ICJR/7")],
            scope_area_ids=[identity.id, training.id],
        ),
        actor=officer,
    )
    db.session.commit()
    update = next(entry for entry in agreement.history if entry.action == "updated")
    assert update.actor_id == officer.id
    assert update.changes["unit_name"] == ["Direktorat Kerja Sama", "Kanwil Bali"]
    assert update.changes["unit_level"] == ["central", "regional"]
    old_parties, new_parties = update.changes["parties"]
    assert len(old_parties) == 1
    assert len(new_parties) == 2
    assert any("ICJR/7" in party for party in new_parties)
    assert set(update.changes) == {"unit_name", "unit_level", "parties", "scope_areas"}

    # Saving without changes writes no history.
    services.update_agreement(agreement, services.agreement_details(agreement), actor=officer)
    assert sum(entry.action == "updated" for entry in agreement.history) == 1


def test_an_update_with_bad_dates_changes_nothing(db, officer, registry):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement([dukcapil], [identity], actor=officer)
    db.session.commit()
    with pytest.raises(AgreementError):
        services.update_agreement(
            agreement,
            replace(services.agreement_details(agreement), ends_on=date(2020, 1, 1)),
            actor=officer,
        )
    db.session.rollback()
    assert db.session.get(Agreement, agreement.id).ends_on == date(2030, 10, 1)


# --- renewals and addenda -------------------------------------------------------------------


def test_a_renewal_is_prefilled_from_and_linked_to_its_agreement(db, officer, registry):
    dukcapil, icjr, identity, training = registry
    parent = make_agreement([dukcapil, icjr], [identity, training], actor=officer)
    details = services.follow_up_details(parent, AgreementRelation.RENEWAL)
    assert details.starts_on == date(2030, 10, 2)
    assert details.ends_on == date(2035, 10, 1)
    assert details.signed_on is None
    assert details.reference_number is None
    assert [p.partner_id for p in details.parties] == [p.partner_id for p in parent.parties]

    renewal = services.create_follow_up(parent, AgreementRelation.RENEWAL, details, actor=officer)
    db.session.commit()
    assert renewal.parent_id == parent.id
    assert renewal.relation == "renewal"
    assert parent.changes == [renewal]
    assert any(entry.action == "renewal_added" for entry in parent.history)

    addendum = services.follow_up_details(parent, "addendum")
    assert addendum.kind == AgreementKind.ADDENDUM.value


# --- obligations ----------------------------------------------------------------------------


def test_obligations_per_party_and_for_ditjenpas(db, officer, registry):
    dukcapil, icjr, identity, _ = registry
    agreement = make_agreement([dukcapil], [identity], actor=officer)
    theirs = services.add_obligation(
        agreement,
        partner_id=dukcapil.id,
        description=TranslatedText(en="Give access to population data"),
        due_on=date(2026, 3, 1),
        actor=officer,
    )
    ours = services.add_obligation(
        agreement,
        partner_id=None,
        description=TranslatedText(id="Menyediakan data tahanan"),
        due_on=None,
        actor=officer,
    )
    with pytest.raises(AgreementError) as refused:
        services.add_obligation(
            agreement,
            partner_id=icjr.id,
            description=TranslatedText(en="Not a party"),
            due_on=None,
            actor=officer,
        )
    assert refused.value.field == "partner_id"

    services.set_obligation_status(theirs, ObligationStatus.DONE, actor=officer)
    services.remove_obligation(ours, actor=officer)
    db.session.commit()
    assert [o.status for o in agreement.obligations] == ["done"]
    actions = {entry.action for entry in agreement.history}
    assert {"obligation_added", "obligation_updated", "obligation_removed"} <= actions

    # A party with obligations stays until its obligations go.
    with pytest.raises(AgreementError) as refused:
        services.update_agreement(
            agreement,
            replace(services.agreement_details(agreement), parties=[PartyDetails(icjr.id)]),
            actor=officer,
        )
    assert refused.value.code == "party_has_obligations"


# --- evaluations ----------------------------------------------------------------------------


def test_recording_an_evaluation_moves_the_next_due_date(db, officer, registry):
    dukcapil, _, identity, _ = registry
    today = date(2026, 11, 1)
    agreement = make_agreement(
        [dukcapil], [identity], starts_on=date(2025, 10, 2), evaluation_interval_months=6
    )
    assert services.next_evaluation_due(agreement) == date(2026, 4, 2)
    assert services.evaluation_is_overdue(agreement, today)
    obligation = services.add_obligation(
        agreement,
        partner_id=dukcapil.id,
        description=TranslatedText(en="Data access"),
        due_on=None,
        actor=officer,
    )

    evaluation = services.record_evaluation(
        agreement,
        evaluated_on=date(2026, 10, 15),
        evaluator_name="Hilal",
        obligation_ratings={obligation.id: 4},
        findings=TranslatedText(en="Data access works.", id="Akses data berjalan."),
        follow_up=TranslatedText(en="Extend to Kanwil offices."),
        actor=officer,
        today=today,
    )
    db.session.commit()
    db.session.refresh(agreement)
    assert evaluation.overall_rating is None
    assert evaluation.evaluator_id == officer.id  # the officer named themself
    assert [(r.obligation_id, r.rating) for r in evaluation.ratings] == [(obligation.id, 4)]
    assert services.next_evaluation_due(agreement) == date(2027, 4, 15)
    assert not services.evaluation_is_overdue(agreement, today)
    assert any(entry.action == "evaluation_recorded" for entry in agreement.history)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"evaluated_on": date(2027, 1, 1)}, "evaluated_on"),
        ({"evaluated_on": date(2024, 1, 1)}, "evaluated_on"),
        ({"overall_rating": 6}, "overall_rating"),
        ({"overall_rating": None}, "overall_rating"),
        ({"findings": TranslatedText()}, "findings"),
        ({"evaluator_name": "  "}, "evaluator_name"),
        ({"obligation_ratings": {99_999: 3}}, "ratings"),
    ],
)
def test_an_invalid_evaluation_is_refused(db, officer, registry, changes, field):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement([dukcapil], [identity])
    values = {
        "evaluated_on": date(2026, 10, 15),
        "evaluator_name": "Hilal",
        "overall_rating": 3,
        "findings": TranslatedText(en="Fine."),
        **changes,
    }
    with pytest.raises(AgreementError) as refused:
        services.record_evaluation(agreement, actor=officer, today=date(2026, 11, 1), **values)
    assert refused.value.field == field
    assert agreement.evaluations == []


def test_the_overdue_list(db, officer, registry):
    dukcapil, _, identity, _ = registry
    today = date(2026, 6, 1)
    overdue = make_agreement(
        [dukcapil], [identity], starts_on=date(2025, 10, 2), evaluation_interval_months=6
    )
    due_today = make_agreement(
        [dukcapil], [identity], starts_on=date(2025, 12, 1), evaluation_interval_months=6
    )
    # Month ends: 31 Dec + 2 months is 28 Feb (clamped), due before today.
    month_end = make_agreement(
        [dukcapil], [identity], starts_on=date(2025, 12, 31), evaluation_interval_months=2
    )
    make_agreement(
        [dukcapil], [identity], starts_on=date(2026, 1, 1), evaluation_interval_months=12
    )
    make_agreement([dukcapil], [identity], evaluation_interval_months=None)
    make_agreement(
        [dukcapil],
        [identity],
        starts_on=date(2025, 1, 1),
        evaluation_interval_months=3,
        status=AgreementStatus.DRAFT,
    )
    evaluated = make_agreement(
        [dukcapil], [identity], starts_on=date(2025, 1, 1), evaluation_interval_months=12
    )
    services.record_evaluation(
        evaluated,
        evaluated_on=date(2026, 1, 10),
        evaluator_name="Hilal",
        overall_rating=4,
        findings=TranslatedText(en="On track."),
        actor=officer,
        today=today,
    )
    db.session.commit()

    found = list(db.session.scalars(services.evaluations_due_by(today)))
    # Longest without an evaluation (counted from the last one, else the start) first.
    assert found == [overdue, due_today, month_end]
    assert list(db.session.scalars(services.evaluations_due_by(date(2026, 5, 31)))) == [
        overdue,
        month_end,
    ]


# --- filters --------------------------------------------------------------------------------


def test_filters_and_search(db, officer, registry):
    dukcapil, icjr, identity, training = registry
    today = services.registry_today()
    expiring = make_agreement(
        [dukcapil],
        [identity],
        title=TranslatedText(en="Population data access", id="Akses data kependudukan"),
        reference_number="PAS-7/2025",
        starts_on=date(2024, 1, 1),
        ends_on=today + timedelta(days=30),
        signed_on=date(2024, 1, 1),
    )
    expired = make_agreement(
        [icjr],
        [training],
        title=TranslatedText(en="Legal aid training"),
        starts_on=date(2023, 1, 1),
        ends_on=today - timedelta(days=1),
        signed_on=date(2023, 1, 1),
        kind=AgreementKind.MOU.value,
        unit_level=UnitLevel.TECHNICAL_UNIT.value,
    )
    active = make_agreement(
        [dukcapil, icjr],
        [identity, training],
        title=TranslatedText(id="Pelatihan kewirausahaan 100% lele"),
        starts_on=date(2025, 10, 2),
        ends_on=today + timedelta(days=400),
        signed_on=date(2025, 10, 2),
    )
    draft = make_agreement(
        [icjr],
        [training],
        title=TranslatedText(en="Research on reintegration"),
        status=AgreementStatus.DRAFT,
        signed_on=None,
        ends_on=None,
    )
    db.session.commit()

    def ids(**filters):
        return [a.id for a in db.session.scalars(services.filter_agreements(**filters))]

    assert ids() == [active.id, expiring.id, expired.id, draft.id]
    assert ids(status="expiring") == [expiring.id]
    assert ids(status="expired") == [expired.id]
    assert ids(status="active") == [active.id]
    assert ids(status="draft") == [draft.id]
    assert ids(q="kependudukan") == [expiring.id]  # Indonesian title
    assert ids(q="LEGAL AID") == [expired.id]  # English title, any case
    assert ids(q="pas-7") == [expiring.id]  # our reference number
    assert ids(q="REF/2/2025") == [active.id]  # a party's reference number
    assert ids(q="icjr") == [active.id, expired.id, draft.id]  # partner acronym
    assert ids(q="criminal justice") == [active.id, expired.id, draft.id]  # partner name
    assert ids(q="100%") == [active.id]  # wildcards taken literally
    assert ids(q='"en"') == []  # the stored JSON's keys are not searched
    assert ids(kind="mou") == [expired.id]
    assert ids(level="technical_unit") == [expired.id]
    assert ids(scope_area_id=identity.id) == [active.id, expiring.id]
    assert ids(partner_id=dukcapil.id) == [active.id, expiring.id]
    assert ids(year=2025) == [active.id]
    assert ids(year=2024, partner_id=dukcapil.id, q="data") == [expiring.id]


# --- scope areas ----------------------------------------------------------------------------


def test_scope_areas_are_managed_in_both_languages(db, officer):
    area = services.create_scope_area(
        TranslatedText(en="Legal aid", id="Bantuan hukum"), actor=officer
    )
    assert area.code == "legal_aid"
    with pytest.raises(AgreementError) as refused:
        services.create_scope_area(TranslatedText(id="bantuan HUKUM"), actor=officer)
    assert refused.value.field == "name"
    with pytest.raises(AgreementError):
        services.create_scope_area(TranslatedText(), actor=officer)

    services.update_scope_area(
        area,
        name=TranslatedText(en="Legal aid and advice", id="Bantuan hukum"),
        active=False,
        actor=officer,
    )
    assert area.name.get("en") == "Legal aid and advice"
    assert services.scope_areas_for_choice() == []
    assert services.scope_areas_for_choice(include_inactive=True) == [area]


# --- dates beyond the registry's years ------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_on": date(9999, 6, 1), "ends_on": None, "duration_months": 12}, "starts_on"),
        ({"signed_on": date(1, 1, 1)}, "signed_on"),
        ({"starts_on": date(1944, 12, 31), "ends_on": None}, "starts_on"),
        ({"ends_on": date(2101, 1, 1)}, "ends_on"),
        # A start in range whose computed end is not.
        (
            {"starts_on": date(2100, 1, 1), "ends_on": None, "duration_months": 24},
            "duration_months",
        ),
    ],
)
def test_dates_beyond_the_registry_years_are_refused_and_nothing_is_saved(
    db, officer, registry, overrides, field
):
    dukcapil, _, identity, _ = registry
    before = _registry_row_counts()
    with pytest.raises(AgreementError) as refused:
        make_agreement([dukcapil], [identity], actor=officer, **overrides)
    assert refused.value.field == field
    assert refused.value.code == "date_out_of_range"
    db.session.rollback()
    assert _registry_row_counts() == before


def test_the_last_day_the_registry_holds_is_accepted(db, officer, registry):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement(
        [dukcapil], [identity], starts_on=date(2099, 1, 1), ends_on=None, duration_months=24
    )
    assert agreement.ends_on == date(2100, 12, 31)
    # Its renewal would start in 2101: the form is prefilled without dates it cannot hold.
    renewal = services.follow_up_details(agreement, AgreementRelation.RENEWAL)
    assert (renewal.starts_on, renewal.ends_on) == (None, None)


def test_a_renewal_whose_term_would_pass_2100_is_prefilled_with_its_start_only(
    db, officer, registry
):
    dukcapil, _, identity, _ = registry
    parent = make_agreement(
        [dukcapil], [identity], starts_on=date(2080, 1, 1), ends_on=date(2099, 12, 31)
    )
    renewal = services.follow_up_details(parent, AgreementRelation.RENEWAL)
    assert (renewal.starts_on, renewal.ends_on) == (date(2100, 1, 1), None)
    assert services.shifted_date(date.max, days=1) is None
    assert services.shifted_date(date(9999, 6, 1), months=12) is None
    assert services.shifted_date(date(2025, 1, 31), months=1, days=-1) == date(2025, 2, 27)


def test_obligation_and_evaluation_dates_beyond_the_registry_years_are_refused(
    db, officer, registry
):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement([dukcapil], [identity])
    with pytest.raises(AgreementError) as refused:
        services.add_obligation(
            agreement,
            partner_id=None,
            description=TranslatedText(en="Report"),
            due_on=date(9999, 12, 31),
            actor=officer,
        )
    assert (refused.value.field, refused.value.code) == ("due_on", "date_out_of_range")
    agreement.starts_on = None  # so that only the range rule can refuse an old date
    with pytest.raises(AgreementError) as refused:
        services.record_evaluation(
            agreement,
            evaluated_on=date(1, 1, 1),
            evaluator_name="Hilal",
            overall_rating=3,
            findings=TranslatedText(en="Fine."),
            actor=officer,
        )
    assert (refused.value.field, refused.value.code) == ("evaluated_on", "date_out_of_range")
    assert agreement.obligations == []
    assert agreement.evaluations == []


# --- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        (
            {"title": TranslatedText(en="Good title", id="Judul\x07buruk")},
            "title",
            "control_characters",
        ),
        ({"title": TranslatedText(en="Two\nlines")}, "title", "control_characters"),
        ({"title": TranslatedText(en="x" * 301)}, "title", "too_long"),
        ({"summary": TranslatedText(en="Escape \x1b[31m")}, "summary", "control_characters"),
        ({"summary": TranslatedText(id="x" * 4001)}, "summary", "too_long"),
        ({"unit_name": "x" * 10_000}, "unit_name", "too_long"),
        ({"unit_name": "   "}, "unit_name", "required"),
        ({"unit_name": "Kanwil\tBali"}, "unit_name", "control_characters"),
        ({"reference_number": "PAS\x00/1"}, "reference_number", "control_characters"),
        ({"signed_place": "x" * 201}, "signed_place", "too_long"),
    ],
)
def test_invalid_texts_are_refused_on_their_field(db, officer, registry, overrides, field, code):
    dukcapil, _, identity, _ = registry
    with pytest.raises(AgreementError) as refused:
        make_agreement([dukcapil], [identity], actor=officer, **overrides)
    assert (refused.value.field, refused.value.code) == (field, code)
    assert count_rows(Agreement) == 0


def test_texts_are_trimmed_and_multiline_ones_keep_their_line_breaks(db, officer, registry):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement(
        [dukcapil],
        [identity],
        title=TranslatedText(en="  Catfish farming  "),
        summary=TranslatedText(en="First line.\r\nSecond line."),
        unit_name="  Lapas Kerobokan ",
        reference_number="   ",
        parties=[PartyDetails(dukcapil.id, "  DUK/1  ")],
    )
    assert agreement.title.get("en") == "Catfish farming"
    assert agreement.summary.get("en") == "First line.\r\nSecond line."
    assert agreement.unit_name == "Lapas Kerobokan"
    assert agreement.reference_number is None
    assert agreement.parties[0].reference_number == "DUK/1"
    with pytest.raises(AgreementError) as refused:
        make_agreement([dukcapil], [identity], parties=[PartyDetails(dukcapil.id, "x" * 101)])
    assert refused.value.field == "parties"


def test_obligation_evaluation_and_scope_texts_refuse_control_characters(db, officer, registry):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement([dukcapil], [identity])
    with pytest.raises(AgreementError) as refused:
        services.add_obligation(
            agreement,
            partner_id=None,
            description=TranslatedText(en="Re\x0cport"),
            due_on=None,
            actor=officer,
        )
    assert refused.value.field == "description"
    evaluation = {
        "evaluated_on": date(2026, 10, 15),
        "evaluator_name": "Hilal",
        "overall_rating": 3,
        "findings": TranslatedText(en="Fine."),
    }
    for changes, field in [
        ({"findings": TranslatedText(id="Ba\x08ik")}, "findings"),
        ({"follow_up": TranslatedText(en="x" * 4001)}, "follow_up"),
        ({"evaluator_name": "Hi\x7flal"}, "evaluator_name"),
    ]:
        with pytest.raises(AgreementError) as refused:
            services.record_evaluation(
                agreement, actor=officer, today=date(2026, 11, 1), **{**evaluation, **changes}
            )
        assert refused.value.field == field
    with pytest.raises(AgreementError) as refused:
        services.create_scope_area(TranslatedText(en="Legal\naid"), actor=officer)
    assert refused.value.field == "name"
    assert agreement.obligations == []
    assert agreement.evaluations == []


def test_the_evaluator_is_linked_only_when_the_actor_names_themself(db, officer, registry):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement([dukcapil], [identity])
    values = {
        "evaluated_on": date(2026, 10, 15),
        "overall_rating": 4,
        "findings": TranslatedText(en="On track."),
        "actor": officer,
        "today": date(2026, 11, 1),
    }
    own = services.record_evaluation(agreement, evaluator_name=" hilal ", **values)
    external = services.record_evaluation(agreement, evaluator_name="Tim UNODC", **values)
    assert own.evaluator_id == officer.id
    assert external.evaluator_id is None
    assert external.evaluator_name == "Tim UNODC"


# --- removing obligations, deleting drafts --------------------------------------------------


def test_a_rated_obligation_cannot_be_removed_but_can_be_cancelled(db, officer, registry):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement([dukcapil], [identity])
    rated = services.add_obligation(
        agreement,
        partner_id=dukcapil.id,
        description=TranslatedText(en="Data access"),
        due_on=None,
        actor=officer,
    )
    services.record_evaluation(
        agreement,
        evaluated_on=date(2026, 10, 15),
        evaluator_name="Hilal",
        obligation_ratings={rated.id: 2},
        findings=TranslatedText(en="Slow."),
        actor=officer,
        today=date(2026, 11, 1),
    )
    db.session.commit()

    with pytest.raises(AgreementError) as refused:
        services.remove_obligation(rated, actor=officer)
    assert refused.value.code == "obligation_rated"
    assert "Cancelled" in str(refused.value)
    db.session.rollback()
    assert [o.id for o in agreement.obligations] == [rated.id]
    assert [r.rating for r in agreement.evaluations[0].ratings] == [2]

    services.set_obligation_status(rated, ObligationStatus.CANCELLED, actor=officer)
    assert rated.status == "cancelled"


def test_a_draft_is_deleted_with_everything_under_it(db, officer, registry):
    dukcapil, icjr, identity, _ = registry
    parent = make_agreement([dukcapil], [identity])
    draft = services.create_follow_up(
        parent,
        AgreementRelation.RENEWAL,
        services.follow_up_details(parent, AgreementRelation.RENEWAL),
        actor=officer,
    )
    obligation = services.add_obligation(
        draft,
        partner_id=None,
        description=TranslatedText(en="Report"),
        due_on=None,
        actor=officer,
    )
    draft.starts_on = None
    services.record_evaluation(
        draft,
        evaluated_on=date(2026, 1, 1),
        evaluator_name="Hilal",
        obligation_ratings={obligation.id: 3},
        findings=TranslatedText(en="Too early."),
        actor=officer,
        today=date(2026, 11, 1),
    )
    renewal_of_draft = services.create_follow_up(
        draft, AgreementRelation.ADDENDUM, agreement_details([icjr], [identity]), actor=officer
    )
    db.session.commit()

    services.delete_agreement(draft, actor=officer)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Agreement, draft.id) is None
    assert count_rows(Agreement) == 2
    # What it changed keeps a trace; what changed it keeps its relation without a parent.
    assert parent.history[0].action == "follow_up_deleted"
    assert parent.history[0].actor_id == officer.id
    assert renewal_of_draft.parent_id is None
    assert renewal_of_draft.relation == "addendum"


@pytest.mark.parametrize(
    "status",
    [
        AgreementStatus.IN_NEGOTIATION,
        AgreementStatus.ACTIVE,
        AgreementStatus.EXPIRED,
        AgreementStatus.TERMINATED,
    ],
)
def test_only_a_draft_can_be_deleted(db, officer, registry, status):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement([dukcapil], [identity])
    agreement.status = status.value
    db.session.commit()
    assert not services.can_delete_agreement(agreement)
    with pytest.raises(AgreementError) as refused:
        services.delete_agreement(agreement, actor=officer)
    assert refused.value.code == "not_a_draft"
    db.session.rollback()
    assert count_rows(Agreement) == 1


# --- one derived status, in Python and in SQL -----------------------------------------------


def test_the_sql_derived_status_matches_the_python_one(db, officer, registry):
    dukcapil, _, identity, _ = registry
    today = date(2026, 6, 1)
    ends = [None, today - timedelta(days=1), today, today + timedelta(days=90)]
    ends += [today + timedelta(days=91)]
    agreements = [
        make_agreement([dukcapil], [identity], starts_on=date(2025, 1, 1), ends_on=end)
        for end in ends
    ]
    for status in AgreementStatus:
        agreements.append(
            make_agreement([dukcapil], [identity], status=AgreementStatus.DRAFT, ends_on=None)
        )
        agreements[-1].status = status.value
    db.session.commit()
    rows = db.session.execute(select(Agreement.id, services.derived_status_column(today))).all()
    in_sql = dict(rows)
    assert in_sql == {a.id: a.derived_status(today).value for a in agreements}
    assert set(in_sql.values()) == {status.value for status in DerivedStatus}
    for status in DerivedStatus:
        found = db.session.scalars(services.filter_agreements(status=status.value, today=today))
        assert {a.id for a in found} == {a.id for a in agreements if in_sql[a.id] == status}


def test_the_search_text_is_trimmed_and_cut(db, officer, registry):
    dukcapil, _, identity, _ = registry
    agreement = make_agreement([dukcapil], [identity], title=TranslatedText(en="Lele_farming"))
    db.session.commit()

    def ids(q):
        return [a.id for a in db.session.scalars(services.filter_agreements(q=q))]

    assert ids("  lele_FARM  ") == [agreement.id]
    assert ids("lele%farming") == []  # a wildcard is only a character
    assert ids("Lele" + "x" * 10_000) == []  # cut to 200 characters, no error
