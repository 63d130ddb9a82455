"""Receipts and credit notes as A4 PDFs: the payer's language with the other beneath, the
organising committee's letterhead, the payer, what was paid for, the amount, date, method and
references. Built from the shared document helpers in app/pdf.py."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape

from flask_babel import force_locale
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from app.i18n.formatting import format_day, format_money, to_event_time
from app.payments.models import PAYMENT_METHOD_LABELS, Payment, PaymentMethod, Receipt
from app.payments.receipts import RECEIPT_KIND_LABELS, ReceiptKind, receipt_for
from app.payments.refunds import refund_reason
from app.pdf import (
    BilingualText,
    LabelledValue,
    Styles,
    bilingual_heading,
    bilingual_label,
    bilingual_paragraphs,
    document_styles,
    joined,
    label_value_table,
    letterhead,
    render_pdf,
)
from app.registration.models import Registration

LABEL_WIDTH = 55 * mm


def _payment_day(payment: Payment, receipt: Receipt) -> date:
    """The day the money arrived: the bank's date, Stripe's confirmation, else the issue."""
    if payment.received_on is not None:
        return payment.received_on
    return to_event_time(payment.succeeded_at or receipt.issued_at).date()


def _payer_registration(payment: Payment) -> Registration | None:
    """The payer's own registration among those paid for, else the first one."""
    registrations = [allocation.registration for allocation in payment.allocations]
    own = [r for r in registrations if payment.payer_id and r.user_id == payment.payer_id]
    return (own or registrations or [None])[0]


def _payer_rows(payment: Payment, both: BilingualText) -> list[LabelledValue]:
    """Who paid: name, email and organisation."""
    registration = _payer_registration(payment)
    if payment.payer is not None:
        name, email = payment.payer.name, payment.payer.email
    elif registration is not None:
        name, email = registration.full_name, registration.email
    else:
        name, email = "—", "—"
    rows = [(both(lambda: _("Received from")), name), (both(lambda: _("Email")), email)]
    if registration is not None and registration.organisation:
        rows.append((both(lambda: _("Organisation")), registration.organisation))
    return rows


def _money(amount_minor: int, currency: str, both: BilingualText) -> str:
    """An amount written in both languages' conventions (Rp 4.500.000 / IDR 4,500,000)."""
    return joined(both(lambda: format_money(amount_minor, currency)))


def _payment_rows(payment: Payment, receipt: Receipt, both: BilingualText) -> list[LabelledValue]:
    """How and when the payment was made, with its references."""
    method = PAYMENT_METHOD_LABELS[PaymentMethod(payment.method)]
    rows = [
        (both(lambda: _("Payment reference")), payment.reference),
        (
            both(lambda: _("Payment date")),
            joined(both(lambda: format_day(_payment_day(payment, receipt)))),
        ),
        (both(lambda: _("Payment method")), joined(both(lambda: str(method)))),
    ]
    if payment.bank_reference:
        rows.append((both(lambda: _("Bank reference")), payment.bank_reference))
    if payment.stripe_payment_intent_id:
        rows.append((both(lambda: _("Card transaction")), payment.stripe_payment_intent_id))
    rows.append((both(lambda: _("Currency")), payment.currency))
    return rows


def _registrations_table(payment: Payment, both: BilingualText, styles: Styles) -> Table:
    """What was paid for: each registration's reference, delegate, type and share."""
    header = [
        bilingual_label(both(lambda: _("Registration")), styles),
        bilingual_label(both(lambda: _("Delegate")), styles),
        bilingual_label(both(lambda: _("Registration type")), styles),
        bilingual_label(both(lambda: _("Amount")), styles),
    ]
    rows = [header]
    for allocation in payment.allocations:
        registration = allocation.registration
        type_name = registration.registration_type.name
        names = (type_name.get(both.primary), type_name.get(both.secondary))
        rows.append(
            [
                Paragraph(escape(registration.reference), styles["body"]),
                Paragraph(escape(registration.full_name), styles["body"]),
                Paragraph(escape(joined(names)), styles["body"]),
                Paragraph(
                    escape(_money(allocation.amount_minor, payment.currency, both)), styles["body"]
                ),
            ]
        )
    total = both(lambda: _("Total"))
    rows.append(
        [
            bilingual_label(total, styles),
            "",
            "",
            Paragraph(
                escape(_money(payment.amount_minor, payment.currency, both)), styles["value"]
            ),
        ]
    )
    return Table(
        rows,
        colWidths=[26 * mm, None, None, 50 * mm],
        repeatRows=1,
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.6, colors.black),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f2f2")),
                ("SPAN", (0, -1), (2, -1)),
            ]
        ),
    )


