"""A delegate pays the registration fee by card in Chromium, against localstripe: Stripe's card
element (localstripe's stand-in Stripe.js), the test card 4242 4242 4242 4242, the return page,
the registration confirmed on the delegate's page with its receipt, and the emails in the test's
SMTP server. Without a webhook the return page asks Stripe; a failed authentication shows "not
paid" and another card then pays."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.auth.services import change_password
from app.extensions import db
from app.payments.models import Payment, PaymentStatus, Receipt
from app.registration import services as registration_services
from app.registration.models import RegistrationStatus
from tests.conftest import TEST_PASSWORD
from tests.registration.factories import details, make_event, make_type

pytestmark = pytest.mark.browser

EMAIL = "aroha.ngata@corrections.example.nz"
TEST_CARD = "4242 4242 4242 4242"
# A test card whose bank asks the payer to authenticate (3-D Secure).
AUTHENTICATION_CARD = "4000 0027 6000 3184"


@pytest.fixture
def delegate_awaiting_payment(app):
    """A delegate who registered, confirmed their address and chose a password: their
    registration awaits payment of USD 450."""
    with app.test_request_context():
        event = make_event()
        registration_type = make_type(event, "delegate", name="Delegate")
        registration, _created = registration_services.register_delegate(
            event,
            details(
                registration_type,
                given_name="Aroha",
                family_name="Ngata",
                email=EMAIL,
                nationality="NZ",
                residence_country="NZ",
            ),
        )
        registration.email_confirmed_at = registration_services.utc_now()
        change_password(registration.user, TEST_PASSWORD)
        db.session.commit()
        assert registration.status == RegistrationStatus.AWAITING_PAYMENT
        return registration.reference


def _sign_in(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def _type_card(page: Page, number: str) -> None:
    """Type the card into Stripe's card element (localstripe's stand-in draws plain inputs
    named by their placeholders inside the element's container)."""
    card = page.locator("[data-card-element]")
    card.locator("input[placeholder='number']").fill(number.replace(" ", ""))
    card.locator("input[placeholder='exp_month']").fill("12")
    card.locator("input[placeholder='exp_year']").fill("34")
    card.locator("input[placeholder='cvc']").fill("123")
    card.locator("input[placeholder='postal_code']").fill("80361")


def _payment(app) -> Payment:
    with app.app_context():
        payment = db.session.scalar(select(Payment))
        db.session.expunge(payment)
        return payment


def test_a_delegate_pays_by_card_and_gets_a_receipt(
    app, page, live_server, stripe_webhook, mailbox, delegate_awaiting_payment
):
    reference = delegate_awaiting_payment
    _sign_in(page, EMAIL)
    page.get_by_role("link", name="My registration").click()
    expect(page.locator(".status-card")).to_contain_text("Awaiting payment")

    page.get_by_role("link", name="Pay now").click()
    expect(page).to_have_url(re.compile(rf"/payments/pay/{reference}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay the registration fee")
    expect(page.locator(".amount-due")).to_have_text(re.compile(r"450\.00"))

    _type_card(page, TEST_CARD)
    page.get_by_role("button", name=re.compile(r"^Pay .*450\.00")).click()

    expect(page).to_have_url(re.compile(r"/payments/return/[A-Z0-9]+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Payment received")
    expect(page.locator(".payment-outcome")).to_contain_text("Paid")
    payment = _payment(app)
    assert payment.status == PaymentStatus.SUCCEEDED

    page.get_by_role("link", name="Back to my registration").click()
    expect(page.locator(".status-card")).to_contain_text("Confirmed")
    expect(page.get_by_role("link", name="Pay now")).to_have_count(0)
    with app.app_context():
        receipt_number = db.session.scalar(select(Receipt.number))
    receipt_link = page.get_by_role("link").filter(has_text=receipt_number)
    expect(receipt_link).to_be_visible()
    with page.expect_download() as download:
        receipt_link.click()
    assert download.value.path().read_bytes().startswith(b"%PDF")

    # The confirmation and the receipt reach the delegate's mailbox.
    mailbox.wait_for(2)
    subjects = [message["Subject"] for message in mailbox.to(EMAIL)]
    assert any(receipt_number in subject for subject in subjects), subjects
    assert any("confirmed" in subject.lower() for subject in subjects), subjects


def test_without_a_webhook_the_return_page_asks_stripe(
    app, page, live_server, localstripe, mailbox, delegate_awaiting_payment
):
    """No webhook is registered here: the outcome still shows (Stripe is asked directly)."""
    _sign_in(page, EMAIL)
    page.goto(f"/payments/pay/{delegate_awaiting_payment}")
    _type_card(page, TEST_CARD)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment received")
    page.goto("/my/registration")
    expect(page.locator(".status-card")).to_contain_text("Confirmed")


def test_a_failed_authentication_shows_not_paid_and_a_second_card_pays(
    app, page, live_server, localstripe, mailbox, delegate_awaiting_payment
):
    """The bank's check (3-D Secure) fails: not paid, try again; another card then pays, and
    the registration is paid once."""
    _sign_in(page, EMAIL)
    page.goto(f"/payments/pay/{delegate_awaiting_payment}")
    _type_card(page, AUTHENTICATION_CARD)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    # localstripe's stand-in asks once when saving the card and once when charging it.
    page.get_by_role("button", name="Complete authentication").click()
    page.get_by_role("button", name="Fail authentication").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment not completed")
    expect(page.locator(".payment-outcome")).to_contain_text("Not paid")
    page.get_by_role("link", name="Try again").click()
    _type_card(page, TEST_CARD)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Payment received")
    with app.app_context():
        states = list(db.session.scalars(select(Payment.status).order_by(Payment.id)))
    assert states[-1] == PaymentStatus.SUCCEEDED
    assert states.count(PaymentStatus.SUCCEEDED) == 1
