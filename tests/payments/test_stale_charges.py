"""An old card form must not charge once the registration no longer owes that amount: after a
waiver, a partial voucher, a cancellation or a recorded bank transfer, POST /payments/charge
answers 409 and takes no money (the PaymentIntent is cancelled at localstripe); and money that
arrives all the same for a registration that no longer needed it goes to the refund queue."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.i18n.text import TranslatedText
from app.payments import bank_transfer, services, settings, vouchers, waivers
from app.payments.models import Payment, PaymentStatus, Refund, VoucherKind
from app.payments.refunds import RefundSource, RefundStatus, cancel_with_refund_request
from app.payments.settings import PaymentSettingsDetails
from app.payments.vouchers import VoucherDetails
from app.registration import services as registration_services
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import event_today
from tests.payments import test_pages as pages
from tests.payments.stripe_helpers import card_payment, pay_at_stripe, stripe_client
from tests.payments.test_bank_transfer import BANK
from tests.payments.test_pages import _payments, _registration, _sign_in_delegate, collect_card

STALE = (
    "This payment no longer matches what is owed. Please start again from your registration page."
)
CLOSED = "This payment is already being processed or has ended."

# The pay pages' fixtures: the congress and a delegate's registration awaiting payment.
congress = pages.congress
awaiting = pages.awaiting


# --- what changes the amount or the state after the card form was opened -----------------------


def _voucher(event, code: str, **terms) -> None:
    """A voucher for the congress."""
    vouchers.create_voucher(event, VoucherDetails(code=code, **terms), actor=None)


def _full_waiver(registration: Registration, make_user) -> None:
    """A sponsor's waiver applied on the pay page: confirmed without payment."""
    _voucher(registration.event, "SPONSORED", kind=VoucherKind.WAIVER.value)
    waivers.apply_voucher(registration, "SPONSORED", payer=registration.user)


def _partial_voucher(registration: Registration, make_user) -> None:
    """20% off applied on the pay page: still awaiting payment, of a smaller amount."""
    _voucher(registration.event, "TWENTY", kind=VoucherKind.PERCENT.value, percent_off=20)
    waivers.apply_voucher(registration, "TWENTY", payer=registration.user)


def _cancelled(registration: Registration, make_user) -> None:
    """The delegate cancels from their registration page."""
    cancel_with_refund_request(registration, actor=registration.user)


def _paid_by_transfer(registration: Registration, make_user) -> None:
    """The delegate announces a bank transfer; an organiser records its arrival."""
    settings.save_payment_settings(
        registration.event,
        PaymentSettingsDetails(bank_instructions=TranslatedText(en="By transfer."), **BANK),
        actor=None,
    )
    transfer = bank_transfer.choose_bank_transfer([registration], payer=registration.user)
    organiser = make_user(roles=[Role.ORGANISER])
    bank_transfer.record_bank_transfer(
        transfer, transfer.amount_minor, event_today(), "BNI-1", actor=organiser
    )


def _voucher_only(registration: Registration, make_user) -> None:
    """A voucher redeemed without the pay page's clean-up: only charge_card stands guard."""
    _voucher(registration.event, "TWENTY", kind=VoucherKind.PERCENT.value, percent_off=20)
    vouchers.redeem_voucher(registration, "TWENTY")


def _cancelled_only(registration: Registration, make_user) -> None:
    """A cancellation without the payments clean-up: only charge_card stands guard."""
    registration_services.cancel_registration(registration, actor=registration.user)


CHANGES: dict[str, tuple[Callable[[Registration, object], None], str]] = {
    "full waiver": (_full_waiver, CLOSED),
    "partial voucher": (_partial_voucher, CLOSED),
    "cancelled": (_cancelled, CLOSED),
    "bank transfer recorded": (_paid_by_transfer, CLOSED),
    "voucher, charge_card alone": (_voucher_only, STALE),
    "cancelled, charge_card alone": (_cancelled_only, STALE),
}


def _intent_status(localstripe, payment: Payment) -> str:
    """How localstripe says the payment's PaymentIntent stands."""
    client = stripe_client(localstripe)
    return client.v1.payment_intents.retrieve(payment.stripe_payment_intent_id).status


@pytest.mark.parametrize("change", list(CHANGES))
def test_an_old_card_form_takes_no_money_once_the_amount_or_state_changed(
    app, client, db, awaiting, localstripe, make_user, change
):
    apply_change, message = CHANGES[change]
    _sign_in_delegate(app, client, awaiting)
    start = client.post(f"/payments/pay/{awaiting}").get_json()
    setup_id = collect_card(localstripe, start["setup_client_secret"])
    apply_change(_registration(awaiting), make_user)
    db.session.commit()

    charged = client.post(start["charge_url"], data={"setup_intent": setup_id})

    assert charged.status_code == 409
    assert charged.get_json()["error"] == message
    card = next(p for p in _payments() if p.reference == start["payment"])
    assert card.status == PaymentStatus.CANCELED.value
    assert card.succeeded_at is None
    assert _intent_status(localstripe, card) == "canceled"
    assert db.session.scalar(select(Refund)) is None


def test_a_payment_that_still_matches_is_charged(app, client, db, awaiting, localstripe):
    _sign_in_delegate(app, client, awaiting)
    start = client.post(f"/payments/pay/{awaiting}").get_json()
    setup_id = collect_card(localstripe, start["setup_client_secret"])

    charged = client.post(start["charge_url"], data={"setup_intent": setup_id})

    assert charged.status_code == 200
    assert _registration(awaiting).status == RegistrationStatus.CONFIRMED.value


def test_a_late_success_for_a_cancelled_registration_asks_for_a_refund(
    app, db, awaiting, localstripe
):
    registration = _registration(awaiting)
    payment = card_payment([registration])
    # Cancelled without the payments clean-up, then the old intent is paid at Stripe.
    registration_services.cancel_registration(registration, actor=registration.user)
    db.session.commit()
    assert pay_at_stripe(localstripe, payment) == "succeeded"

    services.refresh_from_stripe(payment)
    db.session.commit()

    assert payment.status == PaymentStatus.SUCCEEDED.value
    assert _registration(awaiting).status == RegistrationStatus.CANCELLED.value
    (refund,) = db.session.scalars(select(Refund))
    assert refund.payment_id == payment.id
    assert refund.status == RefundStatus.REQUESTED.value
    assert refund.amount_minor == payment.amount_minor
    assert refund.details == {
        "source": RefundSource.LATE_PAYMENT.value,
        "registrations": [awaiting],
    }
    assert payment.refunded_minor == 0  # asked for, not sent: the organisers decide
