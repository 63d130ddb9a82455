"""The delegate's payment pages against localstripe: the pay page, starting and charging a card
payment, the return page and its status poll (asking Stripe when no webhook came), declined
cards, group payment by a head of delegation, the delegate's page, and who may see what."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import Role
from app.auth.services import change_password
from app.extensions import db
from app.payments import gateway
from app.payments.models import Payment, PaymentStatus, Receipt
from app.registration import services as registration_services
from app.registration.models import Registration, RegistrationStatus
from tests.conftest import TEST_PASSWORD
from tests.registration.factories import USD_FEE, details, make_event, make_type

VISA = "4242424242424242"
# localstripe accepts this card into a payment method but declines charging it.
DECLINED = "4000000000000341"


# --- helpers ---------------------------------------------------------------------------------


def _sign_in_delegate(app, client, registration_reference: str) -> None:
    """Give the registration's account a password and sign in with it."""
    with app.test_request_context():
        registration = _registration(registration_reference)
        change_password(registration.user, TEST_PASSWORD)
        email = registration.email
        db.session.commit()
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 302


def _registration(reference: str) -> Registration:
    """A registration as stored now."""
    db.session.expire_all()
    return db.session.scalar(select(Registration).where(Registration.reference == reference))


def _payments() -> list[Payment]:
    """Every payment, oldest first."""
    db.session.expire_all()
    return list(db.session.scalars(select(Payment).order_by(Payment.id)))


