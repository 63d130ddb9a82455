"""The organisers' registration pages through the test client (CSRF off): settings, types and
fees, the list with filters, counts and exports, one registration's actions, delegations."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from app.auth.models import Role
from app.events.models import Event
from app.extensions import db
from app.partners.models import Partner, PartnerKind, name_key
from app.registration import services
from app.registration.models import (
    Delegation,
    PassportAccess,
    Registration,
    RegistrationFee,
    RegistrationHistory,
    RegistrationSettings,
    RegistrationStatus,
    RegistrationType,
)
from app.registration.organiser_forms import format_major_amount, parse_major_amount
from tests.registration.factories import (
    count_rows,
    make_event,
    make_registration,
    make_type,
    visa_details,
)

ORGANISER_PAGES = (
    "/registrations/",
    "/registrations/export.csv",
    "/registrations/export.xlsx",
    "/registrations/delegations",
    "/registrations/settings",
    "/registrations/types/",
    "/registrations/types/new",
    "/registrations/{reference}",
    "/registrations/{reference}/edit",
    "/registrations/{reference}/reject",
)
ORGANISER_ACTIONS = (
    "/registrations/{reference}/approve",
    "/registrations/{reference}/passport",
    "/registrations/{reference}/resend",
    "/registrations/{reference}/reject",
    "/registrations/{reference}/edit",
    "/registrations/settings",
    "/registrations/types/new",
    "/registrations/types/{type_id}/edit",
)


@pytest.fixture
def wcpp(app) -> dict[str, int]:
    """WCPP 2026 open for registration with a paid type, one needing approval, and a full
    student type of two places; returns their ids."""
    with app.test_request_context():
        event = make_event()
        delegate = make_type(event, "delegate", name="Delegate")
        government = make_type(event, "government", name="Government delegate", needs_approval=True)
        student = make_type(event, "student", name="Student", capacity=2)
        db.session.commit()
        return {
            "event_id": event.id,
            "delegate": delegate.id,
            "government": government.id,
            "student": student.id,
        }


def _register(app, wcpp, type_key: str = "delegate", visa: bool = False, **overrides) -> str:
    """A registration made through the service; returns its reference."""
    with app.test_request_context():
        event = db.session.get(Event, wcpp["event_id"])
        registration_type = db.session.get(RegistrationType, wcpp[type_key])
        if visa:
            registration, _new = services.register_delegate(
                event, visa_details(registration_type, **overrides)
            )
        else:
            registration = make_registration(event, registration_type, **overrides)
        db.session.commit()
        return registration.reference


def _registration(app, reference: str) -> Registration:
    """A registration as stored now (detached)."""
    with app.app_context():
        registration = db.session.scalar(
            select(Registration).where(Registration.reference == reference)
        )
        db.session.expunge(registration)
        return registration


def _count(app, model) -> int:
    with app.app_context():
        return count_rows(model)


def _field_error(html: str, field: str) -> str:
    """The text of a field's error message on a page."""
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown for {field}"
    return unescape(match.group(1)).strip()


def _references_on(html: str) -> set[str]:
    """The registrations a list page links to."""
    return set(re.findall(r'href="/registrations/([A-Z0-9]{8})"', html))


@pytest.fixture
def listed(app, wcpp) -> dict[str, str]:
    """Five registrations from three countries, one found by organisation, one pending."""
    return {
        "siti": _register(
            app,
            wcpp,
            given_name="Siti",
            family_name="Rahmawati",
            nationality="ID",
            residence_country="ID",
            organisation_name="Lapas Kerobokan",
        ),
        "budi": _register(app, wcpp, given_name="Budi", nationality="ID", residence_country="ID"),
        "amara": _register(app, wcpp, given_name="Amara", nationality="NG"),
        "kenji": _register(
            app,
            wcpp,
            "government",
            given_name="Kenji",
            family_name="Sato",
            nationality="JP",
            residence_country="JP",
            email="kenji.sato@moj.example",
        ),
        "student": _register(app, wcpp, "student", given_name="Lerato", nationality="ZA"),
    }


# --- the list -------------------------------------------------------------------------------


