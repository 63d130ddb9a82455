"""/healthz and the error pages: translated HTML for pages, JSON under /api/."""

from __future__ import annotations

from app.auth.access import PUBLIC, allow


def test_healthz_answers_200_when_the_database_is_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "not_configured"}


def test_healthz_checks_redis_when_it_is_configured(make_app):
    # The limiter keeps counting in memory: only the health check talks to this Redis.
    with_redis = make_app(REDIS_URL="redis://127.0.0.1:6379/0", RATELIMIT_STORAGE_URI="memory://")
    response = with_redis.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_answers_503_naming_redis_when_it_does_not_answer(make_app):
    # Nothing listens on port 1: the check gives up at once instead of hanging the monitor.
    unreachable = make_app(REDIS_URL="redis://127.0.0.1:1/0", RATELIMIT_STORAGE_URI="memory://")
    response = unreachable.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "database": "ok", "redis": "unreachable"}


def test_healthz_answers_503_naming_redis_for_an_address_that_is_not_redis(make_app):
    broken = make_app(REDIS_URL="http://127.0.0.1:6379/0", RATELIMIT_STORAGE_URI="memory://")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["redis"] == "unreachable"


def test_healthz_answers_503_when_the_database_is_not(make_app, tmp_path):
    broken = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing-dir/nope.sqlite")
    client = broken.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "database": "unreachable",
        "redis": "not_configured",
    }
    # Pages still fail politely: a translated error page, not a raw traceback.
    page = client.get("/", headers={"Accept-Language": "id"})
    assert page.status_code == 500
    assert "Terjadi kesalahan" in page.get_data(as_text=True)
    assert client.get("/").status_code == 500  # no Accept-Language: the event cannot be asked


def test_404_page_is_in_indonesian_for_an_indonesian_browser(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "id"})
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Halaman tidak ditemukan" in page
    assert '<html lang="id">' in page


def test_404_page_is_in_english_for_an_english_browser(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "en"})
    assert "Page not found" in response.get_data(as_text=True)


def test_api_errors_answer_json(client):
    response = client.get("/api/v1/nothing-here", headers={"Accept-Language": "id"})
    assert response.status_code == 404
    error = response.json["error"]
    assert response.json == {"error": {"code": "not_found", "message": error["message"]}}
    assert "Tidak ada apa pun" in error["message"]


def test_405_says_which_methods_are_allowed(client):
    response = client.put("/login")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "POST" in response.headers["Allow"]


def test_413_for_a_body_over_the_limit(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/login", data={"email": "x" * (limit + 10)})
    assert response.status_code == 413


def _app_with_failing_route(make_app):
    failing = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @failing.get("/api/v1/boom")
    @failing.get("/boom")
    @allow(PUBLIC)
    def boom():
        raise RuntimeError("secret internal detail")

    return failing


def test_500_hides_the_stack_trace_and_answers_in_the_visitors_language(make_app):
    client = _app_with_failing_route(make_app).test_client()
    page = client.get("/boom", headers={"Accept-Language": "id"})
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "secret internal detail" not in text
    assert "Traceback" not in text
    assert "Terjadi kesalahan" in text
    api = client.get("/api/v1/boom")
    assert api.status_code == 500
    assert api.json["error"]["code"] == "server_error"
    assert "secret internal detail" not in api.get_data(as_text=True)


def test_400_for_a_form_posted_without_its_csrf_token(make_app):
    strict = make_app()
    response = strict.test_client().post(
        "/login", data={"email": "a@b.example", "password": "x"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert "Bad request" in response.get_data(as_text=True)


def test_huge_ids_and_pages_are_not_found_not_server_errors(client, auth):
    from app.auth.models import Role

    auth.login_as(Role.ADMIN)
    assert client.get("/staff/99999999999999999999").status_code == 404
    assert client.get("/staff/2147483648").status_code == 404
    assert client.get("/staff?page=99999999999999999999").status_code == 200


def test_nul_in_a_query_string_is_a_translated_400(client):
    response = client.get("/partners/?q=%00", headers={"Accept-Language": "id"})
    assert response.status_code == 400
    assert "karakter yang tidak diizinkan" in response.get_data(as_text=True)


def test_pagination_links_keep_filters_but_ignore_url_building_arguments(client, auth, make_user):
    from app.auth.models import Role

    auth.login_as(Role.ADMIN)
    for _ in range(55):
        make_user(roles=[Role.DELEGATE])
    response = client.get("/staff?endpoint=x&_method=y&_external=1&_anchor=z")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/staff?endpoint=x&amp;_method=y&amp;_external=1&amp;_anchor=z&amp;page=2"' in page


def test_json_with_a_nul_or_a_lone_surrogate_is_malformed_not_a_server_error(db, client, auth):
    from app.auth.models import Role
    from tests.registration.factories import make_event

    make_event()
    db.session.commit()
    auth.login_as(Role.ORGANISER)
    # Legal JSON escapes, but no UTF-8 encoder takes "\ud800", nor PostgreSQL a NUL.
    bodies = (
        '{"checkpoint": "\\ud800"}',
        '{"\\udfff": 1}',
        '["a", ["\\ud83d"]]',
        '{"x": "a\\u0000"}',
    )
    for body in bodies:
        response = client.post("/api/v1/checkin/scans", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.json["error"]["code"] == "invalid_json"
    # A surrogate pair is one real character (here an emoji) and stays welcome.
    paired = client.post(
        "/api/v1/checkin/scans",
        data='{"token": "x", "checkpoint": "\\ud83d\\ude00", "nonce": "n-1"}',
        content_type="application/json",
    )
    assert paired.status_code == 422
    assert paired.json["error"]["code"] != "invalid_json"
