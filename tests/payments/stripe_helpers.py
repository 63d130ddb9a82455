"""Stripe for the payment tests: events built and signed the way Stripe does it, delivered to
the webhook; real PaymentIntents paid (and their real events read) at localstripe; and the
registrations and card payments they are about."""

from __future__ import annotations

import hmac
import json
import time
import uuid
from hashlib import sha256
from typing import Any

import stripe
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.auth.models import User
from app.events.models import Event
from app.extensions import db
from app.payments import services
from app.payments.models import Payment
from app.registration.models import Registration, RegistrationStatus, RegistrationType
from tests.conftest import LocalStripe
from tests.registration.factories import make_event, make_registration, make_type

WEBHOOK_PATH = "/payments/stripe/webhook"
VISA = "pm_card_visa"
DECLINED = "pm_card_chargeCustomerFail"


def sign(payload: bytes, secret: str, *, timestamp: int | None = None) -> str:
    """A Stripe-Signature header for a payload (HMAC-SHA256 of "timestamp.payload")."""
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{moment}.".encode() + payload, sha256).hexdigest()
    return f"t={moment},v1={digest}"


def stripe_event(
    event_type: str, data_object: dict[str, Any], *, event_id: str | None = None
) -> dict[str, Any]:
    """An event as Stripe sends it."""
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "type": event_type,
        "data": {"object": data_object},
    }


def intent_object(
    payment: Payment,
    status: str,
    *,
    failure_message: str | None = None,
    amount: int | None = None,
) -> dict[str, Any]:
    """The payment's PaymentIntent as an event carries it."""
    return {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "amount": payment.amount_minor if amount is None else amount,
        "currency": payment.currency.lower(),
        "status": status,
        "metadata": {"payment": payment.reference},
        "last_payment_error": {"message": failure_message} if failure_message else None,
    }


def charge_object(
    payment: Payment, *, amount_refunded: int, refund_ids: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The payment's charge as a charge.refunded event carries it."""
    return {
        "id": f"ch_{uuid.uuid4().hex[:14]}",
        "object": "charge",
        "amount": payment.amount_minor,
        "amount_refunded": amount_refunded,
        "currency": payment.currency.lower(),
        "paid": True,
        "status": "succeeded",
        "refunded": amount_refunded >= payment.amount_minor,
        "payment_intent": payment.stripe_payment_intent_id,
        "refunds": {"object": "list", "data": [{"id": ref} for ref in refund_ids]},
    }


def deliver(
    client: FlaskClient,
    event: dict[str, Any],
    secret: str,
    *,
    signature: str | None = None,
) -> TestResponse:
    """POST an event to the webhook, signed with `secret` unless a signature is given."""
    payload = json.dumps(event).encode()
    headers = {"Stripe-Signature": signature or sign(payload, secret)}
    return client.post(WEBHOOK_PATH, data=payload, headers=headers, content_type="application/json")


def stripe_client(localstripe: LocalStripe) -> stripe.StripeClient:
    """A Stripe client of the test's own (as the payer's browser or Stripe's dashboard)."""
    return stripe.StripeClient(localstripe.secret_key, base_addresses={"api": localstripe.api_base})


def pay_at_stripe(localstripe: LocalStripe, payment: Payment, payment_method: str = VISA) -> str:
    """Pay the payment's PaymentIntent at localstripe (as Stripe.js would); returns its state.
    A declined card raises stripe.CardError."""
    client = stripe_client(localstripe)
    intent_id = payment.stripe_payment_intent_id
    client.v1.payment_intents.update(intent_id, params={"payment_method": payment_method})
    return client.v1.payment_intents.confirm(intent_id).status


def events_at_stripe(
    localstripe: LocalStripe, intent_id: str, event_type: str
) -> list[dict[str, Any]]:
    """The events localstripe recorded for a PaymentIntent (real payloads, as plain dicts)."""
    found = stripe_client(localstripe).v1.events.list(params={"type": event_type, "limit": 100})
    events = [event.to_dict() for event in found.auto_paging_iter()]
    return [event for event in events if event["data"]["object"].get("id") == intent_id]


# --- registrations and card payments ---------------------------------------------------------


def awaiting_registration(
    event: Event | None = None, registration_type: RegistrationType | None = None, **overrides
) -> Registration:
    """A registration awaiting payment of its fee (USD 450.00 unless the type says otherwise)."""
    event = event or make_event()
    registration_type = registration_type or make_type(event)
    registration = make_registration(event, registration_type, **overrides)
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT.value
    return registration


def card_payment(registrations: list[Registration], payer: User | None = None) -> Payment:
    """A card payment started for the registrations (by the first one's delegate), committed."""
    payment = services.start_card_payment(registrations, payer=payer or registrations[0].user)
    db.session.commit()
    return payment
