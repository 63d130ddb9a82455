"""The organisers' payment pages: the list with totals by currency, method and state,
reconciliation, CSV/XLSX exports, one payment with its refund form, the refund-request queue;
and receipt downloads for the payer and the organisers."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.auth.access import allow
from app.auth.models import Role
from app.errors import DomainError
from app.events.models import Event
from app.events.services import current_event
from app.exports import csv_response, xlsx_response
from app.extensions import db
from app.i18n.formatting import format_money, minor_to_decimal, to_event_time
from app.pagination import paginate
from app.payments import listing, receipts, refunds
from app.payments.models import (
    PAYMENT_METHOD_LABELS,
    PAYMENT_STATUS_LABELS,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
    Refund,
)
from app.payments.organiser_list_forms import (
    FILTER_NAMES,
    DeclineRequestForm,
    PaymentFilterForm,
    ProcessRequestForm,
    refund_form,
)
from app.payments.receipt_pdf import receipt_pdf
from app.payments.views import bp
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import event_today
from app.web import show_domain_error

ORGANISERS = (Role.ORGANISER, Role.ADMIN)
EXPORT_HEADER = (
    _l("Payment reference"),
    _l("Created at"),
    _l("Paid at"),
    _l("Payer"),
    _l("Payer's email"),
    _l("Method"),
    _l("State"),
    _l("Currency"),
    _l("Amount"),
    _l("Refunded"),
    _l("Net"),
    _l("Registrations"),
    _l("Registration types"),
    _l("Bank reference"),
    _l("Stripe PaymentIntent"),
    _l("Receipt"),
    _l("Demo data"),
)
# The organisers' payment pages, for the sub-navigation (others' pages join when present).
PAYMENT_PAGES = (
    ("payments.list_payments", _l("Payments")),
    ("payments.reconciliation", _l("Reconciliation")),
    ("payments.refund_requests", _l("Refunds")),
    ("payments.list_vouchers", _l("Vouchers")),
    ("payments.list_bank_transfers", _l("Bank transfers")),
    ("payments.payment_settings", _l("Settings")),
)


@bp.context_processor
def _payment_helpers() -> dict[str, Any]:
    """What the payment pages' templates need: labels for codes, the sub-navigation."""
    return {
        "payment_method_label": lambda value: PAYMENT_METHOD_LABELS[PaymentMethod(value)],
        "payment_status_label": lambda value: PAYMENT_STATUS_LABELS[PaymentStatus(value)],
        "refund_status_label": lambda value: refunds.REFUND_STATUS_LABELS[
            refunds.RefundStatus(value)
        ],
        "registration_status_label": lambda value: RegistrationStatus(value).label,
        "refund_reason": refunds.refund_reason,
        "receipt_key": receipts.receipt_key,
        "receipt_kind_label": lambda value: receipts.RECEIPT_KIND_LABELS[
            receipts.ReceiptKind(value)
        ],
        "is_demo_payment": refunds.is_demo_payment,
        "payment_pages": _payment_pages,
    }


def _payment_pages() -> list[tuple[str, Any]]:
    """The organiser payment pages that exist in this installation."""
    return [
        (endpoint, label)
        for endpoint, label in PAYMENT_PAGES
        if endpoint in current_app.view_functions
    ]


def _event_or_404() -> Event:
    """The congress this installation serves."""
    event = current_event()
    if event is None:
        abort(404)
    return event


def _payment_or_404(event: Event, reference: str) -> Payment:
    """The event's payment with this reference, with what its page shows, else 404."""
    return db.first_or_404(
        select(Payment)
        .where(Payment.event_id == event.id, Payment.reference == reference.strip().upper())
        .options(
            joinedload(Payment.payer),
            joinedload(Payment.recorded_by),
            selectinload(Payment.allocations)
            .joinedload(PaymentAllocation.registration)
            .joinedload(Registration.registration_type),
            selectinload(Payment.refunds),
            selectinload(Payment.receipts),
        )
    )


def _refund_or_404(event: Event, refund_id: int) -> Refund:
    """The event's refund with this id, else 404."""
    refund = db.session.get(Refund, refund_id)
    if refund is None or refund.payment.event_id != event.id:
        abort(404)
    return refund