def test_the_list_shows_every_registration_with_counts_by_country_and_type(client, auth, listed):
    auth.login_as(Role.ORGANISER)
    response = client.get("/registrations/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _references_on(html) == set(listed.values())
    assert "4 of 44" in html  # ID, NG, JP, ZA
    assert "4 countries represented" in html
    by_type = re.search(r'id="by-type">(.*?)</details>', html, re.S).group(1)
    assert re.search(r"Delegate</a></td>\s*<td class=\"number\">3</td>", by_type)
    assert re.search(r"Student</a></td>\s*<td class=\"number\">1</td>", by_type)
    by_country = re.search(r'id="by-country">(.*?)</details>', html, re.S).group(1)
    assert re.search(r"Indonesia</a></td>\s*<td class=\"number\">2</td>", by_country)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=rahma", {"siti"}),
        ("q=KENJI.SATO@MOJ", {"kenji"}),
        ("q=kerobokan", {"siti"}),
        ("country=ID", {"siti", "budi"}),
        ("status=pending_approval", {"kenji"}),
        ("country=ID&q=budi", {"budi"}),
        ("status=not-a-state", {"siti", "budi", "amara", "kenji", "student"}),
    ],
)
def test_search_and_filters(client, auth, listed, query, expected):
    auth.login_as(Role.ORGANISER)
    html = client.get(f"/registrations/?{query}").get_data(as_text=True)
    assert _references_on(html) == {listed[key] for key in expected}


def test_filter_by_type_by_reference_and_by_delegation(app, client, auth, wcpp, listed):
    auth.login_as(Role.ORGANISER)
    html = client.get(f"/registrations/?type_id={wcpp['student']}").get_data(as_text=True)
    assert _references_on(html) == {listed["student"]}
    html = client.get(f"/registrations/?q={listed['amara'].lower()}").get_data(as_text=True)
    assert _references_on(html) == {listed["amara"]}

    with app.test_request_context():
        delegation = Delegation(event_id=wcpp["event_id"], country="ID", name="Delegasi Indonesia")
        db.session.add(delegation)
        for key in ("siti", "budi"):
            registration = db.session.scalar(
                select(Registration).where(Registration.reference == listed[key])
            )
            registration.delegation = delegation
        db.session.commit()
        delegation_id = delegation.id
    html = client.get(f"/registrations/?delegation_id={delegation_id}").get_data(as_text=True)
    assert _references_on(html) == {listed["siti"], listed["budi"]}
    assert "Delegasi Indonesia" in html


def test_the_list_pages_through_many_registrations(app, client, auth, wcpp):
    auth.login_as(Role.ORGANISER)
    _bulk_registrations(app, wcpp, 1, 30)
    first = client.get("/registrations/").get_data(as_text=True)
    second = client.get("/registrations/?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert len(_references_on(first)) == 25
    assert len(_references_on(second)) == 5
    assert not _references_on(first) & _references_on(second)


def test_a_list_with_nothing_found_says_so(client, auth, listed):
    auth.login_as(Role.ORGANISER)
    html = client.get("/registrations/?q=nobody-has-this-name").get_data(as_text=True)
    assert "No registration matches these filters." in html


# --- exports --------------------------------------------------------------------------------


def test_csv_export_holds_exactly_the_filtered_rows(client, auth, listed):
    auth.login_as(Role.ORGANISER)
    response = client.get("/registrations/export.csv?country=ID&page=2")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["Reference"] for row in rows} == {listed["siti"], listed["budi"]}
    siti = next(row for row in rows if row["Reference"] == listed["siti"])
    assert siti["Given name"] == "Siti"
    assert siti["Nationality"] == "Indonesia"
    assert siti["Organisation"] == "Lapas Kerobokan"
    assert siti["Currency"] == "IDR"
    assert siti["Fee"] == "4500000.00"
    assert siti["State"] == "Awaiting payment"


def test_xlsx_export_holds_exactly_the_filtered_rows(client, auth, listed):
    auth.login_as(Role.ORGANISER)
    response = client.get("/registrations/export.xlsx?status=pending_approval")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "Reference"
    assert [row[0] for row in body] == [listed["kenji"]]
    record = dict(zip(header, body[0], strict=True))
    assert record["Family name"] == "Sato"
    assert record["Fee"] == 450
    assert record["Currency"] == "USD"
    assert isinstance(record["Registered at"], datetime)


