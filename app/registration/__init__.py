"""Delegate registration: types and fees, the public form, states, delegations, visa letters."""
