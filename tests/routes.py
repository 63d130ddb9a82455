"""Who may use every route: the table the route-by-role test walks.

A new route must be added here with its audience; the test fails on any route missing from it.
"""

from __future__ import annotations

from app.auth.access import PUBLIC, SIGNED_IN, STAFF
from app.auth.models import Role

ADMIN = (Role.ADMIN,)

# endpoint -> (audience, URL arguments). Audience: PUBLIC, SIGNED_IN or a tuple of roles.
ROUTE_TABLE: dict[str, tuple[object, dict]] = {
    "static": (PUBLIC, {"filename": "css/kongres.css"}),
    "events.home": (PUBLIC, {}),
    "health.healthz": (PUBLIC, {}),
    "i18n.switch_language": (PUBLIC, {"code": "en"}),
    "auth.login": (PUBLIC, {}),
    "auth.forgot_password": (PUBLIC, {}),
    "auth.reset_password": (PUBLIC, {"token": "not-a-real-token"}),
    "auth.accept_invitation": (PUBLIC, {"token": "not-a-real-token"}),
    "auth.logout": (SIGNED_IN, {}),
    "auth.account": (SIGNED_IN, {}),
    "auth.staff_list": (ADMIN, {}),
    "auth.invite_staff": (ADMIN, {}),
    "auth.edit_user": (ADMIN, {"user_id": "{own_id}"}),
    "reports.dashboard": (STAFF, {}),
    # --- partners (issue 3) ---
    "partners.list_partners": ((Role.ADMIN, Role.ORGANISER, Role.REGISTRY_OFFICER), {}),
    "partners.similar_partners_json": ((Role.ADMIN, Role.ORGANISER, Role.REGISTRY_OFFICER), {}),
    "partners.show_partner": (
        (Role.ADMIN, Role.ORGANISER, Role.REGISTRY_OFFICER),
        {"partner_id": 1},
    ),
    "partners.create_partner": ((Role.ADMIN, Role.REGISTRY_OFFICER), {}),
    "partners.edit_partner": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"partner_id": 1}),
    "partners.delete_partner": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"partner_id": 1}),
    "partners.add_contact": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"partner_id": 1}),
    "partners.edit_contact": (
        (Role.ADMIN, Role.REGISTRY_OFFICER),
        {"partner_id": 1, "contact_id": 1},
    ),
    "partners.delete_contact": (
        (Role.ADMIN, Role.REGISTRY_OFFICER),
        {"partner_id": 1, "contact_id": 1},
    ),
    # --- agreements (issue 3) ---
    "agreements.list_agreements": ((Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER), {}),
    "agreements.export_csv": ((Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER), {}),
    "agreements.export_xlsx": ((Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER), {}),
    "agreements.new_agreement": ((Role.ADMIN, Role.REGISTRY_OFFICER), {}),
    "agreements.show_agreement": (
        (Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER),
        {"agreement_id": 1},
    ),
    "agreements.edit_agreement": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"agreement_id": 1}),
    "agreements.change_status": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"agreement_id": 1}),
    "agreements.delete_agreement": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"agreement_id": 1}),
    "agreements.follow_up": (
        (Role.ADMIN, Role.REGISTRY_OFFICER),
        {"agreement_id": 1, "relation": "renewal"},
    ),
    "agreements.new_obligation": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"agreement_id": 1}),
    "agreements.update_obligation": (
        (Role.ADMIN, Role.REGISTRY_OFFICER),
        {"agreement_id": 1, "obligation_id": 1},
    ),
    "agreements.delete_obligation": (
        (Role.ADMIN, Role.REGISTRY_OFFICER),
        {"agreement_id": 1, "obligation_id": 1},
    ),
    "agreements.upload_document": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"agreement_id": 1}),
    "agreements.download_document": (
        (Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER),
        {"agreement_id": 1, "document_id": 1},
    ),
    "agreements.delete_document": (
        (Role.ADMIN, Role.REGISTRY_OFFICER),
        {"agreement_id": 1, "document_id": 1},
    ),
    "agreements.new_evaluation": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"agreement_id": 1}),
    "agreements.overdue_evaluations": ((Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER), {}),
    "agreements.list_scope_areas": ((Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER), {}),
    "agreements.new_scope_area": ((Role.ADMIN, Role.REGISTRY_OFFICER), {}),
    "agreements.edit_scope_area": ((Role.ADMIN, Role.REGISTRY_OFFICER), {"area_id": 1}),
    # --- registry dashboard, exports (issue 3) ---
    "reports.registry_dashboard": ((Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER), {}),
    "reports.registry_export_csv": ((Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER), {}),
    "reports.registry_export_xlsx": ((Role.ADMIN, Role.REGISTRY_OFFICER, Role.ORGANISER), {}),
    # --- registration (issue 4) ---
    "registration.register": (PUBLIC, {}),
    "registration.register_delegation": (PUBLIC, {}),
    "registration.registration_received": (PUBLIC, {}),
    "registration.complete_member": (PUBLIC, {"token": "not-a-real-token"}),
    "registration.confirm_email": (PUBLIC, {"token": "not-a-real-token"}),
    "registration.privacy": (PUBLIC, {}),
    "registration.my_registration": ((Role.DELEGATE,), {}),
    "registration.edit_my_registration": ((Role.DELEGATE,), {}),
    "registration.cancel_my_registration": ((Role.DELEGATE,), {}),
    "registration.accept_offer": ((Role.DELEGATE,), {}),
    "registration.download_my_data": ((Role.DELEGATE,), {}),
    "registration.erase_my_data": ((Role.DELEGATE,), {}),
    # visa letters (helper C)
    "registration.visa_queue": ((Role.ORGANISER, Role.ADMIN), {}),
    "registration.issue_visa_letter": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "registration.revoke_visa_letter": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "registration.visa_letter_pdf": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "registration.download_visa_letter": ((Role.DELEGATE,), {}),
    "registration.verify_visa_form": (PUBLIC, {}),
    "registration.verify_visa_letter": (PUBLIC, {"code": "ABCDEFGHJK"}),
    # organiser pages (helper D)
    "registration.list_registrations": ((Role.ORGANISER, Role.ADMIN), {}),
    "registration.export_registrations_csv": ((Role.ORGANISER, Role.ADMIN), {}),
    "registration.export_registrations_xlsx": ((Role.ORGANISER, Role.ADMIN), {}),
    "registration.list_delegations": ((Role.ORGANISER, Role.ADMIN), {}),
    "registration.show_registration": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "registration.reveal_passport": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "registration.approve_registration": (
        (Role.ORGANISER, Role.ADMIN),
        {"reference": "NOSUCHREF"},
    ),
    "registration.reject_registration": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "registration.resend_email": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "registration.edit_registration": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "registration.registration_settings": ((Role.ORGANISER, Role.ADMIN), {}),
    "registration.list_registration_types": ((Role.ORGANISER, Role.ADMIN), {}),
    "registration.new_registration_type": ((Role.ORGANISER, Role.ADMIN), {}),
    "registration.edit_registration_type": ((Role.ORGANISER, Role.ADMIN), {"type_id": 1}),
    # --- payments (issue 5) ---
    "payments.stripe_webhook": (PUBLIC, {}),
    # the delegate pays (helper P2)
    "payments.pay": ((Role.DELEGATE,), {"reference": "NOSUCHREF"}),
    "payments.group_payment": ((Role.DELEGATE,), {}),
    "payments.charge_card": ((Role.DELEGATE,), {"reference": "NOSUCHREF"}),
    "payments.payment_return": ((Role.DELEGATE,), {"reference": "NOSUCHREF"}),
    "payments.payment_status": ((Role.DELEGATE,), {"reference": "NOSUCHREF"}),
    # payments list, reconciliation, refunds, receipts (helper P4)
    "payments.list_payments": ((Role.ORGANISER, Role.ADMIN), {}),
    "payments.export_payments_csv": ((Role.ORGANISER, Role.ADMIN), {}),
    "payments.export_payments_xlsx": ((Role.ORGANISER, Role.ADMIN), {}),
    "payments.reconciliation": ((Role.ORGANISER, Role.ADMIN), {}),
    "payments.show_payment": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "payments.refund_payment": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "payments.refund_requests": ((Role.ORGANISER, Role.ADMIN), {}),
    "payments.process_refund_request": ((Role.ORGANISER, Role.ADMIN), {"refund_id": 1}),
    "payments.decline_refund_request": ((Role.ORGANISER, Role.ADMIN), {"refund_id": 1}),
    "payments.download_receipt": (
        (Role.DELEGATE, Role.ORGANISER, Role.ADMIN),
        {"key": "WCPP2026-R-0001"},
    ),
    # vouchers, bank transfer, payment settings (helper P3)
    "payments.list_vouchers": ((Role.ORGANISER, Role.ADMIN), {}),
    "payments.new_voucher": ((Role.ORGANISER, Role.ADMIN), {}),
    "payments.show_voucher": ((Role.ORGANISER, Role.ADMIN), {"voucher_id": 1}),
    "payments.deactivate_voucher": ((Role.ORGANISER, Role.ADMIN), {"voucher_id": 1}),
    "payments.activate_voucher": ((Role.ORGANISER, Role.ADMIN), {"voucher_id": 1}),
    "payments.list_bank_transfers": ((Role.ORGANISER, Role.ADMIN), {}),
    "payments.record_bank_transfer": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "payments.cancel_bank_transfer": ((Role.ORGANISER, Role.ADMIN), {"reference": "NOSUCHREF"}),
    "payments.payment_settings": ((Role.ORGANISER, Role.ADMIN), {}),
    "payments.redeem_voucher": ((Role.DELEGATE,), {}),
    "payments.choose_bank_transfer": ((Role.DELEGATE,), {}),
    "payments.bank_transfer_instructions": ((Role.DELEGATE,), {"reference": "NOSUCHREF"}),
}