def test_exports_in_indonesian(client, auth, listed):
    auth.login_as(Role.ORGANISER, language="id")
    response = client.get("/registrations/export.csv?q=kenji", headers={"Accept-Language": "id"})
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 2
    assert "Jepang" in rows[1]


# --- the same number of queries for 10 and 5,000 ----------------------------------------------


def _bulk_registrations(app, wcpp, first: int, last: int) -> None:
    """Insert registrations first..last in a few statements, some with a partner and a
    delegation so that the list's eager loading is exercised."""
    numbers = range(first, last + 1)
    countries = ("ID", "MY", "NG", "JP", "BR")
    with app.app_context():
        partner_id = db.session.scalar(select(Partner.id))
        if partner_id is None:
            partner = Partner(
                name="Lapas Kerobokan",
                name_key=name_key("Lapas Kerobokan"),
                kind=PartnerKind.GOVERNMENT.value,
                country="ID",
            )
            delegation = Delegation(event_id=wcpp["event_id"], country="MY", name="Malaysia")
            db.session.add_all([partner, delegation])
            db.session.flush()
            partner_id = partner.id
        delegation_id = db.session.scalar(select(Delegation.id))
        moment = datetime(2026, 1, 5, tzinfo=UTC)
        db.session.execute(
            insert(Registration),
            [
                {
                    "reference": f"B{n:07d}",
                    "event_id": wcpp["event_id"],
                    "registration_type_id": wcpp["delegate"] if n % 3 else wcpp["government"],
                    "status": "confirmed" if n % 4 else "awaiting_payment",
                    "given_name": f"Bulk{n}",
                    "family_name": "Delegate",
                    "badge_name": f"Bulk{n} Delegate",
                    "nationality": countries[n % len(countries)],
                    "residence_country": countries[n % len(countries)],
                    "partner_id": partner_id if n % 2 else None,
                    "delegation_id": delegation_id if n % 5 == 0 else None,
                    "email": f"bulk{n}@example.org",
                    "language": "en",
                    "currency": "USD",
                    "fee_minor": 45_000,
                    "created_at": moment + timedelta(minutes=n),
                    "updated_at": moment + timedelta(minutes=n),
                }
                for n in numbers
            ],
        )
        db.session.commit()


@pytest.mark.parametrize("query", ["", "?country=MY&status=confirmed&q=bulk"])
def test_the_list_issues_the_same_queries_for_10_and_5000_registrations(
    app, client, auth, wcpp, count_queries, query
):
    auth.login_as(Role.ORGANISER)
    url = f"/registrations/{query}"
    _bulk_registrations(app, wcpp, 1, 10)
    client.get(url)  # warm caches (locale, session)
    with count_queries() as small:
        response = client.get(url)
    assert response.status_code == 200
    assert "Bulk" in response.get_data(as_text=True)

    _bulk_registrations(app, wcpp, 11, 5000)
    with count_queries() as large:
        response = client.get(url)
    assert response.status_code == 200
    assert small.count == large.count, (small.statements, large.statements)


# --- one registration -----------------------------------------------------------------------


def test_a_registration_page_shows_details_masked_passport_and_history(app, client, auth, wcpp):
    reference = _register(app, wcpp, visa=True, given_name="Amara", passport_number="A12345678")
    auth.login_as(Role.ORGANISER)
    html = client.get(f"/registrations/{reference}").get_data(as_text=True)
    assert "Amara" in html
    assert "Nigeria" in html
    assert "•••••5678" in html
    assert "A12345678" not in html
    assert "Registered" in html  # the history
    assert "Show passport number" in html
    assert client.get(f"/registrations/{reference.lower()}").status_code == 200
    assert client.get("/registrations/NOSUCHREF").status_code == 404


def test_showing_the_passport_number_is_logged_and_not_cached(app, client, auth, wcpp):
    reference = _register(app, wcpp, visa=True, passport_number="A12345678")
    organiser = auth.login_as(Role.ORGANISER)
    response = client.post(f"/registrations/{reference}/passport")
    assert response.status_code == 200
    assert "A12345678" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    with app.app_context():
        access = db.session.scalars(select(PassportAccess)).one()
        assert access.user_id == organiser.id
        assert access.purpose == "organiser_view"
    # Shown once: the page itself keeps it masked.
    assert "A12345678" not in client.get(f"/registrations/{reference}").get_data(as_text=True)


