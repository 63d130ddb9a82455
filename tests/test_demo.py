"""`flask kongres demo` loads WCPP 2026 and one account per role, and can run again."""

from __future__ import annotations

from sqlalchemy import func, select

from app.auth.models import Role, User
from app.demo import DEMO_ACCOUNTS
from app.events.models import Event
from app.extensions import db


def test_demo_loads_the_event_and_accounts_and_is_idempotent(app, runner, client):
    for _ in range(2):
        result = runner.invoke(args=["kongres", "demo"])
        assert result.exit_code == 0, result.output
    assert "organiser@wcpp2026.example" in result.output
    with app.app_context():
        [event] = db.session.scalars(select(Event)).all()
        assert event.short_name == "WCPP 2026"
        assert (event.starts_on.isoformat(), event.ends_on.isoformat()) == (
            "2026-04-14",
            "2026-04-17",
        )
        assert event.timezone == "Asia/Makassar"
        assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS)
        roles = set().union(*(user.roles for user in db.session.scalars(select(User))))
        assert roles == set(Role)

    home_en = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Getting Smart on Justice: Healing Hearts, and Safer Societies" in home_en
    assert "Bali International Convention Center" in home_en
    home_id = client.get("/", headers={"Accept-Language": "id"}).get_data(as_text=True)
    assert "Kongres Dunia ke-7 tentang Probation dan Parole" in home_id
    assert "Memulihkan Hati" in home_id


def test_every_demo_account_signs_in_with_its_documented_password(runner, client):
    runner.invoke(args=["kongres", "demo"])
    for account in DEMO_ACCOUNTS:
        response = client.post(
            "/login", data={"email": account.email, "password": account.password}
        )
        assert response.status_code == 302, account.email
        client.post("/logout")
