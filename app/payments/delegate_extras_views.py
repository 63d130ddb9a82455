"""The delegate's side of vouchers and bank transfer: the pieces the pay pages include
(payments/_voucher_form.html, payments/_bank_transfer.html), their POST routes, and the page
with a transfer's instructions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.auth.access import allow
from app.auth.models import Role
from app.errors import DomainError
from app.events.services import current_event
from app.extensions import db
from app.i18n.formatting import format_money
from app.payments import bank_transfer, checkout, settings, vouchers, waivers
from app.payments.delegate_extras_forms import BankTransferForm, VoucherCodeForm
from app.payments.models import Payment, PaymentMethod, PaymentSettings, VoucherRedemption
from app.payments.views import bp
from app.registration.models import Registration
from app.registration.services import event_today
from app.web import safe_next_url


@dataclass
class TransferChoice:
    """Registrations one announced transfer can cover (one currency) and its amount."""

    currency: str
    registrations: list[Registration]
    amount: int


@dataclass
class PaymentExtras:
    """What the voucher and bank-transfer pieces of a pay page show."""

    redemptions: dict[int, VoucherRedemption]
    voucher_targets: list[Registration]
    voucher_form: VoucherCodeForm
    settings: PaymentSettings | None
    bank_available: bool
    pending_transfers: list[Payment]
    transfer_choices: list[TransferChoice] = field(default_factory=list)
    transfer_form: BankTransferForm | None = None


def _transfer_choices(registrations: list[Registration]) -> list[TransferChoice]:
    """The registrations grouped by currency (one transfer each), with what is due today."""
    lines = checkout.payable_lines(registrations, event_today())
    by_currency: dict[str, list[checkout.PayableLine]] = defaultdict(list)
    for line in lines:
        if line.amount > 0 and line.registration.currency:
            by_currency[line.registration.currency].append(line)
    return [
        TransferChoice(
            currency=currency,
            registrations=[line.registration for line in group],
            amount=sum(line.amount for line in group),
        )
        for currency, group in sorted(by_currency.items())
    ]


def payment_extras(registrations: list[Registration]) -> PaymentExtras:
    """The voucher and bank-transfer state of the registrations on a pay page."""
    redemptions = vouchers.redemptions_for(registrations)
    targets = [registration for registration in registrations if registration.id not in redemptions]
    # Both forms come back to the page they were sent from.
    voucher_form = VoucherCodeForm(formdata=None, next=request.path)
    voucher_form.registration.choices = [
        SelectChoice(registration.reference, registration.full_name) for registration in targets
    ]
    current = settings.payment_settings_for(current_event()) if registrations else None
    pending = bank_transfer.pending_transfers_for(registrations)
    extras = PaymentExtras(
        redemptions=redemptions,
        voucher_targets=targets,
        voucher_form=voucher_form,
        settings=current,
        bank_available=settings.bank_transfer_available(current),
        pending_transfers=pending,
    )
    if extras.bank_available and not pending:
        extras.transfer_choices = _transfer_choices(registrations)
        extras.transfer_form = BankTransferForm(formdata=None, next=request.path)
    return extras


@bp.context_processor
def _extras_helpers() -> dict[str, object]:
    """The pay pages' voucher and bank-transfer pieces read their state through this."""
    return {"payment_extras": payment_extras}


def _payable_or_404(reference: str | None) -> Registration:
    """A registration the signed-in delegate pays for: their own, or as head of a delegation
    a member's awaiting payment. Anybody else's is not found."""
    registration = checkout.own_registration(reference, current_user)
    if registration is not None:
        return registration
    head = checkout.headed_delegation_registration(current_user, current_event())
    if head is not None:
        wanted = (reference or "").strip().upper()
        for member in checkout.delegation_payables(head):
            if member.reference == wanted:
                return member
    abort(404)
    return registration  # never reached: abort() raises


def _first_error(form: VoucherCodeForm | BankTransferForm) -> str:
    """The first error of a refused form, as one sentence."""
    for errors in form.errors.values():
        if errors:
            return str(errors[0])
    return _("The form expired. Please reload the page and try again.")


def _back(form: VoucherCodeForm | BankTransferForm) -> str:
    """The pay page the form was sent from (only ever a page of this site)."""
    return safe_next_url(form.next.data, url_for("registration.my_registration"))


@bp.post("/voucher")
@allow(Role.DELEGATE)
def redeem_voucher():
    """Apply a voucher code to a registration on the pay page; a waived fee confirms it."""
    form = VoucherCodeForm()
    back = _back(form)
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return redirect(back)
    registration = _payable_or_404(form.registration.data)
    try:
        outcome = waivers.apply_voucher(registration, form.code.data, payer=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    terms = vouchers.voucher_terms(outcome.redemption.voucher)
    if outcome.waiver is not None:
        flash(
            _(
                "Voucher applied (%(terms)s): nothing is left to pay, and the registration of "
                "%(name)s is confirmed.",
                terms=terms,
                name=registration.full_name,
            ),
            "success",
        )
        if registration.user_id == current_user.id:
            return redirect(url_for("registration.my_registration"))
        return redirect(back)
    flash(
        _(
            "Voucher applied (%(terms)s). The amount due for %(name)s is now %(amount)s.",
            terms=terms,
            name=registration.full_name,
            amount=format_money(outcome.amount_due, registration.currency),
        ),
        "success",
    )
    return redirect(back)


@bp.post("/bank-transfer")
@allow(Role.DELEGATE)
def choose_bank_transfer():
    """Announce a bank transfer for the registrations on the pay page; shows the
    instructions with the reference to quote (and emails them)."""
    form = BankTransferForm()
    back = _back(form)
    if not form.validate_on_submit():
        flash(_first_error(form), "error")
        return redirect(back)
    registrations = [_payable_or_404(reference) for reference in form.registrations.data]
    try:
        payment = bank_transfer.choose_bank_transfer(registrations, payer=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    flash(
        _(
            "Please transfer %(amount)s quoting the reference %(reference)s. We have emailed "
            "you these instructions too.",
            amount=format_money(payment.amount_minor, payment.currency),
            reference=payment.reference,
        ),
        "success",
    )
    return redirect(url_for("payments.bank_transfer_instructions", reference=payment.reference))


@bp.get("/bank-transfer/<reference>")
@allow(Role.DELEGATE)
def bank_transfer_instructions(reference: str):
    """A transfer the delegate announced: the bank details, the amount, the reference to
    quote, and whether the money has arrived."""
    payment = checkout.own_payment(reference, current_user)
    if payment is None or payment.method != PaymentMethod.BANK_TRANSFER.value:
        abort(404)
    return render_template(
        "payments/bank_transfer.html",
        payment=payment,
        awaited=bank_transfer.still_awaited(payment),
        settings=settings.payment_settings_for(payment.event),
    )
