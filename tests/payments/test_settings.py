"""Payment settings: the refund deadline, the bank account for transfers and the bilingual
instructions, saved by organisers (all bank fields or none), and their page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.auth.models import Role
from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.payments import settings
from app.payments.models import PaymentSettings
from app.payments.services import PaymentError
from app.payments.settings import PaymentSettingsDetails
from app.registration.services import RegistrationError
from tests.registration.factories import count_rows, make_event

BANK = {
    "bank_name": "Bank Negara Indonesia (BNI)",
    "bank_account_name": "Panitia WCPP 2026 Ditjenpas",
    "bank_account_number": "0123456789",
    "bank_swift": "bninidja",
}


@pytest.fixture
def event(db):
    return make_event()


def test_saving_and_changing_the_settings(db, event):
    instructions = TranslatedText(
        en="Transfer charges are paid by the sender.", id="Biaya transfer ditanggung pengirim."
    )
    saved = settings.save_payment_settings(
        event,
        PaymentSettingsDetails(
            refund_until=event.starts_on - timedelta(days=14),
            bank_instructions=instructions,
            **BANK,
        ),
        actor=None,
    )
    assert saved.bank_swift == "BNINIDJA"
    assert settings.bank_transfer_available(saved)
    assert saved.bank_instructions.in_language("id") == "Biaya transfer ditanggung pengirim."
    settings.save_payment_settings(event, PaymentSettingsDetails(), actor=None)
    _db.session.commit()
    assert count_rows(PaymentSettings) == 1
    cleared = settings.payment_settings_for(event)
    assert cleared.bank_name is None
    assert cleared.bank_instructions is None
    assert not settings.bank_transfer_available(cleared)


@pytest.mark.parametrize("missing", ["bank_name", "bank_account_name", "bank_account_number"])
def test_the_bank_details_come_together(db, event, missing):
    with pytest.raises(PaymentError) as refused:
        settings.save_payment_settings(
            event, PaymentSettingsDetails(**{**BANK, missing: " "}), actor=None
        )
    assert (refused.value.code, refused.value.field) == ("bank_details_incomplete", missing)
    assert count_rows(PaymentSettings) == 0


def test_refunds_end_by_the_congress(db, event):
    with pytest.raises(PaymentError) as refused:
        settings.save_payment_settings(
            event,
            PaymentSettingsDetails(refund_until=event.ends_on + timedelta(days=1)),
            actor=None,
        )
    assert refused.value.field == "refund_until"


def test_text_is_checked(db, event):
    with pytest.raises(PaymentError) as refused:
        settings.save_payment_settings(
            event, PaymentSettingsDetails(**{**BANK, "bank_name": "BNI\x07"}), actor=None
        )
    assert refused.value.code == "control_characters"
    with pytest.raises(PaymentError) as refused:
        settings.save_payment_settings(
            event,
            PaymentSettingsDetails(bank_instructions=TranslatedText(en="x" * 2001)),
            actor=None,
        )
    assert (refused.value.code, refused.value.field) == ("too_long", "bank_instructions")


def test_only_organisers_change_the_settings(db, event, make_user):
    delegate = _db.session.merge(make_user(roles=[Role.DELEGATE]))
    with pytest.raises(RegistrationError):
        settings.save_payment_settings(event, PaymentSettingsDetails(**BANK), actor=delegate)


def test_the_settings_page(client, auth, event):
    _db.session.commit()
    auth.login_as(Role.ORGANISER)
    page = client.get("/payments/settings").get_data(as_text=True)
    assert "cannot choose bank transfer" in page
    response = client.post(
        "/payments/settings",
        data={
            "refund_until": (event.starts_on - timedelta(days=30)).isoformat(),
            **BANK,
            "bank_instructions-en": "Quote the reference. <script>alert(1)</script>",
            "bank_instructions-id": "Cantumkan nomor referensi.",
        },
    )
    assert response.status_code == 302
    saved = _db.session.scalar(select(PaymentSettings))
    assert saved.bank_account_number == "0123456789"
    assert saved.bank_instructions.in_language("id") == "Cantumkan nomor referensi."
    page = client.get("/payments/settings").get_data(as_text=True)
    assert "cannot choose bank transfer" not in page
    assert "&lt;script&gt;" in page
    assert "<script>alert(1)" not in page


def test_bad_settings_show_errors_and_save_nothing(client, auth, event):
    _db.session.commit()
    auth.login_as(Role.ADMIN)
    response = client.post(
        "/payments/settings",
        data={"refund_until": "not a day", "bank_name": "BNI", "bank_swift": "X" * 21},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Not a valid date value." in page
    assert "Use at most 20 characters." in page
    response = client.post("/payments/settings", data={"bank_name": "BNI"})
    assert "Give the bank, the account holder and the account number together." in (
        response.get_data(as_text=True)
    )
    assert count_rows(PaymentSettings) == 0


def test_delegates_cannot_see_the_settings(client, auth, event):
    _db.session.commit()
    auth.login_as(Role.DELEGATE)
    assert client.get("/payments/settings").status_code == 403
    assert client.post("/payments/settings", data=BANK).status_code == 403
    assert count_rows(PaymentSettings) == 0
