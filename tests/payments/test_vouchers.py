"""Vouchers: creating them, their discounts, redeeming them (once per registration, within their
uses, type, currency and expiry; 20 registrations racing for a 3-use code on PostgreSQL), waivers
that confirm without payment, and the organiser's and delegate's pages."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.auth.models import Role, User
from app.extensions import db as _db
from app.payments import services, vouchers, waivers
from app.payments.models import (
    Payment,
    PaymentMethod,
    PaymentStatus,
    Receipt,
    Voucher,
    VoucherKind,
    VoucherRedemption,
)
from app.payments.vouchers import VoucherDetails, VoucherError
from app.registration.models import Registration, RegistrationStatus
from app.registration.services import RegistrationError, event_today
from tests.conftest import requires_postgres
from tests.payments.paid_payments import awaiting, indonesian, sign_in_delegate
from tests.registration.factories import (
    IDR_FEE,
    USD_FEE,
    count_rows,
    make_event,
    make_registration,
    make_type,
)

BARRIER_TIMEOUT = 30


@pytest.fixture
def event(db):
    return make_event()


@pytest.fixture
def delegate_type(event):
    return make_type(event, "delegate", name="Delegate")


def _voucher(event, code: str = "SPONSOR", **overrides) -> Voucher:
    """A voucher made through the service (20% off, 3 uses unless overridden)."""
    values = {"kind": VoucherKind.PERCENT.value, "percent_off": 20, "max_uses": 3, **overrides}
    return vouchers.create_voucher(event, VoucherDetails(code=code, **values), actor=None)


def _payer(registration: Registration) -> User:
    return registration.user


# --- creating -------------------------------------------------------------------------------


def test_codes_are_stored_upper_case_and_unique_in_any_case(db, event):
    voucher = _voucher(event, "  sponsor-kenya ")
    assert voucher.code == "SPONSOR-KENYA"
    with pytest.raises(VoucherError) as refused:
        _voucher(event, "Sponsor-Kenya")
    assert refused.value.code == "duplicate_code"
    assert refused.value.field == "code"
    assert count_rows(Voucher) == 1


def test_a_blank_code_is_made_up(db, event):
    voucher = _voucher(event, "")
    assert len(voucher.code) == vouchers.GENERATED_CODE_LENGTH
    assert set(voucher.code) <= set(vouchers.GENERATED_CODE_ALPHABET)


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"percent_off": 0}, "invalid_percent", "percent_off"),
        ({"percent_off": 101}, "invalid_percent", "percent_off"),
        (
            {"kind": "fixed", "amount_off_minor": None, "amount_off_currency": "USD"},
            "invalid_amount",
            "amount_off_minor",
        ),
        (
            {"kind": "fixed", "amount_off_minor": 5_000, "amount_off_currency": "EUR"},
            "invalid_currency",
            "amount_off_currency",
        ),
        (
            {"kind": "fixed", "amount_off_minor": 50_000_050, "amount_off_currency": "IDR"},
            "invalid_amount",
            "amount_off_minor",
        ),
        ({"kind": "bogus"}, "invalid_kind", "kind"),
        ({"max_uses": 0}, "invalid_max_uses", "max_uses"),
        ({"registration_type_id": 999_999}, "unknown_type", "registration_type_id"),
        ({"note": "x" * 301}, "too_long", "note"),
    ],
)
def test_wrong_terms_are_refused_on_their_field(db, event, overrides, code, field):
    with pytest.raises(VoucherError) as refused:
        _voucher(event, "BAD", **overrides)
    assert (refused.value.code, refused.value.field) == (code, field)
    assert count_rows(Voucher) == 0


@pytest.mark.parametrize("code", ["AB", "-LEADING", "WITH SPACE", "ÜNICODE", "X" * 41])
def test_codes_keep_to_letters_digits_and_dashes(db, event, code):
    with pytest.raises(VoucherError) as refused:
        _voucher(event, code)
    assert refused.value.code in ("invalid_code",)


def test_an_expiry_in_the_past_is_refused(db, event):
    with pytest.raises(VoucherError) as refused:
        _voucher(event, valid_until=event_today() - timedelta(days=1))
    assert refused.value.field == "valid_until"


def test_the_last_valid_day_is_the_congress_day(db, event):
    day = event_today() + timedelta(days=10)
    voucher = _voucher(event, valid_until=day)
    _db.session.commit()
    _db.session.expire_all()
    assert vouchers.last_valid_day(_db.session.get(Voucher, voucher.id)) == day


def test_only_organisers_create_vouchers(db, event, make_user):
    delegate = _db.session.merge(make_user(roles=[Role.DELEGATE]))
    with pytest.raises(RegistrationError) as refused:
        vouchers.create_voucher(event, VoucherDetails(code="X-1", kind="waiver"), actor=delegate)
    assert refused.value.code == "organisers_only"


# --- discounts ------------------------------------------------------------------------------


def test_discounts_by_kind(db, event):
    percent = _voucher(event, "P15", percent_off=15)
    fixed = _voucher(
        event, "F500", kind="fixed", amount_off_minor=50_000, amount_off_currency="USD"
    )
    waiver = _voucher(event, "WAIVE", kind="waiver")
    assert vouchers.voucher_discount(percent, USD_FEE, "USD") == 6_750
    # A rupiah discount is rounded to whole rupiah (Stripe and banks take no sen).
    assert vouchers.voucher_discount(percent, 450_000_100, "IDR") == 67_500_000
    assert vouchers.voucher_discount(fixed, USD_FEE, "USD") == USD_FEE  # never beyond the fee
    assert vouchers.voucher_discount(fixed, USD_FEE, "IDR") == 0
    assert vouchers.voucher_discount(waiver, IDR_FEE, "IDR") == IDR_FEE


# --- redeeming ------------------------------------------------------------------------------


def test_a_code_in_any_case_lowers_the_amount_due(db, event, delegate_type):
    _voucher(event, "SPONSOR", percent_off=20)
    registration = awaiting(event, delegate_type)
    redemption = vouchers.redeem_voucher(registration, " sponsor ")
    assert redemption.discount_minor == USD_FEE // 5
    assert vouchers.discount_for(registration) == USD_FEE // 5
    assert services.amount_due([registration], event_today()) == USD_FEE - USD_FEE // 5
    assert _db.session.scalar(select(Voucher.uses)) == 1


def test_one_voucher_per_registration(db, event, delegate_type):
    _voucher(event, "FIRST")
    _voucher(event, "SECOND")
    registration = awaiting(event, delegate_type)
    vouchers.redeem_voucher(registration, "FIRST")
    with pytest.raises(VoucherError) as refused:
        vouchers.redeem_voucher(registration, "SECOND")
    assert refused.value.code == "already_redeemed"
    assert _db.session.scalars(select(Voucher.uses).order_by(Voucher.code)).all() == [1, 0]


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        (lambda event, other: {"active": False}, "inactive"),
        (lambda event, other: {"max_uses": 1, "uses": 1}, "used_up"),
        (lambda event, other: {"registration_type_id": other.id}, "wrong_type"),
        (
            lambda event, other: {
                "kind": "fixed",
                "amount_off_minor": 1_000_000,
                "amount_off_currency": "IDR",
                "percent_off": None,
            },
            "wrong_currency",
        ),
    ],
)
def test_a_voucher_that_does_not_fit_is_refused(db, event, delegate_type, setup, code):
    other_type = make_type(event, "student")
    voucher = _voucher(event, "CODE")
    for name, value in setup(event, other_type).items():
        setattr(voucher, name, value)
    _db.session.flush()
    registration = awaiting(event, delegate_type)
    with pytest.raises(VoucherError) as refused:
        vouchers.redeem_voucher(registration, "code")
    assert (refused.value.code, refused.value.field) == (code, "code")
    assert count_rows(VoucherRedemption) == 0


def test_an_unknown_code_is_refused(db, event, delegate_type):
    registration = awaiting(event, delegate_type)
    with pytest.raises(VoucherError) as refused:
        vouchers.redeem_voucher(registration, "NOPE")
    assert refused.value.code == "unknown_code"
    assert "not valid" in str(refused.value)


def test_a_voucher_expires_after_its_last_day(db, event, delegate_type):
    day = event_today() + timedelta(days=3)
    _voucher(event, "EARLY", valid_until=day)
    first, second = awaiting(event, delegate_type), awaiting(event, delegate_type)
    last_minute = vouchers.expiry_moment(day) - timedelta(seconds=1)
    vouchers.redeem_voucher(first, "EARLY", now=last_minute)
    with pytest.raises(VoucherError) as refused:
        vouchers.redeem_voucher(second, "EARLY", now=vouchers.expiry_moment(day))
    assert refused.value.code == "expired"


def test_a_registration_not_awaiting_payment_takes_no_voucher(db, event):
    free = make_type(event, "guest", is_free=True)
    _voucher(event, "CODE")
    registration = make_registration(event, free)
    assert registration.status == RegistrationStatus.CONFIRMED.value
    with pytest.raises(VoucherError) as refused:
        vouchers.redeem_voucher(registration, "CODE")
    assert refused.value.code == "not_awaiting_payment"


def test_uses_never_pass_the_limit_one_after_another(db, event, delegate_type):
    _voucher(event, "THREE", max_uses=3)
    outcomes = []
    for _number in range(5):
        registration = awaiting(event, delegate_type)
        try:
            vouchers.redeem_voucher(registration, "three")
            outcomes.append("ok")
        except VoucherError as error:
            outcomes.append(error.code)
    assert outcomes == ["ok", "ok", "ok", "used_up", "used_up"]
    assert _db.session.scalar(select(Voucher.uses)) == 3


def test_the_database_refuses_more_uses_than_allowed(db, event):
    voucher = _voucher(event, "LIMIT", max_uses=2)
    _db.session.commit()
    beyond = text("UPDATE vouchers SET uses = max_uses + 1 WHERE id = :id")
    with pytest.raises(IntegrityError):
        _db.session.execute(beyond, {"id": voucher.id})
    _db.session.rollback()


# --- waivers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "terms", [{"kind": "waiver"}, {"kind": "percent", "percent_off": 100}], ids=["waiver", "100%"]
)
def test_a_waived_fee_confirms_without_payment(db, event, delegate_type, mailbox, terms):
    _voucher(event, "SPONSORED", **terms)
    registration = awaiting(event, delegate_type)
    _db.session.commit()
    mailbox.clear()
    outcome = waivers.apply_voucher(registration, "sponsored", payer=_payer(registration))
    _db.session.commit()
    assert outcome.amount_due == 0
    assert registration.status == RegistrationStatus.CONFIRMED.value
    payment = _db.session.scalar(select(Payment))
    assert (payment.method, payment.status, payment.amount_minor) == (
        PaymentMethod.WAIVER.value,
        PaymentStatus.SUCCEEDED.value,
        0,
    )
    assert [a.registration_id for a in payment.allocations] == [registration.id]
    receipt = _db.session.scalar(select(Receipt))
    assert receipt.payment_id == payment.id
    assert mailbox.wait_for(1)


def test_a_partial_discount_leaves_the_registration_awaiting_payment(db, event, delegate_type):
    _voucher(event, "HALF", percent_off=50)
    registration = awaiting(event, delegate_type)
    outcome = waivers.apply_voucher(registration, "HALF", payer=_payer(registration))
    assert outcome.amount_due == USD_FEE // 2
    assert outcome.waiver is None
    assert registration.status == RegistrationStatus.AWAITING_PAYMENT.value
    assert count_rows(Payment) == 0


def test_nobody_applies_a_voucher_to_another_delegates_registration(db, event, delegate_type):
    _voucher(event, "CODE")
    registration = awaiting(event, delegate_type)
    stranger = awaiting(event, delegate_type)
    with pytest.raises(services.PaymentError) as refused:
        waivers.apply_voucher(registration, "CODE", payer=_payer(stranger))
    assert refused.value.code == "not_your_registration"
    assert count_rows(VoucherRedemption) == 0


# --- concurrency ----------------------------------------------------------------------------


@pytest.fixture
def busy_app(make_app, smtp_server):
    """An application with a pooled connection for every thread, so that they really race."""
    return make_app(
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 25, "max_overflow": 0, "pool_pre_ping": True},
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=smtp_server[0],
        SERVER_BASE_URL="http://kongres.test",
    )


@requires_postgres
def test_twenty_registrations_racing_for_a_three_use_code(busy_app):
    count = 20
    with busy_app.test_request_context():
        event = make_event()
        delegate_type = make_type(event, "delegate")
        _voucher(event, "RACE", max_uses=3)
        ids = [awaiting(event, delegate_type).id for _ in range(count)]
        _db.session.commit()
        _db.session.remove()

    barrier = threading.Barrier(count, timeout=BARRIER_TIMEOUT)
    outcomes: list[str] = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def redeem(registration_id: int) -> None:
        """One delegate types the code at the same moment as the others."""
        with busy_app.test_request_context():
            try:
                registration = _db.session.get(Registration, registration_id)
                _db.session.commit()  # no transaction (and no lock) held at the barrier
                barrier.wait()
                try:
                    vouchers.redeem_voucher(registration, "race")
                    _db.session.commit()
                    outcome = "redeemed"
                except VoucherError as error:
                    _db.session.rollback()
                    outcome = error.code
                with lock:
                    outcomes.append(outcome)
            except BaseException as error:  # reported below
                _db.session.rollback()
                with lock:
                    unexpected.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=redeem, args=(number,)) for number in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert not unexpected, unexpected
    assert sorted(outcomes) == ["redeemed"] * 3 + ["used_up"] * 17
    with busy_app.app_context():
        assert _db.session.scalar(select(Voucher.uses)) == 3
        assert count_rows(VoucherRedemption) == 3
        _db.session.remove()


# --- pages ----------------------------------------------------------------------------------


def test_an_organiser_creates_and_withdraws_a_voucher(client, auth, app, event, delegate_type):
    _db.session.commit()
    auth.login_as(Role.ORGANISER)
    response = client.post(
        "/payments/vouchers/new",
        data={
            "code": "kenya-sponsor",
            "kind": "fixed",
            "amount_off_currency": "IDR",
            "amount_off": "1.500.000",
            "max_uses": "4",
            "registration_type_id": str(delegate_type.id),
            "valid_until": (event_today() + timedelta(days=30)).isoformat(),
            "note": "Sponsored by <b>KenCorr</b>",
        },
    )
    assert response.status_code == 302
    voucher = _db.session.scalar(select(Voucher))
    assert (voucher.code, voucher.amount_off_minor, voucher.amount_off_currency) == (
        "KENYA-SPONSOR",
        150_000_000,
        "IDR",
    )
    page = client.get("/payments/vouchers/").get_data(as_text=True)
    assert "KENYA-SPONSOR" in page
    assert "0 of 4" in page
    assert "&lt;b&gt;KenCorr&lt;/b&gt;" in page
    response = client.post(f"/payments/vouchers/{voucher.id}/deactivate")
    assert response.status_code == 302
    _db.session.refresh(voucher)
    assert voucher.active is False
    assert "Withdrawn" in client.get(f"/payments/vouchers/{voucher.id}").get_data(as_text=True)


def test_bad_voucher_input_shows_errors_and_creates_nothing(client, auth, event):
    _db.session.commit()
    auth.login_as(Role.ORGANISER)
    response = client.post(
        "/payments/vouchers/new",
        data={
            "code": "X",
            "kind": "fixed",
            "amount_off_currency": "USD",
            "amount_off": "abc",
            "max_uses": "0",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Enter an amount such as 450.00" in page
    assert "Number must be between 1 and 100000" in page
    assert count_rows(Voucher) == 0
    response = client.post(
        "/payments/vouchers/new",
        data={"code": "X", "kind": "percent", "percent_off": "10", "max_uses": "1"},
    )
    assert "letters, digits, dashes or underscores" in response.get_data(as_text=True)
    assert count_rows(Voucher) == 0


def test_a_delegate_applies_a_code_on_the_pay_page(client, app, auth, event, delegate_type):
    _voucher(event, "HALF", percent_off=50)
    registration = awaiting(event, delegate_type, **indonesian(language="en"))
    reference, email = registration.reference, registration.email
    _db.session.commit()
    sign_in_delegate(app, auth, email)
    page = client.get(f"/payments/pay/{reference}").get_data(as_text=True)
    assert 'action="/payments/voucher"' in page
    assert f'name="next" type="hidden" value="/payments/pay/{reference}"' in page
    response = client.post(
        "/payments/voucher",
        data={"registration": reference, "code": "half", "next": f"/payments/pay/{reference}"},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Voucher applied" in page
    assert "HALF" in page
    assert _db.session.scalar(select(VoucherRedemption.discount_minor)) == IDR_FEE // 2


def test_a_refused_code_is_explained(client, app, auth, event, delegate_type):
    registration = awaiting(event, delegate_type)
    reference, email = registration.reference, registration.email
    _db.session.commit()
    sign_in_delegate(app, auth, email)
    response = client.post(
        "/payments/voucher",
        data={"registration": reference, "code": "WRONG", "next": f"/payments/pay/{reference}"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/payments/pay/{reference}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "This voucher code is not valid" in page


def test_a_waiver_code_confirms_the_delegate(client, app, auth, event, delegate_type):
    _voucher(event, "FREE", kind="waiver")
    registration = awaiting(event, delegate_type)
    reference, email = registration.reference, registration.email
    _db.session.commit()
    sign_in_delegate(app, auth, email)
    response = client.post("/payments/voucher", data={"registration": reference, "code": "free"})
    assert response.headers["Location"].endswith("/my/registration")
    _db.session.expire_all()
    assert _db.session.scalar(select(Registration.status)) == RegistrationStatus.CONFIRMED.value


def test_another_delegates_registration_is_not_found(client, app, auth, event, delegate_type):
    _voucher(event, "CODE")
    mine = awaiting(event, delegate_type)
    theirs = awaiting(event, delegate_type)
    email, other_reference = mine.email, theirs.reference
    _db.session.commit()
    sign_in_delegate(app, auth, email)
    response = client.post(
        "/payments/voucher", data={"registration": other_reference, "code": "CODE"}
    )
    assert response.status_code == 404
    assert count_rows(VoucherRedemption) == 0


def test_organiser_voucher_pages_refuse_delegates(client, auth, event):
    _db.session.commit()
    auth.login_as(Role.DELEGATE)
    assert client.get("/payments/vouchers/").status_code == 403
    assert client.post("/payments/vouchers/new", data={"kind": "waiver"}).status_code == 403
    assert count_rows(Voucher) == 0


def test_an_unknown_voucher_is_not_found(client, auth, event):
    _db.session.commit()
    auth.login_as(Role.ORGANISER)
    assert client.get("/payments/vouchers/424242").status_code == 404
