"""Receipts and credit notes: numbered per event and kind, once per payment (also under
concurrency), emailed with a link, bilingual PDFs, downloads for the payer and organisers."""

from __future__ import annotations

import threading
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db as _db
from app.payments import receipts
from app.payments.models import Payment, PaymentMethod, PaymentStatus, Receipt
from app.payments.receipt_pdf import receipt_pdf
from app.payments.refunds import refund_payment
from tests.conftest import requires_postgres
from tests.payments.paid_payments import awaiting, indonesian, paid_payment, sign_in_delegate
from tests.registration.factories import count_rows, make_event, make_type


def _pdf_text(data: bytes) -> str:
    """All text of a PDF, pages joined, runs of white space (line wraps) as one space."""
    assert data.startswith(b"%PDF")
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return " ".join(text.split())


@pytest.fixture
def event(db):
    return make_event()


@pytest.fixture
def delegate_type(event):
    return make_type(event, "delegate", name="Delegate")


def test_receipts_are_numbered_per_event_and_issued_once_per_payment(db, event, delegate_type):
    first = paid_payment([awaiting(event, delegate_type)])
    second = paid_payment([awaiting(event, delegate_type)])
    receipt = receipts.issue_receipt(first)
    assert receipt.number == "WCPP2026/R/0001"
    assert receipts.issue_receipt(second).number == "WCPP2026/R/0002"
    # Again (a repeated webhook, a double click): the same receipt, no new number.
    assert receipts.issue_receipt(first).id == receipt.id
    db.session.commit()
    assert count_rows(Receipt) == 2
    assert receipt.amount_minor == first.amount_minor
    assert receipt.currency == "USD"


def test_a_receipt_waits_for_the_money(db, event, delegate_type):
    pending = paid_payment([awaiting(event, delegate_type)], status=PaymentStatus.PENDING)
    with pytest.raises(receipts.ReceiptError) as refused:
        receipts.issue_receipt(pending)
    assert refused.value.code == "payment_not_received"


def test_the_payer_is_emailed_a_link_once_and_nothing_attached(db, event, delegate_type, mailbox):
    registration = awaiting(event, delegate_type)
    payment = paid_payment([registration])
    db.session.commit()
    mailbox.wait_for(2)  # registration received, confirmed
    mailbox.clear()
    receipts.issue_receipt(payment)
    receipts.issue_receipt(payment)
    db.session.commit()
    (message,) = mailbox.wait_for(1)
    assert message["To"] == registration.email
    assert "WCPP2026/R/0001" in message["Subject"]
    assert not message.is_multipart()
    body = message.get_payload(decode=True).decode()
    assert "/payments/receipts/WCPP2026-R-0001.pdf" in body
    assert payment.reference in body


def test_the_receipt_pdf_names_payer_amount_number_and_registration(db, event, delegate_type):
    registration = awaiting(event, delegate_type, given_name="Amara", family_name="Okonkwo")
    payment = paid_payment([registration], method=PaymentMethod.CARD)
    receipt = receipts.issue_receipt(payment, notify=False)
    text = _pdf_text(receipt_pdf(receipt))
    assert "WCPP2026/R/0001" in text
    assert "Amara Okonkwo" in text
    assert registration.email in text
    assert "Nigerian Correctional Service" in text
    assert registration.reference in text
    assert payment.reference in text
    assert "$450.00" in text  # English first (the payer's language)
    assert "RECEIPT" in text
    assert "Delegate" in text  # the type in both languages
    assert "Delegasi (delegate)" in text
    assert "Card" in text


def test_an_indonesian_payers_receipt_is_in_indonesian_first(db, event, delegate_type):
    registration = awaiting(event, delegate_type, **indonesian())
    payment = paid_payment([registration])
    receipt = receipts.issue_receipt(payment, notify=False)
    assert receipt.language == "id"
    assert receipt.currency == "IDR"
    text = _pdf_text(receipt_pdf(receipt))
    assert "Siti Rahayu" in text
    assert "Rp4.500.000" in text.replace("\xa0", "")  # Indonesian grouping, no sen
    assert "Delegasi (delegate) / Delegate" in text  # the type, Indonesian first
    assert payment.bank_reference in text


