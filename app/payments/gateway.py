"""The one module that talks to Stripe: PaymentIntents, refunds and webhook signatures.

Everything goes through stripe-python's StripeClient and its `v1` namespace, pointed at
STRIPE_API_BASE when it is set (localstripe in development and tests). The rest of Kongres sees
small plain values (Intent, StripeRefund) and GatewayError, never a Stripe object or exception.
Every call that creates something carries an idempotency key, so that a retried request (by
stripe-python after a dropped connection, or by us) never creates a second charge or refund.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import stripe
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.errors import DomainError

log = logging.getLogger(__name__)

# Stripe repeats a failed network call itself; safe because every create carries a key.
NETWORK_RETRIES = 2
_CLIENTS_KEY = "kongres_stripe_clients"


class GatewayError(DomainError):
    """Stripe refused a request or could not be reached."""

    status_code = 502


class InvalidWebhook(Exception):  # noqa: N818 (it names the refused request, as Stripe does)
    """A webhook request that does not carry a valid Stripe signature or event."""


@dataclass(frozen=True)
class Intent:
    """What Kongres needs to know about a Stripe PaymentIntent."""

    id: str
    status: str
    amount_minor: int
    currency: str
    client_secret: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    failure_message: str | None = None


@dataclass(frozen=True)
class StripeRefund:
    """What Kongres needs to know about a Stripe refund."""

    id: str
    status: str
    amount_minor: int


# --- configuration ---------------------------------------------------------------------------


def is_configured() -> bool:
    """Whether card payments can be taken (a secret key is set)."""
    return bool(current_app.config.get("STRIPE_SECRET_KEY"))


def _client() -> stripe.StripeClient:
    """The application's Stripe client (one per key and API base, shared by threads)."""
    config = current_app.config
    secret_key = config.get("STRIPE_SECRET_KEY") or ""
    if not secret_key:
        raise GatewayError(
            _l("Card payments are not available right now."),
            "stripe_not_configured",
        )
    api_base = config.get("STRIPE_API_BASE") or ""
    clients = current_app.extensions.setdefault(_CLIENTS_KEY, {})
    key = (secret_key, api_base)
    if key not in clients:
        clients[key] = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")} if api_base else None,
            max_network_retries=NETWORK_RETRIES,
        )
    return clients[key]


def _refused(error: stripe.StripeError) -> GatewayError:
    """Our own translated message for a Stripe failure (Stripe's texts are English only)."""
    if isinstance(error, stripe.CardError):
        return GatewayError(
            _l("The card was declined. Please try another card."),
            "card_declined",
        )
    if isinstance(error, stripe.APIConnectionError):
        log.warning("Stripe could not be reached: %s", error)
        return GatewayError(
            _l("The card payment service cannot be reached right now. Please try again shortly."),
            "gateway_unreachable",
        )
    log.error("Stripe refused a request: %s", error)
    return GatewayError(
        _l("The card payment service refused the request. Please try again later."),
        "gateway_refused",
    )


# --- PaymentIntents --------------------------------------------------------------------------


def _plain(source: stripe.StripeObject | Mapping[str, Any]) -> Mapping[str, Any]:
    """A Stripe object as plain dicts (webhook payloads already are)."""
    if isinstance(source, stripe.StripeObject):
        return source.to_dict()
    return source


def intent_from_object(source: stripe.StripeObject | Mapping[str, Any]) -> Intent:
    """An Intent read from a Stripe PaymentIntent (an API answer or an event's data.object)."""
    values = _plain(source)
    error = values.get("last_payment_error") or {}
    return Intent(
        id=str(values["id"]),
        status=str(values.get("status") or ""),
        amount_minor=int(values.get("amount") or 0),
        currency=str(values.get("currency") or "").upper(),
        client_secret=values.get("client_secret"),
        metadata={str(k): str(v) for k, v in (values.get("metadata") or {}).items()},
        failure_message=error.get("message"),
    )