def _filter_args() -> dict[str, str]:
    """The current filters as URL arguments (for exports and clearing)."""
    return {name: request.args[name] for name in FILTER_NAMES if request.args.get(name)}


# --- the list, totals, exports --------------------------------------------------------------


@bp.get("/manage/")
@allow(*ORGANISERS)
def list_payments():
    """Every payment with filters, and totals by currency, method and state."""
    event = _event_or_404()
    form = PaymentFilterForm(request.args)
    return render_template(
        "payments/organiser/payments.html",
        form=form,
        page=paginate(listing.payment_query(event, **form.filters())),
        filter_args=_filter_args(),
        totals=listing.payment_totals(event),
    )


def _export_rows(event: Event) -> list[list[Any]]:
    """The filtered payments, one row each, in the reader's language."""
    form = PaymentFilterForm(request.args)
    rows = []
    for payment in db.session.scalars(listing.export_query(event, **form.filters())).unique():
        registrations = [allocation.registration for allocation in payment.allocations]
        receipt = next(
            (r for r in payment.receipts if r.kind == receipts.ReceiptKind.RECEIPT), None
        )
        rows.append(
            [
                payment.reference,
                payment.created_at,
                payment.succeeded_at,
                payment.payer.name if payment.payer else None,
                payment.payer.email if payment.payer else None,
                str(PAYMENT_METHOD_LABELS[PaymentMethod(payment.method)]),
                str(PAYMENT_STATUS_LABELS[PaymentStatus(payment.status)]),
                payment.currency,
                minor_to_decimal(payment.amount_minor, payment.currency),
                minor_to_decimal(payment.refunded_minor, payment.currency),
                minor_to_decimal(payment.amount_minor - payment.refunded_minor, payment.currency),
                ", ".join(r.reference for r in registrations),
                ", ".join(dict.fromkeys(str(r.registration_type.name) for r in registrations)),
                payment.bank_reference,
                payment.stripe_payment_intent_id,
                receipt.number if receipt else None,
                refunds.is_demo_payment(payment),
            ]
        )
    return rows


def _export_filename() -> str:
    """payments-YYYY-MM-DD: the list on the day it was exported."""
    return f"payments-{event_today().isoformat()}"


@bp.get("/manage/export.csv")
@allow(*ORGANISERS)
def export_payments_csv():
    """The filtered payments as CSV (UTF-8, opens in Excel)."""
    event = _event_or_404()
    header = [str(title) for title in EXPORT_HEADER]
    return csv_response(_export_filename() + ".csv", header, _export_rows(event))


@bp.get("/manage/export.xlsx")
@allow(*ORGANISERS)
def export_payments_xlsx():
    """The filtered payments as an Excel workbook."""
    event = _event_or_404()
    header = [str(title) for title in EXPORT_HEADER]
    return xlsx_response(_export_filename() + ".xlsx", header, _export_rows(event))


# --- reconciliation -------------------------------------------------------------------------


@bp.get("/manage/reconciliation")
@allow(*ORGANISERS)
def reconciliation():
    """Registrations awaiting payment, and payments that took money without a confirmed
    registration behind them."""
    event = _event_or_404()
    awaiting_query = listing.awaiting_payment_query(event)
    awaiting = list(db.session.scalars(awaiting_query.limit(listing.RECONCILIATION_ROWS)))
    unconfirmed_query = listing.unconfirmed_paid_query(event)
    unconfirmed = list(db.session.scalars(unconfirmed_query.limit(listing.RECONCILIATION_ROWS)))
    return render_template(
        "payments/organiser/reconciliation.html",
        awaiting=awaiting,
        awaiting_count=listing.count_of(awaiting_query),
        outstanding=listing.outstanding_by_currency(event),
        open_payments=listing.open_payments_for(awaiting),
        unconfirmed=unconfirmed,
        unconfirmed_count=listing.count_of(unconfirmed_query),
        shown_at_most=listing.RECONCILIATION_ROWS,
    )


# --- one payment and its refunds ------------------------------------------------------------


def _render_payment(payment: Payment, form: Any = None):
    """A payment's page with its refund form (a fresh one unless a refused one is given)."""
    blocker = refunds.refund_blocker(payment)
    if form is None and blocker is None:
        form = refund_form(payment.currency, amount_minor=refunds.refundable_minor(payment))
    return render_template(
        "payments/organiser/payment.html",
        payment=payment,
        refund_form=form,
        refund_blocker=blocker,
        refundable_minor=refunds.refundable_minor(payment),
        through_stripe=refunds.goes_through_stripe(payment),
    )


