"""Kongres: congress management and the cooperation-agreement registry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from app.config import DEFAULT_INSTANCE, PROJECT_ROOT, database_uri, load_config


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, commands, error pages."""
    # The instance folder (keys in development, job results, photos, the mail outbox): the
    # INSTANCE_PATH environment variable moves it out of the code's folder in production.
    instance_path = Path(
        (config or {}).get("INSTANCE_PATH") or os.environ.get("INSTANCE_PATH") or DEFAULT_INSTANCE
    )
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config(instance_path))
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config["SQLALCHEMY_DATABASE_URI"])

    from app.observability import init_observability
    from app.web import DatabaseIntConverter, KongresRequest

    # First of all hooks: every request, even one refused early, gets its id and access line.
    init_observability(app)

    # Before any route is added: <int:...> parts beyond a database integer match nothing.
    app.url_map.converters["int"] = DatabaseIntConverter
    app.request_class = KongresRequest
    _import_models()
    _init_extensions(app)
    _register_blueprints(app)
    _register_commands(app)
    _register_template_helpers(app)

    from app.errors import register_error_handlers

    register_error_handlers(app)
    _trust_proxy_headers(app)
    return app


def _trust_proxy_headers(app: Flask) -> None:
    """Behind PROXY_FIX_HOPS proxies (nginx: 1) take the client's address and scheme from their
    X-Forwarded-For/-Proto headers. Off by default: without a proxy anyone could forge them."""
    hops = app.config.get("PROXY_FIX_HOPS", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    elif app.config.get("ENV_NAME") == "production":
        # Behind nginx on a unix socket every client would share one (empty) address: one
        # guesser's sign-in limit and delays would then fall on everyone.
        app.logger.warning(
            "PROXY_FIX_HOPS is 0 in production: rate limits and sign-in delays count every "
            "client behind the proxy as one address. Set it to the number of proxies (nginx: 1)."
        )


def _import_models() -> None:
    """Every domain's tables, so that migrations and create_all see the whole schema."""
    import app.agreements.models
    import app.audit.models
    import app.auth.models
    import app.badges.models
    import app.checkin.models
    import app.events.models
    import app.jobs.models
    import app.partners.models
    import app.payments.models
    import app.programme.models
    import app.registration.models  # noqa: F401


def _init_extensions(app: Flask) -> None:
    from app.auth.access import enforce_access
    from app.auth.sessions import enforce_session_rules, load_user
    from app.events.services import default_language
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate
    from app.i18n.locale import choose_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=lambda: choose_locale(default_language),
        timezone_selector=lambda: app.config["EVENT_TIMEZONE"],
    )
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"

    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please sign in to see this page.")

    login_manager.user_loader(load_user)

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        from flask import flash, redirect, request, url_for

        from app.errors import error_response, is_api_request

        if is_api_request():
            return error_response(401)
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    from app.security.headers import install_security_headers

    install_security_headers(app)

    from app.audit import init_audit
    from app.web import refuse_nul_in_query

    init_audit(app)

    app.before_request(refuse_nul_in_query)
    # Expired or ended sessions are signed out first, so access is judged on what remains.
    app.before_request(enforce_session_rules)
    app.before_request(enforce_access)


def _register_blueprints(app: Flask) -> None:
    from app.agreements.views import bp as agreements_bp
    from app.audit.views import bp as audit_bp
    from app.auth.views import bp as auth_bp
    from app.badges.views import bp as badges_bp
    from app.checkin import bp as checkin_bp
    from app.events.views import bp as events_bp
    from app.health import bp as health_bp
    from app.i18n.views import bp as i18n_bp
    from app.jobs.views import bp as jobs_bp
    from app.mail import bp as mail_bp
    from app.partners.views import bp as partners_bp
    from app.payments.views import bp as payments_bp
    from app.programme import bp as programme_bp
    from app.registration.views import bp as registration_bp
    from app.reports.views import bp as reports_bp
    from app.security.views import bp as security_bp

    for blueprint in (
        events_bp,
        auth_bp,
        i18n_bp,
        reports_bp,
        health_bp,
        mail_bp,
        partners_bp,
        agreements_bp,
        registration_bp,
        payments_bp,
        programme_bp,
        checkin_bp,
        badges_bp,
        jobs_bp,
        security_bp,
        audit_bp,
    ):
        app.register_blueprint(blueprint)


def _register_commands(app: Flask) -> None:
    from app.cli import kongres_group
    from app.i18n.cli import translate_group

    app.cli.add_command(kongres_group)
    app.cli.add_command(translate_group)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale

    from app.i18n import formatting
    from app.i18n.locale import LANGUAGE_NAMES, supported_languages
    from app.i18n.text import shown_language
    from app.navigation import navigation_for
    from app.web import absolute_url, page_url

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(
        event_datetime=formatting.format_event_datetime,
        day=formatting.format_day,
        money=formatting.format_money,
        country=formatting.country_name,
    )
    app.jinja_env.globals.update(
        day_range=formatting.format_day_range,
        language_names=LANGUAGE_NAMES,
        supported_languages=supported_languages,
        current_language=lambda: str(get_locale()),
        shown_language=shown_language,
        navigation_for=navigation_for,
        page_url=page_url,
        absolute_url=absolute_url,
    )
