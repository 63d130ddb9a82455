"""Kongres: congress management and the cooperation-agreement registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from app.config import DEFAULT_INSTANCE, PROJECT_ROOT, database_uri, load_config


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: settings, extensions, blueprints, commands, error pages."""
    instance_path = Path((config or {}).get("INSTANCE_PATH", DEFAULT_INSTANCE))
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config(instance_path))
    if config:
        app.config.update(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(app.config["SQLALCHEMY_DATABASE_URI"])

    from app.web import DatabaseIntConverter, KongresRequest

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
    return app


def _import_models() -> None:
    """Every domain's tables, so that migrations and create_all see the whole schema."""
    import app.agreements.models
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
    from app.auth.models import User
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

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        return db.session.get(User, int(user_id)) if user_id.isdigit() else None

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        from flask import flash, redirect, request, url_for

        from app.errors import error_response, is_api_request

        if is_api_request():
            return error_response(401)
        flash(login_manager.login_message, login_manager.login_message_category)
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    from app.web import refuse_nul_in_query

    app.before_request(refuse_nul_in_query)
    app.before_request(enforce_access)


def _register_blueprints(app: Flask) -> None:
    from app.agreements.views import bp as agreements_bp
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
        navigation_for=navigation_for,
        page_url=page_url,
        absolute_url=absolute_url,
    )
