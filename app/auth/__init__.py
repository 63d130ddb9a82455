"""Users, roles, sign-in, password reset and staff accounts."""
