"""The public registration form, email confirmation, delegations and a delegate's own page,
through the test client (CSRF off)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.auth.models import User
from app.auth.services import change_password
from app.events.models import Event
from app.extensions import db
from app.i18n.formatting import format_day
from app.registration import services
from app.registration.models import Registration, RegistrationStatus, RegistrationType
from tests.conftest import TEST_PASSWORD
from tests.registration.factories import (
    count_rows,
    make_event,
    make_registration,
    make_type,
    open_registration,
)

ID = {"Accept-Language": "id"}


@pytest.fixture
def wcpp(app):
    """WCPP 2026 open for registration (edits until ten days from now), with a paid type and
    a free one; returns their ids."""
    with app.test_request_context():
        event = make_event()
        open_registration(event, edit_cutoff_on=services.event_today() + timedelta(days=10))
        paid = make_type(event, "delegate", capacity=100)
        free = make_type(event, "speaker", is_free=True)
        db.session.commit()
        return {"event_id": event.id, "paid": paid.id, "free": free.id}


def form_data(wcpp, **overrides) -> dict:
    """A complete, valid registration form."""
    data = {
        "title": "Dr",
        "given_name": "Siti",
        "family_name": "Rahmawati",
        "nationality": "MY",
        "residence_country": "MY",
        "organisation_name": "Jabatan Penjara Malaysia",
        "position": "Director",
        "email": "siti@example.org",
        "phone": "+60 3 1234 5678",
        "registration_type_id": str(wcpp["paid"]),
        "language": "id",
        "privacy_consent": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def visa_data(wcpp, **overrides) -> dict:
    """A valid form asking for a visa letter."""
    visa = {
        "needs_visa_letter": "y",
        "passport_number": "A1234567",
        "passport_expiry": "2030-01-31",
        "birth_date": "1980-05-17",
        "birth_place": "Kuala Lumpur",
    }
    return form_data(wcpp, **{**visa, **overrides})


def count(app, model) -> int:
    with app.app_context():
        return count_rows(model)


def field_error(html: str, field: str) -> str:
    """The text of a field's error message on a page."""
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown for {field}"
    return unescape(match.group(1)).strip()


def indonesian(app, message, **values) -> str:
    """A message as the Indonesian page shows it."""
    with app.test_request_context(headers=ID), force_locale("id"):
        values = {key: (value() if callable(value) else value) for key, value in values.items()}
        return _(message, **values)


def registration_for(app, email: str) -> Registration:
    with app.app_context():
        registration = db.session.scalar(select(Registration).where(Registration.email == email))
        db.session.expunge(registration)
        return registration


def register_directly(app, wcpp, email: str, **overrides) -> Registration:
    """A registration made through the service, as another delegate's would be."""
    with app.test_request_context():
        event = db.session.get(Event, wcpp["event_id"])
        registration_type = db.session.get(RegistrationType, wcpp["paid"])
        make_registration(event, registration_type, email=email, **overrides)
        db.session.commit()
    return registration_for(app, email)


def sign_in_as_delegate(app, auth, email: str) -> None:
    """Give the delegate's account a password (as the confirmation link would) and sign in."""
    with app.test_request_context():
        user = db.session.scalar(select(User).where(User.email == email))
        change_password(user, TEST_PASSWORD)
        db.session.commit()
    response = auth.login(email)
    assert response.status_code == 302


# --- the form -------------------------------------------------------------------------------


def test_the_form_in_indonesian_lists_countries_types_and_fees(app, client, wcpp):
    response = client.get("/register", headers=ID)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="id">' in html
    # Country names in Indonesian, sorted in Indonesian: Jerman (DE) before Malaysia (MY).
    assert html.index(">Jerman</option>") < html.index(">Malaysia</option>")
    assert "Delegasi (delegate)" in html
    assert "Delegasi (speaker)" in html
    assert "US$450" in html.replace("\xa0", "") or "US$ 450" in html
    assert 'href="/privacy"' in html
    assert '<a href="/register"' in html  # the menu entry for visitors
    # The page's language is preselected for emails.
    assert re.search(r'<input[^>]*checked[^>]*value="id"|<input[^>]*value="id"[^>]*checked', html)


def test_registering_in_indonesian_shows_what_happens_next(app, client, wcpp, mailbox):
    response = client.post("/register", data=form_data(wcpp), headers=ID)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/register/received")

    page = client.get(response.headers["Location"], headers=ID).get_data(as_text=True)
    assert "Siti Rahmawati" in page
    assert "siti@example.org" in page
    registration = registration_for(app, "siti@example.org")
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT
    assert (registration.currency, registration.fee_minor) == ("USD", 450_00)
    assert registration.organisation_name == "Jabatan Penjara Malaysia"
    assert registration.language == "id"
    assert mailbox.wait_for(1)[0]["To"] == "siti@example.org"