def test_approving_moves_on_records_and_emails_the_delegate(app, client, auth, wcpp, mailbox):
    reference = _register(app, wcpp, "government", email="kenji@moj.example")
    mailbox.wait_for(1)
    mailbox.clear()
    organiser = auth.login_as(Role.ORGANISER)
    assert "Approve" in client.get(f"/registrations/{reference}").get_data(as_text=True)
    response = client.post(f"/registrations/{reference}/approve")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/registrations/{reference}"
    registration = _registration(app, reference)
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT
    mailbox.wait_for(1)
    assert mailbox.to("kenji@moj.example")
    with app.app_context():
        entry = db.session.scalars(
            select(RegistrationHistory).where(RegistrationHistory.action == "approved")
        ).one()
        assert entry.actor_id == organiser.id
    page = client.get(f"/registrations/{reference}").get_data(as_text=True)
    assert "Approved" in page

    again = client.post(f"/registrations/{reference}/approve", follow_redirects=True)
    assert "Only a registration awaiting approval can be approved." in again.get_data(as_text=True)


def test_rejecting_needs_a_reason_and_tells_the_delegate(app, client, auth, wcpp, mailbox):
    reference = _register(app, wcpp, "government", email="rejected@moj.example")
    mailbox.wait_for(1)
    mailbox.clear()
    auth.login_as(Role.ORGANISER)
    assert client.get(f"/registrations/{reference}/reject").status_code == 200

    for blank in ("", "   "):
        response = client.post(f"/registrations/{reference}/reject", data={"reason": blank})
        assert response.status_code == 200
        assert _field_error(response.get_data(as_text=True), "reason") == (
            "Give the reason for the rejection: the delegate will read it."
        )
    too_long = client.post(f"/registrations/{reference}/reject", data={"reason": "x" * 10_000})
    assert too_long.status_code == 200
    assert _field_error(too_long.get_data(as_text=True), "reason")
    assert _registration(app, reference).status == RegistrationStatus.PENDING_APPROVAL
    assert not mailbox.messages

    reason = "Not an official of a <b>corrections</b> service."
    response = client.post(f"/registrations/{reference}/reject", data={"reason": reason})
    assert response.status_code == 302
    registration = _registration(app, reference)
    assert registration.status == RegistrationStatus.REJECTED
    assert registration.rejection_reason == reason
    mailbox.wait_for(1)
    (message,) = mailbox.to("rejected@moj.example")
    assert "corrections" in message.get_payload(decode=True).decode()
    page = client.get(f"/registrations/{reference}").get_data(as_text=True)
    assert "&lt;b&gt;corrections&lt;/b&gt;" in page
    assert "<b>corrections</b>" not in page


