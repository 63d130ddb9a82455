"""Each audited action writes its entry through the paths users take: the login form, the
staff pages, the organisers' registration and payment pages, the delegate's data download,
and the agreement, partner, badge and gate-device services."""

from __future__ import annotations

import re
from dataclasses import replace

import pyotp
import pytest
from sqlalchemy import select

from app.agreements import services as agreements
from app.agreements.models import AgreementHistory, AgreementStatus
from app.audit.actions import action_label
from app.audit.models import AuditEntry
from app.audit.services import verify_chain
from app.auth.models import Role, User
from app.badges import services as badges
from app.checkin import services as checkin
from app.events.models import Event
from app.extensions import db
from app.partners import services as partners
from app.partners.models import PartnerHistory
from app.registration import personal_data
from app.registration import services as registration_services
from app.registration.models import Registration, RegistrationType
from tests.agreements.factories import agreement_details, make_partner, make_scope_area, pdf_bytes
from tests.badges.factories import make_badge
from tests.checkin.factories import make_device
from tests.conftest import TEST_PASSWORD, next_totp_code
from tests.payments.paid_payments import awaiting, paid_payment, sign_in_delegate
from tests.registration.factories import make_event, make_registration, make_type, visa_details


def _logged(app) -> list[AuditEntry]:
    """The committed entries, oldest first, after checking that every code has a label and
    the chain holds."""
    with app.app_context():
        found = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.position)))
        for entry in found:
            db.session.expunge(entry)
        assert verify_chain() is None
    for entry in found:
        assert action_label(entry.action) != entry.action, f"{entry.action} has no label"
    return found


def _only(app, action: str) -> AuditEntry:
    """The one committed entry with this action code."""
    (entry,) = [entry for entry in _logged(app) if entry.action == action]
    return entry


@pytest.fixture
def wcpp(app) -> dict[str, int]:
    """WCPP 2026 open for registration with a paid type and one needing approval."""
    with app.test_request_context():
        event = make_event()
        delegate = make_type(event, "delegate", name="Delegate")
        government = make_type(event, "government", name="Government", needs_approval=True)
        db.session.commit()
        return {"event_id": event.id, "delegate": delegate.id, "government": government.id}


def _register(app, wcpp, type_key: str = "delegate", **overrides) -> str:
    """A registration with passport details, made through the service; its reference."""
    with app.test_request_context():
        event = db.session.get(Event, wcpp["event_id"])
        registration_type = db.session.get(RegistrationType, wcpp[type_key])
        registration, _new = registration_services.register_delegate(
            event, visa_details(registration_type, **overrides)
        )
        db.session.commit()
        return registration.reference


# --- accounts -------------------------------------------------------------------------------


def test_sign_in_and_sign_out_are_recorded_with_the_address(app, client, auth):
    assert auth.login("nobody@wcpp2026.example").status_code == 200  # refused: nothing logged
    user = auth.login_as(Role.ORGANISER, name="Made Wirawan")
    auth.logout()
    login, logout = _logged(app)
    assert (login.action, logout.action) == ("auth.login", "auth.logout")
    for entry in (login, logout):
        assert entry.actor_id == user.id
        assert (entry.actor_email, entry.actor_name) == (user.email, "Made Wirawan")
        assert entry.ip_address == "127.0.0.1"


def test_a_delegate_signed_in_by_choosing_a_password_is_recorded(app, client, wcpp, mailbox):
    _register(app, wcpp, email="siti@example.org")
    body = mailbox.wait_for(1)[0].get_payload(decode=True).decode()
    link = re.search(r"https?://\S+/register/confirm/\S+", body).group(0)
    path = "/" + link.split("/", 3)[3]
    assert client.get(path).status_code == 200
    password = {"password": TEST_PASSWORD, "confirm": TEST_PASSWORD}
    assert client.post(path, data=password).status_code == 302
    login = _only(app, "auth.login")
    assert login.actor_email == "siti@example.org"