def test_an_indonesian_pays_in_rupiah_and_a_known_partner_is_linked(app, client, wcpp, mailbox):
    from app.partners.models import Partner

    with app.app_context():
        partner = Partner(name="Institute for Criminal Justice Reform", acronym="ICJR")
        partner.name_key = "institute for criminal justice reform"
        partner.kind = "ngo"
        partner.country = "ID"
        db.session.add(partner)
        db.session.commit()
        partner_id = partner.id
    page = client.get("/register").get_data(as_text=True)
    assert '<option value="Institute for Criminal Justice Reform">' in page

    data = form_data(
        wcpp,
        nationality="ID",
        residence_country="ID",
        email="budi@example.id",
        organisation_name="institute for criminal justice reform",
    )
    assert client.post("/register", data=data).status_code == 302
    registration = registration_for(app, "budi@example.id")
    assert (registration.currency, registration.fee_minor) == ("IDR", 4_500_000_00)
    assert registration.partner_id == partner_id
    assert registration.organisation_name is None


def test_a_double_submit_makes_one_registration_and_the_same_page(app, client, wcpp, mailbox):
    first = client.post("/register", data=form_data(wcpp), headers=ID)
    first_page = client.get("/register/received", headers=ID).get_data(as_text=True)
    second = client.post("/register", data=form_data(wcpp), headers=ID)
    second_page = client.get("/register/received", headers=ID).get_data(as_text=True)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert first_page == second_page
    assert count(app, Registration) == 1
    mailbox.wait_for(1)
    assert len(mailbox.to("siti@example.org")) == 1


def test_a_repeated_address_shows_what_was_typed_not_the_stored_registration(
    app, client, wcpp, mailbox
):
    register_directly(app, wcpp, "siti@example.org", given_name="Stored", family_name="Name")
    client.post("/register", data=form_data(wcpp, given_name="Typed"))
    page = client.get("/register/received").get_data(as_text=True)
    assert "Typed Rahmawati" in page
    assert "Stored" not in page
    assert count(app, Registration) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"nationality": "XX"}, "nationality", "Choose a country from the list."),
        ({"residence_country": "ZZ"}, "residence_country", "Choose a country from the list."),
        ({"given_name": "S" * 10_000}, "given_name", "Use at most %(max)d characters."),
        ({"family_name": "R" * 10_000}, "family_name", "Use at most %(max)d characters."),
        ({"privacy_consent": None}, "privacy_consent", None),
        ({"registration_type_id": None}, "registration_type_id", "Choose a registration type."),
    ],
    ids=["email", "nationality", "residence", "long-given", "long-family", "consent", "type"],
)
def test_bad_input_gets_an_indonesian_error_on_its_field_and_saves_nothing(
    app, client, wcpp, mailbox, overrides, field, message
):
    response = client.post("/register", data=form_data(wcpp, **overrides), headers=ID)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="id">' in html
    error = field_error(html, field)
    if message:
        assert error == indonesian(app, message, max=100)
    assert indonesian(app, "Please correct the marked fields.") in html
    assert count(app, Registration) == 0
    assert count(app, User) == 0
    assert mailbox.messages == []


def test_a_passport_expiring_before_the_congress_ends_is_refused_in_indonesian(
    app, client, wcpp, mailbox
):
    data = visa_data(wcpp, passport_expiry="2026-04-01")
    html = client.post("/register", data=data, headers=ID).get_data(as_text=True)
    with app.app_context():
        ends_on = db.session.get(Event, wcpp["event_id"]).ends_on
    expected = indonesian(
        app,
        "The passport must be valid after the congress ends (%(day)s).",
        day=lambda: format_day(ends_on),
    )
    assert field_error(html, "passport_expiry") == expected
    assert count(app, Registration) == 0
    assert count(app, User) == 0


def test_a_visa_letter_needs_the_passport_details(app, client, wcpp):
    data = form_data(wcpp, needs_visa_letter="y")
    html = client.post("/register", data=data, headers=ID).get_data(as_text=True)
    needed = indonesian(app, "Needed for the visa invitation letter.")
    for name in ("passport_number", "passport_expiry", "birth_date", "birth_place"):
        assert field_error(html, name) == needed
    assert count(app, Registration) == 0