def test_an_organiser_edits_any_registration_and_the_history_says_who(app, client, auth, wcpp):
    reference = _register(app, wcpp, given_name="Amara", family_name="Okonkwo")
    organiser = auth.login_as(Role.ORGANISER)
    form = client.get(f"/registrations/{reference}/edit").get_data(as_text=True)
    assert 'value="Okonkwo"' in form
    registration = _registration(app, reference)
    data = {
        "title": "Dr",
        "given_name": "Amara",
        "family_name": "Okonkwo-Bello",
        "nationality": "NG",
        "residence_country": "GH",
        "organisation_name": "Nigerian Correctional Service",
        "email": registration.email,
        "registration_type_id": str(wcpp["government"]),
        "language": "en",
    }
    response = client.post(f"/registrations/{reference}/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    registration = _registration(app, reference)
    assert registration.family_name == "Okonkwo-Bello"
    assert registration.residence_country == "GH"
    assert registration.registration_type_id == wcpp["government"]
    with app.app_context():
        entry = db.session.scalars(
            select(RegistrationHistory).where(RegistrationHistory.action == "edited")
        ).one()
        assert entry.actor_id == organiser.id
    page = client.get(f"/registrations/{reference}").get_data(as_text=True)
    assert "Details changed" in page
    assert "Okonkwo-Bello" in page
    assert "Ghana" in page


def test_an_edit_with_bad_input_changes_nothing(app, client, auth, wcpp):
    reference = _register(app, wcpp, given_name="Amara")
    auth.login_as(Role.ORGANISER)
    before = _count(app, RegistrationHistory)
    response = client.post(
        f"/registrations/{reference}/edit",
        data={
            "given_name": "A" * 10_000,
            "nationality": "XX",
            "residence_country": "NG",
            "email": "not-an-email",
            "registration_type_id": str(wcpp["delegate"]),
            "language": "en",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _field_error(html, "given_name")
    assert _field_error(html, "nationality") == "Choose a country from the list."
    assert _field_error(html, "email") == "Enter a valid email address."
    assert _registration(app, reference).given_name == "Amara"
    assert _count(app, RegistrationHistory) == before


def test_resending_an_email_delivers_it_and_records_it(app, client, auth, wcpp, mailbox):
    reference = _register(app, wcpp, email="amara@probation.example")
    mailbox.wait_for(1)
    mailbox.clear()
    auth.login_as(Role.ORGANISER)
    response = client.post(f"/registrations/{reference}/resend", data={"kind": "status"})
    assert response.status_code == 302
    mailbox.wait_for(1)
    assert len(mailbox.to("amara@probation.example")) == 1

    response = client.post(f"/registrations/{reference}/resend", data={"kind": "confirmation"})
    assert response.status_code == 302
    mailbox.wait_for(2)
    assert len(mailbox.to("amara@probation.example")) == 2
    with app.app_context():
        resent = db.session.scalars(
            select(RegistrationHistory).where(RegistrationHistory.action == "email_resent")
        ).all()
        assert sorted(entry.details["kind"] for entry in resent) == ["confirmation", "status"]

    unknown = client.post(
        f"/registrations/{reference}/resend", data={"kind": "spam"}, follow_redirects=True
    )
    assert "Choose which email to send." in unknown.get_data(as_text=True)


# --- delegations ----------------------------------------------------------------------------


def test_delegations_by_country_with_their_heads_and_members_states(app, client, auth, wcpp):
    with app.test_request_context():
        event = db.session.get(Event, wcpp["event_id"])
        registration_type = db.session.get(RegistrationType, wcpp["delegate"])
        head = visa_details(
            registration_type,
            given_name="Nur",
            family_name="Aziz",
            nationality="MY",
            residence_country="MY",
            needs_visa_letter=False,
        )
        members = [
            services.MemberInvite("m1@prison.gov.example", "Lim", None, registration_type.id),
            services.MemberInvite("m2@prison.gov.example", "Tan", None, registration_type.id),
        ]
        services.register_delegation(event, head, members, name="Jabatan Penjara Malaysia")
        db.session.commit()
    auth.login_as(Role.ORGANISER)
    html = client.get("/registrations/delegations").get_data(as_text=True)
    assert "Malaysia" in html
    assert "Jabatan Penjara Malaysia" in html
    assert "Nur Aziz" in html
    assert "Details to complete" in html  # the two members' state
    assert re.search(r'<td class="number">3</td>', html)


# --- settings -------------------------------------------------------------------------------


def _settings_form(**overrides) -> dict:
    data = {
        "opens_on": "2025-11-01",
        "closes_on": "2026-03-31",
        "edit_cutoff_on": "2026-04-01",
        "waitlist_offer_hours": "48",
        "passport_retention_days": "90",
    }
    data.update(overrides)
    return data


def test_settings_are_saved(app, client, auth, wcpp):
    auth.login_as(Role.ORGANISER)
    assert client.get("/registrations/settings").status_code == 200
    response = client.post("/registrations/settings", data=_settings_form())
    assert response.status_code == 302
    with app.app_context():
        settings = db.session.get(RegistrationSettings, wcpp["event_id"])
        assert settings.opens_on == date(2025, 11, 1)
        assert settings.closes_on == date(2026, 3, 31)
        assert settings.edit_cutoff_on == date(2026, 4, 1)
        assert settings.waitlist_offer_hours == 48
    form = client.get("/registrations/settings").get_data(as_text=True)
    assert 'value="2026-03-31"' in form


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"closes_on": "2025-10-01"},
            "closes_on",
            "Registration must close on or after the day it opens.",
        ),
        ({"opens_on": ""}, "opens_on", "This field is required."),
        ({"opens_on": "31/12/2025"}, "opens_on", "Not a valid date value."),
        (
            {"waitlist_offer_hours": "0"},
            "waitlist_offer_hours",
            "Number must be between 1 and 720.",
        ),
        (
            {"passport_retention_days": "-5"},
            "passport_retention_days",
            "Number must be between 0 and 3650.",
        ),
        ({"closes_on": "9999-12-31"}, "closes_on", "Give a date between 1945 and 2100."),
    ],
)
def test_bad_settings_are_refused_on_their_field_and_nothing_saved(
    app, client, auth, wcpp, overrides, field, message
):
    auth.login_as(Role.ORGANISER)
    with app.app_context():
        before = db.session.get(RegistrationSettings, wcpp["event_id"]).closes_on
    response = client.post("/registrations/settings", data=_settings_form(**overrides))
    assert response.status_code == 200
    assert _field_error(response.get_data(as_text=True), field) == message
    with app.app_context():
        assert db.session.get(RegistrationSettings, wcpp["event_id"]).closes_on == before