@bp.get("/manage/<reference>")
@allow(*ORGANISERS)
def show_payment(reference: str):
    """One payment: payer, registrations, refunds, receipts, and the refund form."""
    payment = _payment_or_404(_event_or_404(), reference)
    return _render_payment(payment)


@bp.post("/manage/<reference>/refund")
@allow(*ORGANISERS)
def refund_payment(reference: str):
    """Refund part or all of a payment: through Stripe for a card, recorded otherwise."""
    payment = _payment_or_404(_event_or_404(), reference)
    form = refund_form(payment.currency, formdata=request.form)
    if not form.validate():
        return _render_payment(payment, form), 422
    try:
        refund = refunds.refund_payment(
            payment,
            form.amount.data,
            form.reason.data,
            actor=current_user,
            request_id=form.request_id.data,
        )
    except DomainError as error:
        db.session.rollback()
        show_domain_error(form, error)
        payment = _payment_or_404(_event_or_404(), reference)
        return _render_payment(payment, form), 422
    db.session.commit()
    flash(
        _("Refunded %(amount)s.", amount=format_money(refund.amount_minor, payment.currency)),
        "success",
    )
    return redirect(url_for("payments.show_payment", reference=payment.reference))


@bp.get("/manage/refunds")
@allow(*ORGANISERS)
def refund_requests():
    """Refund requests from cancellations waiting for an organiser, and refunds made."""
    event = _event_or_404()
    return render_template(
        "payments/organiser/payments_refunds.html",
        requests=list(db.session.scalars(listing.refund_requests_query(event)).unique()),
        page=paginate(listing.refund_requests_query(event, open_only=False)),
        process_form=ProcessRequestForm(formdata=None),
        decline_form=DeclineRequestForm(formdata=None),
    )


@bp.post("/manage/refunds/<int:refund_id>/process")
@allow(*ORGANISERS)
def process_refund_request(refund_id: int):
    """Carry out a delegate's refund request."""
    refund = _refund_or_404(_event_or_404(), refund_id)
    form = ProcessRequestForm()
    if not form.validate():
        flash(_("The form expired. Please submit it again."), "error")
        return redirect(url_for("payments.refund_requests"))
    try:
        refunds.process_refund_request(refund, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("payments.refund_requests"))
    db.session.commit()
    flash(_("The refund has been made."), "success")
    return redirect(url_for("payments.refund_requests"))


@bp.post("/manage/refunds/<int:refund_id>/decline")
@allow(*ORGANISERS)
def decline_refund_request(refund_id: int):
    """Decline a delegate's refund request with a reason."""
    refund = _refund_or_404(_event_or_404(), refund_id)
    form = DeclineRequestForm()
    if not form.validate():
        flash(
            " ".join(str(e) for e in form.reason.errors)
            or _("The form expired. Please submit it again."),
            "error",
        )
        return redirect(url_for("payments.refund_requests"))
    try:
        refunds.decline_refund_request(refund, form.reason.data, actor=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("payments.refund_requests"))
    db.session.commit()
    flash(_("The refund request has been declined."), "success")
    return redirect(url_for("payments.refund_requests"))


# --- receipts -------------------------------------------------------------------------------


@bp.get("/receipts/<key>.pdf")
@allow(Role.DELEGATE, *ORGANISERS)
def download_receipt(key: str):
    """A receipt or credit note as a PDF, for the payer and the organisers (404 to others,
    so that nobody learns which numbers exist)."""
    receipt = receipts.find_receipt(key)
    if receipt is None or not receipts.may_download(receipt, current_user):
        abort(404)
    kind = "receipt" if receipt.kind == receipts.ReceiptKind.RECEIPT else "credit-note"
    issued = to_event_time(receipt.issued_at).date().isoformat()
    response = send_file(
        BytesIO(receipt_pdf(receipt)),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{kind}-{receipts.receipt_key(receipt)}-{issued}.pdf",
    )
    # A receipt carries personal data: no shared cache keeps it.
    response.headers["Cache-Control"] = "private, no-store"
    return response
