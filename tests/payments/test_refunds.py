"""Refunds: through localstripe for cards (full and partial, never more than is left), recorded
for bank transfers, with a reason and a credit note; a full refund ends the registrations as
refunded; a cancellation before the deadline asks the organisers for a refund."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import Role, User
from app.extensions import db as _db
from app.payments import receipts, refunds, services
from app.payments.models import (
    Payment,
    PaymentMethod,
    PaymentSettings,
    PaymentStatus,
    Receipt,
    Refund,
)
from app.registration import services as registration_services
from app.registration.models import Registration, RegistrationStatus
from tests.conftest import requires_postgres
from tests.payments.paid_payments import awaiting, paid_payment, sign_in_delegate
from tests.payments.stripe_helpers import card_payment, pay_at_stripe, stripe_client
from tests.registration.factories import USD_FEE, count_rows, make_event, make_type


@pytest.fixture
def event(db):
    return make_event()


@pytest.fixture
def delegate_type(event):
    return make_type(event, "delegate", name="Delegate")


@pytest.fixture
def organiser(make_user):
    return make_user(roles=[Role.ORGANISER])


def _paid_by_card(localstripe, event, delegate_type) -> Payment:
    """A registration paid by card at localstripe: a real PaymentIntent, confirmed."""
    registration = awaiting(event, delegate_type)
    payment = card_payment([registration])
    assert pay_at_stripe(localstripe, payment) == "succeeded"
    assert services.refresh_from_stripe(payment) == "paid"
    _db.session.commit()
    assert registration.status == RegistrationStatus.CONFIRMED.value
    assert receipts.receipt_for(payment) is not None
    return payment


def _stripe_refunds(localstripe, payment: Payment) -> list[int]:
    """The amounts localstripe refunded on the payment's PaymentIntent."""
    found = stripe_client(localstripe).v1.refunds.list(
        params={"payment_intent": payment.stripe_payment_intent_id}
    )
    return sorted(refund.amount for refund in found.data)


def test_a_full_refund_through_localstripe_ends_the_registration_with_a_credit_note(
    db, localstripe, event, delegate_type, organiser, mailbox
):
    payment = _paid_by_card(localstripe, event, delegate_type)
    registration = payment.allocations[0].registration
    mailbox.clear()
    refund = refunds.refund_payment(
        payment, USD_FEE, "Visa refused; the delegate cannot travel", actor=organiser
    )
    db.session.commit()
    assert refund.status == "succeeded"
    assert refund.stripe_refund_id.startswith("re_")
    assert refund.reason == "Visa refused; the delegate cannot travel"
    assert refund.requested_by_id == organiser.id
    assert _stripe_refunds(localstripe, payment) == [USD_FEE]
    assert payment.status == PaymentStatus.REFUNDED.value
    assert payment.refunded_minor == USD_FEE
    db.session.refresh(registration)
    assert registration.status == RegistrationStatus.REFUNDED.value
    note = receipts.credit_note_for(refund)
    assert note.number == "WCPP2026/CN/0001"
    assert note.amount_minor == USD_FEE
    subjects = [message["Subject"] for message in mailbox.wait_for(2)]
    assert any("WCPP2026/CN/0001" in subject for subject in subjects)
    assert any("Refunded" in subject for subject in subjects)  # the registration's new state


