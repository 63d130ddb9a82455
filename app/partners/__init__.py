"""Partner organisations and their contacts, shared by the registry and the congress."""