def _receipt_story(receipt: Receipt, both: BilingualText, styles: Styles) -> list[Flowable]:
    """A receipt: the money received and what it paid for."""
    payment = receipt.payment
    issued = to_event_time(receipt.issued_at).date()
    heading = [
        (both(lambda: _("Number")), receipt.number),
        (both(lambda: _("Date of issue")), joined(both(lambda: format_day(issued)))),
    ]
    acknowledgement = both(
        lambda: _(
            "The Organising Committee acknowledges receipt of %(amount)s for registration at "
            "the congress, as set out below.",
            amount=format_money(receipt.amount_minor, receipt.currency),
        )
    )
    return [
        label_value_table(heading, styles, label_width=LABEL_WIDTH),
        Spacer(1, 4 * mm),
        *bilingual_paragraphs(acknowledgement, styles),
        label_value_table(_payer_rows(payment, both), styles, label_width=LABEL_WIDTH, boxed=True),
        Spacer(1, 3 * mm),
        label_value_table(
            [
                *_payment_rows(payment, receipt, both),
                (
                    both(lambda: _("Amount received")),
                    _money(receipt.amount_minor, receipt.currency, both),
                ),
            ],
            styles,
            label_width=LABEL_WIDTH,
            boxed=True,
        ),
        Spacer(1, 4 * mm),
        _registrations_table(payment, both, styles),
    ]


def _credit_note_story(note: Receipt, both: BilingualText, styles: Styles) -> list[Flowable]:
    """A credit note: money given back on a payment, against its receipt."""
    payment = note.payment
    refund = next(refund for refund in payment.refunds if refund.id == note.refund_id)
    receipt = receipt_for(payment)
    issued = to_event_time(note.issued_at).date()
    heading = [
        (both(lambda: _("Number")), note.number),
        (both(lambda: _("Date of issue")), joined(both(lambda: format_day(issued)))),
        (both(lambda: _("For receipt")), receipt.number if receipt else "—"),
    ]
    statement = both(
        lambda: _(
            "The Organising Committee has refunded %(amount)s of payment %(reference)s.",
            amount=format_money(note.amount_minor, note.currency),
            reference=payment.reference,
        )
    )
    reason = both(lambda: refund_reason(refund))
    refund_rows = [
        (both(lambda: _("Amount refunded")), _money(note.amount_minor, note.currency, both)),
        (both(lambda: _("Amount paid")), _money(payment.amount_minor, payment.currency, both)),
        (
            both(lambda: _("Refunded in total")),
            _money(payment.refunded_minor, payment.currency, both),
        ),
    ]
    if reason[0]:
        refund_rows.append((both(lambda: _("Reason")), joined(reason)))
    return [
        label_value_table(heading, styles, label_width=LABEL_WIDTH),
        Spacer(1, 4 * mm),
        *bilingual_paragraphs(statement, styles),
        label_value_table(_payer_rows(payment, both), styles, label_width=LABEL_WIDTH, boxed=True),
        Spacer(1, 3 * mm),
        label_value_table(
            [*_payment_rows(payment, receipt or note, both), *refund_rows],
            styles,
            label_width=LABEL_WIDTH,
            boxed=True,
        ),
        Spacer(1, 4 * mm),
        _registrations_table(payment, both, styles),
    ]


def receipt_pdf(receipt: Receipt) -> bytes:
    """A receipt or credit note as a PDF, in its language with the other beneath."""
    styles = document_styles()
    payment = receipt.payment
    event = payment.event
    both = BilingualText(receipt.language)
    kind = ReceiptKind(receipt.kind)
    title_label = RECEIPT_KIND_LABELS[kind]
    body = (
        _receipt_story(receipt, both, styles)
        if kind is ReceiptKind.RECEIPT
        else _credit_note_story(receipt, both, styles)
    )
    closing = both(
        lambda: _(
            "Issued electronically by the Organising Committee; valid without a signature. "
            "Questions: quote the number above."
        )
    )
    story: list[Flowable] = [
        *letterhead(event, both, styles),
        *bilingual_heading(both(lambda: str(title_label).upper()), styles, "title"),
        Spacer(1, 4 * mm),
        *body,
        Spacer(1, 6 * mm),
        *bilingual_paragraphs(closing, styles, "small"),
    ]
    with force_locale(both.primary):
        title = f"{title_label} {receipt.number}"
    return render_pdf(
        story, language=both.primary, title=title, subject=event.name.get(both.primary)
    )