def test_partial_refunds_never_exceed_what_was_paid(
    db, localstripe, event, delegate_type, organiser
):
    payment = _paid_by_card(localstripe, event, delegate_type)
    registration = payment.allocations[0].registration
    refunds.refund_payment(payment, 10_000, "Student discount granted late", actor=organiser)
    db.session.commit()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED.value
    assert registration.status == RegistrationStatus.CONFIRMED.value  # still coming
    with pytest.raises(refunds.RefundError) as refused:
        refunds.refund_payment(payment, USD_FEE, "Too much", actor=organiser)
    db.session.rollback()
    assert refused.value.code == "amount_too_high"
    assert refused.value.field == "amount"
    assert "$350.00" in str(refused.value)  # what is left
    refunds.refund_payment(payment, USD_FEE - 10_000, "Cancelled after all", actor=organiser)
    db.session.commit()
    assert _stripe_refunds(localstripe, payment) == [10_000, USD_FEE - 10_000]
    assert payment.status == PaymentStatus.REFUNDED.value
    db.session.refresh(registration)
    assert registration.status == RegistrationStatus.REFUNDED.value
    notes = db.session.scalars(select(Receipt.number).where(Receipt.kind == "credit_note"))
    assert sorted(notes) == ["WCPP2026/CN/0001", "WCPP2026/CN/0002"]
    with pytest.raises(refunds.RefundError) as refused:
        refunds.refund_payment(payment, 1, "Nothing left", actor=organiser)
    assert refused.value.code == "not_refundable"


def test_a_bank_transfer_refund_is_recorded_without_stripe(db, event, delegate_type, organiser):
    registration = awaiting(event, delegate_type)
    payment = paid_payment([registration])
    refund = refunds.refund_payment(payment, USD_FEE, "Paid back by transfer", actor=organiser)
    db.session.commit()
    assert refund.stripe_refund_id is None
    assert refund.details["manual"] is True
    assert refund.status == "succeeded"
    assert registration.status == RegistrationStatus.REFUNDED.value
    assert receipts.credit_note_for(refund) is not None


@pytest.mark.parametrize(
    ("amount", "reason", "code", "field"),
    [
        (None, "A reason", "required", "amount"),
        (0, "A reason", "amount_not_positive", "amount"),
        (-5, "A reason", "amount_not_positive", "amount"),
        (100, "", "required", "reason"),
        (100, "x" * 501, "too_long", "reason"),
        (100, "bad\x00reason", "control_characters", "reason"),
    ],
)
def test_bad_refund_input_is_refused_and_changes_nothing(
    db, event, delegate_type, organiser, amount, reason, code, field
):
    payment = paid_payment([awaiting(event, delegate_type)])
    db.session.commit()
    with pytest.raises(refunds.RefundError) as refused:
        refunds.refund_payment(payment, amount, reason, actor=organiser)
    db.session.rollback()
    assert (refused.value.code, refused.value.field) == (code, field)
    assert count_rows(Refund) == 0
    assert db.session.get(Payment, payment.id).refunded_minor == 0


def test_only_organisers_refund(db, event, delegate_type, make_user):
    registration = awaiting(event, delegate_type)
    payment = paid_payment([registration])
    with pytest.raises(refunds.RefundError) as refused:
        refunds.refund_payment(payment, 100, "Mine", actor=registration.user)
    assert refused.value.code == "organisers_only"


def test_a_resubmitted_refund_form_refunds_once(db, event, delegate_type, organiser):
    payment = paid_payment([awaiting(event, delegate_type)])
    first = refunds.refund_payment(payment, 5_000, "Overpaid", actor=organiser, request_id="ab12")
    again = refunds.refund_payment(payment, 5_000, "Overpaid", actor=organiser, request_id="ab12")
    db.session.commit()
    assert again.id == first.id
    assert payment.refunded_minor == 5_000
    assert count_rows(Refund) == 1


def test_a_refund_reported_by_stripe_is_counted_once(db, event, delegate_type, organiser):
    payment = paid_payment([awaiting(event, delegate_type)], method=PaymentMethod.CARD)
    refunds.refund_payment(payment, 5_000, "Overpaid", actor=organiser)
    # charge.refunded with Stripe's running total: what Kongres made is counted already.
    assert refunds.record_stripe_refunds(payment, 5_000) is None
    made_in_dashboard = refunds.record_stripe_refunds(payment, 8_000)
    assert made_in_dashboard.amount_minor == 3_000
    assert refunds.refund_reason(made_in_dashboard) == "Refunded in the Stripe dashboard."
    assert refunds.record_stripe_refunds(payment, 8_000) is None
    db.session.commit()
    assert payment.refunded_minor == 8_000
    assert count_rows(Refund) == 2