# --- registration types ---------------------------------------------------------------------


def _type_form(**overrides) -> dict:
    data = {
        "name-en": "Academic",
        "name-id": "Akademisi",
        "description-en": "Researchers and lecturers.",
        "description-id": "",
        "code": "academic",
        "capacity": "60",
        "fee_usd": "350.00",
        "fee_idr": "3.500.000",
        "early_bird_fee_usd": "295",
        "early_bird_fee_idr": "Rp 2.950.000",
        "early_bird_until": "2026-01-31",
        "active": "y",
        "position": "30",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_a_type_is_added_with_fees_in_major_units_and_edited(app, client, auth, wcpp):
    auth.login_as(Role.ORGANISER)
    assert client.get("/registrations/types/new").status_code == 200
    response = client.post("/registrations/types/new", data=_type_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        academic = db.session.scalars(
            select(RegistrationType).where(RegistrationType.code == "academic")
        ).one()
        fees = {fee.currency: fee for fee in academic.fees}
        assert (fees["USD"].amount_minor, fees["USD"].early_bird_amount_minor) == (35_000, 29_500)
        assert (fees["IDR"].amount_minor, fees["IDR"].early_bird_amount_minor) == (
            350_000_000,
            295_000_000,
        )
        assert academic.name.in_language("id") == "Akademisi"
        assert academic.description.missing_languages() == ["id"]
        assert academic.capacity == 60
        assert academic.early_bird_until == date(2026, 1, 31)
        type_id = academic.id

    listing = client.get("/registrations/types/").get_data(as_text=True)
    assert "Academic" in listing
    assert "Indonesian name missing" not in listing
    form = client.get(f"/registrations/types/{type_id}/edit").get_data(as_text=True)
    assert 'value="350.00"' in form
    assert 'value="3.500.000"' in form

    response = client.post(
        f"/registrations/types/{type_id}/edit",
        data=_type_form(fee_usd="400", capacity="", active=None, needs_approval="y"),
    )
    assert response.status_code == 302
    with app.app_context():
        academic = db.session.get(RegistrationType, type_id)
        assert {fee.currency: fee.amount_minor for fee in academic.fees}["USD"] == 40_000
        assert academic.capacity is None
        assert academic.active is False
        assert academic.needs_approval is True
    assert client.get("/registrations/types/99999/edit").status_code == 404


def test_a_free_type_needs_no_fee(app, client, auth, wcpp):
    auth.login_as(Role.ORGANISER)
    response = client.post(
        "/registrations/types/new",
        data=_type_form(
            code="press",
            is_free="y",
            fee_usd="",
            fee_idr="",
            early_bird_fee_usd="",
            early_bird_fee_idr="",
            early_bird_until="",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        press = db.session.scalars(
            select(RegistrationType).where(RegistrationType.code == "press")
        ).one()
        assert press.is_free
        assert press.fees == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"capacity": "-1"},
            "capacity",
            "The capacity must be between 0 and 100,000 places, or empty for no limit.",
        ),
        ({"capacity": "many"}, "capacity", "Not a valid integer value."),
        ({"fee_usd": "abc"}, "fee_usd", "Enter an amount such as 450.00 (up to 21474836.47)."),
        ({"fee_idr": "-4.500.000"}, "fee_idr", None),
        ({"fee_usd": "450.0055"}, "fee_usd", None),
        ({"fee_idr": "99.999.999.999"}, "fee_idr", None),
        ({"name-en": "N" * 10_000}, "name", "The English text is longer than 200 characters."),
        ({"name-en": "", "name-id": ""}, "name", "Write this in at least one language."),
        ({"code": "c" * 10_000}, "code", "Use at most 64 characters."),
        ({"code": "no spaces"}, "code", "Use only letters, digits, - and _ in the code."),
        ({"code": "delegate"}, "code", "Another registration type already uses this code."),
        ({"early_bird_until": ""}, "early_bird_until", "Give the last day of the early-bird fees."),
        (
            {"early_bird_fee_usd": "500"},
            "early_bird_fee_usd",
            "The early-bird fee cannot exceed the fee.",
        ),
        ({"position": "99999999999"}, "position", None),
    ],
)
def test_bad_type_input_is_refused_on_its_field_and_nothing_saved(
    app, client, auth, wcpp, overrides, field, message
):
    auth.login_as(Role.ORGANISER)
    before = (_count(app, RegistrationType), _count(app, RegistrationFee))
    response = client.post("/registrations/types/new", data=_type_form(**overrides))
    assert response.status_code == 200
    error = _field_error(response.get_data(as_text=True), field)
    if message is not None:
        assert error == message
    assert (_count(app, RegistrationType), _count(app, RegistrationFee)) == before


