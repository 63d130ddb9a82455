"""Which language a visitor gets, and the language switch."""

from __future__ import annotations

from app.auth.models import Role
from app.demo import load_wcpp_event


def _lang(response) -> str:
    return response.get_data(as_text=True).split('<html lang="', 1)[1].split('"', 1)[0]


def test_accept_language_picks_indonesian(client):
    response = client.get("/", headers={"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"})
    assert _lang(response) == "id"
    assert "Masuk" in response.get_data(as_text=True)


def test_an_unsupported_browser_language_falls_back_to_the_events_default(app, client, db):
    load_wcpp_event()
    db.session.commit()
    assert _lang(client.get("/", headers={"Accept-Language": "fr-FR"})) == "en"


def test_the_switch_is_remembered_and_beats_the_browser(client):
    response = client.get("/language/id?next=/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "kongres_lang=id" in response.headers["Set-Cookie"]
    assert _lang(client.get("/", headers={"Accept-Language": "en"})) == "id"


def test_the_switch_never_redirects_off_site(client):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = client.get("/language/en", query_string={"next": target})
        assert response.headers["Location"] == "/"


def test_an_unknown_language_code_is_404(client):
    assert client.get("/language/fr").status_code == 404


def test_the_accounts_preference_applies_when_no_switch_was_used(client, auth):
    auth.login_as(Role.ORGANISER, language="id")
    assert _lang(client.get("/dashboard", headers={"Accept-Language": "en"})) == "id"


def test_the_switch_changes_this_browser_only_not_the_accounts_email_language(client, auth, db):
    """A GET any page can trigger must not change the language of the account's emails."""
    from app.auth.models import User

    user = auth.login_as(Role.ORGANISER, language="en")
    client.get("/language/id")
    assert db.session.get(User, user.id).language == "en"
    client.post("/account", data={"profile-name": user.name, "profile-language": "id"})
    db.session.expire_all()
    assert db.session.get(User, user.id).language == "id"