def test_visa_details_are_encrypted_and_dropped_when_no_letter_is_asked_for(app, client, wcpp):
    client.post("/register", data=visa_data(wcpp))
    with_letter = registration_for(app, "siti@example.org")
    assert with_letter.needs_visa_letter
    assert with_letter.passport_number_encrypted
    assert "A1234567" not in with_letter.passport_number_encrypted

    # Filled in, then the box unticked: nothing of the passport is kept.
    data = visa_data(wcpp, email="other@example.org")
    del data["needs_visa_letter"]
    client.post("/register", data=data)
    without = registration_for(app, "other@example.org")
    assert not without.needs_visa_letter
    assert without.passport_number_encrypted is None
    assert without.birth_date is None


def test_html_in_names_is_kept_but_shown_escaped(app, client, wcpp):
    data = form_data(wcpp, given_name="<script>alert(1)</script>", family_name="<b>Bold</b>")
    response = client.post("/register", data=data, headers=ID)
    assert response.status_code == 302
    page = client.get("/register/received", headers=ID).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page
    assert registration_for(app, "siti@example.org").given_name == "<script>alert(1)</script>"


def test_outside_the_window_registration_is_closed(app, client, wcpp):
    with app.test_request_context():
        event = db.session.get(Event, wcpp["event_id"])
        yesterday = services.event_today() - timedelta(days=1)
        open_registration(event, opens_on=yesterday - timedelta(days=30), closes_on=yesterday)
        db.session.commit()
    page = client.get("/register").get_data(as_text=True)
    assert "Registration is closed" in page
    assert "<form" not in page.split("<main", 1)[1]
    response = client.post("/register", data=form_data(wcpp))
    assert "Registration is closed" in response.get_data(as_text=True)
    assert count(app, Registration) == 0


def test_the_result_page_without_a_submission_sends_to_the_form(client, wcpp):
    response = client.get("/register/received")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/register")


# --- confirming the address -----------------------------------------------------------------