def collect_card(localstripe, setup_client_secret: str, number: str = VISA) -> str:
    """What Stripe.js's confirmCardSetup does with the typed card (localstripe's stand-in posts
    exactly this); returns the SetupIntent's id."""
    setup_id = setup_client_secret.split("_secret_")[0]
    body = json.dumps(
        {
            "key": localstripe.publishable_key,
            "use_stripe_sdk": True,
            "client_secret": setup_client_secret,
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"},
            },
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 (localstripe on loopback)
        f"{localstripe.api_base}/v1/setup_intents/{setup_id}/confirm", data=body, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
        assert json.load(response)["status"] == "succeeded"
    return setup_id


def pay_by_card(client, localstripe, start_url: str, number: str = VISA, data=None):
    """Start a card payment, collect the card and charge it, as payments.js does."""
    started = client.post(start_url, data=data or {})
    assert started.status_code == 200, started.get_data(as_text=True)
    start = started.get_json()
    assert start["status"] == "ready"
    setup_id = collect_card(localstripe, start["setup_client_secret"], number)
    charged = client.post(start["charge_url"], data={"setup_intent": setup_id})
    return start, charged


@pytest.fixture
def congress(db):
    """WCPP 2026 open for registration, with a paid type (USD 450 / Rp 4.500.000)."""
    event = make_event()
    registration_type = make_type(event, "delegate", name="Delegate")
    db.session.commit()
    return event, registration_type


@pytest.fixture
def awaiting(app, congress):
    """A delegate's registration awaiting payment, with the email address confirmed."""
    event, registration_type = congress
    registration, _created = registration_services.register_delegate(
        event, details(registration_type, given_name="Aroha", family_name="Ngata")
    )
    registration.email_confirmed_at = registration_services.utc_now()
    db.session.commit()
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT
    return registration.reference


@pytest.fixture
def delegation(app, congress):
    """A head of delegation and two members who completed their details, all awaiting
    payment; returns (head reference, member references)."""
    event, registration_type = congress
    head = details(registration_type, given_name="Kwame", nationality="GH", residence_country="GH")
    invites = [
        registration_services.MemberInvite(
            email=f"member{number}@probation.example.gh",
            given_name=f"Member{number}",
            family_name="Mensah",
            registration_type_id=registration_type.id,
        )
        for number in (1, 2)
    ]
    group = registration_services.register_delegation(event, head, invites)
    db.session.flush()
    members = [item for item in group.members if not item.is_delegation_head]
    for member in members:
        registration_services.complete_member_registration(
            member,
            details(
                registration_type,
                given_name=member.given_name,
                family_name=member.family_name,
                email=member.email,
                nationality="GH",
                residence_country="GH",
            ),
        )
    head_registration = next(item for item in group.members if item.is_delegation_head)
    head_registration.email_confirmed_at = registration_services.utc_now()
    db.session.commit()
    assert {item.status for item in group.members} == {RegistrationStatus.AWAITING_PAYMENT}
    return head_registration.reference, sorted(member.reference for member in members)


# --- the pay page ----------------------------------------------------------------------------


def test_the_pay_page_shows_the_amount_due_and_the_card_form(app, client, awaiting, localstripe):
    _sign_in_delegate(app, client, awaiting)

    page = client.get(f"/payments/pay/{awaiting}").get_data(as_text=True)

    assert "Pay the registration fee" in page
    assert "US$450.00" in page or "USD 450.00" in page or "$450.00" in page
    assert "data-card-payment" in page
    assert f'data-stripe-key="{localstripe.publishable_key}"' in page
    assert f'src="{localstripe.api_base}/js.stripe.com/v3/"' in page
    assert "/static/js/payments.js" in page
    # No inline script: every <script> element loads a file.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []


def test_the_delegate_page_offers_pay_now(app, client, awaiting):
    _sign_in_delegate(app, client, awaiting)

    page = client.get("/my/registration").get_data(as_text=True)

    assert "Pay now" in page
    assert f"/payments/pay/{awaiting}" in page


def test_someone_elses_registration_is_not_found(app, client, awaiting, congress, auth):
    event, registration_type = congress
    with app.test_request_context():
        other, _created = registration_services.register_delegate(event, details(registration_type))
        db.session.commit()
        other_reference = other.reference
    _sign_in_delegate(app, client, awaiting)

    assert client.get(f"/payments/pay/{other_reference}").status_code == 404
    assert client.post(f"/payments/pay/{other_reference}").status_code == 404
    assert client.get("/payments/pay/NOSUCHREF").status_code == 404
    assert client.get("/payments/group").status_code == 404  # not a head of delegation
    assert _payments() == []


def test_a_registration_with_nothing_to_pay_goes_back_to_the_delegate_page(app, client, awaiting):
    with app.test_request_context():
        registration = _registration(awaiting)
        registration_services.mark_paid(registration)
        db.session.commit()
    _sign_in_delegate(app, client, awaiting)

    response = client.get(f"/payments/pay/{awaiting}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/my/registration")
    started = client.post(f"/payments/pay/{awaiting}")
    assert started.status_code == 409
    assert started.get_json()["error"] == "There is nothing to pay for this registration."
    assert _payments() == []


# --- paying by card --------------------------------------------------------------------------


def test_paying_by_card_confirms_without_waiting_for_the_webhook(
    app, client, awaiting, localstripe, mailbox
):
    _sign_in_delegate(app, client, awaiting)

    start, charged = pay_by_card(client, localstripe, f"/payments/pay/{awaiting}")

    assert charged.status_code == 200, charged.get_data(as_text=True)
    assert charged.get_json() == {"status": "done", "return_url": start["return_url"]}
    (payment,) = _payments()
    assert payment.reference == start["payment"]
    assert payment.amount_minor == USD_FEE
    assert payment.currency == "USD"
    # No webhook reaches the test client: charging asked Stripe how the intent stands.
    assert payment.status == PaymentStatus.SUCCEEDED
    assert _registration(awaiting).status == RegistrationStatus.CONFIRMED

    page = client.get(start["return_url"]).get_data(as_text=True)
    assert "Payment received" in page
    assert payment.reference in page
    receipt = db.session.scalar(select(Receipt))
    assert receipt is not None
    assert receipt.number in page

    status = client.get(f"/payments/status/{payment.reference}")
    assert status.get_json()["state"] == "paid"
    assert status.headers["Cache-Control"] == "no-store"

    my_page = client.get("/my/registration").get_data(as_text=True)
    assert "Pay now" not in my_page
    assert receipt.number in my_page
    assert f"/payments/receipts/{receipt.number.replace('/', '-')}.pdf" in my_page


def test_a_second_click_reuses_the_payment(app, client, awaiting, localstripe):
    _sign_in_delegate(app, client, awaiting)

    first = client.post(f"/payments/pay/{awaiting}").get_json()
    second = client.post(f"/payments/pay/{awaiting}").get_json()

    assert first["payment"] == second["payment"]
    assert first["setup_client_secret"] != second["setup_client_secret"]
    assert len(_payments()) == 1


def test_a_declined_card_is_shown_as_not_paid_and_can_be_tried_again(
    app, client, awaiting, localstripe
):
    _sign_in_delegate(app, client, awaiting)

    start, charged = pay_by_card(client, localstripe, f"/payments/pay/{awaiting}", DECLINED)

    assert charged.status_code == 502
    assert "declined" in charged.get_json()["error"]
    assert _registration(awaiting).status == RegistrationStatus.AWAITING_PAYMENT
    # The return page asks Stripe, which says the intent needs another card: not paid.
    page = client.get(start["return_url"]).get_data(as_text=True)
    assert "Payment not completed" in page
    assert "Try again" in page
    assert f"/payments/pay/{awaiting}" in page
    (payment,) = _payments()
    assert payment.status == PaymentStatus.FAILED
    assert client.get(f"/payments/status/{payment.reference}").get_json()["state"] == "failed"


def test_a_payment_not_charged_yet_is_followed_as_processing(app, client, awaiting, localstripe):
    _sign_in_delegate(app, client, awaiting)
    start = client.post(f"/payments/pay/{awaiting}").get_json()

    page = client.get(start["return_url"]).get_data(as_text=True)

    assert "Your payment is being processed" in page
    assert "Payment not completed" not in page
    assert 'http-equiv="refresh"' in page  # without JavaScript the page asks again itself
    assert f'data-payment-status-url="/payments/status/{start["payment"]}"' in page
    status = client.get(f"/payments/status/{start['payment']}").get_json()
    assert status["state"] == "processing"


def test_charging_needs_the_collected_card(app, client, awaiting, localstripe):
    _sign_in_delegate(app, client, awaiting)
    start = client.post(f"/payments/pay/{awaiting}").get_json()

    missing = client.post(start["charge_url"], data={})
    junk = client.post(start["charge_url"], data={"setup_intent": "<script>"})

    assert missing.status_code == 400
    assert missing.get_json()["error"] == "The card details did not arrive. Please try again."
    assert junk.status_code == 400
    (payment,) = _payments()
    assert payment.status == PaymentStatus.PENDING


def test_a_delegate_sees_only_their_own_payments(app, client, awaiting, localstripe, make_user):
    _sign_in_delegate(app, client, awaiting)
    start = client.post(f"/payments/pay/{awaiting}").get_json()
    client.post("/logout")
    other = make_user(roles=[Role.DELEGATE])
    client.post("/login", data={"email": other.email, "password": TEST_PASSWORD})

    assert client.get(start["return_url"]).status_code == 404
    assert client.get(f"/payments/status/{start['payment']}").status_code == 404
    assert client.post(start["charge_url"], data={"setup_intent": "seti_x"}).status_code == 404


def test_staff_cannot_use_the_delegate_pages(app, client, awaiting, auth):
    auth.login_as(Role.ORGANISER)

    assert client.get(f"/payments/pay/{awaiting}").status_code == 403
    assert client.get("/payments/group").status_code == 403


# --- group payment ---------------------------------------------------------------------------


def test_a_head_of_delegation_pays_once_for_the_members(app, client, delegation, localstripe):
    head, members = delegation
    _sign_in_delegate(app, client, head)

    my_page = client.get("/my/registration").get_data(as_text=True)
    assert "Pay for my delegation (3 awaiting payment)" in my_page
    page = client.get("/payments/group").get_data(as_text=True)
    assert "Pay for my delegation" in page
    for reference in (head, *members):
        assert f'value="{reference}"' in page
    assert "US$1,350.00" in page or "$1,350.00" in page

    start, charged = pay_by_card(
        client, localstripe, "/payments/group", data={"registrations": [head, *members]}
    )

    assert charged.status_code == 200, charged.get_data(as_text=True)
    (payment,) = _payments()
    assert payment.amount_minor == 3 * USD_FEE
    assert sorted(a.registration.reference for a in payment.allocations) == sorted([head, *members])
    assert payment.status == PaymentStatus.SUCCEEDED
    for reference in (head, *members):
        assert _registration(reference).status == RegistrationStatus.CONFIRMED
    assert "Payment received" in client.get(start["return_url"]).get_data(as_text=True)
    assert "Nobody in your delegation is awaiting payment." in client.get(
        "/payments/group"
    ).get_data(as_text=True)


def test_a_head_may_pay_for_some_members_only(app, client, delegation, localstripe):
    head, members = delegation
    _sign_in_delegate(app, client, head)

    _start, charged = pay_by_card(
        client, localstripe, "/payments/group", data={"registrations": [members[0]]}
    )

    assert charged.status_code == 200
    assert _registration(members[0]).status == RegistrationStatus.CONFIRMED
    assert _registration(members[1]).status == RegistrationStatus.AWAITING_PAYMENT
    assert _registration(head).status == RegistrationStatus.AWAITING_PAYMENT


def test_a_group_payment_needs_members_of_the_delegation(app, client, delegation, awaiting):
    head, _members = delegation
    _sign_in_delegate(app, client, head)

    nobody = client.post("/payments/group", data={})
    stranger = client.post("/payments/group", data={"registrations": [awaiting]})

    assert nobody.status_code == 400
    assert nobody.get_json()["error"] == "Choose at least one member to pay for."
    assert stranger.status_code == 400
    assert _payments() == []


def test_the_status_poll_notices_a_late_success(app, client, awaiting, localstripe):
    """The webhook never came: the poll asks Stripe and confirms."""
    _sign_in_delegate(app, client, awaiting)
    start = client.post(f"/payments/pay/{awaiting}").get_json()
    setup_id = collect_card(localstripe, start["setup_client_secret"])
    # The card is charged at Stripe, but nothing told Kongres (no webhook, no answer).
    payment = db.session.scalar(select(Payment))
    gateway.confirm_payment_intent(
        payment.stripe_payment_intent_id,
        payment_method=gateway.retrieve_setup_intent_payment_method(setup_id),
        idempotency_key="test-late",
    )
    assert _payments()[0].status == PaymentStatus.PENDING

    status = client.get(f"/payments/status/{start['payment']}").get_json()

    assert status["state"] == "paid"
    assert _registration(awaiting).status == RegistrationStatus.CONFIRMED
    assert db.session.scalar(select(func.count()).select_from(Receipt)) == 1


def test_amounts_are_computed_on_the_server(app, client, congress, localstripe):
    event, registration_type = congress
    registration_type.early_bird_until = registration_services.event_today() + timedelta(days=5)
    (usd,) = [fee for fee in registration_type.fees if fee.currency == "USD"]
    usd.early_bird_amount_minor = 30_000
    db.session.commit()
    registration, _created = registration_services.register_delegate(
        event, details(registration_type)
    )
    registration.email_confirmed_at = registration_services.utc_now()
    db.session.commit()
    reference = registration.reference
    _sign_in_delegate(app, client, reference)

    client.post(f"/payments/pay/{reference}", data={"amount_minor": "1"})

    (payment,) = _payments()
    assert payment.amount_minor == registration.fee_minor == 30_000


def test_a_bank_transfer_not_received_yet_shows_its_instructions(app, client, awaiting):
    registration = _registration(awaiting)
    payment = Payment(
        reference="TRANSFER23",
        event_id=registration.event_id,
        payer_id=registration.user_id,
        method="bank_transfer",
        status=PaymentStatus.PENDING.value,
        currency="USD",
        amount_minor=USD_FEE,
        refunded_minor=0,
    )
    db.session.add(payment)
    db.session.commit()
    _sign_in_delegate(app, client, awaiting)

    response = client.get("/payments/return/TRANSFER23")

    assert response.status_code == 302
    assert response.headers["Location"] == "/payments/bank-transfer/TRANSFER23"
    assert client.get("/payments/status/TRANSFER23").get_json()["state"] == "processing"
