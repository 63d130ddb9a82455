"""Card payments: amounts computed on the server, PaymentIntents at localstripe, reuse and
supersession, Stripe's news applied once and forward only, the return page's own check."""

from __future__ import annotations

import threading

import pytest
import stripe
from sqlalchemy import select

from app.extensions import db as _db
from app.payments import gateway, services
from app.payments.models import (
    Payment,
    PaymentStatus,
    Receipt,
    StripeEvent,
    Voucher,
    VoucherKind,
    VoucherRedemption,
)
from app.registration.models import Delegation, Registration, RegistrationStatus
from tests.conftest import requires_postgres
from tests.payments.stripe_helpers import (
    DECLINED,
    awaiting_registration,
    card_payment,
    events_at_stripe,
    intent_object,
    pay_at_stripe,
    stripe_client,
    stripe_event,
)
from tests.registration.factories import IDR_FEE, USD_FEE, count_rows, make_event, make_type


def _voucher(registration, *, percent: int) -> None:
    """A percentage voucher applied to a registration (as redeeming one leaves it)."""
    voucher = Voucher(
        event_id=registration.event_id,
        code=f"TEST{registration.id}",
        kind=VoucherKind.PERCENT.value,
        percent_off=percent,
        max_uses=1,
        uses=1,
    )
    _db.session.add(voucher)
    _db.session.flush()
    _db.session.add(
        VoucherRedemption(
            registration_id=registration.id,
            voucher_id=voucher.id,
            discount_minor=registration.fee_minor * percent // 100,
        )
    )
    _db.session.flush()


def _delegation(head, *members):
    """Make `head` the head of a delegation with these members."""
    delegation = Delegation(event_id=head.event_id, country=head.nationality, name="Nigeria")
    _db.session.add(delegation)
    _db.session.flush()
    head.delegation_id = delegation.id
    head.is_delegation_head = True
    for member in members:
        member.delegation_id = delegation.id
    _db.session.flush()


def _status_mails(mailbox, registration) -> list:
    """The status emails a registration's delegate received about their registration."""
    return [
        message
        for message in mailbox.to(registration.email)
        if registration.reference in message["Subject"]
    ]


# --- amounts --------------------------------------------------------------------------------


def test_amount_due_is_the_fee_less_the_voucher(db):
    registration = awaiting_registration()
    today = registration.created_at.date()
    assert registration.currency == "USD"
    assert services.amount_due([registration], today) == USD_FEE
    _voucher(registration, percent=20)
    assert services.amount_due([registration], today) == USD_FEE * 80 // 100


def test_amount_due_for_a_group_adds_every_fee(db):
    event = make_event()
    registration_type = make_type(event)
    first = awaiting_registration(event, registration_type)
    second = awaiting_registration(event, registration_type)
    assert services.amount_due([first, second], first.created_at.date()) == 2 * USD_FEE


def test_indonesian_delegates_pay_in_rupiah(db):
    registration = awaiting_registration(nationality="ID", residence_country="ID")
    payment = card_payment([registration])
    assert (payment.currency, payment.amount_minor) == ("IDR", IDR_FEE)


# --- starting a card payment ----------------------------------------------------------------


def test_a_card_payment_creates_an_intent_for_the_server_computed_amount(db, localstripe):
    registration = awaiting_registration()
    payment = card_payment([registration])

    assert payment.method == "card"
    assert payment.status == PaymentStatus.PENDING.value
    assert (payment.currency, payment.amount_minor) == ("USD", USD_FEE)
    assert payment.payer_id == registration.user_id
    assert payment.idempotency_key == f"kongres-payment-{payment.reference}"
    assert [(a.registration_id, a.amount_minor) for a in payment.allocations] == [
        (registration.id, USD_FEE)
    ]
    intent = stripe_client(localstripe).v1.payment_intents.retrieve(
        payment.stripe_payment_intent_id
    )
    assert (intent.amount, intent.currency) == (USD_FEE, "usd")
    assert intent.metadata.to_dict() == {
        "payment": payment.reference,
        "registrations": registration.reference,
    }
    assert services.client_secret_for(payment) == intent.client_secret


def test_a_second_click_reuses_the_open_payment(db):
    registration = awaiting_registration()
    first = card_payment([registration])
    second = card_payment([registration])
    assert second.id == first.id
    assert count_rows(Payment) == 1


