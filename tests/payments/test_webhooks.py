"""The Stripe webhook (issue 5, item 2): signatures, each event once, states only forward,
refunds; the same event delivered five times at once confirms and emails once (PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest
from sqlalchemy import func, select

from app.extensions import db as _db
from app.payments import services
from app.payments.models import Payment, PaymentStatus, Receipt, Refund, StripeEvent
from app.payments.receipts import ReceiptError
from app.payments.stripe_dev import silence_webhook
from app.registration.models import Registration, RegistrationHistory, RegistrationStatus
from tests.conftest import requires_postgres
from tests.payments.stripe_helpers import (
    awaiting_registration,
    card_payment,
    charge_object,
    deliver,
    events_at_stripe,
    intent_object,
    pay_at_stripe,
    sign,
    stripe_event,
)
from tests.registration.factories import USD_FEE, count_rows

DELIVERIES = 5
BARRIER_TIMEOUT = 30


@pytest.fixture
def awaiting_payment(db):
    """A registration awaiting payment and its started card payment (committed)."""
    registration = awaiting_registration()
    payment = card_payment([registration])
    return registration, payment


def _reload(registration: Registration, payment: Payment) -> tuple[str, str]:
    """The registration's and the payment's states as the database has them now (a new
    transaction: SQLite would otherwise keep showing this one's snapshot)."""
    _db.session.rollback()
    return (
        _db.session.get(Registration, registration.id).status,
        _db.session.get(Payment, payment.id).status,
    )


def _paid_history(registration: Registration) -> int:
    """How many times the registration was recorded as paid."""
    return _db.session.scalar(
        select(func.count()).where(
            RegistrationHistory.registration_id == registration.id,
            RegistrationHistory.action == "paid",
        )
    )


# --- signatures -----------------------------------------------------------------------------


def test_a_forged_signature_gets_400_and_changes_nothing(client, localstripe, awaiting_payment):
    registration, payment = awaiting_payment
    event = stripe_event("payment_intent.succeeded", intent_object(payment, "succeeded"))

    forged = deliver(client, event, "whsec_somebody_else")
    missing = client.post(
        "/payments/stripe/webhook", data=json.dumps(event), content_type="application/json"
    )
    tampered_body = json.dumps({**event, "id": "evt_other"}).encode()
    tampered = client.post(
        "/payments/stripe/webhook",
        data=tampered_body,
        headers={"Stripe-Signature": sign(json.dumps(event).encode(), localstripe.webhook_secret)},
    )
    stale = deliver(
        client,
        event,
        localstripe.webhook_secret,
        signature=sign(
            json.dumps(event).encode(),
            localstripe.webhook_secret,
            timestamp=int(time.time()) - 3600,
        ),
    )

    assert [r.status_code for r in (forged, missing, tampered, stale)] == [400, 400, 400, 400]
    assert count_rows(StripeEvent) == 0
    assert _reload(registration, payment) == (
        RegistrationStatus.AWAITING_PAYMENT.value,
        PaymentStatus.PENDING.value,
    )


def test_a_signed_body_that_is_not_an_event_gets_400(client, localstripe):
    payload = b"this is not json"
    response = client.post(
        "/payments/stripe/webhook",
        data=payload,
        headers={"Stripe-Signature": sign(payload, localstripe.webhook_secret)},
    )
    assert response.status_code == 400


def test_without_a_webhook_secret_nothing_is_trusted(client, app, monkeypatch, awaiting_payment):
    _registration, payment = awaiting_payment
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", "")
    event = stripe_event("payment_intent.succeeded", intent_object(payment, "succeeded"))
    assert deliver(client, event, "").status_code == 400
    assert count_rows(StripeEvent) == 0


def test_the_webhook_needs_no_csrf_token(live_server, localstripe):
    """The live server checks CSRF tokens on every other POST; Stripe sends none."""
    payload = json.dumps(stripe_event("customer.created", {"id": "cus_1"})).encode()
    request = urllib.request.Request(  # noqa: S310 (the loopback live server)
        f"{live_server}/payments/stripe/webhook",
        data=payload,
        headers={
            "Stripe-Signature": sign(payload, localstripe.webhook_secret),
            "Content-Type": "application/json",
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
        assert json.load(response)["outcome"] == "ignored"


# --- each event once ------------------------------------------------------------------------


def test_the_same_event_five_times_confirms_and_emails_once(
    client, localstripe, mailbox, awaiting_payment
):
    registration, payment = awaiting_payment
    mailbox.clear()
    pay_at_stripe(localstripe, payment)
    (event,) = events_at_stripe(
        localstripe, payment.stripe_payment_intent_id, "payment_intent.succeeded"
    )

    outcomes = []
    for _ in range(DELIVERIES):
        response = deliver(client, event, localstripe.webhook_secret)
        assert response.status_code == 200
        outcomes.append(response.get_json()["outcome"])

    assert outcomes == ["succeeded"] + ["already_processed"] * (DELIVERIES - 1)
    assert _reload(registration, payment) == (
        RegistrationStatus.CONFIRMED.value,
        PaymentStatus.SUCCEEDED.value,
    )
    assert _paid_history(registration) == 1
    assert count_rows(Receipt) == 1
    assert count_rows(StripeEvent) == 1
    messages = mailbox.wait_for(2)
    time.sleep(0.3)  # nothing more arrives
    assert len(mailbox.messages) == len(messages) == 2  # confirmation + receipt, once each


@pytest.fixture
def busy_app(make_app, smtp_server, localstripe):
    """An application whose pool has a connection for each delivery, so that they run at once."""
    return make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": DELIVERIES + 5, "max_overflow": 0},
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server[0],
        SERVER_BASE_URL="http://kongres.test",
        **localstripe.config(),
    )


@requires_postgres
@pytest.mark.postgres
def test_five_deliveries_at_once_confirm_and_email_once(
    busy_app, localstripe, mailbox, awaiting_payment
):
    registration, payment = awaiting_payment
    mailbox.clear()
    pay_at_stripe(localstripe, payment)
    (event,) = events_at_stripe(
        localstripe, payment.stripe_payment_intent_id, "payment_intent.succeeded"
    )
    payload = json.dumps(event).encode()
    barrier = threading.Barrier(DELIVERIES, timeout=BARRIER_TIMEOUT)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def stripe_delivers() -> None:
        """One delivery through the real route, released together with the others."""
        client = busy_app.test_client()
        headers = {"Stripe-Signature": sign(payload, localstripe.webhook_secret)}
        barrier.wait()
        response = client.post(
            "/payments/stripe/webhook",
            data=payload,
            headers=headers,
            content_type="application/json",
        )
        with lock:
            results.append((response.status_code, response.get_json()["outcome"]))

    threads = [threading.Thread(target=stripe_delivers) for _ in range(DELIVERIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == sorted(
        [(200, "succeeded")] + [(200, "already_processed")] * (DELIVERIES - 1)
    )
    assert _reload(registration, payment) == (
        RegistrationStatus.CONFIRMED.value,
        PaymentStatus.SUCCEEDED.value,
    )
    assert _paid_history(registration) == 1
    assert count_rows(Receipt) == 1
    assert count_rows(StripeEvent) == 1
    mailbox.wait_for(2)
    time.sleep(0.3)
    assert len(mailbox.messages) == 2
    assert len(mailbox.to(registration.email)) == 2  # confirmation + receipt, once each


def test_localstripe_delivers_its_signed_event_to_the_live_server(
    stripe_webhook, localstripe, mailbox, awaiting_payment
):
    """End to end: localstripe signs and posts payment_intent.succeeded itself."""
    registration, payment = awaiting_payment
    pay_at_stripe(localstripe, payment)
    deadline = time.monotonic() + 10
    while _reload(registration, payment)[0] != RegistrationStatus.CONFIRMED.value:
        assert time.monotonic() < deadline, "the webhook never confirmed the registration"
        time.sleep(0.1)
    assert _db.session.scalar(select(StripeEvent.outcome)) == "succeeded"


def test_the_dev_setup_command_points_localstripe_at_the_app(
    runner, live_server, localstripe, awaiting_payment
):
    """What `make run` does: register the app's webhook with localstripe."""
    registration, payment = awaiting_payment
    url = f"{live_server}/payments/stripe/webhook"
    result = runner.invoke(args=["kongres", "stripe-dev-setup", "--webhook-url", url])
    assert result.exit_code == 0, result.output
    assert url in result.output
    try:
        pay_at_stripe(localstripe, payment)
        deadline = time.monotonic() + 10
        while _reload(registration, payment)[1] != PaymentStatus.SUCCEEDED.value:
            assert time.monotonic() < deadline, "localstripe never reached the app"
            time.sleep(0.1)
    finally:
        silence_webhook(localstripe.api_base)


def test_the_dev_setup_command_needs_localstripe(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "")
    result = runner.invoke(args=["kongres", "stripe-dev-setup"])
    assert result.exit_code != 0
    assert "STRIPE_API_BASE" in result.output


def test_an_event_that_cannot_be_applied_is_retried_later(
    client, localstripe, monkeypatch, awaiting_payment
):
    """Nothing half-written: the event is not stored, Stripe gets 503 and delivers again."""
    registration, payment = awaiting_payment
    event = stripe_event("payment_intent.succeeded", intent_object(payment, "succeeded"))

    def busy(*_args, **_kwargs):
        raise ReceiptError("busy", "receipt_number_busy")

    monkeypatch.setattr(services, "issue_receipt", busy)
    assert deliver(client, event, localstripe.webhook_secret).status_code == 503
    assert count_rows(StripeEvent) == 0
    assert _reload(registration, payment) == (
        RegistrationStatus.AWAITING_PAYMENT.value,
        PaymentStatus.PENDING.value,
    )
    monkeypatch.undo()
    again = deliver(client, event, localstripe.webhook_secret)
    assert again.get_json()["outcome"] == "succeeded"
    assert _paid_history(registration) == 1


# --- states only forward --------------------------------------------------------------------


def test_payment_failed_after_succeeded_changes_nothing(client, localstripe, awaiting_payment):
    registration, payment = awaiting_payment
    succeeded = stripe_event("payment_intent.succeeded", intent_object(payment, "succeeded"))
    failed = stripe_event(
        "payment_intent.payment_failed",
        intent_object(payment, "requires_payment_method", failure_message="Card declined"),
    )
    assert deliver(client, succeeded, localstripe.webhook_secret).get_json()["outcome"] == (
        "succeeded"
    )
    response = deliver(client, failed, localstripe.webhook_secret)

    assert response.status_code == 200
    assert response.get_json()["outcome"] == "unchanged"
    assert _reload(registration, payment) == (
        RegistrationStatus.CONFIRMED.value,
        PaymentStatus.SUCCEEDED.value,
    )
    assert _db.session.get(Payment, payment.id).failure_message is None


def test_payment_failed_marks_the_payment_failed(client, localstripe, awaiting_payment):
    registration, payment = awaiting_payment
    failed = stripe_event(
        "payment_intent.payment_failed",
        intent_object(payment, "requires_payment_method", failure_message="Card declined"),
    )
    assert deliver(client, failed, localstripe.webhook_secret).get_json()["outcome"] == "failed"
    assert _reload(registration, payment) == (
        RegistrationStatus.AWAITING_PAYMENT.value,
        PaymentStatus.FAILED.value,
    )
    assert _db.session.get(Payment, payment.id).failure_message == "Card declined"


def test_canceled_ends_a_pending_payment_but_not_a_paid_one(client, localstripe, db):
    secret = localstripe.webhook_secret
    waiting = awaiting_registration()
    pending = card_payment([waiting])
    paid_registration = awaiting_registration(pending.event, waiting.registration_type)
    paid = card_payment([paid_registration])

    deliver(
        client, stripe_event("payment_intent.succeeded", intent_object(paid, "succeeded")), secret
    )
    outcomes = [
        deliver(
            client, stripe_event("payment_intent.canceled", intent_object(p, "canceled")), secret
        ).get_json()["outcome"]
        for p in (pending, paid)
    ]

    assert outcomes == ["canceled", "unchanged"]
    assert _reload(waiting, pending) == (
        RegistrationStatus.AWAITING_PAYMENT.value,
        PaymentStatus.CANCELED.value,
    )
    assert _reload(paid_registration, paid) == (
        RegistrationStatus.CONFIRMED.value,
        PaymentStatus.SUCCEEDED.value,
    )


def test_processing_shows_processing_until_the_outcome(client, localstripe, awaiting_payment):
    _registration, payment = awaiting_payment
    secret = localstripe.webhook_secret
    processing = stripe_event("payment_intent.processing", intent_object(payment, "processing"))
    assert deliver(client, processing, secret).get_json()["outcome"] == "processing"
    _db.session.expire_all()
    assert services.payment_status_for_page(_db.session.get(Payment, payment.id)) == "processing"


# --- refunds --------------------------------------------------------------------------------


def test_charge_refunded_partly_then_fully(client, localstripe, mailbox, awaiting_payment):
    registration, payment = awaiting_payment
    secret = localstripe.webhook_secret
    deliver(
        client,
        stripe_event("payment_intent.succeeded", intent_object(payment, "succeeded")),
        secret,
    )

    partly = stripe_event("charge.refunded", charge_object(payment, amount_refunded=10_000))
    again = stripe_event("charge.refunded", charge_object(payment, amount_refunded=10_000))
    fully = stripe_event("charge.refunded", charge_object(payment, amount_refunded=USD_FEE))

    assert deliver(client, partly, secret).get_json()["outcome"] == "partially_refunded"
    assert _reload(registration, payment) == (
        RegistrationStatus.CONFIRMED.value,
        PaymentStatus.PARTIALLY_REFUNDED.value,
    )
    assert deliver(client, again, secret).get_json()["outcome"] == "unchanged"
    assert deliver(client, fully, secret).get_json()["outcome"] == "refunded"

    assert _reload(registration, payment) == (
        RegistrationStatus.REFUNDED.value,
        PaymentStatus.REFUNDED.value,
    )
    assert _db.session.get(Payment, payment.id).refunded_minor == USD_FEE
    refunds = _db.session.scalars(select(Refund.amount_minor).order_by(Refund.id)).all()
    assert refunds == [10_000, USD_FEE - 10_000]
    assert count_rows(Receipt) == 3  # the receipt and two credit notes


def test_a_refund_reported_before_the_success_applies_both(client, localstripe, awaiting_payment):
    registration, payment = awaiting_payment
    refunded = stripe_event("charge.refunded", charge_object(payment, amount_refunded=USD_FEE))
    assert deliver(client, refunded, localstripe.webhook_secret).get_json()["outcome"] == (
        "refunded"
    )
    assert _reload(registration, payment) == (
        RegistrationStatus.REFUNDED.value,
        PaymentStatus.REFUNDED.value,
    )
    late_success = stripe_event("payment_intent.succeeded", intent_object(payment, "succeeded"))
    assert deliver(client, late_success, localstripe.webhook_secret).get_json()["outcome"] == (
        "unchanged"
    )
    assert _paid_history(registration) == 1
