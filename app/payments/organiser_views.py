"""Organiser pages of payments: vouchers, bank transfers awaiting their money, and the
payment settings (refund deadline, bank account, instructions)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select

from app.auth.access import allow
from app.auth.models import Role
from app.errors import DomainError
from app.extensions import db
from app.pagination import paginate
from app.payments import bank_transfer, settings, vouchers
from app.payments.models import (
    Payment,
    PaymentMethod,
    PaymentStatus,
    Voucher,
)
from app.payments.organiser_forms import (
    ActionForm,
    PaymentSettingsForm,
    RecordTransferForm,
    VoucherForm,
)
from app.payments.views import bp
from app.registration import services as registration_services
from app.registration.models import RegistrationStatus
from app.registration.views import event_or_404
from app.web import run_service

ORGANISERS = (Role.ORGANISER, Role.ADMIN)


@bp.context_processor
def _voucher_helpers() -> dict[str, Any]:
    """What the voucher templates need: a voucher's terms and last day in words."""
    return {
        "voucher_terms": vouchers.voucher_terms,
        "voucher_valid_until": vouchers.last_valid_day,
        "voucher_status": vouchers.voucher_status,
    }


def _refuse(error: DomainError, target: str):
    """Undo the request's changes, show why, and go to the target page."""
    db.session.rollback()
    flash(str(error), "error")
    return redirect(target)


# --- vouchers -------------------------------------------------------------------------------


def _voucher_or_404(voucher_id: int) -> Voucher:
    """The current congress's voucher with this id, else 404."""
    event = event_or_404()
    return db.first_or_404(
        select(Voucher).where(Voucher.id == voucher_id, Voucher.event_id == event.id)
    )


@bp.get("/vouchers/")
@allow(*ORGANISERS)
def list_vouchers():
    """The congress's vouchers with their terms, uses and validity."""
    event = event_or_404()
    return render_template(
        "payments/organiser/vouchers.html", page=paginate(vouchers.vouchers_query(event))
    )


@bp.route("/vouchers/new", methods=["GET", "POST"])
@allow(*ORGANISERS)
def new_voucher():
    """Create a voucher: a discount or a waiver, limited in uses, type and time."""
    event = event_or_404()
    form = VoucherForm()
    form.use_types(registration_services.registration_types(event, active_only=False))
    if form.validate_on_submit():
        done, voucher = run_service(
            form, vouchers.create_voucher, event, form.details(), actor=current_user
        )
        if done:
            flash(_("Voucher %(code)s created.", code=voucher.code), "success")
            return redirect(url_for("payments.show_voucher", voucher_id=voucher.id))
    return render_template("payments/organiser/vouchers_new.html", form=form)


@bp.get("/vouchers/<int:voucher_id>")
@allow(*ORGANISERS)
def show_voucher(voucher_id: int):
    """One voucher: its terms and the registrations that used it."""
    voucher = _voucher_or_404(voucher_id)
    return render_template(
        "payments/organiser/vouchers_show.html",
        voucher=voucher,
        redemptions=vouchers.redemptions_of(voucher),
        action_form=ActionForm(),
    )


def _set_active(voucher_id: int, active: bool):
    """Withdraw a voucher or offer it again, then go back to its page."""
    voucher = _voucher_or_404(voucher_id)
    form = ActionForm()
    if form.validate_on_submit():
        done, _result = run_service(
            form, vouchers.set_voucher_active, voucher, active, actor=current_user
        )
        if done and active:
            flash(_("Voucher %(code)s can be used again.", code=voucher.code), "success")
        elif done:
            flash(_("Voucher %(code)s withdrawn.", code=voucher.code), "success")
    else:
        flash(_("The form expired. Please submit it again."), "error")
    return redirect(url_for("payments.show_voucher", voucher_id=voucher.id))


@bp.post("/vouchers/<int:voucher_id>/deactivate")
@allow(*ORGANISERS)
def deactivate_voucher(voucher_id: int):
    """Withdraw a voucher: nobody can apply it any more; applied ones keep their discount."""
    return _set_active(voucher_id, False)


