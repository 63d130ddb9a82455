"""Settings from the environment: safe development defaults, strict production."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from app import create_app
from app.config import ConfigError, database_uri, load_config


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("KONGRES_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_production_uses_the_given_secret_key_and_secure_cookies(monkeypatch, tmp_path):
    monkeypatch.setenv("KONGRES_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-long-production-secret")
    monkeypatch.setenv("PASSPORT_ENCRYPTION_KEY", Fernet.generate_key().decode())
    config = load_config(tmp_path)
    assert config["SECRET_KEY"] == "a-long-production-secret"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


def test_development_generates_a_secret_key_once_and_keeps_it(monkeypatch, tmp_path):
    monkeypatch.delenv("KONGRES_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = load_config(tmp_path)["SECRET_KEY"]
    second = load_config(tmp_path)["SECRET_KEY"]
    assert first == second
    assert len(first) >= 48
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_defaults_point_at_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "REDIS_URL", "EVENT_TIMEZONE", "LANGUAGES"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kongres.sqlite'}"
    assert config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert config["EVENT_TIMEZONE"] == "Asia/Makassar"
    assert config["LANGUAGES"] == ["id", "en"]


def test_redis_url_moves_rate_limits_to_redis(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"


def test_a_non_numeric_port_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("MAIL_PORT", "twenty-five")
    with pytest.raises(ConfigError, match="MAIL_PORT must be a whole number"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://postgres@127.0.0.1/test", "postgresql+psycopg://postgres@127.0.0.1/test"),
        ("postgres://u:p@db/kongres", "postgresql+psycopg://u:p@db/kongres"),
        ("sqlite:///x.sqlite", "sqlite:///x.sqlite"),
    ],
)
def test_postgres_urls_use_psycopg3(given, expected):
    assert database_uri(given) == expected


def test_trusted_hosts_refuse_other_host_headers(monkeypatch, make_app):
    monkeypatch.setenv("TRUSTED_HOSTS", "kongres.example, www.kongres.example")
    strict = make_app()
    assert strict.config["TRUSTED_HOSTS"] == ["kongres.example", "www.kongres.example"]
    client = strict.test_client()
    assert client.get("/healthz", headers={"Host": "kongres.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "evil.example"}).status_code == 400