def test_a_refund_issues_a_credit_note_in_its_own_series(db, event, delegate_type, make_user):
    organiser = make_user(roles=[Role.ORGANISER])
    payment = paid_payment([awaiting(event, delegate_type)])
    receipt = receipts.issue_receipt(payment, notify=False)
    refund = refund_payment(payment, 10_000, "Paid twice by mistake", actor=organiser)
    note = receipts.credit_note_for(refund)
    assert note.number == "WCPP2026/CN/0001"
    assert note.amount_minor == 10_000
    assert receipts.issue_credit_note(refund).id == note.id
    text = _pdf_text(receipt_pdf(note))
    assert "CREDIT NOTE" in text
    assert "WCPP2026/CN/0001" in text
    assert receipt.number in text  # the receipt it corrects
    assert "Paid twice by mistake" in text
    assert "$100.00" in text


def test_downloads_for_the_payer_and_organisers_only(app, client, auth, event, delegate_type):
    with app.test_request_context():
        registration = awaiting(event, delegate_type)
        payment = paid_payment([registration])
        receipts.issue_receipt(payment, notify=False)
        payer_email = registration.email
        payment_reference = payment.reference
        _db.session.commit()
    url = "/payments/receipts/WCPP2026-R-0001.pdf"
    assert client.get(url).status_code == 302  # sign in first
    auth.login_as(Role.DELEGATE)
    assert client.get(url).status_code == 404  # somebody else's
    auth.logout()
    sign_in_delegate(app, auth, payer_email)
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "private" in response.headers["Cache-Control"]
    assert "WCPP2026/R/0001" in _pdf_text(response.data)
    by_reference = client.get(f"/payments/receipts/{payment_reference}.pdf")
    assert by_reference.status_code == 200
    assert client.get("/payments/receipts/WCPP2026-R-0002.pdf").status_code == 404
    assert client.get("/payments/receipts/..%2F..%2Fetc.pdf").status_code == 404
    auth.logout()
    auth.login_as(Role.ORGANISER)
    assert client.get(url).status_code == 200


def test_receipts_of_a_payer_for_their_page(db, event, delegate_type):
    registration = awaiting(event, delegate_type)
    payment = paid_payment([registration])
    receipts.issue_receipt(payment, notify=False)
    other = paid_payment([awaiting(event, delegate_type)])
    receipts.issue_receipt(other, notify=False)
    mine = receipts.receipts_of_payer(registration.user)
    assert [r.number for r in mine] == ["WCPP2026/R/0001"]


@requires_postgres
def test_simultaneous_receipts_get_distinct_numbers(app, event, delegate_type, db):
    references = [paid_payment([awaiting(event, delegate_type)]).reference for _ in range(4)]
    db.session.commit()
    db.session.remove()  # this test's connection back to the pool for the threads
    # Each payment twice at once (8 threads stay within the connection pool).
    attempts = references * 2
    barrier = threading.Barrier(len(attempts), timeout=30)
    errors = []

    def issue(reference: str) -> None:
        with app.test_request_context():
            try:
                payment = _db.session.scalar(select(Payment).where(Payment.reference == reference))
                _db.session.commit()  # every thread holds a connection before any starts
                barrier.wait()
                receipts.issue_receipt(payment, notify=False)
                _db.session.commit()
            except Exception as error:  # reported below
                errors.append(error)
                barrier.abort()
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=issue, args=(reference,)) for reference in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    # One receipt per payment, numbered 1..4 without gaps.
    rows = db.session.execute(select(Receipt.payment_id, Receipt.sequence)).all()
    assert len({payment_id for payment_id, _sequence in rows}) == len(references)
    assert sorted(sequence for _payment_id, sequence in rows) == [1, 2, 3, 4]
