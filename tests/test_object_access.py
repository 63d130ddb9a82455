"""Object-level access: every route that names an object in its URL is walked with that object
belonging to somebody else, as every kind of user.

tests/test_access.py proves who may use a route at all; this file proves that the object in the
URL is checked too: delegate B never reaches delegate A's registration, payment, receipt, credit
note or badge; nobody but its starter (and administrators) follows a job; drafts of the
programme stay private; a child object is never reached under another parent's id. Every rule
of app.url_map with URL arguments must have a case here (or a reason in NOT_OBJECT_ROUTES), so
a new such route fails this test until somebody says who may see its objects.

Delegate-facing URLs carry random references (registrations, payments: unguessable), 32-hex
job ids or secret feed tokens; receipt numbers are sequential by law (numbered receipts), so
for them, as for every organiser page with integer ids, the test proves that access is checked
whatever the number.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from app.agreements import services as agreement_services
from app.auth.access import PUBLIC, SIGNED_IN
from app.auth.models import Role, User
from app.auth.services import change_password
from app.badges import services as badge_services
from app.checkin.models import Admission
from app.extensions import db as _db
from app.i18n.text import TranslatedText
from app.jobs import services as job_services
from app.jobs.models import Job, JobStatus
from app.partners import services as partner_services
from app.payments import receipts
from app.payments.models import PaymentMethod, PaymentStatus
from app.payments.refunds import refund_payment
from app.payments.vouchers import VoucherDetails, create_voucher
from app.programme import agenda
from app.programme import services as programme_services
from app.programme.publishing import publish_programme
from app.registration import services as registration_services
from app.registration.visa import issue_visa_letter
from tests.agreements.factories import make_agreement, make_partner, make_scope_area, pdf_bytes
from tests.checkin.factories import make_checkpoint, make_device, scan, token_for
from tests.conftest import TEST_PASSWORD, AuthActions
from tests.payments.paid_payments import awaiting, paid_payment
from tests.programme.factories import make_room, make_session, make_speaker, make_track
from tests.registration.factories import make_event, make_type
from tests.routes import ROUTE_TABLE

OWNER = "owner"  # delegate A, whose objects the URLs name
PERSONAS = {
    "anonymous": None,
    OWNER: Role.DELEGATE,
    "delegate": Role.DELEGATE,  # delegate B, with a registration of their own
    "gate_staff": Role.GATE_STAFF,
    "registry_officer": Role.REGISTRY_OFFICER,
    "organiser": Role.ORGANISER,
    "admin": Role.ADMIN,
}
STAFF_PERSONAS = ("gate_staff", "registry_officer", "organiser", "admin")

# Rules with URL arguments that name no stored object: a file, a language, or a secret emailed
# link whose own tests cover it (the token is the only thing that grants access).
NOT_OBJECT_ROUTES = {
    "static": "a file of the static folder",
    "i18n.switch_language": "a language code",
    "auth.reset_password": "an emailed signed token (tests/auth/test_password_reset.py)",
    "auth.accept_invitation": "an emailed signed token (tests/auth/test_staff.py)",
    "registration.complete_member": "an emailed signed token (tests/registration)",
    "registration.confirm_email": "an emailed signed token (tests/registration)",
    "registration.verify_visa_letter": "public by design: anyone holding a letter verifies it",
}


@dataclass
class World:
    """The objects the URLs name: delegate A's, the registry's and the programme's."""

    ids: dict[str, Any] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.ids[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Case:
    """One route's object, and who may see it (None: as tests/routes.py says, with the
    delegate role meaning delegate A only, since the object is A's)."""

    args: Callable[[World], dict[str, Any]]
    allowed: frozenset[str] | None = None
    ok: tuple[int, ...] = (200,)


def _ref(name: str) -> Callable[[World], dict[str, Any]]:
    """URL arguments {"reference": <world object>}."""
    return lambda world: {"reference": world.ids[name]}


ANYONE_SIGNED_IN = frozenset(PERSONAS) - {"anonymous"}
EVERYONE = frozenset(PERSONAS)
NOBODY = frozenset()

CASES: dict[str, Case] = {
    # --- partners and agreements: the registry's, by role --------------------------------
    "partners.show_partner": Case(lambda w: {"partner_id": w.partner}),
    "partners.edit_partner": Case(lambda w: {"partner_id": w.partner}),
    "partners.delete_partner": Case(lambda w: {"partner_id": w.partner}),
    "partners.add_contact": Case(lambda w: {"partner_id": w.partner}),
    "partners.edit_contact": Case(lambda w: {"partner_id": w.partner, "contact_id": w.contact}),
    "partners.delete_contact": Case(lambda w: {"partner_id": w.partner, "contact_id": w.contact}),
    "agreements.show_agreement": Case(lambda w: {"agreement_id": w.agreement}),
    "agreements.edit_agreement": Case(lambda w: {"agreement_id": w.agreement}),
    "agreements.change_status": Case(lambda w: {"agreement_id": w.agreement}),
    # An active agreement is not deleted: its confirmation page sends back to the agreement.
    "agreements.delete_agreement": Case(lambda w: {"agreement_id": w.agreement}, ok=(302,)),
    "agreements.follow_up": Case(lambda w: {"agreement_id": w.agreement, "relation": "renewal"}),
    "agreements.new_obligation": Case(lambda w: {"agreement_id": w.agreement}),
    "agreements.update_obligation": Case(
        lambda w: {"agreement_id": w.agreement, "obligation_id": w.obligation}
    ),
    "agreements.delete_obligation": Case(
        lambda w: {"agreement_id": w.agreement, "obligation_id": w.obligation}
    ),
    "agreements.upload_document": Case(lambda w: {"agreement_id": w.agreement}),
    "agreements.download_document": Case(
        lambda w: {"agreement_id": w.agreement, "document_id": w.document}
    ),
    "agreements.delete_document": Case(
        lambda w: {"agreement_id": w.agreement, "document_id": w.document}
    ),
    "agreements.new_evaluation": Case(lambda w: {"agreement_id": w.agreement}),
    "agreements.edit_scope_area": Case(lambda w: {"area_id": w.scope_area}),
    "auth.edit_user": Case(lambda w: {"user_id": w.owner_user}),
    "auth.reset_two_factor": Case(lambda w: {"user_id": w.owner_user}),
    # --- delegate A's registration, payment, receipt, credit note, letter, badge ----------
    "registration.show_registration": Case(_ref("registration")),
    "registration.reveal_passport": Case(_ref("registration")),
    "registration.approve_registration": Case(_ref("registration")),
    "registration.reject_registration": Case(_ref("registration")),
    "registration.resend_email": Case(_ref("registration")),
    "registration.edit_registration": Case(_ref("registration")),
    "registration.issue_visa_letter": Case(_ref("registration")),
    "registration.revoke_visa_letter": Case(_ref("registration")),
    "registration.visa_letter_pdf": Case(_ref("registration")),
    "registration.edit_registration_type": Case(lambda w: {"type_id": w.registration_type}),
    "payments.pay": Case(_ref("unpaid_registration"), ok=(200,)),
    "payments.charge_card": Case(_ref("card_payment")),
    "payments.payment_return": Case(_ref("card_payment"), ok=(200, 302)),
    "payments.payment_status": Case(_ref("card_payment")),
    "payments.bank_transfer_instructions": Case(_ref("transfer_payment")),
    "payments.show_payment": Case(_ref("payment")),
    "payments.refund_payment": Case(_ref("payment")),
    "payments.record_bank_transfer": Case(_ref("transfer_payment")),
    "payments.cancel_bank_transfer": Case(_ref("transfer_payment")),
    "payments.process_refund_request": Case(lambda w: {"refund_id": w.refund}),
    "payments.decline_refund_request": Case(lambda w: {"refund_id": w.refund}),
    "payments.download_receipt": Case(lambda w: {"key": w.receipt_key}),
    "payments.show_voucher": Case(lambda w: {"voucher_id": w.voucher}),
    "payments.activate_voucher": Case(lambda w: {"voucher_id": w.voucher}),
    "payments.deactivate_voucher": Case(lambda w: {"voucher_id": w.voucher}),
    "badges.confirm_reissue": Case(lambda w: {"badge_id": w.badge}),
    "badges.reissue_badge": Case(lambda w: {"badge_id": w.badge}),
    "badges.revoke_badge": Case(lambda w: {"badge_id": w.badge}),
    "badges.restore_badge": Case(lambda w: {"badge_id": w.badge}),
    "badges.download_badge": Case(lambda w: {"badge_id": w.badge}),
    "checkin.registration_certificate": Case(_ref("registration")),
    "checkin.edit_checkpoint": Case(lambda w: {"checkpoint_id": w.checkpoint}),
    "checkin.delete_checkpoint": Case(lambda w: {"checkpoint_id": w.checkpoint}),
    "checkin.revoke_device": Case(lambda w: {"device_id": w.device}),
    # --- jobs: the organiser started it; only they and administrators follow it ----------
    "jobs.show_job": Case(lambda w: {"job_id": w.job}, frozenset({"organiser", "admin"})),
    "jobs.job_status": Case(lambda w: {"job_id": w.job}, frozenset({"organiser", "admin"})),
    "jobs.download": Case(lambda w: {"job_id": w.job}, frozenset({"organiser", "admin"})),
    # --- the programme: published to all, drafts to nobody on the public pages -----------
    "programme.show_session": Case(lambda w: {"session_id": w.draft_session}, NOBODY),
    "programme.session_ical": Case(lambda w: {"session_id": w.draft_session}, NOBODY),
    "programme.show_speaker": Case(lambda w: {"speaker_id": w.draft_speaker}, NOBODY),
    "programme.speaker_photo": Case(lambda w: {"speaker_id": w.draft_speaker}, NOBODY),
    "programme.speaker_photo_preview": Case(lambda w: {"speaker_id": w.draft_speaker}),
    "programme.edit_room": Case(lambda w: {"room_id": w.room}),
    "programme.delete_room": Case(lambda w: {"room_id": w.room}),
    "programme.edit_track": Case(lambda w: {"track_id": w.track}),
    "programme.delete_track": Case(lambda w: {"track_id": w.track}),
    "programme.edit_speaker": Case(lambda w: {"speaker_id": w.draft_speaker}),
    "programme.delete_speaker": Case(lambda w: {"speaker_id": w.draft_speaker}),
    "programme.edit_session": Case(lambda w: {"session_id": w.session}),
    "programme.delete_session": Case(lambda w: {"session_id": w.session}),
    "programme.move_session": Case(lambda w: {"session_id": w.session}),
    "programme.session_signups": Case(lambda w: {"session_id": w.session}),
    # Sign-ups name a published session, not anybody's object: any delegate may.
    "programme.sign_up": Case(lambda w: {"session_id": w.session}, frozenset({OWNER, "delegate"})),
    "programme.withdraw": Case(lambda w: {"session_id": w.session}, frozenset({OWNER, "delegate"})),
    # A private feed: its secret token is the credential, whoever holds it (a calendar app).
    "programme.agenda_ical": Case(lambda w: {"token": w.feed_token}, EVERYONE),
}

# A child under another parent's id: 404 even for the roles that may see both.
WRONG_PARENT: dict[str, Callable[[World], dict[str, Any]]] = {
    "partners.edit_contact": lambda w: {"partner_id": w.other_partner, "contact_id": w.contact},
    "partners.delete_contact": lambda w: {"partner_id": w.other_partner, "contact_id": w.contact},
    "agreements.download_document": lambda w: {
        "agreement_id": w.other_agreement,
        "document_id": w.document,
    },
    "agreements.delete_document": lambda w: {
        "agreement_id": w.other_agreement,
        "document_id": w.document,
    },
    "agreements.update_obligation": lambda w: {
        "agreement_id": w.other_agreement,
        "obligation_id": w.obligation,
    },
    "agreements.delete_obligation": lambda w: {
        "agreement_id": w.other_agreement,
        "obligation_id": w.obligation,
    },
}


def object_routes(app: Flask) -> dict[str, Any]:
    """The rules whose URLs carry arguments, by endpoint."""
    return {rule.endpoint: rule for rule in app.url_map.iter_rules() if rule.arguments}


def allowed_personas(endpoint: str, case: Case) -> frozenset[str]:
    """Who may see the case's object: the case's own list, else the route's audience."""
    if case.allowed is not None:
        return case.allowed
    audience = ROUTE_TABLE[endpoint][0]
    if audience == PUBLIC:
        return EVERYONE
    if audience == SIGNED_IN:
        return ANYONE_SIGNED_IN
    roles = set(audience)
    personas = {name for name in STAFF_PERSONAS if PERSONAS[name] in roles}
    if Role.DELEGATE in roles:
        personas.add(OWNER)  # delegate B is refused: the object is A's
    return frozenset(personas)


def test_every_route_with_an_object_in_its_url_has_a_case(app):
    routes = object_routes(app)
    missing = sorted(routes.keys() - CASES.keys() - NOT_OBJECT_ROUTES.keys())
    stale = sorted((CASES.keys() | NOT_OBJECT_ROUTES.keys()) - routes.keys())
    assert missing == [], "add these routes to CASES in tests/test_object_access.py"
    assert stale == []


def test_a_new_route_with_an_id_and_no_case_is_caught(make_app):
    extra = make_app()

    @extra.get("/secrets/<int:secret_id>")
    def show_secret(secret_id: int):
        return str(secret_id)

    assert "show_secret" in object_routes(extra).keys() - CASES.keys()


# --- the world ------------------------------------------------------------------------------


def _jpeg() -> bytes:
    """A small photo."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def _staff(app: Flask, make_user, world: World) -> dict[str, User]:
    """One account per staff role."""
    users = {}
    for name in STAFF_PERSONAS:
        user = make_user(roles=[PERSONAS[name]], email=f"{name.replace('_', '-')}@wcpp.example")
        users[name] = user
        world.emails[name] = user.email
    return users


def build_world(app: Flask, make_user) -> World:
    """Delegate A with a paid, confirmed registration (receipt, credit note, visa letter,
    badge, admission, calendar feed), an unpaid second delegate of A's, card and transfer
    payments, delegate B; the registry's partners and agreements; a programme with a
    published session and a draft speaker; an organiser's finished job."""
    world = World()
    staff = _staff(app, make_user, world)
    with app.test_request_context():
        organiser = _db.session.get(User, staff["organiser"].id)
        event = make_event(starts_on=date(2026, 4, 14), ends_on=date(2026, 4, 17))
        fee_type = make_type(event)
        world.ids["registration_type"] = fee_type.id

        # Delegate A: a visa-letter registration paid by bank transfer, with its paperwork.
        mine = awaiting(
            event,
            fee_type,
            needs_visa_letter=True,
            passport_number="A12345678",
            passport_expiry=date(2031, 6, 30),
            birth_date=date(1979, 8, 17),
            birth_place="Lagos",
        )
        owner = mine.user
        payment = paid_payment([mine])
        receipt = receipts.issue_receipt(payment, notify=False)
        refund = refund_payment(payment, 1_000, "Paid twice by mistake", actor=organiser)
        registration_services.confirm_email(registration_services.email_confirmation_token(mine))
        issue_visa_letter(mine, actor=organiser)
        badge = badge_services.issue_badge(mine, actor=None)
        checkpoint = make_checkpoint(event)
        scan(event, token_for(event, badge), checkpoint, user=organiser)
        assert _db.session.scalar(select(func.count()).select_from(Admission)) == 1
        device, _token = make_device(event, checkpoint=checkpoint)
        # A second registration A pays for (a colleague A registered), still unpaid: A's
        # payments for it by card and by bank transfer.
        unpaid = awaiting(event, fee_type)
        unpaid.user_id = owner.id
        # A cancelled card payment: over, so nothing asks Stripe about its made-up intent.
        card = paid_payment(
            [unpaid],
            method=PaymentMethod.CARD,
            payer=owner,
            status=PaymentStatus.CANCELED,
            confirm=False,
        )
        transfer = paid_payment(
            [unpaid],
            method=PaymentMethod.BANK_TRANSFER,
            payer=owner,
            status=PaymentStatus.PENDING,
            confirm=False,
        )
        voucher = create_voucher(
            event, VoucherDetails(code="OBJTEST", kind="percent", percent_off=50), actor=organiser
        )
        world.ids.update(
            owner_user=owner.id,
            registration=mine.reference,
            unpaid_registration=unpaid.reference,
            payment=payment.reference,
            card_payment=card.reference,
            transfer_payment=transfer.reference,
            refund=refund.id,
            receipt_key=receipts.receipt_key(receipt),
            credit_note_key=receipts.receipt_key(receipts.credit_note_for(refund)),
            badge=badge.id,
            checkpoint=checkpoint.id,
            device=device.id,
            voucher=voucher.id,
            feed_token=agenda.feed_token(mine),
        )
        world.emails[OWNER] = owner.email
        # Delegate B: a registration of their own.
        theirs = awaiting(event, fee_type)
        world.emails["delegate"] = theirs.email
        for email in (owner.email, theirs.email):
            change_password(
                _db.session.scalar(select(User).where(User.email == email)), TEST_PASSWORD
            )

        # The registry.
        partner, other_partner = make_partner("Lembaga Bantuan Hukum"), make_partner("ICJR")
        area = make_scope_area("Rehabilitation")
        agreement = make_agreement([partner], [area])
        other_agreement = make_agreement([other_partner], [area], reference_number="PAS-2/2025")
        contact = partner_services.add_contact(
            partner, partner_services.ContactDetails(name="Rina Kartika"), actor=None
        )
        obligation = agreement_services.add_obligation(
            agreement,
            partner_id=None,
            description=TranslatedText(en="Train staff", id="Melatih petugas"),
            due_on=date(2026, 6, 30),
            actor=None,
        )
        document = agreement_services.upload_document(
            agreement, filename="signed.pdf", data=pdf_bytes(), actor=None
        )
        world.ids.update(
            partner=partner.id,
            other_partner=other_partner.id,
            scope_area=area.id,
            agreement=agreement.id,
            other_agreement=other_agreement.id,
            contact=contact.id,
            obligation=obligation.id,
            document=document.id,
        )

        # The programme: one published session; a speaker and a session added since.
        room, track = make_room(event), make_track(event)
        session = make_session(event, room=room, track=track)
        publish_programme(event, actor=organiser)
        draft_speaker = make_speaker(event)
        programme_services.set_speaker_photo(draft_speaker, _jpeg(), actor=None)
        draft_session = make_session(event, room=room, day=None, start=None, end=None)
        world.ids.update(
            room=room.id,
            track=track.id,
            session=session.id,
            draft_session=draft_session.id,
            draft_speaker=draft_speaker.id,
        )

        # The organiser's finished job, with its file.
        job = Job(
            id="ab" * 16,
            kind="badges.print",
            status=JobStatus.DONE.value,
            params={},
            created_by_id=organiser.id,
            result_path="ab" * 16 + ".pdf",
        )
        _db.session.add(job)
        job_services.result_path_for(job.id).write_bytes(pdf_bytes())
        world.ids["job"] = job.id
        _db.session.commit()
    return world


def row_counts(app: Flask) -> dict[str, int]:
    """How many rows every table holds (one statement)."""
    tables = list(_db.metadata.sorted_tables)
    counts = select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
    with app.app_context(), _db.engine.connect() as connection:
        row = connection.execute(counts).one()
    return dict(zip((table.name for table in tables), row, strict=True))


def signed_in_clients(app: Flask, world: World) -> dict[str, FlaskClient]:
    """A test client per persona, signed in through the login form."""
    clients = {}
    for name in PERSONAS:
        client = app.test_client()
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        if name != "anonymous":
            response = AuthActions(client, None, app).login(world.emails[name])
            assert response.status_code == 302, (name, response.get_data(as_text=True)[:300])
        clients[name] = client
    return clients


def _request(client: FlaskClient, method: str, url: str) -> tuple[int, str]:
    """Status and Location of a request (the response read and closed)."""
    response = client.open(url, method=method)
    response.get_data()
    response.close()
    return response.status_code, response.headers.get("Location", "")


def _refused(persona: str, status: int, location: str) -> bool:
    """Whether an answer refuses: 403/404, or the sign-in page for the anonymous."""
    if persona == "anonymous" and status == 302 and location.startswith("/login"):
        return True
    return status in (401, 403, 404)


def _url(app: Flask, endpoint: str, args: dict[str, Any]) -> str:
    with app.test_request_context():
        return app.url_for(endpoint, **args)


@pytest.fixture
def world(app, make_user) -> World:
    """The objects, committed."""
    return build_world(app, make_user)


def test_objects_are_seen_only_by_those_who_may(app, world):
    clients = signed_in_clients(app, world)
    routes = object_routes(app)
    before = row_counts(app)
    failures = []
    # Refusals first, all of them: then the row counts say whether any refusal wrote.
    for refusing in (True, False):
        for endpoint, case in sorted(CASES.items()):
            rule = routes[endpoint]
            url = _url(app, endpoint, case.args(world))
            allowed = allowed_personas(endpoint, case)
            readable = "GET" in rule.methods
            for persona, client in clients.items():
                if (persona not in allowed) != refusing:
                    continue
                if not readable and not refusing:
                    continue  # a change the persona may make: its own tests make it
                status, location = _request(client, "GET" if readable else "POST", url)
                if refusing and not _refused(persona, status, location):
                    failures.append(f"{persona} {url}: {status} {location} (expected a refusal)")
                elif not refusing and status not in case.ok:
                    failures.append(
                        f"{persona} GET {url}: {status} {location} (expected {case.ok})"
                    )
        if refusing:
            assert row_counts(app) == before  # nothing refused changed anything
    assert failures == [], "\n".join(failures)


def test_a_child_is_not_found_under_another_parent(app, world):
    clients = signed_in_clients(app, world)
    routes = object_routes(app)
    before = row_counts(app)
    failures = []
    for endpoint, args in sorted(WRONG_PARENT.items()):
        url = _url(app, endpoint, args(world))
        method = "GET" if "GET" in routes[endpoint].methods else "POST"
        for persona in ("registry_officer", "admin"):
            status, _location = _request(clients[persona], method, url)
            if status != 404:
                failures.append(f"{persona} {method} {url}: {status}")
    assert failures == []
    assert row_counts(app) == before


def test_credit_notes_and_receipts_reach_only_their_payer_and_the_organisers(app, world):
    clients = signed_in_clients(app, world)
    for key in (world.receipt_key, world.credit_note_key):
        url = _url(app, "payments.download_receipt", {"key": key})
        answers = {name: _request(client, "GET", url)[0] for name, client in clients.items()}
        assert answers == {
            "anonymous": 302,
            OWNER: 200,
            "delegate": 404,  # somebody else's: not even told it exists
            "gate_staff": 403,
            "registry_officer": 403,
            "organiser": 200,
            "admin": 200,
        }
