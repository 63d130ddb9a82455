"""Every form of the application derives from KongresForm (translated messages, no NUL)."""

from __future__ import annotations

import importlib
import pkgutil

from flask import request
from flask_babel import force_locale
from flask_wtf import FlaskForm

import app as app_package
from app.auth.forms import EditUserForm
from app.auth.models import Role
from app.forms import KongresForm
from app.partners.models import Partner
from app.reports.forms import RegistryFilterForm
from tests.registration.factories import count_rows


def _all_subclasses(cls: type) -> set[type]:
    """Every class deriving from cls, at any depth."""
    found = set()
    for subclass in cls.__subclasses__():
        found |= {subclass, *_all_subclasses(subclass)}
    return found


def _application_forms() -> list[type]:
    """The FlaskForm subclasses defined under app/, once every module there is imported."""
    for module in pkgutil.walk_packages(app_package.__path__, f"{app_package.__name__}."):
        importlib.import_module(module.name)
    forms = [
        form
        for form in _all_subclasses(FlaskForm)
        if form.__module__.startswith(f"{app_package.__name__}.") and form is not KongresForm
    ]
    return sorted(forms, key=lambda form: (form.__module__, form.__qualname__))


def test_every_form_derives_from_kongres_form():
    # Walked inside the test, not at collection: a module that fails to import fails here.
    forms = _application_forms()
    assert {"app.auth.forms", "app.partners.forms", "app.reports.forms"} <= {
        form.__module__ for form in forms
    }
    outside = [
        f"{form.__module__}.{form.__qualname__}"
        for form in forms
        if not issubclass(form, KongresForm)
    ]
    assert outside == [], "these forms must derive from app.forms.KongresForm"


def test_the_registry_filter_speaks_indonesian(app):
    with app.test_request_context(query_string={"year_from": "abc"}), force_locale("id"):
        form = RegistryFilterForm(formdata=request.args)
        assert not form.validate()
        assert "Bilangan bulat tidak valid." in form.year_from.errors


def test_a_json_body_is_an_empty_form_not_a_server_error(app, client, auth):
    # Flask-WTF would read the JSON as form data and fail on a list or a nested object.
    auth.login_as(Role.REGISTRY_OFFICER)
    for body in ([], [["name", "x"]], {"name": {"en": "x"}}, {"name": ["a", ["b"]]}, 7):
        response = client.post("/partners/new", json=body)
        assert response.status_code == 200  # the form again, with its errors
        assert "Choose the kind of organisation." in response.get_data(as_text=True)
    with app.app_context():
        assert count_rows(Partner) == 0


def test_checkboxes_with_nothing_ticked_are_an_empty_list(app):
    with app.test_request_context(method="POST", data=b"a=1", content_type="text/plain"):
        form = EditUserForm()
        assert form.roles.data == []