# --- a delegate's cancellation --------------------------------------------------------------


def _refund_deadline(event, days_from_today: int) -> None:
    _db.session.add(
        PaymentSettings(
            event_id=event.id,
            refund_until=registration_services.event_today() + timedelta(days=days_from_today),
        )
    )
    _db.session.flush()


def test_cancelling_before_the_deadline_requests_a_refund(db, event, delegate_type, organiser):
    _refund_deadline(event, 10)
    registration = awaiting(event, delegate_type)
    payment = paid_payment([registration])
    request = refunds.cancel_with_refund_request(registration, actor=registration.user)
    db.session.commit()
    assert registration.status == RegistrationStatus.CANCELLED.value
    assert request.status == "requested"
    assert request.amount_minor == USD_FEE
    assert request.details["registrations"] == [registration.reference]
    assert refunds.refund_reason(request) == "The delegate cancelled before the refund deadline."
    assert payment.refunded_minor == 0  # nothing goes back until an organiser acts
    refunds.process_refund_request(request, actor=organiser)
    refunds.process_refund_request(request, actor=organiser)  # a double click does nothing
    db.session.commit()
    assert request.status == "succeeded"
    assert payment.status == PaymentStatus.REFUNDED.value
    assert registration.status == RegistrationStatus.REFUNDED.value
    assert receipts.credit_note_for(request) is not None


def test_a_delegation_members_cancellation_refunds_their_share(db, event, delegate_type, organiser):
    _refund_deadline(event, 0)  # today is the last day
    head = awaiting(event, delegate_type)
    member = awaiting(event, delegate_type)
    payment = paid_payment([head, member], payer=head.user)
    request = refunds.cancel_with_refund_request(member, actor=member.user)
    assert request.amount_minor == USD_FEE
    refunds.process_refund_request(request, actor=organiser)
    db.session.commit()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED.value
    assert member.status == RegistrationStatus.REFUNDED.value
    assert head.status == RegistrationStatus.CONFIRMED.value


def test_no_refund_request_after_the_deadline_or_without_a_payment(db, event, delegate_type):
    _refund_deadline(event, -1)
    paid = awaiting(event, delegate_type)
    paid_payment([paid])
    assert refunds.cancel_with_refund_request(paid, actor=paid.user) is None
    unpaid = awaiting(event, delegate_type)
    assert refunds.cancel_with_refund_request(unpaid, actor=unpaid.user) is None
    assert count_rows(Refund) == 0


def test_a_declined_request_keeps_its_reason(db, event, delegate_type, organiser):
    _refund_deadline(event, 10)
    registration = awaiting(event, delegate_type)
    payment = paid_payment([registration])
    request = refunds.cancel_with_refund_request(registration, actor=registration.user)
    with pytest.raises(refunds.RefundError):
        refunds.decline_refund_request(request, " ", actor=organiser)
    refunds.decline_refund_request(request, "Cancelled after the hotel deadline", actor=organiser)
    db.session.commit()
    assert request.status == "failed"
    assert request.details["declined_reason"] == "Cancelled after the hotel deadline"
    assert payment.refunded_minor == 0
    with pytest.raises(refunds.RefundError) as refused:
        refunds.process_refund_request(request, actor=organiser)
    assert refused.value.code == "request_closed"


