"""Outgoing email: rendered in the recipient's language, sent once the data is committed."""