@bp.post("/vouchers/<int:voucher_id>/activate")
@allow(*ORGANISERS)
def activate_voucher(voucher_id: int):
    """Offer a withdrawn voucher again."""
    return _set_active(voucher_id, True)


# --- bank transfers -------------------------------------------------------------------------


def _transfer_or_404(reference: str) -> Payment:
    """The current congress's bank-transfer payment with this reference, else 404."""
    event = event_or_404()
    return db.first_or_404(
        select(Payment).where(
            Payment.event_id == event.id,
            Payment.reference == reference.upper(),
            Payment.method == PaymentMethod.BANK_TRANSFER.value,
        )
    )


@bp.get("/bank-transfers/")
@allow(*ORGANISERS)
def list_bank_transfers():
    """Bank transfers delegates announced and whose money has not been recorded yet
    (?show=recorded lists the recorded ones)."""
    event = event_or_404()
    recorded = request.args.get("show") == "recorded"
    return render_template(
        "payments/organiser/bank_transfers.html",
        page=paginate(bank_transfer.transfers_query(event, recorded=recorded)),
        recorded=recorded,
        totals=bank_transfer.pending_totals(event),
        action_form=ActionForm(),
    )


@bp.route("/bank-transfers/<reference>/record", methods=["GET", "POST"])
@allow(*ORGANISERS)
def record_bank_transfer(reference: str):
    """Record that a transfer arrived: the registrations it pays for are confirmed."""
    payment = _transfer_or_404(reference)
    form = RecordTransferForm(currency=payment.currency)
    if request.method == "GET" and payment.status == PaymentStatus.PENDING.value:
        form.received_on.data = registration_services.event_today()
    if form.validate_on_submit():
        done, outcome = run_service(
            form,
            bank_transfer.record_bank_transfer,
            payment,
            form.amount_minor(),
            form.received_on.data,
            form.bank_reference.data,
            actor=current_user,
        )
        if done:
            flash(
                ngettext(
                    "Transfer %(reference)s recorded: %(num)d registration confirmed.",
                    "Transfer %(reference)s recorded: %(num)d registrations confirmed.",
                    len(outcome.confirmed),
                    reference=payment.reference,
                ),
                "success",
            )
            for registration in outcome.not_awaiting:
                flash(
                    _(
                        "%(name)s (%(reference)s) was not awaiting payment (%(state)s): check "
                        "whether this money must be refunded.",
                        name=registration.full_name,
                        reference=registration.reference,
                        state=RegistrationStatus(registration.status).label,
                    ),
                    "warning",
                )
            return redirect(url_for("payments.list_bank_transfers"))
    return render_template(
        "payments/organiser/bank_transfer_record.html",
        form=form,
        payment=payment,
        action_form=ActionForm(),
    )


@bp.post("/bank-transfers/<reference>/cancel")
@allow(*ORGANISERS)
def cancel_bank_transfer(reference: str):
    """Withdraw a transfer that will not come (the delegate paid by card or gave up)."""
    payment = _transfer_or_404(reference)
    form = ActionForm()
    target = url_for("payments.list_bank_transfers")
    if not form.validate_on_submit():
        flash(_("The form expired. Please submit it again."), "error")
        return redirect(target)
    try:
        bank_transfer.cancel_bank_transfer(payment, actor=current_user)
    except DomainError as error:
        return _refuse(error, target)
    db.session.commit()
    flash(_("Transfer %(reference)s withdrawn.", reference=payment.reference), "success")
    return redirect(target)


# --- settings -------------------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@allow(*ORGANISERS)
def payment_settings():
    """The refund deadline, the bank account for transfers and the instructions."""
    event = event_or_404()
    current = settings.payment_settings_for(event)
    form = PaymentSettingsForm(obj=current if request.method == "GET" else None)
    if form.validate_on_submit():
        done, _result = run_service(
            form, settings.save_payment_settings, event, form.details(), actor=current_user
        )
        if done:
            flash(_("Payment settings saved."), "success")
            return redirect(url_for("payments.payment_settings"))
    return render_template(
        "payments/organiser/settings.html",
        form=form,
        event=event,
        settings=current,
        bank_transfer_available=settings.bank_transfer_available(current),
    )
