"""Bank transfer: the delegate announces one and gets the instructions with a reference (on the
page and by email); organisers see the awaited transfers and record the money, which confirms
the registrations and issues a receipt; a different amount is refused with an explanation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.payments import bank_transfer, settings, vouchers, waivers
from app.payments.models import (
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    Receipt,
    VoucherKind,
)
from app.payments.services import PaymentError
from app.payments.settings import PaymentSettingsDetails
from app.payments.vouchers import VoucherDetails
from app.registration import services as registration_services
from app.registration.models import Delegation, Registration, RegistrationStatus
from app.registration.services import event_today
from tests.payments.paid_payments import awaiting, indonesian, sign_in_delegate
from tests.registration.factories import IDR_FEE, USD_FEE, count_rows, make_event, make_type

BANK = {
    "bank_name": "Bank Negara Indonesia (BNI)",
    "bank_account_name": "Panitia WCPP 2026 Ditjenpas",
    "bank_account_number": "0123456789",
    "bank_swift": "BNINIDJA",
}


@pytest.fixture
def event(db):
    return make_event()


@pytest.fixture
def delegate_type(event):
    return make_type(event, "delegate", name="Delegate")


@pytest.fixture
def bank_details(event):
    return settings.save_payment_settings(
        event,
        PaymentSettingsDetails(
            bank_instructions=TranslatedText(
                en="Transfer charges are paid by the sender.",
                id="Biaya transfer ditanggung pengirim.",
            ),
            **BANK,
        ),
        actor=None,
    )


@pytest.fixture
def organiser(db, make_user):
    return _db.session.merge(make_user(roles=[Role.ORGANISER]))


def _announced(registration: Registration) -> Payment:
    return bank_transfer.choose_bank_transfer([registration], payer=registration.user)


# --- announcing -----------------------------------------------------------------------------


def test_no_bank_transfer_without_bank_details(db, event, delegate_type):
    registration = awaiting(event, delegate_type)
    with pytest.raises(PaymentError) as refused:
        _announced(registration)
    assert refused.value.code == "bank_transfer_unavailable"
    assert count_rows(Payment) == 0


def test_announcing_a_transfer_gives_a_reference_and_emails_the_instructions(
    db, event, delegate_type, bank_details, mailbox
):
    registration = awaiting(event, delegate_type, **indonesian())
    _db.session.commit()
    mailbox.clear()
    payment = _announced(registration)
    _db.session.commit()
    assert (payment.method, payment.status) == (
        PaymentMethod.BANK_TRANSFER.value,
        PaymentStatus.PENDING.value,
    )
    assert (payment.currency, payment.amount_minor) == ("IDR", IDR_FEE)
    assert [(a.registration_id, a.amount_minor) for a in payment.allocations] == [
        (registration.id, IDR_FEE)
    ]
    (message,) = mailbox.wait_for(1)
    body = message.get_payload(decode=True).decode()
    assert payment.reference in message["Subject"]
    assert "0123456789" in body
    assert "Biaya transfer ditanggung pengirim." in body  # in the delegate's language
    assert registration.reference in body
    assert f"/payments/bank-transfer/{payment.reference}" in body


def test_announcing_again_hands_back_the_same_transfer(db, event, delegate_type, bank_details):
    registration = awaiting(event, delegate_type)
    first = _announced(registration)
    assert _announced(registration).id == first.id
    assert count_rows(Payment) == 1


def test_a_voucher_withdraws_the_transfer_for_the_old_amount(
    db, event, delegate_type, bank_details
):
    vouchers.create_voucher(
        event,
        VoucherDetails(code="HALF", kind=VoucherKind.PERCENT.value, percent_off=50),
        actor=None,
    )
    registration = awaiting(event, delegate_type)
    old = _announced(registration)
    waivers.apply_voucher(registration, "half", payer=registration.user)
    assert old.status == PaymentStatus.CANCELED.value
    new = _announced(registration)
    assert new.id != old.id
    assert new.amount_minor == USD_FEE // 2


def test_a_head_announces_one_transfer_for_the_delegation(db, event, delegate_type, bank_details):
    head = awaiting(event, delegate_type)
    members = [awaiting(event, delegate_type) for _ in range(2)]
    delegation = Delegation(event_id=event.id, country="NG", name="Nigeria")
    _db.session.add(delegation)
    for registration in (head, *members):
        registration.delegation = delegation
    head.is_delegation_head = True
    _db.session.flush()
    payment = bank_transfer.choose_bank_transfer([head, *members], payer=head.user)
    assert payment.amount_minor == 3 * USD_FEE
    assert len(payment.allocations) == 3
    stranger = awaiting(event, delegate_type)
    with pytest.raises(PaymentError) as refused:
        bank_transfer.choose_bank_transfer([stranger], payer=head.user)
    assert refused.value.code == "not_your_registration"


# --- recording ------------------------------------------------------------------------------


def test_recording_the_money_confirms_and_issues_a_receipt(
    db, event, delegate_type, bank_details, organiser, mailbox
):
    registration = awaiting(event, delegate_type)
    payment = _announced(registration)
    _db.session.commit()
    mailbox.clear()
    outcome = bank_transfer.record_bank_transfer(
        payment, USD_FEE, event_today(), "BNI-2026-000123", actor=organiser
    )
    _db.session.commit()
    assert outcome.confirmed == [registration]
    assert registration.status == RegistrationStatus.CONFIRMED.value
    assert payment.status == PaymentStatus.SUCCEEDED.value
    assert (payment.bank_reference, payment.received_on) == ("BNI-2026-000123", event_today())
    assert payment.recorded_by_id == organiser.id
    assert _db.session.scalar(select(Receipt.payment_id)) == payment.id
    subjects = [message["Subject"] for message in mailbox.wait_for(2)]
    assert any("receipt" in subject.lower() for subject in subjects)
    with pytest.raises(PaymentError) as refused:
        bank_transfer.record_bank_transfer(
            payment, USD_FEE, event_today(), "BNI-2026-000123", actor=organiser
        )
    assert refused.value.code == "already_recorded"
    assert count_rows(Receipt) == 1


@pytest.mark.parametrize("amount", [USD_FEE - 100, USD_FEE + 100, None])
def test_a_different_amount_is_refused_and_explained(
    db, event, delegate_type, bank_details, organiser, amount
):
    registration = awaiting(event, delegate_type)
    payment = _announced(registration)
    _db.session.commit()
    with pytest.raises(PaymentError) as refused:
        bank_transfer.record_bank_transfer(payment, amount, event_today(), "REF", actor=organiser)
    assert (refused.value.code, refused.value.field) == ("amount_mismatch", "amount")
    assert "is not the amount due, $450.00" in str(refused.value)
    _db.session.rollback()
    assert _db.session.get(Payment, payment.id).status == PaymentStatus.PENDING.value
    assert _db.session.get(Registration, registration.id).status == "awaiting_payment"


def test_the_day_and_reference_are_checked(db, event, delegate_type, bank_details, organiser):
    payment = _announced(awaiting(event, delegate_type))
    tomorrow = event_today() + timedelta(days=1)
    with pytest.raises(PaymentError) as refused:
        bank_transfer.record_bank_transfer(payment, USD_FEE, tomorrow, "REF", actor=organiser)
    assert refused.value.field == "received_on"
    with pytest.raises(PaymentError) as refused:
        bank_transfer.record_bank_transfer(payment, USD_FEE, event_today(), "  ", actor=organiser)
    assert refused.value.field == "bank_reference"


def test_money_for_a_cancelled_registration_is_recorded_and_flagged(
    db, event, delegate_type, bank_details, organiser
):
    registration = awaiting(event, delegate_type)
    payment = _announced(registration)
    registration_services.cancel_registration(registration, actor=organiser)
    outcome = bank_transfer.record_bank_transfer(
        payment, USD_FEE, event_today(), "REF", actor=organiser
    )
    assert outcome.confirmed == []
    assert outcome.not_awaiting == [registration]
    assert payment.status == PaymentStatus.SUCCEEDED.value


def test_a_withdrawn_transfer_cannot_be_recorded(db, event, delegate_type, bank_details, organiser):
    payment = _announced(awaiting(event, delegate_type))
    bank_transfer.cancel_bank_transfer(payment, actor=organiser)
    with pytest.raises(PaymentError) as refused:
        bank_transfer.record_bank_transfer(payment, USD_FEE, event_today(), "REF", actor=organiser)
    assert refused.value.code == "not_pending"


def test_only_organisers_record_transfers(db, event, delegate_type, bank_details):
    registration = awaiting(event, delegate_type)
    payment = _announced(registration)
    with pytest.raises(registration_services.RegistrationError):
        bank_transfer.record_bank_transfer(
            payment, USD_FEE, event_today(), "REF", actor=registration.user
        )


# --- pages ----------------------------------------------------------------------------------


def test_the_delegate_chooses_bank_transfer_on_the_pay_page(
    client, app, auth, event, delegate_type, bank_details
):
    registration = awaiting(event, delegate_type, **indonesian(language="en"))
    reference, email = registration.reference, registration.email
    _db.session.commit()
    sign_in_delegate(app, auth, email)
    page = client.get(f"/payments/pay/{reference}").get_data(as_text=True)
    assert 'action="/payments/bank-transfer"' in page
    response = client.post(
        "/payments/bank-transfer",
        data={"registrations": [reference], "next": f"/payments/pay/{reference}"},
    )
    assert response.status_code == 302
    payment = _db.session.scalar(select(Payment))
    assert response.headers["Location"].endswith(f"/payments/bank-transfer/{payment.reference}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert payment.reference in page
    assert "0123456789" in page
    assert "Waiting for your transfer" in page
    # The pay page now shows the instructions instead of the button.
    page = client.get(f"/payments/pay/{reference}").get_data(as_text=True)
    assert payment.reference in page
    assert 'action="/payments/bank-transfer"' not in page


def test_a_delegate_sees_only_their_own_transfers(
    client, app, auth, event, delegate_type, bank_details
):
    theirs = _announced(awaiting(event, delegate_type))
    mine = awaiting(event, delegate_type)
    their_reference, other_registration = theirs.reference, theirs.allocations[0].registration
    email = mine.email
    _db.session.commit()
    sign_in_delegate(app, auth, email)
    assert client.get(f"/payments/bank-transfer/{their_reference}").status_code == 404
    response = client.post(
        "/payments/bank-transfer", data={"registrations": [other_registration.reference]}
    )
    assert response.status_code == 404
    assert count_rows(Payment) == 1


def test_the_organiser_records_a_transfer_in_rupiah(
    client, auth, event, delegate_type, bank_details
):
    registration = awaiting(event, delegate_type, **indonesian())
    payment = _announced(registration)
    reference, registration_reference = payment.reference, registration.reference
    _db.session.commit()
    auth.login_as(Role.ORGANISER)
    page = client.get("/payments/bank-transfers/").get_data(as_text=True)
    assert reference in page
    assert "4,500,000" in page
    record = f"/payments/bank-transfers/{reference}/record"
    form_page = client.get(record).get_data(as_text=True)
    assert "Record the money and confirm" in form_page
    assert registration_reference in form_page
    response = client.post(
        record,
        data={
            "amount": "4.000.000",
            "received_on": event_today().isoformat(),
            "bank_reference": "BNI-1",
        },
    )
    assert response.status_code == 200
    assert "is not the amount due" in response.get_data(as_text=True)
    response = client.post(record, data={"amount": "lots", "received_on": "", "bank_reference": ""})
    page = response.get_data(as_text=True)
    assert "Enter an amount such as 4.500.000" in page
    assert "Enter the day the money arrived." in page
    _db.session.expire_all()
    assert _db.session.get(Payment, payment.id).status == PaymentStatus.PENDING.value
    response = client.post(
        record,
        data={
            "amount": "Rp 4.500.000",
            "received_on": event_today().isoformat(),
            "bank_reference": "BNI-1",
        },
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Payment, payment.id).status == PaymentStatus.SUCCEEDED.value
    assert _db.session.scalar(select(Registration.status)) == RegistrationStatus.CONFIRMED.value
    page = client.get("/payments/bank-transfers/").get_data(as_text=True)
    assert f"Transfer {reference} recorded: 1 registration confirmed." in page
    assert record not in page
    received = client.get("/payments/bank-transfers/?show=recorded").get_data(as_text=True)
    assert "BNI-1" in received


def test_the_organiser_withdraws_a_transfer(client, auth, event, delegate_type, bank_details):
    payment = _announced(awaiting(event, delegate_type))
    reference = payment.reference
    _db.session.commit()
    auth.login_as(Role.ORGANISER)
    response = client.post(f"/payments/bank-transfers/{reference}/cancel")
    assert response.status_code == 302
    _db.session.expire_all()
    assert _db.session.get(Payment, payment.id).status == PaymentStatus.CANCELED.value
    response = client.post(f"/payments/bank-transfers/{reference}/cancel", follow_redirects=True)
    assert "withdrawn and can no longer be recorded" in response.get_data(as_text=True)


def test_unknown_transfers_are_not_found(client, auth, event):
    _db.session.commit()
    auth.login_as(Role.ORGANISER)
    assert client.get("/payments/bank-transfers/NOSUCHREF/record").status_code == 404
    assert client.post("/payments/bank-transfers/NOSUCHREF/cancel").status_code == 404


def test_no_transfer_while_a_card_payment_is_processing(db, event, delegate_type, bank_details):
    registration = awaiting(event, delegate_type)
    card = Payment(
        reference="CARDPROC01",
        event_id=event.id,
        payer_id=registration.user_id,
        method=PaymentMethod.CARD.value,
        status=PaymentStatus.PROCESSING.value,
        currency="USD",
        amount_minor=USD_FEE,
        refunded_minor=0,
    )
    card.allocations = [PaymentAllocation(registration_id=registration.id, amount_minor=USD_FEE)]
    _db.session.add(card)
    _db.session.flush()
    with pytest.raises(PaymentError) as refused:
        _announced(registration)
    assert refused.value.code == "payment_in_progress"


def test_a_transfer_no_longer_needed_says_so(client, app, auth, event, delegate_type, bank_details):
    registration = awaiting(event, delegate_type)
    payment = _announced(registration)
    # Paid by card meanwhile.
    registration_services.mark_paid(registration)
    reference, email = payment.reference, registration.email
    _db.session.commit()
    sign_in_delegate(app, auth, email)
    page = client.get(f"/payments/bank-transfer/{reference}").get_data(as_text=True)
    assert "This transfer is no longer expected" in page
    assert "0123456789" not in page


def test_a_head_pays_for_the_delegation_by_one_transfer(
    client, app, auth, event, delegate_type, bank_details
):
    head = awaiting(event, delegate_type)
    members = [awaiting(event, delegate_type) for _ in range(2)]
    delegation = Delegation(event_id=event.id, country="NG", name="Nigeria")
    _db.session.add(delegation)
    for registration in (head, *members):
        registration.delegation = delegation
    head.is_delegation_head = True
    references = sorted(registration.reference for registration in (head, *members))
    email = head.email
    _db.session.commit()
    sign_in_delegate(app, auth, email)
    page = client.get("/payments/group").get_data(as_text=True)
    assert "Pay $1,350.00 by bank transfer for 3 registrations" in page
    assert 'name="registration"' in page  # the voucher form asks whose fee the code is for
    response = client.post(
        "/payments/bank-transfer", data={"registrations": references, "next": "/payments/group"}
    )
    assert response.status_code == 302
    payment = _db.session.scalar(select(Payment))
    assert payment.amount_minor == 3 * USD_FEE
    assert sorted(a.registration.reference for a in payment.allocations) == references
    page = client.get("/payments/group").get_data(as_text=True)
    assert payment.reference in page
