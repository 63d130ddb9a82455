"""Payments pages: the delegate pays by card (Stripe.js), follows the outcome, pays for a
delegation. The webhook, organiser and payments-list routes attach to the same blueprint."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.auth.access import allow
from app.auth.models import Role
from app.errors import DomainError
from app.events.services import current_event
from app.extensions import db
from app.payments import checkout, receipts, services
from app.payments.forms import CardPaymentForm, ChargeCardForm, GroupPaymentForm
from app.payments.models import PAYMENT_METHOD_LABELS, Payment, PaymentMethod
from app.registration.models import Registration
from app.registration.services import event_today, utc_now

bp = Blueprint("payments", __name__, url_prefix="/payments", template_folder="templates")

# How often the return page reloads itself while waiting, when JavaScript is off.
REFRESH_SECONDS = 3
RETURN_TITLES = {
    "processing": _l("Your payment is being processed"),
    "paid": _l("Payment received"),
    "refunded": _l("Payment refunded"),
    "failed": _l("Payment not completed"),
}


def _card_available() -> bool:
    """Whether the card form can be shown (Stripe keys are set)."""
    config = current_app.config
    return bool(config.get("STRIPE_PUBLISHABLE_KEY") and config.get("STRIPE_SECRET_KEY"))


def _json_error(message: object, status: int = 422):
    """A refusal payments.js shows beside the card form."""
    return jsonify({"error": str(message)}), status


def _form_error(form) -> str:
    """The first error of a refused form, as one sentence."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("The form expired. Please reload the page and try again.")


def _start_card(form, registrations: list[Registration]):
    """Prepare a card payment for these registrations and answer payments.js in JSON."""
    if not form.validate():
        return _json_error(_form_error(form), 400)
    try:
        start = checkout.start_card(registrations, payer=current_user, now=utc_now())
    except DomainError as error:
        db.session.rollback()
        return _json_error(error, error.status_code)
    db.session.commit()
    reference = start.payment.reference
    body = {
        "payment": reference,
        "return_url": url_for("payments.payment_return", reference=reference),
    }
    if start.setup_client_secret is None:
        # An earlier payment for the same is being charged or paid: its page says how it went.
        return jsonify({**body, "status": "under_way"})
    return jsonify(
        {
            **body,
            "status": "ready",
            "setup_client_secret": start.setup_client_secret,
            "charge_url": url_for("payments.charge_card", reference=reference),
        }
    )


@bp.route("/pay/<reference>", methods=["GET", "POST"])
@allow(Role.DELEGATE)
def pay(reference: str):
    """The delegate's own registration awaiting payment: amount due and the card form
    (GET); POST starts the card payment and answers payments.js in JSON."""
    registration = checkout.own_registration(reference, current_user)
    if registration is None:
        abort(404)
    form = CardPaymentForm()
    if not checkout.is_payable(registration):
        if form.is_submitted():
            return _json_error(_("There is nothing to pay for this registration."), 409)
        flash(_("There is nothing to pay for this registration."), "info")
        return redirect(url_for("registration.my_registration"))
    if form.is_submitted():
        return _start_card(form, [registration])
    (line,) = checkout.payable_lines([registration], event_today())
    return render_template(
        "payments/pay.html",
        registration=registration,
        registrations=[registration],
        amount=line.amount,
        currency=registration.currency,
        card_form=form,
        card_available=_card_available(),
        in_flight=checkout.payment_under_way([registration]),
    )


@bp.route("/group", methods=["GET", "POST"])
@allow(Role.DELEGATE)
def group_payment():
    """A head of delegation pays once, by card, for the members awaiting payment."""
    head = checkout.headed_delegation_registration(current_user, current_event())
    if head is None:
        abort(404)
    payables = checkout.delegation_payables(head)
    form = GroupPaymentForm()
    form.use_registrations(payables, lambda registration: registration.full_name)
    if form.is_submitted():
        chosen = set(form.registrations.data or ())
        return _start_card(
            form, [registration for registration in payables if registration.reference in chosen]
        )
    form.registrations.data = [registration.reference for registration in payables]
    lines = checkout.payable_lines(payables, event_today())
    return render_template(
        "payments/group.html",
        delegation=head.delegation,
        payables=lines,
        totals=checkout.totals(lines),
        registrations=payables,
        form=form,
        card_available=_card_available(),
        in_flight=checkout.payment_under_way(payables),
    )


