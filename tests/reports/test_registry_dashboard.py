"""The registry dashboard: who sees it, its figures, its filters, its exports, its queries."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from app.agreements.models import Agreement, AgreementParty, ScopeArea, agreement_scope_areas
from app.agreements.services import registry_today
from app.auth.models import Role
from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.partners.models import Partner, name_key
from app.reports.registry import RegistryFilters, registry_statistics

URL = "/reports/registry"


def _partner(name: str, kind: str) -> Partner:
    partner = Partner(name=name, name_key=name_key(name), kind=kind, country="ID")
    _db.session.add(partner)
    return partner


def _area(code: str, english: str, indonesian: str, position: int) -> ScopeArea:
    area = ScopeArea(code=code, name=TranslatedText(en=english, id=indonesian), position=position)
    _db.session.add(area)
    return area


def _agreement(
    signed_on: date | None,
    *,
    kind: str = "pks",
    level: str = "central",
    status: str = "active",
    ends_on: date | None = None,
    partners: tuple[Partner, ...] = (),
    areas: tuple[ScopeArea, ...] = (),
) -> Agreement:
    agreement = Agreement(
        kind=kind,
        title=TranslatedText(en="Agreement", id="Perjanjian"),
        status=status,
        unit_level=level,
        unit_name="Unit",
        signed_on=signed_on,
        starts_on=signed_on,
        ends_on=ends_on,
    )
    agreement.parties = [AgreementParty(partner=partner) for partner in partners]
    agreement.scope_areas = list(areas)
    _db.session.add(agreement)
    return agreement


@pytest.fixture
def known_registry(db):
    """Seven agreements whose every figure is known.

    signed: 2022 ×1, 2024 ×3, 2025 ×2 (2023 none), plus one draft without a date.
    """
    today = registry_today()
    ngo = _partner("Institute for Criminal Justice Reform", "ngo")
    ministry = _partner("Direktorat Jenderal Kependudukan dan Pencatatan Sipil", "government")
    firm = _partner("PT Mitra Sejati Laksana", "business")
    legal = _area("legal_aid", "Legal aid", "Bantuan hukum", 1)
    identity = _area("identity_data", "Identity and population data", "Data kependudukan", 2)
    _area("unused", "Unused area", "Tidak dipakai", 3)
    _agreement(
        date(2022, 3, 1),
        kind="mou",
        status="active",
        ends_on=date(2023, 3, 1),
        partners=(ngo,),
        areas=(legal,),
    )  # lapsed: expired
    _agreement(
        date(2024, 1, 10),
        status="active",
        ends_on=today + timedelta(days=30),
        partners=(ngo, ministry),
        areas=(legal, identity),
    )  # expiring
    _agreement(
        date(2024, 5, 5),
        level="regional",
        status="active",
        ends_on=today + timedelta(days=400),
        partners=(ministry,),
        areas=(identity,),
    )  # active
    _agreement(
        date(2024, 9, 9),
        level="technical_unit",
        status="terminated",
        ends_on=today + timedelta(days=400),
        partners=(firm,),
    )
    _agreement(
        date(2025, 10, 2),
        level="technical_unit",
        status="active",
        ends_on=today + timedelta(days=90),
        partners=(firm, ngo),
    )  # expiring (exactly 90 days is still "expiring")
    _agreement(
        date(2025, 10, 2),
        kind="addendum",
        status="expired",
        ends_on=today - timedelta(days=1),
        partners=(ministry,),
    )
    _agreement(None, kind="letter_of_intent", status="draft", partners=(ngo,))
    _db.session.commit()
    return today


def _as_dict(counts) -> dict[str, int]:
    return {count.key: count.value for count in counts}


def test_figures_of_a_known_registry(known_registry):
    stats = registry_statistics(RegistryFilters(), known_registry)
    assert stats.total == 7
    assert stats.samples == 0
    assert [(y.year, y.signed, y.cumulative) for y in stats.per_year] == [
        (2022, 1, 1),
        (2023, 0, 1),
        (2024, 3, 4),
        (2025, 2, 6),
    ]
    previous, total = stats.growth
    assert (previous.year, previous.signed, total) == (2024, 3, 6)
    assert _as_dict(stats.by_status) == {
        "draft": 1,
        "in_negotiation": 0,
        "active": 1,
        "expiring": 2,
        "expired": 2,
        "terminated": 1,
    }
    assert _as_dict(stats.by_kind) == {
        "mou": 1,
        "pks": 4,
        "letter_of_intent": 1,
        "implementing_arrangement": 0,
        "addendum": 1,
    }
    assert _as_dict(stats.by_level) == {"central": 4, "regional": 1, "technical_unit": 2}
    assert _as_dict(stats.by_scope_area) == {"legal_aid": 2, "identity_data": 2, "unused": 0}
    partner_kinds = _as_dict(stats.by_partner_kind)
    # The 2025 agreement with the firm and the NGO counts once for each kind.
    assert partner_kinds["ngo"] == 4
    assert partner_kinds["government"] == 3
    assert partner_kinds["business"] == 2
    assert partner_kinds["academia"] == 0


def test_status_counts_agree_with_each_agreements_derived_status(known_registry):
    # The dashboard counts with the registry's one SQL twin of Agreement.derived_status.
    stats = registry_statistics(RegistryFilters(), known_registry)
    agreements = _db.session.scalars(select(Agreement)).all()
    expected = Counter(agreement.derived_status(known_registry).value for agreement in agreements)
    assert {key: value for key, value in _as_dict(stats.by_status).items() if value} == expected


def test_filters_by_level_and_signing_years(known_registry):
    stats = registry_statistics(RegistryFilters(level="technical_unit"), known_registry)
    assert stats.total == 2
    assert [(y.year, y.signed, y.cumulative) for y in stats.per_year] == [
        (2024, 1, 1),
        (2025, 1, 2),
    ]

    stats = registry_statistics(RegistryFilters(year_from=2024, year_to=2024), known_registry)
    assert stats.total == 3
    # The running total still counts what was signed before the range.
    assert [(y.year, y.signed, y.cumulative) for y in stats.per_year] == [(2024, 3, 4)]
    assert _as_dict(stats.by_status)["draft"] == 0


@pytest.mark.parametrize("role", [Role.REGISTRY_OFFICER, Role.ORGANISER, Role.ADMIN])
def test_the_dashboard_renders_for_those_who_keep_or_read_the_registry(
    client, auth, known_registry, role
):
    auth.login_as(role)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "3 → 6" in page
    assert page.count("<svg") == 6
    assert 'role="img"' in page
    assert '<title id="chart-years-title">' in page
    assert '<desc id="chart-years-desc">' in page
    assert "<details" in page
    assert "/reports/registry/figures.csv" in page
    assert "/reports/registry/figures.xlsx" in page


@pytest.mark.parametrize("role", [Role.GATE_STAFF, Role.DELEGATE])
def test_gate_staff_and_delegates_are_refused(client, auth, role):
    auth.login_as(role)
    for url in (URL, URL + "/figures.csv", URL + "/figures.xlsx"):
        assert client.get(url).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_the_dashboard_shows_the_numbers_in_indonesian(client, auth, known_registry):
    auth.login_as(Role.REGISTRY_OFFICER, language="id")
    page = client.get(URL).get_data(as_text=True)
    assert '<html lang="id">' in page
    assert "Bantuan hukum" in page
    assert ">2</td>" in page


def test_bad_filters_are_flagged_and_ignored(client, auth, known_registry):
    auth.login_as(Role.ORGANISER)
    response = client.get(URL, query_string={"year_from": "abc", "level": "moon"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('class="error"') == 2
    assert "3 → 6" in page  # unfiltered figures

    response = client.get(URL, query_string={"year_from": "2025", "year_to": "2024"})
    assert "The last year must not be before the first year." in response.get_data(as_text=True)


def test_an_empty_registry_renders(client, auth):
    auth.login_as(Role.REGISTRY_OFFICER)
    response = client.get(URL)
    assert response.status_code == 200
    assert "No agreements match these filters." in response.get_data(as_text=True)


def test_scope_area_names_are_escaped_in_charts_and_tables(client, auth, db):
    area = _area("xss", "<script>alert(1)</script>", "<b>x</b>", 1)
    _agreement(date(2025, 1, 1), areas=(area,))
    _db.session.commit()
    auth.login_as(Role.REGISTRY_OFFICER)
    page = client.get(URL).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_exports_carry_the_filtered_figures(client, auth, known_registry):
    auth.login_as(Role.ORGANISER)
    response = client.get(URL + "/figures.csv", query_string={"level": "technical_unit"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Figure", "Category", "Agreements"]
    assert ["Signed in the year", "2025", "1"] in rows
    assert ["Total signed by the end of the year", "2025", "2"] in rows
    assert ["All agreements", "Total", "2"] in rows

    response = client.get(URL + "/figures.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [tuple(cell.value for cell in row) for row in sheet.iter_rows(min_row=2)]
    assert ("Signed in the year", "2024", 3) in values
    assert ("All agreements", "Total", 7) in values


def _bulk_registry(count: int, start: int) -> None:
    """`count` agreements inserted in bulk, each with a party and a scope area."""
    today = registry_today()
    rows = [
        {
            "id": start + index,
            "kind": ("mou", "pks", "addendum")[index % 3],
            "title": TranslatedText(en=f"Agreement {index}", id=f"Perjanjian {index}"),
            "status": ("active", "draft", "terminated")[index % 3],
            "unit_level": ("central", "regional", "technical_unit")[index % 3],
            "unit_name": "Unit",
            "signed_on": date(2015 + index % 11, 1 + index % 12, 1),
            "ends_on": today + timedelta(days=index % 200 - 50),
        }
        for index in range(count)
    ]
    _db.session.execute(insert(Agreement), rows)
    partner_ids = [partner.id for partner in _db.session.query(Partner).all()]
    area_ids = [area.id for area in _db.session.query(ScopeArea).all()]
    _db.session.execute(
        insert(AgreementParty),
        [
            {"agreement_id": row["id"], "partner_id": partner_ids[i % len(partner_ids)]}
            for i, row in enumerate(rows)
        ],
    )
    _db.session.execute(
        insert(agreement_scope_areas),
        [
            {"agreement_id": row["id"], "scope_area_id": area_ids[i % len(area_ids)]}
            for i, row in enumerate(rows)
        ],
    )
    _db.session.commit()


def test_the_dashboard_issues_as_many_queries_for_1000_agreements_as_for_10(
    client, auth, db, count_queries
):
    for number, kind in enumerate(("ngo", "government", "business", "academia")):
        _partner(f"Partner {number}", kind)
    for number in range(5):
        _area(f"area{number}", f"Area {number}", f"Bidang {number}", number)
    _db.session.commit()
    auth.login_as(Role.REGISTRY_OFFICER)

    _bulk_registry(10, start=1)
    with count_queries() as small:
        assert client.get(URL).status_code == 200
    _bulk_registry(990, start=11)
    with count_queries() as large:
        page = client.get(URL).get_data(as_text=True)
    assert large.count == small.count
    assert small.count <= 12
    assert "<dd>1000</dd>" in page