def test_a_paid_type_without_fees_is_refused(app, client, auth, wcpp):
    auth.login_as(Role.ORGANISER)
    before = _count(app, RegistrationType)
    response = client.post(
        "/registrations/types/new",
        data=_type_form(
            fee_usd="",
            fee_idr="",
            early_bird_fee_usd="",
            early_bird_fee_idr="",
            early_bird_until="",
        ),
    )
    assert response.status_code == 200
    assert "Give a fee in at least one currency" in response.get_data(as_text=True)
    assert _count(app, RegistrationType) == before


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("450.00", "USD", 45_000),
        ("450", "USD", 45_000),
        ("1,250.50", "USD", 125_050),
        ("US$ 375", "USD", 37_500),
        ("4.500.000", "IDR", 450_000_000),
        ("4,500,000", "IDR", 450_000_000),
        ("Rp 3.750.000", "IDR", 375_000_000),
        ("4.500.000,00", "IDR", 450_000_000),
        ("4500000", "IDR", 450_000_000),
        ("0", "USD", 0),
    ],
)
def test_amounts_typed_in_major_units(text, currency, minor):
    assert parse_major_amount(text, currency) == minor


@pytest.mark.parametrize("text", ["abc", "-5", "1.000.50", "4,5,0", "12.3456", "1e5", ""])
def test_amounts_that_are_not_amounts(text):
    with pytest.raises(ValueError, match=r"not an amount|out of range"):
        parse_major_amount(text, "USD")


def test_amounts_are_shown_as_typed():
    assert format_major_amount(45_000, "USD") == "450.00"
    assert format_major_amount(450_000_000, "IDR") == "4.500.000"
    assert format_major_amount(450_000_050, "IDR") == "4.500.000,50"


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.DELEGATE, Role.GATE_STAFF, Role.REGISTRY_OFFICER])
def test_other_roles_are_refused_every_organiser_page(app, client, auth, wcpp, role):
    reference = _register(app, wcpp)
    before = _registration(app, reference)
    auth.login_as(role)
    values = {"reference": reference, "type_id": wcpp["delegate"]}
    for page in ORGANISER_PAGES:
        assert client.get(page.format(**values)).status_code == 403, page
    for action in ORGANISER_ACTIONS:
        response = client.post(action.format(**values), data={"reason": "x", "kind": "status"})
        assert response.status_code == 403, action
    after = _registration(app, reference)
    assert (after.status, after.updated_at) == (before.status, before.updated_at)
    assert _count(app, PassportAccess) == 0


def test_the_organiser_menu_and_dashboard_lead_to_the_list(client, auth, wcpp):
    auth.login_as(Role.ORGANISER)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'href="/registrations/"' in dashboard
    auth.logout()
    auth.login_as(Role.GATE_STAFF)
    assert 'href="/registrations/"' not in client.get("/dashboard").get_data(as_text=True)
