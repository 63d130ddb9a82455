"""The Stripe gateway against localstripe: PaymentIntents, refunds, idempotency keys on every
create call, translated refusals, webhook signatures, and the settings that point at Stripe."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from app.config import LOCALSTRIPE_SECRET_KEY, load_config
from app.payments import gateway
from tests.conftest import free_port
from tests.payments.stripe_helpers import (
    DECLINED,
    VISA,
    awaiting_registration,
    card_payment,
    sign,
    stripe_event,
)
from tests.registration.factories import USD_FEE

METADATA = {"payment": "PAYTEST123", "registrations": "ABCD2345,EFGH6789"}


@dataclass
class RecordingProxy:
    """Stands between Kongres and localstripe and notes every request's method, path and
    Idempotency-Key header (localstripe itself ignores the key)."""

    target: str
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)

    @Request.application
    def __call__(self, request: Request) -> Response:
        """Note the request and pass it on unchanged."""
        self.seen.append((request.method, request.path, request.headers.get("Idempotency-Key")))
        headers = {
            name: request.headers[name]
            for name in ("Authorization", "Content-Type")
            if name in request.headers
        }
        upstream = urllib.request.Request(  # noqa: S310 (loopback localstripe)
            self.target + request.full_path.rstrip("?"),
            data=request.get_data() if request.method == "POST" else None,
            headers=headers,
            method=request.method,
        )
        try:
            with urllib.request.urlopen(upstream, timeout=10) as answer:  # noqa: S310
                return Response(answer.read(), answer.status, content_type="application/json")
        except urllib.error.HTTPError as refused:
            return Response(refused.read(), refused.code, content_type="application/json")


@pytest.fixture
def proxy(app, localstripe, monkeypatch) -> Iterator[RecordingProxy]:
    """Kongres talks to localstripe through a recording proxy during this test."""
    recorder = RecordingProxy(localstripe.api_base)
    port = free_port()
    server = make_server("127.0.0.1", port, recorder, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", f"http://127.0.0.1:{port}")
    yield recorder
    server.shutdown()
    thread.join(timeout=5)


def _intent(amount: int = USD_FEE, key: str | None = None) -> gateway.Intent:
    """A new PaymentIntent at localstripe."""
    return gateway.create_payment_intent(
        amount_minor=amount,
        currency="USD",
        idempotency_key=key or f"test-{time.monotonic_ns()}",
        metadata=METADATA,
    )


# --- PaymentIntents and refunds -------------------------------------------------------------


def test_an_intent_carries_the_amount_currency_and_metadata(db):
    intent = _intent()
    assert intent.id.startswith("pi_")
    assert (intent.amount_minor, intent.currency) == (USD_FEE, "USD")
    assert intent.metadata == METADATA
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert gateway.retrieve_payment_intent(intent.id) == intent


def test_every_create_call_carries_an_idempotency_key(db, proxy):
    registration = awaiting_registration()
    payment = card_payment([registration])
    paid = gateway.confirm_payment_intent(
        payment.stripe_payment_intent_id, payment_method=VISA, idempotency_key="test-charge"
    )
    assert paid.status == "succeeded"
    refund = gateway.create_refund(
        payment_intent_id=payment.stripe_payment_intent_id,
        amount_minor=1000,
        idempotency_key="test-refund",
    )
    assert refund.amount_minor == 1000

    posts = [(path, key) for method, path, key in proxy.seen if method == "POST"]
    assert posts[0] == ("/v1/payment_intents", f"kongres-payment-{payment.reference}")
    assert ("/v1/refunds", "test-refund") in posts
    assert all(key for _path, key in posts), posts


def test_a_card_is_charged_and_refunded(db):
    intent = _intent()
    paid = gateway.confirm_payment_intent(intent.id, payment_method=VISA, idempotency_key="t1")
    assert paid.status == "succeeded"
    refund = gateway.create_refund(
        payment_intent_id=intent.id, amount_minor=USD_FEE, idempotency_key="t1-refund"
    )
    assert refund.id.startswith("re_")
    assert (refund.status, refund.amount_minor) == ("succeeded", USD_FEE)


def test_a_declined_card_is_a_translated_refusal(db):
    intent = _intent()
    with pytest.raises(gateway.GatewayError) as refused:
        gateway.confirm_payment_intent(intent.id, payment_method=DECLINED, idempotency_key="t2")
    assert refused.value.code == "card_declined"
    assert "declined" in refused.value.message
    assert gateway.retrieve_payment_intent(intent.id).failure_message


def test_an_unpaid_intent_can_be_cancelled(db):
    intent = _intent()
    assert gateway.cancel_payment_intent(intent.id, idempotency_key="t3").status == "canceled"


def test_stripe_unreachable_or_not_configured(db, app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_API_BASE", "http://127.0.0.1:9")
    with pytest.raises(gateway.GatewayError) as unreachable:
        gateway.retrieve_payment_intent("pi_anything")
    assert unreachable.value.code == "gateway_unreachable"

    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "")
    assert not gateway.is_configured()
    with pytest.raises(gateway.GatewayError) as missing:
        _intent()
    assert missing.value.code == "stripe_not_configured"


def test_an_unknown_intent_is_refused(db):
    with pytest.raises(gateway.GatewayError) as refused:
        gateway.retrieve_payment_intent("pi_doesnotexist")
    assert refused.value.code == "gateway_refused"


# --- webhook signatures ---------------------------------------------------------------------


def test_a_signed_event_is_verified_into_plain_values(db, localstripe):
    event = stripe_event("payment_intent.succeeded", {"id": "pi_1", "object": "payment_intent"})
    payload = json.dumps(event).encode()
    verified = gateway.verify_webhook(payload, sign(payload, localstripe.webhook_secret))
    assert verified == event


@pytest.mark.parametrize(
    ("secret", "age"),
    [("whsec_forged", 0), ("whsec_kongres_localstripe", 3600)],
    ids=["wrong secret", "replayed an hour later"],
)
def test_a_forged_or_replayed_signature_is_refused(db, secret, age):
    payload = json.dumps(stripe_event("payment_intent.succeeded", {"id": "pi_1"})).encode()
    signature = sign(payload, secret, timestamp=int(time.time()) - age)
    with pytest.raises(gateway.InvalidWebhook):
        gateway.verify_webhook(payload, signature)


def test_no_signature_or_no_secret_is_refused(db, app, localstripe, monkeypatch):
    payload = json.dumps(stripe_event("payment_intent.succeeded", {"id": "pi_1"})).encode()
    with pytest.raises(gateway.InvalidWebhook):
        gateway.verify_webhook(payload, None)
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", "")
    with pytest.raises(gateway.InvalidWebhook):
        gateway.verify_webhook(payload, sign(payload, ""))


# --- settings -------------------------------------------------------------------------------


STRIPE_VARIABLES = (
    "STRIPE_API_BASE",
    "STRIPE_JS_URL",
    "STRIPE_PUBLISHABLE_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
)


@pytest.fixture
def clean_environment(monkeypatch):
    """No Stripe variables in the environment."""
    for name in STRIPE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_development_with_localstripe_needs_only_its_address(clean_environment, tmp_path):
    clean_environment.setenv("STRIPE_API_BASE", "http://127.0.0.1:8420/")
    config = load_config(tmp_path)
    assert config["STRIPE_API_BASE"] == "http://127.0.0.1:8420"
    assert config["STRIPE_JS_URL"] == "http://127.0.0.1:8420/js.stripe.com/v3/"
    assert config["STRIPE_SECRET_KEY"] == LOCALSTRIPE_SECRET_KEY
    assert config["STRIPE_PUBLISHABLE_KEY"].startswith("pk_test_")
    assert config["STRIPE_WEBHOOK_SECRET"].startswith("whsec_")


def test_real_stripe_by_default_and_no_stand_in_keys_in_production(clean_environment, tmp_path):
    config = load_config(tmp_path)
    assert config["STRIPE_API_BASE"] == ""
    assert config["STRIPE_JS_URL"] == "https://js.stripe.com/v3/"
    assert config["STRIPE_SECRET_KEY"] == ""

    clean_environment.setenv("KONGRES_ENV", "production")
    clean_environment.setenv("SECRET_KEY", "x" * 40)
    clean_environment.setenv(
        "PASSPORT_ENCRYPTION_KEY", "a29uZ3Jlcy10ZXN0LXBhc3Nwb3J0LWtleS0zMmJ5dGU="
    )
    clean_environment.setenv("STRIPE_API_BASE", "http://127.0.0.1:8420")
    production = load_config(tmp_path)
    assert production["STRIPE_SECRET_KEY"] == ""
    assert production["STRIPE_WEBHOOK_SECRET"] == ""