def test_role_changes_and_deactivation_are_recorded(app, client, auth, make_user):
    admin = auth.login_as(Role.ADMIN)
    other = make_user(roles=[Role.ORGANISER], name="Putu Sari")
    data = {"roles": ["gate_staff", "organiser"], "active": "y"}
    assert client.post(f"/staff/{other.id}", data=data).status_code == 302
    assert client.post(f"/staff/{other.id}", data=data).status_code == 302  # no change
    assert client.post(f"/staff/{other.id}", data={"roles": data["roles"]}).status_code == 302
    changed = _only(app, "auth.role_changed")
    assert changed.actor_id == admin.id
    assert (changed.target_type, changed.target_id, changed.target_label) == (
        "user",
        str(other.id),
        "Putu Sari",
    )
    assert changed.details == {"roles": [["organiser"], ["gate_staff", "organiser"]]}
    assert _only(app, "auth.deactivated").target_id == str(other.id)


NEW_PASSWORD = "a-brand-new-passphrase"


def _own(entry: AuditEntry, user: User) -> None:
    """The entry is the user's own action on their own account, with no details."""
    assert (entry.actor_id, entry.target_type, entry.target_id) == (user.id, "user", str(user.id))
    assert entry.details in (None, {})


def test_password_changes_and_log_out_everywhere_are_recorded(app, client, auth, mailbox):
    user = auth.login_as(Role.ORGANISER)
    changed = client.post(
        "/account",
        data={
            "password-current_password": TEST_PASSWORD,
            "password-password": NEW_PASSWORD,
            "password-confirm": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 302
    assert client.post("/account/sessions/end").status_code == 302
    _own(_only(app, "auth.password_changed"), user)
    _own(_only(app, "auth.sessions_ended"), user)

    auth.logout()
    assert client.post("/password/forgot", data={"email": user.email}).status_code == 302
    body = mailbox.wait_for(1)[0].get_payload(decode=True).decode()
    path = "/" + re.search(r"https?://\S+/password/reset/\S+", body).group(0).split("/", 3)[3]
    new = {"password": TEST_PASSWORD, "confirm": TEST_PASSWORD}
    assert client.post(path, data=new).status_code == 302
    reset = _only(app, "auth.password_reset")
    _own(reset, user)
    assert reset.ip_address == "127.0.0.1"


def test_second_factor_changes_are_recorded(app, client, auth):
    delegate = auth.login_as(Role.DELEGATE)
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    enrolment = {"current_password": TEST_PASSWORD, "code": pyotp.TOTP(secret).now()}
    assert client.post("/account/two-factor", data=enrolment).status_code == 200
    password = {"codes-current_password": TEST_PASSWORD}
    assert client.post("/account/recovery-codes", data=password).status_code == 200
    disable = {
        "disable-current_password": TEST_PASSWORD,
        "disable-code": next_totp_code(app, delegate.email),
    }
    assert client.post("/account/two-factor/disable", data=disable).status_code == 302
    for action in (
        "auth.two_factor_enabled",
        "auth.recovery_codes_regenerated",
        "auth.two_factor_disabled",
    ):
        _own(_only(app, action), delegate)


def test_enrolment_while_signing_in_is_recorded(app, client, make_user):
    admin = make_user(roles=[Role.ADMIN], two_factor=False)
    client.post("/login", data={"email": admin.email, "password": TEST_PASSWORD})
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="totp-secret">([A-Z2-7]+)</code>', page).group(1)
    assert (
        client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()}).status_code
        == 200
    )
    _own(_only(app, "auth.two_factor_enabled"), admin)


def test_a_wrong_password_for_new_recovery_codes_leaves_no_entry(app, client, auth):
    auth.login_as(Role.ORGANISER)
    refused = client.post("/account/recovery-codes", data={"codes-current_password": "wrong"})
    assert refused.status_code == 422
    assert [entry.action for entry in _logged(app)] == ["auth.login"]


def test_a_second_factor_reset_and_a_staff_invitation_are_recorded(
    app, client, auth, make_user, mailbox
):
    admin = auth.login_as(Role.ADMIN)
    organiser = make_user(roles=[Role.ORGANISER], name="Putu Sari")
    reset = client.post(f"/staff/{organiser.id}/two-factor/reset", data={"confirm": "y"})
    assert reset.status_code == 302
    entry = _only(app, "auth.two_factor_reset")
    assert (entry.actor_id, entry.target_id, entry.target_label) == (
        admin.id,
        str(organiser.id),
        "Putu Sari",
    )

    invitation = {
        "email": "clerk@wcpp2026.example",
        "name": "Made Clerk",
        "language": "id",
        "roles": ["gate_staff", "registry_officer"],
    }
    assert client.post("/staff/invite", data=invitation).status_code == 302
    mailbox.wait_for(1)
    invited = _only(app, "auth.staff_invited")
    assert (invited.actor_id, invited.target_label) == (admin.id, "Made Clerk")
    # The roles granted, and nothing from the emailed link.
    assert invited.details == {"roles": ["gate_staff", "registry_officer"]}


