"""The Stripe webhook: signed events in, applied once, answered quickly.

Stripe retries an event until it gets a 2xx answer, so this answers 200 for everything it has
taken note of (including events it ignores or has seen before), 400 for a request it cannot
trust (nothing is changed), and 503 when applying failed, so that Stripe tries again later.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from app.auth.access import PUBLIC, allow
from app.errors import DomainError
from app.extensions import csrf, db
from app.payments.gateway import InvalidWebhook, verify_webhook
from app.payments.services import handle_stripe_event
from app.payments.views import bp


@bp.post("/stripe/webhook")
@allow(PUBLIC)
@csrf.exempt
def stripe_webhook() -> Any:
    """Receive a Stripe event (signature checked) and apply it once."""
    try:
        event = verify_webhook(request.get_data(), request.headers.get("Stripe-Signature"))
    except InvalidWebhook as error:
        current_app.logger.warning("Stripe webhook refused: %s", error)
        return jsonify(error="invalid_signature"), 400
    try:
        outcome = handle_stripe_event(event)
    except DomainError as error:
        db.session.rollback()
        current_app.logger.error(
            "Stripe event %s not applied (%s): %s", event.get("id"), error.code, error
        )
        return jsonify(error=error.code), 503
    db.session.commit()
    return jsonify(received=True, outcome=outcome)