def test_the_emailed_link_confirms_the_address_and_lets_the_delegate_choose_a_password(
    app, client, wcpp, mailbox
):
    client.post("/register", data=form_data(wcpp, language="en"))
    body = mailbox.wait_for(1)[0].get_payload(decode=True).decode()
    link = re.search(r"https?://\S+/register/confirm/\S+", body).group(0)
    path = "/" + link.split("/", 3)[3]

    page = client.get(path).get_data(as_text=True)
    assert "Choose a password" in page
    assert registration_for(app, "siti@example.org").email_confirmed_at is not None

    response = client.post(path, data={"password": TEST_PASSWORD, "confirm": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/my/registration")
    mine = client.get("/my/registration").get_data(as_text=True)
    assert "Awaiting payment" in mine

    # The link cannot set the password a second time.
    client.post("/logout")
    again = client.get(path)
    assert again.status_code == 302
    assert "/login" in again.headers["Location"]


def test_a_forged_confirmation_link_is_refused(client, wcpp):
    response = client.get("/register/confirm/forged-token")
    assert response.status_code == 400
    assert "Link not usable" in response.get_data(as_text=True)


# --- a delegate's own page ------------------------------------------------------------------


def test_the_delegate_page_shows_state_next_step_details_and_history(app, client, auth, wcpp):
    client.post("/register", data=visa_data(wcpp, language="en"))
    sign_in_as_delegate(app, auth, "siti@example.org")
    page = client.get("/my/registration").get_data(as_text=True)
    assert "Awaiting payment" in page
    assert "Confirm your email address with the link we sent you." in page
    assert "Jabatan Penjara Malaysia" in page
    assert "Registered" in page
    assert "A1234567" not in page
    assert "Change my details" in page
    # The menu leads a delegate to their registration, not to the form again.
    assert '<a href="/my/registration"' in page
    assert '<a href="/register"' not in page


def test_a_delegate_sees_only_their_own_registration(app, client, auth, wcpp):
    register_directly(app, wcpp, "first@example.org", given_name="Firstperson")
    register_directly(app, wcpp, "second@example.org", given_name="Secondperson")
    sign_in_as_delegate(app, auth, "second@example.org")
    page = client.get("/my/registration").get_data(as_text=True)
    assert "Secondperson" in page
    assert "Firstperson" not in page
    # Cancelling and erasing act on one's own registration only.
    client.post("/my/registration/cancel", data={"confirm": "y"})
    assert registration_for(app, "first@example.org").status == RegistrationStatus.AWAITING_PAYMENT
    assert registration_for(app, "second@example.org").status == RegistrationStatus.CANCELLED
    data = json.loads(client.get("/my/registration/data.json").get_data(as_text=True))
    assert "first@example.org" not in json.dumps(data)


def test_a_delegate_without_a_registration_is_offered_the_form(client, auth, wcpp):
    from app.auth.models import Role

    auth.login_as(Role.DELEGATE)
    page = client.get("/my/registration").get_data(as_text=True)
    assert 'href="/register"' in page
    assert client.get("/my/registration/edit").status_code == 404
    assert client.post("/my/registration/cancel", data={"confirm": "y"}).status_code == 404


def test_details_can_be_changed_before_the_cut_off(app, client, auth, wcpp):
    client.post("/register", data=visa_data(wcpp, language="en"))
    sign_in_as_delegate(app, auth, "siti@example.org")
    form = client.get("/my/registration/edit").get_data(as_text=True)
    assert 'value="Rahmawati"' in form
    assert "A1234567" not in form

    data = visa_data(wcpp, language="en", position="Deputy Director", passport_number="")
    del data["email"], data["registration_type_id"], data["privacy_consent"]
    response = client.post("/my/registration/edit", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    registration = registration_for(app, "siti@example.org")
    assert registration.position == "Deputy Director"
    # An empty passport number kept the stored one.
    assert registration.passport_number_encrypted
    page = client.get("/my/registration").get_data(as_text=True)
    assert "Details changed" in page
    assert "Changed: Position" in page


def test_details_cannot_be_changed_after_the_cut_off(app, client, auth, wcpp):
    client.post("/register", data=form_data(wcpp, language="en"))
    with app.test_request_context():
        settings = services.settings_for(db.session.get(Event, wcpp["event_id"]))
        settings.edit_cutoff_on = services.event_today() - timedelta(days=1)
        db.session.commit()
    sign_in_as_delegate(app, auth, "siti@example.org")
    assert "Change my details" not in client.get("/my/registration").get_data(as_text=True)

    data = form_data(wcpp, language="en", position="Changed")
    response = client.post("/my/registration/edit", data=data)
    assert response.status_code == 302
    assert registration_for(app, "siti@example.org").position == "Director"


def test_cancelling_needs_the_confirmation(app, client, auth, wcpp):
    client.post("/register", data=form_data(wcpp, language="en"))
    sign_in_as_delegate(app, auth, "siti@example.org")
    page = client.post("/my/registration/cancel", data={}).get_data(as_text=True)
    assert field_error(page, "confirm") == "Tick the box to confirm."
    assert registration_for(app, "siti@example.org").status == RegistrationStatus.AWAITING_PAYMENT

    response = client.post("/my/registration/cancel", data={"confirm": "y", "reason": "Ill"})
    assert response.status_code == 302
    assert registration_for(app, "siti@example.org").status == RegistrationStatus.CANCELLED
    page = client.get("/my/registration").get_data(as_text=True)
    assert "Cancelled" in page
    assert "Change my details" not in page


def test_a_waitlisted_delegate_accepts_an_offered_place(app, client, auth, wcpp):
    with app.test_request_context():
        registration_type = db.session.get(RegistrationType, wcpp["paid"])
        registration_type.capacity = 1
        db.session.commit()
    register_directly(app, wcpp, "first@example.org")
    client.post("/register", data=form_data(wcpp, language="en"))
    assert registration_for(app, "siti@example.org").status == RegistrationStatus.WAITLISTED
    sign_in_as_delegate(app, auth, "siti@example.org")
    assert "Accept the place" not in client.get("/my/registration").get_data(as_text=True)

    with app.test_request_context():
        first = db.session.scalar(
            select(Registration).where(Registration.email == "first@example.org")
        )
        services.cancel_registration(first, actor=None)
        db.session.commit()
    assert "Accept the place" in client.get("/my/registration").get_data(as_text=True)
    response = client.post("/my/registration/accept-offer")
    assert response.status_code == 302
    assert registration_for(app, "siti@example.org").status == RegistrationStatus.AWAITING_PAYMENT


def test_a_delegate_downloads_their_data_and_erases_it(app, client, auth, wcpp):
    client.post("/register", data=visa_data(wcpp, language="en"))
    sign_in_as_delegate(app, auth, "siti@example.org")
    response = client.get("/my/registration/data.json")
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Rahmawati" in response.get_data(as_text=True)

    page = client.post("/my/registration/erase", data={}).get_data(as_text=True)
    assert field_error(page, "erase-confirm") == "Tick the box to confirm."
    assert registration_for(app, "siti@example.org").erased_at is None

    response = client.post("/my/registration/erase", data={"erase-confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        registration = db.session.scalar(select(Registration))
        assert registration.erased_at is not None
        assert registration.given_name != "Siti"
        assert registration.passport_number_encrypted is None
    # The account went with the data.
    assert client.get("/my/registration").status_code == 302


# --- delegations ----------------------------------------------------------------------------


def delegation_data(wcpp, **overrides) -> dict:
    """A head of delegation with two members and an empty row."""
    data = form_data(wcpp, language="en", email="head@example.org", **overrides)
    data.update(
        {
            "members-0-email": "member1@example.org",
            "members-0-given_name": "Ahmad",
            "members-0-family_name": "Zaki",
            "members-0-registration_type_id": str(wcpp["paid"]),
            "members-1-email": "member2@example.org",
            "members-1-given_name": "Nur",
            "members-1-registration_type_id": str(wcpp["free"]),
            "members-2-email": "",
        }
    )
    return data


def test_a_head_registers_a_delegation_and_a_member_completes_their_details(
    app, client, wcpp, mailbox
):
    page = client.get("/register/delegation?members=5").get_data(as_text=True)
    assert 'name="members-4-email"' in page

    response = client.post("/register/delegation", data=delegation_data(wcpp))
    assert response.status_code == 302, response.get_data(as_text=True)
    received = client.get("/register/received").get_data(as_text=True)
    assert "member1@example.org" in received
    assert "member2@example.org" in received
    assert count(app, Registration) == 3
    member = registration_for(app, "member1@example.org")
    assert member.status == RegistrationStatus.SUBMITTED
    assert member.delegation_id is not None

    # A resubmission registers nobody twice.
    client.post("/register/delegation", data=delegation_data(wcpp))
    assert count(app, Registration) == 3

    mailbox.wait_for(3)
    body = mailbox.to("member1@example.org")[0].get_payload(decode=True).decode()
    path = "/" + re.search(r"https?://\S+/register/member/\S+", body).group(0).split("/", 3)[3]
    form = client.get(path).get_data(as_text=True)
    assert 'value="Ahmad"' in form
    data = form_data(wcpp, given_name="Ahmad", family_name="Zaki", language="en")
    del data["email"], data["registration_type_id"]
    response = client.post(path, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    member = registration_for(app, "member1@example.org")
    assert member.status == RegistrationStatus.AWAITING_PAYMENT
    assert member.email_confirmed_at is not None
    # The link proved the address: the member chooses a password there and is signed in.
    assert response.headers["Location"].endswith(path)
    assert "Choose a password" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={"password": TEST_PASSWORD, "confirm": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/my/registration")
    # The link is spent: it now sends the member to sign in.
    client.post("/logout")
    assert "/login" in client.get(path).headers["Location"]


def test_a_delegation_needs_members_and_complete_rows(app, client, wcpp):
    data = delegation_data(wcpp)
    data["members-0-given_name"] = ""
    data["members-1-email"] = "not-an-address"
    html = client.post("/register/delegation", data=data).get_data(as_text=True)
    assert field_error(html, "members-0-given_name") == "Enter the member's given name."
    assert field_error(html, "members-1-email") == "Enter a valid email address."
    assert count(app, Registration) == 0

    empty = form_data(wcpp, language="en", email="head@example.org")
    html = client.post("/register/delegation", data=empty).get_data(as_text=True)
    assert "Add at least one member of the delegation." in html
    assert count(app, Registration) == 0


def test_a_member_listed_twice_is_refused_with_the_reason(app, client, wcpp):
    data = delegation_data(wcpp)
    data["members-1-email"] = "member1@example.org"
    html = client.post("/register/delegation", data=data).get_data(as_text=True)
    assert "member1@example.org appears twice" in unescape(field_error(html, "members"))
    assert count(app, Registration) == 0


def test_more_member_rows_keep_what_was_typed(app, client, wcpp):
    data = delegation_data(wcpp, add_rows="1")
    html = client.post("/register/delegation", data=data).get_data(as_text=True)
    assert 'name="members-5-email"' in html
    assert 'value="member1@example.org"' in html
    assert count(app, Registration) == 0


# --- the privacy notice ---------------------------------------------------------------------


def test_the_privacy_notice_is_public_in_both_languages(app, client, wcpp):
    english = client.get("/privacy").get_data(as_text=True)
    assert "Law No. 27 of 2022" in english
    assert "90 days after the congress ends" in english
    indonesian_page = client.get("/privacy", headers=ID).get_data(as_text=True)
    assert '<html lang="id">' in indonesian_page