def test_a_refused_request_leaves_no_entry(app, client, auth):
    admin = auth.login_as(Role.ADMIN)
    # Adding a role would be recorded, but deactivating oneself is refused: all rolls back.
    response = client.post(f"/staff/{admin.id}", data={"roles": ["admin", "organiser"]})
    assert response.status_code == 200
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert [entry.action for entry in _logged(app)] == ["auth.login"]
    with app.app_context():
        assert db.session.get(User, admin.id).roles == {Role.ADMIN}


# --- registrations --------------------------------------------------------------------------


def test_organisers_edits_approvals_and_passport_views_are_recorded(app, client, auth, wcpp):
    reference = _register(app, wcpp, "government", family_name="Okonkwo", email="a@moj.example")
    organiser = auth.login_as(Role.ORGANISER)
    with app.app_context():
        registration = db.session.scalar(
            select(Registration).where(Registration.reference == reference)
        )
        form = {
            "title": "Dr",
            "given_name": registration.given_name,
            "family_name": "Okonkwo-Bello",
            "nationality": registration.nationality,
            "residence_country": registration.residence_country,
            "organisation_name": "Nigerian Correctional Service",
            "email": registration.email,
            "registration_type_id": str(wcpp["government"]),
            "language": "en",
        }
    assert client.post(f"/registrations/{reference}/passport").status_code == 200
    assert client.post(f"/registrations/{reference}/edit", data=form).status_code == 302
    assert client.post(f"/registrations/{reference}/approve").status_code == 302

    edited = _only(app, "registration.edited")
    assert edited.actor_id == organiser.id
    assert (edited.target_type, edited.target_label) == ("registration", reference)
    # Which fields changed, never their values: an erasure cannot reach into the chain.
    assert "family_name" in edited.details["changes"]
    assert "Okonkwo" not in str(edited.details)
    approved = _only(app, "registration.approved")
    assert approved.details["status"] == ["pending_approval", "awaiting_payment"]
    viewed = _only(app, "registration.passport_viewed")
    assert (viewed.actor_id, viewed.details) == (organiser.id, {"purpose": "organiser_view"})
    # The number itself never reaches the log.
    assert all("A12345678" not in str(entry.details) for entry in _logged(app))


def test_a_delegates_data_download_and_erasure_are_recorded(app, client, auth, wcpp):
    reference = _register(app, wcpp, email="delegate@moj.example")
    sign_in_delegate(app, auth, "delegate@moj.example")
    assert client.get("/my/registration/data.json").status_code == 200
    exported = _only(app, "registration.personal_data_exported")
    assert (exported.actor_email, exported.target_label) == ("delegate@moj.example", reference)
    with app.test_request_context():
        registration = db.session.scalar(
            select(Registration).where(Registration.reference == reference)
        )
        personal_data.erase_personal_data(registration, actor=registration.user)
        db.session.commit()
    erased = _only(app, "registration.personal_data_erased")
    assert (erased.actor_id, erased.target_label) == (exported.actor_id, reference)
    # Earlier entries survive the erasure unchanged (the chain still holds) and say who it was.
    assert _only(app, "registration.personal_data_exported").actor_email == "delegate@moj.example"


def test_an_organisers_refund_is_recorded(app, client, auth, wcpp):
    with app.test_request_context():
        event = db.session.get(Event, wcpp["event_id"])
        registration = awaiting(event, db.session.get(RegistrationType, wcpp["delegate"]))
        payment_reference = paid_payment([registration]).reference
        registration_reference = registration.reference
        db.session.commit()
    organiser = auth.login_as(Role.ORGANISER)
    response = client.post(
        f"/payments/manage/{payment_reference}/refund",
        data={"amount": "450.00", "reason": "Cancelled by phone", "request_id": "r1"},
    )
    assert response.status_code == 302
    refund = _only(app, "payments.refund")
    assert refund.actor_id == organiser.id
    assert refund.target_type == "refund"
    assert refund.details == {
        "payment": payment_reference,
        "amount_minor": 45000,
        "currency": "USD",
        "status": "succeeded",
        "reason": "Cancelled by phone",
    }
    assert _only(app, "registration.refunded").target_label == registration_reference


