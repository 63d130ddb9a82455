"""Payments: Stripe PaymentIntents and webhooks, bank transfers, vouchers, refunds, receipts."""
