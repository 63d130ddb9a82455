"""The organisers' payment pages: list and filters, totals by currency, method and state,
reconciliation, CSV/XLSX exports, the same number of queries for 10 or 2,000 payments."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert, select

from app.auth.models import Role
from app.extensions import db as _db
from app.payments import listing, receipts
from app.payments.models import Payment, PaymentAllocation, PaymentMethod, PaymentStatus
from app.registration import services as registration_services
from tests.payments.paid_payments import awaiting, indonesian, paid_payment
from tests.registration.factories import IDR_FEE, USD_FEE, make_event, make_type

ORGANISER_PAGES = (
    "/payments/manage/",
    "/payments/manage/?method=card&currency=USD",
    "/payments/manage/export.csv",
    "/payments/manage/export.xlsx",
    "/payments/manage/reconciliation",
    "/payments/manage/refunds",
)


@pytest.fixture
def event(db):
    return make_event()


@pytest.fixture
def delegate_type(event):
    return make_type(event, "delegate", name="Delegate")


@pytest.fixture
def ledger(event, delegate_type, db):
    """Payments of every kind: cards in USD, transfers in IDR, one refunded, one pending,
    one paid for a registration that was cancelled meanwhile."""
    card = paid_payment([awaiting(event, delegate_type)], method=PaymentMethod.CARD)
    receipts.issue_receipt(card, notify=False)
    transfer = paid_payment([awaiting(event, delegate_type, **indonesian())])
    receipts.issue_receipt(transfer, notify=False)
    refunded = paid_payment([awaiting(event, delegate_type)], method=PaymentMethod.CARD)
    refunded.status = PaymentStatus.REFUNDED.value
    refunded.refunded_minor = USD_FEE
    waiting = awaiting(event, delegate_type, **indonesian(email="tunggu@example.org"))
    pending = paid_payment([waiting], status=PaymentStatus.PENDING)
    cancelled = awaiting(event, delegate_type, email="batal@example.org")
    orphan = paid_payment([cancelled], method=PaymentMethod.CARD, confirm=False)
    registration_services.cancel_registration(cancelled, actor=None)
    db.session.commit()
    return {
        "card": card,
        "transfer": transfer,
        "refunded": refunded,
        "pending": pending,
        "waiting": waiting,
        "orphan": orphan,
    }


def test_totals_by_currency_method_and_state(db, event, ledger):
    totals = listing.payment_totals(event)
    usd, idr = totals.by_currency["USD"], totals.by_currency["IDR"]
    # Received: the card, the refunded card and the orphan; less the refund.
    assert (usd.count, usd.amount_minor, usd.refunded_minor) == (3, 3 * USD_FEE, USD_FEE)
    assert usd.net_minor == 2 * USD_FEE
    assert (idr.count, idr.amount_minor) == (1, IDR_FEE)  # the pending transfer is not money
    assert totals.by_method[("card", "USD")].count == 3
    assert totals.by_method[("bank_transfer", "IDR")].amount_minor == IDR_FEE
    assert totals.by_state[("pending", "IDR")].count == 1
    assert totals.by_state[("refunded", "USD")].refunded_minor == USD_FEE


def test_the_list_filters_and_shows_totals(app, client, auth, event, ledger):
    auth.login_as(Role.ORGANISER)
    html = client.get("/payments/manage/").get_data(as_text=True)
    for payment in ledger.values():
        if isinstance(payment, Payment):
            assert payment.reference in html
    assert "Received in USD, less refunds" in html
    assert "$900.00" in html  # net USD
    cards = client.get("/payments/manage/?method=card").get_data(as_text=True)
    assert ledger["card"].reference in cards
    assert ledger["transfer"].reference not in cards
    rupiah = client.get("/payments/manage/?currency=IDR&status=pending").get_data(as_text=True)
    assert ledger["pending"].reference in rupiah
    assert ledger["transfer"].reference not in rupiah
    searched = client.get(f"/payments/manage/?q={ledger['waiting'].reference.lower()}")
    assert ledger["pending"].reference in searched.get_data(as_text=True)
    junk = client.get("/payments/manage/?method=cash&status=%3Cb%3E&currency=EUR")
    assert junk.status_code == 200  # unknown filters are shown as errors and left out
    assert "Not a valid choice." in junk.get_data(as_text=True)
    assert ledger["transfer"].reference in junk.get_data(as_text=True)


def test_reconciliation_lists_what_does_not_add_up(app, client, auth, event, delegate_type, ledger):
    not_started = awaiting(event, delegate_type)
    reference = not_started.reference
    _db.session.commit()
    auth.login_as(Role.ORGANISER)
    html = client.get("/payments/manage/reconciliation").get_data(as_text=True)
    # Paid without a confirmed registration: the card paid for a cancelled registration.
    paid_section, awaiting_section = html.split('id="awaiting-heading"')
    assert ledger["orphan"].reference in paid_section
    assert ledger["card"].reference not in paid_section
    assert ledger["refunded"].reference not in paid_section
    # Awaiting payment: one with a bank transfer started, one without.
    assert ledger["waiting"].reference in awaiting_section
    assert ledger["pending"].reference in awaiting_section
    assert reference in awaiting_section
    assert "Fees outstanding in IDR" in awaiting_section


def test_exports_csv_and_xlsx_with_filters(app, client, auth, event, ledger):
    auth.login_as(Role.ORGANISER)
    response = client.get("/payments/manage/export.csv?currency=USD")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Payment reference", "Created at", "Paid at"]
    assert {row[0] for row in body} == {
        ledger["card"].reference,
        ledger["refunded"].reference,
        ledger["orphan"].reference,
    }
    card = next(row for row in body if row[0] == ledger["card"].reference)
    assert card[header.index("Amount")] == "450.00"
    assert card[header.index("Receipt")] == "WCPP2026/R/0001"
    assert card[header.index("Method")] == "Card"
    workbook = client.get("/payments/manage/export.xlsx")
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.data)).active
    values = list(sheet.values)
    assert values[0][0] == "Payment reference"
    assert len(values) == 1 + 5


def test_the_payment_page_and_unknown_references(app, client, auth, event, ledger):
    auth.login_as(Role.ORGANISER)
    html = client.get(f"/payments/manage/{ledger['card'].reference}").get_data(as_text=True)
    assert "WCPP2026/R/0001" in html
    assert "The money goes back to the card through Stripe." not in html  # a demo intent
    refunded = client.get(f"/payments/manage/{ledger['refunded'].reference}")
    assert "This payment has been refunded in full." in refunded.get_data(as_text=True)
    assert client.get("/payments/manage/NOSUCHREF").status_code == 404
    assert client.post("/payments/manage/NOSUCHREF/refund").status_code == 404


def test_delegates_cannot_see_the_organiser_pages(client, auth, ledger):
    auth.login_as(Role.DELEGATE)
    for path in ORGANISER_PAGES:
        assert client.get(path).status_code == 403, path


# --- queries --------------------------------------------------------------------------------


def _many_payments(event, registration_ids: list[int], count: int) -> None:
    """`count` succeeded card payments spread over a few registrations (bulk inserted)."""
    start = _db.session.scalar(select(Payment.id).order_by(Payment.id.desc()).limit(1)) or 0
    rows = [
        {
            "id": start + number,
            "reference": f"BULK{start + number:08d}",
            "event_id": event.id,
            "method": "card" if number % 3 else "bank_transfer",
            "status": ("succeeded", "pending", "refunded", "partially_refunded")[number % 4],
            "currency": "USD" if number % 2 else "IDR",
            "amount_minor": 1_000 + number,
            "refunded_minor": 500 if number % 4 in (2, 3) else 0,
        }
        for number in range(1, count + 1)
    ]
    _db.session.execute(insert(Payment), rows)
    _db.session.execute(
        insert(PaymentAllocation),
        [
            {
                "payment_id": row["id"],
                "registration_id": registration_ids[index % len(registration_ids)],
                "amount_minor": row["amount_minor"],
            }
            for index, row in enumerate(rows)
        ],
    )
    _db.session.commit()


def _statements_per_page(client, count_queries) -> dict[str, int]:
    """How many statements each organiser page runs (after a first request warms caches)."""
    counts = {}
    for path in ORGANISER_PAGES:
        client.get(path)
        with count_queries() as counter:
            response = client.get(path)
        assert response.status_code == 200, path
        counts[path] = counter.count
    return counts


def test_the_pages_take_the_same_queries_for_10_and_2000_payments(app, client, auth, count_queries):
    # Built in contexts of their own: the pages' requests then share no session with the test.
    with app.test_request_context():
        event = make_event()
        delegate_type = make_type(event, "delegate", name="Delegate")
        ids = [awaiting(event, delegate_type).id for _ in range(3)]
        _db.session.commit()
        _many_payments(event, ids, 10)
    auth.login_as(Role.ORGANISER)
    few = _statements_per_page(client, count_queries)
    with app.test_request_context():
        _many_payments(make_event(), ids, 1_990)
    many = _statements_per_page(client, count_queries)
    assert many == few
    rows = client.get("/payments/manage/export.csv").get_data(as_text=True).strip().splitlines()
    assert len(rows) == 1 + 2_000