def test_the_delegates_cancel_button_requests_the_refund(app, client, auth, event, delegate_type):
    with app.test_request_context():
        _refund_deadline(event, 10)
        registration = awaiting(event, delegate_type)
        paid_payment([registration])
        email = registration.email
        _db.session.commit()
    sign_in_delegate(app, auth, email)
    response = client.post("/my/registration/cancel", data={"confirm": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.test_request_context():
        request = _db.session.scalar(select(Refund))
        assert request is not None
        assert request.status == "requested"
        cancelled = _db.session.scalar(select(Registration).where(Registration.email == email))
        assert cancelled.status == RegistrationStatus.CANCELLED.value


# --- the organisers' pages ------------------------------------------------------------------


def test_an_organiser_refunds_from_the_payment_page(app, client, auth, event, delegate_type):
    with app.test_request_context():
        registration = awaiting(event, delegate_type)
        reference = paid_payment([registration]).reference
        _db.session.commit()
    auth.login_as(Role.ORGANISER)
    page = client.get(f"/payments/manage/{reference}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Up to $450.00 can be refunded." in html
    too_much = client.post(
        f"/payments/manage/{reference}/refund",
        data={"amount": "500.00", "reason": "Too much", "request_id": "r1"},
    )
    assert too_much.status_code == 422
    assert "At most $450.00 can be refunded" in too_much.get_data(as_text=True)
    no_reason = client.post(
        f"/payments/manage/{reference}/refund", data={"amount": "10", "request_id": "r2"}
    )
    assert no_reason.status_code == 422
    assert "Give the reason for the refund." in no_reason.get_data(as_text=True)
    done = client.post(
        f"/payments/manage/{reference}/refund",
        data={"amount": "450.00", "reason": "Cancelled by phone", "request_id": "r3"},
        follow_redirects=True,
    )
    assert done.status_code == 200
    assert "Refunded $450.00." in done.get_data(as_text=True)
    with app.test_request_context():
        assert count_rows(Refund) == 1
        payment = _db.session.scalar(select(Payment).where(Payment.reference == reference))
        assert payment.status == PaymentStatus.REFUNDED.value


def test_the_refund_queue_processes_and_declines_requests(app, client, auth, event, delegate_type):
    with app.test_request_context():
        _refund_deadline(event, 10)
        ids = []
        for _ in range(2):
            registration = awaiting(event, delegate_type)
            paid_payment([registration])
            ids.append(refunds.cancel_with_refund_request(registration, actor=registration.user).id)
        _db.session.commit()
    auth.login_as(Role.ORGANISER)
    queue = client.get("/payments/manage/refunds").get_data(as_text=True)
    assert "Refund $450.00" in queue
    assert client.post(f"/payments/manage/refunds/{ids[0]}/process").status_code == 302
    declined = client.post(f"/payments/manage/refunds/{ids[1]}/decline", data={"reason": "Late"})
    assert declined.status_code == 302
    assert client.post("/payments/manage/refunds/999999/process").status_code == 404
    with app.test_request_context():
        states = {refund.id: refund.status for refund in _db.session.scalars(select(Refund))}
    assert states == {ids[0]: "succeeded", ids[1]: "failed"}
    assert "No refund request is waiting." in client.get("/payments/manage/refunds").get_data(
        as_text=True
    )


@requires_postgres
def test_two_organisers_refunding_at_once_give_back_the_fee_once(
    app, db, event, delegate_type, make_user
):
    payment = paid_payment([awaiting(event, delegate_type)])
    reference = payment.reference
    organisers = [make_user(roles=[Role.ORGANISER]) for _ in range(2)]
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(len(organisers), timeout=30)
    outcomes: list[str] = []

    def refund(organiser_id: int) -> None:
        with app.test_request_context():
            try:
                actor = _db.session.get(User, organiser_id)
                target = _db.session.scalar(select(Payment).where(Payment.reference == reference))
                _db.session.commit()
                barrier.wait()
                refunds.refund_payment(target, USD_FEE, "Cancelled", actor=actor)
                _db.session.commit()
                outcomes.append("refunded")
            except refunds.RefundError as error:
                _db.session.rollback()
                outcomes.append(error.code)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=refund, args=(o.id,)) for o in organisers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["not_refundable", "refunded"]
    assert count_rows(Refund) == 1
    assert db.session.scalar(select(Payment.refunded_minor)) == USD_FEE