@requires_postgres
@pytest.mark.postgres
def test_five_clicks_at_once_start_one_payment(make_app, localstripe, db):
    """Five tabs press "pay" at the same moment: one payment, one PaymentIntent."""
    registration = awaiting_registration()
    _db.session.commit()
    registration_id, clicks = registration.id, 5
    busy = make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": clicks + 5, "max_overflow": 0},
        **localstripe.config(),
    )
    barrier = threading.Barrier(clicks, timeout=30)
    references: list[str] = []
    lock = threading.Lock()

    def click() -> None:
        """One tab: waits for the others, starts the payment, commits."""
        with busy.test_request_context():
            barrier.wait()
            mine = _db.session.get(Registration, registration_id)
            payment = services.start_card_payment([mine], payer=mine.user)
            _db.session.commit()
            with lock:
                references.append(payment.reference)
            _db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(clicks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(references) == clicks
    assert len(set(references)) == 1
    _db.session.rollback()
    assert count_rows(Payment) == 1


def test_a_changed_amount_cancels_the_old_intent(db, localstripe):
    registration = awaiting_registration()
    old = card_payment([registration])
    _voucher(registration, percent=50)
    new = card_payment([registration])

    assert new.id != old.id
    assert new.amount_minor == USD_FEE // 2
    assert old.status == PaymentStatus.CANCELED.value
    cancelled = stripe_client(localstripe).v1.payment_intents.retrieve(old.stripe_payment_intent_id)
    assert cancelled.status == "canceled"


def test_paying_again_after_paying_finds_the_payment_that_succeeded(db, localstripe, mailbox):
    """The payer paid in another tab and the webhook has not come: the truth comes from
    Stripe, and nothing is charged twice."""
    registration = awaiting_registration()
    payment = card_payment([registration])
    pay_at_stripe(localstripe, payment)

    again = card_payment([registration])

    assert again.id == payment.id
    assert again.status == PaymentStatus.SUCCEEDED.value
    assert registration.status == RegistrationStatus.CONFIRMED.value
    assert count_rows(Payment) == 1


def test_a_head_pays_once_for_the_members(db, localstripe):
    event = make_event()
    registration_type = make_type(event)
    head = awaiting_registration(event, registration_type)
    member = awaiting_registration(event, registration_type)
    _delegation(head, member)

    payment = card_payment([head, member], payer=head.user)

    assert payment.amount_minor == 2 * USD_FEE
    assert sorted(a.registration_id for a in payment.allocations) == sorted([head.id, member.id])
    intent = stripe_client(localstripe).v1.payment_intents.retrieve(
        payment.stripe_payment_intent_id
    )
    assert intent.metadata["registrations"] == f"{head.reference},{member.reference}"


def test_nobody_pays_for_a_stranger(db):
    event = make_event()
    registration_type = make_type(event)
    mine = awaiting_registration(event, registration_type)
    stranger = awaiting_registration(event, registration_type)
    with pytest.raises(services.PaymentError) as refused:
        services.start_card_payment([mine, stranger], payer=mine.user)
    assert refused.value.code == "not_your_registration"


def test_only_registrations_awaiting_payment_are_paid(db):
    registration = awaiting_registration()
    registration.status = RegistrationStatus.CANCELLED.value
    with pytest.raises(services.PaymentError) as refused:
        services.start_card_payment([registration], payer=registration.user)
    assert refused.value.code == "not_awaiting_payment"


def test_fees_in_two_currencies_are_paid_separately(db):
    event = make_event()
    registration_type = make_type(event)
    head = awaiting_registration(event, registration_type)
    member = awaiting_registration(
        event, registration_type, nationality="ID", residence_country="ID"
    )
    _delegation(head, member)
    with pytest.raises(services.PaymentError) as refused:
        services.start_card_payment([head, member], payer=head.user)
    assert refused.value.code == "several_currencies"


def test_a_waived_fee_is_not_charged_by_card(db):
    registration = awaiting_registration()
    _voucher(registration, percent=100)
    with pytest.raises(services.PaymentError) as refused:
        services.start_card_payment([registration], payer=registration.user)
    assert refused.value.code == "nothing_due"


# --- applying Stripe's news -----------------------------------------------------------------


def test_a_real_succeeded_event_confirms_receipts_and_emails_once(db, localstripe, mailbox):
    registration = awaiting_registration()
    payment = card_payment([registration])
    mailbox.clear()
    assert pay_at_stripe(localstripe, payment) == "succeeded"
    (event,) = events_at_stripe(
        localstripe, payment.stripe_payment_intent_id, "payment_intent.succeeded"
    )

    assert services.handle_stripe_event(event) == "succeeded"
    _db.session.commit()
    assert services.handle_stripe_event(event) == "already_processed"
    _db.session.commit()

    assert payment.status == PaymentStatus.SUCCEEDED.value
    assert payment.succeeded_at is not None
    assert registration.status == RegistrationStatus.CONFIRMED.value
    assert count_rows(Receipt) == 1
    assert _db.session.get(StripeEvent, event["id"]).outcome == "succeeded"
    messages = mailbox.wait_for(2)
    assert len(_status_mails(mailbox, registration)) == 1
    assert len(messages) == 2  # the confirmation and the receipt, each once


def test_the_return_page_asks_stripe_when_the_webhook_is_late(db, localstripe, mailbox):
    registration = awaiting_registration()
    payment = card_payment([registration])
    mailbox.clear()
    assert services.refresh_from_stripe(payment) == "pending"
    pay_at_stripe(localstripe, payment)

    assert services.refresh_from_stripe(payment) == "paid"
    _db.session.commit()
    (event,) = events_at_stripe(
        localstripe, payment.stripe_payment_intent_id, "payment_intent.succeeded"
    )
    assert services.handle_stripe_event(event) == "unchanged"
    _db.session.commit()

    assert registration.status == RegistrationStatus.CONFIRMED.value
    assert count_rows(Receipt) == 1
    mailbox.wait_for(2)
    assert len(_status_mails(mailbox, registration)) == 1


def test_a_declined_card_fails_and_paying_again_starts_afresh(db, localstripe):
    registration = awaiting_registration()
    declined = card_payment([registration])
    with pytest.raises(stripe.CardError):
        pay_at_stripe(localstripe, declined, DECLINED)
    (failed,) = events_at_stripe(
        localstripe, declined.stripe_payment_intent_id, "payment_intent.payment_failed"
    )
    assert services.handle_stripe_event(failed) == "failed"
    assert services.payment_status_for_page(declined) == "failed"
    assert declined.failure_message

    retry = card_payment([registration])
    assert retry.id != declined.id
    assert declined.status == PaymentStatus.CANCELED.value
    assert pay_at_stripe(localstripe, retry) == "succeeded"
    assert services.refresh_from_stripe(retry) == "paid"
    assert registration.status == RegistrationStatus.CONFIRMED.value


def test_a_success_after_a_failure_on_the_same_intent_counts(db, mailbox):
    """Stripe lets a payer retry on the same intent: failed is not the end."""
    registration = awaiting_registration()
    payment = card_payment([registration])
    failed = stripe_event(
        "payment_intent.payment_failed",
        intent_object(payment, "requires_payment_method", failure_message="Declined"),
    )
    succeeded = stripe_event("payment_intent.succeeded", intent_object(payment, "succeeded"))
    assert services.handle_stripe_event(failed) == "failed"
    assert services.handle_stripe_event(succeeded) == "succeeded"
    assert payment.failure_message is None
    assert registration.status == RegistrationStatus.CONFIRMED.value


def test_a_late_failure_while_a_retry_is_charged_asks_stripe(db, localstripe):
    """Never "failed" followed by a late success: a failure event arriving while the payment
    is being processed is checked against the intent as it stands."""
    registration = awaiting_registration()
    payment = card_payment([registration])
    pay_at_stripe(localstripe, payment)
    payment.status = PaymentStatus.PROCESSING.value
    late = stripe_event(
        "payment_intent.payment_failed",
        intent_object(payment, "requires_payment_method", failure_message="Declined"),
    )
    assert services.handle_stripe_event(late) == "succeeded"
    assert registration.status == RegistrationStatus.CONFIRMED.value


def test_an_intent_for_another_amount_changes_nothing(db):
    registration = awaiting_registration()
    payment = card_payment([registration])
    forged = stripe_event(
        "payment_intent.succeeded", intent_object(payment, "succeeded", amount=100)
    )
    assert services.handle_stripe_event(forged) == "mismatch"
    assert payment.status == PaymentStatus.PENDING.value
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT.value


def test_events_about_other_intents_or_of_other_types_are_ignored(db):
    registration = awaiting_registration()
    payment = card_payment([registration])
    stranger = stripe_event(
        "payment_intent.succeeded",
        {"id": "pi_not_ours", "object": "payment_intent", "status": "succeeded"},
    )
    other = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    assert services.handle_stripe_event(stranger) == "unknown_payment"
    assert services.handle_stripe_event(other) == "ignored"
    assert count_rows(StripeEvent) == 0
    assert payment.status == PaymentStatus.PENDING.value


def test_stripe_unreachable_leaves_the_page_as_it_was(db, app, monkeypatch):
    registration = awaiting_registration()
    payment = card_payment([registration])
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    assert services.refresh_from_stripe(payment) == "pending"
    with pytest.raises(gateway.GatewayError) as refused:
        services.client_secret_for(payment)
    assert refused.value.code == "gateway_unreachable"


def test_find_payment_by_reference(db):
    payment = card_payment([awaiting_registration()])
    assert services.find_payment(payment.reference.lower()) == payment
    assert services.find_payment("NOSUCHPAYMENT") is None
    assert services.find_payment("x" * 100) is None
    assert _db.session.scalar(select(Payment.reference)) == payment.reference