# --- the registry ---------------------------------------------------------------------------


def test_agreement_changes_documents_and_deletion_are_recorded(app, db, make_user):
    officer = db.session.get(User, make_user(roles=[Role.REGISTRY_OFFICER]).id)
    partner = make_partner("Badan Narkotika Nasional", "BNN")
    area = make_scope_area("Rehabilitation")
    details = agreement_details([partner], [area])
    agreement = agreements.create_agreement(details, actor=officer, status=AgreementStatus.DRAFT)
    agreements.update_agreement(agreement, replace(details, signed_place="Bali"), actor=officer)
    document = agreements.upload_document(
        agreement, filename="signed.pdf", data=pdf_bytes(), actor=officer
    )
    agreements.delete_document(document, actor=officer)
    agreements.change_status(agreement, AgreementStatus.ACTIVE, actor=officer)
    draft = agreements.create_agreement(
        replace(details, reference_number="PAS-2/2025"), actor=officer, status="draft"
    )
    draft_id = draft.id
    agreements.delete_agreement(draft, actor=officer)
    db.session.commit()

    assert [entry.action for entry in _logged(app)] == [
        "agreements.created",
        "agreements.updated",
        "agreements.document_uploaded",
        "agreements.document_deleted",
        "agreements.status_changed",
        "agreements.created",
        "agreements.deleted",
    ]
    updated = _only(app, "agreements.updated")
    history = db.session.scalar(
        select(AgreementHistory).where(AgreementHistory.action == "updated")
    )
    # The history's own computed changes, not a second comparison.
    assert updated.details == history.changes == {"signed_place": ["Jakarta", "Bali"]}
    assert (updated.actor_id, updated.target_label) == (officer.id, "PAS-1/2025")
    deleted = _only(app, "agreements.deleted")
    assert (deleted.target_id, deleted.target_label) == (str(draft_id), "PAS-2/2025")


def test_partner_changes_are_recorded_with_the_historys_changes(app, db, make_user):
    officer = db.session.get(User, make_user(roles=[Role.REGISTRY_OFFICER]).id)
    details = partners.PartnerDetails(name="Lembaga Bantuan Hukum", kind="ngo", country="ID")
    partner = partners.create_partner(details, actor=officer)
    partners.update_partner(partner, replace(details, acronym="LBH"), actor=officer)
    db.session.commit()
    created, updated = _logged(app)
    assert (created.action, updated.action) == ("partners.created", "partners.updated")
    history = db.session.scalar(select(PartnerHistory).where(PartnerHistory.action == "updated"))
    assert updated.details == history.changes == {"acronym": [None, "LBH"]}
    assert updated.target_label == "Lembaga Bantuan Hukum"


# --- badges and gates -----------------------------------------------------------------------


def test_badge_reissue_and_revocation_and_gate_devices_are_recorded(app, db, make_user):
    organiser = db.session.get(User, make_user(roles=[Role.ORGANISER]).id)
    event = make_event()
    badge = make_badge(event)
    badges.reissue_badge(badge, actor=organiser)
    badges.revoke_badge(badge, actor=organiser)
    device, _token = make_device(event, "Entrance phone 1")
    checkin.revoke_device(device, actor=organiser)
    db.session.commit()

    reissued = _only(app, "registration.badge_reissued")
    assert (reissued.actor_id, reissued.details) == (organiser.id, {"version": 2})
    assert reissued.target_label == badge.registration.reference
    assert _only(app, "registration.badge_revoked").actor_id == organiser.id
    issued = _only(app, "checkin.device_issued")
    assert (issued.target_type, issued.target_label) == ("gate_device", "Entrance phone 1")
    revoked = _only(app, "checkin.device_revoked")
    assert (revoked.actor_id, revoked.target_id) == (organiser.id, str(device.id))


def test_a_delegates_own_registration_is_recorded_without_an_actor_account(app, db):
    event = make_event()
    registration = make_registration(event, make_type(event, is_free=True))
    db.session.commit()
    entry = _only(app, "registration.registered")
    assert entry.target_label == registration.reference