def create_payment_intent(
    *, amount_minor: int, currency: str, idempotency_key: str, metadata: dict[str, str]
) -> Intent:
    """Create a card PaymentIntent for an amount the server computed."""
    try:
        intent = _client().v1.payment_intents.create(
            params={
                "amount": amount_minor,
                "currency": currency.lower(),
                "payment_method_types": ["card"],
                "metadata": metadata,
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _refused(error) from error
    return intent_from_object(intent)


def retrieve_payment_intent(intent_id: str) -> Intent:
    """Ask Stripe for a PaymentIntent as it stands now."""
    try:
        intent = _client().v1.payment_intents.retrieve(intent_id)
    except stripe.StripeError as error:
        raise _refused(error) from error
    return intent_from_object(intent)


def confirm_payment_intent(intent_id: str, *, payment_method: str, idempotency_key: str) -> Intent:
    """Attach a payment method to an intent and confirm it on the server (the flow localstripe
    supports; a card that needs authentication comes back as requires_action)."""
    try:
        client = _client()
        client.v1.payment_intents.update(
            intent_id,
            params={"payment_method": payment_method},
            options={"idempotency_key": f"{idempotency_key}-attach"},
        )
        intent = client.v1.payment_intents.confirm(
            intent_id, options={"idempotency_key": f"{idempotency_key}-confirm"}
        )
    except stripe.StripeError as error:
        raise _refused(error) from error
    return intent_from_object(intent)


def cancel_payment_intent(intent_id: str, *, idempotency_key: str) -> Intent:
    """Cancel an intent nobody will pay any more (its client secret becomes useless)."""
    try:
        intent = _client().v1.payment_intents.cancel(
            intent_id, options={"idempotency_key": idempotency_key}
        )
    except stripe.StripeError as error:
        raise _refused(error) from error
    return intent_from_object(intent)


# --- refunds ---------------------------------------------------------------------------------


def create_refund(
    *,
    payment_intent_id: str,
    amount_minor: int,
    idempotency_key: str,
    metadata: dict[str, str] | None = None,
) -> StripeRefund:
    """Give back part or all of a card payment."""
    try:
        refund = _client().v1.refunds.create(
            params={
                "payment_intent": payment_intent_id,
                "amount": amount_minor,
                "metadata": metadata or {},
            },
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _refused(error) from error
    return StripeRefund(id=refund.id, status=refund.status or "pending", amount_minor=refund.amount)


# --- webhooks --------------------------------------------------------------------------------


def verify_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event a webhook request carries (as plain dicts), once its Stripe-Signature header
    is verified."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET") or ""
    if not secret:
        # Without a secret anyone could sign; refuse rather than trust.
        log.error("a Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set")
        raise InvalidWebhook("no webhook secret configured")
    if not signature:
        raise InvalidWebhook("no Stripe-Signature header")
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
    except stripe.SignatureVerificationError as error:
        raise InvalidWebhook("bad signature") from error
    except ValueError as error:
        raise InvalidWebhook("not a Stripe event") from error
    return event.to_dict()


# --- collecting the card (helper P2: the delegate's pay page) ---------------------------------


def create_setup_intent(*, idempotency_key: str, metadata: dict[str, str]) -> str:
    """A SetupIntent through which Stripe.js turns the typed card into a payment method
    (stripe.confirmCardSetup); returns its client secret. The server then charges that payment
    method with confirm_payment_intent. Stripe and localstripe's stand-in Stripe.js both
    support this; the stand-in's confirmCardPayment does not read a card element."""
    try:
        setup = _client().v1.setup_intents.create(
            params={"usage": "on_session", "payment_method_types": ["card"], "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as error:
        raise _refused(error) from error
    return str(setup.client_secret)


def retrieve_setup_intent_payment_method(setup_intent_id: str) -> str | None:
    """The payment method a confirmed SetupIntent saved (None until it has one)."""
    try:
        setup = _client().v1.setup_intents.retrieve(setup_intent_id)
    except stripe.StripeError as error:
        raise _refused(error) from error
    if setup.status != "succeeded" or not setup.payment_method:
        return None
    method = setup.payment_method
    return method if isinstance(method, str) else str(method.id)