def _own_payment_or_404(reference: str) -> Payment:
    """The signed-in delegate's payment with this reference."""
    payment = checkout.own_payment(reference, current_user)
    if payment is None:
        abort(404)
    return payment


@bp.post("/charge/<reference>")
@allow(Role.DELEGATE)
def charge_card(reference: str):
    """Charge the card Stripe.js collected; tells payments.js whether the bank wants the
    delegate to authenticate (3-D Secure) before the return page."""
    payment = _own_payment_or_404(reference)
    form = ChargeCardForm()
    if not form.validate():
        return _json_error(_form_error(form), 400)
    try:
        charge = checkout.charge_card(payment, form.setup_intent.data)
    except services.StalePaymentError as error:
        # Keep the stale payment's cancellation at Stripe; payments.js shows the message.
        db.session.commit()
        return _json_error(error, error.status_code)
    except DomainError as error:
        db.session.rollback()
        return _json_error(error, error.status_code)
    db.session.commit()
    body: dict[str, Any] = {
        "status": "requires_action" if charge.status == "requires_action" else "done",
        "return_url": url_for("payments.payment_return", reference=payment.reference),
    }
    if charge.status == "requires_action":
        body["client_secret"] = charge.client_secret
    return jsonify(body)


def _followed_state(payment: Payment) -> str:
    """The payment's state for the delegate, asking Stripe when the webhook is late (a failure
    to reach Stripe leaves it processing: the next look asks again)."""
    try:
        state = checkout.follow_payment(payment)
    except DomainError:
        db.session.rollback()
        return checkout.page_state(payment)
    db.session.commit()
    return state


def _retry_url(payment: Payment) -> str:
    """Where the delegate pays again: their own pay page, or the delegation's."""
    own = [
        allocation.registration
        for allocation in payment.allocations
        if allocation.registration.user_id == current_user.id
    ]
    if len(payment.allocations) == 1 and own:
        return url_for("payments.pay", reference=own[0].reference)
    return url_for("payments.group_payment")


@bp.get("/return/<reference>")
@allow(Role.DELEGATE)
def payment_return(reference: str):
    """Where the browser lands after paying: processing until the outcome is known, then paid
    or not paid (only once Stripe says the card needs replacing)."""
    payment = _own_payment_or_404(reference)
    state = _followed_state(payment)
    transfer_page = "payments.bank_transfer_instructions"
    if (
        payment.method == PaymentMethod.BANK_TRANSFER
        and state == "processing"
        and transfer_page in current_app.view_functions
    ):
        # A transfer not received yet: its page has the bank details and the reference.
        return redirect(url_for(transfer_page, reference=payment.reference))
    issued = [receipts.receipt_for(payment)] if state in ("paid", "refunded") else []
    return render_template(
        "payments/return.html",
        payment=payment,
        state=state,
        titles=RETURN_TITLES,
        refresh_seconds=REFRESH_SECONDS,
        failure_message=payment.failure_message,
        retry_url=_retry_url(payment),
        method_labels=PAYMENT_METHOD_LABELS,
        receipts=[receipt for receipt in issued if receipt is not None],
        receipt_key=receipts.receipt_key,
        receipt_download="payments.download_receipt" in current_app.view_functions,
    )


@bp.get("/status/<reference>")
@allow(Role.DELEGATE)
def payment_status(reference: str):
    """The payment's state in JSON, for the return page's poll."""
    payment = _own_payment_or_404(reference)
    state = _followed_state(payment)
    response = jsonify({"state": state, "title": str(RETURN_TITLES[state])})
    response.headers["Cache-Control"] = "no-store"
    return response


from app.payments import (  # noqa: E402,F401
    delegate_extras_views,
    organiser_list_views,
    organiser_views,
    webhook_views,
)
