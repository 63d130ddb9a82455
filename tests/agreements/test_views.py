"""The registry pages through the test client: forms, list, filters, exports, partner panel."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from app.agreements import services
from app.agreements.models import (
    Agreement,
    AgreementHistory,
    AgreementParty,
    AgreementStatus,
    Evaluation,
    Obligation,
    ScopeArea,
    agreement_scope_areas,
)
from app.auth.models import Role
from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.partners.models import Partner, PartnerKind
from tests.agreements.factories import count_rows, make_agreement, make_partner, make_scope_area


@dataclass
class Registry:
    """Ids of what the tests build agreements from."""

    officer_id: int
    dukcapil_id: int
    icjr_id: int
    identity_id: int
    training_id: int


@pytest.fixture
def registry(app, make_user) -> Registry:
    """An officer, two partners and two scope areas, committed."""
    officer = make_user(roles=[Role.REGISTRY_OFFICER], name="M. Hilal")
    with app.test_request_context():
        dukcapil = make_partner(
            "Directorate General of Population and Civil Registration",
            "Dukcapil",
            PartnerKind.GOVERNMENT,
        )
        icjr = make_partner("Institute for Criminal Justice Reform", "ICJR")
        identity = make_scope_area(
            "Identity and population data", "Data identitas dan kependudukan"
        )
        training = make_scope_area("Officer capacity building", "Peningkatan kapasitas petugas")
        _db.session.commit()
        return Registry(officer.id, dukcapil.id, icjr.id, identity.id, training.id)


def _form(registry: Registry, **overrides) -> dict:
    """A complete new-agreement form submission with two parties and two scope areas."""
    data = {
        "status": "active",
        "kind": "pks",
        "reference_number": "PAS-8.HH.05.05-1",
        "title-en": "Verifying detainees' identities",
        "title-id": "Verifikasi identitas tahanan",
        "summary-en": "Population data for identity checks.",
        "parties-0-partner_id": str(registry.dukcapil_id),
        "parties-0-reference_number": "DUK/400/2025",
        "parties-1-partner_id": str(registry.icjr_id),
        "parties-1-reference_number": "",
        "parties-2-partner_id": "",
        "parties-2-reference_number": "",
        "unit_level": "central",
        "unit_name": "Direktorat Kerja Sama",
        "responsible_officer_id": str(registry.officer_id),
        "scope_area_ids": [str(registry.identity_id), str(registry.training_id)],
        "signed_on": "2025-10-02",
        "signed_place": "Jakarta",
        "starts_on": "2025-10-02",
        "ends_on": "",
        "duration_months": "60",
        "evaluation_interval_months": "12",
    }
    data.update(overrides)
    return data


def _row_counts(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            count_rows(table)
            for table in (Agreement, AgreementParty, agreement_scope_areas, AgreementHistory)
        )


def _today(app) -> date:
    """The registry's today (in the event's time zone)."""
    with app.app_context():
        return services.registry_today()


def _make(app, registry: Registry, **overrides) -> int:
    """Commit an agreement through the service; returns its id."""
    with app.test_request_context():
        partners = [
            _db.session.get(Partner, pid)
            for pid in overrides.pop("partner_ids", [registry.dukcapil_id])
        ]
        areas = [
            _db.session.get(ScopeArea, aid)
            for aid in overrides.pop("area_ids", [registry.identity_id])
        ]
        agreement = make_agreement(partners, areas, **overrides)
        _db.session.commit()
        return agreement.id


# --- registering ----------------------------------------------------------------------------


def test_registering_an_agreement_with_two_parties_and_two_scope_areas(app, client, auth, registry):
    auth.login_as(Role.REGISTRY_OFFICER)
    form_page = client.get("/agreements/new")
    assert form_page.status_code == 200
    assert form_page.get_data(as_text=True).count('name="parties-') == 6  # three rows

    response = client.post("/agreements/new", data=_form(registry))
    assert response.status_code == 302
    with app.app_context():
        agreement = _db.session.scalars(select(Agreement)).one()
        assert agreement.ends_on == date(2030, 10, 1)
        assert {p.partner_id: p.reference_number for p in agreement.parties} == {
            registry.dukcapil_id: "DUK/400/2025",
            registry.icjr_id: None,
        }
        assert {a.id for a in agreement.scope_areas} == {registry.identity_id, registry.training_id}
        assert agreement.status == "active"
        agreement_id = agreement.id
    assert response.headers["Location"] == f"/agreements/{agreement_id}"

    page = client.get(f"/agreements/{agreement_id}", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'href="/partners/{registry.dukcapil_id}"' in html
    assert f'href="/partners/{registry.icjr_id}"' in html
    assert "Officer capacity building" in html
    assert "DUK/400/2025" in html
    assert "Registered" in html  # the history
    assert "M. Hilal" in html


def test_an_end_date_before_the_start_is_refused_on_the_form_and_nothing_saved(
    app, client, auth, registry
):
    auth.login_as(Role.REGISTRY_OFFICER)
    before = _row_counts(app)
    response = client.post(
        "/agreements/new",
        data=_form(registry, duration_months="", starts_on="2025-10-02", ends_on="2025-09-30"),
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "The end date must be on or after the start date." in html
    assert 'id="ends_on-error"' in html
    assert _row_counts(app) == before


def test_no_party_and_unknown_scope_area_are_refused_on_the_form(app, client, auth, registry):
    auth.login_as(Role.REGISTRY_OFFICER)
    before = _row_counts(app)
    no_party = _form(registry, **{"parties-0-partner_id": "", "parties-1-partner_id": ""})
    no_party["parties-0-reference_number"] = ""
    html = client.post("/agreements/new", data=no_party).get_data(as_text=True)
    assert "Add at least one partner party to the agreement." in html

    unknown = _form(registry, scope_area_ids=[str(registry.identity_id), "99999"])
    html = client.post("/agreements/new", data=unknown).get_data(as_text=True)
    assert "one of them is unknown" in html

    no_scope = _form(registry, scope_area_ids=[])
    html = client.post("/agreements/new", data=no_scope).get_data(as_text=True)
    assert "Choose at least one scope area." in html

    orphan_reference = _form(registry, **{"parties-2-reference_number": "X/1"})
    html = client.post("/agreements/new", data=orphan_reference).get_data(as_text=True)
    assert "Choose the partner this reference number belongs to." in html
    assert _row_counts(app) == before


def test_more_party_rows_without_losing_what_was_typed(app, client, auth, registry):
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post("/agreements/new", data=_form(registry, more_parties="1"))
    html = response.get_data(as_text=True)
    assert html.count('name="parties-') == 12  # six rows
    assert "DUK/400/2025" in html
    assert "Please correct" not in html
    assert _row_counts(app)[0] == 0
    assert (
        client.get("/agreements/new?parties=5").get_data(as_text=True).count('name="parties-') == 10
    )


def test_organisers_read_but_do_not_edit(app, client, auth, registry):
    agreement_id = _make(app, registry)
    auth.login_as(Role.ORGANISER)
    html = client.get("/agreements/").get_data(as_text=True)
    assert "Register an agreement" not in html
    page = client.get(f"/agreements/{agreement_id}").get_data(as_text=True)
    assert "Edit details" not in page
    assert client.get("/agreements/new").status_code == 403
    assert (
        client.post(f"/agreements/{agreement_id}/status", data={"status": "expired"}).status_code
        == 403
    )
    assert client.get(f"/agreements/{agreement_id}/edit").status_code == 403


# --- editing, status, follow-ups -------------------------------------------------------------


def test_editing_shows_the_change_in_the_history(app, client, auth, registry):
    agreement_id = _make(app, registry, responsible_officer_id=registry.officer_id)
    auth.login_as(Role.REGISTRY_OFFICER)
    form = client.get(f"/agreements/{agreement_id}/edit").get_data(as_text=True)
    assert "Direktorat Kerja Sama" in form
    data = _form(
        registry,
        unit_name="Kanwil Bali",
        unit_level="regional",
        starts_on="2025-10-02",
        duration_months="",
        ends_on="2030-10-01",
    )
    data.pop("status")
    response = client.post(f"/agreements/{agreement_id}/edit", data=data)
    assert response.status_code == 302
    html = client.get(f"/agreements/{agreement_id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Details changed" in html
    assert "<del>Direktorat Kerja Sama</del> → <ins>Kanwil Bali</ins>" in html
    assert "<del>Central office</del> → <ins>Regional office (Kanwil)</ins>" in html


def test_changing_status_only_along_allowed_moves(app, client, auth, registry):
    agreement_id = _make(app, registry, status=AgreementStatus.DRAFT)
    auth.login_as(Role.REGISTRY_OFFICER)
    url = f"/agreements/{agreement_id}/status"
    response = client.post(url, data={"status": "expired"}, follow_redirects=True)
    assert "Choose one of the statuses offered." in response.get_data(as_text=True)
    client.post(url, data={"status": "active"})
    with app.app_context():
        assert _db.session.get(Agreement, agreement_id).status == "active"
    response = client.post(url, data={"status": "terminated"}, follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        assert _db.session.get(Agreement, agreement_id).status == "terminated"


def test_an_activation_without_dates_is_refused_with_its_reason(app, client, auth, registry):
    agreement_id = _make(app, registry, status=AgreementStatus.DRAFT, signed_on=None)
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post(
        f"/agreements/{agreement_id}/status",
        data={"status": "active"},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "An active agreement needs its signing date." in response.get_data(as_text=True)
    with app.app_context():
        assert _db.session.get(Agreement, agreement_id).status == "draft"


def test_a_renewal_is_prefilled_and_linked(app, client, auth, registry):
    parent_id = _make(app, registry)
    auth.login_as(Role.REGISTRY_OFFICER)
    form = client.get(f"/agreements/{parent_id}/follow-up/renewal").get_data(as_text=True)
    assert 'value="2030-10-02"' in form  # starts the day after the old term
    assert client.get(f"/agreements/{parent_id}/follow-up/nonsense").status_code == 404

    data = _form(registry, starts_on="2030-10-02", signed_on="", status="draft")
    response = client.post(f"/agreements/{parent_id}/follow-up/renewal", data=data)
    assert response.status_code == 302
    with app.app_context():
        renewal = _db.session.scalars(
            select(Agreement).where(Agreement.parent_id == parent_id)
        ).one()
        assert renewal.relation == "renewal"
        renewal_id = renewal.id
    parent_page = client.get(f"/agreements/{parent_id}").get_data(as_text=True)
    assert f'href="/agreements/{renewal_id}"' in parent_page


# --- obligations and evaluations -------------------------------------------------------------


def test_obligations_are_added_updated_and_removed(app, client, auth, registry):
    agreement_id = _make(app, registry)
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post(
        f"/agreements/{agreement_id}/obligations/new",
        data={
            "partner_id": str(registry.dukcapil_id),
            "description-en": "Open the population database to Lapas staff",
            "due_on": "2026-03-01",
            "status": "planned",
        },
    )
    assert response.status_code == 302
    refused = client.post(
        f"/agreements/{agreement_id}/obligations/new",
        data={"partner_id": str(registry.icjr_id), "description-en": "x", "status": "planned"},
    )
    assert "Choose a party to this agreement." in refused.get_data(as_text=True)
    with app.app_context():
        obligation_id = _db.session.scalars(select(Obligation.id)).one()

    base = f"/agreements/{agreement_id}/obligations/{obligation_id}"
    client.post(f"{base}/status", data={f"obligation-{obligation_id}-status": "done"})
    with app.app_context():
        assert _db.session.get(Obligation, obligation_id).status == "done"
    client.post(f"{base}/delete")
    with app.app_context():
        assert count_rows(Obligation) == 0


def test_an_evaluation_is_recorded_and_the_overdue_list_follows(app, client, auth, registry):
    today = _today(app)
    agreement_id = _make(
        app,
        registry,
        starts_on=today - timedelta(days=400),
        signed_on=today - timedelta(days=400),
        ends_on=today + timedelta(days=1000),
        evaluation_interval_months=12,
        title=TranslatedText(en="Catfish farming training"),
    )
    auth.login_as(Role.REGISTRY_OFFICER)
    overdue = client.get("/agreements/evaluations/overdue").get_data(as_text=True)
    assert "Catfish farming training" in overdue
    show = client.get(f"/agreements/{agreement_id}").get_data(as_text=True)
    assert 'class="overdue"' in show

    refused = client.post(
        f"/agreements/{agreement_id}/evaluations/new",
        data={"evaluated_on": today.isoformat(), "evaluator_name": "Hilal", "findings-en": "ok"},
    )
    assert "Give an overall rating or rate at least one obligation." in refused.get_data(
        as_text=True
    )
    response = client.post(
        f"/agreements/{agreement_id}/evaluations/new",
        data={
            "evaluated_on": today.isoformat(),
            "evaluator_name": "Hilal",
            "overall_rating": "4",
            "findings-id": "Pelatihan berjalan baik.",
            "follow_up-en": "Add a second batch.",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        evaluation = _db.session.scalars(select(Evaluation)).one()
        assert evaluation.overall_rating == 4
        agreement = _db.session.get(Agreement, agreement_id)
        assert services.next_evaluation_due(agreement) == services.add_months(today, 12)
    overdue = client.get("/agreements/evaluations/overdue").get_data(as_text=True)
    assert "Catfish farming training" not in overdue
    assert "No evaluation is due." in overdue


# --- the list, filters and exports -----------------------------------------------------------


@pytest.fixture
def listed(app, registry) -> dict[str, int]:
    """Four agreements: expiring, expired, active and draft."""
    today = _today(app)
    return {
        "expiring": _make(
            app,
            registry,
            title=TranslatedText(en="Population data access", id="Akses data kependudukan"),
            starts_on=date(2024, 1, 1),
            signed_on=date(2024, 1, 1),
            ends_on=today + timedelta(days=20),
        ),
        "expired": _make(
            app,
            registry,
            partner_ids=[registry.icjr_id],
            title=TranslatedText(en="Legal aid training", id="Pelatihan bantuan hukum"),
            starts_on=date(2023, 1, 1),
            signed_on=date(2023, 1, 1),
            ends_on=today - timedelta(days=3),
            kind="mou",
        ),
        "active": _make(
            app,
            registry,
            partner_ids=[registry.dukcapil_id, registry.icjr_id],
            area_ids=[registry.identity_id, registry.training_id],
            title=TranslatedText(en="Entrepreneurship for clients", id="Kewirausahaan klien"),
            starts_on=date(2025, 10, 2),
            signed_on=date(2025, 10, 2),
            ends_on=today + timedelta(days=900),
        ),
        "draft": _make(
            app,
            registry,
            title=TranslatedText(en="Health counselling"),
            status=AgreementStatus.DRAFT,
            signed_on=None,
        ),
    }


def test_the_list_filters_searches_and_shows_derived_status(client, auth, listed, registry):
    auth.login_as(Role.ORGANISER)
    html = client.get("/agreements/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for title in ("Population data access", "Legal aid training", "Health counselling"):
        assert title in html
    assert "Expiring soon" in html
    assert '<span class="badge badge-bad">Expired</span>' in html
    assert "Not a valid choice" not in html  # no filter is not a wrong filter

    expiring = client.get("/agreements/?status=expiring").get_data(as_text=True)
    assert "Population data access" in expiring
    assert "Legal aid training" not in expiring
    assert "Entrepreneurship for clients" not in expiring

    search = client.get("/agreements/?q=kewirausahaan").get_data(as_text=True)
    assert "Entrepreneurship for clients" in search or "Kewirausahaan klien" in search
    assert "Population data" not in search

    by_partner = client.get(f"/agreements/?partner_id={registry.icjr_id}&kind=mou").get_data(
        as_text=True
    )
    assert "Legal aid training" in by_partner
    assert "Entrepreneurship for clients" not in by_partner

    nothing = client.get("/agreements/?q=zzz-no-such-thing", headers={"Accept-Language": "en"})
    assert "No agreement matches these filters." in nothing.get_data(as_text=True)

    junk = client.get(
        "/agreements/?status=bogus&year=abc&scope_area_id=x", headers={"Accept-Language": "en"}
    )
    assert junk.status_code == 200
    assert "Not a valid choice." in junk.get_data(as_text=True)
    assert "Legal aid training" in junk.get_data(as_text=True)  # the bad filters are ignored


def test_an_empty_registry_says_so(client, auth):
    auth.login_as(Role.REGISTRY_OFFICER)
    html = client.get("/agreements/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No agreements registered yet." in html
    assert "Register the first agreement" in html


def test_csv_export_of_the_filtered_list(client, auth, listed):
    auth.login_as(Role.ORGANISER)
    response = client.get(
        "/agreements/export.csv?status=expiring&page=3", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == [
        "Our reference",
        "Kind",
        "Title",
        "Partners",
        "Level",
        "Unit",
        "Scope areas",
        "Signed on",
        "Starts on",
        "Ends on",
        "Status",
        "Responsible officer",
    ]
    assert len(rows) == 2
    (row,) = rows[1:]
    assert row[2] == "Population data access"
    assert row[3] == "Directorate General of Population and Civil Registration (Dukcapil)"
    assert row[7] == "2024-01-01"
    assert row[10] == "Expiring soon"


def test_xlsx_export_of_the_filtered_list(client, auth, listed, registry):
    auth.login_as(Role.REGISTRY_OFFICER, language="id")
    response = client.get(f"/agreements/export.xlsx?partner_id={registry.icjr_id}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    titles = sorted(row[2] for row in rows[1:])
    assert titles == ["Kewirausahaan klien", "Pelatihan bantuan hukum"]  # Indonesian
    assert all(isinstance(row[7].year, int) for row in rows[1:])  # real dates


def test_exports_are_refused_to_gate_staff_and_delegates(client, auth):
    for role in (Role.GATE_STAFF, Role.DELEGATE):
        auth.login_as(role)
        assert client.get("/agreements/export.csv").status_code == 403
        assert client.get("/agreements/export.xlsx").status_code == 403
        auth.logout()


def _bulk_agreements(app, registry: Registry, first: int, last: int) -> None:
    """Insert agreements first..last with a party and a scope area each, in three statements."""
    numbers = range(first, last + 1)
    partners = (registry.dukcapil_id, registry.icjr_id)
    areas = (registry.identity_id, registry.training_id)
    with app.app_context():
        _db.session.execute(
            insert(Agreement),
            [
                {
                    "id": n,
                    "kind": "pks",
                    "title": {"en": f"Agreement {n}", "id": f"Perjanjian {n}"},
                    "status": "active",
                    "unit_level": "central",
                    "unit_name": "Direktorat Kerja Sama",
                    "responsible_officer_id": registry.officer_id,
                    "signed_on": date(2024, 1, 1) + timedelta(days=n % 300),
                    "starts_on": date(2024, 1, 1),
                    "ends_on": date(2040, 1, 1) + timedelta(days=n),
                    "is_sample": False,
                }
                for n in numbers
            ],
        )
        _db.session.execute(
            insert(AgreementParty),
            [
                {"agreement_id": n, "partner_id": partners[n % 2], "reference_number": f"R{n}"}
                for n in numbers
            ],
        )
        _db.session.execute(
            insert(agreement_scope_areas),
            [{"agreement_id": n, "scope_area_id": areas[n % 2]} for n in numbers],
        )
        _db.session.commit()


@pytest.mark.parametrize("query", ["", "?status=active&q=agreement&year=2024"])
def test_the_list_issues_the_same_queries_for_10_and_2000_agreements(
    app, client, auth, registry, count_queries, query
):
    auth.login_as(Role.REGISTRY_OFFICER)
    url = f"/agreements/{query}"

    _bulk_agreements(app, registry, 1, 10)
    client.get(url)  # warm caches (locale, session)
    with count_queries() as small:
        response = client.get(url)
    assert response.status_code == 200
    assert "Agreement" in response.get_data(as_text=True)

    _bulk_agreements(app, registry, 11, 2000)
    with count_queries() as large:
        response = client.get(url)
    assert response.status_code == 200
    assert small.count == large.count, (small.statements, large.statements)


# --- the partner page and scope areas --------------------------------------------------------


def test_the_partner_page_lists_its_agreements_by_status(client, auth, listed, registry):
    auth.login_as(Role.ORGANISER)
    html = client.get(f"/partners/{registry.icjr_id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Cooperation agreements" in html
    assert "Legal aid training" in html
    assert "Entrepreneurship for clients" in html
    assert "Population data access" not in html  # Dukcapil's only
    assert html.index("Entrepreneurship for clients") < html.index("Legal aid training")
    assert f'href="/agreements/{listed["expired"]}"' in html


def test_scope_areas_are_added_renamed_and_retired(app, client, auth):
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post(
        "/agreements/scope-areas/new", data={"name-en": "Food security", "name-id": ""}
    )
    assert response.status_code == 302
    with app.app_context():
        area_id = _db.session.scalars(select(ScopeArea.id)).one()
    duplicate = client.post("/agreements/scope-areas/new", data={"name-en": "FOOD SECURITY"})
    assert "Another scope area already has this name." in duplicate.get_data(as_text=True)

    listing = client.get("/agreements/scope-areas/").get_data(as_text=True)
    assert "Food security" in listing
    client.post(
        f"/agreements/scope-areas/{area_id}/edit",
        data={"name-en": "Food security", "name-id": "Ketahanan pangan"},
    )
    with app.app_context():
        area = _db.session.get(ScopeArea, area_id)
        assert area.name.get("id") == "Ketahanan pangan"
        assert area.active is False  # the box was left unticked


# --- hostile and out-of-range input ----------------------------------------------------------

HUGE = "9" * 20  # beyond any database integer
LONG = "x" * 10_000


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_on": "9999-06-01", "duration_months": "12"}, "starts_on"),
        ({"signed_on": "0001-01-01"}, "signed_on"),
        ({"ends_on": "2101-01-01", "duration_months": ""}, "ends_on"),
    ],
)
def test_dates_beyond_the_registry_years_are_refused_on_the_form(
    app, client, auth, registry, overrides, field
):
    auth.login_as(Role.REGISTRY_OFFICER)
    before = _row_counts(app)
    response = client.post("/agreements/new", data=_form(registry, **overrides))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Give a date between 1945 and 2100." in html
    assert f'id="{field}-error"' in html
    assert _row_counts(app) == before


def test_a_duration_ending_after_2100_is_refused_on_its_field(app, client, auth, registry):
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post(
        "/agreements/new", data=_form(registry, starts_on="2099-06-01", duration_months="600")
    )
    html = response.get_data(as_text=True)
    assert "With this duration the agreement would end after 2100." in html
    assert 'id="duration_months-error"' in html
    assert _row_counts(app)[0] == 0


@pytest.mark.parametrize(
    "overrides",
    [
        {"responsible_officer_id": HUGE},
        {"responsible_officer_id": "-1"},
        {"parties-0-partner_id": HUGE},
        {"parties-0-partner_id": "abc"},
        {"scope_area_ids": [HUGE]},
        {"scope_area_ids": ["", "abc"]},
        {"kind": "bogus"},
        {"unit_level": "bogus"},
        {"status": "expired"},
        {"status": "bogus"},
        {"signed_on": "2025-02-30"},
        {"starts_on": "yesterday"},
        {"ends_on": "99999-01-01"},
        {"duration_months": HUGE},
        {"evaluation_interval_months": "-5"},
        {"evaluation_interval_months": HUGE},
        {"unit_name": LONG},
        {"title-en": LONG},
        {"summary-id": LONG},
        {"reference_number": LONG},
        {"parties-0-reference_number": LONG},
        {"signed_place": LONG},
        {"title-en": "Bell\x07 in the title"},
        {"unit_name": "Kanwil\tBali"},
    ],
    ids=lambda overrides: next(iter(overrides)),
)
def test_hostile_agreement_input_is_refused_without_saving(app, client, auth, registry, overrides):
    auth.login_as(Role.REGISTRY_OFFICER)
    before = _row_counts(app)
    response = client.post("/agreements/new", data=_form(registry, **overrides))
    assert response.status_code == 200
    assert 'class="error"' in response.get_data(as_text=True)
    assert _row_counts(app) == before


def test_html_in_a_title_is_shown_as_text(app, client, auth, registry):
    title = '<script>alert("pks")</script><b>PKS</b>'
    agreement_id = _make(
        app, registry, status=AgreementStatus.DRAFT, title=TranslatedText(en=title)
    )
    auth.login_as(Role.REGISTRY_OFFICER)
    pages = [
        f"/agreements/{agreement_id}",
        "/agreements/",
        f"/partners/{registry.dukcapil_id}",
        f"/agreements/{agreement_id}/delete",
        f"/agreements/{agreement_id}/evaluations/new",
        f"/agreements/{agreement_id}/follow-up/addendum",
    ]
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;" in html, url
        assert "<script>alert" not in html, url
        assert "<b>PKS</b>" not in html, url


def test_hostile_input_on_the_other_registry_forms_changes_nothing(app, client, auth, registry):
    agreement_id = _make(app, registry)
    with app.app_context():
        agreement = _db.session.get(Agreement, agreement_id)
        obligation = services.add_obligation(
            agreement,
            partner_id=None,
            description=TranslatedText(en="Report"),
            due_on=None,
            actor=None,
        )
        _db.session.commit()
        obligation_id = obligation.id
    auth.login_as(Role.REGISTRY_OFFICER)
    base = f"/agreements/{agreement_id}"
    refused_on_the_form = [
        (f"{base}/obligations/new", {"partner_id": HUGE, "description-en": "x"}),
        (f"{base}/obligations/new", {"description-en": "x", "status": "bogus"}),
        (f"{base}/obligations/new", {"description-en": "x", "due_on": "9999-12-31"}),
        (f"{base}/obligations/new", {"description-en": LONG}),
        (f"{base}/obligations/new", {"description-en": "Null\x00 and bell\x07"}),
        (
            f"{base}/evaluations/new",
            {"evaluated_on": "0001-01-01", "evaluator_name": "H", "overall_rating": "3"},
        ),
        (f"{base}/evaluations/new", {"evaluated_on": "2026-01-01", "overall_rating": HUGE}),
        (
            f"{base}/evaluations/new",
            {"evaluated_on": "2026-01-01", f"rating_{obligation_id}": "7", "findings-en": "x"},
        ),
        (f"{base}/evaluations/new", {"evaluated_on": "2026-01-01", "evaluator_name": LONG}),
        ("/agreements/scope-areas/new", {"name-en": LONG}),
        ("/agreements/scope-areas/new", {"name-en": "Legal\x1baid"}),
    ]
    before = _row_counts(app)
    for url, data in refused_on_the_form:
        response = client.post(url, data=data)
        assert response.status_code == 200, (url, data)
        assert 'class="error"' in response.get_data(as_text=True), (url, data)
    for url, data in [
        (f"{base}/status", {"status": "bogus"}),
        (
            f"{base}/obligations/{obligation_id}/status",
            {f"obligation-{obligation_id}-status": HUGE},
        ),
    ]:
        assert client.post(url, data=data).status_code == 302, url
    assert _row_counts(app) == before
    with app.app_context():
        assert count_rows(Obligation) == 1
        assert count_rows(Evaluation) == 0
        assert count_rows(ScopeArea) == 2
        assert _db.session.get(Obligation, obligation_id).status == "planned"


@pytest.mark.parametrize(
    "query",
    [
        f"scope_area_id={HUGE}",
        f"partner_id={HUGE}",
        "partner_id=-3",
        f"year={HUGE}",
        "year=0",
        f"q={LONG}",
        "q=%25_%5C",
        "status=bogus&kind=bogus&level=bogus",
        f"page={HUGE}",
        f"parties={HUGE}",
    ],
)
def test_hostile_list_filters_are_answered_without_error(client, auth, listed, query):
    auth.login_as(Role.ORGANISER)
    assert client.get(f"/agreements/?{query}").status_code == 200
    assert client.get(f"/agreements/export.csv?{query}").status_code == 200


def test_hostile_party_row_counts_are_capped(client, auth, registry):
    auth.login_as(Role.REGISTRY_OFFICER)
    for query in (f"parties={HUGE}", "parties=-4"):
        response = client.get(f"/agreements/new?{query}")
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('name="parties-') <= 40


# --- deleting a draft, removing a rated obligation -------------------------------------------


def test_a_draft_registered_by_mistake_is_deleted_after_confirmation(app, client, auth, registry):
    draft_id = _make(
        app, registry, status=AgreementStatus.DRAFT, title=TranslatedText(en="Typo draft")
    )
    auth.login_as(Role.REGISTRY_OFFICER)
    page = client.get(f"/agreements/{draft_id}", headers={"Accept-Language": "en"})
    assert f'href="/agreements/{draft_id}/delete"' in page.get_data(as_text=True)

    confirmation = client.get(f"/agreements/{draft_id}/delete", headers={"Accept-Language": "en"})
    assert confirmation.status_code == 200
    assert "Typo draft" in confirmation.get_data(as_text=True)
    assert _row_counts(app)[0] == 1

    response = client.post(f"/agreements/{draft_id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"] == "/agreements/"
    assert _row_counts(app) == (0, 0, 0, 0)
    assert client.get(f"/agreements/{draft_id}").status_code == 404


def test_only_drafts_can_be_deleted_and_only_by_editors(app, client, auth, registry):
    active_id = _make(app, registry)
    draft_id = _make(app, registry, status=AgreementStatus.DRAFT)
    auth.login_as(Role.REGISTRY_OFFICER)
    page = client.get(f"/agreements/{active_id}").get_data(as_text=True)
    assert f"/agreements/{active_id}/delete" not in page
    for method in (client.get, client.post):
        response = method(
            f"/agreements/{active_id}/delete",
            follow_redirects=True,
            headers={"Accept-Language": "en"},
        )
        assert "Only a draft can be deleted." in response.get_data(as_text=True)
    auth.logout()
    auth.login_as(Role.ORGANISER)
    assert client.get(f"/agreements/{draft_id}/delete").status_code == 403
    assert client.post(f"/agreements/{draft_id}/delete").status_code == 403
    assert _row_counts(app)[0] == 2


def test_removing_a_rated_obligation_is_refused_with_advice(app, client, auth, registry):
    agreement_id = _make(app, registry)
    with app.app_context():
        agreement = _db.session.get(Agreement, agreement_id)
        obligation = services.add_obligation(
            agreement,
            partner_id=None,
            description=TranslatedText(en="Quarterly report"),
            due_on=None,
            actor=None,
        )
        services.record_evaluation(
            agreement,
            evaluated_on=date(2025, 12, 1),
            evaluator_name="Hilal",
            obligation_ratings={obligation.id: 3},
            findings=TranslatedText(en="On time."),
            actor=None,
            today=date(2026, 1, 1),
        )
        _db.session.commit()
        obligation_id = obligation.id
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.post(
        f"/agreements/{agreement_id}/obligations/{obligation_id}/delete",
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    html = response.get_data(as_text=True)
    assert "was rated in an evaluation, so it cannot be removed" in html
    assert "Set its status to “Cancelled” instead." in html
    with app.app_context():
        assert count_rows(Obligation) == 1
        (evaluation,) = _db.session.scalars(select(Evaluation))
        assert [rating.rating for rating in evaluation.ratings] == [3]


def test_an_evaluation_by_the_signed_in_officer_is_linked_to_their_account(
    app, client, auth, registry
):
    agreement_id = _make(app, registry)
    officer = auth.login_as(Role.REGISTRY_OFFICER, name="Siti Rahma")
    today = _today(app).isoformat()
    for name in ("Siti Rahma", "Tim evaluasi Kanwil"):
        response = client.post(
            f"/agreements/{agreement_id}/evaluations/new",
            data={
                "evaluated_on": today,
                "evaluator_name": name,
                "overall_rating": "4",
                "findings-en": "Fine.",
            },
        )
        assert response.status_code == 302
    with app.app_context():
        linked = {e.evaluator_name: e.evaluator_id for e in _db.session.scalars(select(Evaluation))}
    assert linked == {"Siti Rahma": officer.id, "Tim evaluasi Kanwil": None}


def test_out_of_range_and_control_character_messages_name_their_fields(app, client, auth, registry):
    agreement_id = _make(app, registry)
    auth.login_as(Role.REGISTRY_OFFICER)
    english = {"Accept-Language": "en"}
    html = client.post(
        "/agreements/new", data=_form(registry, **{"title-id": "Judul\x07"}), headers=english
    ).get_data(as_text=True)
    assert "Remove the control characters from this text." in html
    assert 'id="title-error"' in html

    html = client.post(
        f"/agreements/{agreement_id}/obligations/new",
        data={"description-en": "Report", "due_on": "9999-12-31", "status": "planned"},
        headers=english,
    ).get_data(as_text=True)
    assert "Give a date between 1945 and 2100." in html
    assert 'id="due_on-error"' in html

    html = client.post(
        f"/agreements/{agreement_id}/evaluations/new",
        data={
            "evaluated_on": "0001-01-01",
            "evaluator_name": "Hilal",
            "overall_rating": "3",
            "findings-en": "Fine.",
        },
        headers=english,
    ).get_data(as_text=True)
    assert "Give a date between 1945 and 2100." in html
    assert 'id="evaluated_on-error"' in html
    with app.app_context():
        assert count_rows(Obligation) == 0
        assert count_rows(Evaluation) == 0
